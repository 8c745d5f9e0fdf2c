// The wallboard's protocol client against the daemon's real Publisher over tcp on ephemeral
// ports, and against a scripted daemon (raw XPUB + ROUTER) that misbehaves on purpose: a gap in
// sequence numbers, a newer protocol, a restart with a new stream.
#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <functional>
#include <thread>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "app/system_clock.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"
#include "feed_store.hpp"
#include "options.hpp"
#include "serve/publisher.hpp"
#include "subscriber.hpp"

using namespace callwatch;
using namespace std::chrono_literals;
namespace wire = metrics::wire;
namespace vm = callwatch::wallboard::vm;
using wallboard::app::FeedStore;
using wallboard::app::SiteEndpoints;
using wallboard::app::Subscriber;

namespace {

metrics::Snapshot snap(int waiting) {
  metrics::Snapshot s;
  s.now = 1767600000 + waiting;
  metrics::QueueView q;
  q.name = "sales";
  q.calls_waiting = waiting;
  s.queues.push_back(q);
  metrics::QueueView q2;
  q2.name = "客服";
  s.queues.push_back(q2);
  return s;
}

bool wait_for(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

int waiting_in(const FeedStore& store) {
  auto feeds = store.copy();
  if (!feeds[0].state || feeds[0].state->queues.empty()) return -1;
  return feeds[0].state->queues[0].calls_waiting;
}

FeedStore one_site(const std::string& ep) {
  vm::SiteFeed f;
  f.endpoint = ep;
  return FeedStore(std::vector<vm::SiteFeed>{f});
}

std::string port_of(const std::string& ep) { return ep.substr(ep.rfind(':') + 1); }

// A daemon written out by hand: answers snapshot requests with `snapshot_seq` and lets the test
// push arbitrary messages on XPUB.
struct ScriptedDaemon {
  zmq::socket_t xpub, router;
  std::string pub_ep, ctl_ep;
  int snapshot_requests = 0;
  std::uint64_t snapshot_seq = 5;
  std::uint64_t stream = 77;
  metrics::Snapshot state = snap(1);

  explicit ScriptedDaemon(zmq::context_t& ctx)
      : xpub(ctx, zmq::socket_type::xpub), router(ctx, zmq::socket_type::router) {
    xpub.set(zmq::sockopt::linger, 0);
    router.set(zmq::sockopt::linger, 0);
    xpub.bind("tcp://127.0.0.1:*");
    router.bind("tcp://127.0.0.1:*");
    pub_ep = xpub.get(zmq::sockopt::last_endpoint);
    ctl_ep = router.get(zmq::sockopt::last_endpoint);
  }
  // Serves requests and drains subscriptions for a while.
  void pump(std::chrono::milliseconds d) {
    const auto until = std::chrono::steady_clock::now() + d;
    while (std::chrono::steady_clock::now() < until) {
      zmq::message_t sub;
      while (xpub.recv(sub, zmq::recv_flags::dontwait)) {
      }
      std::vector<zmq::message_t> frames;
      if (zmq::recv_multipart(router, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
        ++snapshot_requests;
        const std::string body =
            wire::encode_snapshot(state, {.seq = snapshot_seq, .site = "scripted", .stream = stream});
        frames.back().rebuild(body.data(), body.size());
        REQUIRE(zmq::send_multipart(router, frames));
      }
      std::this_thread::sleep_for(5ms);
    }
  }
  void send(std::string_view topic, const std::string& body) {
    std::array<zmq::const_buffer, 2> f{zmq::buffer(topic), zmq::buffer(body)};
    REQUIRE(zmq::send_multipart(xpub, f));
  }
  void delta(std::uint64_t seq, int waiting) {
    wire::SnapshotDelta d;
    d.now = 1767600000 + static_cast<double>(seq);
    d.queues = {snap(waiting).queues[0]};
    send("delta", wire::encode_delta(d, {.seq = seq, .site = "scripted", .stream = stream}));
  }
};

}  // namespace

TEST_CASE("the wallboard follows the daemon's publisher: snapshot, deltas, restart",
          "[wallboard][subscriber]") {
  zmq::context_t ctx;
  daemon::SnapshotHub hub;
  hub.publish(std::make_shared<const metrics::Snapshot>(snap(2)));
  daemon::PublisherOptions po;
  po.publish_endpoint = "tcp://127.0.0.1:*";
  po.control_endpoint = "tcp://127.0.0.1:*";
  po.site = "north";
  auto pub = std::make_unique<daemon::Publisher>(ctx, hub, po);
  pub->start();
  const std::string pub_ep = pub->publish_endpoint(), ctl_ep = pub->control_endpoint();

  wallboard::app::SystemClock clock;
  FeedStore store = one_site(pub_ep);
  wallboard::app::SubscriberOptions so;
  so.snapshot_timeout = 500ms;
  so.backoff_max = 500ms;
  Subscriber sub(ctx, store, 0, SiteEndpoints{pub_ep, ctl_ep}, clock, so);
  sub.start();

  REQUIRE(wait_for([&] { return waiting_in(store) == 2; }, 5s));
  CHECK(store.copy()[0].site == "north");
  CHECK(store.copy()[0].connected);
  CHECK(store.copy()[0].state->queues[1].name == "客服");

  hub.publish(std::make_shared<const metrics::Snapshot>(snap(7)));
  REQUIRE(wait_for([&] { return waiting_in(store) == 7; }, 3s));

  // The daemon goes away: the wallboard says so and keeps the last values.
  pub->stop();
  pub.reset();
  REQUIRE(wait_for([&] { return !store.copy()[0].connected; }, 3s));
  CHECK(waiting_in(store) == 7);

  // It comes back on the same ports with other state and a new stream: the wallboard resyncs.
  hub.publish(std::make_shared<const metrics::Snapshot>(snap(11)));
  po.publish_endpoint = "tcp://127.0.0.1:" + port_of(pub_ep);
  po.control_endpoint = "tcp://127.0.0.1:" + port_of(ctl_ep);
  daemon::Publisher pub2(ctx, hub, po);
  // The board keeps reconnecting to the old ports; a reconnect can hold one of them for a moment
  // (a loopback connect whose ephemeral source port is the port itself), so a bind may be refused
  // briefly, as a restarted daemon under systemd would see it too.
  const auto bind_until = std::chrono::steady_clock::now() + 10s;
  for (;;) {
    try {
      pub2.start();
      break;
    } catch (const zmq::error_t& e) {
      if (e.num() != EADDRINUSE || std::chrono::steady_clock::now() > bind_until) throw;
      std::this_thread::sleep_for(50ms);
    }
  }
  REQUIRE(wait_for([&] { return waiting_in(store) == 11; }, 10s));
  CHECK(store.copy()[0].connected);
  CHECK(sub.stats().snapshots >= 2);
  sub.stop();
}

TEST_CASE("a gap in sequence numbers makes the wallboard ask for a snapshot again",
          "[wallboard][subscriber]") {
  zmq::context_t ctx;
  ScriptedDaemon d(ctx);
  wallboard::app::SystemClock clock;
  FeedStore store = one_site(d.pub_ep);
  Subscriber sub(ctx, store, 0, SiteEndpoints{d.pub_ep, d.ctl_ep}, clock);
  sub.start();
  d.pump(300ms);
  REQUIRE(d.snapshot_requests == 1);
  REQUIRE(wait_for([&] { return waiting_in(store) == 1; }, 2s));

  d.delta(6, 4);  // follows snapshot seq 5: applied
  d.pump(200ms);
  REQUIRE(wait_for([&] { return waiting_in(store) == 4; }, 2s));
  CHECK(d.snapshot_requests == 1);

  d.delta(8, 9);  // 7 is missing: not applied, snapshot asked again
  d.state = snap(9);
  d.snapshot_seq = 8;
  d.pump(300ms);
  CHECK(d.snapshot_requests == 2);
  REQUIRE(wait_for([&] { return waiting_in(store) == 9; }, 2s));

  // A heartbeat announcing seq 10 while we hold 8: a delta was lost, ask again.
  d.send("heartbeat", wire::encode_heartbeat(0, {.seq = 10, .site = "", .stream = d.stream}));
  d.snapshot_seq = 10;
  d.pump(300ms);
  CHECK(d.snapshot_requests == 3);
  CHECK(sub.stats().resyncs == 2);

  // A delta at or below our seq (raced the snapshot) is ignored, not a gap.
  d.delta(9, 100);
  d.pump(200ms);
  CHECK(d.snapshot_requests == 3);
  CHECK(waiting_in(store) == 9);
  sub.stop();
}

TEST_CASE("a daemon speaking a newer major protocol is reported, its data not applied",
          "[wallboard][subscriber]") {
  zmq::context_t ctx;
  ScriptedDaemon d(ctx);
  wallboard::app::SystemClock clock;
  FeedStore store = one_site(d.pub_ep);
  Subscriber sub(ctx, store, 0, SiteEndpoints{d.pub_ep, d.ctl_ep}, clock);
  sub.start();
  d.pump(300ms);
  REQUIRE(wait_for([&] { return waiting_in(store) == 1; }, 2s));
  d.send("delta", R"({"proto":"2.0","type":"delta","seq":6,"queues":[{"renamed":true}]})");
  d.pump(200ms);
  REQUIRE(wait_for([&] { return store.copy()[0].newer_protocol.has_value(); }, 2s));
  CHECK(store.copy()[0].newer_protocol->major == 2);
  CHECK(vm::link_state(store.copy()[0], clock.now()) == vm::LinkState::incompatible);
  CHECK(waiting_in(store) == 1);
  sub.stop();
}

TEST_CASE("wallboard flags parse from an argv vector", "[wallboard][options]") {
  using wallboard::app::parse_options;
  auto o = parse_options({"--connect", "tcp://a:7702", "--connect", "tcp://b:9000", "--control",
                          "tcp://a:8000", "--kiosk", "--lang", "zh", "--screenshot", "x.png",
                          "--frames", "5", "--size", "3840x2160"});
  REQUIRE(o);
  REQUIRE(o->sites.size() == 2);
  CHECK(o->sites[0].publish == "tcp://a:7702");
  CHECK(o->sites[0].control == "tcp://a:8000");
  CHECK(o->sites[1].control == "tcp://b:9001");  // next port by default
  CHECK(o->kiosk);
  CHECK(o->lang == vm::Lang::zh);
  CHECK(o->screenshot == "x.png");
  CHECK(o->frames == 5);
  CHECK(o->width == 3840);
  CHECK(o->height == 2160);

  auto d = parse_options({});
  REQUIRE(d);
  REQUIRE(d->sites.size() == 1);
  CHECK(d->sites[0].publish == "tcp://127.0.0.1:7702");
  CHECK(d->sites[0].control == "tcp://127.0.0.1:7703");
  CHECK_FALSE(d->kiosk);

  auto bad = parse_options({"--lang", "fr"});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == 2);
  CHECK_FALSE(parse_options({"--size", "big"}));
  CHECK_FALSE(parse_options({"--control", "tcp://x:1", "--control", "tcp://y:2"}));
  auto help = parse_options({"--help"});
  REQUIRE_FALSE(help);
  CHECK(help.error().code == 0);
  CHECK_THAT(help.error().message, Catch::Contains("--kiosk"));
}

TEST_CASE("an agent's day comes from the daemon's agent_history into the site feed, over tcp",
          "[wallboard][subscriber][timeline]") {
  zmq::context_t ctx;
  daemon::SnapshotHub hub;
  // Ana available since t0 + 60, then on a call since t0 + 90 (two published states).
  const double t0 = 1767571200;  // the day's start
  auto state = [&](metrics::AgentState st, double since, double now) {
    metrics::Snapshot s = snap(0);
    s.now = now;
    s.day_start = t0;
    metrics::AgentView a;
    a.name = "Ana";
    a.state = st;
    a.state_since = since;
    s.agents.push_back(a);
    return std::make_shared<const metrics::Snapshot>(std::move(s));
  };
  hub.publish(state(metrics::AgentState::available, t0 + 60, t0 + 80));
  daemon::PublisherOptions po;
  po.publish_endpoint = "tcp://127.0.0.1:*";
  po.control_endpoint = "tcp://127.0.0.1:*";
  po.batch_interval = 10ms;
  daemon::Publisher pub(ctx, hub, po);
  pub.start();
  std::this_thread::sleep_for(100ms);
  hub.publish(state(metrics::AgentState::on_call, t0 + 90, t0 + 100));
  std::this_thread::sleep_for(100ms);

  wallboard::app::SystemClock clock;
  FeedStore store = one_site(pub.publish_endpoint());
  Subscriber sub(ctx, store, 0, SiteEndpoints{pub.publish_endpoint(), pub.control_endpoint()}, clock);
  sub.start();
  REQUIRE(wait_for([&] { return waiting_in(store) == 0; }, 5s));
  sub.request_agent_history("Ana");
  CHECK(store.copy()[0].agent_history.kind == vm::AgentHistory::Kind::loading);
  REQUIRE(wait_for([&] { return store.copy()[0].agent_history.kind == vm::AgentHistory::Kind::ready; }, 5s));
  const auto h = store.copy()[0].agent_history;
  CHECK(h.agent == "Ana");
  CHECK(h.since == t0);
  REQUIRE(h.spans.size() == 2);
  CHECK(h.spans[0].state == metrics::AgentState::available);
  CHECK(h.spans[0].from == t0 + 60);
  CHECK(h.spans[0].to == t0 + 90);
  CHECK(h.spans[1].state == metrics::AgentState::on_call);
  CHECK(h.spans[1].to == t0 + 100);  // the published now
  sub.stop();
}

TEST_CASE("a daemon older than 1.5 answers agent_history as unknown: the board says so",
          "[wallboard][subscriber][timeline]") {
  zmq::context_t ctx;
  ScriptedDaemon d(ctx);  // the request is answered by hand below, as a 1.3 daemon does
  wallboard::app::SystemClock clock;
  FeedStore store = one_site(d.pub_ep);
  Subscriber sub(ctx, store, 0, SiteEndpoints{d.pub_ep, d.ctl_ep}, clock);
  sub.start();
  d.pump(300ms);
  REQUIRE(wait_for([&] { return waiting_in(store) == 1; }, 2s));
  sub.request_agent_history("Ana");
  // What a 1.3 publisher answers to a request it does not know (publisher.cpp of that version).
  std::vector<zmq::message_t> frames;
  const auto until = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < until &&
         !zmq::recv_multipart(d.router, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
    std::this_thread::sleep_for(5ms);
  }
  REQUIRE_FALSE(frames.empty());
  auto ask = wire::decode(frames.back().to_string_view());
  REQUIRE(ask);
  CHECK(ask->request == "agent_history");
  CHECK(ask->agent == "Ana");
  const std::string err = R"({"proto":"1.3","type":"error","seq":5,"request":"agent_history","error":"unknown request"})";
  frames.back().rebuild(err.data(), err.size());
  REQUIRE(zmq::send_multipart(d.router, frames));
  REQUIRE(wait_for([&] { return store.copy()[0].agent_history.kind == vm::AgentHistory::Kind::unavailable; }, 3s));
  CHECK(store.copy()[0].agent_history.reason == "unknown request");
  CHECK(waiting_in(store) == 1);  // the board goes on as before
  sub.stop();
}
