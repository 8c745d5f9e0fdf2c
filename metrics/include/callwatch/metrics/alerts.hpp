// Alert rules evaluated against snapshots with the injected clock: pending -> firing after the
// `for` duration, back to resolved only past the clear level (hysteresis, no flapping), acks.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "callwatch/metrics/snapshot.hpp"

namespace callwatch::metrics {

enum class AlertMetric : std::uint8_t {
  longest_wait,      // seconds, live
  calls_waiting,     // live
  service_level,     // ratio 0-1 over `window` with `formula` (queue's displayed one by default)
  abandon_rate,      // ratio over `window`
  agents_available,  // live
  surge_ratio,       // arrivals last 5 min / expected
  bounced_calls,     // count over `window`
  feed_stale,        // seconds since a feed's last event (per feed, not per queue)
};
// The spelling of each metric and severity, indexed by the enums: config/ reads rules in these
// words and the daemon logs them.
inline constexpr std::string_view kAlertMetricNames[] = {
    "longest_wait",     "calls_waiting", "service_level", "abandon_rate",
    "agents_available", "surge_ratio",   "bounced_calls", "feed_stale"};
inline constexpr std::string_view kAlertSeverityNames[] = {"info", "warning", "critical"};
static_assert(std::size(kAlertMetricNames) == static_cast<std::size_t>(AlertMetric::feed_stale) + 1);
static_assert(std::size(kAlertSeverityNames) ==
              static_cast<std::size_t>(AlertSeverity::critical) + 1);

std::string_view to_string(AlertMetric m);
bool parse_alert_metric(std::string_view s, AlertMetric& out);
std::string_view to_string(AlertSeverity s);
bool parse_alert_severity(std::string_view s, AlertSeverity& out);
std::string_view to_string(AlertState s);
bool parse_alert_state(std::string_view s, AlertState& out);

struct AlertRule {
  std::string name;
  AlertMetric metric = AlertMetric::longest_wait;
  WindowKind window = WindowKind::today;
  std::optional<SlFormula> formula;  // service_level only; default: the queue's formula
  bool above = true;                 // fire when value > threshold (else value < threshold)
  double threshold = 0;
  double clear = kNoValue;           // resolve only past this level; NaN = threshold
  double for_seconds = 0;
  AlertSeverity severity = AlertSeverity::warning;
  std::vector<std::string> queues;   // empty: every queue (feed_stale: every feed)
};

struct AlertTransition {
  std::string id;
  std::string rule;
  std::string queue;
  AlertSeverity severity = AlertSeverity::warning;
  AlertState from = AlertState::inactive;
  AlertState to = AlertState::inactive;
  double at = 0;
  double value = kNoValue;
  std::string message;
};

struct FeedAge {
  std::string feed;
  double seconds_since_last_event = kNoValue;  // NaN: never received anything
};

// One step of an alert's state machine, for the rules and for the daemon's own alerts alike:
// beyond the threshold -> pending (or firing at once without `for`) -> firing after `for`;
// firing -> resolved only past the clear level; resolved -> inactive after `resolved_hold`.
// Sets the value and message; returns true when the state changed.
bool step_alert(AlertView& v, const AlertRule& r, double value, double now, double resolved_hold,
                std::string message);

class AlertEvaluator {
 public:
  explicit AlertEvaluator(std::vector<AlertRule> rules = {}, double resolved_hold_seconds = 300);

  // Evaluates every rule against the snapshot at `now`; returns the transitions it made.
  std::vector<AlertTransition> evaluate(const Snapshot& snap, double now,
                                        const std::vector<FeedAge>& feeds = {});
  // Acknowledges a pending or firing alert (by id); false when there is no such active alert.
  bool ack(std::string_view id, std::string who, double when, std::string comment);

  // Every alert known (rule x queue), including inactive ones, sorted: firing first by severity.
  std::vector<AlertView> alerts() const;
  const std::vector<AlertTransition>& history() const { return history_; }
  void clear_history() { history_.clear(); }
  const std::vector<AlertRule>& rules() const { return rules_; }
  // Restores acks and states after a restart (persistence).
  void restore(const std::vector<AlertView>& alerts);

 private:
  struct Entry {
    AlertView view;
    std::size_t rule = 0;
  };
  void step(Entry& e, const AlertRule& r, double value, double now, std::string message,
            std::vector<AlertTransition>& out);

  std::vector<AlertRule> rules_;
  double resolved_hold_;
  std::map<std::string, Entry, std::less<>> entries_;  // by id
  std::vector<AlertTransition> history_;
};

// The extra agents Erlang C says a queue needs: its one staffing gap (QueueView::staffing_gap),
// the same number the boards and /metrics show.
std::optional<int> surge_agents_needed(const QueueView& q);

}  // namespace callwatch::metrics
