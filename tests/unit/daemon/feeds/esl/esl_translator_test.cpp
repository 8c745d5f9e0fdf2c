// FreeSWITCH event socket: framing by Content-Length, URL decoding and `_undef_` (P14), the
// mod_callcenter mapping of FEED-SPEC 6.3 with P15/P16, snapshots and reconnects. Expected
// events are read off the input by hand.
#include "feeds/esl/esl_translator.hpp"

#include <catch2/catch.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "../feed_test_util.hpp"
#include "callwatch/metrics/engine.hpp"
#include "feeds/esl/esl_capture.hpp"
#include "feeds/esl/esl_framer.hpp"

namespace cd = callwatch::daemon;
namespace m = callwatch::metrics;
using callwatch::test::data_path;
using callwatch::test::read_file;
using callwatch::test::Recorder;
using ET = m::EventType;

namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

// One text/event-plain message; values are written as given (already encoded).
std::string plain(const Headers& h) {
  std::string body;
  for (const auto& [k, v] : h) body += k + ": " + v + "\n";
  body += "\n";
  return "Content-Length: " + std::to_string(body.size()) + "\nContent-Type: text/event-plain\n\n" +
         body;
}

Headers cc(const std::string& action, long long ts, Headers more) {
  Headers h = {{"Event-Name", "CUSTOM"},
               {"Event-Subclass", "callcenter%3A%3Ainfo"},
               {"Event-Date-Timestamp", std::to_string(ts * 1000000)},
               {"CC-Action", action}};
  h.insert(h.end(), more.begin(), more.end());
  return h;
}

Headers member(const std::string& n, const std::string& queue = "support") {
  return {{"CC-Queue", queue},
          {"CC-Member-UUID", "m-" + n},
          {"CC-Member-Session-UUID", "s-" + n},
          {"CC-Member-CID-Number", "555" + n}};
}

Headers join(Headers a, const Headers& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

struct Run {
  Recorder rec;
  cd::EslTranslator tr;
  cd::EslFramer framer;
  Run() : tr({}, rec.sink()) {}
  void bytes(const std::string& s) { cd::replay_esl_bytes(s, framer, tr); }
  void done() { tr.finish(); }
};

const std::string kAuth = "Content-Type: auth/request\n\n";

}  // namespace

TEST_CASE("ESL framing reads exactly Content-Length bytes, whatever the split", "[feed][esl]") {
  const std::string story = read_file(data_path("story/story.esl"));
  REQUIRE(!story.empty());
  auto frame = [&](std::size_t chunk) {
    std::vector<std::string> out;
    cd::EslFramer f;
    for (std::size_t i = 0; i < story.size(); i += chunk) {
      f.feed(std::string_view(story).substr(i, chunk), [&](const cd::EslMessage& msg) {
        out.push_back(std::string(msg.content_type()) + "|" + std::string(msg.body));
      });
    }
    CHECK_FALSE(f.partial());
    return out;
  };
  const auto whole = frame(story.size());
  // make_story.py writes 7 messages before the events (auth, 2 replies, 4 api tables) and 28
  // callcenter events.
  CHECK(whole.size() == 35);
  for (std::size_t chunk : {1u, 2u, 5u, 64u}) CHECK(frame(chunk) == whole);
}

TEST_CASE("a body holding blank lines is not cut at them", "[feed][esl]") {
  const std::string body = "line one\n\nline three\n\n";
  const std::string bytes =
      "Content-Type: api/response\nContent-Length: " + std::to_string(body.size()) + "\n\n" + body +
      "Content-Type: command/reply\nReply-Text: +OK\n\n";
  std::vector<std::string> bodies;
  cd::EslFramer f;
  f.feed(bytes, [&](const cd::EslMessage& msg) { bodies.emplace_back(msg.body); });
  REQUIRE(bodies.size() == 2);
  CHECK(bodies[0] == body);
  CHECK(bodies[1].empty());
}

