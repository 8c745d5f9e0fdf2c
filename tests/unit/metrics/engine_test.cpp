#include <catch2/catch.hpp>

#include "test_events.hpp"

using namespace callwatch::metrics;
using namespace cwtest;
using Catch::Detail::Approx;

namespace {
// 2026-01-05 08:00:00 UTC, a 15-minute boundary.
constexpr double t0 = 1767600000;

// The scenario worked by hand in the comments of the first test.
void feed_scenario(Feed& f) {
  for (auto a : {"A1", "A2", "A3"}) f.state(t0, a, AgentState::available, {"sales"});
  f.enqueue(t0, "c1", "sales");
  f.answer(t0 + 10, "c1", "sales", "A1");        // wait 10 <= 20: within SL
  f.enqueue(t0 + 5, "c2", "sales");
  f.answer(t0 + 25, "c2", "sales", "A2");        // wait 20 == T: within SL (<= T)
  f.enqueue(t0 + 10, "c3", "sales");
  f.answer(t0 + 40, "c3", "sales", "A3");        // wait 30: not within
  f.enqueue(t0 + 20, "c4", "sales");
  f.abandon(t0 + 23, "c4", "sales");             // wait 3 < S=5: short, within T
  f.enqueue(t0 + 30, "c5", "sales");
  f.abandon(t0 + 35, "c5", "sales");             // wait 5 == S: not short, within T
  f.enqueue(t0 + 40, "c6", "sales");
  f.abandon(t0 + 70, "c6", "sales");             // wait 30: not within
  f.enqueue(t0 + 50, "c7", "sales");
  f.exit(t0 + 110, "c7", "sales", ExitReason::timeout);  // wait 60
  f.enqueue(t0 + 60, "c8", "sales");
  f.exit(t0 + 65, "c8", "sales", ExitReason::key);       // wait 5
  f.enqueue(t0 + 70, "c9", "sales");                     // still waiting
  f.end(t0 + 85, "c2", "A2");                    // talk 85 - 25 = 60
  f.state(t0 + 90, "A2", AgentState::paused, {}, "午饭");
  f.end(t0 + 130, "c1", "A1");                   // talk 130 - 10 = 120
}
}  // namespace

TEST_CASE("a hand-worked interval: every outcome and every formula", "[metrics][engine]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  feed_scenario(f);
  engine.advance_to(t0 + 200);
  const Snapshot s = engine.snapshot();
  const QueueView& q = queue(s, "sales");
  const QueueCounters& c = today(q);

  // answered 3, abandoned 3 (1 short), timed out 1, key 1 -> offered 8
  CHECK(c.answered == 3);
  CHECK(c.abandoned == 3);
  CHECK(c.short_abandoned == 1);
  CHECK(c.timed_out == 1);
  CHECK(c.exited_key == 1);
  CHECK(c.exited_empty == 0);
  CHECK(c.offered() == 8);
  CHECK(c.answered_within_sl == 2);   // waits 10 and 20
  CHECK(c.abandoned_within_sl == 2);  // waits 3 and 5
  CHECK(*service_level(c, SlFormula::answered) == Approx(2.0 / 3.0));
  CHECK(*service_level(c, SlFormula::offered) == Approx(2.0 / 7.0));          // 2 / (8 - 1)
  CHECK(*service_level(c, SlFormula::abandons_positive) == Approx(3.0 / 7.0)); // (2+2-1)/7
  CHECK(*service_level(c, SlFormula::abandons_ignored) == Approx(0.4));       // 2 / (8 - 3)
  CHECK(*asa(c) == Approx(20.0));            // (10 + 20 + 30) / 3
  CHECK(*aht(c) == Approx(90.0));            // (60 + 120) / 2
  CHECK(*max_wait(c) == Approx(60.0));       // the timeout
  CHECK(*abandon_rate(c) == Approx(3.0 / 8.0));
  CHECK(c.arrivals == 9);

  CHECK(q.calls_waiting == 1);
  CHECK(q.longest_wait == Approx(130.0));    // c9 entered at t0+70, now t0+200

  // The same counters in the current interval (all in 08:00-08:15) and the sliding windows.
  const auto& iv = q.windows[int(WindowKind::interval)];
  CHECK(iv.counters.offered() == 8);
  CHECK(iv.since == Approx(t0));
  CHECK(q.windows[int(WindowKind::sliding_15m)].counters.offered() == 8);
  CHECK(q.windows[int(WindowKind::sliding_1h)].counters.answered == 3);

  // Agents in sales now: A1 available, A2 paused, A3 on call.
  CHECK(q.agents[int(AgentState::available)] == 1);
  CHECK(q.agents[int(AgentState::paused)] == 1);
  CHECK(q.agents[int(AgentState::on_call)] == 1);

  // A2: available 0-25 and 85-90 (30 s), on call 25-85 (60 s), paused 90-200 (110 s, 午饭).
  const AgentView& a2 = agent(s, "A2");
  CHECK(a2.state == AgentState::paused);
  CHECK(a2.pause_reason == "午饭");
  CHECK(a2.today.answered == 1);
  CHECK(a2.today.talk_seconds == Approx(60));
  CHECK(a2.today.state_seconds[int(AgentState::available)] == Approx(30));
  CHECK(a2.today.state_seconds[int(AgentState::on_call)] == Approx(60));
  CHECK(a2.today.paused_seconds() == Approx(110));
  CHECK(a2.today.paused_by_reason.at("午饭") == Approx(110));
  CHECK(*occupancy(a2.today) == Approx(60.0 / 90.0));

  // Histograms: answer waits 10, 20, 30 -> bucket le=20 holds 2 (<=), sum 60.
  CHECK(q.answer_wait.count == 3);
  CHECK(q.answer_wait.sum == Approx(60));
  CHECK(q.abandon_wait.count == 3);
  CHECK(q.handle.count == 2);
  CHECK(q.total.offered() == 8);
}

