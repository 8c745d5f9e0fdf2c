// Broadcasts and queue scopes on a live callwatchd with CURVE keys written by `callwatchd keygen`,
// over real sockets: wallboard-protocol clients (SUB on the XPUB, DEALER on the ROUTER, cppzmq
// directly) and the `callwatchd broadcast` command. A kiosk key can neither broadcast nor ack; a
// supervisor's message reaches every subscriber, survives a restart, and goes on withdraw and on
// expiry; a scoped supervisor's snapshot and deltas hold only its queues and its ack of another
// team's alert is refused; every refusal is counted in /metrics.
#include <algorithm>
#include <set>

#include <catch2/catch.hpp>
#include <zmq_addon.hpp>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "callwatch/protocol/keys.hpp"
#include "store_test_util.hpp"

using namespace cwtest;
namespace m = callwatch::metrics;
namespace wire = callwatch::metrics::wire;
using callwatch::protocol::apply_curve_client;
using callwatch::protocol::CurveKeyPair;
using callwatch::protocol::load_curve_public;
using callwatch::protocol::load_curve_secret;

namespace {

struct Keys {
  std::filesystem::path dir;
  std::string server_public;
  std::map<std::string, CurveKeyPair> pair;
};

Keys make_keys(const std::filesystem::path& dir, std::initializer_list<const char*> names) {
  Keys k;
  k.dir = dir;
  const std::string keygen = std::string(CALLWATCH_BIN_DIR) + "/callwatchd keygen --out '" + dir.string() + "'";
  REQUIRE(run(keygen + " --name server > /dev/null") == 0);
  k.server_public = *load_curve_public((dir / "server.pub").string());
  for (const char* n : names) {
    REQUIRE(run(keygen + " --name " + n + " > /dev/null") == 0);
    k.pair[n] = *load_curve_secret((dir / (std::string(n) + ".key")).string());
  }
  return k;
}

// One wallboard as the protocol describes it, with a CURVE key: subscribe to everything, ask for
// a snapshot, apply deltas above its sequence number. It records every delta and any gap or
// repeated sequence number (a scoped board must see neither).
class Board {
 public:
  Board(zmq::context_t& ctx, const Site& site, const Keys& keys, const std::string& key)
      : sub_(ctx, zmq::socket_type::sub), dealer_(ctx, zmq::socket_type::dealer) {
    sub_.set(zmq::sockopt::linger, 0);
    apply_curve_client(sub_, keys.pair.at(key), keys.server_public);
    sub_.set(zmq::sockopt::subscribe, "");
    sub_.connect(site.publish_endpoint());
    dealer_.set(zmq::sockopt::linger, 0);
    apply_curve_client(dealer_, keys.pair.at(key), keys.server_public);
    dealer_.connect(site.control_endpoint());
  }

  void sync() {
    REQUIRE(next(5s, wire::MessageType::heartbeat));
    auto snap = request(wire::encode_request("snapshot"));
    REQUIRE(snap);
    REQUIRE(snap->type == wire::MessageType::snapshot);
    state_ = snap->snapshot;
    seq_ = snap->seq;
  }

  template <typename Pred>
  bool until(Pred pred, std::chrono::milliseconds t) {
    const auto deadline = std::chrono::steady_clock::now() + t;
    while (!pred(state_)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      pump(left);
    }
    return true;
  }

  // Applies the deltas that arrive within `t`.
  void pump(std::chrono::milliseconds t) {
    auto msg = next(t, wire::MessageType::delta);
    if (!msg) return;
    if (msg->seq <= seq_) {
      if (!deltas_.empty()) ++repeats;  // before our snapshot is fine; after it, a duplicate
      return;
    }
    if (msg->seq != seq_ + 1) ++gaps;
    seq_ = msg->seq;
    wire::apply(state_, msg->delta);
    deltas_.push_back(msg->delta);
  }

