// Hand-off between the subscriber threads (one per site) and the UI thread: each site's latest
// SiteFeed behind one mutex. States are shared immutable snapshots, so a copy for a frame is a
// few pointer copies, never a deep copy of 10,000 agents.
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <vector>

#include "vm/site_feed.hpp"

namespace callwatch::wallboard::app {

class FeedStore {
 public:
  explicit FeedStore(std::vector<vm::SiteFeed> initial) : feeds_(std::move(initial)) {}

  std::vector<vm::SiteFeed> copy() const {
    std::lock_guard lock(mu_);
    return feeds_;
  }
  // Bumps on every update; the UI redraws when it moved.
  std::uint64_t generation() const { return generation_.load(); }

  template <typename F>
  void update(std::size_t index, F&& f) {
    std::function<void()> notify;
    {
      std::lock_guard lock(mu_);
      f(feeds_.at(index));
      ++feeds_[index].updates;
      notify = on_change_;
    }
    generation_.fetch_add(1);
    if (notify) notify();
  }
  // An update no screen needs at once (a heartbeat that only refreshes "last heard"): no
  // generation bump, no wake-up; the once-a-second redraw shows it.
  template <typename F>
  void update_quiet(std::size_t index, F&& f) {
    std::lock_guard lock(mu_);
    f(feeds_.at(index));
  }
  // Called after each update, on the updating thread (the app wakes its event loop with it).
  void set_on_change(std::function<void()> cb) {
    std::lock_guard lock(mu_);
    on_change_ = std::move(cb);
  }

 private:
  mutable std::mutex mu_;
  std::vector<vm::SiteFeed> feeds_;
  std::atomic<std::uint64_t> generation_{0};
  std::function<void()> on_change_;
};

}  // namespace callwatch::wallboard::app
