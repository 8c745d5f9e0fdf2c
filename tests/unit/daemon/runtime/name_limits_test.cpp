// The cardinality guard: names known before always pass, new ones up to the cap, and an event
// that would pass a cap is refused whole, leaving nothing half-remembered.
#include "runtime/name_limits.hpp"

#include <catch2/catch.hpp>
#include <string_view>
#include <vector>

using callwatch::daemon::NameLimits;
using callwatch::metrics::Event;
using callwatch::metrics::EventType;

namespace {
Event ev(std::string_view queue, std::string_view agent = {}, std::string_view to_queue = {}) {
  Event e;
  e.type = EventType::call_enqueued;
  e.queue = queue;
  e.agent = agent;
  e.to_queue = to_queue;
  return e;
}
}  // namespace

TEST_CASE("at most N queues and M agents; known names always pass", "[limits]") {
  NameLimits l(3, 2);
  l.know_queue("sales");  // configured
  CHECK(l.admit(ev("sales")) == NameLimits::Verdict::ok);
  CHECK(l.admit(ev("billing", "ann")) == NameLimits::Verdict::ok);
  CHECK(l.admit(ev("billing", "bob")) == NameLimits::Verdict::ok);
  CHECK(l.queues() == 2);
  CHECK(l.agents() == 2);
  // A transfer into two new queues needs 2 more slots, only 1 is left: refused whole.
  CHECK(l.admit(ev("vip", "", "retention")) == NameLimits::Verdict::queue_limit);
  CHECK(l.queues() == 2);
  CHECK(l.admit(ev("vip")) == NameLimits::Verdict::ok);  // the third and last queue
  CHECK(l.admit(ev("retention")) == NameLimits::Verdict::queue_limit);
  CHECK(l.admit(ev("sales", "cy")) == NameLimits::Verdict::agent_limit);  // a third agent
  CHECK(l.admit(ev("sales", "ann")) == NameLimits::Verdict::ok);
  // The same new name twice in one event takes one slot.
  NameLimits one(1, 1);
  CHECK(one.admit(ev("q", "", "q")) == NameLimits::Verdict::ok);
  CHECK(one.queues() == 1);
}

TEST_CASE("an agent_state's queue list counts against the queue cap", "[limits]") {
  NameLimits l(2, 10);
  const std::vector<std::string_view> qs = {"a", "b", "c"};
  Event e;
  e.type = EventType::agent_state;
  e.agent = "ann";
  e.queues = qs;
  CHECK(l.admit(e) == NameLimits::Verdict::queue_limit);
  CHECK(l.agents() == 0);  // refused whole: the agent was not remembered either
  const std::vector<std::string_view> two = {"a", "b"};
  e.queues = two;
  CHECK(l.admit(e) == NameLimits::Verdict::ok);
  CHECK(l.queues() == 2);
}
