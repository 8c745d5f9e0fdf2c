// Wallboard wire format: snapshots and deltas survive encode/decode, a diff applied to the old
// state gives the new one, and untrusted or newer-version input is handled without a crash.
#include <catch2/catch.hpp>

#include <cmath>

#include "callwatch/metrics/snapshot_codec.hpp"

using namespace callwatch::metrics;
namespace wire = callwatch::metrics::wire;

namespace {

QueueView make_queue(std::string name, int waiting) {
  QueueView q;
  q.name = std::move(name);
  q.settings.display_name = q.name;
  q.calls_waiting = waiting;
  q.longest_wait = waiting > 0 ? 42.5 : kNoValue;
  auto& today = q.windows[static_cast<int>(WindowKind::today)];
  today.since = 1767571200;
  today.until = 1767600000;
  today.counters.answered = 90;
  today.counters.answered_within_sl = 72;
  today.counters.abandoned = 10;
  today.counters.short_abandoned = 2;
  today.counters.max_wait = 181.25;
  q.agents[static_cast<int>(AgentState::available)] = 3;
  q.agents[static_cast<int>(AgentState::on_call)] = 5;
  q.agents_required = 9;
  q.answer_wait.bounds = {5, 20, 60};
  q.answer_wait.counts = {40, 32, 15, 3};
  q.answer_wait.sum = 1234.5;
  q.answer_wait.count = 90;
  return q;
}

AgentView make_agent(std::string name, AgentState st, double since) {
  AgentView a;
  a.name = std::move(name);
  a.state = st;
  a.state_since = since;
  a.queues = {"sales", "销售"};
  a.today.answered = 12;
  a.today.ring_noanswer = 1;
  a.today.talk_seconds = 2400;
  a.today.state_seconds[static_cast<int>(st)] = 100;
  return a;
}

Snapshot make_snapshot() {
  Snapshot s;
  s.now = 1767600000.25;
  s.interval_start = 1767599100;
  s.day_start = 1767571200;
  s.events_applied = 1234;
  s.version = 77;
  s.queues = {make_queue("sales", 4), make_queue("support", 0), make_queue("销售", 2)};
  s.queues[2].settings.display_name = "销售热线";
  s.queues[2].previous_interval = s.queues[2].windows[0];
  s.queues[2].previous_interval->counters.answered = 17;
  s.agents = {make_agent("alice", AgentState::on_call, 1767599990),
              make_agent("bob", AgentState::paused, 1767599000),
              make_agent("王芳", AgentState::available, 1767599500)};
  s.agents[1].pause_reason = "午饭";
  s.agents[1].today.paused_by_reason["午饭"] = 1000;
  AlertView al;
  al.id = "long_wait/sales";
  al.rule = "long_wait";
  al.queue = "sales";
  al.severity = AlertSeverity::critical;
  al.state = AlertState::firing;
  al.value = 95;
  al.since = 1767599900;
  al.message = "longest wait 95 s > 60 s";
  al.metric = "longest_wait";
  al.above = true;
  al.threshold = 60;
  al.subject = "销售热线";
  AlertView surge = al;
  surge.id = "surge/sales";
  surge.metric = "surge_ratio";
  surge.threshold = 2.5;
  surge.agents_needed = 4;
  s.alerts = {al, surge};
  s.data_quality.events = 1234;
  s.data_quality.rejected = 3;
  s.data_quality.warning_counts["duplicate"] = 2;
  s.data_quality.warnings = {"line 7: duplicate"};
  return s;
}

}  // namespace

