// Replay of recorded feeds for `callwatchd report`: lines -> events -> metrics::Engine (replay
// mode), with the data-quality counting of METRICS.md ("Counting rules"). The input streams to
// the engine in file order (several files: in the order given), line by line or chunk by chunk,
// through the live feeds' own parsers, translators and duplicate rule: never a sort, never a
// whole file in memory (but a JSON-array AMI capture, which is one document).
#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <functional>
#include <set>

#include <fmt/format.h>

#include "callwatch/metrics/engine.hpp"
#include "feeds/duplicate_filter.hpp"
#include "feeds/feed_registry.hpp"
#include "feeds/native/native_parser.hpp"
#include "feeds/queue_log/queue_log_parser.hpp"
#include "feeds/time_bounds.hpp"
#include "report/report.hpp"

namespace callwatch::daemon {

namespace m = callwatch::metrics;

namespace {

constexpr std::size_t kMaxListedWarnings = 1000;
// Agent figures are per day in the engine (AgentView::today); the replay reads them just before
// each day boundary. The engine's span accounting is exact, so reading 10 us early loses at most
// 10 us per open span and day; figures are printed to the millisecond.
constexpr double kDayEdge = 1e-5;

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t'; });
}

bool has_activity(const m::QueueCounters& c) {
  return c.offered() > 0 || c.arrivals > 0 || c.transferred_out > 0 || c.handled > 0 ||
         c.ring_noanswer > 0;
}

class Replayer {
 public:
  Replayer(const ReportRequest& req, ReportResult& res)
      : req_(req), res_(res), engine_(req.settings, nullptr) {}

  tl::expected<void, std::string> run_queue_log();
  tl::expected<void, std::string> run_native();
  tl::expected<void, std::string> run_capture(CaptureReplay replay);  // ami | esl (daemon/feeds)
  void finish();

 private:
  // Every line of the inputs in file order (several files: in the order given), streamed.
  tl::expected<void, std::string> each_line(const std::function<void(std::string_view)>& fn);
  std::string where() const;
  void warn(std::string msg);
  void apply(const m::Event& e);
  void roll_days(double t);
  void note_queue(std::string_view q) {
    if (!q.empty() && !queue_names_.contains(q)) queue_names_.emplace(q);
  }
  // Where time goes backwards (P13: collected files), for every line with a time: said once
  // where the order breaks; the engine puts late events in their place.
  void note_order(double ts) {
    if (!std::isfinite(ts)) return;
    if (ordered_ && ts < prev_ts_) {
      warn(fmt::format("{}: time {} is {} s before the line above ({}): fed in file order", where(),
                       ts, prev_ts_ - ts, prev_ts_));
    }
    ordered_ = true;
    prev_ts_ = ts;
  }
  // The span of the accepted input's times.
  void note_time(double ts) {
    if (!seen_ts_) {
      res_.first_ts = res_.last_ts = ts;
      seen_ts_ = true;
    }
    res_.first_ts = std::min(res_.first_ts, ts);
    res_.last_ts = std::max(res_.last_ts, ts);
  }
  DuplicateFilter::Options duplicate_options() const {
    DuplicateFilter::Options o;
    o.tz = req_.settings.tz;
    o.day_start_seconds = req_.settings.day_start_seconds;
    return o;
  }

