// Rendering of a replayed report: JSON (DESIGN.md "Commands", fixed shape), CSV and text.
#include <chrono>
#include <cmath>
#include <optional>

#include <fmt/format.h>

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

void queue_fields(std::string& out, const m::QueueCounters& c, std::string_view indent) {
  auto num = [&](std::string_view key, std::int64_t v, bool comma = true) {
    out += fmt::format("{}\"{}\": {}{}\n", indent, key, v, comma ? "," : "");
  };
  num("offered", c.offered());
  num("answered", c.answered);
  num("abandoned", c.abandoned);
  num("short_abandoned", c.short_abandoned);
  num("timed_out", c.timed_out);
  num("exited_empty", c.exited_empty);
  num("exited_key", c.exited_key);
  num("answered_within_sl", c.answered_within_sl);
  num("abandoned_within_sl", c.abandoned_within_sl);
  out += fmt::format("{}\"asa_seconds\": {},\n", indent, json_number(m::asa(c), true));
  out += fmt::format("{}\"aht_seconds\": {},\n", indent, json_number(m::aht(c), true));
  out += fmt::format("{}\"max_wait_seconds\": {},\n", indent, json_number(m::max_wait(c), true));
  out += fmt::format(
      "{}\"service_level\": {{\"answered\": {}, \"offered\": {}, \"abandons_positive\": {}, "
      "\"abandons_ignored\": {}}}\n",
      indent, json_number(m::service_level(c, m::SlFormula::answered), false),
      json_number(m::service_level(c, m::SlFormula::offered), false),
      json_number(m::service_level(c, m::SlFormula::abandons_positive), false),
      json_number(m::service_level(c, m::SlFormula::abandons_ignored), false));
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

std::string csv_number(std::optional<double> v, bool seconds) {
  if (!v || !std::isfinite(*v)) return "";
  return fmt::format("{}", seconds ? round_ms(*v) : *v);
}

std::string csv_row(const m::QueueCounters& c) {
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", c.offered(), c.answered,
                     c.abandoned, c.short_abandoned, c.timed_out, c.exited_empty, c.exited_key,
                     c.answered_within_sl, c.abandoned_within_sl, csv_number(m::asa(c), true),
                     csv_number(m::aht(c), true), csv_number(m::max_wait(c), true),
                     csv_number(m::service_level(c, m::SlFormula::answered), false),
                     csv_number(m::service_level(c, m::SlFormula::offered), false),
                     csv_number(m::service_level(c, m::SlFormula::abandons_positive), false),
                     csv_number(m::service_level(c, m::SlFormula::abandons_ignored), false));
}

std::string pct(std::optional<double> v) {
  return v ? fmt::format("{:.1f}%", *v * 100.0) : std::string("-");
}
std::string secs(std::optional<double> v) {
  return v ? fmt::format("{:.1f}", *v) : std::string("-");
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
    queue_fields(out, r.queues[i].counters, "      ");
    out += "    }";
  }
  out += r.queues.empty() ? "},\n" : "\n  },\n";

  out += "  \"agents\": {";
  for (std::size_t i = 0; i < r.agents.size(); ++i) {
    const auto& c = r.agents[i].counters;
    out += i == 0 ? "\n    " : ",\n    ";
    json_string(out, r.agents[i].name);
    out += fmt::format(": {{\"answered\": {}, \"ring_noanswer\": {}, \"talk_seconds\": {}, "
                       "\"paused_seconds\": {}}}",
                       c.answered, c.ring_noanswer, json_number(c.talk_seconds, true),
                       json_number(c.paused_seconds(), true));
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
      queue_fields(out, iv.counters, "      ");
      out += "    }";
    }
    out += r.intervals.empty() ? "]" : "\n  ]";
  }
  out += "\n}\n";
  return out;
}

std::string build_report_csv(const ReportResult& r, bool with_intervals) {
  std::string out = with_intervals ? "queue,start," : "queue,";
  out +=
      "offered,answered,abandoned,short_abandoned,timed_out,exited_empty,exited_key,"
      "answered_within_sl,abandoned_within_sl,asa_seconds,aht_seconds,max_wait_seconds,"
      "sl_answered,sl_offered,sl_abandons_positive,sl_abandons_ignored\n";
  // Totals first (start empty), then the intervals.
  for (const auto& q : r.queues) {
    out += csv_cell(q.name);
    out += with_intervals ? ",," : ",";
    out += csv_row(q.counters);
    out += '\n';
  }
  if (with_intervals) {
    for (const auto& iv : r.intervals) {
      out += fmt::format("{},{},{}\n", csv_cell(iv.queue), format_report_time(iv.start, r.settings.tz),
                         csv_row(iv.counters));
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
                       pct(m::service_level(c, m::SlFormula::abandons_ignored)), secs(m::asa(c)),
                       secs(m::aht(c)), secs(m::max_wait(c)));
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
                         secs(m::asa(c)));
    }
  }

  if (!r.agents.empty()) {
    std::size_t aw = 5;
    for (const auto& a : r.agents) aw = std::max(aw, a.name.size());
    out += fmt::format("\n{:<{}}  {:>8} {:>13} {:>7} {:>10} {:>9}\n", "agent", aw, "answered",
                       "ring-noanswer", "refused", "talk s", "paused s");
    for (const auto& a : r.agents) {
      const auto& c = a.counters;
      out += fmt::format("{:<{}}  {:>8} {:>13} {:>7} {:>10.1f} {:>9.1f}", a.name, aw, c.answered,
                         c.ring_noanswer, c.ring_refused, c.talk_seconds, c.paused_seconds());
      std::string reasons;
      for (const auto& [reason, s] : c.paused_by_reason) {
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