TEST_CASE("a snapshot survives encode and decode, CJK names and no-data values included",
          "[metrics][wire]") {
  const Snapshot s = make_snapshot();
  const std::string json = wire::encode_snapshot(s, {.seq = 41, .site = "上海", .sent_at = 5.5, .stream = 99});
  auto m = wire::decode(json);
  REQUIRE(m);
  CHECK(m->compatible());
  CHECK(m->type == wire::MessageType::snapshot);
  CHECK(m->seq == 41);
  CHECK(m->site == "上海");
  CHECK(m->sent_at == 5.5);
  CHECK(m->stream == 99);
  const Snapshot& d = m->snapshot;
  CHECK(d.now == 1767600000.25);
  REQUIRE(d.queues.size() == 3);
  CHECK(d.queues[2].name == "销售");
  CHECK(d.queues[2].settings.display_name == "销售热线");
  CHECK(d.queues[0].longest_wait == 42.5);
  CHECK(std::isnan(d.queues[1].longest_wait));  // no call waiting: no value, not 0
  CHECK(d.queues[0].agents_required == 9);
  CHECK(d.queues[0].windows[3].counters.answered_within_sl == 72);
  CHECK(d.queues[0].windows[3].counters.max_wait == 181.25);
  CHECK(std::isnan(d.queues[0].windows[0].counters.max_wait));
  CHECK_FALSE(d.queues[0].previous_interval.has_value());
  REQUIRE(d.queues[2].previous_interval.has_value());
  CHECK(d.queues[2].previous_interval->counters.answered == 17);
  CHECK(d.queues[0].answer_wait.counts == std::vector<std::uint64_t>{40, 32, 15, 3});
  REQUIRE(d.agents.size() == 3);
  CHECK(d.agents[1].pause_reason == "午饭");
  CHECK(d.agents[1].today.paused_by_reason.at("午饭") == 1000);
  CHECK(d.agents[0].queues == std::vector<std::string>{"sales", "销售"});
  CHECK(d.agents[2].name == "王芳");
  REQUIRE(d.alerts.size() == 2);
  CHECK(d.alerts[0].severity == AlertSeverity::critical);
  CHECK(d.alerts[0].state == AlertState::firing);
  // 1.3: what the alert measures, for boards that word it themselves.
  CHECK(d.alerts[0].metric == "longest_wait");
  CHECK(d.alerts[0].threshold == 60);
  CHECK(d.alerts[0].subject == "销售热线");
  CHECK_FALSE(d.alerts[0].agents_needed.has_value());
  REQUIRE(d.alerts[1].agents_needed.has_value());
  CHECK(*d.alerts[1].agents_needed == 4);
  CHECK(d.data_quality.warning_counts.at("duplicate") == 2);
  // Whole-state equality: the decoded snapshot encodes to the very same text.
  CHECK(wire::encode_state(d) == wire::encode_state(s));
}

TEST_CASE("names with quotes, backslashes and control characters round-trip", "[metrics][wire]") {
  Snapshot s;
  s.queues = {make_queue("a\"b\\c\nd\te\x01", 1)};
  auto back = wire::decode_state(wire::encode_state(s));
  REQUIRE(back);
  CHECK(back->queues[0].name == "a\"b\\c\nd\te\x01");
}

TEST_CASE("a diff holds exactly the changed entities and applying it gives the new state",
          "[metrics][wire]") {
  const Snapshot a = make_snapshot();
  Snapshot b = a;
  b.now += 0.5;
  b.version += 1;
  b.queues[0].calls_waiting = 5;                       // changed
  b.agents[0].state = AgentState::wrap_up;             // changed
  b.agents.erase(b.agents.begin() + 1);                // bob removed
  b.agents.push_back(make_agent("carol", AgentState::available, b.now));  // added (sorted last)
  b.alerts[0].acked = true;

  const auto d = wire::diff(a, b);
  CHECK(d.has_changes());
  REQUIRE(d.queues.size() == 1);
  CHECK(d.queues[0].name == "sales");
  REQUIRE(d.agents.size() == 2);
  CHECK(d.agents[0].name == "alice");
  CHECK(d.agents[1].name == "carol");
  CHECK(d.removed_agents == std::vector<std::string>{"bob"});
  CHECK(d.alerts.size() == 1);
  CHECK_FALSE(d.data_quality.has_value());

  // Through the wire too.
  auto m = wire::decode(wire::encode_delta(d, {.seq = 42}));
  REQUIRE(m);
  CHECK(m->type == wire::MessageType::delta);
  CHECK(m->seq == 42);
  Snapshot applied = a;
  wire::apply(applied, m->delta);
  // carol sorts between bob's old place and 王芳 (UTF-8 bytes > ASCII): order by name kept.
  REQUIRE(applied.agents.size() == 3);
  CHECK(applied.agents[1].name == "carol");
  Snapshot expected = b;
  std::sort(expected.agents.begin(), expected.agents.end(),
            [](const auto& x, const auto& y) { return x.name < y.name; });
  CHECK(wire::encode_state(applied) == wire::encode_state(expected));
}