TEST_CASE("a visit counts in the interval of its outcome, not its entry", "[metrics][engine]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  // Enters 08:14:50, answered 08:15:10 (wait 20): counted in 08:15-08:30 only.
  f.enqueue(t0 + 890, "x", "sales");
  f.answer(t0 + 910, "x", "sales", "A1");
  engine.advance_to(t0 + 1800);  // closes 08:15-08:30
  const auto& closed = engine.closed_intervals();
  REQUIRE(closed.size() == 2);  // 08:00 (an arrival, no outcome) and 08:15
  CHECK(closed[0].start == Approx(t0));
  CHECK(closed[0].counters.offered() == 0);
  CHECK(closed[0].counters.arrivals == 1);
  CHECK(closed[1].start == Approx(t0 + 900));
  CHECK(closed[1].counters.answered == 1);
  CHECK(closed[1].counters.answered_within_sl == 1);
  // The current interval (08:30) is empty; the previous is the one with the answer.
  const auto s = engine.snapshot();
  const auto& q = queue(s, "sales");
  CHECK(q.windows[int(WindowKind::interval)].counters.offered() == 0);
  REQUIRE(q.previous_interval);
  CHECK(q.previous_interval->counters.answered == 1);
  CHECK(today(q).answered == 1);
}

TEST_CASE("a stated wait wins over timestamps", "[metrics][engine]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.enqueue(t0, "x", "q");
  f.answer(t0 + 30, "x", "q", "A", 12);  // the feed says 12 s (e.g. queue_log holdtime)
  const auto c = today(queue(engine.snapshot(), "q"));
  CHECK(c.answer_wait_sum == Approx(12));
  CHECK(c.answered_within_sl == 1);
}

TEST_CASE("an outcome whose entry precedes the input still counts", "[metrics][engine]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.answer(t0, "early", "q", "A", 25);   // stated wait: counts everywhere
  f.abandon(t0 + 1, "early2", "q");      // no wait: counted, but in no wait-based figure
  const auto c = today(queue(engine.snapshot(), "q"));
  CHECK(c.answered == 1);
  CHECK(c.answered_within_sl == 0);      // 25 > 20
  CHECK(c.abandoned == 1);
  CHECK(c.short_abandoned == 0);
  CHECK(c.abandoned_within_sl == 0);
  CHECK(c.no_wait_outcomes == 1);
  CHECK(c.offered() == 2);
  CHECK(*max_wait(c) == Approx(25));
  CHECK(engine.data_quality().warning_counts.at("unknown_wait") == 1);
}

