// The native JSON feed: every event type of DESIGN.md, every reject reason, and the writer.
#include <random>
#include <string>

#include <catch2/catch.hpp>
#include <simdjson.h>

#include "feeds/native/native_parser.hpp"

using callwatch::daemon::append_json_string;
using callwatch::daemon::append_native_json;
using callwatch::daemon::NativeParser;
using callwatch::daemon::RejectReason;
namespace m = callwatch::metrics;

namespace {

RejectReason reject_of(NativeParser& p, std::string_view json) {
  auto r = p.parse(json);
  REQUIRE_FALSE(r.has_value());
  CHECK_FALSE(p.last_error().empty());
  return r.error();
}

}  // namespace

TEST_CASE("call_enqueued with every field parses into the event", "[daemon][native]") {
  NativeParser p;
  auto r = p.parse(
      R"({"type":"call_enqueued","ts":1767600000.25,"call":"1767600000.10","queue":"sales",)"
      R"("caller":"+4930123","priority":3})");
  REQUIRE(r.has_value());
  const m::Event& e = **r;
  CHECK(e.type == m::EventType::call_enqueued);
  CHECK(e.ts == 1767600000.25);
  // The id stays a string: "1767600000.10" is not "1767600000.1" (FEED-SPEC P9).
  CHECK(e.call == "1767600000.10");
  CHECK(e.queue == "sales");
  CHECK(e.caller == "+4930123");
  CHECK(e.priority == 3);
  CHECK_FALSE(m::has_value(e.wait));
}

TEST_CASE("fields may come in any order and unknown fields are ignored", "[daemon][native]") {
  NativeParser p;
  auto r = p.parse(
      R"({"queue":"q","extra":{"nested":[1,2,{"x":null}]},"call":"c","ts":1700000000,)"
      R"("future_field":"yes","type":"call_abandoned","wait_seconds":3.5})");
  REQUIRE(r.has_value());
  CHECK((*r)->type == m::EventType::call_abandoned);
  CHECK((*r)->ts == 1700000000.0);
  CHECK((*r)->wait == 3.5);
}

TEST_CASE("every native event type parses with its required fields", "[daemon][native]") {
  NativeParser p;
  SECTION("call_answered") {
    auto r = p.parse(R"({"type":"call_answered","ts":1,"call":"c","queue":"q","agent":"a","wait_seconds":10})");
    REQUIRE(r.has_value());
    CHECK((*r)->agent == "a");
    CHECK((*r)->wait == 10.0);
  }
  SECTION("call_ended with hold, talk and by") {
    auto r = p.parse(
        R"({"type":"call_ended","ts":2,"call":"c","agent":"a","hold_seconds":4,"talk_seconds":60.5,)"
        R"("by":"caller","queue":"q"})");
    REQUIRE(r.has_value());
    CHECK((*r)->hold == 4.0);
    CHECK((*r)->talk == 60.5);
    CHECK((*r)->by == m::EndedBy::caller);
    CHECK((*r)->queue == "q");
  }
  SECTION("call_ended by agent, no optional fields") {
    auto r = p.parse(R"({"type":"call_ended","ts":2,"call":"c","agent":"a","by":"agent"})");
    REQUIRE(r.has_value());
    CHECK((*r)->by == m::EndedBy::agent);
    CHECK_FALSE(m::has_value((*r)->hold));
  }
  SECTION("call_exited with each reason") {
    auto r = p.parse(R"({"type":"call_exited","ts":3,"call":"c","queue":"q","reason":"timeout"})");
    REQUIRE(r.has_value());
    CHECK((*r)->exit_reason == m::ExitReason::timeout);
    r = p.parse(R"({"type":"call_exited","ts":3,"call":"c","queue":"q","reason":"empty"})");
    REQUIRE(r.has_value());
    CHECK((*r)->exit_reason == m::ExitReason::empty);
    r = p.parse(R"({"type":"call_exited","ts":3,"call":"c","queue":"q","reason":"key"})");
    REQUIRE(r.has_value());
    CHECK((*r)->exit_reason == m::ExitReason::key);
  }
  SECTION("call_transferred from an agent to a queue, or from a queue to an extension") {
    auto r = p.parse(R"({"type":"call_transferred","ts":4,"call":"c","agent":"a","to_queue":"q2"})");
    REQUIRE(r.has_value());
    CHECK((*r)->agent == "a");
    CHECK((*r)->to_queue == "q2");
    r = p.parse(R"({"type":"call_transferred","ts":4,"call":"c","queue":"q","to":"2001@from-internal"})");
    REQUIRE(r.has_value());
    CHECK((*r)->queue == "q");
    CHECK((*r)->to == "2001@from-internal");
  }
  SECTION("agent_ring_noanswer with its ring time") {
    auto r = p.parse(R"({"type":"agent_ring_noanswer","ts":5,"call":"c","queue":"q","agent":"a","ring_ms":15000})");
    REQUIRE(r.has_value());
    CHECK((*r)->ring_ms == 15000.0);
  }
  SECTION("agent_state paused with a reason and queues") {
    auto r = p.parse(
        R"({"type":"agent_state","ts":6,"agent":"a","state":"paused","reason":"午饭","queues":["q1","销售"]})");
    REQUIRE(r.has_value());
    const m::Event& e = **r;
    CHECK(e.state == m::AgentState::paused);
    CHECK(e.reason == "午饭");
    REQUIRE(e.queues.size() == 2);
    CHECK(e.queues[0] == "q1");
    CHECK(e.queues[1] == "销售");
  }
  SECTION("agent_state in every state") {
    for (std::string s : {"logged_out", "available", "ringing", "on_call", "wrap_up", "paused"}) {
      auto r = p.parse(R"({"type":"agent_state","ts":6,"agent":"a","state":")" + s + "\"}");
      REQUIRE(r.has_value());
      CHECK(m::to_string((*r)->state) == s);
      CHECK((*r)->queues.empty());
    }
  }
}

