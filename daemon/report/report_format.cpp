// Rendering of a replayed report: JSON (DESIGN.md "Commands", fixed shape), CSV and text.
#include <chrono>
#include <cmath>
#include <optional>
#include <vector>

#include <fmt/format.h>

#include "callwatch/metrics/kpi.hpp"
#include "report/report.hpp"

namespace callwatch::daemon {

namespace m = callwatch::metrics;

namespace {

// Seconds are shown to the millisecond (replayed spans are exact to well below that).
double round_ms(double v) { return std::round(v * 1000.0) / 1000.0; }

void json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(static_cast<unsigned char>(c)));
        } else {
          out += c;  // UTF-8 passes through (parsers already replaced invalid bytes)
        }
    }
  }
  out += '"';
}

std::string json_number(std::optional<double> v, bool seconds) {
  if (!v || !std::isfinite(*v)) return "null";
  return fmt::format("{}", seconds ? round_ms(*v) : *v);
}

// The per-queue figures of a report, in output order: JSON keys (the DESIGN.md shape, then the
// figures added since, last) and CSV columns come from these rows alone.
enum class Unit : std::uint8_t { count, seconds, ratio };
// The duration a figure is built on, when it is one the input may neither state nor time
// (ReportResult::unstated): then the figure is null.
enum class Needs : std::uint8_t { none, state_time, talk, answer_wait, wait };
bool unknown(Needs n, const UnstatedDurations& u) {
  switch (n) {
    case Needs::none: return false;
    case Needs::state_time: return u.state_time;
    case Needs::talk: return u.talk;
    case Needs::answer_wait: return u.answer_wait;
    case Needs::wait: return u.wait;
  }
  return false;
}
struct QueueFigure {
  std::string_view key;    // JSON key (inside "service_level" for the SL group)
  std::string_view csv;    // CSV column
  Unit unit;
  bool service_level;      // one of the four formulas: the nested "service_level" object
  std::optional<double> (*value)(const m::QueueCounters&);
  Needs needs = Needs::none;
};
template <std::int64_t m::QueueCounters::*F>
std::optional<double> count_of(const m::QueueCounters& c) {
  return static_cast<double>(c.*F);
}
template <m::SlFormula F>
std::optional<double> sl_of(const m::QueueCounters& c) {
  return m::service_level(c, F);
}
using QC = m::QueueCounters;
constexpr QueueFigure kQueueFigures[] = {
    {"offered", "offered", Unit::count, false,
     [](const QC& c) -> std::optional<double> { return static_cast<double>(c.offered()); }},
    {"answered", "answered", Unit::count, false, count_of<&QC::answered>},
    {"abandoned", "abandoned", Unit::count, false, count_of<&QC::abandoned>},
    {"short_abandoned", "short_abandoned", Unit::count, false, count_of<&QC::short_abandoned>},
    {"timed_out", "timed_out", Unit::count, false, count_of<&QC::timed_out>},
    {"exited_empty", "exited_empty", Unit::count, false, count_of<&QC::exited_empty>},
    {"exited_key", "exited_key", Unit::count, false, count_of<&QC::exited_key>},
    {"answered_within_sl", "answered_within_sl", Unit::count, false,
     count_of<&QC::answered_within_sl>},
    {"abandoned_within_sl", "abandoned_within_sl", Unit::count, false,
     count_of<&QC::abandoned_within_sl>},
    {"asa_seconds", "asa_seconds", Unit::seconds, false, m::asa, Needs::answer_wait},
    {"aht_seconds", "aht_seconds", Unit::seconds, false, m::aht, Needs::talk},
    {"max_wait_seconds", "max_wait_seconds", Unit::seconds, false, m::max_wait, Needs::wait},
    {"answered", "sl_answered", Unit::ratio, true, sl_of<m::SlFormula::answered>},
    {"offered", "sl_offered", Unit::ratio, true, sl_of<m::SlFormula::offered>},
    {"abandons_positive", "sl_abandons_positive", Unit::ratio, true,
     sl_of<m::SlFormula::abandons_positive>},
    {"abandons_ignored", "sl_abandons_ignored", Unit::ratio, true,
     sl_of<m::SlFormula::abandons_ignored>},
    {"bounced", "bounced", Unit::count, false, count_of<&QC::bounced>},
    {"occupancy", "occupancy", Unit::ratio, false, m::queue_occupancy, Needs::state_time},
    {"utilization", "utilization", Unit::ratio, false, m::queue_utilization, Needs::state_time},
};

