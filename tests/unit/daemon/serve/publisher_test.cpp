// The wallboard publisher over real ZeroMQ sockets on ephemeral ports: snapshot + deltas rebuild
// the engine's state, deltas are batched, a lagging subscriber sees a gap and resyncs, and
// nothing a subscriber does can hold up the engine side (SnapshotHub::publish).
#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <thread>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "serve/publisher.hpp"
#include "runtime/snapshot_hub.hpp"

using namespace callwatch;
using namespace std::chrono_literals;
namespace wire = metrics::wire;

namespace {

metrics::Snapshot base_snapshot(int agents = 3) {
  metrics::Snapshot s;
  s.now = 1767600000;
  for (const char* name : {"sales", "support", "售后"}) {
    metrics::QueueView q;
    q.name = name;
    q.settings.display_name = name;
    s.queues.push_back(q);
  }
  for (int i = 0; i < agents; ++i) {
    metrics::AgentView a;
    a.name = "agent" + std::to_string(1000 + i);  // fixed width: sorted by name = by i
    a.state = metrics::AgentState::available;
    s.agents.push_back(a);
  }
  return s;
}

struct Sub {
  zmq::socket_t sock;
  Sub(zmq::context_t& ctx, const std::string& ep, int rcvhwm = 1000, int rcvbuf = -1)
      : sock(ctx, zmq::socket_type::sub) {
    sock.set(zmq::sockopt::rcvhwm, rcvhwm);
    if (rcvbuf > 0) sock.set(zmq::sockopt::rcvbuf, rcvbuf);
    sock.set(zmq::sockopt::linger, 0);
    sock.set(zmq::sockopt::subscribe, "");
    sock.connect(ep);
  }
  std::optional<wire::Message> next(std::chrono::milliseconds timeout) {
    sock.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeout.count()));
    std::vector<zmq::message_t> frames;
    auto r = zmq::recv_multipart(sock, std::back_inserter(frames));
    if (!r || frames.size() != 2) return std::nullopt;
    auto m = wire::decode(frames[1].to_string_view());
    REQUIRE(m);
    CHECK(frames[0].to_string_view() == wire::to_string(m->type));
    return *m;
  }
  std::optional<wire::Message> next_of(wire::MessageType t, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto m = next(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now() + 1ms));
      if (m && m->type == t) return m;
    }
    return std::nullopt;
  }
};

std::string ask(zmq::context_t& ctx, const std::string& ep, const std::string& body) {
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::rcvtimeo, 3000);
  dealer.connect(ep);
  std::array<zmq::const_buffer, 2> req{zmq::str_buffer(""), zmq::buffer(body)};
  REQUIRE(zmq::send_multipart(dealer, req));
  std::vector<zmq::message_t> frames;
  auto r = zmq::recv_multipart(dealer, std::back_inserter(frames));
  REQUIRE(r);
  REQUIRE(frames.size() == 2);  // the empty delimiter is echoed back
  CHECK(frames[0].size() == 0);
  return frames[1].to_string();
}

wire::Message ask_snapshot(zmq::context_t& ctx, const std::string& ep) {
  auto m = wire::decode(ask(ctx, ep, wire::encode_request("snapshot")));
  REQUIRE(m);
  REQUIRE(m->type == wire::MessageType::snapshot);
  return *m;
}

daemon::PublisherOptions test_options() {
  daemon::PublisherOptions o;
  o.publish_endpoint = "tcp://127.0.0.1:*";
  o.control_endpoint = "tcp://127.0.0.1:*";
  o.site = "north";
  return o;
}

void publish(daemon::SnapshotHub& hub, metrics::Snapshot s) {
  hub.publish(std::make_shared<const metrics::Snapshot>(std::move(s)));
}

}  // namespace

