#include "callwatch/metrics/alerts.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

#include "callwatch/metrics/kpi.hpp"

namespace callwatch::metrics {

namespace {
constexpr std::array<std::string_view, 4> kStateNames = {"inactive", "pending", "firing", "resolved"};
constexpr std::size_t kMaxHistory = 20000;

std::string fmt_value(AlertMetric m, double v) {
  char buf[64];
  switch (m) {
    case AlertMetric::service_level:
    case AlertMetric::abandon_rate: std::snprintf(buf, sizeof buf, "%.1f%%", v * 100); break;
    case AlertMetric::surge_ratio: std::snprintf(buf, sizeof buf, "%.2fx", v); break;
    case AlertMetric::longest_wait:
    case AlertMetric::feed_stale: std::snprintf(buf, sizeof buf, "%.0f s", v); break;
    default: std::snprintf(buf, sizeof buf, "%.0f", v); break;
  }
  return buf;
}

// The reading of one value in words: "calls arriving at 2.22x the expected rate".
std::string alert_words(AlertMetric m, double v) {
  if (!has_value(v)) {
    switch (m) {
      case AlertMetric::service_level: return "service level: no data yet";
      case AlertMetric::abandon_rate: return "abandoned: no data yet";
      case AlertMetric::surge_ratio: return "arrival rate: no forecast to compare with";
      default: return "no data";
    }
  }
  const std::string x = fmt_value(m, v);
  switch (m) {
    case AlertMetric::longest_wait: return "a caller has waited " + x;
    case AlertMetric::calls_waiting: return x + " calls waiting";
    case AlertMetric::service_level: return "service level " + x;
    case AlertMetric::abandon_rate: return x + " of calls abandoned";
    case AlertMetric::agents_available: return x + " agents available";
    case AlertMetric::surge_ratio: return "calls arriving at " + x + " the expected rate";
    case AlertMetric::bounced_calls: return x + " calls bounced between agents";
    case AlertMetric::feed_stale: return "no event for " + x;
  }
  return x;
}

bool selected(const std::vector<std::string>& sel, std::string_view name) {
  return sel.empty() || std::find(sel.begin(), sel.end(), name) != sel.end();
}
}  // namespace

std::string_view to_string(AlertMetric m) { return kAlertMetricNames[static_cast<int>(m)]; }
bool parse_alert_metric(std::string_view s, AlertMetric& out) {
  for (std::size_t i = 0; i < std::size(kAlertMetricNames); ++i)
    if (kAlertMetricNames[i] == s) {
      out = static_cast<AlertMetric>(i);
      return true;
    }
  return false;
}
std::string_view to_string(AlertSeverity s) { return kAlertSeverityNames[static_cast<int>(s)]; }
bool parse_alert_severity(std::string_view s, AlertSeverity& out) {
  for (std::size_t i = 0; i < std::size(kAlertSeverityNames); ++i)
    if (kAlertSeverityNames[i] == s) {
      out = static_cast<AlertSeverity>(i);
      return true;
    }
  return false;
}
std::string_view to_string(AlertState s) { return kStateNames[static_cast<int>(s)]; }
bool parse_alert_state(std::string_view s, AlertState& out) {
  for (std::size_t i = 0; i < kStateNames.size(); ++i)
    if (kStateNames[i] == s) {
      out = static_cast<AlertState>(i);
      return true;
    }
  return false;
}

std::optional<int> surge_agents_needed(const QueueView& q) { return q.staffing_gap; }

AlertEvaluator::AlertEvaluator(std::vector<AlertRule> rules, double resolved_hold_seconds)
    : rules_(std::move(rules)), resolved_hold_(resolved_hold_seconds) {}

bool step_alert(AlertView& v, const AlertRule& r, double value, double now, double resolved_hold,
                std::string message) {
  const AlertState before = v.state;
  v.value = value;
  v.message = std::move(message);
  const bool known = has_value(value);
  const bool beyond = known && (r.above ? value > r.threshold : value < r.threshold);
  const double clear = has_value(r.clear) ? r.clear : r.threshold;
  const bool cleared = known && (r.above ? value <= clear : value >= clear);
  switch (v.state) {
    case AlertState::inactive:
    case AlertState::resolved:
      if (beyond) {
        v.state = r.for_seconds > 0 ? AlertState::pending : AlertState::firing;
        v.since = now;
        v.acked = false;
        v.acked_by.clear();
        v.ack_comment.clear();
        v.acked_at = 0;
      } else if (v.state == AlertState::resolved && now - v.since >= resolved_hold) {
        v.state = AlertState::inactive;
        v.since = now;
      }
      break;
    case AlertState::pending:
      if (!beyond) {
        // Not yet firing: back below the threshold cancels the pending state (a blip).
        v.state = AlertState::inactive;
        v.since = now;
      } else if (now - v.since >= r.for_seconds) {
        v.state = AlertState::firing;
        v.since = now;
      }
      break;
    case AlertState::firing:
      // Unknown values (no data) neither fire nor resolve.
      if (cleared) {
        v.state = AlertState::resolved;
        v.since = now;
      }
      break;
  }
  return v.state != before;
}

void AlertEvaluator::step(Entry& e, const AlertRule& r, double value, double now,
                          std::string message, std::vector<AlertTransition>& out) {
  AlertView& v = e.view;
  const AlertState before = v.state;
  step_alert(v, r, value, now, resolved_hold_, std::move(message));
  if (v.state != before) {
    AlertTransition t{v.id, v.rule, v.queue, v.severity, before, v.state, now, value, v.message};
    out.push_back(t);
    if (history_.size() < kMaxHistory) history_.push_back(std::move(t));
  }
}

std::vector<AlertTransition> AlertEvaluator::evaluate(const Snapshot& snap, double now,
                                                      const std::vector<FeedAge>& feeds) {
  std::vector<AlertTransition> out;
  for (std::size_t ri = 0; ri < rules_.size(); ++ri) {
    const AlertRule& r = rules_[ri];
    auto entry = [&](const std::string& subject) -> Entry& {
      std::string id = r.name + "/" + subject;
      auto it = entries_.find(id);
      if (it == entries_.end()) {
        Entry e;
        e.rule = ri;
        e.view.id = id;
        e.view.rule = r.name;
        e.view.queue = subject;
        e.view.severity = r.severity;
        e.view.since = now;
        it = entries_.emplace(std::move(id), std::move(e)).first;
      }
      return it->second;
    };
    // What a board needs to word the alert in its own language (the message is English).
    auto describe = [&](Entry& e, const std::string& subject, std::optional<int> needed) -> Entry& {
      e.view.metric = std::string(to_string(r.metric));
      e.view.above = r.above;
      e.view.threshold = r.threshold;
      e.view.subject = subject;
      e.view.agents_needed = needed;
      return e;
    };
    const std::string limit = std::string(" (alert ") + (r.above ? "above " : "below ") +
                              fmt_value(r.metric, r.threshold) + ")";
    if (r.metric == AlertMetric::feed_stale) {
      for (const auto& f : feeds) {
        if (!selected(r.queues, f.feed)) continue;
        const double v = f.seconds_since_last_event;
        std::string msg = "feed " + f.feed + ": " +
                          (has_value(v) ? "no event for " + fmt_value(r.metric, v) + limit
                                        : std::string("no event yet"));
        step(describe(entry(f.feed), f.feed, std::nullopt), r, has_value(v) ? v : 1e9, now,
             std::move(msg), out);
      }
      continue;
    }
    for (const auto& q : snap.queues) {
      if (!selected(r.queues, q.name)) continue;
      const auto& counters = q.windows[static_cast<int>(r.window)].counters;
      double v = kNoValue;
      switch (r.metric) {
        case AlertMetric::longest_wait: v = has_value(q.longest_wait) ? q.longest_wait : 0.0; break;
        case AlertMetric::calls_waiting: v = q.calls_waiting; break;
        case AlertMetric::service_level: {
          const auto sl = service_level(counters, r.formula.value_or(q.settings.formula));
          v = sl ? *sl : kNoValue;
          break;
        }
        case AlertMetric::abandon_rate: {
          const auto ar = abandon_rate(counters);
          v = ar ? *ar : kNoValue;
          break;
        }
        case AlertMetric::agents_available:
          v = q.agents[static_cast<int>(AgentState::available)];
          break;
        case AlertMetric::surge_ratio: v = q.surge_ratio; break;
        case AlertMetric::bounced_calls: v = static_cast<double>(counters.bounced); break;
        case AlertMetric::feed_stale: break;
      }
      const std::string& shown = q.settings.display_name.empty() ? q.name : q.settings.display_name;
      std::optional<int> needed;
      if (r.metric == AlertMetric::surge_ratio) {
        needed = surge_agents_needed(q);
        if (needed && *needed <= 0) needed.reset();  // "0 more agents" says nothing
      }
      std::string msg = shown + ": " + alert_words(r.metric, v) + limit;
      if (needed) msg += "; " + std::to_string(*needed) + " more agents needed";
      step(describe(entry(q.name), shown, needed), r, v, now, std::move(msg), out);
    }
  }
  return out;
}

bool AlertEvaluator::ack(std::string_view id, std::string who, double when, std::string comment) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  AlertView& v = it->second.view;
  if (v.state != AlertState::firing && v.state != AlertState::pending) return false;
  v.acked = true;
  v.acked_by = std::move(who);
  v.acked_at = when;
  v.ack_comment = std::move(comment);
  AlertTransition t{v.id, v.rule, v.queue, v.severity, v.state, v.state, when, v.value,
                    "acknowledged by " + v.acked_by + (v.ack_comment.empty() ? "" : ": " + v.ack_comment)};
  if (history_.size() < kMaxHistory) history_.push_back(std::move(t));
  return true;
}

std::vector<AlertView> AlertEvaluator::alerts() const {
  std::vector<AlertView> out;
  out.reserve(entries_.size());
  for (const auto& [id, e] : entries_) out.push_back(e.view);
  auto rank = [](const AlertView& a) {
    switch (a.state) {
      case AlertState::firing: return 0;
      case AlertState::pending: return 1;
      case AlertState::resolved: return 2;
      case AlertState::inactive: return 3;
    }
    return 3;
  };
  std::stable_sort(out.begin(), out.end(), [&](const AlertView& a, const AlertView& b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    if (a.severity != b.severity) return a.severity > b.severity;
    return a.id < b.id;
  });
  return out;
}

void AlertEvaluator::restore(const std::vector<AlertView>& alerts) {
  for (const auto& a : alerts) {
    for (std::size_t ri = 0; ri < rules_.size(); ++ri) {
      if (rules_[ri].name != a.rule) continue;
      Entry e;
      e.rule = ri;
      e.view = a;
      entries_[a.id] = std::move(e);
    }
  }
}

}  // namespace callwatch::metrics