TEST_CASE("a second outcome for a visit is ignored and warned", "[metrics][engine]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.enqueue(t0, "x", "q");
  CHECK(f.answer(t0 + 5, "x", "q", "A") == ApplyResult::applied);
  CHECK(f.abandon(t0 + 6, "x", "q") == ApplyResult::ignored_duplicate);
  CHECK(f.end(t0 + 60, "x", "A") == ApplyResult::applied);
  CHECK(f.end(t0 + 61, "x", "A") == ApplyResult::ignored_duplicate);
  const auto c = today(queue(engine.snapshot(), "q"));
  CHECK(c.offered() == 1);
  CHECK(c.handled == 1);
  CHECK(c.handle_sum == Approx(55));
}

TEST_CASE("call ids are strings: .1 and .10 are different calls", "[metrics][engine]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.enqueue(t0, "1767600000.1", "q");
  f.enqueue(t0, "1767600000.10", "q");
  f.answer(t0 + 3, "1767600000.1", "q", "A");
  const auto q = queue(engine.snapshot(), "q");
  CHECK(q.calls_waiting == 1);
  CHECK(today(q).answered == 1);
}

TEST_CASE("re-entering a queue after a timeout starts a new visit", "[metrics][engine]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.enqueue(t0, "x", "q");
  f.exit(t0 + 60, "x", "q", ExitReason::timeout);
  f.enqueue(t0 + 61, "x", "q");
  f.answer(t0 + 71, "x", "q", "A");  // second visit: wait 10
  const auto c = today(queue(engine.snapshot(), "q"));
  CHECK(c.timed_out == 1);
  CHECK(c.answered == 1);
  CHECK(c.answered_within_sl == 1);
  CHECK(c.offered() == 2);
}

TEST_CASE("a PBX restart cuts open visits: not offered, and flagged", "[metrics][engine]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.enqueue(t0, "a", "q");
  f.enqueue(t0 + 1, "b", "q");
  f.answer(t0 + 4, "a", "q", "A");
  f.restart(t0 + 10);
  const auto s = engine.snapshot();
  const auto& q = queue(s, "q");
  CHECK(q.calls_waiting == 0);
  CHECK(today(q).offered() == 1);
  CHECK(q.data_gap);
  CHECK(s.data_quality.restarts == 1);
  CHECK(s.data_quality.visits_cut == 1);
  // The cut visit cannot get an outcome afterwards.
  CHECK(f.abandon(t0 + 20, "b", "q") == ApplyResult::ignored_duplicate);
}

TEST_CASE("ring-no-answer: zero ring time is a refusal, three offers are a bounce",
          "[metrics][engine]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.enqueue(t0, "x", "q");
  f.ring_noanswer(t0 + 15, "x", "q", "A", 15000);
  f.ring_noanswer(t0 + 15, "x", "q", "B", 0);      // device refused: not an offer
  f.ring_noanswer(t0 + 30, "x", "q", "C", 15000);
  f.answer(t0 + 40, "x", "q", "D");                // A, C, D: three agents -> bounced
  f.enqueue(t0 + 50, "y", "q");
  f.ring_noanswer(t0 + 60, "y", "q", "A", 10000);
  f.answer(t0 + 65, "y", "q", "B");                // two agents: not bounced
  const auto s = engine.snapshot();
  const auto c = today(queue(s, "q"));
  CHECK(c.ring_noanswer == 3);
  CHECK(c.bounced == 1);
  CHECK(agent(s, "A").today.ring_noanswer == 2);
  CHECK(agent(s, "B").today.ring_noanswer == 0);
  CHECK(agent(s, "B").today.ring_refused == 1);
}

