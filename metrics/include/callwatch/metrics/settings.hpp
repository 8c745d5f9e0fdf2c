// Per-queue and engine-wide settings the core needs (filled by config/ from callwatch.toml, or
// defaults). Plain data so that metrics/ stays free of any file format.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "callwatch/metrics/timezone.hpp"

namespace callwatch::metrics {

enum class SlFormula : std::uint8_t { answered, offered, abandons_positive, abandons_ignored };
inline constexpr int kSlFormulaCount = 4;
std::string_view to_string(SlFormula f);
bool parse_sl_formula(std::string_view s, SlFormula& out);

struct QueueSettings {
  std::string display_name;       // empty: the queue name
  double sl_threshold = 20.0;     // T, seconds
  double sl_target = 0.80;        // 0..1
  double short_abandon = 5.0;     // S, seconds
  SlFormula formula = SlFormula::offered;  // the one shown on boards
  // Erlang inputs; 0 = measured. Forecast: calls expected per 15-minute interval (for surge).
  double erlang_aht = 0.0;
  double forecast_per_interval = 0.0;
  std::string site;
};

// The window of times feeds accept (daemon/feeds/time_bounds.hpp): a week behind, two days
// ahead of the daemon's clock.
inline constexpr double kDefaultMaxEventAgeSeconds = 7 * 86400.0;
inline constexpr double kDefaultMaxEventAheadSeconds = 2 * 86400.0;

struct EngineSettings {
  QueueSettings queue_defaults;
  std::map<std::string, QueueSettings, std::less<>> queues;  // by queue name
  TimeZone tz = TimeZone::utc();
  int day_start_seconds = 0;      // seconds after local midnight at which "today" begins
  int interval_minutes = 15;
  double erlang_window_seconds = 900;  // arrival-rate window for agents_required
  bool wrap_up_after_call = false;     // agent goes wrap_up (not available) after call_ended
  std::size_t max_name_bytes = 256;    // longer names are rejected by feeds
  std::size_t max_closed_intervals = 96 * 8;  // kept in memory per engine
  // An event older than what was applied by up to this many seconds is put in its place by
  // timestamp (METRICS.md "Event time, order and repeats"); later ones count as `late`.
  double max_lateness_seconds = 10;
  // Feeds reject a time that would start a span (an event's time, an entry, ts - a stated wait)
  // further than these from the daemon's clock; the engine itself never reads them.
  double max_event_age_seconds = kDefaultMaxEventAgeSeconds;
  double max_event_ahead_seconds = kDefaultMaxEventAheadSeconds;
  // Extra histogram bucket bounds (seconds); every configured SL threshold is added to these.
  std::vector<double> wait_buckets = {5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600};
  std::vector<double> handle_buckets = {30, 60, 120, 180, 300, 600, 900, 1200, 1800, 3600};

  // Snapshots reuse a queue's or an agent's view from the snapshot before while nothing but the
  // clock moved it, and by no more than this (seconds): a publish then builds the views of the
  // queues and agents that changed, not of every one. A kept queue view is the queue as it was
  // when the view was built (its clock-grown parts: the longest wait, open spans, window ends, as
  // of then). 0 (replays, reports, tests): every time exact, so every view the clock moves is
  // built again at each snapshot. Counts, states and stated times are exact either way. Below 0:
  // every view is built again at every snapshot (tests compare the reuse against it).
  double view_refresh_seconds = 0;
  // The same for agents' views when set (the daemon: the boards' own resend step, since only the
  // boards read an agent's clock-grown times; /metrics shows agents' states alone).
  std::optional<double> agent_view_refresh_seconds;
  double agent_refresh() const { return agent_view_refresh_seconds.value_or(view_refresh_seconds); }

  const QueueSettings& for_queue(std::string_view name) const;
};

}  // namespace callwatch::metrics
