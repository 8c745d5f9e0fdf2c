#include "serve/auth_throttle.hpp"

#include <algorithm>

namespace callwatch::daemon {

std::chrono::milliseconds AuthThrottle::delay_for(int failures) const {
  const int doublings = std::clamp(failures - 1, 0, kMaxDoublings);
  return first_ * (1 << doublings);
}

std::chrono::milliseconds AuthThrottle::failed(const std::string& peer, Clock::time_point now) {
  std::lock_guard lock(mu_);
  auto it = peers_.find(peer);
  if (it == peers_.end()) {
    if (peers_.size() >= kMaxPeers) {
      std::erase_if(peers_, [&](const auto& p) { return now - p.second.last > kForgetAfter; });
    }
    // Still full: many addresses guessing at once; none of them is told less than the longest wait.
    if (peers_.size() >= kMaxPeers) return delay_for(kMaxDoublings + 1);
    it = peers_.emplace(peer, Streak{}).first;
  }
  Streak& s = it->second;
  if (s.failures > 0 && now - s.last > kForgetAfter) s.failures = 0;
  ++s.failures;
  s.last = now;
  return delay_for(s.failures);
}

void AuthThrottle::succeeded(const std::string& peer) {
  std::lock_guard lock(mu_);
  peers_.erase(peer);
}

}  // namespace callwatch::daemon
