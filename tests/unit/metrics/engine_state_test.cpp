#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>
#include <iterator>

#include "test_events.hpp"

using namespace callwatch::metrics;
using namespace cwtest;
using Catch::Detail::Approx;

namespace {
constexpr double t0 = 1767600000;

void first_half(Feed& f) {
  f.state(t0, "王芳", AgentState::available, {"销售", "billing"});
  f.state(t0, "Ana Prueba", AgentState::available, {"billing"});
  f.enqueue(t0 + 1, "1767600000.1", "销售");
  f.enqueue(t0 + 2, "1767600000.10", "billing");
  f.answer(t0 + 12, "1767600000.1", "销售", "王芳");
  f.state(t0 + 30, "Ana Prueba", AgentState::paused, {}, "培训 training");
  f.enqueue(t0 + 40, "c3", "销售");
}
void second_half(Feed& f) {
  f.end(t0 + 1100, "1767600000.1", "王芳");                        // talk 1088
  f.answer(t0 + 1150, "1767600000.10", "billing", "王芳");         // wait 1148 across intervals
  f.abandon(t0 + 1200, "c3", "销售");                              // wait 1160
  f.state(t0 + 1300, "Ana Prueba", AgentState::available, {});
}
}  // namespace

TEST_CASE("state survives serialize and restore: the stream continues as if uninterrupted",
          "[metrics][engine][state]") {
  Engine whole(EngineSettings{});
  Feed fw(whole);
  first_half(fw);
  second_half(fw);
  whole.finish(t0 + 1400);

  Engine before(EngineSettings{});
  Feed fb(before);
  first_half(fb);
  const std::string state = before.serialize();

  Engine after(EngineSettings{});
  REQUIRE(after.restore(state));
  CHECK(after.serialize() == state);  // exact round trip
  Feed fa(after);
  second_half(fa);
  after.finish(t0 + 1400);

  const auto a = after.snapshot();
  CHECK(agent(whole.snapshot(), "Ana Prueba").today.paused_by_reason.at("培训 training") == Approx(1270));
  const auto w = whole.snapshot();
  REQUIRE(a.queues.size() == w.queues.size());
  for (std::size_t i = 0; i < a.queues.size(); ++i) {
    const auto& qa = a.queues[i];
    const auto& qw = w.queues[i];
    CHECK(qa.name == qw.name);
    CHECK(today(qa).offered() == today(qw).offered());
    CHECK(today(qa).answered_within_sl == today(qw).answered_within_sl);
    CHECK(today(qa).answer_wait_sum == Approx(today(qw).answer_wait_sum));
    CHECK(today(qa).handle_sum == Approx(today(qw).handle_sum));
    CHECK(qa.total.offered() == qw.total.offered());
    CHECK(qa.calls_waiting == qw.calls_waiting);
    CHECK(qa.answer_wait.count == qw.answer_wait.count);
  }
  // Hand-worked: 销售 answered 1 (wait 11) + abandoned 1 (wait 1160) = offered 2.
  CHECK(today(queue(a, "销售")).offered() == 2);
  CHECK(today(queue(a, "billing")).answered == 1);
  CHECK(today(queue(a, "billing")).answer_wait_sum == Approx(1148));
  // Ana paused 30..1300 = 1270 s, all with the reason "培训 training".
  CHECK(agent(a, "Ana Prueba").today.paused_by_reason.at("培训 training") == Approx(1270));
  CHECK(agent(a, "王芳").today.talk_seconds == Approx(1088));
  CHECK(after.closed_intervals().size() == whole.closed_intervals().size());
}

TEST_CASE("a corrupt state is refused and leaves the engine as it was", "[metrics][engine][state]") {
  Engine e(EngineSettings{});
  Feed f(e);
  first_half(f);
  const std::string good = e.serialize();
  Engine other(EngineSettings{});
  CHECK_FALSE(other.restore("not a state"));
  CHECK_FALSE(other.restore(good.substr(0, good.size() / 2)));
  CHECK_FALSE(other.restore(""));
  CHECK(other.snapshot().queues.empty());
}

