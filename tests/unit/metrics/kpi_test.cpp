#include <catch2/catch.hpp>

#include <cmath>

#include "callwatch/metrics/kpi.hpp"

using namespace callwatch::metrics;
using Catch::Detail::Approx;

namespace {
// 10 answered (8 within T), 4 abandoned (2 within T, 1 of them short), 1 timed out, 1 key exit.
QueueCounters sample() {
  QueueCounters c;
  c.answered = 10;
  c.answered_within_sl = 8;
  c.abandoned = 4;
  c.abandoned_within_sl = 2;
  c.short_abandoned = 1;
  c.timed_out = 1;
  c.exited_key = 1;
  c.answered_with_wait = 10;
  c.answer_wait_sum = 150;
  c.handled = 4;
  c.handle_sum = 800;
  return c;
}
}  // namespace

TEST_CASE("offered is the sum of the five outcomes, transfers excluded", "[metrics][sl]") {
  QueueCounters c = sample();
  c.transferred_out = 3;
  c.exited_empty = 2;
  // 10 + 4 + 1 + 2 + 1 = 18
  CHECK(c.offered() == 18);
}

TEST_CASE("the four service-level formulas side by side", "[metrics][sl]") {
  const QueueCounters c = sample();  // offered = 10 + 4 + 1 + 0 + 1 = 16
  // answered: A_T / answered = 8 / 10
  CHECK(*service_level(c, SlFormula::answered) == Approx(0.8));
  // offered: A_T / (offered - short) = 8 / 15
  CHECK(*service_level(c, SlFormula::offered) == Approx(8.0 / 15.0));
  // abandons positive: (A_T + Ab_T - short) / (offered - short) = (8 + 2 - 1) / 15 = 9/15
  CHECK(*service_level(c, SlFormula::abandons_positive) == Approx(0.6));
  // abandons ignored: A_T / (offered - abandoned) = 8 / 12
  CHECK(*service_level(c, SlFormula::abandons_ignored) == Approx(8.0 / 12.0));
}

TEST_CASE("a zero denominator is no data, never 0 and never 1", "[metrics][sl]") {
  QueueCounters empty;
  for (int f = 0; f < kSlFormulaCount; ++f) CHECK_FALSE(service_level(empty, SlFormula(f)));
  CHECK_FALSE(asa(empty));
  CHECK_FALSE(aht(empty));
  CHECK_FALSE(abandon_rate(empty));
  CHECK_FALSE(max_wait(empty));

  // Only short abandons: offered - short = 0 for three formulas; answered has 0 answered.
  QueueCounters shorts;
  shorts.abandoned = 2;
  shorts.short_abandoned = 2;
  shorts.abandoned_within_sl = 2;
  CHECK_FALSE(service_level(shorts, SlFormula::offered));
  CHECK_FALSE(service_level(shorts, SlFormula::abandons_positive));
  CHECK_FALSE(service_level(shorts, SlFormula::answered));
  // abandons ignored: offered - abandoned = 0
  CHECK_FALSE(service_level(shorts, SlFormula::abandons_ignored));
  // abandon rate 2/2, excluding short 0/0 -> no data
  CHECK(*abandon_rate(shorts) == Approx(1.0));
  CHECK_FALSE(abandon_rate_excl_short(shorts));
}

TEST_CASE("ASA, AHT and abandon rates", "[metrics][sl]") {
  const QueueCounters c = sample();
  CHECK(*asa(c) == Approx(15.0));          // 150 / 10
  CHECK(*aht(c) == Approx(200.0));         // 800 / 4
  CHECK(*abandon_rate(c) == Approx(0.25)); // 4 / 16
  // (4 - 1) / (16 - 1) = 0.2
  CHECK(*abandon_rate_excl_short(c) == Approx(0.2));
}

TEST_CASE("formula names round-trip", "[metrics][sl]") {
  for (auto name : {"answered", "offered", "abandons_positive", "abandons_ignored"}) {
    SlFormula f;
    REQUIRE(parse_sl_formula(name, f));
    CHECK(to_string(f) == name);
  }
  SlFormula f;
  CHECK_FALSE(parse_sl_formula("Offered", f));
}

TEST_CASE("occupancy and utilization exclude pause from the busy share", "[metrics][agents]") {
  AgentCounters a;
  a.state_seconds[int(AgentState::on_call)] = 600;
  a.state_seconds[int(AgentState::wrap_up)] = 120;
  a.state_seconds[int(AgentState::available)] = 240;
  a.state_seconds[int(AgentState::ringing)] = 40;
  a.state_seconds[int(AgentState::paused)] = 1000;
  a.state_seconds[int(AgentState::logged_out)] = 5000;
  // occupancy = (600 + 120) / (600 + 120 + 240 + 40) = 720 / 1000
  CHECK(*occupancy(a) == Approx(0.72));
  // utilization = 720 / logged in (600 + 120 + 240 + 40 + 1000) = 720 / 2000
  CHECK(*utilization(a) == Approx(0.36));
  CHECK(a.logged_in_seconds() == Approx(2000));
}

TEST_CASE("agent AHT is talk + hold + wrap-up over the agent's handled calls", "[metrics][agents]") {
  AgentCounters a;
  a.answered = 4;  // the fourth call is still in talk: answered, not yet handled
  a.handled = 3;
  a.talk_seconds = 230;
  a.hold_seconds = 10;
  a.wrap_seconds = 20;
  // (230 + 10 + 20) / 3 = 86.67 s; talk over answered would say 230 / 4 = 57.5 s
  CHECK(*agent_aht(a) == Approx(260.0 / 3));
  a.handled = 0;
  CHECK_FALSE(agent_aht(a));  // no completed call: no data, not 0
}

