// The /metrics renderer. One table names every family (kMetrics); render_metrics walks the families
// in table order and writes each one's samples, so HELP/TYPE and samples can never drift apart.
// Plain appends into a reused string: a 100k-series body costs a few milliseconds.
#include "serve/exporter.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <optional>

#include "callwatch/metrics/kpi.hpp"

namespace callwatch::daemon {

namespace {

using metrics::Snapshot;

enum class M : std::uint8_t {
  queue_info,
  queue_calls_waiting,
  queue_longest_wait,
  queue_offered,
  queue_answered,
  queue_abandoned,
  queue_short_abandoned,
  queue_timed_out,
  queue_exited_empty,
  queue_exited_key,
  queue_transferred_out,
  queue_answered_within_sl,
  queue_abandoned_within_sl,
  queue_bounced,
  queue_answer_wait,
  queue_abandon_wait,
  queue_handle,
  queue_service_level,
  queue_sl_threshold,
  queue_sl_target,
  queue_asa,
  queue_aht,
  queue_abandon_ratio,
  queue_window_start,
  queue_agents,
  queue_agents_required,
  queue_agents_staffed,
  queue_estimated_wait,
  queue_occupancy,
  queue_surge,
  queue_data_gap,
  agent_state,
  agent_state_omitted,
  alerts_firing,
  feed_up,
  feed_last_event,
  feed_events,
  feed_rejected,
  feed_ignored,
  engine_events_applied,
  engine_warnings,
  engine_data_quality,
  engine_snapshot_time,
  store_errors,
  store_last_checkpoint,
  http_connections,
  http_refused,
  http_auth_failures,
  wallboard_snapshot_requests,
  wallboard_snapshot_encodes,
  wallboard_queued_reply_bytes,
  wallboard_broadcasts,
  wallboard_requests_refused,
  wallboard_agent_timeline_spans,
  wallboard_agent_timeline_dropped,
  build_info,
  count
};

using C = metrics::QueueCounters;

constexpr std::array<MetricInfo, static_cast<std::size_t>(M::count)> kMetrics = {{
    {"callwatch_queue_info", "gauge", "queue,display_name,site",
     "Queue metadata (display name, site); always 1."},
    {"callwatch_queue_calls_waiting", "gauge", "queue", "Calls waiting in the queue now."},
    {"callwatch_queue_longest_wait_seconds", "gauge", "queue",
     "Wait of the oldest call waiting now; 0 when none waits."},
    {"callwatch_queue_calls_offered_total", "counter", "queue",
     "Visits with an outcome: answered + abandoned + timed out + exited empty + exited by key."},
    {"callwatch_queue_calls_answered_total", "counter", "queue", "Visits answered by an agent.",
     &C::answered},
    {"callwatch_queue_calls_abandoned_total", "counter", "queue",
     "Visits the caller hung up while waiting (short abandons included).", &C::abandoned},
    {"callwatch_queue_calls_short_abandoned_total", "counter", "queue",
     "Abandoned visits with a wait under the queue's short-abandon threshold.", &C::short_abandoned},
    {"callwatch_queue_calls_timed_out_total", "counter", "queue", "Visits ended by the queue timeout.",
     &C::timed_out},
    {"callwatch_queue_calls_exited_empty_total", "counter", "queue",
     "Visits ended because no agent was logged in.", &C::exited_empty},
    {"callwatch_queue_calls_exited_key_total", "counter", "queue",
     "Visits the caller left by pressing a key.", &C::exited_key},
    {"callwatch_queue_calls_transferred_out_total", "counter", "queue",
     "Visits left by transfer before an answer (not offered).", &C::transferred_out},
    {"callwatch_queue_calls_answered_within_sl_total", "counter", "queue",
     "Answered visits with a wait at or under the queue's service-level threshold.",
     &C::answered_within_sl},
    {"callwatch_queue_calls_abandoned_within_sl_total", "counter", "queue",
     "Abandoned visits with a wait at or under the queue's service-level threshold.",
     &C::abandoned_within_sl},
    {"callwatch_queue_calls_bounced_total", "counter", "queue",
     "Calls offered to 3 or more agents or queues before an answer, counted once in the queue "
     "where the third offer happened.",
     &C::bounced},
    {"callwatch_queue_answer_wait_seconds", "histogram", "queue", "Wait of answered visits."},
    {"callwatch_queue_abandon_wait_seconds", "histogram", "queue", "Wait of abandoned visits."},
    {"callwatch_queue_handle_seconds", "histogram", "queue",
     "Handle time (talk + hold + after-call work) of completed calls."},
    {"callwatch_queue_service_level_ratio", "gauge", "queue,window,formula",
     "Service level by formula (answered, offered, abandons_positive, abandons_ignored); absent when "
     "its denominator is 0."},
    {"callwatch_queue_service_level_threshold_seconds", "gauge", "queue",
     "The queue's service-level threshold T."},
    {"callwatch_queue_service_level_target_ratio", "gauge", "queue", "The queue's service-level target."},
    {"callwatch_queue_asa_seconds", "gauge", "queue,window",
     "Average speed of answer; absent when no answered visit has a known wait."},
    {"callwatch_queue_aht_seconds", "gauge", "queue,window",
     "Average handle time; absent when no call completed."},
    {"callwatch_queue_abandon_ratio", "gauge", "queue,window",
     "Abandoned / offered; absent when nothing was offered."},
    {"callwatch_queue_window_start_timestamp_seconds", "gauge", "queue,window",
     "Start of the span each window's figures cover (a restart or gap shows here)."},
    {"callwatch_queue_agents", "gauge", "queue,state", "Agents of the queue by state."},
    {"callwatch_queue_agents_required", "gauge", "queue",
     "Agents needed for the queue's service-level target (Erlang C on the measured load); absent "
     "when unknown."},
    {"callwatch_queue_agents_staffed", "gauge", "queue",
     "Members logged in to the queue and not paused in it (available, ringing, on call, wrap-up); "
     "agents_required minus this, floored at 0, is the staffing gap the boards and alerts show."},
    {"callwatch_queue_estimated_wait_seconds", "gauge", "queue",
     "Expected wait of a caller joining now (Erlang C's M/M/m, given the calls ahead and the staffed "
     "agents); absent without a staffed agent or a handle time."},
    {"callwatch_queue_occupancy_ratio", "gauge", "queue,window",
     "Busy share (on call + wrap-up) of the time the queue's members could take calls (pause "
     "excluded); absent when no member was logged in."},
    {"callwatch_queue_arrival_surge_ratio", "gauge", "queue",
     "Arrivals in the last 5 minutes over the expected arrivals; absent without a baseline."},
    {"callwatch_queue_data_gap", "gauge", "queue",
     "1 when a restart or feed gap touched today's figures of the queue."},
    {"callwatch_agent_state", "gauge", "agent,state", "1 for the agent's current state, else 0."},
    {"callwatch_agent_state_omitted_agents", "gauge", "",
     "Agents left out of callwatch_agent_state by the configured cap."},
    {"callwatch_alerts_firing", "gauge", "alert,severity,queue", "1 while the alert fires, else 0."},
    {"callwatch_feed_up", "gauge", "feed", "1 while the feed is connected or bound."},
    {"callwatch_feed_last_event_timestamp_seconds", "gauge", "feed",
     "When the feed's last accepted event arrived (Unix time); absent before the first."},
    {"callwatch_feed_events_total", "counter", "feed",
     "Messages accepted from the feed (not blank, not rejected, not identical duplicates): the report's "
     "data_quality.events for the same input."},
    {"callwatch_feed_events_rejected_total", "counter", "feed,reason",
     "Messages rejected by the feed's parser or translator, by the reason of its own protocol."},
    {"callwatch_feed_events_ignored_total", "counter", "feed,result",
     "Messages dropped as identical to one accepted that day (duplicate_message), messages the feed's "
     "translator skipped (e.g. not_queue_event), events the engine ignored (duplicate outcome, unknown "
     "call) or did not apply (queue_limit, agent_limit: a new name over the [engine] cap)."},
    {"callwatch_engine_events_applied_total", "counter", "", "Events the engine applied."},
    {"callwatch_engine_warnings_total", "counter", "kind", "Data-quality warnings of the engine by kind."},
    {"callwatch_engine_data_quality_total", "counter", "kind",
     "Data-quality incidents: duplicate, late, clock_skew, inferred_outcome, restart, visit_cut."},
    {"callwatch_engine_snapshot_timestamp_seconds", "gauge", "",
     "Engine time of the snapshot /metrics shows."},
    {"callwatch_store_errors_total", "counter", "",
     "Failed writes to the SQLite store (read-only file, full disk); the live figures go on."},
    {"callwatch_store_last_checkpoint_timestamp_seconds", "gauge", "",
     "Engine time of the newest state saved to the store; a restart resumes from it."},
    {"callwatch_http_connections", "gauge", "", "HTTP connections open now (this scrape's included)."},
    {"callwatch_http_refused_total", "counter", "reason",
     "HTTP work refused by a [metrics] limit: connection_limit (closed at accept), unsent_bytes (503 "
     "while unread bodies hold max_unsent_bytes)."},
    {"callwatch_http_auth_failures_total", "counter", "",
     "Requests to /metrics with wrong or malformed basic auth credentials (answered 401, late)."},
    {"callwatch_wallboard_snapshot_requests_total", "counter", "result",
     "Snapshot requests on the control socket: served, coalesced (the client's previous reply is still "
     "unread), refused (busy: max_queued_reply_bytes held for clients that do not read)."},
    {"callwatch_wallboard_snapshot_encodes_total", "counter", "",
     "Snapshots encoded for the control socket; one encoding serves every request at its sequence."},
    {"callwatch_wallboard_queued_reply_bytes", "gauge", "",
     "Bytes of snapshot and history reply bodies held: for clients that have not read them, and the "
     "latest snapshot kept for the next request at its sequence; a body shared by clients counts once."},
    {"callwatch_wallboard_broadcasts", "gauge", "",
     "Supervisors' broadcast messages live now (every board shows them until they expire or are "
     "withdrawn; at most 8)."},
    {"callwatch_wallboard_requests_refused_total", "counter", "request,reason",
     "Control requests refused: request ack, broadcast or withdraw; reason role (not a supervisor "
     "key), scope (an alert outside the key's queues), invalid (empty or too long text, time to "
     "live out of range, alert not firing), limit (8 broadcasts live, or too many acks waiting), "
     "unknown (no such alert or broadcast)."},
    {"callwatch_wallboard_agent_timeline_spans", "gauge", "",
     "State spans of today held for agent_history (the desktop's agent timeline)."},
    {"callwatch_wallboard_agent_timeline_spans_dropped_total", "counter", "",
     "Oldest agent timeline spans dropped at the bound (2,000 per agent, 500,000 in all)."},
    {"callwatch_build_info", "gauge", "version", "Build information; always 1."},
}};

constexpr const MetricInfo& info(M m) { return kMetrics[static_cast<std::size_t>(m)]; }

struct Label {
  std::string_view name;
  std::string_view value;
};

// The three windows DESIGN.md exports, in label order.
constexpr std::array<metrics::WindowKind, 3> kExportedWindows = {
    metrics::WindowKind::sliding_15m, metrics::WindowKind::sliding_1h, metrics::WindowKind::today};

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void family(M m) {
    const MetricInfo& i = info(m);
    out_.append("# HELP ").append(i.name).push_back(' ');
    for (char c : i.help) {  // HELP escapes backslash and newline only
      if (c == '\\') out_.append("\\\\");
      else if (c == '\n') out_.append("\\n");
      else out_.push_back(c);
    }
    out_.append("\n# TYPE ").append(i.name).push_back(' ');
    out_.append(i.type).push_back('\n');
  }