TEST_CASE("a diff given the state it last brought the boards to compares only the entries "
          "built since",
          "[metrics][wire]") {
  // The publisher's `published` is built by apply(): it never shares an entry with the engine's
  // snapshots. `last` is the engine's snapshot it was last brought up to: an entry of the new
  // snapshot that is the very entry of `last` is known to be as `published` has it.
  const Snapshot last = make_snapshot();  // alice, bob, 王芳
  Snapshot published;
  wire::apply(published, wire::diff(published, last));
  REQUIRE(published.agents.size() == 3);
  CHECK(published.agents.address(0) != last.agents.address(0));

  Snapshot next = last;  // shares every entry with `last`
  next.agents[1].state = AgentState::paused;  // bob's entry: a copy of its own now
  next.agents[1].pause_reason = "lunch";
  // What the boards hold of alice changed behind the diff's back (it cannot happen in the
  // publisher; here it shows that alice, shared with `last`, is not compared at all).
  published.agents[0].state = AgentState::wrap_up;
  const auto d = wire::diff(published, next, {}, &last);
  REQUIRE(d.agents.size() == 1);
  CHECK(d.agents[0].name == "bob");
  CHECK(d.queues.empty());
  // Without `last` every entry is compared: alice differs too.
  const auto full = wire::diff(published, next);
  REQUIRE(full.agents.size() == 2);
  CHECK(full.agents[0].name == "alice");
  // An agent added in front moves every place: the entries after it are compared (and found
  // the same), nothing is lost.
  Snapshot shifted = next;
  shifted.agents.insert(shifted.agents.begin(), make_agent("aaron", AgentState::available, next.now));
  published.agents[0].state = last.agents[0].state;
  wire::apply(published, d);
  const auto d2 = wire::diff(published, shifted, {}, &next);
  REQUIRE(d2.agents.size() == 1);
  CHECK(d2.agents[0].name == "aaron");
}

TEST_CASE("time that grows with the clock alone is resent only past the tolerance",
          "[metrics][wire]") {
  const Snapshot a = make_snapshot();
  Snapshot b = a;
  // alice on call: 3 s more talk and on_call time, below the 10 s tolerance -> not resent.
  b.agents[0].today.talk_seconds += 3;
  b.agents[0].today.state_seconds[static_cast<int>(AgentState::on_call)] += 3;
  b.queues[0].windows[0].until += 3;
  b.queues[0].longest_wait += 0.5;  // below the 1 s display step
  CHECK_FALSE(wire::diff(a, b).has_changes());

  b.agents[0].today.talk_seconds += 8;  // 11 s in all: past 10 s
  auto d = wire::diff(a, b);
  REQUIRE(d.agents.size() == 1);
  CHECK(d.agents[0].name == "alice");

  Snapshot c = a;
  c.queues[0].longest_wait += 1.0;  // 42.5 -> 43.5: the shown second changed
  REQUIRE(wire::diff(a, c).queues.size() == 1);

  Snapshot e = a;
  e.agents[0].today.answered += 1;  // a count: always exact
  CHECK(wire::diff(a, e).agents.size() == 1);

  // Sorted input (the engine's order) takes the merge path: an agent added between two, one
  // removed, and applying keeps the order.
  Snapshot f = a;
  f.agents.erase(f.agents.begin() + 1);  // bob
  f.agents.insert(f.agents.begin() + 1, make_agent("ann", AgentState::available, 0));
  auto df = wire::diff(a, f);
  CHECK(df.removed_agents == std::vector<std::string>{"bob"});
  REQUIRE(df.agents.size() == 1);
  CHECK(df.agents[0].name == "ann");
  Snapshot g = a;
  wire::apply(g, df);
  CHECK(wire::encode_state(g) == wire::encode_state(f));
}