TEST_CASE("P14: plain values are URL-decoded after the first ': ', _undef_ is empty",
          "[feed][esl][pitfall]") {
  cd::EslEventHeaders h;
  cd::parse_event_plain(
      "CC-Member-CID-Name: Pat%20Example\nCC-Agent-State: In%20a%20queue%20call\n"
      "Caller-Caller-ID-Name: _undef_\nVariable-Sip: sip%3A201%4010.0.0.1%3A5060\n"
      "Literal: %41%2\nWith-Colon: a: b\n\nbody-not-headers: x\n",
      h);
  CHECK(h.get("CC-Member-CID-Name") == "Pat Example");
  CHECK(h.get("cc-agent-state") == "In a queue call");
  CHECK(h.get("Caller-Caller-ID-Name").empty());
  CHECK(h.get("Variable-Sip") == "sip:201@10.0.0.1:5060");
  CHECK(h.get("Literal") == "A%2");  // a literal %41 decodes to A; a broken % stays
  CHECK(h.get("With-Colon") == "a: b");
  CHECK(h.get("body-not-headers").empty());  // after the blank line: the event's own body
}

TEST_CASE("answered call: wait from CC times, talk from bridge end, agent states deduplicated",
          "[feed][esl]") {
  Run r;
  std::string s = kAuth;
  s += plain(cc("member-queue-start", 100, member("1")));
  s += plain(cc("agent-state-change", 101,
                {{"CC-Agent", "1001@default"}, {"CC-Agent-State", "Receiving"}}));
  s += plain(cc("agent-state-change", 101,
                {{"CC-Agent", "1001@default"}, {"CC-Agent-State", "Receiving"}}));
  s += plain(cc("bridge-agent-start", 108,
                join(member("1"), {{"CC-Agent", "1001@default"},
                                   {"CC-Agent-Answered-Time", "108"},
                                   {"CC-Member-Joined-Time", "100"}})));
  s += plain(cc("bridge-agent-end", 190,
                join(member("1"), {{"CC-Agent", "1001@default"},
                                   {"CC-Agent-Answered-Time", "108"},
                                   {"CC-Bridge-Terminated-Time", "190"}})));
  s += plain(cc("member-queue-end", 190,
                join(member("1"), {{"CC-Cause", "Terminated"},
                                   {"CC-Agent", "1001@default"},
                                   {"CC-Member-Joined-Time", "100"},
                                   {"CC-Member-Leaving-Time", "190"},
                                   {"Channel-Call-State", "HANGUP"}})));
  r.bytes(s);
  r.done();
  INFO(r.rec.all());
  // enqueued, ringing (once: P15), answered (wait 108-100 = 8), ended (talk 190-108 = 82).
  REQUIRE(r.rec.events.size() == 4);
  CHECK(r.rec.events[0].call == "s-1");
  CHECK(r.rec.events[0].event.ts == 100);  // Event-Date-Timestamp is microseconds (P1)
  CHECK(r.rec.events[0].caller == "5551");
  CHECK(r.rec.events[1].event.state == m::AgentState::ringing);
  CHECK(r.rec.events[2].event.type == ET::call_answered);
  CHECK(r.rec.events[2].event.wait == 8);
  CHECK(r.rec.events[2].agent == "1001@default");
  CHECK(r.rec.events[3].event.type == ET::call_ended);
  CHECK(r.rec.events[3].event.talk == 82);
}

