// Alert rules from the config, their evaluation on the engine thread, and the
// thread hand-offs for acks and history. The rule logic itself lives in metrics/alerts.cpp.
#include "runtime/alerts_runtime.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "runtime/logging.hpp"

namespace callwatch::daemon {

namespace {

metrics::WindowKind to_window(config::AlertWindow w) {
  switch (w) {
    // Live metrics ignore the window; "today" is only a harmless placeholder for them.
    case config::AlertWindow::live:
    case config::AlertWindow::today: return metrics::WindowKind::today;
    case config::AlertWindow::sliding_15m: return metrics::WindowKind::sliding_15m;
    case config::AlertWindow::sliding_1h: return metrics::WindowKind::sliding_1h;
    case config::AlertWindow::interval: return metrics::WindowKind::interval;
  }
  return metrics::WindowKind::today;
}

}  // namespace

std::vector<metrics::AlertRule> to_alert_rules(const std::vector<config::AlertRuleConfig>& rules) {
  std::vector<metrics::AlertRule> out;
  out.reserve(rules.size());
  for (const auto& a : rules) {
    metrics::AlertRule r;
    r.name = a.name;
    r.metric = a.metric;  // config/ reads rules in metrics/'s own enums
    r.severity = a.severity;
    r.window = to_window(a.window);
    r.formula = a.formula;
    r.above = a.above;
    r.threshold = a.threshold;
    r.clear = a.clear;
    r.for_seconds = a.for_seconds;
    r.queues = a.queues;
    out.push_back(std::move(r));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

tl::expected<void, std::string> check_ack(const AckRequest& r, const metrics::Snapshot& board) {
  // Until CURVE keys say who is who, the role travels in the request: a kiosk never acks.
  if (r.role != "supervisor") {
    return tl::unexpected(fmt::format("role '{}' is read-only: only a supervisor may acknowledge", r.role));
  }
  if (r.who.empty()) return tl::unexpected(std::string("who is required: every board shows who acknowledged"));
  if (r.who.size() > kMaxAckWhoBytes) {
    return tl::unexpected(fmt::format("who is longer than {} bytes", kMaxAckWhoBytes));
  }
  if (r.comment.size() > kMaxAckCommentBytes) {
    return tl::unexpected(fmt::format("comment is longer than {} bytes", kMaxAckCommentBytes));
  }
  const auto it = std::find_if(board.alerts.begin(), board.alerts.end(),
                               [&](const metrics::AlertView& a) { return a.id == r.alert_id; });
  if (it == board.alerts.end()) return tl::unexpected(fmt::format("no alert '{}'", r.alert_id));
  if (it->state != metrics::AlertState::firing && it->state != metrics::AlertState::pending) {
    return tl::unexpected(fmt::format("alert '{}' is {}: only a pending or firing alert can be acknowledged",
                                      r.alert_id, metrics::to_string(it->state)));
  }
  return {};
}

tl::expected<void, std::string> AlertControl::submit_ack(AckRequest r, const metrics::Snapshot& board) {
  if (auto ok = check_ack(r, board); !ok) return ok;
  std::lock_guard lock(mu_);
  if (acks_.size() >= max_pending_) return tl::unexpected(std::string("too many acks waiting; try again"));
  acks_.push_back(std::move(r));
  pending_.store(acks_.size(), std::memory_order_release);
  return {};
}

std::vector<AckRequest> AlertControl::take_acks() {
  std::vector<AckRequest> out;
  std::lock_guard lock(mu_);
  out.swap(acks_);
  pending_.store(0, std::memory_order_release);
  return out;
}

void AlertControl::publish_history(History h, double since) {
  std::lock_guard lock(mu_);
  history_ = std::move(h);
  since_ = since;
}

AlertControl::History AlertControl::history() const {
  std::lock_guard lock(mu_);
  return history_;
}

double AlertControl::history_since() const {
  std::lock_guard lock(mu_);
  return since_;
}

// ---------------------------------------------------------------------------------------------

AlertsRuntime::AlertsRuntime(std::vector<metrics::AlertRule> rules, std::shared_ptr<AlertControl> control,
                             double min_eval_gap_seconds)
    : evaluator_(std::move(rules)),
      control_(std::move(control)),
      min_gap_(min_eval_gap_seconds),
      log_(component_logger("alerts")) {
  for (const auto& r : evaluator_.rules()) {
    log_->info("rule {}: {} {} {} (clear {}), for {} s, {}", r.name, metrics::to_string(r.metric),
               r.above ? "above" : "below", r.threshold, metrics::has_value(r.clear) ? r.clear : r.threshold,
               r.for_seconds, metrics::to_string(r.severity));
  }
}

bool AlertsRuntime::apply_acks(double now) {
  if (!control_ || !control_->has_acks()) return false;
  bool changed = false;
  for (auto& a : control_->take_acks()) {
    // The alert may have resolved between the ROUTER's check and now: say so, change nothing.
    if (evaluator_.ack(a.alert_id, a.who, a.at > 0 ? a.at : now, a.comment)) {
      log_->info("{} acknowledged by {}{}{}", a.alert_id, a.who, a.comment.empty() ? "" : ": ", a.comment);
      changed = true;
    } else {
      log_->info("ack of {} by {} ignored: the alert is no longer pending or firing", a.alert_id, a.who);
    }
  }
  if (changed) force_ = true;
  return changed;
}

void AlertsRuntime::on_publish(metrics::Snapshot& snap, const std::vector<FeedHealth>& feeds, double now) {
  if (!has_rules()) return;
  if (force_ || now - last_eval_ >= min_gap_ || now < last_eval_) {
    // A new day starts a new history (the store keeps older days).
    if (snap.day_start != day_start_) {
      if (day_start_ != 0) {
        history_cleared_ += evaluator_.history().size();
        evaluator_.clear_history();
        restored_history_.clear();
      }
      day_start_ = snap.day_start;
      history_handed_ = static_cast<std::size_t>(-1);
    }
    std::vector<metrics::FeedAge> ages;
    ages.reserve(feeds.size());
    for (const auto& f : feeds) {
      // A feed never heard from is as stale as the time we have been waiting for it: not
      // "forever" at start-up, before the PBX had a chance to say anything.
      const double since = f.last_event_ts > 0 ? f.last_event_ts
                                               : feed_first_seen_.try_emplace(f.name, now).first->second;
      ages.push_back({f.name, std::max(0.0, now - since)});
    }
    for (const auto& t : evaluator_.evaluate(snap, now, ages)) {
      const auto level = t.to == metrics::AlertState::firing && t.severity == metrics::AlertSeverity::critical
                             ? spdlog::level::warn
                             : spdlog::level::info;
      log_->log(level, "{} {} -> {} ({}): {}", t.id, metrics::to_string(t.from), metrics::to_string(t.to),
                metrics::to_string(t.severity), t.message);
    }
    views_ = evaluator_.alerts();
    // An inactive alert shows nothing; leaving its live value in would put every rule x queue
    // on the wire at each evaluation (wallboard deltas compare values exactly).
    for (auto& v : views_) {
      if (v.state == metrics::AlertState::inactive) {
        v.value = metrics::kNoValue;
        v.message.clear();
      }
    }
    last_eval_ = now;
    force_ = false;
    ++evaluations_;
    hand_over_history(snap.day_start);
  }
  snap.alerts = views_;
}

void AlertsRuntime::hand_over_history(double day_start) {
  const auto& h = evaluator_.history();
  if (!control_ || h.size() == history_handed_) return;
  auto all = std::make_shared<std::vector<metrics::AlertTransition>>();
  all->reserve(restored_history_.size() + h.size());
  for (const auto& t : restored_history_)
    if (t.at >= day_start) all->push_back(t);
  all->insert(all->end(), h.begin(), h.end());
  control_->publish_history(std::move(all), day_start);
  history_handed_ = h.size();
}

void AlertsRuntime::restore(const std::vector<metrics::AlertView>& alerts,
                            std::vector<metrics::AlertTransition> day_history) {
  evaluator_.restore(alerts);
  restored_history_ = std::move(day_history);
  history_handed_ = static_cast<std::size_t>(-1);
  force_ = true;
}

}  // namespace callwatch::daemon