TEST_CASE("pause rules: per-queue pauses overlap, reasons split, unpause everywhere ends",
          "[metrics][engine][agents]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.state(t0, "A", AgentState::available, {"q1", "q2"});
  f.state(t0 + 100, "A", AgentState::paused, {"q1"}, "Break");   // pause starts
  f.state(t0 + 100, "A", AgentState::paused, {}, "Break");       // PAUSEALL beside it: same span
  f.state(t0 + 100, "A", AgentState::paused, {"q2"}, "Break");
  f.state(t0 + 160, "A", AgentState::paused, {"q1"}, "培训");    // new reason, span goes on
  f.state(t0 + 200, "A", AgentState::available, {"q1"});         // still paused in q2
  auto s = engine.snapshot();
  CHECK(agent(s, "A").state == AgentState::paused);
  f.state(t0 + 250, "A", AgentState::available, {});             // unpaused everywhere
  f.state(t0 + 300, "A", AgentState::available, {});             // unpause with no pause: nothing
  engine.advance_to(t0 + 400);
  s = engine.snapshot();
  const auto& a = agent(s, "A");
  CHECK(a.state == AgentState::available);
  // paused 100..250 = 150 s: Break 100..160 (60), 培训 160..250 (90)
  CHECK(a.today.paused_seconds() == Approx(150));
  CHECK(a.today.paused_by_reason.at("Break") == Approx(60));
  CHECK(a.today.paused_by_reason.at("培训") == Approx(90));
  // available 0..100 and 250..400 = 250
  CHECK(a.today.state_seconds[int(AgentState::available)] == Approx(250));
}

TEST_CASE("joining a queue paused starts a pause, leaving it ends the pause",
          "[metrics][engine][agents]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.state(t0, "A", AgentState::available, {"q1"});
  f.state(t0 + 10, "A", AgentState::paused, {"q2"}, "");      // ADDMEMBER q2 PAUSED
  f.state(t0 + 70, "A", AgentState::logged_out, {"q2"});      // REMOVEMEMBER q2
  engine.finish(t0 + 100);
  const auto s = engine.snapshot();
  const auto& a = agent(s, "A");
  CHECK(a.state == AgentState::available);
  CHECK(a.today.paused_seconds() == Approx(60));
  CHECK(a.queues == std::vector<std::string>{"q1"});
  // q1 sees the agent available; q2 no longer lists it.
  CHECK(queue(s, "q1").agents[int(AgentState::available)] == 1);
  int in_q2 = 0;
  for (int v : queue(s, "q2").agents) in_q2 += v;
  CHECK(in_q2 == 0);
}

TEST_CASE("a pause open at the end of a replay counts up to the last timestamp",
          "[metrics][engine][agents]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.state(t0, "A", AgentState::paused, {"q"}, "Break");
  f.enqueue(t0 + 500, "x", "q");
  engine.finish(t0 + 500);
  CHECK(agent(engine.snapshot(), "A").today.paused_seconds() == Approx(500));
}

TEST_CASE("today resets at the configured day start in the configured zone", "[metrics][engine]") {
  EngineSettings st;
  st.tz = TimeZone::fixed(8 * 3600, "Asia/Shanghai");  // local midnight = 16:00 UTC
  Engine engine(st);
  Feed f(engine);
  // 2026-01-05 15:59:00 UTC = 23:59 local; answered at 16:00:30 UTC = 00:00:30 next local day.
  const double before = 1767628740;
  f.enqueue(before, "a", "q");
  f.answer(before + 10, "a", "q", "A");   // 23:59:10 local: yesterday
  f.enqueue(before + 60, "b", "q");
  f.answer(before + 90, "b", "q", "A");   // 00:00:30 local: today
  const auto s = engine.snapshot();
  CHECK(s.day_start == Approx(1767628800));  // 2026-01-05 16:00:00 UTC
  const auto& q = queue(s, "q");
  CHECK(today(q).answered == 1);
  CHECK(q.total.answered == 2);
  CHECK(q.windows[int(WindowKind::today)].since == Approx(1767628800));
}

TEST_CASE("hourly intervals align to local hours in a half-hour zone", "[metrics][engine]") {
  EngineSettings st;
  st.tz = TimeZone::fixed(5 * 3600 + 1800, "Asia/Kolkata");
  st.interval_minutes = 60;
  Engine engine(st);
  Feed f(engine);
  // t0 = 08:00 UTC = 13:30 local: the local hour 13:00-14:00 began at 07:30 UTC.
  f.enqueue(t0, "a", "q");
  CHECK(engine.snapshot().interval_start == Approx(t0 - 1800));
  f.abandon(t0 + 1800, "a", "q");  // 14:00 local: the next interval
  REQUIRE(engine.closed_intervals().size() == 1);
  CHECK(engine.closed_intervals()[0].start == Approx(t0 - 1800));
  CHECK(engine.closed_intervals()[0].end == Approx(t0 + 1800));
}

