// The engine thread's side of persistence: restore the engine and alerts from the store at
// start-up (flagging the downtime as a gap), take a checkpoint every N seconds and hand it to the
// store thread, and show the store's health as a built-in alert. Everything here runs on the
// engine thread; the only cost per checkpoint is Engine::serialize() and a few copies.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "callwatch/metrics/alerts.hpp"
#include "callwatch/metrics/engine.hpp"
#include "store/store.hpp"

namespace callwatch::daemon {

struct CheckpointerOptions {
  // The loss window: a crash (kill -9, power) loses at most the events of the last interval.
  std::chrono::milliseconds interval{1000};
  // Engine::serialize() of a large state takes long (about 1.5 us per call the engine still
  // remembers: ~0.5 s at 300,000 calls; 0.3 s at 10,000 agents). With `fork`, a child process
  // serializes a copy-on-write image of the state while the engine thread goes on; the engine
  // thread pays only for fork() and the copy-on-write faults after it. Without it (or when fork
  // fails) the engine thread serializes.
  bool fork = true;
  // Either way the interval stretches so that one checkpoint's whole cost (the engine thread's
  // hold, the child's CPU time, the store's compress and write) is at most this share of one
  // core: at 10,000 agents a checkpoint costs ~0.6 s of CPU, which every second took a third of
  // a 2-core machine and starved the engine.
  double max_core_share = 0.10;
  // A downtime longer than this is flagged as a gap in today's figures even after a clean stop
  // (live feeds such as AMI keep talking while the daemon is down).
  double gap_seconds = 5.0;
  // Alert transitions waiting for the disk; beyond this the oldest are dropped (counted, logged).
  std::size_t max_pending_alert_events = 10000;
  // Finished calls waiting for the disk (about 40 bytes each); beyond this the oldest are dropped.
  std::size_t max_pending_finished_calls = 2'000'000;
};

// What start-up found in the store.
struct RestoreResult {
  bool restored = false;                   // the engine continues from the checkpoint
  double checkpoint_at = 0;                // engine time of the checkpoint (0 without one)
  bool clean_stop = false;                 // the previous run ended with a final checkpoint
  bool gap_noted = false;                  // [checkpoint_at, now) was flagged as a gap
  std::vector<metrics::AlertView> alerts;  // to hand to the alert evaluator (acks, states)
  std::vector<FeedPosition> feeds;         // where each feed stood at the checkpoint
  std::string problem;                     // why nothing was restored ("" when fine or empty)
};

// The built-in alert about the store (id "store_errors"): firing while writes fail.
inline constexpr const char* kStoreAlertId = "store_errors";

class Checkpointer {
 public:
  Checkpointer(std::shared_ptr<Store> store, CheckpointerOptions opts);
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Start-up, before the first event is applied: loads the checkpoint into `engine` and notes the
  // gap from its time to `now` when the downtime was long or the previous run crashed.
  RestoreResult restore(metrics::Engine& engine, double now);

  // True when the interval since the last checkpoint has passed (the first one is due at once):
  // the configured interval, or longer when the last checkpoint cost more than max_core_share
  // of it (effective_interval).
  bool due(std::chrono::steady_clock::time_point now) const;
  // Hands a checkpoint to the store thread. `alerts` are the current alert views (acks);
  // `history` the evaluator's transitions of this run so far, history[i] being transition number
  // `first_seq + i` (AlertsRuntime::history_first_seq), so nothing is stored twice or skipped.
  void take(metrics::Engine& engine, const std::vector<metrics::AlertView>& alerts,
            const std::vector<metrics::AlertTransition>& history, std::uint64_t first_seq,
            const std::vector<FeedPosition>& feeds, std::chrono::steady_clock::time_point now);
  // Waits until a checkpoint being serialized by a child process reached the store (tests).
  bool wait_idle(std::chrono::milliseconds timeout);

  // Clean shutdown: one last checkpoint marked final, then waits (bounded) for the store.
  void final_checkpoint(metrics::Engine& engine,
                        const std::vector<metrics::AlertView>& alerts,
                        const std::vector<metrics::AlertTransition>& history,
                        std::uint64_t first_seq, const std::vector<FeedPosition>& feeds,
                        std::chrono::milliseconds wait);

  // Adds the store's alert to the snapshot (and a data-quality warning when writes start to
  // fail); call after the alert evaluator filled snap.alerts.
  void decorate(metrics::Snapshot& snap, metrics::Engine& engine, double now);

  const std::shared_ptr<Store>& store() const { return store_; }
  std::uint64_t checkpoints_taken() const { return taken_; }
  // How long the last checkpoint held the engine thread, what it cost in all (engine thread,
  // child process, store write), and the interval in force now.
  std::chrono::steady_clock::duration last_build_time() const { return last_build_; }
  std::chrono::steady_clock::duration last_total_cost() const;
  std::chrono::steady_clock::duration effective_interval() const;
  std::uint64_t alert_events_dropped() const { return alert_events_dropped_; }
  std::uint64_t finished_calls_dropped() const { return finished_dropped_; }

 private:
  // Everything but the engine state (cheap, and it updates the alert-event bookkeeping).
  Checkpoint build(metrics::Engine& engine, const std::vector<metrics::AlertView>& alerts,
                   const std::vector<metrics::AlertTransition>& history, std::uint64_t first_seq,
                   const std::vector<FeedPosition>& feeds);
  // Serializes in a child process and takes `c` over; false (c untouched) when fork() is not
  // possible right now.
  bool take_forked(const metrics::Engine& engine, Checkpoint& c);
  void join_reader();

  std::shared_ptr<Store> store_;
  CheckpointerOptions opts_;
  std::chrono::steady_clock::time_point last_{};
  std::chrono::steady_clock::duration last_build_{};
  std::chrono::steady_clock::time_point last_stretch_log_{};
  // The child's output is read by this thread, which hands the checkpoint to the store.
  std::thread reader_;
  std::atomic<bool> in_flight_{false};
  std::atomic<std::uint64_t> child_failures_{0};
  std::atomic<std::int64_t> child_cpu_ns_{0};  // user + system time of the last child
  double store_write_seconds_ = 0;             // the store's last transaction, read at take()
  std::uint64_t taken_ = 0;
  std::uint64_t next_seq_ = 1;  // the first transition number not yet queued for the store
  // Closed intervals corrected by late events after the store had them: written again when
  // their revision passes this one.
  std::uint64_t sent_revision_ = 0;
  std::deque<AlertEvent> unconfirmed_events_;
  std::uint64_t alert_events_dropped_ = 0;
  std::deque<FinishedCallRow> unconfirmed_finished_;
  std::uint64_t next_finished_seq_ = 1;
  std::uint64_t finished_dropped_ = 0;
  // Built-in store alert.
  metrics::AlertView store_alert_;
  bool warned_ = false;
};

}  // namespace callwatch::daemon