TEST_CASE("strings with escapes and CJK names are unescaped", "[daemon][native]") {
  NativeParser p;
  // \u00e9 = é, \ud83d\ude00 = U+1F600 (a surrogate pair), \" and \\ and \n kept as bytes.
  auto r = p.parse(
      R"({"type":"call_enqueued","ts":1,"call":"a\"b\\c\nd","queue":"客服\u00e9\ud83d\ude00"})");
  REQUIRE(r.has_value());
  CHECK((*r)->call == "a\"b\\c\nd");
  CHECK((*r)->queue == "客服\xc3\xa9\xf0\x9f\x98\x80");
}

TEST_CASE("keys written with escapes are the same keys", "[daemon][native]") {
  NativeParser p;
  // \u0074 = t: "\u0074ype" is "type", "\u0074s" is "ts".
  auto r = p.parse(R"({"\u0074ype":"call_abandoned","\u0074s":7,"call":"c","queue":"q"})");
  REQUIRE(r.has_value());
  CHECK((*r)->type == m::EventType::call_abandoned);
  CHECK((*r)->ts == 7.0);
}

TEST_CASE("null means absent", "[daemon][native]") {
  NativeParser p;
  auto r = p.parse(R"({"type":"call_enqueued","ts":1,"call":"c","queue":"q","caller":null})");
  REQUIRE(r.has_value());
  CHECK((*r)->caller.empty());
  CHECK(reject_of(p, R"({"type":"call_enqueued","ts":1,"call":null,"queue":"q"})") == RejectReason::missing_field);
}

