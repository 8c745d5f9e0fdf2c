// The agent timeline the publisher keeps from its deltas and serves as agent_history: today's
// spans, bounded per agent and in all (what is dropped is counted), and over a real ROUTER.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "runtime/snapshot_hub.hpp"
#include "serve/agent_timeline.hpp"
#include "serve/publisher.hpp"

using namespace callwatch;
using namespace std::chrono_literals;
using metrics::AgentState;
namespace wire = metrics::wire;

namespace {
constexpr double kDay = 1767571200;  // 2026-01-05 00:00 UTC
}

TEST_CASE("the timeline keeps one span per state change and runs the last one to now",
          "[daemon][timeline]") {
  daemon::AgentTimeline t;
  t.set_day(kDay);
  // Logged in at 08:00 available, on a call 08:10, paused "lunch" 12:00, available 13:00.
  t.note("ana", AgentState::available, kDay + 8 * 3600, "");
  t.note("ana", AgentState::available, kDay + 8 * 3600, "");  // the same state again: nothing
  t.note("ana", AgentState::on_call, kDay + 8 * 3600 + 600, "");
  t.note("ana", AgentState::paused, kDay + 12 * 3600, "lunch");
  t.note("ana", AgentState::paused, kDay + 12 * 3600 + 60, "meeting");  // another reason: a span
  t.note("ana", AgentState::available, kDay + 13 * 3600, "");
  const auto s = t.spans("ana", kDay + 14 * 3600);
  REQUIRE(s.size() == 5);
  CHECK(s[0].from == kDay + 28800);
  CHECK(s[0].to == kDay + 29400);  // 08:00 -> 08:10
  CHECK(s[1].state == AgentState::on_call);
  CHECK(s[1].to == kDay + 43200);  // -> 12:00
  CHECK(s[2].reason == "lunch");
  CHECK(s[2].to == kDay + 43260);
  CHECK(s[3].reason == "meeting");
  CHECK(s[4].state == AgentState::available);
  CHECK(s[4].to == kDay + 50400);  // the open span: to now, 14:00
  CHECK(t.spans("bob", kDay).empty());
  // A state from before the day (logged in since yesterday) starts at the day's start.
  t.note("cai", AgentState::available, kDay - 3600, "");
  CHECK(t.spans("cai", kDay + 60)[0].from == kDay);
  // The next day forgets today.
  t.set_day(kDay + 86400);
  CHECK(t.spans("ana", kDay + 86400 + 60).empty());
  CHECK(t.spans_held() == 0);
}

TEST_CASE("the timeline is bounded per agent and in all, and counts what it drops",
          "[daemon][timeline]") {
  daemon::AgentTimeline t(daemon::AgentTimelineLimits{.per_agent = 100, .total = 150});
  t.set_day(kDay);
  // 250 changes of one agent, alternating states a second apart: the last 100 are kept.
  for (int i = 0; i < 250; ++i) {
    t.note("ana", i % 2 ? AgentState::on_call : AgentState::available, kDay + i, "");
  }
  auto s = t.spans("ana", kDay + 300);
  REQUIRE(s.size() == 100);
  CHECK(s.front().from == kDay + 150);  // spans 0..149 dropped
  CHECK(t.cut("ana") == 150);
  // 80 more for another agent: 100 + 80 = 180 > 150 in all, so bob keeps only what fits
  // by dropping his own oldest: 150 - 100 = 50 held for him, 30 dropped.
  for (int i = 0; i < 80; ++i) {
    t.note("bob", i % 2 ? AgentState::on_call : AgentState::available, kDay + i, "");
  }
  CHECK(t.spans_held() == 150);
  CHECK(t.spans("bob", kDay + 100).size() == 50);
  CHECK(t.cut("bob") == 30);
  CHECK(t.spans_cut_total() == 180);  // 150 + 30
}

TEST_CASE("agent_history over the ROUTER: today's states as the deltas told them, and refusals",
          "[daemon][timeline][publisher]") {
  zmq::context_t ctx;
  daemon::SnapshotHub hub;
  auto snap = [](double now, AgentState st, double since, std::string reason) {
    metrics::Snapshot s;
    s.now = now;
    s.day_start = kDay;
    metrics::AgentView a;
    a.name = "张伟";
    a.state = st;
    a.state_since = since;
    a.pause_reason = std::move(reason);
    s.agents.push_back(a);
    return std::make_shared<const metrics::Snapshot>(std::move(s));
  };
  hub.publish(snap(kDay + 3600, AgentState::available, kDay + 1800, ""));
  daemon::PublisherOptions o;
  o.publish_endpoint = "tcp://127.0.0.1:*";
  o.control_endpoint = "tcp://127.0.0.1:*";
  o.batch_interval = 10ms;
  daemon::Publisher pub(ctx, hub, o);
  pub.start();
  std::this_thread::sleep_for(100ms);
  hub.publish(snap(kDay + 3700, AgentState::on_call, kDay + 3650, ""));
  std::this_thread::sleep_for(100ms);
  hub.publish(snap(kDay + 3800, AgentState::paused, kDay + 3790, "培训"));
  std::this_thread::sleep_for(100ms);

  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::rcvtimeo, 3000);
  dealer.connect(pub.control_endpoint());
  auto ask = [&](const std::string& body) {
    std::array<zmq::const_buffer, 2> req{zmq::str_buffer(""), zmq::buffer(body)};
    REQUIRE(zmq::send_multipart(dealer, req));
    std::vector<zmq::message_t> frames;
    REQUIRE(zmq::recv_multipart(dealer, std::back_inserter(frames)));
    REQUIRE(frames.size() == 2);
    auto m = wire::decode(frames[1].to_string_view());
    REQUIRE(m);
    return *m;
  };
  const auto m = ask(wire::encode_agent_history_request("张伟"));
  REQUIRE(m.type == wire::MessageType::reply);
  CHECK(m.request == "agent_history");
  CHECK(m.agent == "张伟");
  CHECK(m.since == kDay);
  REQUIRE(m.spans.size() == 3);
  // available 00:30 -> 01:00:50, on_call -> 01:03:10, paused "培训" to the published now.
  CHECK(m.spans[0].state == AgentState::available);
  CHECK(m.spans[0].from == kDay + 1800);
  CHECK(m.spans[0].to == kDay + 3650);
  CHECK(m.spans[1].state == AgentState::on_call);
  CHECK(m.spans[1].to == kDay + 3790);
  CHECK(m.spans[2].state == AgentState::paused);
  CHECK(m.spans[2].reason == "培训");
  CHECK(m.spans[2].to == kDay + 3800);
  CHECK(m.spans_cut == 0);

  const auto unknown = ask(wire::encode_agent_history_request("nobody"));
  CHECK(unknown.type == wire::MessageType::reply);
  CHECK(unknown.spans.empty());
  const auto bad = ask(R"({"proto":"1.5","type":"request","request":"agent_history"})");
  CHECK(bad.type == wire::MessageType::error);
  CHECK(bad.error == "missing agent");
  CHECK(pub.stats().bad_requests == 1);
}
