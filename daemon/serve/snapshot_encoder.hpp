// Encodes wallboard snapshots on a thread of its own, so a 10,000-agent snapshot (tens of
// milliseconds of JSON) never holds up the publisher's deltas and heartbeats. One job at a time.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "callwatch/metrics/snapshot.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"

namespace callwatch::daemon {

class SnapshotEncoder {
 public:
  struct Result {
    std::string json;
    std::uint64_t seq = 0;
  };

  // `done` runs on the encoder's thread after each job (it wakes the publisher).
  explicit SnapshotEncoder(std::function<void()> done);
  ~SnapshotEncoder();  // finishes the running job, then stops
  SnapshotEncoder(const SnapshotEncoder&) = delete;
  SnapshotEncoder& operator=(const SnapshotEncoder&) = delete;

  // False while a job runs or its result waits in take().
  bool idle() const;
  // Encodes `state` with the envelope (site and stream copied; seq, sent_at as given).
  void submit(std::shared_ptr<const metrics::Snapshot> state, const metrics::wire::Envelope& env);
  // The finished job's body, once.
  std::optional<Result> take();

 private:
  void run();

  std::function<void()> done_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const metrics::Snapshot> job_;
  metrics::wire::Envelope env_;
  std::string site_;  // env_.site points here
  std::optional<Result> result_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace callwatch::daemon