TEST_CASE("a subscriber rebuilds the engine's state from a snapshot and the deltas after it",
          "[daemon][publisher]") {
  zmq::context_t ctx;
  daemon::SnapshotHub hub;
  metrics::Snapshot s1 = base_snapshot();
  publish(hub, s1);
  daemon::Publisher pub(ctx, hub, test_options());
  pub.start();

  Sub sub(ctx, pub.publish_endpoint());
  // The subscription announces itself: a heartbeat arrives at once, not after a second.
  auto t0 = std::chrono::steady_clock::now();
  auto hb = sub.next_of(wire::MessageType::heartbeat, 900ms);
  REQUIRE(hb);
  CHECK(std::chrono::steady_clock::now() - t0 < 500ms);
  CHECK(hb->site == "north");

  auto snap = ask_snapshot(ctx, pub.control_endpoint());
  // First hub snapshot -> delta 1; the snapshot is taken at that seq.
  CHECK(snap.seq == 1);
  CHECK(snap.stream == hb->stream);
  CHECK(wire::encode_state(snap.snapshot) == wire::encode_state(s1));

  metrics::Snapshot s2 = s1;
  s2.now += 1;
  s2.queues[1].calls_waiting = 3;
  s2.agents[2].state = metrics::AgentState::on_call;
  publish(hub, s2);
  // Delta 1 (the first state) may or may not reach us, depending on when the subscription went
  // live; a client skips what its snapshot already holds, and so does this test.
  auto d = sub.next_of(wire::MessageType::delta, 2s);
  while (d && d->seq <= snap.seq) d = sub.next_of(wire::MessageType::delta, 2s);
  REQUIRE(d);
  CHECK(d->seq == 2);
  REQUIRE(d->delta.queues.size() == 1);
  CHECK(d->delta.queues[0].name == "support");
  REQUIRE(d->delta.agents.size() == 1);
  CHECK(d->delta.agents[0].name == "agent1002");
  metrics::Snapshot rebuilt = snap.snapshot;
  wire::apply(rebuilt, d->delta);
  CHECK(wire::encode_state(rebuilt) == wire::encode_state(s2));

  // Nothing changed but the clock: no delta, the next heartbeat carries the new time and seq.
  metrics::Snapshot s3 = s2;
  s3.now += 1;
  publish(hub, s3);
  auto next = sub.next(1500ms);
  REQUIRE(next);
  CHECK(next->type == wire::MessageType::heartbeat);
  CHECK(next->seq == 2);
  CHECK(next->now == s3.now);
  pub.stop();
}

TEST_CASE("changes arriving faster than 100 ms are batched into one delta",
          "[daemon][publisher]") {
  zmq::context_t ctx;
  daemon::SnapshotHub hub;
  auto opts = test_options();
  opts.batch_interval = 100ms;  // the default is 25 ms; 100 ms keeps the count clear of timer noise
  daemon::Publisher pub(ctx, hub, opts);
  pub.start();
  Sub sub(ctx, pub.publish_endpoint());
  REQUIRE(sub.next_of(wire::MessageType::heartbeat, 2s));

  // 30 snapshots 5 ms apart = 150 ms of changes; at one delta per 100 ms that is at most 3
  // deltas (t=0, ~100, ~200), and the last one must hold the final value.
  metrics::Snapshot s = base_snapshot();
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  std::uint64_t last_seq = 0;
  int last_waiting = -1;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 1; i <= 30; ++i) {
    s.queues[0].calls_waiting = i;
    publish(hub, s);
    std::this_thread::sleep_for(5ms);
  }
  // On a loaded machine the 30 sleeps may take longer than 150 ms: allow one delta per 100 ms
  // actually elapsed, plus the first.
  const auto spread = std::chrono::steady_clock::now() - t0;
  const auto allowed = static_cast<std::size_t>(spread / 100ms) + 1;
  while (auto m = sub.next(400ms)) {
    if (m->type != wire::MessageType::delta) continue;
    arrivals.push_back(std::chrono::steady_clock::now());
    CHECK(m->seq == last_seq + 1);
    last_seq = m->seq;
    for (const auto& q : m->delta.queues) {
      if (q.name == "sales") last_waiting = q.calls_waiting;
    }
  }
  CHECK(last_waiting == 30);
  CHECK(arrivals.size() >= 2);
  CHECK(arrivals.size() <= std::max<std::size_t>(allowed, 3));
  CHECK(arrivals.size() < 30);  // never one per change
  CHECK(pub.stats().deltas == arrivals.size());
}

TEST_CASE("a heartbeat goes out every second with the current sequence number",
          "[daemon][publisher]") {
  zmq::context_t ctx;
  daemon::SnapshotHub hub;
  publish(hub, base_snapshot());
  daemon::Publisher pub(ctx, hub, test_options());
  pub.start();
  Sub sub(ctx, pub.publish_endpoint());
  REQUIRE(sub.next_of(wire::MessageType::heartbeat, 2s));  // the welcome one
  auto t0 = std::chrono::steady_clock::now();
  auto a = sub.next_of(wire::MessageType::heartbeat, 1500ms);
  auto b = sub.next_of(wire::MessageType::heartbeat, 1500ms);
  REQUIRE(a);
  REQUIRE(b);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  // Two periodic heartbeats after the welcome: between 1 and 2 periods (plus slack).
  CHECK(elapsed > 900ms);
  CHECK(elapsed < 2300ms);
  CHECK(a->seq == 1);
  CHECK(b->seq == 1);
}

