// Hand-off of the engine's latest Snapshot to readers on other threads (HTTP exporter, wallboard
// publisher, store). The engine thread publishes; readers take a shared, immutable copy.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "callwatch/metrics/snapshot.hpp"

namespace callwatch::daemon {

class SnapshotHub {
 public:
  using Ptr = std::shared_ptr<const metrics::Snapshot>;

  void publish(Ptr snap) {
    {
      std::lock_guard lock(mu_);
      latest_ = std::move(snap);
      ++generation_;
    }
    cv_.notify_all();
  }
  Ptr latest() const {
    std::lock_guard lock(mu_);
    return latest_;
  }
  // Waits until a snapshot newer than `seen_generation` exists (or timeout); returns it and
  // updates seen_generation. Returns nullptr on timeout.
  Ptr wait_newer(std::uint64_t& seen_generation, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return generation_ > seen_generation; })) return nullptr;
    seen_generation = generation_;
    return latest_;
  }

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Ptr latest_;
  std::uint64_t generation_ = 0;
};

}  // namespace callwatch::daemon