std::string figure_text(const QueueFigure& f, const QC& c, std::string_view null_text,
                        const UnstatedDurations& u) {
  if (unknown(f.needs, u)) return std::string(null_text);
  const auto v = f.value(c);
  if (!v || !std::isfinite(*v)) return std::string(null_text);
  if (f.unit == Unit::count) return fmt::format("{}", static_cast<std::int64_t>(*v));
  return fmt::format("{}", f.unit == Unit::seconds ? round_ms(*v) : *v);
}

void queue_fields(std::string& out, const QC& c, std::string_view indent,
                  const UnstatedDurations& u) {
  // One member per line; the four formulas share one line as the "service_level" object, placed
  // where the first of them is in the table.
  std::vector<std::string> members;
  std::size_t sl_at = 0;
  std::string sl;
  for (const auto& f : kQueueFigures) {
    if (f.service_level) {
      if (sl.empty()) sl_at = members.size(), members.emplace_back();
      sl += fmt::format("{}\"{}\": {}", sl.empty() ? "" : ", ", f.key,
                        figure_text(f, c, "null", u));
    } else {
      members.push_back(fmt::format("\"{}\": {}", f.key, figure_text(f, c, "null", u)));
    }
  }
  if (!sl.empty()) members[sl_at] = "\"service_level\": {" + sl + "}";
  for (std::size_t k = 0; k < members.size(); ++k) {
    out += fmt::format("{}{}{}\n", indent, members[k], k + 1 < members.size() ? "," : "");
  }
}

std::string csv_cell(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}


std::string csv_header() {
  std::string out;
  for (const auto& f : kQueueFigures) out += fmt::format("{}{}", out.empty() ? "" : ",", f.csv);
  return out + "\n";
}

std::string csv_row(const QC& c, const UnstatedDurations& u) {
  std::string out;
  for (const auto& f : kQueueFigures) {
    if (&f != kQueueFigures) out += ',';
    out += figure_text(f, c, "", u);
  }
  return out;
}

std::string pct(std::optional<double> v) {
  return v ? fmt::format("{:.1f}%", *v * 100.0) : std::string("-");
}
std::string secs(std::optional<double> v) {
  return v ? fmt::format("{:.1f}", *v) : std::string("-");
}
// A figure the input does not give (ReportResult::unstated): no value.
std::optional<double> known(std::optional<double> v, bool unknown_here) {
  return unknown_here ? std::nullopt : v;
}

}  // namespace

std::string format_report_time(double utc, const m::TimeZone& tz) {
  using namespace std::chrono;
  const auto whole = static_cast<std::int64_t>(std::floor(utc));
  const int off = tz.offset_at(whole);
  const sys_seconds local{seconds{whole + off}};
  const auto day = floor<days>(local);
  const year_month_day ymd{day};
  const hh_mm_ss hms{local - day};
  std::string zone = "Z";
  if (off != 0) {
    const int a = std::abs(off);
    zone = fmt::format("{}{:02}:{:02}", off < 0 ? '-' : '+', a / 3600, (a % 3600) / 60);
  }
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{}", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     hms.hours().count(), hms.minutes().count(), hms.seconds().count(), zone);
}