TEST_CASE("a slow subscriber loses messages on its own pipe only and sees the gap",
          "[daemon][publisher]") {
  zmq::context_t ctx;
  daemon::SnapshotHub hub;
  auto opts = test_options();
  opts.batch_interval = 1ms;  // as fast as possible, to overflow the slow reader quickly
  opts.send_high_water_mark = 4;
  daemon::Publisher pub(ctx, hub, opts);
  pub.start();

  // A small kernel buffer too: loopback TCP may otherwise grow its window to 32 MB and swallow
  // the whole test's traffic without ever filling the pipe.
  Sub slow(ctx, pub.publish_endpoint(), 1, 64 * 1024);
  Sub fast(ctx, pub.publish_endpoint());
  REQUIRE(slow.next_of(wire::MessageType::heartbeat, 2s));
  REQUIRE(fast.next_of(wire::MessageType::heartbeat, 2s));

  // 200 snapshots, each changing all 1,000 agents (~500 KB per delta, ~100 MB in all): far more
  // than the slow reader's socket buffers and 4-message pipe can hold.
  metrics::Snapshot s = base_snapshot(1000);
  auto worst_publish = std::chrono::nanoseconds(0);
  std::uint64_t fast_last = 0;
  bool fast_gap = false;
  constexpr int kRounds = 200;
  for (int i = 1; i <= kRounds; ++i) {
    for (auto& a : s.agents) a.today.answered = i;
    auto t = std::chrono::steady_clock::now();
    publish(hub, s);
    worst_publish = std::max(worst_publish, std::chrono::steady_clock::now() - t);
    // The fast reader keeps up; it waits for each delta so every change gets its own.
    while (fast_last < static_cast<std::uint64_t>(i)) {
      auto m = fast.next(3s);
      REQUIRE(m);
      if (m->type != wire::MessageType::delta) continue;
      if (m->seq != fast_last + 1) fast_gap = true;
      fast_last = m->seq;
    }
  }
  CHECK_FALSE(fast_gap);
  CHECK(fast_last == kRounds);
  CHECK(worst_publish < 50ms);  // the engine side only ever takes the hub's mutex

  // The slow reader now reads: the oldest queued deltas, then either a jump in seq or, when
  // only heartbeats came through after them, a heartbeat whose seq is ahead: the gap shows.
  std::uint64_t slow_last = 0;
  bool slow_gap = false;
  int slow_deltas = 0;
  while (auto m = slow.next(1500ms)) {
    if (m->type == wire::MessageType::delta) {
      ++slow_deltas;
      if (slow_last != 0 && m->seq != slow_last + 1) slow_gap = true;
      slow_last = m->seq;
    } else if (m->type == wire::MessageType::heartbeat && slow_last != 0 && m->seq > slow_last) {
      slow_gap = true;
      break;
    }
  }
  CHECK(slow_deltas > 0);
  CHECK(slow_deltas < kRounds);
  CHECK(slow_gap);
  // Resync: a fresh snapshot holds the latest state at the latest seq.
  auto snap = ask_snapshot(ctx, pub.control_endpoint());
  CHECK(snap.seq == kRounds);
  CHECK(snap.snapshot.agents[999].today.answered == kRounds);
}

TEST_CASE("the control socket answers snapshot, refuses ack without alert rules and survives bad requests",
          "[daemon][publisher]") {
  zmq::context_t ctx;
  daemon::SnapshotHub hub;
  publish(hub, base_snapshot());
  daemon::Publisher pub(ctx, hub, test_options());
  pub.start();
  const auto ep = pub.control_endpoint();

  auto ack = wire::decode(ask(ctx, ep, wire::encode_request("ack", "long_wait/sales")));
  REQUIRE(ack);
  CHECK(ack->type == wire::MessageType::error);
  CHECK(ack->request == "ack");
  CHECK_THAT(ack->error, Catch::Contains("no alert rules"));

  auto garbage = wire::decode(ask(ctx, ep, "{not json"));
  REQUIRE(garbage);
  CHECK(garbage->type == wire::MessageType::error);

  auto newer = wire::decode(ask(ctx, ep, R"({"proto":"9.0","type":"request","request":"x"})"));
  REQUIRE(newer);
  CHECK_THAT(newer->error, Catch::Contains("protocol 9.0 not supported"));

  auto unknown = wire::decode(ask(ctx, ep, "reboot"));
  REQUIRE(unknown);
  CHECK(unknown->error == "unknown request");

  // Plain-word request (for shell tools), after all the bad ones: still served.
  auto plain = wire::decode(ask(ctx, ep, "snapshot"));
  REQUIRE(plain);
  CHECK(plain->type == wire::MessageType::snapshot);
  CHECK(plain->snapshot.queues.size() == 3);
  CHECK(pub.stats().bad_requests == 3);
}
