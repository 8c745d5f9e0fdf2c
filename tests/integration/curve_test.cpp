// CURVE on the daemon's three sockets with keys written by `callwatchd keygen`: a client without
// a configured key gets nothing (no heartbeat, no event counted, no reply), each role reaches only
// its sockets, a kiosk cannot acknowledge an alert even when its request claims to be a
// supervisor, and a secret key others can read stops the daemon from starting.
#include <catch2/catch.hpp>
#include <zmq_addon.hpp>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "callwatch/protocol/keys.hpp"
#include "store_test_util.hpp"

using namespace cwtest;
namespace wire = callwatch::metrics::wire;
using callwatch::protocol::apply_curve_client;
using callwatch::protocol::CurveKeyPair;
using callwatch::protocol::load_curve_public;
using callwatch::protocol::load_curve_secret;

namespace {

struct Keys {
  std::string server_public;
  CurveKeyPair kiosk, supervisor, feed, stranger;
};

Keys make_keys(const std::filesystem::path& dir) {
  const std::string keygen =
      std::string(CALLWATCH_BIN_DIR) + "/callwatchd keygen --out '" + dir.string() + "'";
  for (const char* name : {"server", "floor", "alice", "pbx", "stranger"}) {
    REQUIRE(run(keygen + " --name " + name + " > /dev/null") == 0);
  }
  struct stat st {};
  REQUIRE(::stat((dir / "server.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  Keys k;
  k.server_public = *load_curve_public((dir / "server.pub").string());
  k.kiosk = *load_curve_secret((dir / "floor.key").string());
  k.supervisor = *load_curve_secret((dir / "alice.key").string());
  k.feed = *load_curve_secret((dir / "pbx.key").string());
  k.stranger = *load_curve_secret((dir / "stranger.key").string());
  return k;
}

std::string security_toml(const std::filesystem::path& keys) {
  return "[security]\nkeys_dir = \"" + keys.string() +
         "\"\nserver_key = \"server\"\n"
         "[[security.client]]\nname = \"floor\"\nrole = \"kiosk\"\n"
         "[[security.client]]\nname = \"alice\"\nrole = \"supervisor\"\n"
         "[[security.client]]\nname = \"pbx\"\nrole = \"feed\"\n"
         // An alert to acknowledge: anyone waiting in sales.
         "[[alert]]\nname = \"waiting\"\nmetric = \"calls_waiting\"\nabove = 0\nseverity = "
         "\"warning\"\n";
}

// Any message on the publish socket within `timeout` (a heartbeat comes every second).
bool hears_publisher(zmq::context_t& ctx, const std::string& endpoint, const CurveKeyPair* key,
                     const std::string& server_public, std::chrono::milliseconds timeout) {
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::linger, 0);
  if (key) apply_curve_client(sub, *key, server_public);
  sub.set(zmq::sockopt::subscribe, "");
  sub.set(zmq::sockopt::rcvtimeo, static_cast<int>(timeout.count()));
  sub.connect(endpoint);
  zmq::message_t m;
  return static_cast<bool>(sub.recv(m));
}

// Pushes one event with `key` (none: plain ZeroMQ).
void push_event(zmq::context_t& ctx, const std::string& endpoint, const CurveKeyPair* key,
                const std::string& server_public, const std::string& event) {
  zmq::socket_t push(ctx, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 1500);  // a refused handshake must not hang the test
  if (key) apply_curve_client(push, *key, server_public);
  push.connect(endpoint);
  (void)push.send(zmq::buffer(event), zmq::send_flags::dontwait);
  std::this_thread::sleep_for(500ms);
}

// One request on the control socket; the decoded reply, or nothing within the timeout.
std::optional<wire::Message> ask(zmq::context_t& ctx, const std::string& endpoint,
                                 const CurveKeyPair* key, const std::string& server_public,
                                 const std::string& request) {
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::rcvtimeo, 2500);
  if (key) apply_curve_client(dealer, *key, server_public);
  dealer.connect(endpoint);
  (void)dealer.send(zmq::buffer(request), zmq::send_flags::dontwait);
  zmq::message_t reply;
  if (!dealer.recv(reply)) return std::nullopt;
  auto m = wire::decode(reply.to_string_view());
  if (!m) return std::nullopt;
  return *m;
}

}  // namespace

TEST_CASE("CURVE: no key, no data; roles decide who may push, watch and acknowledge",
          "[integration][security][curve]") {
  Site site;
  const auto keys_dir = site.dir / "keys";
  const Keys k = make_keys(keys_dir);
  site.write_config(security_toml(keys_dir), false);
  site.start();
  INFO(site.log());
  zmq::context_t ctx(1);

  // Watching (XPUB): a kiosk key hears heartbeats; no key, or a key not in the config, hears
  // nothing.
  CHECK(hears_publisher(ctx, site.publish_endpoint(), &k.kiosk, k.server_public, 3s));
  CHECK_FALSE(hears_publisher(ctx, site.publish_endpoint(), nullptr, k.server_public, 2500ms));
  CHECK_FALSE(hears_publisher(ctx, site.publish_endpoint(), &k.stranger, k.server_public, 2500ms));
  CHECK_FALSE(hears_publisher(ctx, site.publish_endpoint(), &k.feed, k.server_public, 2500ms));

  // Pushing events (PULL): only the feed key counts.
  const std::string events = "callwatch_feed_events_total{feed=\"native\"}";
  const double now = wall_now();
  const std::string e1 = R"({"type":"call_enqueued","ts":)" + std::to_string(now - 5) +
                         R"(,"call":"c1","queue":"sales"})";
  push_event(ctx, site.feed_endpoint(), nullptr, k.server_public, e1);
  push_event(ctx, site.feed_endpoint(), &k.stranger, k.server_public, e1);
  push_event(ctx, site.feed_endpoint(), &k.kiosk, k.server_public, e1);
  CHECK(site.value(events) == 0);
  push_event(ctx, site.feed_endpoint(), &k.feed, k.server_public, e1);
  REQUIRE(wait_for([&] { return site.value(events) == 1; }, 5s));

  // The alert fires (one call waiting in sales), so there is something to acknowledge.
  const std::string firing =
      "callwatch_alerts_firing{alert=\"waiting\",severity=\"warning\",queue=\"sales\"}";
  REQUIRE(wait_for([&] { return site.value(firing) == 1; }, 5s));

  // Control (ROUTER): no key, no answer at all.
  CHECK_FALSE(ask(ctx, site.control_endpoint(), nullptr, k.server_public, "snapshot").has_value());
  CHECK_FALSE(
      ask(ctx, site.control_endpoint(), &k.stranger, k.server_public, "snapshot").has_value());
  // A kiosk may read a snapshot...
  auto snap = ask(ctx, site.control_endpoint(), &k.kiosk, k.server_public, "snapshot");
  REQUIRE(snap.has_value());
  CHECK(snap->type == wire::MessageType::snapshot);
  // ...but not acknowledge, even when its request claims the supervisor role.
  auto refused = ask(ctx, site.control_endpoint(), &k.kiosk, k.server_public,
                     wire::encode_ack_request("waiting/sales", "floor screen", "", "supervisor"));
  REQUIRE(refused.has_value());
  CHECK(refused->type == wire::MessageType::error);
  CHECK(refused->error.find("read-only") != std::string::npos);
  // The supervisor key may, whatever role its request states.
  auto accepted = ask(ctx, site.control_endpoint(), &k.supervisor, k.server_public,
                      wire::encode_ack_request("waiting/sales", "", "on it", "kiosk"));
  REQUIRE(accepted.has_value());
  CHECK(accepted->type == wire::MessageType::reply);
  // Every board sees who acknowledged: the key's name, since the request named nobody.
  REQUIRE(wait_for(
      [&] {
        auto s = ask(ctx, site.control_endpoint(), &k.kiosk, k.server_public, "snapshot");
        if (!s) return false;
        for (const auto& a : s->snapshot.alerts) {
          if (a.id == "waiting/sales" && a.acked) return a.acked_by == "alice";
        }
        return false;
      },
      5s));
  // The secret keys never reach the log.
  const std::string log = site.log();
  for (const auto* key : {&k.kiosk, &k.supervisor, &k.feed})
    CHECK(log.find(key->secret_key) == std::string::npos);
  CHECK(log.find(load_curve_secret((keys_dir / "server.key").string())->secret_key) ==
        std::string::npos);
}

TEST_CASE("a server key others can read stops the daemon at start, naming the fix",
          "[integration][security][curve]") {
  Site site;
  const auto keys_dir = site.dir / "keys";
  make_keys(keys_dir);
  site.write_config(security_toml(keys_dir), false);
  REQUIRE(::chmod((keys_dir / "server.key").c_str(), 0644) == 0);
  site.start({}, false);
  CHECK(site.wait_exit(10s) == 2);  // a configuration problem: not restarted by systemd
  const std::string log = site.log();
  CHECK(log.find("chmod 600") != std::string::npos);
  std::ifstream key_file(keys_dir / "server.key");
  const std::string key_text((std::istreambuf_iterator<char>(key_file)), {});
  const auto at = key_text.find("secret-key = \"");
  REQUIRE(at != std::string::npos);
  CHECK(log.find(key_text.substr(at + 14, 40)) == std::string::npos);  // the secret is not logged
  CHECK(http_get(site.http_port, "/healthz").status == 0);             // nothing listens
}