TEST_CASE("every reject reason is given for its kind of bad message", "[daemon][native]") {
  NativeParser p(1024, 16);
  SECTION("not_json") {
    CHECK(reject_of(p, "") == RejectReason::not_json);
    CHECK(reject_of(p, "hello") == RejectReason::not_json);
    CHECK(reject_of(p, R"({"type":"call_enqueued","ts":1,)") == RejectReason::not_json);  // truncated
    CHECK(reject_of(p, R"({"type":"call_abandoned","ts":1,"call":"c","queue":"q"}{"a":1})") ==
          RejectReason::not_json);
    CHECK(reject_of(p, R"({"type":"call_abandoned","ts":1,"call":"c","queue":"q"} x)") == RejectReason::not_json);
  }
  SECTION("not_object") {
    CHECK(reject_of(p, "[1,2,3]") == RejectReason::not_object);
    CHECK(reject_of(p, "42") == RejectReason::not_object);
    CHECK(reject_of(p, R"("call_enqueued")") == RejectReason::not_object);
  }
  SECTION("unknown_type") {
    CHECK(reject_of(p, R"({"type":"call_teleported","ts":1,"call":"c"})") == RejectReason::unknown_type);
    // Internal to the engine, never accepted from the wire.
    CHECK(reject_of(p, R"({"type":"feed_restart","ts":1})") == RejectReason::unknown_type);
  }
  SECTION("missing_field") {
    CHECK(reject_of(p, R"({"ts":1,"call":"c","queue":"q"})") == RejectReason::missing_field);
    CHECK(reject_of(p, R"({"type":"call_enqueued","call":"c","queue":"q"})") == RejectReason::missing_field);
    CHECK(reject_of(p, R"({"type":"call_enqueued","ts":1,"call":"c"})") == RejectReason::missing_field);
    CHECK(reject_of(p, R"({"type":"call_answered","ts":1,"call":"c","queue":"q"})") == RejectReason::missing_field);
    CHECK(reject_of(p, R"({"type":"call_exited","ts":1,"call":"c","queue":"q"})") == RejectReason::missing_field);
    CHECK(reject_of(p, R"({"type":"agent_state","ts":1,"agent":"a"})") == RejectReason::missing_field);
    CHECK(reject_of(p, R"({"type":"call_transferred","ts":1,"call":"c","agent":"a"})") ==
          RejectReason::missing_field);
    CHECK(reject_of(p, R"({"type":"call_transferred","ts":1,"call":"c","to":"x"})") == RejectReason::missing_field);
  }
  SECTION("wrong_type, including numbers sent as strings") {
    CHECK(reject_of(p, R"({"type":"call_enqueued","ts":"1767600000","call":"c","queue":"q"})") ==
          RejectReason::wrong_type);
    CHECK(reject_of(p, R"({"type":"call_enqueued","ts":1,"call":17,"queue":"q"})") == RejectReason::wrong_type);
    CHECK(reject_of(p, R"({"type":7,"ts":1,"call":"c","queue":"q"})") == RejectReason::wrong_type);
    CHECK(reject_of(p, R"({"type":"call_abandoned","ts":1,"call":"c","queue":"q","wait_seconds":"3"})") ==
          RejectReason::wrong_type);
    CHECK(reject_of(p, R"({"type":"agent_state","ts":1,"agent":"a","state":"paused","queues":"q"})") ==
          RejectReason::wrong_type);
    CHECK(reject_of(p, R"({"type":"agent_state","ts":1,"agent":"a","state":"paused","queues":["q",3]})") ==
          RejectReason::wrong_type);
    // A known field with the wrong type rejects even where this type does not use it.
    CHECK(reject_of(p, R"({"type":"call_enqueued","ts":1,"call":"c","queue":"q","agent":{"id":1}})") ==
          RejectReason::wrong_type);
  }
  SECTION("bad_value") {
    CHECK(reject_of(p, R"({"type":"call_enqueued","ts":0,"call":"c","queue":"q"})") == RejectReason::bad_value);
    CHECK(reject_of(p, R"({"type":"call_enqueued","ts":-5,"call":"c","queue":"q"})") == RejectReason::bad_value);
    CHECK(reject_of(p, R"({"type":"call_enqueued","ts":1e999,"call":"c","queue":"q"})") == RejectReason::bad_value);
    CHECK(reject_of(p, R"({"type":"call_enqueued","ts":1,"call":"","queue":"q"})") == RejectReason::bad_value);
    CHECK(reject_of(p, R"({"type":"call_enqueued","ts":1,"call":"c","queue":"q","priority":1.5})") ==
          RejectReason::bad_value);
    CHECK(reject_of(p, R"({"type":"call_exited","ts":1,"call":"c","queue":"q","reason":"bored"})") ==
          RejectReason::bad_value);
    CHECK(reject_of(p, R"({"type":"agent_state","ts":1,"agent":"a","state":"asleep"})") == RejectReason::bad_value);
    CHECK(reject_of(p, R"({"type":"call_ended","ts":1,"call":"c","agent":"a","by":"nobody"})") ==
          RejectReason::bad_value);
    CHECK(reject_of(p, R"({"type":"call_abandoned","ts":1,"call":"c","queue":"q","wait_seconds":-1})") ==
          RejectReason::bad_value);
  }
  SECTION("too_large") {
    std::string big = R"({"type":"call_enqueued","ts":1,"call":"c","queue":"q","caller":")";
    big += std::string(1024, 'x') + "\"}";
    CHECK(reject_of(p, big) == RejectReason::too_large);
  }
  SECTION("name_too_long") {
    // The limit is 16 bytes here: 17 ASCII bytes, and 6 CJK characters (18 bytes) are over it.
    CHECK(reject_of(p, R"({"type":"call_enqueued","ts":1,"call":"c","queue":"qqqqqqqqqqqqqqqqq"})") ==
          RejectReason::name_too_long);
    CHECK(reject_of(p, R"({"type":"call_enqueued","ts":1,"call":"c","queue":"客服客服客服"})") ==
          RejectReason::name_too_long);
    CHECK(reject_of(p, R"({"type":"agent_state","ts":1,"agent":"a","state":"available","queues":["qqqqqqqqqqqqqqqqq"]})") ==
          RejectReason::name_too_long);
    // Exactly at the limit is fine: 16 bytes.
    CHECK(p.parse(R"({"type":"call_enqueued","ts":1,"call":"c","queue":"qqqqqqqqqqqqqqqq"})").has_value());
  }
  SECTION("invalid_utf8") {
    // 0xC3 0x28: a lead byte followed by a non-continuation byte.
    CHECK(reject_of(p, "{\"type\":\"call_enqueued\",\"ts\":1,\"call\":\"c\",\"queue\":\"\xc3\x28\"}") ==
          RejectReason::invalid_utf8);
    // An unpaired surrogate escape is not valid text either; simdjson refuses it as a string error.
    CHECK_FALSE(p.parse(R"({"type":"call_enqueued","ts":1,"call":"c","queue":"\ud800"})").has_value());
  }
}