  const ReportRequest& req_;
  ReportResult& res_;
  m::Engine engine_;
  std::set<std::string, std::less<>> queue_names_;
  std::map<std::string, m::AgentCounters, std::less<>> agents_done_;  // closed days
  bool day_known_ = false;
  double next_day_ = 0;
  bool seen_ts_ = false;
  double prev_ts_ = 0;
  bool ordered_ = false;
  std::size_t unlisted_warnings_ = 0;
  std::uint32_t file_ = 0;   // where the replay is: input index and line number (0: no line)
  std::uint64_t line_ = 0;
};

std::string Replayer::where() const {
  if (line_ == 0) return "end of input";
  if (req_.inputs.size() > 1) return fmt::format("{}:{}", req_.inputs[file_].name, line_);
  return fmt::format("line {}", line_);
}

void Replayer::warn(std::string msg) {
  if (res_.warnings.size() < kMaxListedWarnings) {
    res_.warnings.push_back(std::move(msg));
  } else {
    ++unlisted_warnings_;
  }
}

tl::expected<void, std::string> Replayer::each_line(const std::function<void(std::string_view)>& fn) {
  for (file_ = 0; file_ < req_.inputs.size(); ++file_) {
    const ReportInput& in = req_.inputs[file_];
    line_ = 0;
    auto r = for_each_line(CaptureText{in.name, in.text, in.path}, [&](std::string_view l) {
      ++line_;
      ++res_.lines;
      fn(l);
    });
    if (!r) return r;
  }
  line_ = 0;
  return {};
}

// Reads the agents' per-day figures just before every day boundary up to `t`.
void Replayer::roll_days(double t) {
  const auto& s = req_.settings;
  if (!day_known_) {
    const double day = s.tz.day_start(t, s.day_start_seconds);
    // 26 h after a day's start always lies in the next day (days last 23 to 25 h).
    next_day_ = s.tz.day_start(day + 26 * 3600.0, s.day_start_seconds);
    day_known_ = true;
    return;
  }
  while (t >= next_day_) {
    if (next_day_ - kDayEdge >= engine_.now()) engine_.advance_to(next_day_ - kDayEdge);
    const m::Snapshot snap = engine_.snapshot();
    for (const auto& a : snap.agents) agents_done_[a.name].add(a.today);
    if (t - next_day_ > 2 * 86400.0) {
      // The engine skips a gap of days in one jump (open spans do not run through it), so the
      // days inside hold nothing: continue from the day of `t`.
      next_day_ = s.tz.day_start(s.tz.day_start(t, s.day_start_seconds) + 26 * 3600.0,
                                 s.day_start_seconds);
      break;
    }
    next_day_ = s.tz.day_start(next_day_ + 26 * 3600.0, s.day_start_seconds);
  }
}

void Replayer::apply(const m::Event& e) {
  roll_days(e.ts);
  note_queue(e.queue);
  for (const auto q : e.queues) note_queue(q);
  note_queue(e.to_queue);
  const auto& msgs = engine_.data_quality().warnings;
  const std::size_t before = msgs.size();
  engine_.apply(e);
  // The engine's warnings (second outcome, completion without answer, ...) get the line.
  for (std::size_t i = before; i < msgs.size(); ++i) warn(fmt::format("{}: {}", where(), msgs[i]));
}

// queue_log: the live tailer's parser and duplicate rule (feeds/queue_log), line by line.
tl::expected<void, std::string> Replayer::run_queue_log() {
  QueueLogParser parser(QueueLogParser::Options{.max_name_bytes = req_.settings.max_name_bytes,
                                                .duplicates = duplicate_options(),
                                                .times = TimeLimits::of(req_.settings)},
                        [&](const QueueLogWarning& w) { warn(fmt::format("{}: {}", where(), w.message)); });
  auto r = each_line([&](std::string_view line) {
    const QueueLogLine& l = parser.parse(line, line_);
    note_order(l.ts);
    switch (l.status) {
      case QueueLogLineStatus::blank:
        ++res_.blank;
        break;
      case QueueLogLineStatus::rejected:
        ++res_.rejected;
        warn(fmt::format("{}: rejected ({}): {}", where(), l.reject_reason, l.reject_detail));
        break;
      case QueueLogLineStatus::duplicate:
        ++res_.duplicates;  // the parser's warning names it
        break;
      case QueueLogLineStatus::accepted:
        ++res_.events;
        note_time(l.ts);
        note_queue(l.queue);
        for (const m::Event& e : l.events) apply(e);
        break;
    }
  });
  if (!r) return r;
  for (const m::Event& e : parser.flush()) apply(e);
  if (!parser.refused_on_join().empty()) {
    std::string by;
    std::uint64_t n = 0;
    for (const auto& [verb, count] : parser.refused_on_join()) {
      by += fmt::format("{}{} {}", by.empty() ? "" : ", ", verb, count);
      n += count;
    }
    warn(fmt::format("{} caller(s) refused before entering a queue ({}): not offered", n, by));
  }
  return {};
}

// Native JSON lines: the live native feed's parser and duplicate rule (runtime/engine_loop).
tl::expected<void, std::string> Replayer::run_native() {
  NativeParser parser(64 * 1024, req_.settings.max_name_bytes);
  TimeBounds times(TimeLimits::of(req_.settings));  // a replay: the input's own times decide
  DuplicateFilter seen(duplicate_options());
  return each_line([&](std::string_view l) {
    if (is_blank(l)) {
      ++res_.blank;
      return;
    }
    auto ev = parser.parse(l);
    if (!ev) {
      ++res_.rejected;
      warn(fmt::format("{}: rejected ({})", where(), to_string(ev.error())));
      return;
    }
    if (std::string why = times.check(**ev, m::kNoValue); !why.empty()) {
      ++res_.rejected;
      warn(fmt::format("{}: rejected ({}): {}", where(), to_string(RejectReason::bad_value), why));
      return;
    }
    note_order((*ev)->ts);
    const std::uint64_t print = fingerprint(l);
    if (seen.contains(print, (*ev)->ts)) {
      ++res_.duplicates;
      warn(fmt::format("{}: duplicate of an earlier line, dropped", where()));
      return;
    }
    seen.insert(print, (*ev)->ts);
    ++res_.events;
    note_time((*ev)->ts);
    apply(**ev);
  });
}

// AMI / ESL captures: the live clients' translators (and their duplicate rule and counting).
tl::expected<void, std::string> Replayer::run_capture(CaptureReplay replay) {
  std::vector<CaptureText> inputs;
  for (const auto& in : req_.inputs) inputs.push_back({in.name, in.text, in.path});
  FeedSink sink;
  sink.event = [&](const m::Event& e) {
    note_time(e.ts);
    apply(e);
  };
  sink.accepted = [&] { ++res_.events; };
  sink.duplicate = [&] { ++res_.duplicates; };
  sink.reject = [&](std::string_view reason, const std::string& detail) {
    ++res_.rejected;
    warn(fmt::format("rejected ({}): {}", reason, detail));
  };
  sink.warning = [&](std::string_view, const std::string& msg) { warn(msg); };
  CaptureOptions opts;
  opts.max_name_bytes = req_.settings.max_name_bytes;
  opts.duplicates = duplicate_options();
  opts.times = TimeLimits::of(req_.settings);
  auto r = replay(inputs, opts, sink);
  if (!r) return tl::make_unexpected(r.error());
  res_.unstated = *r;  // durations the capture neither states nor times: null in the report
  return {};
}

void Replayer::finish() {
  if (seen_ts_) {
    roll_days(res_.last_ts);
    engine_.finish(res_.last_ts);
  }
  const m::Snapshot snap = engine_.snapshot();
  const m::DataQuality& dq = engine_.data_quality();

  std::map<std::string_view, const m::QueueView*> views;
  for (const auto& q : snap.queues) views[q.name] = &q;
  for (const auto& name : queue_names_) {
    ReportQueue q{name, {}};
    if (auto it = views.find(name); it != views.end()) q.counters = it->second->total;
    res_.queues.push_back(std::move(q));
  }

  std::map<std::string, m::AgentCounters, std::less<>> agents = agents_done_;
  for (const auto& a : snap.agents) agents[a.name].add(a.today);
  for (auto& [name, c] : agents) res_.agents.push_back(ReportAgent{name, std::move(c)});

  if (req_.intervals) {
    std::set<std::pair<double, std::string>> have;
    for (const auto& ci : engine_.closed_intervals()) {
      if (!queue_names_.contains(ci.queue) || !has_activity(ci.counters)) continue;
      if (!have.emplace(ci.start, ci.queue).second) continue;
      res_.intervals.push_back(ReportInterval{ci.queue, ci.start, ci.counters});
    }
    for (const auto& q : snap.queues) {
      const auto& w = q.windows[static_cast<int>(m::WindowKind::interval)];
      if (!queue_names_.contains(q.name) || !has_activity(w.counters)) continue;
      // `since` is clipped to the first event; the interval itself starts on the aligned edge.
      const double start =
          req_.settings.tz.interval_start(w.since, req_.settings.interval_minutes);
      if (!have.emplace(start, q.name).second) continue;
      res_.intervals.push_back(ReportInterval{q.name, start, w.counters});
    }
    std::stable_sort(res_.intervals.begin(), res_.intervals.end(),
                     [](const ReportInterval& a, const ReportInterval& b) {
                       return a.start != b.start ? a.start < b.start : a.queue < b.queue;
                     });
  }

  if (dq.restarts > 0 && dq.visits_cut > 0) {
    warn(fmt::format("{} PBX restart(s): {} visit(s) still open were cut without an outcome "
                     "(not offered); figures around the restart are incomplete",
                     dq.restarts, dq.visits_cut));
  } else if (dq.restarts > 0) {
    // Every queue_log opens with a QUEUESTART: a start with nothing open loses nothing.
    warn(fmt::format("{} PBX (re)start(s); no visit was open at any of them", dq.restarts));
  }
  std::uint64_t engine_total = 0;
  for (const auto& [kind, n] : dq.warning_counts) engine_total += n;
  if (engine_total > dq.warnings.size()) {
    std::string by;
    for (const auto& [kind, n] : dq.warning_counts) {
      by += fmt::format("{}{} {}", by.empty() ? "" : ", ", kind, n);
    }
    warn(fmt::format("engine warnings by kind (not all listed): {}", by));
  }
  if (res_.duplicates > 0) {
    warn(fmt::format("{} duplicate line(s) dropped", res_.duplicates));
  }
  if (unlisted_warnings_ > 0) {
    res_.warnings.push_back(fmt::format("{} more warning(s) not listed", unlisted_warnings_));
  }
}

}  // namespace