// A PBX clock 16 s ahead of ours: the first events are within the 5 s tolerance and keep their
// times, later ones are clamped. By hand: c1 enters at +2 and is answered at +5 (clock at +0,
// both kept); its end at +20 arrives when our clock says +4: clamped, but to +5 (the feed's newest
// time), not +4, so it ends after its answer. c2 likewise. Both handled, ann available after.
TEST_CASE("live mode: a PBX clock ahead by more than the tolerance keeps each call's order",
          "[metrics][engine]") {
  ManualClock clock(t0);
  Engine engine(EngineSettings{}, &clock);
  Feed f(engine);
  auto at = [&](double t) {  // the event arrives when our clock is 16 s behind its time
    clock.set(std::max(clock.now(), t - 16));
    return t;
  };
  f.state(at(t0 + 1), "ann", AgentState::available, {"sales"});
  f.enqueue(at(t0 + 2), "c1", "sales");
  f.answer(at(t0 + 5), "c1", "sales", "ann");
  f.end(at(t0 + 20), "c1", "ann");
  f.enqueue(at(t0 + 30), "c2", "sales");
  f.answer(at(t0 + 35), "c2", "sales", "ann");
  f.end(at(t0 + 50), "c2", "ann");
  const auto s = engine.snapshot();
  const auto& today = s.queues[0].windows[static_cast<std::size_t>(WindowKind::today)].counters;
  CHECK(today.answered == 2);
  CHECK(today.handled == 2);
  // Skewed (more than 5 s ahead): c1's end (+20 at +4), c2's entry (+30 at +14), answer (+35 at
  // +19) and end (+50 at +34): 4.
  CHECK(s.data_quality.clock_skew == 4);
  REQUIRE(s.agents.size() == 1);
  CHECK(s.agents[0].state != AgentState::on_call);
}

TEST_CASE("live mode: an event from the future is clamped and counted as skew",
          "[metrics][engine]") {
  ManualClock clock(t0);
  Engine engine(EngineSettings{}, &clock);
  Feed f(engine);
  f.enqueue(t0 + 3600, "x", "q");  // an hour ahead of our clock
  const auto s = engine.snapshot();
  CHECK(s.data_quality.clock_skew == 1);
  CHECK(s.now == Approx(t0));
  clock.set(t0 + 100);
  engine.advance_to(clock.now());
  CHECK(engine.snapshot().now == Approx(t0 + 100));
}

TEST_CASE("sliding windows forget what is older than their span", "[metrics][engine]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.enqueue(t0, "a", "q");
  f.answer(t0 + 5, "a", "q", "A");
  engine.advance_to(t0 + 20 * 60);  // 20 minutes later
  const auto q = queue(engine.snapshot(), "q");
  CHECK(q.windows[int(WindowKind::sliding_15m)].counters.answered == 0);
  CHECK(q.windows[int(WindowKind::sliding_1h)].counters.answered == 1);
  CHECK(today(q).answered == 1);
}

TEST_CASE("agents required follows the measured load", "[metrics][engine]") {
  EngineSettings st;
  st.queue_defaults.erlang_aht = 180;
  Engine engine(st);
  Feed f(engine);
  // 50 arrivals in the last 15 minutes: 50/900 per s, AHT 180 -> A = 10, as in the Erlang test:
  // 14 agents for 80 % in 20 s.
  f.state(t0, "A", AgentState::available, {"q"});
  for (int i = 0; i < 50; ++i) f.enqueue(t0 + i * 18, "c" + std::to_string(i), "q");
  engine.advance_to(t0 + 899);
  const auto q = queue(engine.snapshot(), "q");
  // The engine has seen 899 s of data: the rate is over the time covered, 50 / 899 per s.
  CHECK(q.arrival_rate == Approx(50.0 / 899.0));
  REQUIRE(q.agents_required);
  CHECK(*q.agents_required == 14);
}

