// `callwatchd report`: replays recorded feeds (queue_log, native JSON lines) through metrics::Engine
// in replay mode and renders the KPIs as text, JSON (the DESIGN.md shape) or CSV.
// Split from the command so tests build and check a report without spawning a process.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "callwatch/config/feed_type.hpp"
#include "callwatch/metrics/settings.hpp"
#include "callwatch/metrics/snapshot.hpp"
#include "callwatch/metrics/stats.hpp"
#include "commands.hpp"
#include "feeds/feed_registry.hpp"

namespace callwatch::daemon {

struct ReportInput {
  std::string name;  // file name, for warnings when there are several
  std::string text;  // content in memory (tests), used when `path` is empty
  std::string path = {};  // a file, streamed (the command)
};

struct ReportRequest {
  config::FeedType format = config::FeedType::queue_log;
  std::vector<ReportInput> inputs;   // one stream, in this order
  metrics::EngineSettings settings;
  bool intervals = false;            // fill ReportResult::intervals (interval length in settings)
};

struct ReportQueue {
  std::string name;
  metrics::QueueCounters counters;
};

struct ReportInterval {
  std::string queue;
  double start = 0;  // UTC
  metrics::QueueCounters counters;
};

struct ReportAgent {
  std::string name;
  metrics::AgentCounters counters;
};

struct ReportResult {
  std::string format;
  std::size_t files = 0;
  std::uint64_t lines = 0;       // all lines read
  std::uint64_t blank = 0;
  std::uint64_t rejected = 0;
  std::uint64_t duplicates = 0;
  std::uint64_t events = 0;      // lines not blank, not rejected, not duplicates (METRICS.md)
  double first_ts = 0;           // span of the accepted lines (0 when none)
  double last_ts = 0;
  std::vector<ReportQueue> queues;        // sorted by name: every queue an accepted line names
  std::vector<ReportAgent> agents;        // sorted by name
  std::vector<ReportInterval> intervals;  // by start, then queue; intervals with no activity left out
  std::vector<std::string> warnings;      // "line N: ..." (capped, the last one says how many more)
  std::string aht_parts;                  // which parts AHT includes for this format
  // Durations the input neither states nor times (an AMI capture without Timestamp headers):
  // the figures built on them are null in JSON, empty in CSV, '-' in text (a warning says why).
  UnstatedDurations unstated;
  metrics::EngineSettings settings;       // as used (after overrides)
};

// Engine settings of a report: the config's, with --sl-threshold / --short-abandon applied to the
// defaults and every configured queue, --interval as the interval length, and every closed
// interval kept.
metrics::EngineSettings report_engine_settings(const metrics::EngineSettings& base,
                                               const ReportOptions& opts);

// Replays the inputs. Errors (a capture that cannot be read) are returned; bad lines are counted,
// never fatal.
tl::expected<ReportResult, std::string> replay_report(const ReportRequest& req);

// The DESIGN.md "Commands" JSON; "intervals" only when the request asked for them.
std::string build_report_json(const ReportResult& r, bool with_intervals);
std::string build_report_csv(const ReportResult& r, bool with_intervals);
std::string build_report_text(const ReportResult& r, bool with_intervals);

// "2026-01-05T09:15:00+08:00" ("Z" for UTC) in the report's time zone.
std::string format_report_time(double utc, const metrics::TimeZone& tz);

}  // namespace callwatch::daemon