m::EngineSettings report_engine_settings(const m::EngineSettings& base, const ReportOptions& opts) {
  m::EngineSettings s = base;
  if (opts.sl_threshold) {
    s.queue_defaults.sl_threshold = *opts.sl_threshold;
    for (auto& [name, q] : s.queues) q.sl_threshold = *opts.sl_threshold;
  }
  if (opts.short_abandon) {
    s.queue_defaults.short_abandon = *opts.short_abandon;
    for (auto& [name, q] : s.queues) q.short_abandon = *opts.short_abandon;
  }
  if (opts.interval_minutes) s.interval_minutes = *opts.interval_minutes;
  s.max_closed_intervals = std::numeric_limits<std::size_t>::max();
  return s;
}

tl::expected<ReportResult, std::string> replay_report(const ReportRequest& req) {
  const FeedKind& kind = feed_kind(req.format);
  ReportResult res;
  res.format = std::string(config::to_string(req.format));
  res.files = req.inputs.size();
  res.settings = req.settings;
  res.aht_parts = std::string(kind.aht_parts);
  Replayer r(req, res);
  tl::expected<void, std::string> read;
  switch (kind.replay) {
    case ReplayReader::queue_log_lines:
      read = r.run_queue_log();
      break;
    case ReplayReader::capture:
      read = r.run_capture(kind.capture);
      break;
    case ReplayReader::native_lines:
      read = r.run_native();
      break;
  }
  if (!read) return tl::make_unexpected(read.error());
  r.finish();
  return res;
}

}  // namespace callwatch::daemon