  std::optional<wire::Message> request(const std::string& body, std::chrono::milliseconds t = 3s) {
    std::array<zmq::const_buffer, 2> frames{zmq::str_buffer(""), zmq::buffer(body)};
    zmq::send_multipart(dealer_, frames);
    std::vector<zmq::pollitem_t> items{{dealer_.handle(), 0, ZMQ_POLLIN, 0}};
    if (zmq::poll(items, t) <= 0) return std::nullopt;
    std::vector<zmq::message_t> reply;
    if (!zmq::recv_multipart(dealer_, std::back_inserter(reply))) return std::nullopt;
    auto m = wire::decode(reply.back().to_string_view());
    REQUIRE(m);
    return *m;
  }

  const m::Snapshot& state() const { return state_; }
  const std::vector<wire::SnapshotDelta>& deltas() const { return deltas_; }
  int gaps = 0;
  int repeats = 0;

 private:
  std::optional<wire::Message> next(std::chrono::milliseconds t, wire::MessageType type) {
    const auto deadline = std::chrono::steady_clock::now() + t;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return std::nullopt;
      std::vector<zmq::pollitem_t> items{{sub_.handle(), 0, ZMQ_POLLIN, 0}};
      if (zmq::poll(items, left) <= 0) continue;
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(sub_, std::back_inserter(frames))) continue;
      auto m = wire::decode(frames.back().to_string_view());
      REQUIRE(m);
      if (m->type == type) return *m;
    }
  }

  zmq::socket_t sub_, dealer_;
  m::Snapshot state_;
  std::uint64_t seq_ = 0;
  std::vector<wire::SnapshotDelta> deltas_;
};

const m::BroadcastView* find_broadcast(const m::Snapshot& s, const std::string& id) {
  for (const auto& b : s.broadcasts)
    if (b.id == id) return &b;
  return nullptr;
}

std::string refused(const std::string& request, const std::string& reason) {
  return "callwatch_wallboard_requests_refused_total{request=\"" + request + "\",reason=\"" + reason + "\"}";
}

// `callwatchd broadcast ARGS` with a key of `keys`; its exit status and standard output.
std::pair<int, std::string> broadcast_cmd(const Site& site, const Keys& keys, const std::string& key,
                                          const std::string& args) {
  const std::string out = (site.dir / "cmd.out").string();
  const std::string cmd = std::string(CALLWATCH_BIN_DIR) + "/callwatchd broadcast --control " +
                          site.control_endpoint() + " --key '" + (keys.dir / (key + ".key")).string() +
                          "' --server-key '" + (keys.dir / "server.pub").string() + "' " + args + " > '" + out +
                          "' 2>&1";
  const int rc = run(cmd);
  std::ifstream in(out);
  return {rc, std::string(std::istreambuf_iterator<char>(in), {})};
}

}  // namespace

