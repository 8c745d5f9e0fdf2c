// Slows down password guessing on /metrics: every wrong password from an address is answered
// after a delay that doubles with each failure in a row from that address, up to 8 times the
// first. The HTTP server holds the connection meanwhile without holding a thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace callwatch::daemon {

class AuthThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  // A failure streak ends this long after its last failure.
  static constexpr std::chrono::seconds kForgetAfter{60};
  // Addresses remembered at once; beyond, an unknown address waits the longest delay.
  static constexpr std::size_t kMaxPeers = 4096;
  static constexpr int kMaxDoublings = 3;  // 1, 2, 4, 8 times the first delay

  explicit AuthThrottle(std::chrono::milliseconds first_delay) : first_(first_delay) {}

  // Counts a failure from `peer` (an address, no port) at `now`; the delay before answering it.
  std::chrono::milliseconds failed(const std::string& peer, Clock::time_point now);
  // A right password ends the streak of its address.
  void succeeded(const std::string& peer);

 private:
  struct Streak {
    int failures = 0;
    Clock::time_point last{};
  };
  std::chrono::milliseconds delay_for(int failures) const;

  const std::chrono::milliseconds first_;
  std::mutex mu_;
  std::unordered_map<std::string, Streak> peers_;
};

}  // namespace callwatch::daemon
