// callwatchd relay (issue 17, "Many screens"): real daemons fed over ZeroMQ, the relay between
// them and the boards, and the boards' own protocol client (wallboard/app/subscriber) -- 200 of
// them, plus clients that never read. Every board must rebuild the daemon's state through the
// relay, a silent client must not hold the others back, a relay restart must resync them all,
// and with two sites an ack must reach the daemon that owns the alert.
#include <catch2/catch.hpp>
#include <zmq_addon.hpp>

#include "app/system_clock.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"
#include "callwatch/protocol/keys.hpp"
#include "feed_store.hpp"
#include "relay/relay.hpp"
#include "store_test_util.hpp"
#include "subscriber.hpp"

using namespace cwtest;
namespace wire = callwatch::metrics::wire;
namespace m = callwatch::metrics;
namespace vm = callwatch::wallboard::vm;
namespace relay = callwatch::daemon::relay;
using callwatch::wallboard::app::FeedStore;
using callwatch::wallboard::app::SiteEndpoints;
using callwatch::wallboard::app::Subscriber;
using callwatch::wallboard::app::SubscriberOptions;

namespace {

const std::string kQueues = "[[queue]]\nname = \"sales\"\n[[queue]]\nname = \"support\"\n";
// Fires at the first evaluation after one call waits: the test controls it with one event.
const std::string kRule = "[[alert]]\nname = \"queue-long\"\nmetric = \"calls_waiting\"\nabove = 0\nseverity = \"critical\"\n";

// The board's own timeouts (2 s for a snapshot reply), with a shorter backoff cap: a test
// should not sit out a 10 s backoff, but 200 boards retrying every few hundred ms on a loaded
// 2-core machine would only measure the retry storm they make.
SubscriberOptions board_options() {
  SubscriberOptions o;
  o.backoff_max = 2000ms;
  return o;
}

// One board: its protocol client and what it holds.
struct Board {
  Board(zmq::context_t& ctx, const std::string& pub, const std::string& ctl, const m::Clock& clock)
      : store(std::vector<vm::SiteFeed>{[&] {
          vm::SiteFeed f;
          f.endpoint = pub;
          return f;
        }()}),
        sub(ctx, store, 0, SiteEndpoints{pub, ctl}, clock, board_options()) {
    sub.start();
  }
  // calls_waiting of `queue` on this board; -1 when it is not there (no state yet).
  int waiting(const std::string& queue) const {
    const auto f = store.copy()[0];
    if (!f.state) return -1;
    for (const auto& q : f.state->queues) {
      if (q.name == queue) return q.calls_waiting;
    }
    return -1;
  }
  const m::AlertView* alert(const std::string& id, m::AlertView& out) const {
    const auto f = store.copy()[0];
    if (!f.state) return nullptr;
    for (const auto& a : f.state->alerts) {
      if (a.id == id) {
        out = a;
        return &out;
      }
    }
    return nullptr;
  }
  FeedStore store;
  Subscriber sub;
};

void event(zmq::context_t& ctx, const Site& site, const std::string& type, const std::string& call,
           const std::string& queue, const std::string& extra = {}) {
  send_lines(ctx, site.feed_endpoint(),
             {R"({"type":")" + type + R"(","ts":)" + std::to_string(wall_now() - 1) + R"(,"call":")" + call +
              R"(","queue":")" + queue + "\"" + extra + "}"});
}

relay::RelayOptions relay_of(const std::vector<const Site*>& sites, int pub_port, int ctl_port) {
  relay::RelayOptions o;
  for (const auto* s : sites) o.upstreams.push_back({s->publish_endpoint(), s->control_endpoint()});
  o.publish_endpoint = "tcp://127.0.0.1:" + std::to_string(pub_port);
  o.control_endpoint = "tcp://127.0.0.1:" + std::to_string(ctl_port);
  return o;
}

// One request on a control socket (a daemon's or the relay's) and its decoded reply.
wire::Message ask(zmq::context_t& ctx, const std::string& control, const std::string& request) {
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::rcvtimeo, 8000);
  dealer.connect(control);
  const std::string req = wire::encode_request(request);
  (void)dealer.send(zmq::buffer(req), zmq::send_flags::none);
  zmq::message_t reply;
  if (!dealer.recv(reply)) throw std::runtime_error("no answer to " + request + " on " + control);
  auto msg = wire::decode(reply.to_string_view());
  if (!msg) throw std::runtime_error(msg.error());
  return std::move(*msg);
}

