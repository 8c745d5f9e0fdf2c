// Broadcasting from the desktop client on a live daemon with CURVE keys, through the wallboard's
// own code (vm::plan_broadcast, plan_withdraw, the Subscriber's control socket): the daemon
// refuses a kiosk key even though the request says "supervisor"; a supervisor key's message
// reaches another board's state and ticker, and its withdraw removes it there.
// Hidden ([.live]): needs CALLWATCHD=/path/to/callwatchd; tests/integration/wallboard_ack.sh runs it.
#include <catch2/catch.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>
#include <zmq.hpp>

#include "demo_daemon.hpp"
#include "callwatch/protocol/keys.hpp"
#include "feed_store.hpp"
#include "subscriber.hpp"
#include "system_clock.hpp"
#include "vm/broadcast.hpp"

using namespace std::chrono_literals;
namespace m = callwatch::metrics;
namespace app = callwatch::wallboard::app;
namespace vm = callwatch::wallboard::vm;

namespace {

using cwtest::DemoDaemon;


// Waits until `pred(feed)` holds for the store's one site, up to `t`.
template <typename Pred>
bool wait_feed(const app::FeedStore& store, Pred pred, std::chrono::milliseconds t) {
  const auto deadline = std::chrono::steady_clock::now() + t;
  while (std::chrono::steady_clock::now() < deadline) {
    const auto feeds = store.copy();
    if (pred(feeds[0])) return true;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

bool answered(const vm::SiteFeed& f) {
  return f.broadcast_reply && f.broadcast_reply->kind != vm::AckReply::Kind::sending;
}

}  // namespace

TEST_CASE("with CURVE, a kiosk key's broadcast is refused; a supervisor's reaches another board and is withdrawn",
          "[.live][wallboard][broadcast][curve]") {
  const char* bin = std::getenv("CALLWATCHD");
  if (bin == nullptr) FAIL("set CALLWATCHD=/path/to/callwatchd (tests/integration/wallboard_ack.sh does)");
  char tmpl[] = "/tmp/callwatch-wbbc-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  for (const char* name : {"server", "floor", "alice"}) {
    REQUIRE(std::system((std::string(bin) + " keygen --out " + dir + " --name " + name + " > /dev/null").c_str()) == 0);
  }
  DemoDaemon daemon(bin, dir,
                    "[security]\nkeys_dir = \"" + dir + "\"\nserver_key = \"server\"\n"
                    "[[security.client]]\nname = \"floor\"\nrole = \"kiosk\"\n"
                    "[[security.client]]\nname = \"alice\"\nrole = \"supervisor\"\n");
  auto server = callwatch::protocol::load_curve_public(dir + "/server.pub");
  auto floor_key = callwatch::protocol::load_curve_secret(dir + "/floor.key");
  auto alice_key = callwatch::protocol::load_curve_secret(dir + "/alice.key");
  REQUIRE(server);
  REQUIRE(floor_key);
  REQUIRE(alice_key);
  zmq::context_t ctx(1);
  app::SystemClock clock;
  vm::SiteFeed init;
  init.endpoint = daemon.pub;
  app::SubscriberOptions with_floor, with_alice;
  with_floor.curve_client = *floor_key;
  with_floor.curve_server_public = *server;
  with_alice.curve_client = *alice_key;
  with_alice.curve_server_public = *server;
  app::FeedStore floor_store({init}), alice_store({init});
  const app::SiteEndpoints ep{daemon.pub, daemon.ctl};
  app::Subscriber floor(ctx, floor_store, 0, ep, clock, with_floor);
  app::Subscriber alice(ctx, alice_store, 0, ep, clock, with_alice);
  floor.start();
  alice.start();
  REQUIRE(wait_feed(floor_store, [](const vm::SiteFeed& f) { return f.state != nullptr; }, 15s));
  REQUIRE(wait_feed(alice_store, [](const vm::SiteFeed& f) { return f.state != nullptr; }, 15s));

  // A board with the kiosk key that is not in kiosk mode (so it builds the request): the daemon
  // says no, in its words, shown as is.
  auto plans = vm::plan_broadcast(floor_store.copy(), vm::BroadcastAsk{false, "lobby", "Free pizza", 10});
  REQUIRE(plans);
  REQUIRE(plans->size() == 1);
  floor.send_control((*plans)[0].body);
  REQUIRE(wait_feed(floor_store, answered, 5s));
  auto reply = *floor_store.copy()[0].broadcast_reply;
  CHECK(reply.kind == vm::AckReply::Kind::refused);
  CHECK(reply.reason == "role 'kiosk' is read-only: only a supervisor may broadcast");

  // The supervisor's desk: 10 minutes, "marie" as the sender (the request names her).
  plans = vm::plan_broadcast(alice_store.copy(), vm::BroadcastAsk{false, "marie", "Team meeting at 15:00", 10});
  REQUIRE(plans);
  alice.send_control((*plans)[0].body);
  REQUIRE(wait_feed(alice_store, answered, 5s));
  CHECK(alice_store.copy()[0].broadcast_reply->kind == vm::AckReply::Kind::accepted);
  REQUIRE(wait_feed(floor_store, [](const vm::SiteFeed& f) { return f.state && f.state->broadcasts.size() == 1; }, 5s));
  const auto feeds = floor_store.copy();
  const auto& b = feeds[0].state->broadcasts[0];
  CHECK(b.from == "marie");
  CHECK(b.expires_at - b.posted_at == Approx(600).margin(1e-6));  // 10 min
  // The kiosk's ticker at UTC, 60 s after posting: 540 s left = 9 min.
  const auto ticker = vm::build_ticker(feeds, b.posted_at + 60, vm::Lang::en, 0);
  REQUIRE(ticker.size() == 1);
  CHECK(ticker[0].left == "9 min");
  CHECK(ticker[0].text.rfind("marie: Team meeting at 15:00 (until ", 0) == 0);

  // Withdrawn from the desk (once its own state holds the message, as its Withdraw button needs):
  // gone from the floor's board.
  REQUIRE(wait_feed(alice_store, [](const vm::SiteFeed& f) { return f.state && f.state->broadcasts.size() == 1; }, 5s));
  const auto w = vm::plan_withdraw(alice_store.copy(), false, 0, b.id, "marie");
  REQUIRE(w);
  alice.send_control(w->body);
  REQUIRE(wait_feed(floor_store, [](const vm::SiteFeed& f) { return f.state && f.state->broadcasts.empty(); }, 5s));
  floor.stop();
  alice.stop();
  std::system(("rm -rf " + dir).c_str());
}
