// The engine thread of callwatchd: the one owner of metrics::Engine, the alert evaluator and every
// feed counter. It polls the feed sockets, parses and applies events, lets time pass, and publishes
// Snapshot + FeedHealth to the SnapshotHub. Nothing else touches engine state.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "runtime/alerts_runtime.hpp"
#include "store/checkpointer.hpp"
#include "callwatch/metrics/alerts.hpp"
#include "callwatch/metrics/clock.hpp"
#include "callwatch/metrics/engine.hpp"
#include "runtime/snapshot_hub.hpp"
#include "runtime/system_clock.hpp"

namespace callwatch::daemon {

// Internal feeds (AMI, ESL, queue_log threads, the demo simulator) PUSH to this inproc endpoint,
// two frames per message: the feed name, then a binary batch of records (feeds/feed_wire.hpp:
// events, feed_restart among them, and the feed's accepted / duplicate / rejected / ignored
// messages). An optional third frame is the feed's position after the batch (opaque text, e.g. a
// queue_log offset): the engine keeps the position of the last batch it applied and saves it with
// each checkpoint, so a restart resumes the feed exactly where the restored state ends.
inline constexpr const char* kInternalFeedEndpoint = "inproc://callwatch-internal-feeds";

struct EngineLoopOptions {
  std::size_t max_message_bytes = 64 * 1024;
  std::chrono::milliseconds advance_every{250};
  // Changes are published at most every min_publish_gap, and never so often that publishing (the
  // snapshot, the alerts) takes more than max_publish_share of the engine thread's CPU: a publish
  // builds the views that changed, a few ms at 10,000 agents and 5,000 events/s, but all 500
  // queue views at a minute's turn (~20 ms: the gap stretches to ~50 ms for a moment).
  std::chrono::milliseconds min_publish_gap{20};
  double max_publish_share = 0.4;
  std::chrono::milliseconds max_publish_gap{1000}; // at least one a second
  int reject_logs_per_second = 10;
  std::vector<metrics::AlertRule> alert_rules;
  std::shared_ptr<AlertControl> alert_control;  // acks in from the ROUTER, history out; may be null
  // Cardinality guard (daemon/name_limits): distinct queues and agents accepted.
  std::size_t max_queues = 2000;
  std::size_t max_agents = 50000;
  // Persistence (daemon/store, daemon/checkpointer): null runs without a store.
  std::shared_ptr<Store> store;
  CheckpointerOptions checkpoint;
};

// The engine settings of a live daemon: a queue's view is built again when it changes, or once
// its clock-grown parts (longest wait, open member time) are a second behind; an agent's when it
// changes or its clock-grown times (time in state, pause by reason) are as far behind as the
// boards' resend step (only the boards read them; they count time in state from state_since).
metrics::EngineSettings live_engine_settings(metrics::EngineSettings settings);

class EngineLoop {
 public:
  EngineLoop(metrics::EngineSettings settings, EngineLoopOptions opts, SnapshotHub& hub,
             const metrics::Clock& clock);
  ~EngineLoop();
  EngineLoop(const EngineLoop&) = delete;
  EngineLoop& operator=(const EngineLoop&) = delete;

  // A bound PULL socket carrying one native JSON object per message (parsed, deduplicated by the
  // feeds' day rule and counted here). Call before run().
  void add_native_feed(std::string name, zmq::socket_t socket);
  // The bound inproc PULL socket of internal feeds (see kInternalFeedEndpoint).
  void set_internal_socket(zmq::socket_t socket);
  // Declares an internal feed so it shows in /metrics before its first message; its producer
  // sets the returned flag while it runs (callwatch_feed_up).
  std::shared_ptr<std::atomic<bool>> add_internal_feed(const std::string& name);

  // Start-up, before run() and before the feeds start: continues from the store's checkpoint
  // (engine, alert states and acks, the day's alert history) and flags the downtime. The result
  // holds each feed's saved position. Without a store: nothing to restore.
  RestoreResult restore_from_store();

  // Runs on the engine thread until `stop` is set. Publishes once before returning; with a store,
  // takes a checkpoint every CheckpointerOptions::interval and a final one on the way out.
  void run(const std::atomic<bool>& stop);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace callwatch::daemon
