// Today's states of every agent, as the boards were told them: the publisher notes each agent's
// state change from the deltas it sends (O(changed agents) per delta) and serves one agent's day
// on the ROUTER (`agent_history`), so a desktop's timeline is whole after the board restarts.
// Bounded: spans per agent and in all; what is dropped is counted.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "callwatch/metrics/snapshot.hpp"

namespace callwatch::daemon {

struct AgentTimelineLimits {
  std::size_t per_agent = metrics::kMaxAgentSpans;  // oldest spans of that agent dropped beyond
  std::size_t total = 500'000;                      // about 24 MB; then the agent's oldest go
};

class AgentTimeline {
 public:
  explicit AgentTimeline(AgentTimelineLimits limits = {}) : limits_(limits) {}

  // The day that starts at `day_start` (the engine's): a new day forgets the old one.
  void set_day(double day_start);
  // The agent is in `state` since `since` (the engine's state_since). A repeat of the current
  // state changes nothing; a start before the day is taken as the day's start.
  void note(std::string_view agent, metrics::AgentState state, double since,
            std::string_view reason);
  // Today's spans of the agent, oldest first; the last one runs to `now`. Empty when unknown.
  std::vector<metrics::AgentSpan> spans(std::string_view agent, double now) const;
  std::uint64_t cut(std::string_view agent) const;  // its spans dropped today
  double day_start() const { return day_start_; }

  std::uint64_t spans_cut_total() const { return cut_total_; }
  std::size_t spans_held() const { return held_; }

 private:
  struct Start {
    double at = 0;
    metrics::AgentState state = metrics::AgentState::logged_out;
    std::string reason;
  };
  struct Day {
    std::vector<Start> starts;  // oldest first
    std::size_t first = 0;      // starts before `first` were dropped (erased in batches)
    std::uint64_t cut = 0;
    std::size_t size() const { return starts.size() - first; }
  };
  void drop_oldest(Day& d);

  AgentTimelineLimits limits_;
  double day_start_ = 0;
  std::unordered_map<std::string, Day> days_;
  std::size_t held_ = 0;
  std::uint64_t cut_total_ = 0;
};

}  // namespace callwatch::daemon