std::string build_report_json(const ReportResult& r, bool with_intervals) {
  std::string out = "{\n  \"queues\": {";
  for (std::size_t i = 0; i < r.queues.size(); ++i) {
    out += i == 0 ? "\n    " : ",\n    ";
    json_string(out, r.queues[i].name);
    out += ": {\n";
    queue_fields(out, r.queues[i].counters, "      ", r.unstated);
    out += "    }";
  }
  out += r.queues.empty() ? "},\n" : "\n  },\n";

  out += "  \"agents\": {";
  for (std::size_t i = 0; i < r.agents.size(); ++i) {
    const auto& c = r.agents[i].counters;
    out += i == 0 ? "\n    " : ",\n    ";
    json_string(out, r.agents[i].name);
    out += fmt::format(": {{\"answered\": {}, \"ring_noanswer\": {}, \"talk_seconds\": {}, "
                       "\"paused_seconds\": {}, \"handled\": {}, \"aht_seconds\": {}, "
                       "\"occupancy\": {}}}",
                       c.answered, c.ring_noanswer,
                       json_number(known(c.talk_seconds, r.unstated.talk), true),
                       json_number(known(c.paused_seconds(), r.unstated.state_time), true),
                       c.handled, json_number(known(m::agent_aht(c), r.unstated.talk), true),
                       json_number(known(m::occupancy(c), r.unstated.state_time), false));
  }
  out += r.agents.empty() ? "},\n" : "\n  },\n";

  out += fmt::format("  \"data_quality\": {{\n    \"events\": {},\n    \"rejected\": {},\n"
                     "    \"warnings\": [",
                     r.events, r.rejected);
  for (std::size_t i = 0; i < r.warnings.size(); ++i) {
    out += i == 0 ? "\n      " : ",\n      ";
    json_string(out, r.warnings[i]);
  }
  out += r.warnings.empty() ? "]\n  }" : "\n    ]\n  }";

  if (with_intervals) {
    out += ",\n  \"intervals\": [";
    for (std::size_t i = 0; i < r.intervals.size(); ++i) {
      const auto& iv = r.intervals[i];
      out += i == 0 ? "\n    {\n" : ",\n    {\n";
      out += "      \"queue\": ";
      json_string(out, iv.queue);
      out += ",\n      \"start\": ";
      json_string(out, format_report_time(iv.start, r.settings.tz));
      out += ",\n";
      queue_fields(out, iv.counters, "      ", r.unstated);
      out += "    }";
    }
    out += r.intervals.empty() ? "]" : "\n  ]";
  }
  out += "\n}\n";
  return out;
}

std::string build_report_csv(const ReportResult& r, bool with_intervals) {
  std::string out = with_intervals ? "queue,start," : "queue,";
  out += csv_header();
  // Totals first (start empty), then the intervals.
  for (const auto& q : r.queues) {
    out += csv_cell(q.name);
    out += with_intervals ? ",," : ",";
    out += csv_row(q.counters, r.unstated);
    out += '\n';
  }
  if (with_intervals) {
    for (const auto& iv : r.intervals) {
      out += fmt::format("{},{},{}\n", csv_cell(iv.queue), format_report_time(iv.start, r.settings.tz),
                         csv_row(iv.counters, r.unstated));
    }
  }
  return out;
}

