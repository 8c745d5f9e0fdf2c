#include <catch2/catch.hpp>

#include "callwatch/metrics/alerts.hpp"
#include "callwatch/metrics/erlang.hpp"
#include "test_events.hpp"

using namespace callwatch::metrics;
using Catch::Detail::Approx;

namespace {
Snapshot one_queue(double longest_wait, int waiting = 1) {
  Snapshot s;
  QueueView q;
  q.name = "sales";
  q.settings.display_name = "销售 Sales";
  q.longest_wait = longest_wait;
  q.calls_waiting = waiting;
  s.queues.push_back(q);
  return s;
}
AlertRule wait_rule() {
  AlertRule r;
  r.name = "long_wait";
  r.metric = AlertMetric::longest_wait;
  r.above = true;
  r.threshold = 60;
  r.clear = 45;
  r.for_seconds = 30;
  r.severity = AlertSeverity::critical;
  return r;
}
AlertState state_of(const AlertEvaluator& ev) { return ev.alerts().at(0).state; }
}  // namespace

TEST_CASE("an alert fires only after its for-duration", "[metrics][alerts]") {
  AlertEvaluator ev({wait_rule()});
  const double t = 1000;
  ev.evaluate(one_queue(50), t);
  CHECK(state_of(ev) == AlertState::inactive);
  ev.evaluate(one_queue(61), t + 1);
  CHECK(state_of(ev) == AlertState::pending);
  ev.evaluate(one_queue(80), t + 30);  // 29 s pending < 30 s
  CHECK(state_of(ev) == AlertState::pending);
  const auto tr = ev.evaluate(one_queue(90), t + 31);  // 30 s pending: fires
  CHECK(state_of(ev) == AlertState::firing);
  REQUIRE(tr.size() == 1);
  CHECK(tr[0].from == AlertState::pending);
  CHECK(tr[0].to == AlertState::firing);
  CHECK(tr[0].message.find("销售 Sales") != std::string::npos);
  CHECK(tr[0].message.find("90 s") != std::string::npos);
}

TEST_CASE("a blip shorter than the for-duration never fires", "[metrics][alerts]") {
  AlertEvaluator ev({wait_rule()});
  ev.evaluate(one_queue(70), 0);
  ev.evaluate(one_queue(40), 10);  // back below the threshold before 30 s
  CHECK(state_of(ev) == AlertState::inactive);
  ev.evaluate(one_queue(70), 20);
  ev.evaluate(one_queue(70), 45);  // pending since 20: 25 s
  CHECK(state_of(ev) == AlertState::pending);
}

TEST_CASE("hysteresis: a value oscillating around the threshold does not flap",
          "[metrics][alerts]") {
  AlertEvaluator ev({wait_rule()});
  ev.evaluate(one_queue(70), 0);
  ev.evaluate(one_queue(70), 30);
  REQUIRE(state_of(ev) == AlertState::firing);
  // 58, 62, 55, 61, 50: all above the clear level 45 -> stays firing, one transition only.
  double t = 31;
  for (double v : {58.0, 62.0, 55.0, 61.0, 50.0, 46.0}) {
    CHECK(ev.evaluate(one_queue(v), t).empty());
    CHECK(state_of(ev) == AlertState::firing);
    t += 5;
  }
  const auto tr = ev.evaluate(one_queue(45), t);  // at the clear level: resolves (<=)
  REQUIRE(tr.size() == 1);
  CHECK(tr[0].to == AlertState::resolved);
  // Once resolved, a new crossing starts a new pending period.
  ev.evaluate(one_queue(61), t + 1);
  CHECK(state_of(ev) == AlertState::pending);
}

TEST_CASE("resolved alerts stay listed for a while, then go inactive", "[metrics][alerts]") {
  AlertRule r = wait_rule();
  r.for_seconds = 0;
  AlertEvaluator ev({r}, 300);
  ev.evaluate(one_queue(100), 0);
  CHECK(state_of(ev) == AlertState::firing);
  ev.evaluate(one_queue(10), 10);
  CHECK(state_of(ev) == AlertState::resolved);
  ev.evaluate(one_queue(10), 309);
  CHECK(state_of(ev) == AlertState::resolved);
  ev.evaluate(one_queue(10), 310);
  CHECK(state_of(ev) == AlertState::inactive);
  // history: firing, resolved, inactive
  CHECK(ev.history().size() == 3);
}

TEST_CASE("ack marks a firing alert and a new firing clears the ack", "[metrics][alerts]") {
  AlertRule r = wait_rule();
  r.for_seconds = 0;
  AlertEvaluator ev({r});
  CHECK_FALSE(ev.ack("long_wait/sales", "lead", 1, ""));  // unknown yet
  ev.evaluate(one_queue(100), 0);
  REQUIRE(ev.ack("long_wait/sales", "王芳", 5, "calling in two agents"));
  auto a = ev.alerts().at(0);
  CHECK(a.acked);
  CHECK(a.acked_by == "王芳");
  CHECK(a.ack_comment == "calling in two agents");
  CHECK(a.state == AlertState::firing);  // acked alerts stay listed until resolved
  ev.evaluate(one_queue(10), 10);        // resolved
  CHECK_FALSE(ev.ack("long_wait/sales", "x", 11, ""));
  ev.evaluate(one_queue(100), 20);       // fires again: not acked
  CHECK_FALSE(ev.alerts().at(0).acked);
}

