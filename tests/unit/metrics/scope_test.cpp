// Queue scoping and broadcasts on the wire, pure: what a client bound to {sales} gets of a
// snapshot and of a delta (counted by hand from the entities built here), and the 1.4 broadcast
// fields: they round-trip, a delta carries the whole list only when it changed, and a message of
// an older daemon (no field) reads as no broadcast.
#include <catch2/catch.hpp>

#include "callwatch/metrics/scope.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"

using namespace callwatch::metrics;

namespace {

QueueView queue(std::string name, int waiting) {
  QueueView q;
  q.name = std::move(name);
  q.calls_waiting = waiting;
  return q;
}

AgentView agent(std::string name, std::vector<std::string> queues) {
  AgentView a;
  a.name = std::move(name);
  a.queues = std::move(queues);
  return a;
}

AlertView alert(std::string id, std::string q) {
  AlertView a;
  a.id = std::move(id);
  a.queue = std::move(q);
  a.state = AlertState::firing;
  return a;
}

// Two teams: sales (a1, a3 who also takes support) and support (a2); an alert per queue and a
// global one (the store's, queue "").
Snapshot floor() {
  Snapshot s;
  s.now = 1000;
  s.queues = {queue("sales", 3), queue("support", 5)};
  s.agents = {agent("a1", {"sales"}), agent("a2", {"support"}), agent("a3", {"sales", "support"})};
  s.alerts = {alert("store_errors", ""), alert("waiting/sales", "sales"), alert("waiting/support", "support")};
  s.data_quality.events = 42;
  s.data_quality.warnings = {"call c9 entered queue support twice"};
  s.broadcasts = {BroadcastView{"b1", "Meeting at 3", "carol", 900, 1600}};
  return s;
}

}  // namespace

TEST_CASE("a scoped snapshot holds the scope's queues, their members and alerts, and global alerts",
          "[metrics][scope]") {
  const QueueScope north({"sales"});
  const Snapshot s = scoped(floor(), north);
  REQUIRE(s.queues.size() == 1);  // sales, not support
  CHECK(s.queues[0].name == "sales");
  CHECK(s.queues[0].calls_waiting == 3);
  REQUIRE(s.agents.size() == 2);  // a1 and a3 (a member of sales), not a2
  CHECK(s.agents[0].name == "a1");
  CHECK(s.agents[1].name == "a3");
  CHECK(s.agents[1].queues == std::vector<std::string>{"sales"});  // support cut from its list
  REQUIRE(s.alerts.size() == 2);  // the store's (global) and sales'
  CHECK(s.alerts[0].id == "store_errors");
  CHECK(s.alerts[1].id == "waiting/sales");
  CHECK(s.data_quality.events == 42);
  CHECK(s.data_quality.warnings.empty());  // they name other teams' calls
  CHECK(s.broadcasts.size() == 1);         // broadcasts go to everyone
  CHECK(s.now == 1000);
}

TEST_CASE("a scoped delta drops other teams' changes and removes an agent who left the scope",
          "[metrics][scope]") {
  const QueueScope north({"sales"});
  const Snapshot before = floor();
  Snapshot after = before;
  after.queues[0].calls_waiting = 4;  // sales 3 -> 4
  after.queues[1].calls_waiting = 6;  // support 5 -> 6
  after.agents[2].queues = {"support"};  // a3 leaves sales
  after.agents[1].state = AgentState::on_call;  // a2 (support) takes a call
  after.alerts.pop_back();  // waiting/support gone
  after.alerts[1].acked = true;  // waiting/sales acked
  const wire::SnapshotDelta d = wire::diff(before, after);
  REQUIRE(d.queues.size() == 2);
  REQUIRE(d.agents.size() == 2);
  const wire::SnapshotDelta cut = scoped(d, before, north);
  REQUIRE(cut.queues.size() == 1);
  CHECK(cut.queues[0].name == "sales");
  CHECK(cut.queues[0].calls_waiting == 4);
  CHECK(cut.agents.empty());  // a2 is not theirs; a3 is no longer theirs ...
  CHECK(cut.removed_agents == std::vector<std::string>{"a3"});  // ... so it is removed
  CHECK(cut.removed_alerts.empty());  // waiting/support was never theirs
  REQUIRE(cut.alerts.size() == 1);
  CHECK(cut.alerts[0].id == "waiting/sales");
  // Applied to what the scoped board held, it gives the scoped view of the new state.
  Snapshot board = scoped(before, north);
  wire::apply(board, cut);
  const Snapshot want = scoped(after, north);
  CHECK(board.queues.size() == want.queues.size());
  CHECK(board.queues[0].calls_waiting == 4);
  REQUIRE(board.agents.size() == 1);
  CHECK(board.agents[0].name == "a1");
  CHECK(board.alerts.size() == want.alerts.size());
  CHECK(board.alerts[1].acked);
}