TEST_CASE("a message is valid JSON in every field, read or skipped, or it is rejected as not_json",
          "[daemon][native][json]") {
  NativeParser p;
  const std::string head = R"({"type":"call_enqueued","ts":1767600000,"call":"c","queue":"q")";
  // The probe of issue 13: each of these in a field the event does not use was applied as valid.
  for (const std::string bad : {"tru", "[1,,2]", "nul", "01", R"("\q")", R"({"a" 1})", "-", "1.", ".5",
                                "[1,]", R"({"a":1,})", "nulls", "+1", "0x10", R"("tab	in")", "[", "{}}"}) {
    INFO(bad);
    CHECK(reject_of(p, head + R"(,"junk":)" + bad + "}") == RejectReason::not_json);
    CHECK(reject_of(p, head + R"(,"deep":{"x":[{"y":)" + bad + "}]}}") == RejectReason::not_json);
  }
  // The same mistakes in the fields the event reads: not JSON either (never "absent", never 1).
  for (const std::string bad : {"01", "1.", "-", "1e", "1e+", "-01", "1.5.5", "00"}) {
    INFO(bad);
    CHECK(reject_of(p, R"({"type":"call_enqueued","ts":)" + bad + R"(,"call":"c","queue":"q"})") ==
          RejectReason::not_json);
  }
  CHECK(reject_of(p, R"({"type":"call_enqueued","ts":1,"call":"c","queue":"q","caller":nul})") ==
        RejectReason::not_json);
  CHECK(reject_of(p, R"({"type":"call_enqueued","ts":1,"call":"\q","queue":"q"})") == RejectReason::not_json);
  CHECK(reject_of(p, R"({"type":"agent_state","ts":1,"agent":"a","state":"paused","queues":["q",,"r"]})") ==
        RejectReason::not_json);
  // A reject of its own (wrong_type) still waits for the rest of the message to be JSON.
  CHECK(reject_of(p, R"({"type":7,"ts":1,"call":"c","queue":"q","junk":tru})") == RejectReason::not_json);
  CHECK(reject_of(p, R"({"type":"agent_state","ts":1,"agent":"a","state":"paused","queues":[3,tru]})") ==
        RejectReason::not_json);
  CHECK(reject_of(p, R"({"type":"call_enqueued","ts":1,"call":{"x":tru},"queue":"q"})") == RejectReason::not_json);
  // Valid JSON of every kind in unknown fields is still fine.
  CHECK(p.parse(head + R"(,"a":[1,-0.5e+3,true,false,null,"\u00e9\n",{"b":[]},{}],"z":0})").has_value());

  // Nesting: 64 levels of a skipped value are read, 65 are refused; the probe's 20,000 too.
  auto nested = [&](int levels) {
    return head + R"(,"n":)" + std::string(static_cast<std::size_t>(levels), '[') +
           std::string(static_cast<std::size_t>(levels), ']') + "}";
  };
  CHECK(p.parse(nested(64)).has_value());
  CHECK(reject_of(p, nested(65)) == RejectReason::not_json);
  CHECK(reject_of(p, nested(20000)) == RejectReason::not_json);
  CHECK(reject_of(p, std::string(20000, '[') + std::string(20000, ']')) == RejectReason::not_json);
}