TEST_CASE("broadcast: a kiosk key is refused; a supervisor's message reaches every board, survives a "
          "restart and goes on withdraw and on expiry",
          "[integration][broadcast][curve]") {
  Site site;
  const Keys keys = make_keys(site.dir / "keys", {"floor", "alice"});
  site.write_config("[security]\nkeys_dir = \"" + keys.dir.string() +
                    "\"\nserver_key = \"server\"\n"
                    "[[security.client]]\nname = \"floor\"\nrole = \"kiosk\"\n"
                    "[[security.client]]\nname = \"alice\"\nrole = \"supervisor\"\n");
  site.start();
  INFO(site.log());
  zmq::context_t ctx(1);
  Board kiosk(ctx, site, keys, "floor");
  Board desk(ctx, site, keys, "alice");
  kiosk.sync();
  desk.sync();
  CHECK(kiosk.state().broadcasts.empty());

  // A kiosk key: refused whatever role its request claims, for a broadcast, a withdraw and an ack.
  auto r = kiosk.request(wire::encode_broadcast_request("Free pizza", 600, "lobby", "supervisor"));
  REQUIRE(r);
  CHECK(r->type == wire::MessageType::error);
  CHECK(r->error == "role 'kiosk' is read-only: only a supervisor may broadcast");
  r = kiosk.request(wire::encode_withdraw_request("b1", "lobby", "supervisor"));
  REQUIRE(r);
  CHECK(r->type == wire::MessageType::error);
  r = kiosk.request(wire::encode_ack_request("waiting/sales", "lobby", "", "supervisor"));
  REQUIRE(r);
  CHECK(r->type == wire::MessageType::error);
  CHECK(r->error == "role 'kiosk' is read-only: only a supervisor may acknowledge");
  const auto kiosk_cmd = broadcast_cmd(site, keys, "floor", "--text 'From the floor' --for 10m");
  CHECK(kiosk_cmd.first == 1);
  CHECK_THAT(kiosk_cmd.second, Catch::Contains("refused: role 'kiosk' is read-only"));
  // One refused by role per request kind from the sockets, plus the command's broadcast: 2.
  std::string body = site.scrape();
  CHECK(sample(body, refused("broadcast", "role")) == 2.0);
  CHECK(sample(body, refused("withdraw", "role")) == 1.0);
  CHECK(sample(body, refused("ack", "role")) == 1.0);
  CHECK(sample(body, "callwatch_wallboard_broadcasts") == 0.0);

  // The supervisor posts one for 10 minutes over the socket and one for 6 s with the command.
  const double posted = wall_now();
  r = desk.request(wire::encode_broadcast_request("Team meeting at 15:00", 600, "", "supervisor"));
  REQUIRE(r);
  REQUIRE(r->type == wire::MessageType::reply);
  const std::string long_id = r->broadcast_id;
  REQUIRE_FALSE(long_id.empty());
  const auto cmd = broadcast_cmd(site, keys, "alice", "--text '午休改到 12:30' --for 6s");
  REQUIRE(cmd.first == 0);
  REQUIRE(cmd.second.rfind("broadcast b", 0) == 0);
  const std::string short_id = cmd.second.substr(10, cmd.second.size() - 11);  // "broadcast ID\n"

  // Both reach the kiosk's subscription, with the key's name as the sender (the request named
  // nobody) and the expiry the daemon stamped: 600 s after posting, within the second it took.
  REQUIRE(kiosk.until([&](const m::Snapshot& s) { return s.broadcasts.size() == 2; }, 5s));
  const auto* b = find_broadcast(kiosk.state(), long_id);
  REQUIRE(b);
  CHECK(b->text == "Team meeting at 15:00");
  CHECK(b->from == "alice");
  CHECK(b->expires_at - b->posted_at == Approx(600).margin(1e-6));
  CHECK(b->posted_at >= posted - 0.5);
  CHECK(b->posted_at <= posted + 2);
  const auto* s6 = find_broadcast(kiosk.state(), short_id);
  REQUIRE(s6);
  CHECK(s6->text == "午休改到 12:30");
  CHECK(s6->expires_at - s6->posted_at == Approx(6).margin(1e-6));
  CHECK(sample(site.scrape(), "callwatch_wallboard_broadcasts") == 2.0);

  // The 6 s one goes by itself: gone from the board no earlier than its expiry (the daemon's
  // clock and ours are the same machine's), and within 2 s of it.
  REQUIRE(kiosk.until([&](const m::Snapshot& s) { return find_broadcast(s, short_id) == nullptr; }, 10s));
  const double gone_at = wall_now();
  CHECK(gone_at >= s6->expires_at - 0.05);
  CHECK(gone_at <= s6->expires_at + 2);
  CHECK(find_broadcast(kiosk.state(), long_id) != nullptr);
  CHECK(sample(site.scrape(), "callwatch_wallboard_broadcasts") == 1.0);

  // A restart keeps the 10-minute one (the store), with its id, text and expiry unchanged.
  const double expires = find_broadcast(kiosk.state(), long_id)->expires_at;
  REQUIRE(site.stop() == 0);
  site.start();
  Board after(ctx, site, keys, "floor");
  after.sync();
  REQUIRE(after.state().broadcasts.size() == 1);
  CHECK(after.state().broadcasts[0].id == long_id);
  CHECK(after.state().broadcasts[0].text == "Team meeting at 15:00");
  CHECK(after.state().broadcasts[0].expires_at == expires);
  const auto list = broadcast_cmd(site, keys, "alice", "--list");
  CHECK(list.first == 0);
  CHECK_THAT(list.second, Catch::Contains(long_id + "  from alice  until "));

  // Withdrawn by the command: gone from the board; withdrawing it again is refused (unknown).
  const auto w = broadcast_cmd(site, keys, "alice", "--withdraw " + long_id);
  CHECK(w.first == 0);
  CHECK(w.second == "withdrawn " + long_id + "\n");
  REQUIRE(after.until([](const m::Snapshot& s) { return s.broadcasts.empty(); }, 5s));
  CHECK(broadcast_cmd(site, keys, "alice", "--withdraw " + long_id).first == 1);

  // Bounds: 281 bytes (one past 280) and a 3 s life (under 5 s) are invalid; eight live is the
  // most, so the ninth is refused (limit). Every refusal counted.
  Board desk2(ctx, site, keys, "alice");
  r = desk2.request(wire::encode_broadcast_request(std::string(281, 'x'), 600, "", "supervisor"));
  REQUIRE(r);
  CHECK(r->error == "the message is 281 bytes; at most 280");
  r = desk2.request(wire::encode_broadcast_request("short", 3, "", "supervisor"));
  REQUIRE(r);
  CHECK(r->type == wire::MessageType::error);
  r = desk2.request(wire::encode_broadcast_request("two\nlines", 60, "", "supervisor"));
  REQUIRE(r);
  CHECK(r->error == "the message must be UTF-8 text on one line");
  for (int i = 0; i < 8; ++i) {
    r = desk2.request(wire::encode_broadcast_request("note " + std::to_string(i), 600, "", "supervisor"));
    REQUIRE(r);
    CHECK(r->type == wire::MessageType::reply);
  }
  r = desk2.request(wire::encode_broadcast_request("ninth", 600, "", "supervisor"));
  REQUIRE(r);
  CHECK(r->error == "8 broadcasts are live already (the most): withdraw one first");
  REQUIRE(after.until([](const m::Snapshot& s) { return s.broadcasts.size() == 8; }, 5s));
  // Counters restart with the process: the refusals since the restart only.
  body = site.scrape();
  CHECK(sample(body, refused("broadcast", "invalid")) == 3.0);
  CHECK(sample(body, refused("broadcast", "limit")) == 1.0);
  CHECK(sample(body, refused("withdraw", "unknown")) == 1.0);
  CHECK(sample(body, "callwatch_wallboard_broadcasts") == 8.0);
  CHECK(promtool_check(body, site.dir) == 0);
}