// The daemon's own state (what a board connected to it would hold).
m::Snapshot daemon_state(zmq::context_t& ctx, const Site& site) {
  return ask(ctx, site.control_endpoint(), "snapshot").snapshot;
}

// True when a board holds the daemon's discrete state: the same queues with the same calls
// waiting and counters since start, the same agents in the same states. (Clock-driven fields,
// such as the longest wait, are resent within a tolerance and are left out.)
bool same_state(const m::Snapshot& board, const m::Snapshot& daemon) {
  if (board.queues.size() != daemon.queues.size() || board.agents.size() != daemon.agents.size()) return false;
  for (std::size_t i = 0; i < board.queues.size(); ++i) {
    const auto &b = board.queues[i], &d = daemon.queues[i];
    if (b.name != d.name || b.calls_waiting != d.calls_waiting || !(b.total == d.total)) return false;
  }
  for (std::size_t i = 0; i < board.agents.size(); ++i) {
    const auto &b = board.agents[i], &d = daemon.agents[i];
    if (b.name != d.name || b.state != d.state || b.queues != d.queues) return false;
  }
  return true;
}

// How many of `boards` show `n` calls waiting in `queue`.
std::size_t showing(const std::vector<std::unique_ptr<Board>>& boards, const std::string& queue, int n) {
  std::size_t k = 0;
  for (const auto& b : boards) k += b->waiting(queue) == n ? 1 : 0;
  return k;
}

}  // namespace

