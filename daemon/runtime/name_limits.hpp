// Cardinality guard of the live engine: at most N distinct queues and M distinct agents. Every
// queue costs ~150 series in /metrics and a row on every board; a feed that invents names (a bug,
// a call id in the queue field, an attack) must not grow them without end. An event that would add
// a name over a cap is not applied; it is counted and logged instead.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <unordered_set>

#include "callwatch/metrics/event.hpp"

namespace callwatch::daemon {

class NameLimits {
 public:
  enum class Verdict { ok, queue_limit, agent_limit };

  NameLimits(std::size_t max_queues, std::size_t max_agents)
      : max_queues_(max_queues), max_agents_(max_agents) {}

  // Names that exist already (configured queues, a restored state): always admitted.
  void know_queue(std::string_view name) { queues_.emplace(name); }
  void know_agent(std::string_view name) { agents_.emplace(name); }

  // Admits the event and remembers its new names, or refuses it whole (nothing remembered) when
  // one of them would pass a cap.
  Verdict admit(const metrics::Event& e);

  std::size_t queues() const { return queues_.size(); }
  std::size_t agents() const { return agents_.size(); }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  using Names = std::unordered_set<std::string, Hash, std::equal_to<>>;

  std::size_t max_queues_;
  std::size_t max_agents_;
  Names queues_;
  Names agents_;
};

}  // namespace callwatch::daemon
