// JSON writer and simdjson reader for the wallboard protocol, plus the snapshot diff. Numbers are
// written with std::to_chars (shortest text that reads back to the same double), NaN as null.
#include "callwatch/metrics/snapshot_codec.hpp"

#include "callwatch/metrics/alerts.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cmath>
#include <stdexcept>
#include <unordered_map>
#include <utility>

#include <simdjson.h>

namespace callwatch::metrics::wire {

namespace {

// ---------------------------------------------------------------------------------------------
// Writing

class Writer {
 public:
  std::string out;

  void raw(std::string_view s) { out.append(s); }
  void str(std::string_view s) {
    out.push_back('"');
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      switch (c) {
        case '"': out.append("\\\""); break;
        case '\\': out.append("\\\\"); break;
        case '\n': out.append("\\n"); break;
        case '\r': out.append("\\r"); break;
        case '\t': out.append("\\t"); break;
        default:
          if (c < 0x20) {
            static constexpr char kHex[] = "0123456789abcdef";
            out.append("\\u00");
            out.push_back(kHex[c >> 4]);
            out.push_back(kHex[c & 0xf]);
          } else {
            out.push_back(ch);  // UTF-8 passes through: feeds reject invalid UTF-8 upstream
          }
      }
    }
    out.push_back('"');
  }
  void num(double v) {
    if (!std::isfinite(v)) {
      out.append("null");
      return;
    }
    char buf[32];
#if defined(__cpp_lib_to_chars)
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
#else
    // Emscripten's libc++ (the browser board) has no floating-point to_chars yet; %.17g reads
    // back to the same double too, if not always in the shortest text.
    const int n = std::snprintf(buf, sizeof buf, "%.17g", v);
    out.append(buf, static_cast<std::size_t>(n));
#endif
  }
  void num(std::int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
  void num(std::uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
  void num(int v) { num(static_cast<std::int64_t>(v)); }
  void boolean(bool b) { out.append(b ? "true" : "false"); }

  // Object members: key() writes the separating comma when needed.
  void open_obj() {
    out.push_back('{');
    first_ = true;
  }
  void close_obj() {
    out.push_back('}');
    first_ = false;
  }
  void open_arr() {
    out.push_back('[');
    first_ = true;
  }
  void close_arr() {
    out.push_back(']');
    first_ = false;
  }
  void key(std::string_view k) {
    sep();
    str(k);
    out.push_back(':');
    first_ = true;  // the value follows without a comma
  }
  // Before an array element.
  void elem() { sep(); }
  // After any value written directly with raw()/num()/str() inside an object or array.
  void value_done() { first_ = false; }

 private:
  void sep() {
    if (!first_) out.push_back(',');
    first_ = false;
  }
  bool first_ = true;
};

template <typename T>
void member(Writer& w, std::string_view k, const T& v) {
  w.key(k);
  if constexpr (std::is_same_v<T, bool>) {
    w.boolean(v);
  } else if constexpr (std::is_convertible_v<T, std::string_view>) {
    w.str(v);
  } else {
    w.num(v);
  }
  w.value_done();
}

// Severity and alert-state words are alerts.hpp's: the wire spells them as the config does.
std::string_view severity_name(AlertSeverity s) { return to_string(s); }
bool parse_severity(std::string_view s, AlertSeverity& out) { return parse_alert_severity(s, out); }
std::string_view alert_state_name(AlertState s) { return to_string(s); }

void write_counters(Writer& w, const QueueCounters& c) {
  w.open_obj();
  for_each_counter(c, [&](std::string_view name, const auto& v) { member(w, name, v); });
  w.close_obj();
}

void write_window(Writer& w, const Window& win) {
  w.open_obj();
  member(w, "since", win.since);
  member(w, "until", win.until);
  w.key("counters");
  write_counters(w, win.counters);
  w.close_obj();
}

void write_histogram(Writer& w, const Histogram& h) {
  w.open_obj();
  w.key("bounds");
  w.open_arr();
  for (double b : h.bounds) {
    w.elem();
    w.num(b);
  }
  w.close_arr();
  w.key("counts");
  w.open_arr();
  for (auto c : h.counts) {
    w.elem();
    w.num(c);
  }
  w.close_arr();
  member(w, "sum", h.sum);
  member(w, "count", h.count);
  w.close_obj();
}

void write_queue(Writer& w, const QueueView& q) {
  w.open_obj();
  member(w, "name", q.name);
  w.key("settings");
  w.open_obj();
  member(w, "display_name", q.settings.display_name);
  member(w, "sl_threshold", q.settings.sl_threshold);
  member(w, "sl_target", q.settings.sl_target);
  member(w, "short_abandon", q.settings.short_abandon);
  member(w, "formula", to_string(q.settings.formula));
  member(w, "erlang_aht", q.settings.erlang_aht);
  member(w, "forecast_per_interval", q.settings.forecast_per_interval);
  member(w, "site", q.settings.site);
  w.close_obj();
  member(w, "calls_waiting", q.calls_waiting);
  member(w, "longest_wait", q.longest_wait);
  w.key("windows");
  w.open_obj();
  for (int i = 0; i < kWindowCount; ++i) {
    w.key(window_label(static_cast<WindowKind>(i)));
    write_window(w, q.windows[static_cast<std::size_t>(i)]);
  }
  w.close_obj();
  w.key("previous_interval");
  if (q.previous_interval) {
    write_window(w, *q.previous_interval);
  } else {
    w.raw("null");
    w.value_done();
  }
  w.key("agents");
  w.open_obj();
  for (int i = 0; i < kAgentStateCount; ++i) {
    member(w, to_string(static_cast<AgentState>(i)), q.agents[static_cast<std::size_t>(i)]);
  }
  w.close_obj();
  member(w, "arrival_rate", q.arrival_rate);
  member(w, "measured_aht", q.measured_aht);
  w.key("agents_required");
  if (q.agents_required) {
    w.num(*q.agents_required);
  } else {
    w.raw("null");
  }
  w.value_done();
  member(w, "surge_ratio", q.surge_ratio);
  member(w, "arrivals_5m", q.arrivals_5m);
  // 1.2: staffing and occupancy as the engine computed them (old boards ignore them).
  member(w, "staffed", q.staffed);
  w.key("staffing_gap");
  if (q.staffing_gap) {
    w.num(*q.staffing_gap);
  } else {
    w.raw("null");
  }
  w.value_done();
  member(w, "estimated_wait", q.estimated_wait);
  w.key("total");
  write_counters(w, q.total);
  w.key("answer_wait");
  write_histogram(w, q.answer_wait);
  w.key("abandon_wait");
  write_histogram(w, q.abandon_wait);
  w.key("handle");
  write_histogram(w, q.handle);
  member(w, "data_gap", q.data_gap);
  // 1.5: the callers waiting (oldest first, capped) and how many more.
  w.key("waiting_list");
  w.open_arr();
  for (const auto& c : q.waiting_list) {
    w.elem();
    w.open_obj();
    member(w, "position", c.position);
    member(w, "caller", c.caller);
    member(w, "entered", c.entered);
    if (!c.ringing.empty()) member(w, "ringing", c.ringing);
    w.close_obj();
  }
  w.close_arr();
  member(w, "waiting_unlisted", q.waiting_unlisted);
  if (!q.trend_arrivals.empty()) {
    member(w, "trend_start", q.trend_start);
    w.key("trend_arrivals");
    w.open_arr();
    for (int v : q.trend_arrivals) {
      w.elem();
      w.num(v);
    }
    w.close_arr();
    w.key("trend_sl");
    w.open_arr();
    for (double v : q.trend_sl) {
      w.elem();
      w.num(v);
    }
    w.close_arr();
  }
  w.close_obj();
}

void write_agent_counters(Writer& w, const AgentCounters& c) {
  w.open_obj();
  for_each_counter(c, [&](std::string_view name, const auto& v) { member(w, name, v); });
  w.key("state_seconds");
  w.open_obj();
  for (int i = 0; i < kAgentStateCount; ++i) {
    member(w, to_string(static_cast<AgentState>(i)), c.state_seconds[static_cast<std::size_t>(i)]);
  }
  w.close_obj();
  w.key("paused_by_reason");
  w.open_obj();
  for (const auto& [reason, secs] : c.paused_by_reason) member(w, reason, secs);
  w.close_obj();
  w.close_obj();
}

void write_agent(Writer& w, const AgentView& a) {
  w.open_obj();
  member(w, "name", a.name);
  member(w, "state", to_string(a.state));
  member(w, "state_since", a.state_since);
  member(w, "pause_reason", a.pause_reason);
  w.key("queues");
  w.open_arr();
  for (const auto& q : a.queues) {
    w.elem();
    w.str(q);
  }
  w.close_arr();
  w.key("today");
  write_agent_counters(w, a.today);
  w.key("interval");
  write_agent_counters(w, a.interval);
  if (a.call_known) member(w, "call_caller", a.call_caller);
  if (!a.call_queue.empty()) member(w, "call_queue", a.call_queue);
  w.close_obj();
}

void write_alert(Writer& w, const AlertView& a) {
  w.open_obj();
  member(w, "id", a.id);
  member(w, "rule", a.rule);
  member(w, "queue", a.queue);
  member(w, "severity", severity_name(a.severity));
  member(w, "state", alert_state_name(a.state));
  member(w, "value", a.value);
  member(w, "since", a.since);
  member(w, "message", a.message);
  if (!a.metric.empty()) {
    member(w, "metric", a.metric);
    member(w, "above", a.above);
    member(w, "threshold", a.threshold);
    member(w, "subject", a.subject);
    w.key("agents_needed");
    if (a.agents_needed) {
      w.num(*a.agents_needed);
    } else {
      w.raw("null");
    }
    w.value_done();
  }
  member(w, "acked", a.acked);
  member(w, "acked_by", a.acked_by);
  member(w, "acked_at", a.acked_at);
  member(w, "ack_comment", a.ack_comment);
  w.close_obj();
}

void write_transition(Writer& w, const AlertTransition& t) {
  w.open_obj();
  member(w, "id", t.id);
  member(w, "rule", t.rule);
  member(w, "queue", t.queue);
  member(w, "severity", severity_name(t.severity));
  member(w, "from", alert_state_name(t.from));
  member(w, "to", alert_state_name(t.to));
  member(w, "at", t.at);
  member(w, "value", t.value);
  member(w, "message", t.message);
  w.close_obj();
}

void write_data_quality(Writer& w, const DataQuality& d) {
  w.open_obj();
  member(w, "events", d.events);
  member(w, "rejected", d.rejected);
  member(w, "duplicates", d.duplicates);
  member(w, "restarts", d.restarts);
  member(w, "visits_cut", d.visits_cut);
  member(w, "inferred_outcomes", d.inferred_outcomes);
  member(w, "late_events", d.late_events);
  member(w, "clock_skew", d.clock_skew);
  w.key("warning_counts");
  w.open_obj();
  for (const auto& [kind, n] : d.warning_counts) member(w, kind, n);
  w.close_obj();
  w.key("warnings");
  w.open_arr();
  for (const auto& m : d.warnings) {
    w.elem();
    w.str(m);
  }
  w.close_arr();
  member(w, "gap", d.gap);
  w.close_obj();
}

template <typename C, typename F>
void write_array(Writer& w, std::string_view k, const C& items, F&& write_one) {
  w.key(k);
  w.open_arr();
  for (const auto& it : items) {
    w.elem();
    write_one(w, it);
  }
  w.close_arr();
}

void write_names(Writer& w, std::string_view k, const std::vector<std::string>& names) {
  write_array(w, k, names, [](Writer& ww, const std::string& s) {
    ww.str(s);
    ww.value_done();
  });
}

void write_broadcast(Writer& w, const BroadcastView& b) {
  w.open_obj();
  member(w, "id", b.id);
  member(w, "text", b.text);
  member(w, "from", b.from);
  member(w, "posted_at", b.posted_at);
  member(w, "expires_at", b.expires_at);
  w.close_obj();
}

void write_state_members(Writer& w, const Snapshot& s) {
  member(w, "now", s.now);
  member(w, "interval_start", s.interval_start);
  member(w, "day_start", s.day_start);
  member(w, "events_applied", s.events_applied);
  member(w, "version", s.version);
  write_array(w, "queues", s.queues, write_queue);
  write_array(w, "agents", s.agents, write_agent);
  write_array(w, "alerts", s.alerts, write_alert);
  w.key("data_quality");
  write_data_quality(w, s.data_quality);
  write_array(w, "broadcasts", s.broadcasts, write_broadcast);  // 1.4
}

void write_envelope(Writer& w, MessageType t, const Envelope& env) {
  w.open_obj();
  member(w, "proto", to_string(ProtocolVersion{}));
  member(w, "type", to_string(t));
  member(w, "seq", env.seq);
  member(w, "site", env.site);
  member(w, "sent_at", env.sent_at);
  member(w, "stream", env.stream);
}

// ---------------------------------------------------------------------------------------------
// Reading. A private exception carries the first error out of the nested readers; the public
// functions turn it into tl::unexpected, so callers only ever see expected<>.

struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

[[noreturn]] void fail(std::string_view what, std::string_view key) {
  throw DecodeError(std::string(what) + " '" + std::string(key) + "'");
}

object as_object(element e, std::string_view key) {
  object o;
  if (e.get(o) != simdjson::SUCCESS) fail("expected an object at", key);
  return o;
}
array as_array(element e, std::string_view key) {
  array a;
  if (e.get(a) != simdjson::SUCCESS) fail("expected an array at", key);
  return a;
}
std::string as_string(element e, std::string_view key) {
  std::string_view s;
  if (e.get(s) != simdjson::SUCCESS) fail("expected a string at", key);
  return std::string(s);
}
double as_double(element e, std::string_view key) {
  if (e.is_null()) return kNoValue;
  double d = 0;
  if (e.get(d) != simdjson::SUCCESS) fail("expected a number at", key);
  return d;
}
std::int64_t as_int(element e, std::string_view key) {
  std::int64_t v = 0;
  if (e.get(v) == simdjson::SUCCESS) return v;
  fail("expected an integer at", key);
}
std::uint64_t as_uint(element e, std::string_view key) {
  std::uint64_t v = 0;
  if (e.get(v) == simdjson::SUCCESS) return v;
  fail("expected a non-negative integer at", key);
}
bool as_bool(element e, std::string_view key) {
  bool b = false;
  if (e.get(b) != simdjson::SUCCESS) fail("expected true/false at", key);
  return b;
}

// Optional members: absent keys keep the default (older minor versions lack newer fields).
std::optional<element> find(object o, std::string_view key) {
  element e;
  if (o.at_key(key).get(e) != simdjson::SUCCESS) return std::nullopt;
  return e;
}
void opt(object o, std::string_view k, double& out) {
  if (auto e = find(o, k)) out = as_double(*e, k);
}
void opt(object o, std::string_view k, std::int64_t& out) {
  if (auto e = find(o, k)) out = as_int(*e, k);
}
void opt(object o, std::string_view k, std::uint64_t& out) {
  if (auto e = find(o, k)) out = as_uint(*e, k);
}
void opt(object o, std::string_view k, int& out) {
  if (auto e = find(o, k)) out = static_cast<int>(as_int(*e, k));
}
void opt(object o, std::string_view k, bool& out) {
  if (auto e = find(o, k)) out = as_bool(*e, k);
}
void opt(object o, std::string_view k, std::string& out) {
  if (auto e = find(o, k)) out = as_string(*e, k);
}
std::string required_string(object o, std::string_view k) {
  auto e = find(o, k);
  if (!e) fail("missing", k);
  return as_string(*e, k);
}

QueueCounters read_counters(element e) {
  object o = as_object(e, "counters");
  QueueCounters c;
  for_each_counter(c, [&](std::string_view name, auto& v) { opt(o, name, v); });
  return c;
}

Window read_window(element e) {
  object o = as_object(e, "window");
  Window w;
  opt(o, "since", w.since);
  opt(o, "until", w.until);
  if (auto c = find(o, "counters")) w.counters = read_counters(*c);
  return w;
}

Histogram read_histogram(element e) {
  object o = as_object(e, "histogram");
  Histogram h;
  if (auto b = find(o, "bounds")) {
    for (element x : as_array(*b, "bounds")) h.bounds.push_back(as_double(x, "bounds"));
  }
  if (auto c = find(o, "counts")) {
    for (element x : as_array(*c, "counts")) h.counts.push_back(as_uint(x, "counts"));
  }
  opt(o, "sum", h.sum);
  opt(o, "count", h.count);
  return h;
}

QueueView read_queue(element e) {
  object o = as_object(e, "queue");
  QueueView q;
  q.name = required_string(o, "name");
  if (auto s = find(o, "settings")) {
    object so = as_object(*s, "settings");
    opt(so, "display_name", q.settings.display_name);
    opt(so, "sl_threshold", q.settings.sl_threshold);
    opt(so, "sl_target", q.settings.sl_target);
    opt(so, "short_abandon", q.settings.short_abandon);
    std::string formula;
    opt(so, "formula", formula);
    if (!formula.empty() && !parse_sl_formula(formula, q.settings.formula)) {
      fail("unknown formula", formula);
    }
    opt(so, "erlang_aht", q.settings.erlang_aht);
    opt(so, "forecast_per_interval", q.settings.forecast_per_interval);
    opt(so, "site", q.settings.site);
  }
  opt(o, "calls_waiting", q.calls_waiting);
  opt(o, "longest_wait", q.longest_wait);
  if (auto ws = find(o, "windows")) {
    object wo = as_object(*ws, "windows");
    for (int i = 0; i < kWindowCount; ++i) {
      if (auto w = find(wo, window_label(static_cast<WindowKind>(i)))) {
        q.windows[static_cast<std::size_t>(i)] = read_window(*w);
      }
    }
  }
  if (auto p = find(o, "previous_interval"); p && !p->is_null()) q.previous_interval = read_window(*p);
  if (auto a = find(o, "agents")) {
    object ao = as_object(*a, "agents");
    for (int i = 0; i < kAgentStateCount; ++i) {
      opt(ao, to_string(static_cast<AgentState>(i)), q.agents[static_cast<std::size_t>(i)]);
    }
  }
  opt(o, "arrival_rate", q.arrival_rate);
  opt(o, "measured_aht", q.measured_aht);
  if (auto r = find(o, "agents_required"); r && !r->is_null()) {
    q.agents_required = static_cast<int>(as_int(*r, "agents_required"));
  }
  opt(o, "surge_ratio", q.surge_ratio);
  opt(o, "arrivals_5m", q.arrivals_5m);
  if (find(o, "staffed")) {
    opt(o, "staffed", q.staffed);
  } else {
    q.staffed = staffed(q.agents);  // a 1.1 daemon: the same formula, here
  }
  if (auto g = find(o, "staffing_gap")) {
    if (!g->is_null()) q.staffing_gap = static_cast<int>(as_int(*g, "staffing_gap"));
  } else {
    q.staffing_gap = staffing_gap(q.agents_required, q.staffed);
  }
  opt(o, "estimated_wait", q.estimated_wait);
  if (auto t = find(o, "total")) q.total = read_counters(*t);
  if (auto h = find(o, "answer_wait")) q.answer_wait = read_histogram(*h);
  if (auto h = find(o, "abandon_wait")) q.abandon_wait = read_histogram(*h);
  if (auto h = find(o, "handle")) q.handle = read_histogram(*h);
  opt(o, "data_gap", q.data_gap);
  if (auto wl = find(o, "waiting_list")) {
    for (element x : as_array(*wl, "waiting_list")) {
      // Bounded on read as on write: a list longer than the cap is cut and counted as unlisted.
      if (static_cast<int>(q.waiting_list.size()) >= kMaxWaitingListed) {
        ++q.waiting_unlisted;
        continue;
      }
      object co = as_object(x, "waiting_list");
      WaitingCaller c;
      opt(co, "position", c.position);
      opt(co, "caller", c.caller);
      opt(co, "entered", c.entered);
      opt(co, "ringing", c.ringing);
      q.waiting_list.push_back(std::move(c));
    }
  }
  if (auto u = find(o, "waiting_unlisted")) q.waiting_unlisted += static_cast<int>(as_int(*u, "waiting_unlisted"));
  opt(o, "trend_start", q.trend_start);
  // At most kTrendMinutes each: more is not a longer trend, it is input to refuse.
  if (auto t = find(o, "trend_arrivals")) {
    for (element x : as_array(*t, "trend_arrivals")) {
      if (static_cast<int>(q.trend_arrivals.size()) >= kTrendMinutes) fail("too long", "trend_arrivals");
      q.trend_arrivals.push_back(static_cast<int>(as_int(x, "trend_arrivals")));
    }
  }
  if (auto t = find(o, "trend_sl")) {
    for (element x : as_array(*t, "trend_sl")) {
      if (static_cast<int>(q.trend_sl.size()) >= kTrendMinutes) fail("too long", "trend_sl");
      q.trend_sl.push_back(as_double(x, "trend_sl"));
    }
  }
  return q;
}

AgentCounters read_agent_counters(element e) {
  object o = as_object(e, "agent counters");
  AgentCounters c;
  for_each_counter(c, [&](std::string_view name, auto& v) { opt(o, name, v); });
  if (auto s = find(o, "state_seconds")) {
    object so = as_object(*s, "state_seconds");
    for (int i = 0; i < kAgentStateCount; ++i) {
      opt(so, to_string(static_cast<AgentState>(i)), c.state_seconds[static_cast<std::size_t>(i)]);
    }
  }
  if (auto p = find(o, "paused_by_reason")) {
    for (auto field : as_object(*p, "paused_by_reason")) {
      c.paused_by_reason[std::string(field.key)] = as_double(field.value, field.key);
    }
  }
  return c;
}

AgentView read_agent(element e) {
  object o = as_object(e, "agent");
  AgentView a;
  a.name = required_string(o, "name");
  std::string state;
  opt(o, "state", state);
  if (!state.empty() && !parse_agent_state(state, a.state)) fail("unknown agent state", state);
  opt(o, "state_since", a.state_since);
  opt(o, "pause_reason", a.pause_reason);
  if (auto qs = find(o, "queues")) {
    for (element x : as_array(*qs, "queues")) a.queues.push_back(as_string(x, "queues"));
  }
  if (auto t = find(o, "today")) a.today = read_agent_counters(*t);
  if (auto i = find(o, "interval")) a.interval = read_agent_counters(*i);
  if (auto c = find(o, "call_caller")) {
    a.call_caller = as_string(*c, "call_caller");
    a.call_known = true;
  }
  opt(o, "call_queue", a.call_queue);
  return a;
}

AlertView read_alert(element e) {
  object o = as_object(e, "alert");
  AlertView a;
  a.id = required_string(o, "id");
  opt(o, "rule", a.rule);
  opt(o, "queue", a.queue);
  std::string s;
  opt(o, "severity", s);
  if (!s.empty() && !parse_severity(s, a.severity)) fail("unknown severity", s);
  s.clear();
  opt(o, "state", s);
  if (!s.empty() && !parse_alert_state(s, a.state)) fail("unknown alert state", s);
  opt(o, "value", a.value);
  opt(o, "since", a.since);
  opt(o, "message", a.message);
  opt(o, "metric", a.metric);
  opt(o, "above", a.above);
  opt(o, "threshold", a.threshold);
  opt(o, "subject", a.subject);
  if (auto n = find(o, "agents_needed"); n && !n->is_null()) {
    a.agents_needed = static_cast<int>(as_int(*n, "agents_needed"));
  }
  opt(o, "acked", a.acked);
  opt(o, "acked_by", a.acked_by);
  opt(o, "acked_at", a.acked_at);
  opt(o, "ack_comment", a.ack_comment);
  return a;
}

AlertTransition read_transition(element e) {
  object o = as_object(e, "history");
  AlertTransition t;
  t.id = required_string(o, "id");
  opt(o, "rule", t.rule);
  opt(o, "queue", t.queue);
  std::string s;
  opt(o, "severity", s);
  if (!s.empty() && !parse_severity(s, t.severity)) fail("unknown severity", s);
  for (auto [key, field] : {std::pair{"from", &t.from}, std::pair{"to", &t.to}}) {
    s.clear();
    opt(o, key, s);
    if (!s.empty() && !parse_alert_state(s, *field)) fail("unknown alert state", s);
  }
  opt(o, "at", t.at);
  opt(o, "value", t.value);
  opt(o, "message", t.message);
  return t;
}

DataQuality read_data_quality(element e) {
  object o = as_object(e, "data_quality");
  DataQuality d;
  opt(o, "events", d.events);
  opt(o, "rejected", d.rejected);
  opt(o, "duplicates", d.duplicates);
  opt(o, "restarts", d.restarts);
  opt(o, "visits_cut", d.visits_cut);
  opt(o, "inferred_outcomes", d.inferred_outcomes);
  opt(o, "late_events", d.late_events);
  opt(o, "clock_skew", d.clock_skew);
  if (auto wc = find(o, "warning_counts")) {
    for (auto field : as_object(*wc, "warning_counts")) {
      d.warning_counts[std::string(field.key)] = as_uint(field.value, field.key);
    }
  }
  if (auto ws = find(o, "warnings")) {
    for (element x : as_array(*ws, "warnings")) d.warnings.push_back(as_string(x, "warnings"));
  }
  opt(o, "gap", d.gap);
  return d;
}

template <typename C, typename F>
void read_array(object o, std::string_view k, C& out, F&& read_one) {
  if (auto a = find(o, k)) {
    for (element x : as_array(*a, k)) out.push_back(read_one(x));
  }
}

void read_names(object o, std::string_view k, std::vector<std::string>& out) {
  read_array(o, k, out, [k](element x) { return as_string(x, k); });
}

BroadcastView read_broadcast(element e) {
  object o = as_object(e, "broadcast");
  BroadcastView b;
  b.id = required_string(o, "id");
  opt(o, "text", b.text);
  opt(o, "from", b.from);
  opt(o, "posted_at", b.posted_at);
  opt(o, "expires_at", b.expires_at);
  return b;
}

void read_state_members(object o, Snapshot& s) {
  opt(o, "now", s.now);
  opt(o, "interval_start", s.interval_start);
  opt(o, "day_start", s.day_start);
  opt(o, "events_applied", s.events_applied);
  opt(o, "version", s.version);
  read_array(o, "queues", s.queues, read_queue);
  read_array(o, "agents", s.agents, read_agent);
  read_array(o, "alerts", s.alerts, read_alert);
  if (auto d = find(o, "data_quality")) s.data_quality = read_data_quality(*d);
  read_array(o, "broadcasts", s.broadcasts, read_broadcast);  // absent before 1.4: none
}

bool parse_proto(std::string_view s, ProtocolVersion& out) {
  const auto dot = s.find('.');
  if (dot == std::string_view::npos) return false;
  auto a = std::from_chars(s.data(), s.data() + dot, out.major);
  auto b = std::from_chars(s.data() + dot + 1, s.data() + s.size(), out.minor);
  return a.ec == std::errc{} && a.ptr == s.data() + dot && b.ec == std::errc{} &&
         b.ptr == s.data() + s.size();
}

bool parse_type(std::string_view s, MessageType& out) {
  for (auto t : {MessageType::snapshot, MessageType::delta, MessageType::heartbeat,
                 MessageType::request, MessageType::error, MessageType::reply}) {
    if (to_string(t) == s) {
      out = t;
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Diff

bool same(double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; }
bool near(double a, double b, double tol) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::fabs(a - b) < tol;
}
// Rates and ratios drift as sliding windows age; a change below 0.5 % is not shown anywhere.
bool near_rel(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::fabs(a - b) <= 0.005 * std::max(std::fabs(a), std::fabs(b)) + 1e-9;
}


// Counts and sums exactly; agent time (which grows with the clock) within the time tolerance.
bool same_counters(const QueueCounters& a, const QueueCounters& b, double tol) {
  for (const auto& f : kQueueIntFields) {
    if (a.*f.member != b.*f.member) return false;
  }
  for (const auto& f : kQueueRealFields) {
    const bool ok = f.merge == Merge::clock ? near(a.*f.member, b.*f.member, tol)
                                            : same(a.*f.member, b.*f.member);
    if (!ok) return false;
  }
  return true;
}

bool same_window(const Window& a, const Window& b, double tol) {
  return same_counters(a.counters, b.counters, tol) && near(a.since, b.since, tol) &&
         near(a.until, b.until, tol);
}

bool same_histogram(const Histogram& a, const Histogram& b) {
  return a.count == b.count && a.counts == b.counts && a.bounds == b.bounds && same(a.sum, b.sum);
}

bool same_settings(const QueueSettings& a, const QueueSettings& b) {
  return a.display_name == b.display_name && same(a.sl_threshold, b.sl_threshold) &&
         same(a.sl_target, b.sl_target) && same(a.short_abandon, b.short_abandon) &&
         a.formula == b.formula && same(a.erlang_aht, b.erlang_aht) &&
         same(a.forecast_per_interval, b.forecast_per_interval) && a.site == b.site;
}

// The live longest wait is shown to the second: resend once it moved by one.
constexpr double kLongestWaitStep = 1.0;

bool same_queue(const QueueView& a, const QueueView& b, double tol) {
  if (a.name != b.name || !same_settings(a.settings, b.settings) ||
      a.calls_waiting != b.calls_waiting || !near(a.longest_wait, b.longest_wait, kLongestWaitStep) ||
      a.agents != b.agents || a.agents_required != b.agents_required ||
      a.staffed != b.staffed || a.staffing_gap != b.staffing_gap ||
      !near(a.estimated_wait, b.estimated_wait, kLongestWaitStep) ||
      a.arrivals_5m != b.arrivals_5m || a.data_gap != b.data_gap ||
      !near_rel(a.arrival_rate, b.arrival_rate) || !near_rel(a.measured_aht, b.measured_aht) ||
      !near_rel(a.surge_ratio, b.surge_ratio) || !same_counters(a.total, b.total, tol)) {
    return false;
  }
  for (std::size_t i = 0; i < a.windows.size(); ++i) {
    if (!same_window(a.windows[i], b.windows[i], tol)) return false;
  }
  if (a.previous_interval.has_value() != b.previous_interval.has_value()) return false;
  if (a.previous_interval && !same_window(*a.previous_interval, *b.previous_interval, 0.5)) {
    return false;
  }
  if (a.trend_start != b.trend_start || a.trend_arrivals != b.trend_arrivals ||
      a.trend_sl.size() != b.trend_sl.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.trend_sl.size(); ++i) {
    if (!same(a.trend_sl[i], b.trend_sl[i])) return false;
  }
  return a.waiting_list == b.waiting_list && a.waiting_unlisted == b.waiting_unlisted &&
         same_histogram(a.answer_wait, b.answer_wait) &&
         same_histogram(a.abandon_wait, b.abandon_wait) && same_histogram(a.handle, b.handle);
}

bool same_agent_counters(const AgentCounters& a, const AgentCounters& b, double tol) {
  for (const auto& f : kAgentIntFields) {
    if (a.*f.member != b.*f.member) return false;
  }
  for (const auto& f : kAgentRealFields) {
    if (!near(a.*f.member, b.*f.member, tol)) return false;
  }
  for (std::size_t i = 0; i < a.state_seconds.size(); ++i) {
    if (!near(a.state_seconds[i], b.state_seconds[i], tol)) return false;
  }
  if (a.paused_by_reason.size() != b.paused_by_reason.size()) return false;
  for (auto ia = a.paused_by_reason.begin(), ib = b.paused_by_reason.begin();
       ia != a.paused_by_reason.end(); ++ia, ++ib) {
    if (ia->first != ib->first || !near(ia->second, ib->second, tol)) return false;
  }
  return true;
}

bool same_agent(const AgentView& a, const AgentView& b, double tol) {
  return a.name == b.name && a.state == b.state && same(a.state_since, b.state_since) &&
         a.pause_reason == b.pause_reason && a.queues == b.queues &&
         a.call_caller == b.call_caller && a.call_queue == b.call_queue &&
         a.call_known == b.call_known &&
         same_agent_counters(a.today, b.today, tol) &&
         same_agent_counters(a.interval, b.interval, tol);
}

bool same_alert(const AlertView& a, const AlertView& b) {
  return a.id == b.id && a.rule == b.rule && a.queue == b.queue && a.severity == b.severity &&
         a.state == b.state && near_rel(a.value, b.value) && same(a.since, b.since) &&
         a.message == b.message && a.metric == b.metric && a.above == b.above &&
         same(a.threshold, b.threshold) && a.subject == b.subject &&
         a.agents_needed == b.agents_needed && a.acked == b.acked && a.acked_by == b.acked_by &&
         same(a.acked_at, b.acked_at) && a.ack_comment == b.ack_comment;
}

bool same_data_quality(const DataQuality& a, const DataQuality& b) {
  return a.events == b.events && a.rejected == b.rejected && a.duplicates == b.duplicates &&
         a.restarts == b.restarts && a.visits_cut == b.visits_cut &&
         a.inferred_outcomes == b.inferred_outcomes && a.late_events == b.late_events &&
         a.clock_skew == b.clock_skew && a.warning_counts == b.warning_counts &&
         a.warnings == b.warnings && a.gap == b.gap;
}

const std::string& key_of(const QueueView& q) { return q.name; }
const std::string& key_of(const AgentView& a) { return a.name; }
const std::string& key_of(const AlertView& a) { return a.id; }

template <typename C>
bool sorted_by_key(const C& v) {
  using T = typename C::value_type;
  return std::is_sorted(v.begin(), v.end(),
                        [](const T& a, const T& b) { return key_of(a) < key_of(b); });
}

// The same view object in both lists: unchanged, nothing to compare (shared_list.hpp).
template <typename T>
bool same_object(const std::vector<T>&, std::size_t, const std::vector<T>&, std::size_t) {
  return false;
}
template <typename T>
bool same_object(const SharedList<T>& a, std::size_t i, const SharedList<T>& b, std::size_t j) {
  return a.address(i) == b.address(j);
}

// Entities present in `to` and absent or different in `from` go to `changed`; names present
// only in `from` go to `removed`. Snapshots come sorted by name: then one merge pass, no hash of
// 10,000 names every 100 ms (a third of the publisher's time at the large size otherwise), and an
// entry the engine reused from the older snapshot is passed over by its address.
template <typename C, typename T, typename Same>
void diff_entities(const C& from, const C& to, std::vector<T>& changed,
                   std::vector<std::string>& removed, Same&& same_fn, const C* last = nullptr) {
  // `to[j]` is `last[j]` itself: as `from` has it already (see diff()).
  const auto known = [&](std::size_t j) { return last && j < last->size() && same_object(*last, j, to, j); };
  if (sorted_by_key(from) && sorted_by_key(to)) {
    std::size_t i = 0, j = 0;
    while (i < from.size() || j < to.size()) {
      if (j == to.size() || (i < from.size() && key_of(from[i]) < key_of(to[j]))) {
        removed.push_back(key_of(from[i++]));
      } else if (i == from.size() || key_of(to[j]) < key_of(from[i])) {
        changed.push_back(to[j++]);
      } else {
        if (!same_object(from, i, to, j) && !known(j) && !same_fn(from[i], to[j])) changed.push_back(to[j]);
        ++i;
        ++j;
      }
    }
    return;
  }
  std::unordered_map<std::string_view, const T*> old;
  old.reserve(from.size());
  for (const auto& e : from) old.emplace(key_of(e), &e);
  for (const auto& e : to) {
    auto it = old.find(key_of(e));
    if (it == old.end()) {
      changed.push_back(e);
      continue;
    }
    if (it->second != &e && !same_fn(*it->second, e)) changed.push_back(e);
    old.erase(it);
  }
  for (const auto& e : from) {
    if (old.contains(key_of(e))) removed.push_back(key_of(e));
  }
}

template <typename T, typename Less>
void sort_all(std::vector<T>& v, Less less) { std::sort(v.begin(), v.end(), less); }
template <typename T, typename Less>
void sort_all(SharedList<T>& v, Less less) { v.sort(less); }
template <typename T>
void replace_at(std::vector<T>& v, std::size_t i, const T& e) { v[i] = e; }
template <typename T>
void replace_at(SharedList<T>& v, std::size_t i, const T& e) { v.replace(i, e); }
template <typename T, typename Pred>
void erase_where(std::vector<T>& v, Pred pred) { std::erase_if(v, pred); }
template <typename T, typename Pred>
void erase_where(SharedList<T>& v, Pred pred) { v.erase_if(pred); }
template <typename T, typename Less>
void merge_tail(std::vector<T>& v, std::size_t mid, Less less) {
  const auto m = v.begin() + static_cast<std::ptrdiff_t>(mid);
  std::sort(m, v.end(), less);
  std::inplace_merge(v.begin(), m, v.end(), less);
}
template <typename T, typename Less>
void merge_tail(SharedList<T>& v, std::size_t mid, Less less) { v.sort_tail_and_merge(mid, less); }

// Keeps `state` sorted by key; a change is found by binary search, so applying a few changes to
// 10,000 agents costs a few lookups.
template <typename C, typename T>
void apply_entities(C& state, const std::vector<T>& changed,
                    const std::vector<std::string>& removed) {
  if (changed.empty() && removed.empty()) return;
  const auto less = [](const T& a, const T& b) { return key_of(a) < key_of(b); };
  if (!sorted_by_key(state)) sort_all(state, less);
  const C& cstate = state;
  auto find = [&](std::string_view k) {
    return static_cast<std::size_t>(
        std::lower_bound(cstate.begin(), cstate.end(), k,
                         [](const T& e, std::string_view key) { return key_of(e) < key; }) -
        cstate.begin());
  };
  std::vector<T> added;
  for (const auto& e : changed) {
    const std::size_t at = find(key_of(e));
    if (at < cstate.size() && key_of(cstate[at]) == key_of(e)) {
      replace_at(state, at, e);
    } else {
      added.push_back(e);
    }
  }
  if (!removed.empty()) {
    std::vector<std::string_view> gone(removed.begin(), removed.end());
    std::sort(gone.begin(), gone.end());
    erase_where(state, [&](const T& e) {
      return std::binary_search(gone.begin(), gone.end(), std::string_view(key_of(e)));
    });
  }
  if (!added.empty()) {
    const std::size_t mid = state.size();
    for (auto& e : added) state.push_back(std::move(e));
    merge_tail(state, mid, less);
  }
}

}  // namespace

std::string to_string(ProtocolVersion v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor);
}

std::string_view to_string(MessageType t) {
  switch (t) {
    case MessageType::snapshot: return "snapshot";
    case MessageType::delta: return "delta";
    case MessageType::heartbeat: return "heartbeat";
    case MessageType::request: return "request";
    case MessageType::error: return "error";
    case MessageType::reply: return "reply";
  }
  return "error";
}

bool SnapshotDelta::has_changes() const {
  return !queues.empty() || !removed_queues.empty() || !agents.empty() ||
         !removed_agents.empty() || !alerts.empty() || !removed_alerts.empty() ||
         data_quality.has_value() || broadcasts.has_value();
}

SnapshotDelta diff(const Snapshot& from, const Snapshot& to, const DiffOptions& opts, const Snapshot* last) {
  SnapshotDelta d;
  d.now = to.now;
  d.interval_start = to.interval_start;
  d.day_start = to.day_start;
  d.events_applied = to.events_applied;
  d.version = to.version;
  const double tol = opts.time_tolerance_seconds;
  diff_entities(from.queues, to.queues, d.queues, d.removed_queues,
                [tol](const QueueView& a, const QueueView& b) { return same_queue(a, b, tol); },
                last ? &last->queues : nullptr);
  diff_entities(from.agents, to.agents, d.agents, d.removed_agents,
                [tol](const AgentView& a, const AgentView& b) { return same_agent(a, b, tol); },
                last ? &last->agents : nullptr);
  diff_entities(from.alerts, to.alerts, d.alerts, d.removed_alerts, same_alert);
  if (!same_data_quality(from.data_quality, to.data_quality)) d.data_quality = to.data_quality;
  if (from.broadcasts != to.broadcasts) d.broadcasts = to.broadcasts;
  return d;
}

void apply(Snapshot& state, const SnapshotDelta& d) {
  state.now = d.now;
  state.interval_start = d.interval_start;
  state.day_start = d.day_start;
  state.events_applied = d.events_applied;
  state.version = d.version;
  apply_entities(state.queues, d.queues, d.removed_queues);
  apply_entities(state.agents, d.agents, d.removed_agents);
  apply_entities(state.alerts, d.alerts, d.removed_alerts);
  if (d.data_quality) state.data_quality = *d.data_quality;
  if (d.broadcasts) state.broadcasts = *d.broadcasts;
}

std::string encode_state(const Snapshot& s) {
  Writer w;
  w.open_obj();
  write_state_members(w, s);
  w.close_obj();
  return std::move(w.out);
}

std::string encode_snapshot(const Snapshot& s, const Envelope& env) {
  Writer w;
  w.out.reserve(1024 + s.queues.size() * 3000 + s.agents.size() * 600);
  write_envelope(w, MessageType::snapshot, env);
  w.key("state");
  w.open_obj();
  write_state_members(w, s);
  w.close_obj();
  w.close_obj();
  return std::move(w.out);
}

std::string encode_delta(const SnapshotDelta& d, const Envelope& env) {
  Writer w;
  w.out.reserve(512 + d.queues.size() * 3000 + d.agents.size() * 600);
  write_envelope(w, MessageType::delta, env);
  member(w, "now", d.now);
  member(w, "interval_start", d.interval_start);
  member(w, "day_start", d.day_start);
  member(w, "events_applied", d.events_applied);
  member(w, "version", d.version);
  write_array(w, "queues", d.queues, write_queue);
  write_names(w, "removed_queues", d.removed_queues);
  write_array(w, "agents", d.agents, write_agent);
  write_names(w, "removed_agents", d.removed_agents);
  write_array(w, "alerts", d.alerts, write_alert);
  write_names(w, "removed_alerts", d.removed_alerts);
  if (d.data_quality) {
    w.key("data_quality");
    write_data_quality(w, *d.data_quality);
  }
  if (d.broadcasts) write_array(w, "broadcasts", *d.broadcasts, write_broadcast);
  w.close_obj();
  return std::move(w.out);
}

std::string encode_heartbeat(double now, const Envelope& env) {
  Writer w;
  write_envelope(w, MessageType::heartbeat, env);
  member(w, "now", now);
  w.close_obj();
  return std::move(w.out);
}

std::string encode_request(std::string_view request, std::string_view alert_id) {
  Writer w;
  write_envelope(w, MessageType::request, Envelope{});
  member(w, "request", request);
  if (!alert_id.empty()) member(w, "alert", alert_id);
  w.close_obj();
  return std::move(w.out);
}

std::string encode_ack_request(std::string_view alert_id, std::string_view who,
                               std::string_view comment, std::string_view role) {
  Writer w;
  write_envelope(w, MessageType::request, Envelope{});
  member(w, "request", std::string_view("ack"));
  member(w, "alert", alert_id);
  member(w, "who", who);
  if (!comment.empty()) member(w, "comment", comment);
  member(w, "role", role);
  w.close_obj();
  return std::move(w.out);
}

std::string encode_reply(std::string_view request, std::string_view alert_id, const Envelope& env) {
  Writer w;
  write_envelope(w, MessageType::reply, env);
  member(w, "request", request);
  if (!alert_id.empty()) member(w, "alert", alert_id);
  w.close_obj();
  return std::move(w.out);
}

std::string encode_broadcast_request(std::string_view text, double ttl, std::string_view who,
                                     std::string_view role) {
  Writer w;
  write_envelope(w, MessageType::request, Envelope{});
  member(w, "request", std::string_view("broadcast"));
  member(w, "text", text);
  member(w, "ttl", ttl);
  member(w, "who", who);
  member(w, "role", role);
  w.close_obj();
  return std::move(w.out);
}

std::string encode_withdraw_request(std::string_view broadcast_id, std::string_view who,
                                    std::string_view role) {
  Writer w;
  write_envelope(w, MessageType::request, Envelope{});
  member(w, "request", std::string_view("withdraw"));
  member(w, "broadcast", broadcast_id);
  member(w, "who", who);
  member(w, "role", role);
  w.close_obj();
  return std::move(w.out);
}

std::string encode_broadcast_reply(std::string_view request, std::string_view broadcast_id,
                                   const Envelope& env) {
  Writer w;
  write_envelope(w, MessageType::reply, env);
  member(w, "request", request);
  member(w, "broadcast", broadcast_id);
  w.close_obj();
  return std::move(w.out);
}

std::string encode_alert_history(const std::vector<AlertTransition>& history, double since,
                                 const Envelope& env) {
  Writer w;
  w.out.reserve(256 + history.size() * 200);
  write_envelope(w, MessageType::reply, env);
  member(w, "request", std::string_view("alert_history"));
  member(w, "since", since);
  write_array(w, "history", history, write_transition);
  w.close_obj();
  return std::move(w.out);
}

std::string encode_agent_history_request(std::string_view agent) {
  Writer w;
  write_envelope(w, MessageType::request, Envelope{});
  member(w, "request", std::string_view("agent_history"));
  member(w, "agent", agent);
  w.close_obj();
  return std::move(w.out);
}

std::string encode_agent_history(std::string_view agent, double since,
                                 const std::vector<AgentSpan>& spans, std::uint64_t cut,
                                 const Envelope& env) {
  Writer w;
  w.out.reserve(256 + spans.size() * 64);
  write_envelope(w, MessageType::reply, env);
  member(w, "request", std::string_view("agent_history"));
  member(w, "agent", agent);
  member(w, "since", since);
  member(w, "spans_cut", cut);
  write_array(w, "spans", spans, [](Writer& ww, const AgentSpan& sp) {
    ww.open_obj();
    member(ww, "from", sp.from);
    member(ww, "to", sp.to);
    member(ww, "state", to_string(sp.state));
    if (!sp.reason.empty()) member(ww, "reason", sp.reason);
    ww.close_obj();
  });
  w.close_obj();
  return std::move(w.out);
}

std::string encode_error(std::string_view request, std::string_view error, const Envelope& env) {
  Writer w;
  write_envelope(w, MessageType::error, env);
  member(w, "request", request);
  member(w, "error", error);
  w.close_obj();
  return std::move(w.out);
}

tl::expected<Snapshot, std::string> decode_state(std::string_view json) {
  simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root); err) {
    return tl::unexpected(std::string("not JSON: ") + simdjson::error_message(err));
  }
  try {
    Snapshot s;
    read_state_members(as_object(root, "state"), s);
    return s;
  } catch (const DecodeError& e) {
    return tl::unexpected(std::string(e.what()));
  }
}

tl::expected<Message, std::string> decode(std::string_view json) {
  // One parser per thread: reusing its buffers keeps a 10 Hz delta stream allocation-light.
  thread_local simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root); err) {
    return tl::unexpected(std::string("not JSON: ") + simdjson::error_message(err));
  }
  try {
    object o = as_object(root, "message");
    Message m;
    const std::string proto = required_string(o, "proto");
    if (!parse_proto(proto, m.proto)) fail("bad protocol version", proto);
    const std::string type = required_string(o, "type");
    if (!parse_type(type, m.type)) fail("unknown message type", type);
    opt(o, "seq", m.seq);
    opt(o, "site", m.site);
    opt(o, "sent_at", m.sent_at);
    opt(o, "stream", m.stream);
    if (!m.compatible()) return m;  // another major: the body's meaning is unknown to us

    switch (m.type) {
      case MessageType::snapshot: {
        auto st = find(o, "state");
        if (!st) fail("missing", "state");
        read_state_members(as_object(*st, "state"), m.snapshot);
        break;
      }
      case MessageType::delta: {
        SnapshotDelta& d = m.delta;
        opt(o, "now", d.now);
        opt(o, "interval_start", d.interval_start);
        opt(o, "day_start", d.day_start);
        opt(o, "events_applied", d.events_applied);
        opt(o, "version", d.version);
        read_array(o, "queues", d.queues, read_queue);
        read_names(o, "removed_queues", d.removed_queues);
        read_array(o, "agents", d.agents, read_agent);
        read_names(o, "removed_agents", d.removed_agents);
        read_array(o, "alerts", d.alerts, read_alert);
        read_names(o, "removed_alerts", d.removed_alerts);
        if (auto dq = find(o, "data_quality")) d.data_quality = read_data_quality(*dq);
        if (find(o, "broadcasts")) {
          d.broadcasts.emplace();
          read_array(o, "broadcasts", *d.broadcasts, read_broadcast);
        }
        m.now = d.now;
        break;
      }
      case MessageType::heartbeat:
        opt(o, "now", m.now);
        break;
      case MessageType::request:
        m.request = required_string(o, "request");
        opt(o, "alert", m.alert_id);
        opt(o, "who", m.who);
        opt(o, "comment", m.comment);
        opt(o, "role", m.role);
        opt(o, "text", m.text);
        opt(o, "ttl", m.ttl);
        opt(o, "broadcast", m.broadcast_id);
        opt(o, "agent", m.agent);
        break;
      case MessageType::reply:
        opt(o, "request", m.request);
        opt(o, "alert", m.alert_id);
        opt(o, "since", m.since);
        opt(o, "broadcast", m.broadcast_id);
        read_array(o, "history", m.history, read_transition);
        opt(o, "agent", m.agent);
        opt(o, "spans_cut", m.spans_cut);
        if (auto sp = find(o, "spans")) {
          for (element x : as_array(*sp, "spans")) {
            if (m.spans.size() >= kMaxAgentSpans) fail("too many", "spans");
            object so = as_object(x, "spans");
            AgentSpan span;
            opt(so, "from", span.from);
            opt(so, "to", span.to);
            std::string st;
            opt(so, "state", st);
            if (!parse_agent_state(st, span.state)) fail("unknown agent state", st);
            opt(so, "reason", span.reason);
            m.spans.push_back(std::move(span));
          }
        }
        break;
      case MessageType::error:
        opt(o, "request", m.request);
        opt(o, "error", m.error);
        break;
    }
    return m;
  } catch (const DecodeError& e) {
    return tl::unexpected(std::string(e.what()));
  }
}

}  // namespace callwatch::metrics::wire