TEST_CASE("P16: BREAK_OUT is an abandon only when the caller is gone", "[feed][esl][pitfall]") {
  auto end = [](const std::string& n, Headers leg) {
    return plain(cc("member-queue-end", 210,
                    join(join(member(n), {{"CC-Cause", "Cancel"},
                                          {"CC-Cancel-Reason", "BREAK_OUT"},
                                          {"CC-Member-Joined-Time", "200"},
                                          {"CC-Member-Leaving-Time", "210"}}),
                         leg)));
  };
  Run r;
  std::string s = kAuth;
  s += end("1", {{"Channel-Call-State", "HANGUP"}, {"Answer-State", "hangup"}});
  s += end("2", {{"Channel-Call-State", "ACTIVE"},
                 {"Answer-State", "answered"},
                 {"Caller-Destination-Number", "8000"}});
  s += end("3", {});
  s += plain({{"Event-Name", "CHANNEL_HANGUP"},
              {"Unique-ID", "s-4"},
              {"Event-Date-Timestamp", "209000000"}});
  s += end("4", {});
  r.bytes(s);
  r.done();
  INFO(r.rec.all());
  REQUIRE(r.rec.events.size() == 4);
  CHECK(r.rec.events[0].event.type == ET::call_abandoned);  // caller leg hung up
  CHECK_FALSE(r.rec.events[0].event.inferred);
  CHECK(r.rec.events[0].event.wait == 10);
  CHECK(r.rec.events[1].event.type == ET::call_transferred);  // still up: broke out / transferred
  CHECK(r.rec.events[1].queue == "support");
  CHECK(r.rec.events[1].to == "8000");
  CHECK(r.rec.events[2].event.type == ET::call_abandoned);  // no evidence: counted, flagged
  CHECK(r.rec.events[2].event.inferred);
  CHECK(r.rec.events[3].event.type == ET::call_abandoned);  // CHANNEL_HANGUP seen before
  CHECK_FALSE(r.rec.events[3].event.inferred);
}

TEST_CASE("cancel reasons map to timeout, empty and key exits", "[feed][esl]") {
  Run r;
  std::string s = kAuth;
  const char* reasons[] = {"TIMEOUT", "NO_AGENT_TIMEOUT", "EXIT_WITH_KEY"};
  int n = 0;
  for (const char* reason : reasons) {
    s += plain(cc("member-queue-end", 300,
                  join(member(std::to_string(++n)), {{"CC-Cause", "Cancel"},
                                                     {"CC-Cancel-Reason", reason},
                                                     {"CC-Member-Joined-Time", "240"},
                                                     {"CC-Member-Leaving-Time", "300"}})));
  }
  r.bytes(s);
  r.done();
  REQUIRE(r.rec.events.size() == 3);
  CHECK(r.rec.events[0].event.exit_reason == m::ExitReason::timeout);
  CHECK(r.rec.events[1].event.exit_reason == m::ExitReason::empty);
  CHECK(r.rec.events[2].event.exit_reason == m::ExitReason::key);
  for (const auto& e : r.rec.events) CHECK(e.event.wait == 60);
}

TEST_CASE("bridge-agent-fail: a no-answer unless the caller left or another agent won",
          "[feed][esl]") {
  Run r;
  std::string s = kAuth;
  auto fail = [&](const char* cause, const char* agent, const char* aborted) {
    s += plain(cc("bridge-agent-fail", 320,
                  join(member("1"), {{"CC-Agent", agent},
                                     {"CC-Hangup-Cause", cause},
                                     {"CC-Agent-Called-Time", "300"},
                                     {"CC-Agent-Aborted-Time", aborted}})));
  };
  fail("NO_ANSWER", "a", "320");
  fail("LOSE_RACE", "b", "305");
  fail("ORIGINATOR_CANCEL", "c", "310");
  fail("USER_BUSY", "d", "300");
  r.bytes(s);
  r.done();
  REQUIRE(r.rec.events.size() == 2);
  CHECK(r.rec.events[0].agent == "a");
  CHECK(r.rec.events[0].event.ring_ms == 20000);  // (320 - 300) s
  CHECK(r.rec.events[1].agent == "d");
  CHECK(r.rec.events[1].event.ring_ms == 0);  // refused at once: the engine counts it apart
}