TEST_CASE("a message of a newer major version decodes its envelope only", "[metrics][wire]") {
  auto m = wire::decode(
      R"({"proto":"2.3","type":"delta","seq":9,"site":"x","queues":"changed meaning"})");
  REQUIRE(m);
  CHECK_FALSE(m->compatible());
  CHECK(m->proto.major == 2);
  CHECK(m->proto.minor == 3);
  CHECK(m->seq == 9);
  CHECK(m->delta.queues.empty());

  // A newer minor of our major is compatible: unknown fields are ignored.
  auto n = wire::decode(R"({"proto":"1.7","type":"heartbeat","seq":3,"now":12.5,"new":1})");
  REQUIRE(n);
  CHECK(n->compatible());
  CHECK(n->now == 12.5);
}

TEST_CASE("malformed messages are errors, never crashes", "[metrics][wire]") {
  CHECK_FALSE(wire::decode("not json"));
  CHECK_FALSE(wire::decode(R"({"type":"delta","seq":1})"));              // no proto
  CHECK_FALSE(wire::decode(R"({"proto":"one","type":"delta"})"));         // bad proto
  CHECK_FALSE(wire::decode(R"({"proto":"1.0","type":"bogus"})"));         // unknown type
  CHECK_FALSE(wire::decode(R"({"proto":"1.0","type":"delta","seq":-1})"));  // negative seq
  CHECK_FALSE(wire::decode(R"({"proto":"1.0","type":"delta","queues":[{"calls_waiting":1}]})"));
  CHECK_FALSE(wire::decode(R"({"proto":"1.0","type":"delta","queues":[{"name":5}]})"));
  CHECK_FALSE(
      wire::decode(R"({"proto":"1.0","type":"delta","agents":[{"name":"a","state":"asleep"}]})"));
  CHECK_FALSE(wire::decode(R"({"proto":"1.0","type":"snapshot","seq":1})"));  // no state
  CHECK_FALSE(wire::decode(R"([1,2,3])"));
}

TEST_CASE("requests and errors carry what was asked", "[metrics][wire]") {
  auto r = wire::decode(wire::encode_request("ack", "long_wait/sales"));
  REQUIRE(r);
  CHECK(r->type == wire::MessageType::request);
  CHECK(r->request == "ack");
  CHECK(r->alert_id == "long_wait/sales");
  auto e = wire::decode(wire::encode_error("ack", "not supported yet", {.seq = 3}));
  REQUIRE(e);
  CHECK(e->type == wire::MessageType::error);
  CHECK(e->request == "ack");
  CHECK(e->error == "not supported yet");
}

TEST_CASE("1.5 waiting lists and current calls round-trip, diff, and are absent for old readers",
          "[metrics][wire][waiting]") {
  Snapshot s = make_snapshot();
  auto& q = s.queues[0];  // sales, 4 waiting
  q.waiting_list = {{1, "5551001", 1767599900, "ana"}, {2, "", 1767599950, ""}};
  q.waiting_unlisted = 2;  // 4 waiting, 2 listed
  s.agents[0].call_caller = "+86 138 0000 1234";
  s.agents[0].call_queue = "销售";
  s.agents[0].call_known = true;
  s.agents[1].call_known = true;  // on a call with a withheld caller ID: sent as ""
  const auto m = wire::decode(wire::encode_snapshot(s, wire::Envelope{.seq = 3}));
  REQUIRE(m);
  const auto& rq = m->snapshot.queues[0];
  REQUIRE(rq.waiting_list.size() == 2);
  CHECK(rq.waiting_list[0] == q.waiting_list[0]);
  CHECK(rq.waiting_list[1].caller.empty());
  CHECK(rq.waiting_list[1].ringing.empty());
  CHECK(rq.waiting_unlisted == 2);
  CHECK(m->snapshot.agents[0].call_caller == "+86 138 0000 1234");
  CHECK(m->snapshot.agents[0].call_queue == "销售");
  CHECK(m->snapshot.agents[0].call_known);
  CHECK(m->snapshot.agents[1].call_known);
  CHECK(m->snapshot.agents[1].call_caller.empty());
  CHECK(m->proto.minor == 5);

  // A new caller in the list is a change of that queue only.
  Snapshot b = s;
  b.queues[0].waiting_list.push_back({3, "5551003", 1767599990, ""});
  b.queues[0].waiting_unlisted = 1;
  auto d = wire::diff(s, b);
  REQUIRE(d.queues.size() == 1);
  CHECK(d.queues[0].name == "sales");
  // An agent's caller changing (a new call at the same state_since) is a change of the agent.
  Snapshot c = s;
  c.agents[0].call_caller = "5559999";
  CHECK(wire::diff(s, c).agents.size() == 1);

  // A 1.3 daemon sends no list: the board sees an empty one and nothing unlisted.
  const std::string old_queue =
      R"({"proto":"1.3","type":"snapshot","seq":1,"state":{"queues":[{"name":"q","calls_waiting":3}]}})";
  const auto o = wire::decode(old_queue);
  REQUIRE(o);
  CHECK(o->snapshot.queues[0].calls_waiting == 3);
  CHECK(o->snapshot.queues[0].waiting_list.empty());
  CHECK(o->snapshot.queues[0].waiting_unlisted == 0);
  const auto oa = wire::decode(
      R"({"proto":"1.3","type":"snapshot","seq":1,"state":{"agents":[{"name":"a","state":"on_call"}]}})");
  REQUIRE(oa);
  CHECK_FALSE(oa->snapshot.agents[0].call_known);  // a 1.3 daemon does not say: not "withheld"
}