namespace {

// Two teams: north (bob, scoped to sales) and the floor manager carol (unscoped); a rule that
// fires for any waiting call, so each queue gets its own alert.
std::string scope_toml(const Keys& keys) {
  return "[[queue]]\nname = \"sales\"\n[[queue]]\nname = \"support\"\n"
         "[security]\nkeys_dir = \"" +
         keys.dir.string() +
         "\"\nserver_key = \"server\"\n"
         "[[security.client]]\nname = \"bob\"\nrole = \"supervisor\"\n"
         "[[security.client]]\nname = \"carol\"\nrole = \"supervisor\"\n"
         "[[security.client]]\nname = \"pbx\"\nrole = \"feed\"\n"
         "[[security.scope]]\nname = \"north\"\nclients = [\"bob\"]\nqueues = [\"sales\"]\n"
         "[[alert]]\nname = \"waiting\"\nmetric = \"calls_waiting\"\nabove = 0\nseverity = \"warning\"\n";
}

void push_events(zmq::context_t& ctx, const Site& site, const Keys& keys, const std::vector<std::string>& events) {
  zmq::socket_t push(ctx, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 3000);
  apply_curve_client(push, keys.pair.at("pbx"), keys.server_public);
  push.connect(site.feed_endpoint());
  for (const auto& e : events) (void)push.send(zmq::buffer(e), zmq::send_flags::none);
}

std::string ev(const std::string& body) {
  return "{\"ts\":" + std::to_string(wall_now()) + "," + body + "}";
}

std::set<std::string> queue_names(const m::Snapshot& s) {
  std::set<std::string> out;
  for (const auto& q : s.queues) out.insert(q.name);
  return out;
}

const m::QueueView* queue(const m::Snapshot& s, const std::string& name) {
  for (const auto& q : s.queues)
    if (q.name == name) return &q;
  return nullptr;
}

}  // namespace

