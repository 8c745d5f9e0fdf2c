// Rate limit of log lines about things a peer can repeat at will (refused connections, wrong
// passwords): a few lines per second, the rest counted and summarised, so a flood costs a counter.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

namespace callwatch::daemon {

// At most `per_second` lines per one-second window; thread-safe.
class LogLimiter {
 public:
  using Clock = std::chrono::steady_clock;
  explicit LogLimiter(int per_second) : per_second_(per_second) {}

  // True when this line may be written; otherwise it is counted as held back.
  bool allow(Clock::time_point now) {
    std::lock_guard lock(mu_);
    roll(now);
    if (logged_ < per_second_) {
      ++logged_;
      return true;
    }
    ++held_;
    return false;
  }

  // Lines held back in windows that have ended, reset to 0: the caller logs "N more ...". Call it
  // on a timer too, so the last second of a burst is summarised even when nothing follows it.
  std::uint64_t take_held(Clock::time_point now) {
    std::lock_guard lock(mu_);
    roll(now);
    const std::uint64_t n = ended_held_;
    ended_held_ = 0;
    return n;
  }

 private:
  void roll(Clock::time_point now) {
    if (now - window_ < std::chrono::seconds(1)) return;
    ended_held_ += held_;
    held_ = 0;
    logged_ = 0;
    window_ = now;
  }

  std::mutex mu_;
  const int per_second_;
  Clock::time_point window_{};
  int logged_ = 0;
  std::uint64_t held_ = 0;
  std::uint64_t ended_held_ = 0;
};

}  // namespace callwatch::daemon