TEST_CASE("P15: status On Break repeated counts one pause; Available ends it",
          "[feed][esl][pitfall]") {
  Run r;
  std::string s = kAuth;
  s +=
      plain(cc("agent-status-change", 400, {{"CC-Agent", "b"}, {"CC-Agent-Status", "On%20Break"}}));
  s +=
      plain(cc("agent-status-change", 410, {{"CC-Agent", "b"}, {"CC-Agent-Status", "On%20Break"}}));
  s += plain(cc("agent-state-change", 415, {{"CC-Agent", "b"}, {"CC-Agent-State", "Waiting"}}));
  s += plain(cc("agent-status-change", 460, {{"CC-Agent", "b"}, {"CC-Agent-Status", "Available"}}));
  s += plain(
      cc("agent-status-change", 500, {{"CC-Agent", "b"}, {"CC-Agent-Status", "Logged%20Out"}}));
  r.bytes(s);
  r.done();
  INFO(r.rec.all());
  // paused (once), the Waiting state while On Break changes nothing, available, logged out.
  REQUIRE(r.rec.events.size() == 3);
  CHECK(r.rec.events[0].event.state == m::AgentState::paused);
  CHECK(r.rec.events[0].reason.empty());
  CHECK(r.rec.events[1].event.state == m::AgentState::available);
  CHECK(r.rec.events[1].event.ts == 460);
  CHECK(r.rec.events[2].event.state == m::AgentState::logged_out);
}

TEST_CASE("member-queue-resume continues the visit of the same member UUID", "[feed][esl]") {
  Run r;
  std::string s = kAuth;
  s += plain(cc("member-queue-start", 100, member("1")));
  Headers resumed = member("1");
  resumed[2].second = "s-1-second-session";  // new session, same CC-Member-UUID
  s += plain(cc("member-queue-resume", 130, resumed));
  s += plain(cc("bridge-agent-start", 150,
                join(resumed, {{"CC-Agent", "x"},
                               {"CC-Agent-Answered-Time", "150"},
                               {"CC-Member-Joined-Time", "100"}})));
  r.bytes(s);
  r.done();
  INFO(r.rec.all());
  // One visit: the resume adds nothing while the visit is open; the answer is keyed to s-1.
  REQUIRE(r.rec.events.size() == 2);
  CHECK(r.rec.events[1].call == "s-1");
  CHECK(r.rec.events[1].event.wait == 50);
}

TEST_CASE("snapshot at connect and a reconnect: waiting callers rebuilt, none counted twice",
          "[feed][esl]") {
  Run r;
  const std::string members_hdr =
      "queue|instance_id|uuid|session_uuid|cid_number|cid_name|system_epoch|joined_epoch|"
      "rejoined_epoch|bridge_epoch|abandoned_epoch|base_score|skill_score|serving_agent|"
      "serving_system|state\n";
  auto api = [](const std::string& body) {
    return "Content-Type: api/response\nContent-Length: " + std::to_string(body.size()) + "\n\n" +
           body;
  };
  std::string s = kAuth;
  // Connection 1: one caller already waiting at connect (joined 90), then two join.
  s += api(members_hdr + "support|single_box|m-0|s-0|5550|x|90|90|0|0|0|0|0|||Waiting\n+OK\n");
  s +=
      api("name|instance_id|uuid|type|contact|status|state|max_no_answer|wrap_up_time|reject_delay_"
          "time\n"
          "a@default|single_box||callback|user/1|Available|Waiting|3|10|10\n+OK\n");
  s += plain(cc("member-queue-start", 100, member("1")));
  s += plain(cc("member-queue-start", 101, member("2")));
  // Connection 2: s-1 left unseen; s-2 still waits; s-3 joined while down.
  s += kAuth;
  s += api(members_hdr +
           "support|single_box|m-2|s-2|5552|x|101|101|0|0|0|0|0|||Waiting\n"
           "support|single_box|m-3|s-3|5553|x|150|150|0|0|0|0|0|||Waiting\n"
           "support|single_box|m-0|s-0|5550|x|90|90|0|0|0|0|0|a@default||Answered\n+OK\n");
  s += plain(cc("bridge-agent-end", 200,
                join(member("0"), {{"CC-Agent", "a@default"},
                                   {"CC-Agent-Answered-Time", "120"},
                                   {"CC-Bridge-Terminated-Time", "200"}})));
  r.bytes(s);
  r.done();
  INFO(r.rec.all());
  // Conn 1 (snapshot applied at the first event, t=100): available for a@default, s-0 entered
  // at 90; then s-1, s-2. Conn 2 (at 200): s-0 and s-1 are not waiting any more -> restart,
  // s-2 entered again at 101, s-3 entered at 150; then the end of s-0 with wrap_up_time 10.
  std::vector<std::string> seq;
  for (const auto& e : r.rec.events) {
    seq.push_back(std::string(m::to_string(e.event.type)) + ":" + e.call);
  }
  const std::vector<std::string> want = {"call_enqueued:s-0", "agent_state:",  "call_enqueued:s-1",
                                         "call_enqueued:s-2", "feed_restart:", "call_enqueued:s-2",
                                         "call_enqueued:s-3", "call_ended:s-0"};
  CHECK(seq == want);
  CHECK(r.rec.events[5].event.ts == 101);
  CHECK(r.rec.events[6].event.ts == 150);
  CHECK(r.rec.events[7].event.wrap == 10);  // P15: derived from wrap_up_time
  CHECK(r.rec.warnings_of("derived_wrap_up") == 1);
}