TEST_CASE("scope: a supervisor bound to sales sees and acknowledges only sales, enforced by the daemon",
          "[integration][scope][curve]") {
  Site site;
  const Keys keys = make_keys(site.dir / "keys", {"bob", "carol", "pbx"});
  site.write_config(scope_toml(keys));
  // --check-config agrees with the daemon on this file.
  CHECK(run(std::string(CALLWATCH_BIN_DIR) + "/callwatchd --check-config --config '" + site.config.string() +
            "' > /dev/null 2>&1") == 0);
  site.start();
  INFO(site.log());
  zmq::context_t ctx(1);

  // Agents a1 (sales) and a2 (support), one call waiting in each queue.
  push_events(ctx, site, keys,
              {ev(R"("type":"agent_state","agent":"a1","state":"available","queues":["sales"])"),
               ev(R"("type":"agent_state","agent":"a2","state":"available","queues":["support"])"),
               ev(R"("type":"agent_state","agent":"a3","state":"available","queues":["sales","support"])"),
               ev(R"("type":"call_enqueued","call":"c1","queue":"sales")"),
               ev(R"("type":"call_enqueued","call":"c2","queue":"support")")});
  Board carol(ctx, site, keys, "carol");
  carol.sync();
  REQUIRE(carol.until(
      [](const m::Snapshot& s) {
        const auto* a = queue(s, "support");
        return a && a->calls_waiting == 1 && s.alerts.size() >= 2 &&
               std::all_of(s.alerts.begin(), s.alerts.end(),
                           [](const m::AlertView& al) { return al.state == m::AlertState::firing; });
      },
      8s));

  Board bob(ctx, site, keys, "bob");
  bob.sync();
  // The snapshot holds sales only: its queue, its members (a3 with its queue list cut to sales),
  // its alert.
  CHECK(queue_names(bob.state()) == std::set<std::string>{"sales"});
  REQUIRE(bob.state().agents.size() == 2);
  CHECK(bob.state().agents[0].name == "a1");
  CHECK(bob.state().agents[1].name == "a3");
  CHECK(bob.state().agents[1].queues == std::vector<std::string>{"sales"});
  REQUIRE(bob.state().alerts.size() == 1);
  CHECK(bob.state().alerts[0].id == "waiting/sales");
  CHECK(queue_names(carol.state()) == std::set<std::string>{"sales", "support"});

  // More calls in both queues, and a2 goes on a call: bob's deltas carry sales only, carol's both.
  push_events(ctx, site, keys,
              {ev(R"("type":"call_enqueued","call":"c3","queue":"support")"),
               ev(R"("type":"call_enqueued","call":"c4","queue":"sales")"),
               ev(R"("type":"call_answered","call":"c2","queue":"support","agent":"a2")")});
  REQUIRE(bob.until([](const m::Snapshot& s) { return queue(s, "sales")->calls_waiting == 2; }, 5s));
  REQUIRE(carol.until(
      [](const m::Snapshot& s) {
        return queue(s, "support")->calls_waiting == 1 && queue(s, "sales")->calls_waiting == 2 &&
               std::any_of(s.agents.begin(), s.agents.end(),
                           [](const m::AgentView& a) { return a.name == "a2" && a.state == m::AgentState::on_call; });
      },
      5s));
  bob.pump(1500ms);  // whatever else the engine published meanwhile
  REQUIRE_FALSE(bob.deltas().empty());
  for (const auto& d : bob.deltas()) {
    for (const auto& q : d.queues) CHECK(q.name == "sales");
    for (const auto& a : d.agents) CHECK(a.name != "a2");
    for (const auto& a : d.alerts) CHECK(a.queue != "support");
  }
  CHECK(queue_names(bob.state()) == std::set<std::string>{"sales"});
  // The same sequence numbers as everyone's: no gap, no repeat on the scope's topic; and an
  // unscoped board gets each delta once (not the scope's copy as well).
  CHECK(bob.gaps == 0);
  CHECK(bob.repeats == 0);
  CHECK(carol.gaps == 0);
  CHECK(carol.repeats == 0);

  // bob's ack of support's alert is refused by the daemon; of sales' accepted. carol may ack both.
  auto r = bob.request(wire::encode_ack_request("waiting/support", "bob", "", "supervisor"));
  REQUIRE(r);
  CHECK(r->type == wire::MessageType::error);
  CHECK(r->error == "alert 'waiting/support' is not of your queues (sales): scope \"north\"");
  r = bob.request(wire::encode_ack_request("waiting/sales", "bob", "", "supervisor"));
  REQUIRE(r);
  CHECK(r->type == wire::MessageType::reply);
  r = carol.request(wire::encode_ack_request("waiting/support", "carol", "", "supervisor"));
  REQUIRE(r);
  CHECK(r->type == wire::MessageType::reply);
  REQUIRE(bob.until([](const m::Snapshot& s) { return s.alerts.size() == 1 && s.alerts[0].acked; }, 5s));

  // The day's alert history, as bob gets it, is sales' only.
  r = bob.request(wire::encode_request("alert_history"));
  REQUIRE(r);
  REQUIRE(r->type == wire::MessageType::reply);
  REQUIRE_FALSE(r->history.empty());
  for (const auto& t : r->history) CHECK(t.queue == "sales");

  // A broadcast from the scoped supervisor still reaches everyone.
  r = bob.request(wire::encode_broadcast_request("North team: huddle at 3", 600, "", "supervisor"));
  REQUIRE(r);
  CHECK(r->type == wire::MessageType::reply);
  REQUIRE(carol.until([](const m::Snapshot& s) { return s.broadcasts.size() == 1; }, 5s));
  CHECK(carol.state().broadcasts[0].from == "bob");
  REQUIRE(bob.until([](const m::Snapshot& s) { return s.broadcasts.size() == 1; }, 5s));

  const std::string body = site.scrape();
  CHECK(sample(body, refused("ack", "scope")) == 1.0);
  CHECK(sample(body, refused("ack", "role")) == 0.0);
}

