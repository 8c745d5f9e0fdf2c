// Checkpoints on the engine thread. Each checkpoint carries what the store has not confirmed yet
// (intervals closed after its watermark, alert transitions above its sequence), so a checkpoint
// replaced by a newer one, or a failed write, loses nothing: the next one carries it again.
#include "checkpointer.hpp"

#include <algorithm>
#include <cmath>
#include <thread>

#include <fmt/format.h>

#include "logging.hpp"

namespace callwatch::daemon {

namespace {

std::string format_utc(double t) {
  const auto secs = static_cast<std::time_t>(std::floor(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace

Checkpointer::Checkpointer(std::shared_ptr<Store> store, CheckpointerOptions opts)
    : store_(std::move(store)), opts_(opts) {
  store_alert_.id = kStoreAlertId;
  store_alert_.rule = kStoreAlertId;
  store_alert_.severity = metrics::AlertSeverity::critical;
  store_alert_.state = metrics::AlertState::inactive;
}

RestoreResult Checkpointer::restore(metrics::Engine& engine, double now) {
  RestoreResult r;
  auto log = component_logger("store");
  auto loaded = store_->load_checkpoint();
  if (!loaded) {
    r.problem = loaded.error();
    log->error("cannot read the checkpoint from {}: {}; starting with empty figures", store_->path(), r.problem);
    engine.warn("store", fmt::format("the saved figures could not be read ({}); today's figures start at {}",
                                     r.problem, format_utc(now)));
    engine.note_gap(now, now);
    r.gap_noted = true;
    return r;
  }
  if (!loaded->has_value()) {
    log->info("{} holds no checkpoint yet: starting with empty figures", store_->path());
    return r;
  }
  LoadedCheckpoint& c = **loaded;
  if (!engine.restore(c.engine_state)) {
    r.problem = fmt::format("the checkpoint of {} (written by callwatchd {}) cannot be read by this version",
                            format_utc(c.taken_at), c.daemon_version);
    log->error("{}; starting with empty figures and flagging the gap", r.problem);
    engine.note_gap(c.taken_at, now);
    r.gap_noted = true;
    return r;
  }
  r.restored = true;
  r.checkpoint_at = c.taken_at;
  r.clean_stop = c.final;
  r.alerts = std::move(c.alerts);
  r.feeds = std::move(c.feeds);
  const double down = now - c.taken_at;
  // A crash loses up to one checkpoint interval of events; a long downtime loses whatever live
  // feeds sent meanwhile. Either way the figures are incomplete and must say so.
  if (!c.final || down > opts_.gap_seconds) {
    engine.note_gap(c.taken_at, now);
    store_->record_gap({c.taken_at, now, c.final ? "daemon stopped" : "daemon crashed (no clean stop)"});
    r.gap_noted = true;
  }
  log->info("restored the state of {} ({}, {:.1f} s ago){}", format_utc(c.taken_at),
            c.final ? "clean stop" : "after a crash", down, r.gap_noted ? "; the downtime is flagged as a gap" : "");
  return r;
}

Checkpoint Checkpointer::build(const metrics::Engine& engine, const std::vector<metrics::AlertView>& alerts,
                               const std::vector<metrics::AlertTransition>& history, std::uint64_t first_seq,
                               const std::vector<FeedPosition>& feeds) {
  Checkpoint c;
  c.taken_at = engine.now();
  c.engine_state = engine.serialize();
  c.alerts = alerts;
  c.feeds = feeds;

  // Intervals closed after the store's watermark (all queues of one boundary share its start).
  const double watermark = store_->confirmed_interval_start();
  const auto& closed = engine.closed_intervals();
  std::size_t first = closed.size();
  while (first > 0 && closed[first - 1].start > watermark) --first;
  c.intervals.assign(closed.begin() + static_cast<std::ptrdiff_t>(first), closed.end());

  // New alert transitions by their run-wide number; drop the ones the store confirmed.
  for (std::size_t i = 0; i < history.size(); ++i) {
    const std::uint64_t seq = first_seq + i;
    if (seq < next_seq_) continue;
    unconfirmed_events_.push_back(AlertEvent{seq, history[i]});
  }
  next_seq_ = std::max(next_seq_, first_seq + history.size());
  const std::uint64_t confirmed = store_->confirmed_alert_seq();
  while (!unconfirmed_events_.empty() && unconfirmed_events_.front().seq <= confirmed) unconfirmed_events_.pop_front();
  if (unconfirmed_events_.size() > opts_.max_pending_alert_events) {
    const std::size_t drop = unconfirmed_events_.size() - opts_.max_pending_alert_events;
    unconfirmed_events_.erase(unconfirmed_events_.begin(), unconfirmed_events_.begin() + static_cast<std::ptrdiff_t>(drop));
    if (alert_events_dropped_ == 0) {
      component_logger("store")->warn("the store is not keeping up: dropping the oldest alert history rows "
                                      "(live alerts are not affected)");
    }
    alert_events_dropped_ += drop;
  }
  c.alert_events.assign(unconfirmed_events_.begin(), unconfirmed_events_.end());
  return c;
}

bool Checkpointer::due(std::chrono::steady_clock::time_point now) const {
  return taken_ == 0 || now - last_ >= opts_.interval;
}

void Checkpointer::take(const metrics::Engine& engine, const std::vector<metrics::AlertView>& alerts,
                        const std::vector<metrics::AlertTransition>& history, std::uint64_t first_seq,
                        const std::vector<FeedPosition>& feeds, std::chrono::steady_clock::time_point now) {
  last_ = now;
  ++taken_;
  store_->submit(build(engine, alerts, history, first_seq, feeds));
}

void Checkpointer::final_checkpoint(const metrics::Engine& engine, const std::vector<metrics::AlertView>& alerts,
                                    const std::vector<metrics::AlertTransition>& history, std::uint64_t first_seq,
                                    const std::vector<FeedPosition>& feeds, std::chrono::milliseconds wait) {
  Checkpoint c = build(engine, alerts, history, first_seq, feeds);
  c.final = true;
  store_->submit(std::move(c));
  ++taken_;
  if (!store_->flush(wait)) {
    component_logger("store")->error("the final checkpoint could not be written to {}; the next start flags "
                                     "the downtime as a gap",
                                     store_->path());
  }
}

void Checkpointer::decorate(metrics::Snapshot& snap, metrics::Engine& engine, double now) {
  const bool failing = !store_->healthy();
  const auto before = store_alert_.state;
  if (failing && store_alert_.state != metrics::AlertState::firing) {
    store_alert_.state = metrics::AlertState::firing;
    store_alert_.since = now;
    store_alert_.acked = false;
  } else if (!failing && store_alert_.state == metrics::AlertState::firing) {
    store_alert_.state = metrics::AlertState::resolved;
    store_alert_.since = now;
  } else if (store_alert_.state == metrics::AlertState::resolved && now - store_alert_.since > 300) {
    store_alert_.state = metrics::AlertState::inactive;  // shown resolved for 5 minutes, like rules
  }
  store_alert_.value = static_cast<double>(store_->errors());
  if (store_alert_.state == metrics::AlertState::firing) {
    store_alert_.message = fmt::format("cannot save to {}: {} failed writes; the live figures are fine but a "
                                       "restart now would lose today's totals",
                                       store_->path(), store_->errors());
  } else if (store_alert_.state == metrics::AlertState::resolved) {
    store_alert_.message = "saving works again";
  }
  if (before != store_alert_.state) {
    component_logger("alerts")->info("{} {} -> {}: {}", kStoreAlertId, metrics::to_string(before),
                                     metrics::to_string(store_alert_.state), store_alert_.message);
  }
  if (failing && !warned_) {
    // Once per failure streak: the data-quality list says from when the figures are not saved.
    engine.warn("store", fmt::format("from {} the figures could not be saved to {}", format_utc(now), store_->path()));
    warned_ = true;
  } else if (!failing) {
    warned_ = false;
  }
  if (store_alert_.state != metrics::AlertState::inactive) snap.alerts.push_back(store_alert_);
}

}  // namespace callwatch::daemon