TEST_CASE("what the parser accepts, a full JSON parser accepts (mutated messages)", "[daemon][native][json]") {
  // Differential check against simdjson's DOM parser, which validates the whole document: 20,000
  // one-byte mutations of valid messages, fixed seed. Accepting a message the DOM parser refuses
  // is the bug of issue 13.
  const std::vector<std::string> seeds = {
      R"({"type":"call_enqueued","ts":1767600000.5,"call":"c1","queue":"q","x":{"a":[1,true,null,"s"]}})",
      R"({"type":"agent_state","ts":1767600001,"agent":"a","state":"paused","reason":"\u5348","queues":["q","r"],"k":false})",
      R"({"type":"call_ended","ts":1767600002,"call":"c1","agent":"a","talk_seconds":12.5,"by":"agent","e":[[],{}]})"};
  const std::string alphabet = "{}[]:,\"\\ 0123456789.eE+-truefalsnq\t";
  std::mt19937 rng(13);
  NativeParser p;
  simdjson::dom::parser dom;
  int accepted = 0, mismatches = 0;
  for (int k = 0; k < 20000; ++k) {
    std::string m = seeds[static_cast<std::size_t>(k) % seeds.size()];
    const std::size_t at = rng() % m.size();
    switch (rng() % 3) {
      case 0: m[at] = alphabet[rng() % alphabet.size()]; break;
      case 1: m.insert(at, 1, alphabet[rng() % alphabet.size()]); break;
      default: m.erase(at, 1); break;
    }
    if (!p.parse(m)) continue;
    ++accepted;
    simdjson::dom::element root;
    if (dom.parse(m).get(root) != simdjson::SUCCESS) {
      ++mismatches;
      UNSCOPED_INFO("accepted, not JSON: " << m);
    }
  }
  CHECK(accepted > 1000);  // the mutations still leave many valid messages (a changed digit, a name)
  CHECK(mismatches == 0);
}

TEST_CASE("a valid message after a rejected one parses cleanly", "[daemon][native]") {
  NativeParser p;
  CHECK_FALSE(p.parse(R"({"type":"call_enqueued","ts":1,"call":"c","qu)").has_value());
  auto r = p.parse(R"({"type":"call_enqueued","ts":1,"call":"c2","queue":"q"})");
  REQUIRE(r.has_value());
  CHECK((*r)->call == "c2");
  CHECK((*r)->caller.empty());
  CHECK(p.last_error().empty());
}

TEST_CASE("reject reasons have the label values of the metric", "[daemon][native]") {
  using callwatch::daemon::to_string;
  CHECK(to_string(RejectReason::not_json) == "not_json");
  CHECK(to_string(RejectReason::not_object) == "not_object");
  CHECK(to_string(RejectReason::unknown_type) == "unknown_type");
  CHECK(to_string(RejectReason::missing_field) == "missing_field");
  CHECK(to_string(RejectReason::wrong_type) == "wrong_type");
  CHECK(to_string(RejectReason::bad_value) == "bad_value");
  CHECK(to_string(RejectReason::too_large) == "too_large");
  CHECK(to_string(RejectReason::name_too_long) == "name_too_long");
  CHECK(to_string(RejectReason::invalid_utf8) == "invalid_utf8");
}

TEST_CASE("JSON strings are written with escapes", "[daemon][native]") {
  std::string out;
  append_json_string("a\"b\\c\nd\te\x01客", out);
  CHECK(out == "\"a\\\"b\\\\c\\nd\\te\\u0001客\"");
}

TEST_CASE("append_native_json writes what the parser reads back", "[daemon][native]") {
  NativeParser p;
  std::string out;
  m::Event e;
  SECTION("call_ended") {
    e.type = m::EventType::call_ended;
    e.ts = 1767600000.123456;
    e.call = "id \"1\"";
    e.agent = "李雷";
    e.queue = "q";
    e.talk = 61.5;
    e.hold = 3;
    e.by = m::EndedBy::agent;
    append_native_json(e, out);
    auto r = p.parse(out);
    REQUIRE(r.has_value());
    CHECK((*r)->type == m::EventType::call_ended);
    CHECK((*r)->ts == 1767600000.123456);  // full precision kept
    CHECK((*r)->call == "id \"1\"");
    CHECK((*r)->agent == "李雷");
    CHECK((*r)->queue == "q");
    CHECK((*r)->talk == 61.5);
    CHECK((*r)->hold == 3.0);
    CHECK((*r)->by == m::EndedBy::agent);
  }
  SECTION("agent_state with queues and an empty pause reason") {
    const std::string_view qs[] = {"q1", "客服"};
    e.type = m::EventType::agent_state;
    e.ts = 5;
    e.agent = "a";
    e.state = m::AgentState::paused;
    e.queues = qs;
    append_native_json(e, out);
    CHECK(out == R"({"type":"agent_state","ts":5,"agent":"a","state":"paused","reason":"","queues":["q1","客服"]})");
    auto r = p.parse(out);
    REQUIRE(r.has_value());
    REQUIRE((*r)->queues.size() == 2);
    CHECK((*r)->queues[1] == "客服");
  }
  SECTION("call_exited with a wait") {
    e.type = m::EventType::call_exited;
    e.ts = 10;
    e.call = "c";
    e.queue = "q";
    e.exit_reason = m::ExitReason::key;
    e.wait = 12.25;
    append_native_json(e, out);
    CHECK(out == R"({"type":"call_exited","ts":10,"call":"c","queue":"q","reason":"key","wait_seconds":12.25})");
  }
}

TEST_CASE("agent_state ringing may name the call it rings for; other states ignore it",
          "[daemon][native][waiting]") {
  NativeParser p;
  auto r = p.parse(R"({"type":"agent_state","ts":1767600000,"agent":"ana","state":"ringing",)"
                   R"("call":"c-17","queues":["sales"]})");
  REQUIRE(r.has_value());
  CHECK((*r)->state == m::AgentState::ringing);
  CHECK((*r)->call == "c-17");
  auto a = p.parse(R"({"type":"agent_state","ts":1767600000,"agent":"ana","state":"available","call":"c-17"})");
  REQUIRE(a.has_value());
  CHECK((*a)->call.empty());  // not a ring: the field means nothing here
  // A call id is a name like any other: bounded.
  const std::string long_id(5000, 'x');
  auto bad = p.parse(R"({"type":"agent_state","ts":1767600000,"agent":"ana","state":"ringing","call":")" +
                     long_id + R"("})");
  CHECK_FALSE(bad.has_value());
}