TEST_CASE("scope: a config that binds an unknown key or an empty scope does not start, naming the line",
          "[integration][scope][config]") {
  Site site;
  const Keys keys = make_keys(site.dir / "keys", {"bob"});
  // Site::write_config puts 12 lines before ours ([general] and storage_path, [listen] and its 4
  // addresses, a blank, [[feed]] with name and type, a blank): ours start on line 13, so the
  // scope's clients are on line 23 and its queues on 24 (checked against the file below).
  const std::string sec = "[[queue]]\nname = \"sales\"\n"  // 13, 14
                          "[security]\nkeys_dir = \"" +
                          keys.dir.string() +
                          "\"\nserver_key = \"server\"\n"                                   // 15-17
                          "[[security.client]]\nname = \"bob\"\nrole = \"supervisor\"\n"  // 18-20
                          "[[security.scope]]\nname = \"north\"\nclients = [\"bobby\"]\n"  // 21-23
                          "queues = []\n";                                                // 24
  site.write_config(sec);
  std::ifstream in(site.config);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  REQUIRE(lines.size() >= 24);
  REQUIRE(lines[22] == "clients = [\"bobby\"]");  // line 23
  REQUIRE(lines[23] == "queues = []");            // line 24
  const std::string out = (site.dir / "check.out").string();
  const std::string check = std::string(CALLWATCH_BIN_DIR) + "/callwatchd --check-config --config '" +
                            site.config.string() + "' > '" + out + "' 2>&1";
  CHECK(run(check) == 1);  // --check-config: 1 for a file with errors
  std::ifstream o(out);
  const std::string text((std::istreambuf_iterator<char>(o)), {});
  CHECK_THAT(text, Catch::Contains(site.config.string() + ":23:"));
  CHECK_THAT(text, Catch::Contains("\"bobby\" is not a [[security.client]] (did you mean \"bob\"?)"));
  CHECK_THAT(text, Catch::Contains(site.config.string() + ":24:"));
  CHECK_THAT(text, Catch::Contains("queues is empty"));
  // The daemon itself refuses the same file with exit 2 (a config error, not restarted).
  site.start({}, false);
  CHECK(site.wait_exit(10s) == 2);
  CHECK_THAT(site.log(), Catch::Contains("\"bobby\" is not a [[security.client]]"));
}
