// `callwatchd report --from ISO --to ISO`: the stored closed intervals of the daemon's SQLite
// store (daemon/store) in the report's usual shapes, with the gaps of the range as warnings.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>

#include "callwatch/metrics/timezone.hpp"
#include "commands.hpp"
#include "report/report.hpp"
#include "store/store.hpp"

namespace callwatch::daemon {

// "2026-01-05", "2026-01-05T09:15", "2026-01-05T09:15:30", with "Z" or "+08:00" / "-05:00";
// without a zone the time is local to `tz` (a date alone: local midnight).
tl::expected<double, std::string> parse_report_time(std::string_view text,
                                                    const metrics::TimeZone& tz);

// The report of [from, to) from an open store: per-queue totals summed over the intervals, the
// intervals themselves (re-bucketed when interval_minutes is a multiple of the stored length),
// gaps and what the store cannot say as warnings.
ReportResult stored_report(Store& store, double from, double to,
                           const metrics::EngineSettings& settings,
                           std::optional<int> interval_minutes);

int run_stored_report(const ReportOptions& opts);

}  // namespace callwatch::daemon