  template <typename V>
  void sample(M m, std::initializer_list<Label> labels, V value) {
    sample_named(info(m).name, {}, labels, {}, value);
  }

  // name + suffix {labels..., extra} value
  template <typename V>
  void sample_named(std::string_view name, std::string_view suffix, std::initializer_list<Label> labels,
                    Label extra, V value) {
    out_.append(name).append(suffix);
    if (labels.size() || !extra.name.empty()) {
      out_.push_back('{');
      bool first = true;
      auto put = [&](const Label& l) {
        if (!first) out_.push_back(',');
        first = false;
        out_.append(l.name).append("=\"");
        append_label_value(l.value, out_);
        out_.push_back('"');
      };
      for (const Label& l : labels) put(l);
      if (!extra.name.empty()) put(extra);
      out_.push_back('}');
    }
    out_.push_back(' ');
    value_(value);
    out_.push_back('\n');
  }

  void histogram(M m, std::string_view queue, const metrics::Histogram& h) {
    const std::string_view name = info(m).name;
    std::uint64_t cumulative = 0;
    std::array<char, 32> le{};
    for (std::size_t i = 0; i < h.bounds.size(); ++i) {
      if (i < h.counts.size()) cumulative += h.counts[i];
      auto [end, ec] = std::to_chars(le.data(), le.data() + le.size(), h.bounds[i]);
      const std::string_view le_text(le.data(), ec == std::errc{} ? static_cast<std::size_t>(end - le.data()) : 0);
      sample_named(name, "_bucket", {{"queue", queue}}, {"le", le_text}, cumulative);
    }
    // +Inf holds every observation: use the count so the buckets always agree with _count.
    sample_named(name, "_bucket", {{"queue", queue}}, {"le", "+Inf"}, h.count);
    sample_named(name, "_sum", {{"queue", queue}}, {}, h.sum);
    sample_named(name, "_count", {{"queue", queue}}, {}, h.count);
  }