TEST_CASE("text/event-json bodies are read without URL decoding", "[feed][esl]") {
  Run r;
  const std::string body =
      R"({"Event-Name":"CUSTOM","Event-Subclass":"callcenter::info","CC-Action":"member-queue-start",)"
      R"("Event-Date-Timestamp":"100000000","CC-Queue":"sales%20x","CC-Member-UUID":"m",)"
      R"("CC-Member-Session-UUID":"s","CC-Member-CID-Number":"555"})";
  r.bytes(kAuth + "Content-Length: " + std::to_string(body.size()) +
          "\nContent-Type: text/event-json\n\n" + body);
  r.done();
  REQUIRE(r.rec.events.size() == 1);
  CHECK(r.rec.events[0].queue == "sales%20x");
}

TEST_CASE("live ESL drop: a feed_restart at the drop; the next agent list pauses again",
          "[feed][esl][restart]") {
  Recorder rec;
  cd::EslTranslator tr({}, rec.sink());
  auto live = [&](const std::string& bytes, double receipt) {
    cd::EslFramer f;
    f.feed(bytes, [&](const cd::EslMessage& msg) { tr.on_message(msg, receipt); });
  };
  auto api = [](const std::string& body) {
    return "Content-Type: api/response\nContent-Length: " + std::to_string(body.size()) + "\n\n" +
           body;
  };
  const std::string agents =
      api("name|instance_id|uuid|type|contact|status|state|max_no_answer|wrap_up_time|"
          "reject_delay_time\n"
          "a@default|single_box||callback|user/1|On Break|Waiting|3|0|10\n+OK\n");
  live(kAuth, 1000);
  live(agents, 1000);
  tr.snapshot_done(1000);
  tr.on_disconnect(1100);
  live(kAuth, 1150);  // the reconnect: no second restart
  live(agents, 1150);
  tr.snapshot_done(1150);
  tr.finish();
  INFO(rec.all());
  std::vector<std::string> seq;
  for (const auto& e : rec.events) {
    seq.push_back(std::string(m::to_string(e.event.type)) + "@" +
                  std::to_string(static_cast<int>(e.event.ts)));
  }
  // On Break (paused) at 1000, the restart at the drop (1100), On Break again at 1150: the
  // status is not taken for a repeat (P15) after the restart.
  CHECK(seq == std::vector<std::string>{"agent_state@1000", "feed_restart@1100",
                                        "agent_state@1150"});
  const m::EngineSettings settings;
  m::Engine engine(settings, nullptr);
  for (const auto& ev : rec.events) {
    cd::OwnedEvent copy = ev;
    engine.apply(copy.view());
  }
  engine.finish(1200);
  const auto snap = engine.snapshot();
  REQUIRE(snap.agents.size() == 1);
  // Paused 1000..1100 and 1150..1200 = 150 s, not 200 (the gap is no pause time).
  CHECK(snap.agents[0].today.paused_seconds() == Approx(150.0));
  CHECK(snap.agents[0].state == m::AgentState::paused);
}