TEST_CASE("200 boards behind one relay follow the daemon; clients that never read hold nobody back",
          "[integration][relay]") {
  Site site(kQueues);
  site.write_config(kQueues, false);
  site.start();
  // The relay is a process of its own in production: its own ZeroMQ context (I/O thread) here,
  // and the 200 boards share two I/O threads.
  zmq::context_t relay_ctx(1);
  zmq::context_t ctx(2);
  callwatch::wallboard::app::SystemClock clock;
  const int rpub = free_port_below_ephemeral(), rctl = free_port_below_ephemeral();
  auto rel = std::make_unique<relay::Relay>(relay_ctx, relay_of({&site}, rpub, rctl));
  rel->start();
  const std::string pub = rel->publish_endpoint(), ctl = rel->control_endpoint();

  std::vector<std::unique_ptr<Board>> boards;
  for (int i = 0; i < 200; ++i) boards.push_back(std::make_unique<Board>(ctx, pub, ctl, clock));

  // The configured queues come with nobody waiting: every board shows sales 0 once synced.
  const bool synced = wait_for([&] { return showing(boards, "sales", 0) == 200; }, 60s);
  {
    const auto st = rel->stats();
    INFO("synced " << showing(boards, "sales", 0) << " of 200; relay live " << st.live << " merges " << st.merges
         << " served " << st.publisher.snapshots_served << " refused " << st.publisher.snapshots_refused
         << " coalesced " << st.publisher.snapshots_coalesced << " encodes " << st.publisher.snapshot_encodes
         << " deltas held " << st.publisher.deltas_held << " heartbeats " << st.publisher.heartbeats << " held "
         << st.publisher.heartbeats_held << "; upstream reconnects " << st.upstream_reconnects << " resyncs "
         << st.upstream_resyncs);
    std::uint64_t rc = 0, sn = 0;
    for (const auto& b : boards) rc += b->sub.stats().reconnects, sn += b->sub.stats().snapshots;
    INFO("boards: reconnects " << rc << " snapshots " << sn);
    REQUIRE(synced);
  }

  // Two clients that never read, from here on: a subscriber whose socket is never drained and one
  // that asks for a snapshot 50 times and never takes the reply.
  zmq::socket_t silent_sub(ctx, zmq::socket_type::sub);
  silent_sub.set(zmq::sockopt::rcvhwm, 1);
  silent_sub.set(zmq::sockopt::rcvbuf, 4096);
  silent_sub.set(zmq::sockopt::subscribe, "");
  silent_sub.connect(pub);
  zmq::socket_t greedy(ctx, zmq::socket_type::dealer);
  greedy.set(zmq::sockopt::rcvhwm, 1);
  greedy.connect(ctl);
  for (int i = 0; i < 50; ++i) {
    const std::string req = wire::encode_request("snapshot");
    std::array<zmq::const_buffer, 2> frames{zmq::str_buffer(""), zmq::buffer(req)};
    (void)zmq::send_multipart(greedy, frames, zmq::send_flags::dontwait);
  }


  // Three calls join sales and one support: 3 and 1 on every board, as in the daemon's /metrics.
  for (const char* c : {"s1", "s2", "s3"}) event(ctx, site, "call_enqueued", c, "sales");
  event(ctx, site, "call_enqueued", "t1", "support");
  const auto t0 = std::chrono::steady_clock::now();
  const bool all = wait_for([&] { return showing(boards, "sales", 3) == 200 && showing(boards, "support", 1) == 200; }, 10s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  INFO("sales=3 on " << showing(boards, "sales", 3) << " boards; support=1 on " << showing(boards, "support", 1));
  REQUIRE(all);
  WARN("200 boards showed the 4 new calls " << seconds << " s after they were sent");
  // Batching: a delta per 100 ms at the daemon, another 100 ms at the relay; 3 s is generous.
  CHECK(seconds < 3.0);
  CHECK(site.value(R"(callwatch_queue_calls_waiting{queue="sales"})") == 3);
  CHECK(site.value(R"(callwatch_queue_calls_waiting{queue="support"})") == 1);

  // One call answered: 2 left in sales. A delta, not a new snapshot, carries it to every board.
  std::vector<std::uint64_t> snapshots_before;
  for (const auto& b : boards) snapshots_before.push_back(b->sub.stats().snapshots);
  event(ctx, site, "call_answered", "s1", "sales", R"(,"agent":"ana")");
  REQUIRE(wait_for([&] { return showing(boards, "sales", 2) == 200; }, 10s));
  std::size_t by_delta = 0;
  for (std::size_t i = 0; i < boards.size(); ++i) by_delta += boards[i]->sub.stats().snapshots == snapshots_before[i];
  CHECK(by_delta == 200);
  // Every board holds the daemon's state, not only the two numbers looked at: sales 2 waiting,
  // 1 answered; support 1 waiting; agent ana on a call in sales.
  const m::Snapshot truth = daemon_state(ctx, site);
  REQUIRE(truth.queues.size() == 2);
  CHECK(truth.queues[0].total.answered == 1);
  std::size_t same = 0;
  for (const auto& b : boards) {
    const auto f = b->store.copy()[0];
    same += f.state && same_state(*f.state, truth) ? 1 : 0;
  }
  CHECK(same == 200);

  // The relay coalesced the snapshot requests: the greedy client's 50 asks are one reply on its
  // way (49 coalesced), and 200 boards asking at about the same sequence cost a few encodes.
  const auto st = rel->stats();
  // One reply at a time is on its way to it; while one waits unsent, asking again joins it
  // (47 of 49 here once its socket buffers were full), and equal sequence numbers share a body.
  CHECK(st.publisher.snapshots_coalesced >= 1);
  CHECK(st.publisher.snapshot_encodes < 50);
  CHECK(st.publisher.subscriptions >= 1);
  CHECK(st.live);
  // A request the daemon answers passes through as is: this daemon has no alert rules, so its
  // day holds no transition.
  {
    const auto h = ask(ctx, ctl, "alert_history");
    CHECK(h.type == wire::MessageType::reply);
    CHECK(h.request == "alert_history");
    CHECK(h.history.empty());
    CHECK(rel->stats().publisher.requests_forwarded == 1);
  }

  // ---- a relay restart: every board resyncs to the new relay run by a new snapshot ----------
  rel->stop();
  rel.reset();
  std::this_thread::sleep_for(500ms);
  event(ctx, site, "call_answered", "s2", "sales", R"(,"agent":"bo")");  // 1 left, while no relay runs
  REQUIRE(wait_for([&] { return site.value(R"(callwatch_queue_calls_waiting{queue="sales"})") == 1; }, 5s));
  CHECK(showing(boards, "sales", 2) == 200);  // last values kept while the relay is away
  rel = std::make_unique<relay::Relay>(relay_ctx, relay_of({&site}, rpub, rctl));
  rel->start();
  REQUIRE(wait_for([&] { return showing(boards, "sales", 1) == 200; }, 60s));
  std::size_t resynced = 0;
  for (std::size_t i = 0; i < boards.size(); ++i) resynced += boards[i]->sub.stats().snapshots > snapshots_before[i];
  CHECK(resynced == 200);
  rel->stop();
  CHECK(site.stop() == 0);
}

TEST_CASE("a relay of two sites keeps their queues apart and passes an ack to the owning daemon",
          "[integration][relay][ack]") {
  Site north, south;
  north.write_config("[general]\nsite = \"north\"\n" + kQueues + kRule, false);
  south.write_config("[general]\nsite = \"south\"\n" + kQueues + kRule, false);
  north.start();
  south.start();
  zmq::context_t ctx;
  callwatch::wallboard::app::SystemClock clock;
  relay::Relay rel(ctx, relay_of({&north, &south}, free_port_below_ephemeral(), free_port_below_ephemeral()));
  rel.start();
  Board board(ctx, rel.publish_endpoint(), rel.control_endpoint(), clock);

  // Two calls wait at north, one at south, all in "sales": the board holds both sales queues.
  event(ctx, north, "call_enqueued", "n1", "sales");
  event(ctx, north, "call_enqueued", "n2", "sales");
  event(ctx, south, "call_enqueued", "x1", "sales");
  REQUIRE(wait_for([&] { return board.waiting("north/sales") == 2 && board.waiting("south/sales") == 1; }, 15s));
  CHECK(board.waiting("north/support") == 0);
  CHECK(board.waiting("sales") == -1);  // no unqualified name with two sites
  CHECK(board.store.copy()[0].site == "relay");

  // queue-long fires at both sites (1 and 2 waiting are above 0).
  m::AlertView a;
  REQUIRE(wait_for([&] {
    return board.alert("north/queue-long/sales", a) && a.state == m::AlertState::firing &&
           board.alert("south/queue-long/sales", a) && a.state == m::AlertState::firing;
  }, 15s));

  // A kiosk's ack is refused by the relay itself; an ack of an alert nobody has is refused too.
  auto ack_as = [&](const std::string& id, const std::string& role) {
    board.sub.send_ack(id, wire::encode_ack_request(id, "alice", "on it", role));
    vm::AckReply r;
    wait_for([&] {
      const auto f = board.store.copy()[0];
      const auto it = f.ack_replies.find(id);
      if (it == f.ack_replies.end() || it->second.kind == vm::AckReply::Kind::sending) return false;
      r = it->second;
      return true;
    }, 10s);
    return r;
  };
  auto kiosk = ack_as("north/queue-long/sales", "kiosk");
  CHECK(kiosk.kind == vm::AckReply::Kind::refused);
  CHECK_THAT(kiosk.reason, Catch::Contains("read-only"));
  auto nobody = ack_as("east/queue-long/sales", "supervisor");
  CHECK(nobody.kind == vm::AckReply::Kind::refused);
  CHECK_THAT(nobody.reason, Catch::Contains("no alert"));

  // The supervisor's ack of north's alert: accepted by north's daemon, and the ack comes back to
  // the board in a delta; south's alert of the same name stays unacknowledged.
  auto ok = ack_as("north/queue-long/sales", "supervisor");
  INFO(ok.reason);
  CHECK(ok.kind == vm::AckReply::Kind::accepted);
  REQUIRE(wait_for([&] { return board.alert("north/queue-long/sales", a) && a.acked; }, 10s));
  CHECK(a.acked_by == "alice");
  CHECK(a.ack_comment == "on it");
  REQUIRE(board.alert("south/queue-long/sales", a));
  CHECK_FALSE(a.acked);
  // At the owning daemon itself, under its own name.
  bool acked_at_north = false;
  for (const auto& al : daemon_state(ctx, north).alerts) {
    acked_at_north |= al.id == "queue-long/sales" && al.acked && al.acked_by == "alice";
  }
  CHECK(acked_at_north);
  // The day's alert history through the relay: both sites' days in one list, names qualified.
  // Each site fired queue-long/sales once (inactive -> firing, or via pending), and north has the
  // ack as a transition of its own ("acknowledged by alice: on it").
  {
    const auto h = ask(ctx, rel.control_endpoint(), "alert_history");
    REQUIRE(h.type == wire::MessageType::reply);
    int north_firing = 0, south_firing = 0, north_acks = 0, other = 0;
    for (const auto& t : h.history) {
      const bool fired = t.to == m::AlertState::firing && t.from != m::AlertState::firing;
      if (t.id == "north/queue-long/sales" && fired) ++north_firing;
      else if (t.id == "south/queue-long/sales" && fired) ++south_firing;
      else if (t.id == "north/queue-long/sales" && t.message.find("acknowledged by alice: on it") != std::string::npos) ++north_acks;
      else if (t.id.rfind("north/", 0) != 0 && t.id.rfind("south/", 0) != 0) ++other;
    }
    CHECK(north_firing == 1);
    CHECK(south_firing == 1);
    CHECK(north_acks == 1);
    CHECK(other == 0);
    CHECK(std::is_sorted(h.history.begin(), h.history.end(), [](const auto& a, const auto& b) { return a.at < b.at; }));
  }

  const auto st = rel.stats();
  CHECK(st.acks_forwarded == 1);  // the kiosk's and the unknown one never left the relay
  CHECK(st.acks_accepted == 1);

  // One site stops: the relay stops its heartbeats, so the board goes stale as it would beside a
  // silent daemon, with the last values kept.
  CHECK(south.stop() == 0);
  REQUIRE(wait_for([&] { return !rel.stats().live; }, 10s));
  const bool stale = wait_for([&] { return vm::link_state(board.store.copy()[0], clock.now()) == vm::LinkState::stale; }, 10s);
  const auto f = board.store.copy()[0];
  INFO("link " << static_cast<int>(vm::link_state(f, clock.now())) << " last message " << clock.now() - f.last_message_at
       << " s ago; heartbeats held " << rel.stats().publisher.heartbeats_held << " sent " << rel.stats().publisher.heartbeats << "; deltas " << rel.stats().publisher.deltas
       << " merges " << rel.stats().merges << "; board snapshots " << board.sub.stats().snapshots << " deltas "
       << board.sub.stats().deltas << " resyncs " << board.sub.stats().resyncs);
  REQUIRE(stale);
  CHECK(board.waiting("south/sales") == 1);
  rel.stop();
  CHECK(north.stop() == 0);
}

namespace {

// `callwatchd relay` as a process, its output in a file.
struct RelayProcess {
  RelayProcess(const std::vector<std::string>& args, const std::filesystem::path& log) : log_path(log) {
    std::vector<std::string> argv_s{std::string(CALLWATCH_BIN_DIR) + "/callwatchd", "relay"};
    argv_s.insert(argv_s.end(), args.begin(), args.end());
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    if (posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ) != 0) throw std::runtime_error("spawn relay");
    posix_spawn_file_actions_destroy(&fa);
  }
  ~RelayProcess() {
    ::kill(pid, SIGTERM);
    int st = 0;
    ::waitpid(pid, &st, 0);
  }
  std::string log() const {
    std::ifstream in(log_path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  pid_t pid = -1;
  std::filesystem::path log_path;
};

}  // namespace

TEST_CASE("a relay holds its own boards to their keys: a scoped key sees its queues only, a kiosk key never acks",
          "[integration][relay][scope][curve]") {
  Site site(kQueues + kRule);
  site.write_config(kQueues + kRule, false);
  site.start();
  // Keys of the relay's own sockets: its server key, bob (supervisor, scoped to sales), floor (kiosk).
  const auto keys = site.dir / "keys";
  std::filesystem::create_directory(keys);
  const std::string keygen = std::string(CALLWATCH_BIN_DIR) + "/callwatchd keygen --out '" + keys.string() + "'";
  for (const char* n : {"server", "bob", "floor"}) REQUIRE(run(keygen + " --name " + n + " > /dev/null") == 0);
  const auto cfg = site.dir / "relay.toml";
  std::ofstream(cfg) << kQueues << "[security]\nkeys_dir = \"" << keys.string() << "\"\nserver_key = \"server\"\n"
                     << "[[security.client]]\nname = \"bob\"\nrole = \"supervisor\"\n"
                     << "[[security.client]]\nname = \"floor\"\nrole = \"kiosk\"\n"
                     << "[[security.scope]]\nname = \"sales-team\"\nclients = [\"bob\"]\nqueues = [\"sales\"]\n";
  const int rpub = free_port_below_ephemeral(), rctl = free_port_below_ephemeral();
  const std::string pub = "tcp://127.0.0.1:" + std::to_string(rpub), ctl = "tcp://127.0.0.1:" + std::to_string(rctl);
  RelayProcess relay({"--upstream", site.publish_endpoint(), "--upstream-control", site.control_endpoint(), "--publish",
                      pub, "--control", ctl, "--config", cfg.string()},
                     site.dir / "relay.log");
  REQUIRE(wait_for([&] { return relay.log().find("ready: boards on") != std::string::npos; }, 10s));

  zmq::context_t ctx(1);
  callwatch::wallboard::app::SystemClock clock;
  auto board_with = [&](const char* key) {
    SubscriberOptions o = board_options();
    o.curve_client = *callwatch::protocol::load_curve_secret((keys / (std::string(key) + ".key")).string());
    o.curve_server_public = *callwatch::protocol::load_curve_public((keys / "server.pub").string());
    vm::SiteFeed f;
    f.endpoint = pub;
    auto store = std::make_unique<FeedStore>(std::vector<vm::SiteFeed>{f});
    auto sub = std::make_unique<Subscriber>(ctx, *store, 0, SiteEndpoints{pub, ctl}, clock, o);
    sub->start();
    return std::make_pair(std::move(store), std::move(sub));
  };
  auto [bob_store, bob] = board_with("bob");
  auto [floor_store, floor_sub] = board_with("floor");

  // One call waits in each queue: queue-long fires for sales and for support.
  event(ctx, site, "call_enqueued", "s1", "sales");
  event(ctx, site, "call_enqueued", "t1", "support");
  auto firing = [](const FeedStore& st, const std::string& id) {
    const auto f = st.copy()[0];
    if (!f.state) return false;
    for (const auto& a : f.state->alerts) {
      if (a.id == id && a.state == m::AlertState::firing) return true;
    }
    return false;
  };
  REQUIRE(wait_for([&] { return firing(*floor_store, "queue-long/sales") && firing(*floor_store, "queue-long/support"); }, 15s));
  REQUIRE(wait_for([&] { return firing(*bob_store, "queue-long/sales"); }, 10s));

  // bob's board: sales only, and only sales' alert.
  const auto bob_state = bob_store->copy()[0].state;
  REQUIRE(bob_state);
  REQUIRE(bob_state->queues.size() == 1);
  CHECK(bob_state->queues[0].name == "sales");
  CHECK(bob_state->queues[0].calls_waiting == 1);
  for (const auto& a : bob_state->alerts) CHECK(a.queue == "sales");
  // The kiosk sees both queues.
  CHECK(floor_store->copy()[0].state->queues.size() == 2);

  auto reply_to = [&](FeedStore& st, Subscriber& sub, const std::string& id) {
    sub.send_ack(id, wire::encode_ack_request(id, "", "", "supervisor"));
    vm::AckReply r;
    wait_for([&] {
      const auto f = st.copy()[0];
      const auto it = f.ack_replies.find(id);
      if (it == f.ack_replies.end() || it->second.kind == vm::AckReply::Kind::sending) return false;
      r = it->second;
      return true;
    }, 10s);
    return r;
  };
  // The kiosk key claims to be a supervisor: the relay goes by the key.
  const auto k = reply_to(*floor_store, *floor_sub, "queue-long/sales");
  CHECK(k.kind == vm::AckReply::Kind::refused);
  CHECK_THAT(k.reason, Catch::Contains("read-only"));
  // bob may not ack support's alert, may ack sales'; the ack reaches the daemon under bob's key name.
  const auto other = reply_to(*bob_store, *bob, "queue-long/support");
  CHECK(other.kind == vm::AckReply::Kind::refused);
  CHECK_THAT(other.reason, Catch::Contains("not of your queues"));
  const auto own = reply_to(*bob_store, *bob, "queue-long/sales");
  INFO(own.reason << "\n" << relay.log());
  CHECK(own.kind == vm::AckReply::Kind::accepted);
  // Accepted = queued for the engine, which applies it at its next step.
  CHECK(wait_for([&] {
    for (const auto& a : daemon_state(ctx, site).alerts) {
      if (a.id == "queue-long/sales" && a.acked && a.acked_by == "bob") return true;
    }
    return false;
  }, 5s));
  bob->stop();
  floor_sub->stop();
  CHECK(site.stop() == 0);
}