TEST_CASE("a waiting list longer than the cap is cut on read and the rest counted",
          "[metrics][wire][waiting]") {
  // 23 entries from a hostile or newer peer: 20 kept, 3 counted with the 1 it says it cut.
  std::string list;
  for (int i = 1; i <= 23; ++i) {
    if (i > 1) list += ",";
    list += R"({"position":)" + std::to_string(i) + R"(,"caller":"c","entered":1})";
  }
  const std::string msg = R"({"proto":"1.5","type":"snapshot","seq":1,"state":{"queues":[{"name":"q",)"
                          R"("calls_waiting":24,"waiting_list":[)" + list + R"(],"waiting_unlisted":1}]}})";
  const auto m = wire::decode(msg);
  REQUIRE(m);
  CHECK(m->snapshot.queues[0].waiting_list.size() == 20);
  CHECK(m->snapshot.queues[0].waiting_unlisted == 4);  // 3 cut here + 1 cut by the sender
}

TEST_CASE("1.5 trends round-trip with no-data minutes as null, and a changed minute is a change",
          "[metrics][wire][trend]") {
  Snapshot s = make_snapshot();
  auto& q = s.queues[0];
  q.trend_start = 1767596460;
  q.trend_arrivals.assign(60, 0);
  q.trend_sl.assign(60, kNoValue);
  q.trend_arrivals[59] = 4;
  q.trend_sl[59] = 0.75;
  const auto m = wire::decode(wire::encode_snapshot(s, wire::Envelope{.seq = 1}));
  REQUIRE(m);
  const auto& r = m->snapshot.queues[0];
  CHECK(r.trend_start == 1767596460);
  REQUIRE(r.trend_arrivals.size() == 60);
  CHECK(r.trend_arrivals[59] == 4);
  CHECK(r.trend_sl[59] == 0.75);
  CHECK(std::isnan(r.trend_sl[0]));
  CHECK(m->snapshot.queues[1].trend_arrivals.empty());  // none sent: none read
  Snapshot b = s;
  b.queues[0].trend_arrivals[59] = 5;
  CHECK(wire::diff(s, b).queues.size() == 1);
  CHECK(wire::diff(s, s).queues.empty());  // NaN minutes compare equal: no churn
  // 61 minutes is not a trend: the message is refused, not cut silently.
  std::string arr = "[0";
  for (int i = 0; i < 60; ++i) arr += ",0";
  arr += "]";
  const auto bad = wire::decode(R"({"proto":"1.5","type":"snapshot","seq":1,"state":{"queues":[{"name":"q","trend_arrivals":)" + arr + "}]}}");
  CHECK_FALSE(bad);
}
