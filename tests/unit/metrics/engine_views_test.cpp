// Snapshots share the agent views that did not change (issue 14: a publish costs what changed):
// the same address as in the snapshot before while only the clock moved an agent's times, by no
// more than view_refresh_seconds; a new view when anything else changed. Times worked by hand.
#include <catch2/catch.hpp>

#include "callwatch/metrics/clock.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"
#include "test_events.hpp"

using namespace callwatch::metrics;
using namespace cwtest;
using Catch::Detail::Approx;

namespace {
constexpr double t0 = 1767600000;  // 2026-01-05 08:00:00 UTC

// The place of `name` in a snapshot's agents or queues.
template <typename List>
std::size_t index_in(const List& list, const std::string& name) {
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (list[i].name == name) return i;
  }
  FAIL("no " << name);
  return 0;
}
std::size_t index_of(const Snapshot& s, const std::string& name) { return index_in(s.agents, name); }
// Both snapshots hold the same view object of `name` (the engine reused it).
template <typename List>
bool same_entry(const List& a, const List& b, const std::string& name) {
  return a.address(index_in(a, name)) == b.address(index_in(b, name));
}
bool same_view(const Snapshot& a, const Snapshot& b, const std::string& name) {
  return same_entry(a.agents, b.agents, name);
}
bool same_queue_view(const Snapshot& a, const Snapshot& b, const std::string& name) {
  return same_entry(a.queues, b.queues, name);
}
}  // namespace

TEST_CASE("live snapshots reuse an agent's view until it changes or its times are a refresh "
          "behind",
          "[metrics][engine][views]") {
  ManualClock clock(t0);
  EngineSettings settings;
  settings.view_refresh_seconds = 1.0;
  Engine engine(settings, &clock);
  Feed f(engine);
  f.state(t0, "ann", AgentState::available, {"sales"});
  f.state(t0, "bob", AgentState::paused, {"sales"}, "lunch");
  f.state(t0, "cy", AgentState::logged_out, {});
  const Snapshot s1 = engine.snapshot();
  REQUIRE(s1.agents.size() == 3);

  // 0.5 s later, nothing happened: every view is the one of s1 (bob's pause shows 0 s, a
  // half second behind, within the refresh).
  clock.set(t0 + 0.5);
  engine.advance_to(t0 + 0.5);
  const Snapshot s2 = engine.snapshot();
  CHECK(same_view(s1, s2, "ann"));
  CHECK(same_view(s1, s2, "bob"));
  CHECK(same_view(s1, s2, "cy"));
  CHECK(agent(s2, "bob").today.paused_seconds() == 0.0);

  // ann answers a call at t0+0.8: her view is new, the others stay.
  f.enqueue(t0 + 0.6, "c1", "sales");
  f.answer(t0 + 0.8, "c1", "sales", "ann");
  clock.set(t0 + 0.9);
  engine.advance_to(t0 + 0.9);
  const Snapshot s3 = engine.snapshot();
  CHECK_FALSE(same_view(s2, s3, "ann"));
  CHECK(agent(s3, "ann").state == AgentState::on_call);
  CHECK(agent(s3, "ann").today.answered == 1);
  CHECK(same_view(s2, s3, "bob"));
  CHECK(same_view(s2, s3, "cy"));
  // The publisher's delta from s2 to s3 carries ann alone (bob's and cy's views are the same
  // objects: not even compared).
  const auto d = wire::diff(s2, s3);
  REQUIRE(d.agents.size() == 1);
  CHECK(d.agents[0].name == "ann");

  // At t0+1.5 bob's pause has grown 1.5 s since his view (built at t0): a new view, exact:
  // 1.5 s of lunch. cy, logged out, keeps the view of s1 (her times do not grow).
  clock.set(t0 + 1.5);
  engine.advance_to(t0 + 1.5);
  const Snapshot s4 = engine.snapshot();
  CHECK_FALSE(same_view(s3, s4, "bob"));
  CHECK(agent(s4, "bob").today.paused_seconds() == Approx(1.5));
  CHECK(agent(s4, "bob").today.paused_by_reason.at("lunch") == Approx(1.5));
  CHECK(same_view(s1, s4, "cy"));
  // ann's view of t0+0.9: on the call 0.1 s then; 0.7 s now, 0.6 s behind: kept.
  CHECK(same_view(s3, s4, "ann"));

  // A snapshot someone holds never changes when another copy is written to.
  Snapshot copy = s4;
  copy.agents[index_of(copy, "cy")].pause_reason = "edited";
  CHECK(agent(s4, "cy").pause_reason.empty());
  CHECK(agent(engine.snapshot(), "cy").pause_reason.empty());
}

