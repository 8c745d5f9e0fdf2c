#include <catch2/catch.hpp>

#include "relay/site_merge.hpp"

namespace m = callwatch::metrics;
namespace r = callwatch::daemon::relay;

namespace {

std::shared_ptr<const m::Snapshot> site(double now, std::vector<std::pair<std::string, int>> queues,
                                         std::vector<std::string> agents, std::uint64_t events) {
  auto s = std::make_shared<m::Snapshot>();
  s->now = now;
  s->day_start = 1'764'633'600;  // 2025-12-02 00:00 UTC at both sites
  s->events_applied = events;
  s->data_quality.events = events;
  for (auto& [name, waiting] : queues) {
    m::QueueView q;
    q.name = name;
    q.calls_waiting = waiting;
    s->queues.push_back(q);
  }
  for (auto& name : agents) {
    m::AgentView a;
    a.name = name;
    a.queues = {"sales"};
    s->agents.push_back(a);
  }
  return s;
}

}  // namespace

TEST_CASE("two sites with the same queue name stay apart, each under its site", "[relay]") {
  auto north = std::const_pointer_cast<m::Snapshot>(site(1000, {{"sales", 3}, {"vip", 1}}, {"ana"}, 40));
  north->queues[0].settings.display_name = "Sales";
  m::AlertView a;
  a.id = "long-wait/sales";
  a.queue = "sales";
  a.subject = "Sales";
  a.message = "Sales: longest wait 75 s";
  a.state = m::AlertState::firing;
  north->alerts.push_back(a);
  north->data_quality.warnings = {"late event"};
  m::BroadcastView b;
  b.id = "b1764640000000-1";
  b.text = "Price cut at 10:00: expect a surge";
  b.from = "alice";
  north->broadcasts.push_back(b);
  north->data_quality.warning_counts["late"] = 2;
  auto south = std::const_pointer_cast<m::Snapshot>(site(1004, {{"sales", 5}}, {"ana", "bo"}, 60));
  // At south, a caller waits while bo is rung, and ana talks to a caller of sales.
  m::WaitingCaller w;
  w.position = 1;
  w.caller = "+8613800000000";
  w.ringing = "bo";
  south->queues[0].waiting_list.push_back(w);
  south->agents[0].call_queue = "sales";
  south->agents[0].call_caller = "+8613900000000";

  const auto merged = r::merge_sites({{"north", north}, {"south", south}, {"west", nullptr}}, 7);

  // Three queues: north's sales and vip, south's sales; sorted by the qualified name.
  REQUIRE(merged.queues.size() == 3);
  CHECK(merged.queues[0].name == "north/sales");
  CHECK(merged.queues[0].calls_waiting == 3);
  CHECK(merged.queues[0].settings.display_name == "north: Sales");
  CHECK(merged.queues[1].name == "north/vip");
  CHECK(merged.queues[1].settings.display_name == "north: vip");  // no display name: the name
  CHECK(merged.queues[2].name == "south/sales");
  CHECK(merged.queues[2].calls_waiting == 5);
  // ana works at both sites: two agents; their queue lists point at their own site's queues.
  REQUIRE(merged.agents.size() == 3);
  CHECK(merged.agents[0].name == "north/ana");
  CHECK(merged.agents[0].queues == std::vector<std::string>{"north/sales"});
  CHECK(merged.agents[1].name == "south/ana");
  CHECK(merged.agents[2].name == "south/bo");
  CHECK(merged.agents[1].call_queue == "south/sales");
  CHECK(merged.agents[1].call_caller == "+8613900000000");
  REQUIRE(merged.queues[2].waiting_list.size() == 1);
  CHECK(merged.queues[2].waiting_list[0].ringing == "south/bo");  // the agent as the board lists it
  CHECK(merged.queues[2].waiting_list[0].caller == "+8613800000000");
  REQUIRE(merged.alerts.size() == 1);
  CHECK(merged.alerts[0].id == "north/long-wait/sales");
  CHECK(merged.alerts[0].queue == "north/sales");
  CHECK(merged.alerts[0].subject == "north: Sales");
  CHECK(merged.alerts[0].state == m::AlertState::firing);
  // A broadcast says which site's supervisor wrote it.
  REQUIRE(merged.broadcasts.size() == 1);
  CHECK(merged.broadcasts[0].id == "north/b1764640000000-1");
  CHECK(merged.broadcasts[0].from == "north: alice");
  CHECK(merged.broadcasts[0].text == "Price cut at 10:00: expect a surge");
  // Counts add up (40 + 60 events), times are the latest site's, the version is the relay's own.
  CHECK(merged.events_applied == 100);
  CHECK(merged.data_quality.events == 100);
  CHECK(merged.data_quality.warning_counts.at("late") == 2);
  CHECK(merged.data_quality.warnings == std::vector<std::string>{"north: late event"});
  CHECK(merged.now == 1004);
  CHECK(merged.version == 7);
}

TEST_CASE("an ack of a merged alert id goes to the site that owns it, by the longest label", "[relay]") {
  const std::vector<std::string> labels{"north", "north/annex", "south"};
  auto o = r::owner_of(labels, "north/long-wait/sales");
  REQUIRE(o);
  CHECK(o->first == 0);
  CHECK(o->second == "long-wait/sales");
  // "north/annex/..." is the annex's alert, not north's alert "annex/...".
  o = r::owner_of(labels, "north/annex/long-wait/vip");
  REQUIRE(o);
  CHECK(o->first == 1);
  CHECK(o->second == "long-wait/vip");
  CHECK_FALSE(r::owner_of(labels, "east/long-wait/sales"));
  CHECK_FALSE(r::owner_of(labels, "south/"));  // nothing after the label
  CHECK_FALSE(r::owner_of(labels, "southern/x"));
}

TEST_CASE("two upstreams with one site name get distinct labels", "[relay]") {
  CHECK(r::unique_labels({"north", "south", "north", "north"}) ==
        std::vector<std::string>{"north", "south", "north-2", "north-3"});
}
