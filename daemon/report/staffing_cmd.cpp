// `callwatchd staffing`: what-if staffing for a planned load, Erlang C (or Erlang A with
// --patience), as a table around the answer so a planner sees the trade-off.
#include <cmath>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "callwatch/metrics/erlang.hpp"
#include "commands.hpp"

namespace callwatch::daemon {

namespace {
std::string json_number(double v) {
  if (!std::isfinite(v)) return "null";
  return fmt::format("{:.6g}", v);
}
}  // namespace

int run_staffing(const StaffingOptions& o) {
  if (!(o.calls_per_hour > 0) || !std::isfinite(o.calls_per_hour)) {
    std::fprintf(stderr, "callwatchd staffing: --calls-per-hour must be a positive number\n");
    return 2;
  }
  if (!(o.aht > 0) || !std::isfinite(o.aht)) {
    std::fprintf(stderr, "callwatchd staffing: --aht must be a positive number of seconds\n");
    return 2;
  }
  if (!(o.sl_threshold >= 0) || !std::isfinite(o.sl_threshold)) {
    std::fprintf(stderr, "callwatchd staffing: --sl-threshold must be >= 0 seconds\n");
    return 2;
  }
  if (!(o.target > 0 && o.target < 1)) {
    std::fprintf(stderr, "callwatchd staffing: --target must be between 0 and 1 (e.g. 0.80)\n");
    return 2;
  }
  if (o.patience && !(*o.patience > 0)) {
    std::fprintf(stderr, "callwatchd staffing: --patience must be a positive number of seconds\n");
    return 2;
  }
  const double lambda = o.calls_per_hour / 3600.0;
  const double load = lambda * o.aht;
  const bool erlang_a = o.patience.has_value();
  const auto required =
      erlang_a ? metrics::agents_required_erlang_a(lambda, o.aht, o.sl_threshold, o.target, *o.patience)
               : metrics::agents_required(lambda, o.aht, o.sl_threshold, o.target);
  if (!required) {
    std::fprintf(stderr, "callwatchd staffing: no agent count reaches the target\n");
    return 2;
  }
  auto point = [&](int m) {
    return erlang_a ? metrics::erlang_a_point(m, lambda, o.aht, o.sl_threshold, *o.patience)
                    : metrics::erlang_c_point(m, lambda, o.aht, o.sl_threshold);
  };
  const int lo = std::max(1, *required - 3);
  const int hi = *required + 4;
  const char* model = erlang_a ? "erlang_a" : "erlang_c";

  if (o.json) {
    std::string out = fmt::format(
        "{{\"agents_required\":{},\"offered_load_erlangs\":{},\"model\":\"{}\",\"table\":[", *required,
        json_number(load), model);
    for (int m = lo; m <= hi; ++m) {
      const auto p = point(m);
      out += fmt::format(
          "{}{{\"agents\":{},\"service_level\":{},\"asa_seconds\":{},\"p_wait\":{},\"occupancy\":{}}}",
          m == lo ? "" : ",", m, json_number(p.service_level), json_number(p.asa_seconds),
          json_number(p.p_wait), json_number(p.occupancy));
    }
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
    return 0;
  }
  std::printf("model: %s%s\n", model,
              erlang_a ? fmt::format(" (mean patience {:.0f} s)", *o.patience).c_str() : "");
  std::printf("load: %.1f calls/h x %.0f s AHT = %.2f Erlangs\n", o.calls_per_hour, o.aht, load);
  std::printf("agents required for %.0f%% answered within %.0f s: %d\n\n", o.target * 100,
              o.sl_threshold, *required);
  std::printf("%7s %14s %10s %8s %10s\n", "agents", "service level", "ASA (s)", "P(wait)", "occupancy");
  for (int m = lo; m <= hi; ++m) {
    const auto p = point(m);
    std::printf("%7d %13.1f%% %10s %7.1f%% %9.1f%%%s\n", m, p.service_level * 100,
                std::isfinite(p.asa_seconds) ? fmt::format("{:.1f}", p.asa_seconds).c_str() : "inf",
                p.p_wait * 100, p.occupancy * 100, m == *required ? "  <- required" : "");
  }
  return 0;
}

}  // namespace callwatch::daemon
