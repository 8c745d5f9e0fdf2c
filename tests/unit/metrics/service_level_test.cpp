#include <catch2/catch.hpp>

#include "callwatch/metrics/stats.hpp"

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