TEST_CASE("a recorded gap flags today's numbers", "[metrics][engine][state]") {
  Engine e(EngineSettings{});
  Feed f(e);
  first_half(f);
  e.note_gap(t0 + 50, t0 + 400);
  const auto s = e.snapshot();
  CHECK(s.data_quality.gap);
  CHECK(queue(s, "销售").data_gap);
  CHECK(s.data_quality.warning_counts.at("gap") == 1);
}

TEST_CASE("a queue first seen after a recorded gap carries the flag until the next day",
          "[metrics][engine][state]") {
  // The daemon notes a lost state before any queue exists (start-up); the configured queues are
  // declared after it, others appear with their first event: all of today is incomplete.
  Engine e(EngineSettings{});
  e.note_gap(t0 - 3600, t0);
  e.declare_queue("sales");
  e.advance_to(t0);
  Event ev;
  ev.type = EventType::call_enqueued;
  ev.ts = t0 + 5;
  ev.call = "c1";
  ev.queue = "support";
  e.apply(ev);
  auto s = e.snapshot();
  CHECK(queue(s, "sales").data_gap);
  CHECK(queue(s, "support").data_gap);
  // The next day starts complete, and a queue new that day is not flagged.
  e.advance_to(s.day_start + 86400 + 60);
  ev.ts = s.day_start + 86400 + 70;
  ev.call = "c2";
  ev.queue = "billing";
  e.apply(ev);
  s = e.snapshot();
  CHECK_FALSE(queue(s, "sales").data_gap);
  CHECK_FALSE(queue(s, "billing").data_gap);
}

