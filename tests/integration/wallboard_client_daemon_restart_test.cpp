// Reliability gaps (issue 7): the wallboard's protocol client (wallboard/app/subscriber) against
// the real callwatchd process: started before the daemon, and across a daemon restart.
#if CALLWATCH_IT_WALLBOARD
#include <catch2/catch.hpp>

#include "app/system_clock.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"
#include "feed_store.hpp"
#include "store_test_util.hpp"
#include "subscriber.hpp"

using namespace cwtest;
namespace wire = callwatch::metrics::wire;
namespace vm = callwatch::wallboard::vm;
using callwatch::wallboard::app::FeedStore;
using callwatch::wallboard::app::SiteEndpoints;
using callwatch::wallboard::app::Subscriber;
using callwatch::wallboard::app::SubscriberOptions;

namespace {

const std::string kQueues = "[[queue]]\nname = \"sales\"\n[[queue]]\nname = \"support\"\n";

FeedStore one_site(const std::string& ep) {
  vm::SiteFeed f;
  f.endpoint = ep;
  return FeedStore(std::vector<vm::SiteFeed>{f});
}

// Names of the queues the wallboard holds (empty before its first snapshot).
std::vector<std::string> queue_names(const FeedStore& store) {
  std::vector<std::string> out;
  const auto feeds = store.copy();
  if (feeds[0].state) {
    for (const auto& q : feeds[0].state->queues) out.push_back(q.name);
  }
  return out;
}

// calls_waiting of `queue` as the wallboard shows it; -1 when absent.
int waiting(const FeedStore& store, const std::string& queue) {
  const auto feeds = store.copy();
  if (!feeds[0].state) return -1;
  for (const auto& q : feeds[0].state->queues) {
    if (q.name == queue) return q.calls_waiting;
  }
  return -1;
}

void enqueue(zmq::context_t& ctx, const Site& site, const std::string& call,
             const std::string& queue = "sales") {
  send_lines(ctx, site.feed_endpoint(),
             {R"({"type":"call_enqueued","ts":)" + std::to_string(wall_now() - 1) + R"(,"call":")" +
              call + R"(","queue":")" + queue + R"("})"});
}

// The daemon's stream id, asked on its control socket (0 when it does not answer).
std::uint64_t stream_of(zmq::context_t& ctx, const Site& site) {
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::rcvtimeo, 3000);
  dealer.connect(site.control_endpoint());
  const std::string req = wire::encode_request("snapshot");
  (void)dealer.send(zmq::buffer(req), zmq::send_flags::none);
  zmq::message_t reply;
  if (!dealer.recv(reply)) return 0;
  auto m = wire::decode(reply.to_string_view());
  return m ? m->stream : 0;
}

std::string describe(const FeedStore& store, const Subscriber& sub) {
  const auto f = store.copy()[0];
  const auto st = sub.stats();
  std::string names;
  for (const auto& n : queue_names(store)) names += n + " ";
  return "connected=" + std::to_string(f.connected) + " seq=" + std::to_string(f.seq) +
         " queues=[" + names + "] snapshots=" + std::to_string(st.snapshots) +
         " deltas=" + std::to_string(st.deltas) + " resyncs=" + std::to_string(st.resyncs) +
         " reconnects=" + std::to_string(st.reconnects) + " bad=" + std::to_string(st.bad_messages);
}

// The site's wallboard ports moved out of the ephemeral range (see above); no store.
void use_stable_ports(Site& site) {
  site.pub_port = free_port_below_ephemeral();
  site.ctl_port = free_port_below_ephemeral();
  site.write_config(kQueues, false);
}

SubscriberOptions quick() {
  SubscriberOptions o;
  o.snapshot_timeout = 500ms;
  o.backoff_min = 100ms;
  o.backoff_max = 500ms;
  return o;
}

}  // namespace