TEST_CASE("the alert history of a scope is its queues' and the global alerts'", "[metrics][scope]") {
  std::vector<AlertTransition> h(3);
  h[0].queue = "sales";
  h[1].queue = "support";
  h[2].queue = "";
  const auto cut = scoped(h, QueueScope({"sales"}));
  REQUIRE(cut.size() == 2);
  CHECK(cut[0].queue == "sales");
  CHECK(cut[1].queue.empty());
}

TEST_CASE("broadcasts (1.4) round-trip, ride a delta only when the list changed, and are absent from "
          "an older daemon's messages",
          "[metrics][wire][broadcast]") {
  const Snapshot s = floor();
  auto m = wire::decode(wire::encode_snapshot(s, wire::Envelope{.seq = 7}));
  REQUIRE(m);
  CHECK(wire::to_string(m->proto) == "1.5");  // 1.4 added broadcasts; 1.5 is the current minor
  REQUIRE(m->snapshot.broadcasts.size() == 1);
  CHECK(m->snapshot.broadcasts[0] == s.broadcasts[0]);

  Snapshot later = s;
  later.queues[0].calls_waiting = 9;
  CHECK_FALSE(wire::diff(s, later).broadcasts.has_value());  // unchanged: not resent
  later.broadcasts.push_back(BroadcastView{"b2", "午休 12:30", "王经理", 950, 1950});
  const auto d = wire::diff(s, later);
  REQUIRE(d.broadcasts.has_value());
  CHECK(d.broadcasts->size() == 2);  // the whole list
  auto dm = wire::decode(wire::encode_delta(d, wire::Envelope{.seq = 8}));
  REQUIRE(dm);
  REQUIRE(dm->delta.broadcasts.has_value());
  Snapshot board = s;
  wire::apply(board, dm->delta);
  CHECK(board.broadcasts == later.broadcasts);
  // Withdrawn: the delta carries the empty list, which clears the board's.
  Snapshot none = later;
  none.broadcasts.clear();
  const auto cleared = wire::diff(later, none);
  REQUIRE(cleared.broadcasts.has_value());
  wire::apply(board, cleared);
  CHECK(board.broadcasts.empty());

  // A 1.3 daemon's snapshot and delta: no field, no broadcast, and a delta that does not touch
  // the board's list.
  auto old = wire::decode(R"({"proto":"1.3","type":"snapshot","seq":1,"state":{"now":5,"queues":[]}})");
  REQUIRE(old);
  CHECK(old->snapshot.broadcasts.empty());
  auto old_delta = wire::decode(R"({"proto":"1.3","type":"delta","seq":2,"now":6,"queues":[]})");
  REQUIRE(old_delta);
  CHECK_FALSE(old_delta->delta.broadcasts.has_value());

  // The requests.
  auto req = wire::decode(wire::encode_broadcast_request("Meeting", 90, "alice", "supervisor"));
  REQUIRE(req);
  CHECK(req->request == "broadcast");
  CHECK(req->text == "Meeting");
  CHECK(req->ttl == 90);
  auto wd = wire::decode(wire::encode_withdraw_request("b2", "alice", "supervisor"));
  REQUIRE(wd);
  CHECK(wd->request == "withdraw");
  CHECK(wd->broadcast_id == "b2");
}
