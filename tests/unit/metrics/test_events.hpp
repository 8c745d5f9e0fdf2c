// Small builders for engine tests: events own their strings here, unlike feed events.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "callwatch/metrics/engine.hpp"

namespace cwtest {

using namespace callwatch::metrics;

// Keeps the strings alive for the events built from it.
class Feed {
 public:
  explicit Feed(Engine& e) : engine_(e) {}

  ApplyResult enqueue(double ts, const std::string& call, const std::string& queue) {
    Event e = base(EventType::call_enqueued, ts, call);
    e.queue = keep(queue);
    return engine_.apply(e);
  }
  ApplyResult enqueue_from(double ts, const std::string& call, const std::string& queue,
                           const std::string& caller) {
    Event e = base(EventType::call_enqueued, ts, call);
    e.queue = keep(queue);
    e.caller = keep(caller);
    return engine_.apply(e);
  }
  // agent_state ringing that names the call rung for (AMI AgentCalled, native "call").
  ApplyResult ring(double ts, const std::string& agent, const std::string& call,
                   const std::string& queue) {
    Event e = base(EventType::agent_state, ts, call);
    e.agent = keep(agent);
    e.state = AgentState::ringing;
    auto& views = spans_.emplace_back();
    views.push_back(keep(queue));
    e.queues = views;
    return engine_.apply(e);
  }
  ApplyResult answer(double ts, const std::string& call, const std::string& queue,
                     const std::string& agent, double wait = kNoValue) {
    Event e = base(EventType::call_answered, ts, call);
    e.queue = keep(queue);
    e.agent = keep(agent);
    e.wait = wait;
    return engine_.apply(e);
  }
  ApplyResult abandon(double ts, const std::string& call, const std::string& queue,
                      double wait = kNoValue) {
    Event e = base(EventType::call_abandoned, ts, call);
    e.queue = keep(queue);
    e.wait = wait;
    return engine_.apply(e);
  }
  ApplyResult exit(double ts, const std::string& call, const std::string& queue, ExitReason r,
                   double wait = kNoValue) {
    Event e = base(EventType::call_exited, ts, call);
    e.queue = keep(queue);
    e.exit_reason = r;
    e.wait = wait;
    return engine_.apply(e);
  }
  ApplyResult end(double ts, const std::string& call, const std::string& agent,
                  double talk = kNoValue, const std::string& queue = "") {
    Event e = base(EventType::call_ended, ts, call);
    e.agent = keep(agent);
    e.talk = talk;
    e.queue = keep(queue);
    return engine_.apply(e);
  }
  // call_ended with the parts a feed may state (hold, after-call work).
  ApplyResult end_stated(double ts, const std::string& call, const std::string& agent, double talk,
                         double hold, double wrap) {
    Event e = base(EventType::call_ended, ts, call);
    e.agent = keep(agent);
    e.talk = talk;
    e.hold = hold;
    e.wrap = wrap;
    return engine_.apply(e);
  }
  ApplyResult ring_noanswer(double ts, const std::string& call, const std::string& queue,
                            const std::string& agent, double ring_ms = kNoValue) {
    Event e = base(EventType::agent_ring_noanswer, ts, call);
    e.queue = keep(queue);
    e.agent = keep(agent);
    e.ring_ms = ring_ms;
    return engine_.apply(e);
  }
  ApplyResult state(double ts, const std::string& agent, AgentState s,
                    std::vector<std::string> queues = {}, const std::string& reason = "") {
    Event e = base(EventType::agent_state, ts, "");
    e.agent = keep(agent);
    e.state = s;
    e.reason = keep(reason);
    auto& views = spans_.emplace_back();
    for (auto& q : queues) views.push_back(keep(q));
    e.queues = views;
    return engine_.apply(e);
  }
  ApplyResult restart(double ts) { return engine_.apply(base(EventType::feed_restart, ts, "")); }

 private:
  Event base(EventType t, double ts, const std::string& call) {
    Event e;
    e.type = t;
    e.ts = ts;
    e.call = keep(call);
    return e;
  }
  std::string_view keep(const std::string& s) { return strings_.emplace_back(s); }
  Engine& engine_;
  std::deque<std::string> strings_;
  std::deque<std::vector<std::string_view>> spans_;
};

inline const QueueView& queue(const Snapshot& s, const std::string& name) {
  for (const auto& q : s.queues)
    if (q.name == name) return q;
  throw std::runtime_error("no queue " + name);
}
inline const AgentView& agent(const Snapshot& s, const std::string& name) {
  for (const auto& a : s.agents)
    if (a.name == name) return a;
  throw std::runtime_error("no agent " + name);
}
inline const QueueCounters& today(const QueueView& q) {
  return q.windows[static_cast<int>(WindowKind::today)].counters;
}

}  // namespace cwtest