TEST_CASE("staffed counts members logged in and not paused; the gap is floored at 0",
          "[metrics][staffing]") {
  AgentsByState by{};
  by[int(AgentState::available)] = 2;
  by[int(AgentState::ringing)] = 1;
  by[int(AgentState::on_call)] = 4;
  by[int(AgentState::wrap_up)] = 1;
  by[int(AgentState::paused)] = 3;      // not staffed
  by[int(AgentState::logged_out)] = 5;  // not staffed
  CHECK(staffed(by) == 8);
  CHECK(*staffing_gap(11, 8) == 3);
  CHECK(*staffing_gap(6, 8) == 0);
  CHECK_FALSE(staffing_gap(std::nullopt, 8));
}

TEST_CASE("arrival rate divides by the span covered, at least a minute", "[metrics][staffing]") {
  CHECK(arrival_rate(90, 900) == Approx(0.1));
  CHECK(arrival_rate(3, 20) == Approx(3.0 / 60));  // 20 s after start: a minute's span
}

TEST_CASE("agents required: none without load, unknown without a handle time",
          "[metrics][staffing]") {
  QueueSettings q;  // T 20 s, target 0.80
  CHECK(*queue_agents_required(0, kNoValue, q) == 0);
  CHECK_FALSE(queue_agents_required(0.1, kNoValue, q));
  // 360 calls/h at 180 s AHT = 18 Erlangs; Erlang C for 80 % in 20 s: with 21 agents
  // P_wait = 0.3959 and SL = 1 - 0.3959 * exp(-3 * 20 / 180) = 0.7163; with 22, P_wait = 0.2781
  // and SL = 1 - 0.2781 * exp(-4 * 20 / 180) = 0.8217 >= 0.80: 22 agents.
  CHECK(*queue_agents_required(0.1, 180, q) == 22);
}

TEST_CASE("estimated wait of a caller joining now", "[metrics][staffing]") {
  // 4 staffed, AHT 120 s: a completion every 30 s on average when all four are busy.
  CHECK(estimated_wait(0, 1, 4, 120) == 0);             // a free agent takes the new caller
  CHECK(estimated_wait(2, 3, 4, 120) == 0);             // 3 free for 2 waiting + the new one
  CHECK(estimated_wait(0, 0, 4, 120) == Approx(30));    // all busy: wait for one completion
  CHECK(estimated_wait(3, 0, 4, 120) == Approx(120));   // (3 + 1) * 120 / 4
  CHECK(estimated_wait(5, 2, 4, 120) == Approx(120));   // 3 ahead not taken: (3 + 1) * 30
  CHECK(std::isnan(estimated_wait(3, 0, 0, 120)));      // nobody staffed: no estimate
  CHECK(std::isnan(estimated_wait(3, 0, 4, kNoValue)));  // no handle time yet
}

TEST_CASE("surge compares the last 5 minutes with the forecast or the rest of the hour",
          "[metrics][surge]") {
  SurgeInputs in;
  in.arrivals_5m = 30;
  in.span_5m = 300;
  in.running_seconds = 3600;
  in.forecast_per_interval = 45;  // 45 per 15 min = 15 per 5 min
  CHECK(surge_expected(in) == Approx(15));
  CHECK(surge_ratio(in) == Approx(2.0));
  in.running_seconds = 120;  // at start-up the expectation stays a full 5 minutes' worth
  in.span_5m = 120;
  CHECK(surge_expected(in) == Approx(15));
  // No forecast: 55 minutes before the last 5 had 110 calls = 2 per minute, 10 per 5 minutes.
  in.forecast_per_interval = 0;
  in.running_seconds = 3600;
  in.span_5m = 300;
  in.arrivals_1h = 140;
  in.span_1h = 3600;
  CHECK(surge_expected(in) == Approx(10));
  CHECK(surge_ratio(in) == Approx(3.0));
  in.running_seconds = 30 * 60;  // under 35 minutes: no baseline yet
  CHECK(std::isnan(surge_ratio(in)));
}

TEST_CASE("the service-level denominator is the one each formula divides by", "[metrics][sl]") {
  const QueueCounters c = sample();  // offered 16, 1 short abandon, 4 abandoned, 10 answered
  CHECK(service_level_denominator(c, SlFormula::answered) == 10);
  CHECK(service_level_denominator(c, SlFormula::offered) == 15);
  CHECK(service_level_denominator(c, SlFormula::abandons_positive) == 15);
  CHECK(service_level_denominator(c, SlFormula::abandons_ignored) == 12);
}

TEST_CASE("counters merge by their table: sums add, the maximum wait takes the larger",
          "[metrics][counters]") {
  QueueCounters a = sample(), b = sample();
  a.max_wait = 40;
  b.max_wait = 95;
  b.bounced = 2;
  a.add(b);
  CHECK(a.answered == 20);
  CHECK(a.bounced == 2);
  CHECK(a.answer_wait_sum == 300);
  CHECK(a.max_wait == 95);
  QueueCounters none;  // no wait known on one side: the other side's maximum stands
  none.add(b);
  CHECK(none.max_wait == 95);
  CHECK(none == b);
  CHECK_FALSE(none == a);
  AgentCounters x, y;
  y.handled = 2;
  y.wrap_seconds = 30;
  y.paused_by_reason["lunch"] = 60;
  x.add(y);
  x.add(y);
  CHECK(x.handled == 4);
  CHECK(x.wrap_seconds == 60);
  CHECK(x.paused_by_reason["lunch"] == 120);
}
