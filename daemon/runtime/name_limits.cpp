// The checks are hash lookups of names already known, so the common case (every name seen
// before) costs one to three lookups per event and allocates nothing.
#include "runtime/name_limits.hpp"

#include <algorithm>
#include <vector>

namespace callwatch::daemon {

NameLimits::Verdict NameLimits::admit(const metrics::Event& e) {
  // The event's queue names not known yet (the queue, a transfer target, an agent_state's list).
  thread_local std::vector<std::string_view> fresh;
  fresh.clear();
  auto consider = [&](std::string_view q) {
    if (!q.empty() && !queues_.contains(q) &&
        std::find(fresh.begin(), fresh.end(), q) == fresh.end()) {
      fresh.push_back(q);
    }
  };
  consider(e.queue);
  consider(e.to_queue);
  for (std::string_view q : e.queues) consider(q);
  if (!fresh.empty() && queues_.size() + fresh.size() > max_queues_) return Verdict::queue_limit;
  const bool new_agent = !e.agent.empty() && !agents_.contains(e.agent);
  if (new_agent && agents_.size() >= max_agents_) return Verdict::agent_limit;

  for (std::string_view q : fresh) queues_.emplace(q);
  if (new_agent) agents_.emplace(e.agent);
  return Verdict::ok;
}

}  // namespace callwatch::daemon
