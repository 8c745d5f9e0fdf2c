#include "callwatch/metrics/kpi.hpp"

#include <algorithm>
#include <cmath>

#include "callwatch/metrics/erlang.hpp"

namespace callwatch::metrics {

namespace {
std::optional<double> ratio(double num, double den) {
  if (den <= 0) return std::nullopt;
  return num / den;
}
double seconds_in(const AgentCounters& c, AgentState s) {
  return c.state_seconds[static_cast<std::size_t>(s)];
}
double busy_seconds(const AgentCounters& c) {
  return seconds_in(c, AgentState::on_call) + seconds_in(c, AgentState::wrap_up);
}
}  // namespace

double service_level_denominator(const QueueCounters& c, SlFormula f) {
  const double offered = static_cast<double>(c.offered());
  switch (f) {
    case SlFormula::answered: return static_cast<double>(c.answered);
    case SlFormula::offered:
    case SlFormula::abandons_positive: return offered - static_cast<double>(c.short_abandoned);
    case SlFormula::abandons_ignored: return offered - static_cast<double>(c.abandoned);
  }
  return 0;
}

std::optional<double> service_level(const QueueCounters& c, SlFormula f) {
  double num = static_cast<double>(c.answered_within_sl);
  if (f == SlFormula::abandons_positive) {
    // Short abandons all lie inside Ab_T (S <= T): they leave numerator and denominator alike.
    num += static_cast<double>(c.abandoned_within_sl - c.short_abandoned);
  }
  return ratio(num, service_level_denominator(c, f));
}

std::optional<double> asa(const QueueCounters& c) {
  return ratio(c.answer_wait_sum, static_cast<double>(c.answered_with_wait));
}
std::optional<double> aht(const QueueCounters& c) {
  return ratio(c.handle_sum, static_cast<double>(c.handled));
}
std::optional<double> abandon_rate(const QueueCounters& c) {
  return ratio(static_cast<double>(c.abandoned), static_cast<double>(c.offered()));
}
std::optional<double> abandon_rate_excl_short(const QueueCounters& c) {
  return ratio(static_cast<double>(c.abandoned - c.short_abandoned),
               static_cast<double>(c.offered() - c.short_abandoned));
}
std::optional<double> max_wait(const QueueCounters& c) {
  if (!has_value(c.max_wait)) return std::nullopt;
  return c.max_wait;
}

std::optional<double> queue_occupancy(const QueueCounters& c) {
  return ratio(c.agent_busy_seconds, c.agent_busy_seconds + c.agent_idle_seconds);
}
std::optional<double> queue_utilization(const QueueCounters& c) {
  return ratio(c.agent_busy_seconds,
               c.agent_busy_seconds + c.agent_idle_seconds + c.agent_paused_seconds);
}

std::optional<double> agent_aht(const AgentCounters& c) {
  return ratio(c.talk_seconds + c.hold_seconds + c.wrap_seconds, static_cast<double>(c.handled));
}
std::optional<double> occupancy(const AgentCounters& c) {
  const double busy = busy_seconds(c);
  return ratio(busy, busy + seconds_in(c, AgentState::available) +
                         seconds_in(c, AgentState::ringing));
}
std::optional<double> utilization(const AgentCounters& c) {
  return ratio(busy_seconds(c), c.logged_in_seconds());
}

int staffed(const AgentsByState& agents) {
  int n = 0;
  for (auto s : {AgentState::available, AgentState::ringing, AgentState::on_call,
                 AgentState::wrap_up}) {
    n += agents[static_cast<std::size_t>(s)];
  }
  return n;
}

std::optional<int> staffing_gap(std::optional<int> agents_required, int staffed_now) {
  if (!agents_required) return std::nullopt;
  return std::max(0, *agents_required - staffed_now);
}

double arrival_rate(std::int64_t arrivals, double span_seconds) {
  return static_cast<double>(arrivals) / std::max(60.0, span_seconds);
}

std::optional<int> queue_agents_required(double calls_per_second, double aht_seconds,
                                         const QueueSettings& q) {
  if (calls_per_second == 0) return 0;
  if (!has_value(aht_seconds) || !(aht_seconds > 0)) return std::nullopt;
  return agents_required(calls_per_second, aht_seconds, q.sl_threshold, q.sl_target);
}

double estimated_wait(int calls_waiting, int free_agents, int staffed_now, double aht_seconds) {
  if (staffed_now <= 0 || !has_value(aht_seconds) || !(aht_seconds > 0)) return kNoValue;
  const int ahead = std::max(0, calls_waiting) - std::max(0, free_agents);
  if (ahead < 0) return 0.0;  // an agent is free for the new caller
  return static_cast<double>(ahead + 1) * aht_seconds / static_cast<double>(staffed_now);
}

double surge_expected(const SurgeInputs& in) {
  if (in.forecast_per_interval > 0) {
    // Under 5 minutes of data the expectation stays a full 5 minutes' worth: a low, quiet
    // estimate at start-up rather than a noisy one over a few seconds (a real surge shows).
    const double span = in.running_seconds < 300 ? 300.0 : in.span_5m;
    return in.forecast_per_interval * span / in.interval_seconds;
  }
  if (in.running_seconds >= 35 * 60.0) {
    // No forecast: the rate of the preceding part of the hour is the baseline.
    const double before = static_cast<double>(in.arrivals_1h - in.arrivals_5m);
    const double before_span = in.span_1h - in.span_5m;
    if (before_span <= 0) return kNoValue;
    return std::max(1.0, before / before_span * in.span_5m);
  }
  return kNoValue;
}

double surge_ratio(const SurgeInputs& in) {
  const double expected = surge_expected(in);
  if (!has_value(expected) || !(expected > 0)) return kNoValue;
  return static_cast<double>(in.arrivals_5m) / expected;
}

}  // namespace callwatch::metrics