TEST_CASE("live ESL: an event time or a CC time out of the window rejects the event; a waiting "
          "member listed since then enters now",
          "[feed][esl][time]") {
  Recorder rec;
  cd::EslTranslator tr({}, rec.sink());
  const long long now = 1796000000;
  auto live = [&](const std::string& bytes, double receipt) {
    cd::EslFramer f;
    f.feed(bytes, [&](const cd::EslMessage& msg) { tr.on_message(msg, receipt); });
  };
  live(kAuth, now);
  live(plain(cc("member-queue-start", 1, member("1"))), now);         // 1970: rejected
  live(plain(cc("member-queue-start", now, member("2"))), now);       // counts
  live(plain(cc("bridge-agent-start", now + 5,
                join(member("2"), {{"CC-Agent", "a"}, {"CC-Agent-Answered-Time", std::to_string(now + 5)},
                                   {"CC-Member-Joined-Time", "1"}}))),
       now + 5);  // a join time of 1970: rejected
  live(plain(cc("bridge-agent-start", now + 5,
                join(member("2"), {{"CC-Agent", "a"}, {"CC-Agent-Answered-Time", std::to_string(now + 5)},
                                   {"CC-Member-Joined-Time", std::to_string(now)}}))),
       now + 5);
  const std::string members =
      "uuid|session_uuid|queue|cid_number|cid_name|system_epoch|joined_epoch|rejoined_epoch|"
      "bridge_epoch|abandoned_epoch|base_score|skill_score|serving_agent|serving_system|state\n"
      "m-3|s-3|support|5553|x|0|1|0|0|0|0|0|||Waiting\n+OK\n";
  live("Content-Type: api/response\nContent-Length: " + std::to_string(members.size()) + "\n\n" +
           members,
       now + 20);
  tr.snapshot_done(now + 20);
  tr.finish();
  INFO(rec.all());
  REQUIRE(rec.rejects.size() == 2);
  CHECK(rec.rejects[0].rfind("bad_value: Event-Date-Timestamp 1 is", 0) == 0);
  CHECK(rec.rejects[1].rfind("bad_number: CC-Member-Joined-Time 1 is", 0) == 0);
  // Events: enqueue s-2, its answer after 5 s, enqueue s-3 clamped to the snapshot's time.
  REQUIRE(rec.events.size() == 3);
  CHECK(rec.events[1].event.wait == 5);
  CHECK(rec.events[2].call == "s-3");
  CHECK(rec.events[2].event.ts == now + 20);
  CHECK(rec.warnings_of("time_clamped") == 1);
}

TEST_CASE("callers of a real FreeSWITCH: each member-queue-start names its caller number",
          "[feed][esl][waiting]") {
  // tests/data/freeswitch/day: the lab's callers are 5553001-5553006 (the CC-Member-CID-Number
  // of its member-queue-start events, read off the capture); every enqueue carries one of them.
  Run r;
  r.bytes(read_file(data_path("freeswitch/day/esl.raw")));
  r.done();
  std::set<std::string> callers;
  int enqueues = 0;
  for (const auto& e : r.rec.events) {
    if (e.event.type != ET::call_enqueued) continue;
    ++enqueues;
    callers.insert(e.caller);
  }
  CHECK(enqueues > 0);
  for (const auto& c : callers) {
    CHECK(c.size() == 7);
    CHECK(c.rfind("555300", 0) == 0);
  }
}