 private:
  void value_(double v) { append_sample_value(v, out_); }
  void value_(std::uint64_t v) { integer(v); }
  void value_(std::int64_t v) { integer(v); }
  void value_(int v) { integer(v); }
  template <typename I>
  void integer(I v) {
    std::array<char, 24> buf{};
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    out_.append(buf.data(), ec == std::errc{} ? end : buf.data());
  }

  std::string& out_;
};

constexpr std::string_view severity_label(metrics::AlertSeverity s) {
  switch (s) {
    case metrics::AlertSeverity::info: return "info";
    case metrics::AlertSeverity::warning: return "warning";
    case metrics::AlertSeverity::critical: return "critical";
  }
  return "warning";
}

const metrics::Window& window(const metrics::QueueView& q, metrics::WindowKind w) {
  return q.windows[static_cast<std::size_t>(w)];
}

void render_queues(const Snapshot& snap, Writer& w) {
  const auto& queues = snap.queues;
  auto counter_family = [&](M m, auto field) {
    w.family(m);
    for (const auto& q : queues) w.sample(m, {{"queue", q.name}}, field(q.total));
  };

  w.family(M::queue_info);
  for (const auto& q : queues) {
    const std::string_view display = q.settings.display_name.empty() ? q.name : q.settings.display_name;
    w.sample(M::queue_info, {{"queue", q.name}, {"display_name", display}, {"site", q.settings.site}}, 1);
  }
  w.family(M::queue_calls_waiting);
  for (const auto& q : queues) w.sample(M::queue_calls_waiting, {{"queue", q.name}}, q.calls_waiting);
  w.family(M::queue_longest_wait);
  for (const auto& q : queues) {
    // Nobody waiting: the longest wait is 0 (a fact, not a missing figure).
    if (metrics::has_value(q.longest_wait)) w.sample(M::queue_longest_wait, {{"queue", q.name}}, q.longest_wait);
    else if (q.calls_waiting == 0) w.sample(M::queue_longest_wait, {{"queue", q.name}}, 0.0);
  }

  counter_family(M::queue_offered, [](const C& c) { return c.offered(); });
  // Every family of the table that reads a counter field, in table order (contiguous).
  for (std::size_t i = 0; i < kMetrics.size(); ++i) {
    if (const auto field = kMetrics[i].counter) {
      counter_family(static_cast<M>(i), [field](const C& c) { return c.*field; });
    }
  }

  w.family(M::queue_answer_wait);
  for (const auto& q : queues) w.histogram(M::queue_answer_wait, q.name, q.answer_wait);
  w.family(M::queue_abandon_wait);
  for (const auto& q : queues) w.histogram(M::queue_abandon_wait, q.name, q.abandon_wait);
  w.family(M::queue_handle);
  for (const auto& q : queues) w.histogram(M::queue_handle, q.name, q.handle);

  w.family(M::queue_service_level);
  for (const auto& q : queues) {
    for (auto wk : kExportedWindows) {
      const auto& c = window(q, wk).counters;
      for (int f = 0; f < metrics::kSlFormulaCount; ++f) {
        const auto formula = static_cast<metrics::SlFormula>(f);
        // METRICS.md: a zero denominator is "no data": the series is absent, never 0.
        if (auto v = metrics::service_level(c, formula)) {
          w.sample(M::queue_service_level,
                   {{"queue", q.name}, {"window", metrics::window_label(wk)}, {"formula", metrics::to_string(formula)}},
                   *v);
        }
      }
    }
  }
  w.family(M::queue_sl_threshold);
  for (const auto& q : queues) w.sample(M::queue_sl_threshold, {{"queue", q.name}}, q.settings.sl_threshold);
  w.family(M::queue_sl_target);
  for (const auto& q : queues) w.sample(M::queue_sl_target, {{"queue", q.name}}, q.settings.sl_target);

  auto window_ratio_family = [&](M m, auto fn) {
    w.family(m);
    for (const auto& q : queues) {
      for (auto wk : kExportedWindows) {
        if (auto v = fn(window(q, wk).counters)) {
          w.sample(m, {{"queue", q.name}, {"window", metrics::window_label(wk)}}, *v);
        }
      }
    }
  };
  window_ratio_family(M::queue_asa, [](const C& c) { return metrics::asa(c); });
  window_ratio_family(M::queue_aht, [](const C& c) { return metrics::aht(c); });
  window_ratio_family(M::queue_abandon_ratio, [](const C& c) { return metrics::abandon_rate(c); });

  w.family(M::queue_window_start);
  for (const auto& q : queues) {
    for (auto wk : kExportedWindows) {
      w.sample(M::queue_window_start, {{"queue", q.name}, {"window", metrics::window_label(wk)}},
               window(q, wk).since);
    }
  }

  w.family(M::queue_agents);
  for (const auto& q : queues) {
    for (int s = 0; s < metrics::kAgentStateCount; ++s) {
      w.sample(M::queue_agents, {{"queue", q.name}, {"state", metrics::to_string(static_cast<metrics::AgentState>(s))}},
               q.agents[static_cast<std::size_t>(s)]);
    }
  }
  w.family(M::queue_agents_required);
  for (const auto& q : queues) {
    if (q.agents_required) w.sample(M::queue_agents_required, {{"queue", q.name}}, *q.agents_required);
  }
  w.family(M::queue_agents_staffed);
  for (const auto& q : queues) w.sample(M::queue_agents_staffed, {{"queue", q.name}}, q.staffed);
  w.family(M::queue_estimated_wait);
  for (const auto& q : queues) {
    if (metrics::has_value(q.estimated_wait)) {
      w.sample(M::queue_estimated_wait, {{"queue", q.name}}, q.estimated_wait);
    }
  }
  window_ratio_family(M::queue_occupancy, [](const C& c) { return metrics::queue_occupancy(c); });
  w.family(M::queue_surge);
  for (const auto& q : queues) {
    if (metrics::has_value(q.surge_ratio)) w.sample(M::queue_surge, {{"queue", q.name}}, q.surge_ratio);
  }
  w.family(M::queue_data_gap);
  for (const auto& q : queues) w.sample(M::queue_data_gap, {{"queue", q.name}}, q.data_gap ? 1 : 0);
}

void render_feeds(const std::vector<FeedHealth>& feeds, Writer& w) {
  w.family(M::feed_up);
  for (const auto& f : feeds) w.sample(M::feed_up, {{"feed", f.name}}, f.up ? 1 : 0);
  w.family(M::feed_last_event);
  for (const auto& f : feeds) {
    if (f.last_event_ts > 0) w.sample(M::feed_last_event, {{"feed", f.name}}, f.last_event_ts);
  }
  w.family(M::feed_events);
  for (const auto& f : feeds) w.sample(M::feed_events, {{"feed", f.name}}, f.events);
  w.family(M::feed_rejected);
  for (const auto& f : feeds) {
    for (const auto& [reason, n] : f.rejected) w.sample(M::feed_rejected, {{"feed", f.name}, {"reason", reason}}, n);
  }
  w.family(M::feed_ignored);
  for (const auto& f : feeds) {
    for (const auto& [result, n] : f.ignored) w.sample(M::feed_ignored, {{"feed", f.name}, {"result", result}}, n);
  }
}

void render_engine(const Snapshot& snap, Writer& w) {
  const auto& dq = snap.data_quality;
  w.family(M::engine_events_applied);
  w.sample(M::engine_events_applied, {}, snap.events_applied);
  w.family(M::engine_warnings);
  for (const auto& [kind, n] : dq.warning_counts) w.sample(M::engine_warnings, {{"kind", kind}}, n);
  w.family(M::engine_data_quality);
  w.sample(M::engine_data_quality, {{"kind", "duplicate"}}, dq.duplicates);
  w.sample(M::engine_data_quality, {{"kind", "late"}}, dq.late_events);
  w.sample(M::engine_data_quality, {{"kind", "clock_skew"}}, dq.clock_skew);
  w.sample(M::engine_data_quality, {{"kind", "inferred_outcome"}}, dq.inferred_outcomes);
  w.sample(M::engine_data_quality, {{"kind", "restart"}}, dq.restarts);
  w.sample(M::engine_data_quality, {{"kind", "visit_cut"}}, dq.visits_cut);
  w.family(M::engine_snapshot_time);
  w.sample(M::engine_snapshot_time, {}, snap.now);
}

// The listeners' own limits. Families always show; samples only from what is wired.
void render_serving(const ExportOptions& opts, Writer& w) {
  const std::optional<HttpHealthSample> http =
      opts.http_health ? std::optional<HttpHealthSample>(opts.http_health()) : std::nullopt;
  w.family(M::http_connections);
  if (http) w.sample(M::http_connections, {}, http->connections);
  w.family(M::http_refused);
  if (http) {
    w.sample(M::http_refused, {{"reason", "connection_limit"}}, http->refused_connection_limit);
    w.sample(M::http_refused, {{"reason", "unsent_bytes"}}, http->refused_unsent_bytes);
  }
  w.family(M::http_auth_failures);
  if (http) w.sample(M::http_auth_failures, {}, http->auth_failures);

  const std::optional<PublisherHealthSample> pub =
      opts.publisher_health ? std::optional<PublisherHealthSample>(opts.publisher_health()) : std::nullopt;
  w.family(M::wallboard_snapshot_requests);
  if (pub) {
    w.sample(M::wallboard_snapshot_requests, {{"result", "served"}}, pub->snapshots_served);
    w.sample(M::wallboard_snapshot_requests, {{"result", "coalesced"}}, pub->snapshots_coalesced);
    w.sample(M::wallboard_snapshot_requests, {{"result", "refused"}}, pub->snapshots_refused);
  }
  w.family(M::wallboard_snapshot_encodes);
  if (pub) w.sample(M::wallboard_snapshot_encodes, {}, pub->snapshot_encodes);
  w.family(M::wallboard_queued_reply_bytes);
  if (pub) w.sample(M::wallboard_queued_reply_bytes, {}, pub->queued_reply_bytes);
  w.family(M::wallboard_broadcasts);
  if (pub) w.sample(M::wallboard_broadcasts, {}, pub->broadcasts_live);
  w.family(M::wallboard_requests_refused);
  if (pub) {
    static constexpr std::array<std::string_view, 3> kRequests = {"ack", "broadcast", "withdraw"};
    static constexpr std::array<std::string_view, 5> kReasons = {"role", "scope", "invalid", "limit", "unknown"};
    for (std::size_t r = 0; r < kRequests.size(); ++r) {
      for (std::size_t why = 0; why < kReasons.size(); ++why) {
        w.sample(M::wallboard_requests_refused, {{"request", kRequests[r]}, {"reason", kReasons[why]}},
                 pub->refused[r][why]);
      }
    }
  }
  w.family(M::wallboard_agent_timeline_spans);
  if (pub) w.sample(M::wallboard_agent_timeline_spans, {}, pub->timeline_spans);
  w.family(M::wallboard_agent_timeline_dropped);
  if (pub) w.sample(M::wallboard_agent_timeline_dropped, {}, pub->timeline_spans_dropped);
}

}  // namespace

