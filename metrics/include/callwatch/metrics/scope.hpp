// Queue scoping ([[security.scope]]): what a client bound to a set of queues may see of a
// snapshot, a delta and the alert history. Pure, so the publisher and the tests share one rule.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "callwatch/metrics/alerts.hpp"
#include "callwatch/metrics/snapshot.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"

namespace callwatch::metrics {

// The rule: the scope's queues; agents that are members of one of them (their queue list cut to
// the scope); alerts of those queues and global ones (queue "": a feed or the store, no team's
// figures); data-quality counts without the warning texts (they name calls and queues).
// Broadcasts go to everyone.
class QueueScope {
 public:
  QueueScope() = default;
  explicit QueueScope(std::vector<std::string> queues);  // sorted and deduplicated here
  bool contains(std::string_view queue) const;
  bool sees_agent(const AgentView& a) const;            // a member of one of the scope's queues
  bool sees_alert(std::string_view alert_queue) const;  // its queue, or a global alert
  const std::vector<std::string>& queues() const { return queues_; }

 private:
  std::vector<std::string> queues_;
};

Snapshot scoped(const Snapshot& s, const QueueScope& scope);
// `before` is the state the delta applies to (what subscribers held): removals are passed on
// only for entities the scope saw there. An agent that left the scope's queues is removed.
wire::SnapshotDelta scoped(const wire::SnapshotDelta& d, const Snapshot& before,
                           const QueueScope& scope);
std::vector<AlertTransition> scoped(const std::vector<AlertTransition>& h, const QueueScope& scope);

}  // namespace callwatch::metrics
