// Hand-off of the engine's latest Snapshot to readers on other threads (HTTP exporter, wallboard
// publisher, store). The engine thread publishes; readers take a shared, immutable copy.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

#include "callwatch/metrics/snapshot.hpp"
#include "runtime/feed_health.hpp"

namespace callwatch::daemon {

class SnapshotHub {
 public:
  using Ptr = std::shared_ptr<const metrics::Snapshot>;
  using FeedsPtr = std::shared_ptr<const std::vector<FeedHealth>>;

  // What one publish hands out: the snapshot and the feeds' health counted up to the same moment.
  struct Frame {
    Ptr snapshot;
    FeedsPtr feeds;
    std::uint64_t generation = 0;
    std::chrono::steady_clock::time_point published{};
  };

  // `feeds` == nullptr keeps the feed health of the previous publish.
  void publish(Ptr snap, FeedsPtr feeds = nullptr) {
    {
      std::lock_guard lock(mu_);
      frame_.snapshot = std::move(snap);
      if (feeds) frame_.feeds = std::move(feeds);
      frame_.published = std::chrono::steady_clock::now();
      ++frame_.generation;
    }
    cv_.notify_all();
  }
  Ptr latest() const {
    std::lock_guard lock(mu_);
    return frame_.snapshot;
  }
  Frame frame() const {
    std::lock_guard lock(mu_);
    return frame_;
  }
  // Waits until a snapshot newer than `seen_generation` exists (or timeout); returns it and
  // updates seen_generation. Returns nullptr on timeout.
  Ptr wait_newer(std::uint64_t& seen_generation, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return frame_.generation > seen_generation; })) return nullptr;
    seen_generation = frame_.generation;
    return frame_.snapshot;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Frame frame_;
};

}  // namespace callwatch::daemon