TEST_CASE("with no refresh allowed every time is exact and only agents whose times stand still "
          "keep their view",
          "[metrics][engine][views]") {
  Engine engine(EngineSettings{});  // replay: view_refresh_seconds 0
  Feed f(engine);
  f.state(t0, "ann", AgentState::available, {"sales"});
  f.state(t0, "cy", AgentState::logged_out, {});
  engine.advance_to(t0 + 10);
  const Snapshot s1 = engine.snapshot();
  engine.advance_to(t0 + 10.25);
  const Snapshot s2 = engine.snapshot();
  CHECK_FALSE(same_view(s1, s2, "ann"));
  CHECK(agent(s2, "ann").today.state_seconds[static_cast<int>(AgentState::available)] ==
        Approx(10.25));
  CHECK(same_view(s1, s2, "cy"));
  // Same instant, nothing new: every view is shared.
  const Snapshot s3 = engine.snapshot();
  CHECK(same_view(s2, s3, "ann"));
}

TEST_CASE("live snapshots reuse a queue's view until something in it changes, the minute turns "
          "or it is a refresh behind",
          "[metrics][engine][views]") {
  ManualClock clock(t0 + 10);
  EngineSettings settings;
  settings.view_refresh_seconds = 1.0;
  Engine engine(settings, &clock);
  Feed f(engine);
  f.state(t0 + 10, "ann", AgentState::available, {"sales"});
  f.state(t0 + 10, "bob", AgentState::available, {"sales"});
  f.state(t0 + 10, "cy", AgentState::available, {"support"});
  f.enqueue_from(t0 + 10, "c1", "sales", "+4930111");
  const Snapshot s1 = engine.snapshot();
  CHECK(queue(s1, "sales").agents[static_cast<int>(AgentState::available)] == 2);
  CHECK(queue(s1, "sales").calls_waiting == 1);

  // 0.4 s on, nothing happened: both views are s1's, as of t0+10 (the waiting caller 0 s).
  clock.set(t0 + 10.4);
  engine.advance_to(t0 + 10.4);
  const Snapshot s2 = engine.snapshot();
  CHECK(same_queue_view(s1, s2, "sales"));
  CHECK(same_queue_view(s1, s2, "support"));
  CHECK(queue(s2, "sales").longest_wait == 0.0);
  CHECK(queue(s2, "sales").windows[0].until == t0 + 10);

  // bob is rung for c1 at t0+10.6: sales' view is new (bob ringing, c1 shows whom it rings),
  // support's stays.
  clock.set(t0 + 10.6);
  f.ring(t0 + 10.6, "bob", "c1", "sales");
  const Snapshot s3 = engine.snapshot();
  CHECK_FALSE(same_queue_view(s2, s3, "sales"));
  CHECK(same_queue_view(s2, s3, "support"));
  const QueueView& sales3 = queue(s3, "sales");
  CHECK(sales3.agents[static_cast<int>(AgentState::available)] == 1);
  CHECK(sales3.agents[static_cast<int>(AgentState::ringing)] == 1);
  REQUIRE(sales3.waiting_list.size() == 1);
  CHECK(sales3.waiting_list[0].ringing == "bob");
  CHECK(sales3.waiting_list[0].caller == "+4930111");
  CHECK(sales3.longest_wait == Approx(0.6));
  // ann and bob idle 0.6 s each so far, cy 0.6 s in support.
  CHECK(sales3.windows[0].counters.agent_idle_seconds == Approx(1.2));

  // At t0+11.5 support's view (of t0+10) is 1.5 s behind: built again, cy idle 1.5 s. sales'
  // (of t0+10.6) is 0.9 s behind: kept.
  clock.set(t0 + 11.5);
  engine.advance_to(t0 + 11.5);
  const Snapshot s4 = engine.snapshot();
  CHECK_FALSE(same_queue_view(s3, s4, "support"));
  CHECK(queue(s4, "support").windows[0].counters.agent_idle_seconds == Approx(1.5));
  CHECK(same_queue_view(s3, s4, "sales"));

  // ann answers c1 at t0+11.7: sales' view is new (c1 no longer waits, one answered).
  clock.set(t0 + 11.7);
  f.answer(t0 + 11.7, "c1", "sales", "ann");
  const Snapshot s5 = engine.snapshot();
  CHECK_FALSE(same_queue_view(s4, s5, "sales"));
  CHECK(same_queue_view(s4, s5, "support"));
  CHECK(queue(s5, "sales").calls_waiting == 0);
  CHECK(today(queue(s5, "sales")).answered == 1);
  CHECK(queue(s5, "sales").agents[static_cast<int>(AgentState::on_call)] == 1);

  // The minute turns at t0+60: every view is built again (the minute buckets moved), though
  // support's of t0+11.5 would be a refresh behind anyway; at t0+60.5 they are kept again.
  clock.set(t0 + 60);
  engine.advance_to(t0 + 60);
  const Snapshot s6 = engine.snapshot();
  CHECK_FALSE(same_queue_view(s5, s6, "sales"));
  CHECK_FALSE(same_queue_view(s5, s6, "support"));
  clock.set(t0 + 60.5);
  engine.advance_to(t0 + 60.5);
  const Snapshot s7 = engine.snapshot();
  CHECK(same_queue_view(s6, s7, "sales"));
  CHECK(same_queue_view(s6, s7, "support"));
  // cy idle since t0+10: 50 s as of t0+60, the view's time.
  CHECK(queue(s7, "support").windows[0].counters.agent_idle_seconds == Approx(50));
}