TEST_CASE("a state saved by a format-2 daemon restores, new counters starting at zero",
          "[metrics][engine][state]") {
  // tests/data/state/engine-state-v2.txt was written by the engine before the counter tables:
  // ana answered c1 at t0+11 after a 10 s wait and ended it at t0+101 (talk 90); c2 abandoned
  // after 30 s.
  std::ifstream in(std::string(CALLWATCH_TEST_DATA) + "/state/engine-state-v2.txt");
  REQUIRE(in);
  const std::string v2((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Engine e(EngineSettings{});
  REQUIRE(e.restore(v2));
  Feed f(e);
  f.enqueue(t0 + 200, "c3", "sales");
  f.answer(t0 + 205, "c3", "sales", "ana");
  f.end(t0 + 265, "c3", "ana");  // talk 60
  const auto s = e.snapshot();
  const auto& q = queue(s, "sales");
  CHECK(today(q).offered() == 3);
  CHECK(today(q).answered == 2);
  CHECK(today(q).abandoned == 1);
  CHECK(today(q).handle_sum == Approx(150));  // 90 + 60
  CHECK(*max_wait(today(q)) == Approx(30));
  const auto& a = agent(s, "ana");
  CHECK(a.today.answered == 2);
  CHECK(a.today.talk_seconds == Approx(150));
  CHECK(a.today.handled == 1);  // format 2 kept no handled count: only c3 is known
  CHECK(e.serialize().rfind("callwatch-engine-state 5", 0) == 0);
}

TEST_CASE("agent handle time takes the stated wrap-up once, never again from wrap_up time",
          "[metrics][engine][agents]") {
  EngineSettings st;
  st.wrap_up_after_call = true;
  Engine e(st);
  Feed f(e);
  f.state(t0, "ana", AgentState::available, {"sales"});
  f.enqueue(t0 + 1, "c1", "sales");
  f.answer(t0 + 6, "c1", "sales", "ana");
  f.end_stated(t0 + 106, "c1", "ana", 100, 0, 15);  // the feed states 15 s of after-call work
  f.state(t0 + 140, "ana", AgentState::available, {"sales"});  // 34 s in wrap_up: not added
  f.enqueue(t0 + 150, "c2", "sales");
  f.answer(t0 + 152, "c2", "sales", "ana");
  f.end(t0 + 182, "c2", "ana");  // talk 30, no wrap stated
  f.state(t0 + 202, "ana", AgentState::available, {"sales"});  // 20 s of wrap_up: timed
  const auto s = e.snapshot();
  const auto& a = agent(s, "ana");
  CHECK(a.today.handled == 2);
  CHECK(a.today.talk_seconds == Approx(130));
  CHECK(a.today.wrap_seconds == Approx(35));  // 15 stated + 20 timed
  // Agent AHT = (130 + 0 + 35) / 2 = 82.5 s, the same sum the queue's AHT is made of.
  CHECK(*agent_aht(a.today) == Approx(82.5));
  CHECK(*aht(today(queue(s, "sales"))) == Approx(82.5));
}

TEST_CASE("a queue's snapshot carries staffed, the staffing gap, estimated wait and occupancy",
          "[metrics][engine][staffing]") {
  EngineSettings st;
  st.queue_defaults.erlang_aht = 120;
  Engine e(st);
  Feed f(e);
  // Three members: ana and bo available, cy paused; two calls answered, three waiting.
  f.state(t0, "ana", AgentState::available, {"sales"});
  f.state(t0, "bo", AgentState::available, {"sales"});
  f.state(t0, "cy", AgentState::paused, {"sales"}, "lunch");
  for (int i = 0; i < 5; ++i) f.enqueue(t0 + 100 + i, "c" + std::to_string(i), "sales");
  f.answer(t0 + 110, "c0", "sales", "ana");
  f.answer(t0 + 110, "c1", "sales", "bo");
  e.advance_to(t0 + 200);
  const auto s = e.snapshot();
  const auto& q = queue(s, "sales");
  CHECK(q.calls_waiting == 3);
  CHECK(q.staffed == 2);  // ana and bo on call; cy paused is not staffed
  // All staffed agents busy, 3 callers ahead: (3 + 1) x 120 s / 2 = 240 s.
  CHECK(q.estimated_wait == Approx(240));
  // 5 arrivals over the 200 s since start = 0.025/s x 120 s = 3 Erlangs; Erlang C for 80 % in
  // 20 s: 4 agents give P_wait 0.5094 and SL 1 - 0.5094 exp(-20/120) = 0.5689; 5 give 0.2362 and
  // SL 1 - 0.2362 exp(-40/120) = 0.8307: 5 required, 2 staffed, a gap of 3.
  CHECK(*q.agents_required == 5);
  CHECK(*q.staffing_gap == 3);
  // Occupancy today: ana and bo each 110 s available then 90 s on call; cy paused (excluded):
  // (90 + 90) / (90 + 90 + 110 + 110) = 0.45.
  CHECK(*queue_occupancy(today(q)) == Approx(0.45));
  CHECK(*queue_occupancy(q.windows[int(WindowKind::interval)].counters) == Approx(0.45));
  CHECK(*queue_occupancy(q.windows[int(WindowKind::sliding_15m)].counters) == Approx(0.45));
  CHECK(*queue_occupancy(q.total) == Approx(0.45));
  // Utilization adds cy's 200 s of pause: 180 / (180 + 220 + 200) = 0.30.
  CHECK(*queue_utilization(today(q)) == Approx(0.30));
  CHECK(q.windows[int(WindowKind::sliding_1h)].counters.agent_busy_seconds == Approx(180));
}

TEST_CASE("a member's time lands in the sliding windows minute by minute", "[metrics][engine]") {
  Engine e(EngineSettings{});
  Feed f(e);
  f.state(t0, "ana", AgentState::available, {"sales"});  // t0 is on a minute (and 15 min) edge
  e.advance_to(t0 + 1800);  // two interval closes accrue t0..t0+900 and t0+900..t0+1800
  const auto s = e.snapshot();
  const auto& q = queue(s, "sales");
  // The 15-minute window is the current minute (t0+1800, empty so far) and the 14 before it:
  // t0+960..t0+1800 = 840 s of the agent's 1800 s available.
  CHECK(q.windows[int(WindowKind::sliding_15m)].counters.agent_idle_seconds == Approx(840));
  CHECK(q.windows[int(WindowKind::sliding_1h)].counters.agent_idle_seconds == Approx(1800));
  CHECK(today(q).agent_idle_seconds == Approx(1800));
  CHECK(q.windows[int(WindowKind::interval)].counters.agent_idle_seconds == 0);
  CHECK(q.previous_interval->counters.agent_idle_seconds == Approx(900));
  CHECK(*queue_occupancy(today(q)) == 0);  // idle all along: 0 busy over 1800 s, not "no data"
}
