#include "vm/history.hpp"

#include <cmath>
#include <limits>

#include "callwatch/metrics/stats.hpp"

namespace callwatch::wallboard::vm {

std::string queue_key(const SiteFeed& f, const std::string& queue) {
  return site_label(f) + "\x1f" + queue;  // unit separator: cannot appear in a TCP address
}

void History::record(const std::string& key, double t, int waiting, std::optional<double> sl) {
  auto& s = series_[key];
  if (!s.empty() && t - s.back().t < step_) return;
  s.push_back(Sample{t, static_cast<float>(waiting),
                     sl ? static_cast<float>(*sl) : std::numeric_limits<float>::quiet_NaN()});
  while (!s.empty() && s.front().t < t - keep_) s.pop_front();
}

void History::record_sites(const std::vector<SiteFeed>& sites, double now) {
  for (const auto& f : sites) {
    if (!f.state || link_state(f, now) != LinkState::live) continue;
    for (const auto& q : f.state->queues) {
      const auto& w = q.windows[static_cast<int>(metrics::WindowKind::sliding_15m)];
      record(queue_key(f, q.name), now, q.calls_waiting,
             metrics::service_level(w.counters, q.settings.formula));
    }
  }
}

const std::deque<History::Sample>* History::find(const std::string& key) const {
  auto it = series_.find(key);
  return it == series_.end() ? nullptr : &it->second;
}

}  // namespace callwatch::wallboard::vm