TEST_CASE("parse_in_place reads a padded message where it lies and falls back to a copy without padding",
          "[daemon][native]") {
  NativeParser p;
  const std::string msg = R"({"type":"call_answered","ts":1767600000.5,"call":"c7","queue":"sales","agent":"ann"})";
  // A receive buffer: the message, then more than the parser's 64 bytes of padding.
  std::string rx = msg + std::string(NativeParser::kPadding, '\0');
  auto r = p.parse_in_place(std::string_view(rx.data(), msg.size()), rx.size());
  REQUIRE(r.has_value());
  CHECK((*r)->type == m::EventType::call_answered);
  CHECK((*r)->ts == 1767600000.5);
  CHECK((*r)->call == "c7");
  CHECK((*r)->queue == "sales");
  CHECK((*r)->agent == "ann");
  // What follows the message in the buffer (a longer message received before) is not read.
  std::string reused = msg + R"(,"agent":"bob"})" + std::string(NativeParser::kPadding, '\0');
  auto u = p.parse_in_place(std::string_view(reused.data(), msg.size()), reused.size());
  REQUIRE(u.has_value());
  CHECK((*u)->agent == "ann");

  // 63 readable bytes past the end are one too few: the parser copies into its own buffer.
  std::string short_rx = msg + std::string(NativeParser::kPadding - 1, '\0');
  auto c = p.parse_in_place(std::string_view(short_rx.data(), msg.size()), short_rx.size());
  REQUIRE(c.has_value());
  CHECK((*c)->agent == "ann");
  CHECK((*c)->ts == 1767600000.5);

  // The same rejects as parse(): bad JSON and a message over the size cap.
  std::string bad = std::string(R"({"type":"call_answered","ts":)") + std::string(NativeParser::kPadding, ' ');
  auto b = p.parse_in_place(std::string_view(bad.data(), 28), bad.size());
  REQUIRE_FALSE(b.has_value());
  CHECK(b.error() == RejectReason::not_json);
  NativeParser small(100);
  std::string big = R"({"type":"call_abandoned","ts":1,"call":")" + std::string(100, 'x') + R"(","queue":"q"})";
  const std::size_t n = big.size();
  big.append(NativeParser::kPadding, '\0');
  auto t = small.parse_in_place(std::string_view(big.data(), n), big.size());
  REQUIRE_FALSE(t.has_value());
  CHECK(t.error() == RejectReason::too_large);
}
