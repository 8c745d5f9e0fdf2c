// Stored history as a report. The store keeps the closed intervals per queue (the same counters
// the live engine and the replay use), so summing them gives the range's totals by the same
// METRICS.md rules; agents are not stored per interval, and the open interval is not closed yet:
// both are said in the warnings rather than left out silently.
#include "report/report_store.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>

#include "callwatch/config/config.hpp"
#include "runtime/system_clock.hpp"

namespace callwatch::daemon {

namespace {

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  out = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    out = out * 10 + (s[i] - '0');
  }
  return true;
}

}  // namespace

tl::expected<double, std::string> parse_report_time(std::string_view text,
                                                    const metrics::TimeZone& tz) {
  auto bad = [&] {
    return tl::unexpected(
        fmt::format("\"{}\" is not a time: write 2026-01-05, 2026-01-05T09:15 or "
                    "2026-01-05T09:15:00+08:00",
                    text));
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  if (!digits(text, 0, 4, y) || text.size() < 10 || text[4] != '-' || !digits(text, 5, 2, mo) ||
      text[7] != '-' || !digits(text, 8, 2, d)) {
    return bad();
  }
  std::size_t pos = 10;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == ' ')) {
    if (!digits(text, pos + 1, 2, h) || pos + 3 >= text.size() || text[pos + 3] != ':' ||
        !digits(text, pos + 4, 2, mi)) {
      return bad();
    }
    pos += 6;
    if (pos < text.size() && text[pos] == ':') {
      if (!digits(text, pos + 1, 2, sec)) return bad();
      pos += 3;
    }
  }
  using namespace std::chrono;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) return bad();
  const double local = static_cast<double>(sys_days{ymd}.time_since_epoch().count()) * 86400.0 +
                       h * 3600 + mi * 60 + sec;
  if (pos == text.size()) {
    // Local to the zone: the offset in force at that local time (two steps settle a DST edge).
    const int off1 = tz.offset_at(static_cast<std::int64_t>(local));
    const int off2 = tz.offset_at(static_cast<std::int64_t>(local - off1));
    return local - off2;
  }
  if (text[pos] == 'Z' && pos + 1 == text.size()) return local;
  if ((text[pos] == '+' || text[pos] == '-') && pos + 6 == text.size() && text[pos + 3] == ':') {
    int oh = 0, om = 0;
    if (!digits(text, pos + 1, 2, oh) || !digits(text, pos + 4, 2, om) || oh > 23 || om > 59)
      return bad();
    const int off = (oh * 3600 + om * 60) * (text[pos] == '-' ? -1 : 1);
    return local - off;
  }
  return bad();
}

ReportResult stored_report(Store& store, double from, double to,
                           const metrics::EngineSettings& settings,
                           std::optional<int> interval_minutes) {
  ReportResult r;
  r.format = "stored";
  r.settings = settings;
  r.aht_parts = "talk + hold + after-call work, as each live feed reported them";
  auto ivs = store.intervals(from, to);
  if (!ivs) {
    r.warnings.push_back(fmt::format("cannot read intervals: {}", ivs.error()));
    return r;
  }
  std::map<std::string, metrics::QueueCounters> totals;
  // Re-bucketing: intervals of the store (usually 15 min) summed into longer aligned ones.
  std::map<std::pair<double, std::string>, metrics::QueueCounters> buckets;
  for (const auto& ci : *ivs) {
    totals[ci.queue].add(ci.counters);
    double start = ci.start;
    if (interval_minutes) start = settings.tz.interval_start(ci.start, *interval_minutes);
    buckets[{start, ci.queue}].add(ci.counters);
    r.first_ts = r.first_ts == 0 ? ci.start : std::min(r.first_ts, ci.start);
    r.last_ts = std::max(r.last_ts, ci.end);
  }
  for (auto& [name, c] : totals) r.queues.push_back(ReportQueue{name, c});
  for (auto& [key, c] : buckets) r.intervals.push_back(ReportInterval{key.second, key.first, c});
  if (interval_minutes) r.settings.interval_minutes = *interval_minutes;

  if (auto gaps = store.gaps(from, to)) {
    for (const auto& g : *gaps) {
      r.warnings.push_back(fmt::format(
          "no data from {} to {} ({:.0f} s): {}", format_report_time(g.from, settings.tz),
          format_report_time(g.to, settings.tz), g.to - g.from, g.reason));
    }
  }
  if (auto cp = store.load_checkpoint(); cp && cp->has_value() && to > (*cp)->taken_at) {
    const double open_from = settings.tz.interval_start((*cp)->taken_at, settings.interval_minutes);
    if (open_from < to) {
      r.warnings.push_back(
          fmt::format("the interval from {} was still open at the last checkpoint ({}): it is "
                      "not in this report until it closes",
                      format_report_time(open_from, settings.tz),
                      format_report_time((*cp)->taken_at, settings.tz)));
    }
  }
  r.warnings.push_back(
      "agents are not stored per interval: see the live board or a replay of the feeds");
  return r;
}

int run_stored_report(const ReportOptions& opts) {
  auto loaded = config::load_effective_config(opts.config_path);
  if (!loaded) {
    for (const auto& e : loaded.error()) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    return 2;
  }
  const config::Config& cfg = *loaded;
  if (cfg.storage_path.empty()) {
    std::fprintf(
        stderr,
        "callwatchd report: %s sets no storage_path, so there is no stored history to read\n",
        cfg.source.c_str());
    return 2;
  }
  const metrics::TimeZone& tz = cfg.engine.tz;
  if (opts.from.empty()) {
    std::fprintf(stderr, "callwatchd report: --to needs --from\n");
    return 2;
  }
  auto from = parse_report_time(opts.from, tz);
  auto to = opts.to.empty() ? tl::expected<double, std::string>(system_clock().now())
                            : parse_report_time(opts.to, tz);
  if (!from || !to) {
    std::fprintf(stderr, "callwatchd report: %s\n", (!from ? from.error() : to.error()).c_str());
    return 2;
  }
  if (*to <= *from) {
    std::fprintf(stderr, "callwatchd report: --to must be after --from\n");
    return 2;
  }
  if (opts.interval_minutes && *opts.interval_minutes % cfg.engine.interval_minutes != 0) {
    std::fprintf(
        stderr,
        "callwatchd report: --interval must be a multiple of the stored %d-minute intervals\n",
        cfg.engine.interval_minutes);
    return 2;
  }
  StoreOptions so;
  so.path = cfg.storage_path;
  so.read_only = true;
  auto store = Store::open(so);
  if (!store) {
    std::fprintf(stderr, "callwatchd report: %s\n", store.error().c_str());
    return 2;
  }
  const ReportResult r = stored_report(**store, *from, *to, cfg.engine, opts.interval_minutes);
  const std::string out = opts.json  ? build_report_json(r, true)
                          : opts.csv ? build_report_csv(r, true)
                                     : build_report_text(r, true);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace callwatch::daemon