TEST_CASE("a call transferred to another queue completes once per answered leg",
          "[metrics][engine]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.enqueue(t0, "x", "sales");
  f.answer(t0 + 10, "x", "sales", "A");   // leg 1 answered
  f.end(t0 + 70, "x", "A");               // talk 60 in sales
  f.enqueue(t0 + 71, "x", "billing");     // transferred into billing
  f.answer(t0 + 81, "x", "billing", "B"); // leg 2 answered, wait 10
  CHECK(f.end(t0 + 201, "x", "B") == ApplyResult::applied);         // talk 120 in billing
  CHECK(f.end(t0 + 202, "x", "B") == ApplyResult::ignored_duplicate);
  const auto s = engine.snapshot();
  CHECK(today(queue(s, "sales")).handle_sum == Approx(60));
  CHECK(today(queue(s, "billing")).handle_sum == Approx(120));
  CHECK(today(queue(s, "billing")).answered_within_sl == 1);
  CHECK(agent(s, "B").today.talk_seconds == Approx(120));
}

TEST_CASE("finished calls are kept small until their day closes, calls in talk and waiting callers whole",
          "[metrics][engine]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.enqueue(t0, "done", "q");
  f.abandon(t0 + 5, "done", "q");          // finished at t0+5
  f.enqueue(t0 + 10, "talk", "q");
  f.answer(t0 + 12, "talk", "q", "A");     // a long call, still in talk
  f.enqueue(t0 + 20, "wait", "q");         // still waiting
  engine.advance_to(t0 + 3600);            // an hour later: the prune has run
  // A repeated outcome of the finished call is a duplicate however late (METRICS.md "Event time,
  // order and repeats"); the talking call still completes once with its talk time, and the
  // waiting caller still waits.
  CHECK(f.abandon(t0 + 3601, "done", "q") == ApplyResult::ignored_duplicate);
  CHECK(f.enqueue(t0 + 3602, "done", "q") == ApplyResult::ignored_duplicate);
  CHECK(f.end(t0 + 3612, "talk", "A") == ApplyResult::applied);
  const auto s = engine.snapshot();
  const auto& q = queue(s, "q");
  CHECK(q.calls_waiting == 1);
  CHECK(q.longest_wait == Approx(3612 - 20));
  CHECK(q.total.handle_sum == Approx(3600));  // 3612 - 12
}

TEST_CASE("a caller waiting for hours lost its outcome: closed, flagged, not offered",
          "[metrics][engine]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.enqueue(t0, "lost", "q");
  engine.advance_to(t0 + 7 * 3600);
  const auto s = engine.snapshot();
  CHECK(queue(s, "q").calls_waiting == 0);
  CHECK(queue(s, "q").total.offered() == 0);
  CHECK(s.data_quality.warning_counts.at("stale_visit") == 1);
}

TEST_CASE("time in state runs across interval closes; the split is only for accounting",
          "[metrics][engine][agents]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.state(t0 + 300, "A", AgentState::paused, {"q"}, "Break");  // 08:05
  engine.advance_to(t0 + 1200);                                // 08:20: 08:00-08:15 closed
  const auto s = engine.snapshot();
  const auto& a = agent(s, "A");
  CHECK(a.state_since == Approx(t0 + 300));                    // still paused since 08:05
  CHECK(a.today.paused_seconds() == Approx(900));              // 08:05-08:20
  CHECK(a.interval.paused_seconds() == Approx(300));           // 08:15-08:20 only
}

TEST_CASE("a declared queue is listed before its first event, with no data", "[metrics][engine]") {
  EngineSettings st;
  st.queues["vip"].display_name = "VIP客户";
  Engine engine(st);
  engine.declare_queue("vip");
  engine.declare_queue("vip");  // idempotent
  const auto s = engine.snapshot();
  REQUIRE(s.queues.size() == 1);
  CHECK(s.queues[0].settings.display_name == "VIP客户");
  CHECK(s.queues[0].calls_waiting == 0);
  CHECK_FALSE(service_level(today(s.queues[0]), SlFormula::offered));
}