TEST_CASE("a caller whose ringing agent changes changes its queue's view, nothing else does",
          "[metrics][engine][views]") {
  ManualClock clock(t0 + 10);
  EngineSettings settings;
  settings.view_refresh_seconds = 1.0;
  Engine engine(settings, &clock);
  Feed f(engine);
  f.state(t0 + 10, "ann", AgentState::available, {"sales"});
  f.state(t0 + 10, "bob", AgentState::available, {"support"});
  f.enqueue(t0 + 10, "c1", "sales");
  f.enqueue(t0 + 10, "c2", "support");
  f.ring(t0 + 10, "ann", "c1", "sales");
  f.ring(t0 + 10, "bob", "c2", "support");
  const Snapshot s1 = engine.snapshot();
  CHECK(queue(s1, "sales").waiting_list.at(0).ringing == "ann");
  CHECK(queue(s1, "support").waiting_list.at(0).ringing == "bob");
  // bob, still ringing, is now rung for c1 (a ring that moved without a stop): c1's queue
  // (sales) shows ann still (first by name), c2 nobody; both views are new.
  f.ring(t0 + 10, "bob", "c1", "support");
  const Snapshot s2 = engine.snapshot();
  CHECK(queue(s2, "sales").waiting_list.at(0).ringing == "ann");
  CHECK(queue(s2, "support").waiting_list.at(0).ringing == "");
  CHECK_FALSE(same_queue_view(s1, s2, "support"));
  // ann stops ringing (available) at t0+10.2: c1 now shows bob.
  clock.set(t0 + 10.2);
  f.state(t0 + 10.2, "ann", AgentState::available, {"sales"});
  const Snapshot s3 = engine.snapshot();
  CHECK(queue(s3, "sales").waiting_list.at(0).ringing == "bob");
  CHECK_FALSE(same_queue_view(s2, s3, "sales"));
}

TEST_CASE("agents may have a refresh of their own: the daemon's is the boards' resend step",
          "[metrics][engine][views]") {
  ManualClock clock(t0 + 10);
  EngineSettings settings;
  settings.view_refresh_seconds = 1.0;
  settings.agent_view_refresh_seconds = 10.0;
  Engine engine(settings, &clock);
  Feed f(engine);
  f.state(t0 + 10, "ann", AgentState::paused, {"sales"}, "lunch");
  const Snapshot s1 = engine.snapshot();
  // 5 s on: the queue's view (a second's refresh) is new, ann's (ten seconds') is s1's.
  clock.set(t0 + 15);
  engine.advance_to(t0 + 15);
  const Snapshot s2 = engine.snapshot();
  CHECK_FALSE(same_queue_view(s1, s2, "sales"));
  CHECK(queue(s2, "sales").windows[0].counters.agent_paused_seconds == Approx(5));
  CHECK(same_view(s1, s2, "ann"));
  CHECK(agent(s2, "ann").today.paused_seconds() == 0.0);
  // 10.5 s on: ann's view is built again, exact.
  clock.set(t0 + 20.5);
  engine.advance_to(t0 + 20.5);
  const Snapshot s3 = engine.snapshot();
  CHECK_FALSE(same_view(s2, s3, "ann"));
  CHECK(agent(s3, "ann").today.paused_by_reason.at("lunch") == Approx(10.5));
}

TEST_CASE("snapshots share the data quality warnings until the engine adds one",
          "[metrics][engine][views]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.enqueue(t0, "c1", "sales");
  f.enqueue(t0 + 1, "c1", "sales");  // a repeat entry: one warning
  const Snapshot s1 = engine.snapshot();
  const Snapshot s2 = engine.snapshot();
  REQUIRE(s1.data_quality.warnings.size() == 1);
  // The same texts, not a copy of them.
  CHECK(&s1.data_quality.warnings.items() == &s2.data_quality.warnings.items());
  f.enqueue(t0 + 2, "c1", "sales");  // another
  const Snapshot s3 = engine.snapshot();
  CHECK(s3.data_quality.warnings.size() == 2);
  CHECK(s1.data_quality.warnings.size() == 1);  // the older snapshot is as it was
  CHECK(&s1.data_quality.warnings.items() != &s3.data_quality.warnings.items());
  CHECK(s3.data_quality.warnings[0] == s1.data_quality.warnings[0]);
}