TEST_CASE("no data neither fires nor resolves a service-level alert", "[metrics][alerts]") {
  AlertRule r;
  r.name = "sl_low";
  r.metric = AlertMetric::service_level;
  r.above = false;
  r.threshold = 0.7;
  r.clear = 0.75;
  r.window = WindowKind::today;
  AlertEvaluator ev({r});
  Snapshot s = one_queue(0);
  ev.evaluate(s, 0);  // no calls: no data
  CHECK(state_of(ev) == AlertState::inactive);
  // 6 answered of 10 offered, 5 within T: offered formula 5/10 = 0.5 < 0.7 -> firing
  auto& c = s.queues[0].windows[int(WindowKind::today)].counters;
  c.answered = 6;
  c.answered_within_sl = 5;
  c.abandoned = 4;
  ev.evaluate(s, 1);
  CHECK(state_of(ev) == AlertState::firing);
  c = QueueCounters{};  // day rolled over: no data
  ev.evaluate(s, 2);
  CHECK(state_of(ev) == AlertState::firing);
  c.answered = 4;
  c.answered_within_sl = 3;  // 3/4 = 0.75: at the clear level -> resolved (>=)
  ev.evaluate(s, 3);
  CHECK(state_of(ev) == AlertState::resolved);
}

TEST_CASE("a step change in arrivals raises a surge alert naming the extra agents",
          "[metrics][alerts]") {
  // Engine with a forecast of 30 calls per 15 minutes = 10 per 5 minutes; AHT 180 s.
  EngineSettings st;
  st.queue_defaults.forecast_per_interval = 30;
  st.queue_defaults.erlang_aht = 180;
  Engine engine(st);
  cwtest::Feed f(engine);
  const double t0 = 1767600000;
  for (int i = 0; i < 10; ++i) f.state(t0, "agent" + std::to_string(i), AgentState::available, {"sales"});
  // 60 calls in the 5 minutes t0+600..t0+900: 6x the forecast rate.
  for (int i = 0; i < 60; ++i) f.enqueue(t0 + 600 + i * 5, "c" + std::to_string(i), "sales");
  engine.advance_to(t0 + 899);
  const auto snap = engine.snapshot();
  const auto& q = cwtest::queue(snap, "sales");
  CHECK(q.arrivals_5m == 60);
  // The 5-minute window is whole minutes up to now: t0+600..t0+899 = 299 s, for which the
  // forecast expects 30 x 299 / 900 = 9.9667 calls: ratio 60 / 9.9667 = 6.02.
  CHECK(q.surge_ratio == Approx(60.0 / (30.0 * 299.0 / 900.0)));
  // One staffing gap (METRICS.md): agents required at the Erlang window's measured rate minus
  // staffed. The 15-minute window covers the 899 s since start: 60 / 899 = 0.0667 calls/s x
  // 180 s = 12.01 Erlangs. Erlang C for 80 % in 20 s: 15 agents give P_wait 0.3212, SL 0.7695;
  // 16 give P_wait 0.2060, SL 0.8677: 16 required, 10 staffed, a gap of 6 - the same number as
  // agents_required - staffed on the boards and in /metrics.
  CHECK(*q.agents_required == 16);
  CHECK(q.staffed == 10);
  const auto extra = surge_agents_needed(q);
  REQUIRE(extra);
  CHECK(*extra == 6);
  CHECK(*q.staffing_gap == 6);
  const int need = 16;

  AlertRule r;
  r.name = "surge";
  r.metric = AlertMetric::surge_ratio;
  r.threshold = 1.5;
  r.clear = 1.2;
  r.severity = AlertSeverity::critical;
  AlertEvaluator ev({r});
  const auto tr = ev.evaluate(snap, t0 + 899);
  REQUIRE(tr.size() == 1);
  CHECK(tr[0].to == AlertState::firing);
  // In words, with the queue's staffing gap (the number the board shows beside it).
  CHECK(tr[0].message.find("calls arriving at ") != std::string::npos);
  CHECK(tr[0].message.find("; " + std::to_string(need - 10) + " more agents needed") != std::string::npos);
  CHECK(tr[0].message.find("surge_ratio") == std::string::npos);
  const auto views = ev.alerts();
  REQUIRE(views.size() == 1);
  const auto& v = views.front();
  CHECK(v.metric == "surge_ratio");
  CHECK(v.above);
  CHECK(v.threshold == 1.5);
  REQUIRE(v.agents_needed);
  CHECK(*v.agents_needed == need - 10);
}

TEST_CASE("feed_stale watches each feed's silence", "[metrics][alerts]") {
  AlertRule r;
  r.name = "feed_stale";
  r.metric = AlertMetric::feed_stale;
  r.threshold = 30;
  AlertEvaluator ev({r});
  Snapshot s;
  ev.evaluate(s, 100, {{"pbx1", 5}, {"pbx2", 31}});
  const auto alerts = ev.alerts();
  REQUIRE(alerts.size() == 2);
  CHECK(alerts[0].queue == "pbx2");
  CHECK(alerts[0].state == AlertState::firing);
  CHECK(alerts[1].state == AlertState::inactive);
}
