// Alerts inside callwatchd: [[alert]] rules turned into metrics::AlertRule, the evaluation step on
// the engine thread, and the hand-off of acks (ROUTER -> engine) and of the day's alert history
// (engine -> ROUTER) between threads. The demo's rules are the wiring's (daemon/demo.hpp).
#pragma once

#include <atomic>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/logger.h>
#include <tl/expected.hpp>

#include "callwatch/config/config.hpp"
#include "callwatch/metrics/alerts.hpp"
#include "runtime/feed_health.hpp"

namespace callwatch::daemon {

// The [[alert]] tables of the config as the evaluator reads them.
std::vector<metrics::AlertRule> to_alert_rules(const std::vector<config::AlertRuleConfig>& rules);

// One acknowledgement as the ROUTER received it.
struct AckRequest {
  std::string alert_id;
  std::string who;
  std::string comment;
  std::string role;  // "supervisor" may ack; anything else is read-only (kiosk)
  double at = 0;     // the daemon's wall clock when it arrived (wallboard clocks may be off)
};

inline constexpr std::size_t kMaxAckWhoBytes = 64;
inline constexpr std::size_t kMaxAckCommentBytes = 280;

// Whether `r` may acknowledge an alert of `board` (what the wallboards hold now): a supervisor,
// named, within the text bounds, and the alert pending or firing. The error text goes back to the
// client as is. AlertControl and the relay (which passes acks on to the owning daemon) share it.
tl::expected<void, std::string> check_ack(const AckRequest& r, const metrics::Snapshot& board);

// Shared by the publisher thread and the engine thread. The engine is the only owner of alert
// state: the publisher only queues acks here (many producers are fine, one consumer drains) and
// reads the history the engine last handed over. Nothing here blocks for more than a copy.
class AlertControl {
 public:
  using History = std::shared_ptr<const std::vector<metrics::AlertTransition>>;

  explicit AlertControl(std::size_t max_pending = 256) : max_pending_(max_pending) {}

  // Any thread. Checks the request against `board` (what the wallboards hold now) and queues it
  // for the engine; the error text goes back to the client as is.
  tl::expected<void, std::string> submit_ack(AckRequest r, const metrics::Snapshot& board);
  // Engine thread.
  std::vector<AckRequest> take_acks();
  bool has_acks() const noexcept { return pending_.load(std::memory_order_acquire) > 0; }

  // Engine thread hands over the day's transitions (and acks); any thread reads them.
  void publish_history(History h, double since);
  History history() const;
  double history_since() const;

 private:
  std::size_t max_pending_;
  std::atomic<std::size_t> pending_{0};
  mutable std::mutex mu_;
  std::vector<AckRequest> acks_;
  History history_ = std::make_shared<const std::vector<metrics::AlertTransition>>();
  double since_ = 0;
};

// The engine thread's alert step. Owns the evaluator; fills Snapshot::alerts before each publish.
class AlertsRuntime {
 public:
  AlertsRuntime(std::vector<metrics::AlertRule> rules, std::shared_ptr<AlertControl> control,
                double min_eval_gap_seconds = 0.25);

  bool has_rules() const { return !evaluator_.rules().empty(); }

  // Applies the acks waiting in the control queue; true when one changed an alert (the caller
  // then publishes soon, so every wallboard sees the ack in the next delta).
  bool apply_acks(double now);

  // On every snapshot publish, after the engine advanced to `now`: evaluates the rules (at most
  // once per min gap, or at once after an ack or on the first call), logs each transition, and
  // puts the alert list into `snap`. Feed ages for feed_stale come from `feeds` (a feed with no
  // event yet: the time since this runtime first saw it).
  void on_publish(metrics::Snapshot& snap, const std::vector<FeedHealth>& feeds, double now);

  // After a restart (the store): alert states and acks as they were, and the day's history so
  // far, which alert_history then serves ahead of the new transitions.
  void restore(const std::vector<metrics::AlertView>& alerts,
               std::vector<metrics::AlertTransition> day_history);

  const metrics::AlertEvaluator& evaluator() const { return evaluator_; }
  // evaluator().history()[i] is transition number history_first_seq() + i of this run (1-based,
  // never reused within a run, also across a day change): the store's key for "not yet written".
  std::uint64_t history_first_seq() const { return history_cleared_ + 1; }
  std::uint64_t evaluations() const { return evaluations_; }

 private:
  void hand_over_history(double day_start);

  metrics::AlertEvaluator evaluator_;
  std::shared_ptr<AlertControl> control_;
  double min_gap_;
  double last_eval_ = -1e300;
  bool force_ = true;
  std::uint64_t evaluations_ = 0;
  std::vector<metrics::AlertView> views_;  // what the last evaluation showed
  double day_start_ = 0;
  std::size_t history_handed_ = static_cast<std::size_t>(-1);
  std::uint64_t history_cleared_ = 0;
  std::vector<metrics::AlertTransition> restored_history_;
  std::map<std::string, double, std::less<>> feed_first_seen_;  // feeds with no event yet
  std::shared_ptr<spdlog::logger> log_;
};

}  // namespace callwatch::daemon