std::span<const MetricInfo> metric_table() { return kMetrics; }

void append_label_value(std::string_view v, std::string& out) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (c != '\\' && c != '"' && c != '\n') continue;
    out.append(v.data() + run, i - run);
    out.append(c == '\\' ? "\\\\" : c == '"' ? "\\\"" : "\\n");
    run = i + 1;
  }
  out.append(v.data() + run, v.size() - run);
}

void append_sample_value(double v, std::string& out) {
  if (std::isnan(v)) {
    out.append("NaN");
    return;
  }
  if (std::isinf(v)) {
    out.append(v > 0 ? "+Inf" : "-Inf");
    return;
  }
  std::array<char, 32> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), ec == std::errc{} ? end : buf.data());
}

void render_state_metrics(const metrics::Snapshot& snap, const std::vector<FeedHealth>& feeds,
                          const ExportOptions& opts, std::string& out) {
  out.clear();
  Writer w(out);
  render_queues(snap, w);

  if (opts.agent_state) {
    w.family(M::agent_state);
    const std::size_t shown = std::min(snap.agents.size(), opts.agent_state_max_agents);
    for (std::size_t i = 0; i < shown; ++i) {
      const auto& a = snap.agents[i];
      for (int s = 0; s < metrics::kAgentStateCount; ++s) {
        const auto st = static_cast<metrics::AgentState>(s);
        w.sample(M::agent_state, {{"agent", a.name}, {"state", metrics::to_string(st)}}, a.state == st ? 1 : 0);
      }
    }
    w.family(M::agent_state_omitted);
    w.sample(M::agent_state_omitted, {}, static_cast<std::uint64_t>(snap.agents.size() - shown));
  }

  w.family(M::alerts_firing);
  for (const auto& a : snap.alerts) {
    w.sample(M::alerts_firing, {{"alert", a.rule}, {"severity", severity_label(a.severity)}, {"queue", a.queue}},
             a.state == metrics::AlertState::firing ? 1 : 0);
  }

  render_feeds(feeds, w);
  render_engine(snap, w);
}

void render_live_metrics(const ExportOptions& opts, std::string& out) {
  out.clear();
  Writer w(out);
  // The store's families are written even without storage (HELP/TYPE only), so every family of
  // the table always shows; samples only when a store is configured.
  w.family(M::store_errors);
  const std::optional<StoreHealthSample> store =
      opts.store_health ? std::optional<StoreHealthSample>(opts.store_health()) : std::nullopt;
  if (store) w.sample(M::store_errors, {}, store->errors);
  w.family(M::store_last_checkpoint);
  if (store && store->last_checkpoint_at > 0) w.sample(M::store_last_checkpoint, {}, store->last_checkpoint_at);

  render_serving(opts, w);

  w.family(M::build_info);
  w.sample(M::build_info, {{"version", opts.version}}, 1);
}

void render_metrics(const metrics::Snapshot& snap, const std::vector<FeedHealth>& feeds,
                    const ExportOptions& opts, std::string& out) {
  render_state_metrics(snap, feeds, opts, out);
  std::string live;
  render_live_metrics(opts, live);
  out.append(live);
}

}  // namespace callwatch::daemon
