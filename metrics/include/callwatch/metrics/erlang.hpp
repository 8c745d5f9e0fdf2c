// Erlang C (and Erlang A) staffing: how many agents a load needs to reach a service level.
// Computed with the Erlang B recurrence, never with factorials, so 1000+ agents stay exact.
#pragma once

#include <optional>
#include <string_view>

namespace callwatch::metrics {

struct ErlangPoint {
  int agents = 0;
  double service_level = 0;  // P(wait <= T)
  double asa_seconds = 0;    // infinity when agents <= load
  double p_wait = 1;
  double occupancy = 1;      // load / agents, capped at 1
};

double erlang_b(int agents, double load);
double erlang_c(int agents, double load);  // P_wait; 1 when agents <= load
ErlangPoint erlang_c_point(int agents, double calls_per_second, double aht_seconds,
                           double threshold_seconds);
// Smallest m with SL(T) >= target. 0 for zero load. nullopt for invalid input.
std::optional<int> agents_required(double calls_per_second, double aht_seconds,
                                   double threshold_seconds, double target);

// Erlang A (M/M/m+M): callers abandon after an exponential patience with mean patience_seconds.
ErlangPoint erlang_a_point(int agents, double calls_per_second, double aht_seconds,
                           double threshold_seconds, double patience_seconds);
std::optional<int> agents_required_erlang_a(double calls_per_second, double aht_seconds,
                                            double threshold_seconds, double target,
                                            double patience_seconds);

}  // namespace callwatch::metrics
