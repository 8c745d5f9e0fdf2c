// Interval counters for queues and agents and the KPI formulas of METRICS.md, stated once here.
// A ratio with a zero denominator is std::nullopt ("no data"), never 0 and never 1.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "callwatch/metrics/event.hpp"
#include "callwatch/metrics/settings.hpp"

namespace callwatch::metrics {

struct QueueCounters {
  std::int64_t answered = 0;
  std::int64_t abandoned = 0;
  std::int64_t short_abandoned = 0;  // also inside abandoned
  std::int64_t timed_out = 0;
  std::int64_t exited_empty = 0;
  std::int64_t exited_key = 0;
  std::int64_t transferred_out = 0;  // left by transfer before answer: not offered
  std::int64_t answered_within_sl = 0;
  std::int64_t abandoned_within_sl = 0;
  std::int64_t answered_with_wait = 0;  // answered visits whose wait is known (ASA denominator)
  double answer_wait_sum = 0;
  std::int64_t handled = 0;  // completed calls with a known handle time
  double handle_sum = 0;     // talk + hold + wrap
  double talk_sum = 0;
  double hold_sum = 0;
  double max_wait = kNoValue;  // over visits of all five outcomes
  std::int64_t arrivals = 0;   // call_enqueued events (load for Erlang and surge)
  std::int64_t ring_noanswer = 0;
  std::int64_t bounced = 0;    // calls offered to 3+ agents/queues before answer
  std::int64_t no_wait_outcomes = 0;  // outcomes counted without a known wait

  std::int64_t offered() const {
    return answered + abandoned + timed_out + exited_empty + exited_key;
  }
  void add(const QueueCounters& o);
};

std::optional<double> service_level(const QueueCounters& c, SlFormula f);
std::optional<double> asa(const QueueCounters& c);
std::optional<double> aht(const QueueCounters& c);
std::optional<double> abandon_rate(const QueueCounters& c);
std::optional<double> abandon_rate_excl_short(const QueueCounters& c);
std::optional<double> max_wait(const QueueCounters& c);

struct AgentCounters {
  std::int64_t answered = 0;
  std::int64_t ring_noanswer = 0;
  std::int64_t ring_refused = 0;  // ring time 0: device refused at once, not a no-answer
  double talk_seconds = 0;
  double hold_seconds = 0;
  double wrap_seconds = 0;
  std::array<double, kAgentStateCount> state_seconds{};  // time in each state
  std::map<std::string, double, std::less<>> paused_by_reason;

  double paused_seconds() const { return state_seconds[static_cast<int>(AgentState::paused)]; }
  double logged_in_seconds() const;
  void add(const AgentCounters& o);
};

std::optional<double> occupancy(const AgentCounters& c);
std::optional<double> utilization(const AgentCounters& c);

}  // namespace callwatch::metrics