std::string build_report_text(const ReportResult& r, bool with_intervals) {
  std::string out;
  out += fmt::format("callwatchd report ({}): {} file(s), {} line(s): {} event(s), {} rejected, "
                     "{} duplicate(s), {} blank\n",
                     r.format, r.files, r.lines, r.events, r.rejected, r.duplicates, r.blank);
  if (r.events > 0) {
    out += fmt::format("covers {} .. {}\n", format_report_time(r.first_ts, r.settings.tz),
                       format_report_time(r.last_ts, r.settings.tz));
  }
  out += '\n';

  std::size_t w = 5;
  for (const auto& q : r.queues) w = std::max(w, q.name.size());
  out += fmt::format("{:<{}}  {:>7} {:>8} {:>9} {:>5} {:>8} {:>5} {:>4}  {:>7} {:>7} {:>7} {:>7}  "
                     "{:>7} {:>7} {:>8}\n",
                     "queue", w, "offered", "answered", "abandoned", "short", "timedout", "empty",
                     "key", "SL", "SL-ans", "SL-pos", "SL-ign", "ASA", "AHT", "max wait");
  for (const auto& q : r.queues) {
    const auto& c = q.counters;
    const auto& qs = r.settings.for_queue(q.name);
    out += fmt::format("{:<{}}  {:>7} {:>8} {:>9} {:>5} {:>8} {:>5} {:>4}  {:>7} {:>7} {:>7} {:>7}  "
                       "{:>7} {:>7} {:>8}\n",
                       q.name, w, c.offered(), c.answered, c.abandoned, c.short_abandoned,
                       c.timed_out, c.exited_empty, c.exited_key,
                       pct(m::service_level(c, m::SlFormula::offered)),
                       pct(m::service_level(c, m::SlFormula::answered)),
                       pct(m::service_level(c, m::SlFormula::abandons_positive)),
                       pct(m::service_level(c, m::SlFormula::abandons_ignored)),
                       secs(known(m::asa(c), r.unstated.answer_wait)),
                       secs(known(m::aht(c), r.unstated.talk)),
                       secs(known(m::max_wait(c), r.unstated.wait)));
    out += fmt::format("{:<{}}  T = {} s, short abandon S = {} s, displayed formula: {}\n", "", w,
                       qs.sl_threshold, qs.short_abandon, to_string(qs.formula));
  }
  out += "\nSL = answered within T / (offered - short abandons); SL-ans = within T / answered;\n"
         "SL-pos = (answered + abandoned within T - short) / (offered - short);\n"
         "SL-ign = within T / (offered - abandoned). '-' = no data (zero denominator).\n";
  out += fmt::format("AHT includes: {}.\n", r.aht_parts);

  if (with_intervals) {
    out += fmt::format("\nintervals ({} min)\n", r.settings.interval_minutes);
    for (const auto& iv : r.intervals) {
      const auto& c = iv.counters;
      out += fmt::format("  {}  {:<{}}  offered {:>4}  answered {:>4}  abandoned {:>4}  SL {:>7}  "
                         "ASA {:>7}\n",
                         format_report_time(iv.start, r.settings.tz), iv.queue, w, c.offered(),
                         c.answered, c.abandoned, pct(m::service_level(c, m::SlFormula::offered)),
                         secs(known(m::asa(c), r.unstated.answer_wait)));
    }
  }

  if (!r.agents.empty()) {
    std::size_t aw = 5;
    for (const auto& a : r.agents) aw = std::max(aw, a.name.size());
    out += fmt::format("\n{:<{}}  {:>8} {:>13} {:>7} {:>10} {:>9}\n", "agent", aw, "answered",
                       "ring-noanswer", "refused", "talk s", "paused s");
    for (const auto& a : r.agents) {
      const auto& c = a.counters;
      out += fmt::format("{:<{}}  {:>8} {:>13} {:>7} {:>10} {:>9}", a.name, aw, c.answered,
                         c.ring_noanswer, c.ring_refused,
                         secs(known(c.talk_seconds, r.unstated.talk)),
                         secs(known(c.paused_seconds(), r.unstated.state_time)));
      std::string reasons;
      for (const auto& [reason, s] : c.paused_by_reason) {
        if (r.unstated.state_time) break;  // spans the capture cannot time
        reasons += fmt::format("{}{}: {:.1f} s", reasons.empty() ? "" : ", ",
                               reason.empty() ? "(no reason)" : reason, s);
      }
      if (!reasons.empty()) out += "  (" + reasons + ")";
      out += '\n';
    }
    out += "refused = rang 0 ms (device busy/unreachable): not a ring-no-answer.\n";
  }

  out += fmt::format("\ndata quality: {} event(s), {} rejected, {} warning(s)\n", r.events,
                     r.rejected, r.warnings.size());
  for (const auto& wmsg : r.warnings) out += "  " + wmsg + "\n";
  return out;
}

}  // namespace callwatch::daemon
