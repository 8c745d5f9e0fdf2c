// Cutting snapshots, deltas and history to a queue scope (see scope.hpp for the rule).
#include "callwatch/metrics/scope.hpp"

#include <algorithm>

namespace callwatch::metrics {

namespace {

AgentView cut_agent(const AgentView& a, const QueueScope& scope) {
  AgentView out = a;
  std::erase_if(out.queues, [&](const std::string& q) { return !scope.contains(q); });
  return out;
}

DataQuality cut_quality(const DataQuality& d) {
  DataQuality out = d;
  out.warnings.clear();
  return out;
}

template <typename C, typename Key, typename T = typename C::value_type>
const T* find_by(const C& v, std::string_view key, Key&& key_of) {
  const auto it = std::lower_bound(v.begin(), v.end(), key,
                                   [&](const T& e, std::string_view k) { return key_of(e) < k; });
  if (it != v.end() && key_of(*it) == key) return &*it;
  // Not sorted (a hand-made snapshot): a linear look.
  const auto lin = std::find_if(v.begin(), v.end(), [&](const T& e) { return key_of(e) == key; });
  return lin == v.end() ? nullptr : &*lin;
}

}  // namespace

QueueScope::QueueScope(std::vector<std::string> queues) : queues_(std::move(queues)) {
  std::sort(queues_.begin(), queues_.end());
  queues_.erase(std::unique(queues_.begin(), queues_.end()), queues_.end());
}

bool QueueScope::contains(std::string_view queue) const {
  return std::binary_search(queues_.begin(), queues_.end(), queue,
                            [](std::string_view a, std::string_view b) { return a < b; });
}

bool QueueScope::sees_agent(const AgentView& a) const {
  return std::any_of(a.queues.begin(), a.queues.end(),
                     [&](const std::string& q) { return contains(q); });
}

bool QueueScope::sees_alert(std::string_view alert_queue) const {
  return alert_queue.empty() || contains(alert_queue);
}

Snapshot scoped(const Snapshot& s, const QueueScope& scope) {
  Snapshot out;
  out.now = s.now;
  out.interval_start = s.interval_start;
  out.day_start = s.day_start;
  out.events_applied = s.events_applied;
  out.version = s.version;
  for (const auto& q : s.queues) {
    if (scope.contains(q.name)) out.queues.push_back(q);
  }
  for (const auto& a : s.agents) {
    if (scope.sees_agent(a)) out.agents.push_back(cut_agent(a, scope));
  }
  for (const auto& a : s.alerts) {
    if (scope.sees_alert(a.queue)) out.alerts.push_back(a);
  }
  out.data_quality = cut_quality(s.data_quality);
  out.broadcasts = s.broadcasts;
  return out;
}

wire::SnapshotDelta scoped(const wire::SnapshotDelta& d, const Snapshot& before,
                           const QueueScope& scope) {
  wire::SnapshotDelta out;
  out.now = d.now;
  out.interval_start = d.interval_start;
  out.day_start = d.day_start;
  out.events_applied = d.events_applied;
  out.version = d.version;
  for (const auto& q : d.queues) {
    if (scope.contains(q.name)) out.queues.push_back(q);
  }
  for (const auto& name : d.removed_queues) {
    if (scope.contains(name)) out.removed_queues.push_back(name);
  }
  const auto agent_name = [](const AgentView& a) -> const std::string& { return a.name; };
  for (const auto& a : d.agents) {
    if (scope.sees_agent(a)) {
      out.agents.push_back(cut_agent(a, scope));
    } else if (const AgentView* old = find_by(before.agents, a.name, agent_name);
               old != nullptr && scope.sees_agent(*old)) {
      out.removed_agents.push_back(a.name);  // moved to another team's queues
    }
  }
  for (const auto& name : d.removed_agents) {
    if (const AgentView* old = find_by(before.agents, name, agent_name);
        old != nullptr && scope.sees_agent(*old)) {
      out.removed_agents.push_back(name);
    }
  }
  for (const auto& a : d.alerts) {
    if (scope.sees_alert(a.queue)) out.alerts.push_back(a);
  }
  const auto alert_id = [](const AlertView& a) -> const std::string& { return a.id; };
  for (const auto& id : d.removed_alerts) {
    if (const AlertView* old = find_by(before.alerts, id, alert_id);
        old != nullptr && scope.sees_alert(old->queue)) {
      out.removed_alerts.push_back(id);
    }
  }
  if (d.data_quality) out.data_quality = cut_quality(*d.data_quality);
  out.broadcasts = d.broadcasts;
  return out;
}

std::vector<AlertTransition> scoped(const std::vector<AlertTransition>& h,
                                    const QueueScope& scope) {
  std::vector<AlertTransition> out;
  for (const auto& t : h) {
    if (scope.sees_alert(t.queue)) out.push_back(t);
  }
  return out;
}

}  // namespace callwatch::metrics