TEST_CASE("a wallboard started before the daemon retries, then follows it once it starts",
          "[integration][reliability][wallboard]") {
  Site site;
  use_stable_ports(site);
  zmq::context_t ctx;
  callwatch::wallboard::app::SystemClock clock;
  FeedStore store = one_site(site.publish_endpoint());
  Subscriber sub(ctx, store, 0, SiteEndpoints{site.publish_endpoint(), site.control_endpoint()},
                 clock, quick());
  sub.start();

  // Nobody listens yet: 2 s of snapshot requests unanswered (timeout 500 ms, backoff <= 500 ms)
  // is at least two give-ups, so reconnects >= 1, and no state at all.
  std::this_thread::sleep_for(2s);
  CHECK(sub.stats().snapshots == 0);
  CHECK(sub.stats().reconnects >= 1);
  CHECK(queue_names(store).empty());
  CHECK_FALSE(store.copy()[0].connected);

  // The daemon starts on the endpoints the wallboard keeps trying: its snapshot arrives within a
  // retry cycle or two. The configured queues (sales, support) are in it from the start, with
  // nobody waiting; the calls arrive by delta below.
  site.start();
  const bool got = wait_for([&] { return sub.stats().snapshots >= 1 && store.copy()[0].connected; }, 10s);
  INFO(describe(store, sub));
  REQUIRE(got);
  CHECK(queue_names(store) == std::vector<std::string>{"sales", "support"});
  CHECK(waiting(store, "sales") == 0);

  // Then deltas: one call waiting in each configured queue reaches the board without another
  // snapshot: sales 1, support 1.
  const auto snapshots = sub.stats().snapshots;
  enqueue(ctx, site, "w1", "sales");
  enqueue(ctx, site, "w2", "support");
  const bool both = wait_for([&] { return waiting(store, "sales") == 1 && waiting(store, "support") == 1; }, 5s);
  INFO(describe(store, sub));
  REQUIRE(both);
  CHECK(queue_names(store) == std::vector<std::string>{"sales", "support"});
  CHECK(sub.stats().deltas >= 1);
  CHECK(sub.stats().snapshots == snapshots);
  CHECK(store.copy()[0].connected);
  sub.stop();
  CHECK(site.stop() == 0);
}

TEST_CASE("a daemon restart under a connected wallboard: it resyncs by snapshot to the new run",
          "[integration][reliability][wallboard]") {
  // No store: the restarted daemon starts empty, so its state differs visibly from the old one.
  Site site;
  use_stable_ports(site);
  site.start();
  zmq::context_t ctx;
  callwatch::wallboard::app::SystemClock clock;
  FeedStore store = one_site(site.publish_endpoint());
  Subscriber sub(ctx, store, 0, SiteEndpoints{site.publish_endpoint(), site.control_endpoint()},
                 clock, quick());
  sub.start();
  const bool first = wait_for([&] { return sub.stats().snapshots >= 1; }, 10s);
  INFO(describe(store, sub));
  REQUIRE(first);
  enqueue(ctx, site, "a1");
  REQUIRE(wait_for([&] { return waiting(store, "sales") == 1; }, 5s));
  const std::uint64_t stream1 = stream_of(ctx, site);
  REQUIRE(stream1 != 0);
  const auto before = sub.stats();

  // SIGTERM, then the same config (same ports) again.
  REQUIRE(site.stop() == 0);
  REQUIRE(wait_for([&] { return !store.copy()[0].connected; }, 5s));
  CHECK(waiting(store, "sales") == 1);  // last values kept while the daemon is away
  site.start();
  const std::uint64_t stream2 = stream_of(ctx, site);
  REQUIRE(stream2 != 0);
  CHECK(stream2 != stream1);  // a new publisher run

  // Working: the new run has no call (no store, no event yet); "sales" is configured, so it is
  // listed from the start with 0 waiting. After the resync the board must drop the old "sales,
  // 1 waiting" for 0. That takes a new snapshot. Then two calls pushed to the new run make it 2; 1 (old) + 2 = 3 would mean the new
  // run's deltas landed on the old state.
  const bool resynced = wait_for([&] { return sub.stats().snapshots > before.snapshots; }, 10s);
  INFO(describe(store, sub));
  REQUIRE(resynced);
  REQUIRE(wait_for([&] { return waiting(store, "sales") == 0; }, 5s));
  enqueue(ctx, site, "b1");
  enqueue(ctx, site, "b2");
  REQUIRE(wait_for([&] { return waiting(store, "sales") == 2; }, 5s));
  CHECK(store.copy()[0].connected);
  // Still 2 a moment later (no stale delta of the old run lands on top).
  std::this_thread::sleep_for(500ms);
  CHECK(waiting(store, "sales") == 2);
  sub.stop();
  CHECK(site.stop() == 0);
}
#endif
