// Every KPI formula of METRICS.md, once: the engine's snapshot, the exporter, the boards, the alerts
// and the report call these and compute nothing of their own. A ratio with a zero denominator is
// std::nullopt ("no data"), never 0 and never 1. docs/metrics.md names the function behind each.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "callwatch/metrics/event.hpp"
#include "callwatch/metrics/settings.hpp"
#include "callwatch/metrics/stats.hpp"

namespace callwatch::metrics {

// ---- queue figures over one window's counters ------------------------------------------------
std::optional<double> service_level(const QueueCounters& c, SlFormula f);
// The denominator `f` divides by (offered - short abandons for `offered`, ...); weights totals.
double service_level_denominator(const QueueCounters& c, SlFormula f);
std::optional<double> asa(const QueueCounters& c);
std::optional<double> aht(const QueueCounters& c);
std::optional<double> abandon_rate(const QueueCounters& c);
std::optional<double> abandon_rate_excl_short(const QueueCounters& c);
std::optional<double> max_wait(const QueueCounters& c);
// Occupancy and utilization of the queue's members over the window (METRICS.md, per queue).
std::optional<double> queue_occupancy(const QueueCounters& c);
std::optional<double> queue_utilization(const QueueCounters& c);

// ---- agent figures ------------------------------------------------------------------------
// (talk + hold + wrap-up) / handled calls: the queue's AHT formula per agent.
std::optional<double> agent_aht(const AgentCounters& c);
// Busy share of the time the agent could take calls (pause excluded):
// (on_call + wrap_up) / (on_call + wrap_up + available + ringing).
std::optional<double> occupancy(const AgentCounters& c);
// Busy share of the logged-in time: (on_call + wrap_up) / logged in.
std::optional<double> utilization(const AgentCounters& c);

// ---- staffing (a queue's members by state: QueueView::agents) --------------------------------
using AgentsByState = std::array<int, kAgentStateCount>;
// Logged in to the queue and not paused in it: available + ringing + on_call + wrap_up.
int staffed(const AgentsByState& agents);
// agents_required - staffed, floored at 0; unknown when agents_required is.
std::optional<int> staffing_gap(std::optional<int> agents_required, int staffed);
// Calls per second over a span of `span_seconds` (at least a minute, so a first call is no spike).
double arrival_rate(std::int64_t arrivals, double span_seconds);
// Erlang C agents for the queue's threshold and target at `calls_per_second` and `aht_seconds`;
// 0 with no arrivals, unknown without a handle time.
std::optional<int> queue_agents_required(double calls_per_second, double aht_seconds,
                                         const QueueSettings& q);

// Expected wait of a caller joining now (Erlang C's M/M/m queue, conditioned on the present
// state): with `free_agents` available it is 0 while a free agent is left for the caller;
// otherwise the caller waits for the calls ahead of it that no free agent takes, plus itself,
// to reach an agent, one service completion each, and `staffed` busy agents complete a call
// every aht/staffed seconds on average: (waiting - free + 1) * aht / staffed. Unknown with no
// staffed agent or no handle time.
double estimated_wait(int calls_waiting, int free_agents, int staffed, double aht_seconds);

// ---- surge -------------------------------------------------------------------------------
struct SurgeInputs {
  std::int64_t arrivals_5m = 0;    // arrivals over the last 5 minutes
  double span_5m = 0;              // seconds those 5 minutes actually cover (cut at start-up)
  std::int64_t arrivals_1h = 0;    // arrivals over the last hour (including the 5 minutes)
  double span_1h = 0;
  double running_seconds = 0;      // how long the engine has been counting
  double forecast_per_interval = 0;  // calls expected per interval (0: none configured)
  double interval_seconds = 900;
};
// Arrivals expected over the 5-minute span: from the forecast, or (no forecast, 35+ minutes of
// data) from the rate of the rest of the hour. NaN without a baseline.
double surge_expected(const SurgeInputs& in);
// arrivals_5m / expected; NaN without a baseline.
double surge_ratio(const SurgeInputs& in);

}  // namespace callwatch::metrics
