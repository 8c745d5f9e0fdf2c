#include "serve/agent_timeline.hpp"

#include <algorithm>

namespace callwatch::daemon {

void AgentTimeline::set_day(double day_start) {
  if (day_start == day_start_) return;
  if (day_start > day_start_) {
    days_.clear();
    held_ = 0;
  }
  day_start_ = day_start;
}

void AgentTimeline::drop_oldest(Day& d) {
  if (d.size() == 0) return;
  ++d.first;
  ++d.cut;
  ++cut_total_;
  --held_;
  // Erase in batches: one drop per note costs O(1), not a shift of 2,000 spans.
  if (d.first >= 64 && d.first * 2 >= d.starts.size()) {
    d.starts.erase(d.starts.begin(), d.starts.begin() + static_cast<std::ptrdiff_t>(d.first));
    d.first = 0;
  }
}

void AgentTimeline::note(std::string_view agent, metrics::AgentState state, double since,
                         std::string_view reason) {
  since = std::max(since, day_start_);
  auto it = days_.find(std::string(agent));
  if (it == days_.end()) it = days_.emplace(std::string(agent), Day{}).first;
  Day& d = it->second;
  if (d.size() > 0) {
    const Start& last = d.starts.back();
    if (last.state == state && last.reason == reason) return;  // nothing new
    // A start before the last one (a late event rewrote the state): it ends there.
    since = std::max(since, last.at);
  }
  while (d.size() >= limits_.per_agent) drop_oldest(d);
  while (held_ >= limits_.total && d.size() > 0) drop_oldest(d);
  d.starts.push_back(Start{since, state, std::string(reason)});
  ++held_;
}

std::vector<metrics::AgentSpan> AgentTimeline::spans(std::string_view agent, double now) const {
  std::vector<metrics::AgentSpan> out;
  const auto it = days_.find(std::string(agent));
  if (it == days_.end()) return out;
  const Day& d = it->second;
  out.reserve(d.size());
  for (std::size_t i = d.first; i < d.starts.size(); ++i) {
    const Start& s = d.starts[i];
    const double to = i + 1 < d.starts.size() ? d.starts[i + 1].at : std::max(now, s.at);
    out.push_back(metrics::AgentSpan{s.at, to, s.state, s.reason});
  }
  return out;
}

std::uint64_t AgentTimeline::cut(std::string_view agent) const {
  const auto it = days_.find(std::string(agent));
  return it == days_.end() ? 0 : it->second.cut;
}

}  // namespace callwatch::daemon
