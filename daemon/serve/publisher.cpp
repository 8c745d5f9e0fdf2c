// One thread owns the XPUB and ROUTER sockets and "published", the state every subscriber holds
// once it applied all deltas; snapshot replies come from it, so a reply at seq N plus deltas
// N+1.. always rebuild the same state. A second thread only turns SnapshotHub's condition
// variable into a ZeroMQ message, so the socket thread sleeps in one zmq::poll for everything.
// Snapshots are encoded on a third thread (serve/snapshot_encoder), once per sequence number for
// every client that asks at it, and go out as one shared buffer (serve/reply_ledger): a client
// that asks again before reading its reply is coalesced into it, and the bytes held for clients
// that do not read are bounded.
#include "serve/publisher.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <zmq_addon.hpp>

#include "runtime/log_limiter.hpp"
#include "runtime/logging.hpp"
#include "serve/reply_ledger.hpp"
#include "serve/security.hpp"
#include "serve/snapshot_encoder.hpp"

namespace callwatch::daemon {

namespace wire = metrics::wire;
using Clock = std::chrono::steady_clock;

namespace {

std::shared_ptr<spdlog::logger> log() { return component_logger("publisher"); }

std::uint64_t new_stream_id() {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  // Kept below 2^53 so JavaScript readers (Grafana plugins, a browser board) read it exactly.
  return (v & ((std::uint64_t{1} << 53) - 1)) | 1;
}

constexpr std::string_view kTopicDelta = "delta";
constexpr std::string_view kTopicHeartbeat = "heartbeat";
constexpr char kKick = 'k';
constexpr char kStop = 's';
constexpr char kEncoded = 'e';

// Every frame of a request before its body: where the reply goes.
std::vector<zmq::message_t> route_of(std::vector<zmq::message_t>& frames) {
  std::vector<zmq::message_t> route;
  for (std::size_t i = 0; i + 1 < frames.size(); ++i) route.push_back(std::move(frames[i]));
  return route;
}

}  // namespace

struct Publisher::Impl {
  zmq::context_t& ctx;
  SnapshotHub& hub;
  PublisherOptions opts;
  std::string kick_endpoint;
  std::uint64_t stream = new_stream_id();

  zmq::socket_t xpub;
  zmq::socket_t router;
  zmq::socket_t kick_pull;
  std::string bound_publish, bound_control;

  std::thread worker, watcher;
  std::atomic<bool> running{false};

  mutable std::mutex stats_mu;
  PublisherStats stats;

  // Owned by the worker thread.
  metrics::Snapshot published;
  std::uint64_t seq = 0;
  SnapshotHub::Ptr last_seen;
  bool pending = false;
  Clock::time_point last_delta{};
  Clock::time_point next_heartbeat{};

  // Snapshot replies (worker thread). A client asking while its seq is being encoded waits here;
  // `asked_at` is the seq it asked at, so a body of that seq or later answers it.
  struct Waiter {
    std::vector<zmq::message_t> route;
    std::string client;  // routing id
    std::uint64_t asked_at = 0;
  };
  std::shared_ptr<ReplyLedger> ledger = std::make_shared<ReplyLedger>();
  std::unique_ptr<SnapshotEncoder> encoder;
  zmq::socket_t encoder_kick;  // used on the encoder's thread only
  ReplyLedger::BodyPtr snapshot_body;
  std::size_t last_snapshot_size = 0;
  std::vector<Waiter> waiters;
  LogLimiter busy_log{1};

  Impl(zmq::context_t& c, SnapshotHub& h, PublisherOptions o)
      : ctx(c), hub(h), opts(std::move(o)) {
    kick_endpoint = "inproc://callwatch-publisher-" + std::to_string(stream);
  }

  wire::Envelope envelope() const {
    return wire::Envelope{.seq = seq, .site = opts.site, .sent_at = opts.clock->now(), .stream = stream};
  }

  void publish(std::string_view topic, const std::string& body) {
    // No NODROP: a full subscriber pipe drops for that subscriber only and never blocks us.
    // dontwait anyway so that no socket state can ever stall the loop.
    (void)xpub.send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    (void)xpub.send(zmq::buffer(body), zmq::send_flags::dontwait);
    std::lock_guard lock(stats_mu);
    stats.bytes_published += topic.size() + body.size();
  }

  void send_heartbeat() {
    publish(kTopicHeartbeat, wire::encode_heartbeat(published.now, envelope()));
    std::lock_guard lock(stats_mu);
    ++stats.heartbeats;
  }

  // Diffs the hub's latest snapshot against what subscribers hold and sends the change.
  void process_latest() {
    pending = false;
    auto snap = hub.latest();
    if (!snap || snap == last_seen) return;
    last_seen = snap;
    wire::SnapshotDelta d = wire::diff(published, *snap, opts.diff);
    const bool changed = d.has_changes();
    if (changed) {
      ++seq;
      publish(kTopicDelta, wire::encode_delta(d, envelope()));
      last_delta = Clock::now();
      std::lock_guard lock(stats_mu);
      ++stats.deltas;
      stats.seq = seq;
    }
    wire::apply(published, d);
  }

  void reply(std::vector<zmq::message_t>& frames, std::string body) {
    // Everything before the request body is the routing envelope (identity, and the empty
    // delimiter a REQ client adds); echo it back in front of the reply.
    frames.back().rebuild(body.data(), body.size());
    (void)zmq::send_multipart(router, frames, zmq::send_flags::dontwait);
  }

  void handle_request(std::vector<zmq::message_t>& frames) {
    if (frames.size() < 2) return;  // identity only: nothing to answer
    const std::string_view body = frames.back().to_string_view();
    std::string request;
    wire::Message msg;
    if (!body.empty() && body.front() == '{') {
      auto m = wire::decode(body);
      if (!m || m->type != wire::MessageType::request) {
        note_bad_request();
        reply(frames, wire::encode_error("", m ? "not a request" : "bad request: " + m.error(),
                                         envelope()));
        return;
      }
      if (!m->compatible()) {
        note_bad_request();
        reply(frames, wire::encode_error(m->request,
                                         "protocol " + wire::to_string(m->proto) +
                                             " not supported; this daemon speaks " +
                                             wire::to_string(wire::ProtocolVersion{}),
                                         envelope()));
        return;
      }
      request = m->request;
      msg = std::move(*m);
    } else {
      request = std::string(body);  // plain-word requests ("snapshot") for shell tools
    }
    if (request == "snapshot") {
      request_snapshot(frames);
    } else if (request == "ack" || request == "alert_history") {
      handle_alert_request(frames, request, msg);
    } else {
      note_bad_request();
      reply(frames, wire::encode_error(request, "unknown request", envelope()));
    }
  }

  // Acks are checked against what the boards hold (`published`), then queued for the engine,
  // which owns alert state; the ack reaches every board in the next delta.
  void handle_alert_request(std::vector<zmq::message_t>& frames, const std::string& request,
                            const wire::Message& m) {
    if (!opts.alerts) {
      reply(frames, wire::encode_error(request, "this daemon runs no alert rules", envelope()));
      return;
    }
    if (request == "alert_history") {
      const std::string client = frames.front().to_string();
      if (ledger->outstanding(client) > 0) {
        reply(frames, wire::encode_error(request, "busy: the previous reply to you is still unread", envelope()));
        return;
      }
      const auto h = opts.alerts->history();
      std::string body = wire::encode_alert_history(*h, opts.alerts->history_since(), envelope());
      if (over_budget(body.size())) {
        reply(frames, wire::encode_error(request, busy_text(), envelope()));
        return;
      }
      send_shared(route_of(frames), client, ledger->make_body(std::move(body)));
      return;
    }
    std::string role = m.role;
    std::string who = m.who;
    if (opts.roles_from_keys) {
      // The key decides (ZAP user id "role:name"); a kiosk cannot claim to be a supervisor.
      const std::string user = peer_user_id(frames.back());
      role = std::string(role_of_user_id(user));
      if (who.empty()) who = user.substr(role.size() + (role.empty() ? 0 : 1));
    }
    auto ok = opts.alerts->submit_ack(
        AckRequest{.alert_id = m.alert_id, .who = who, .comment = m.comment, .role = role, .at = opts.clock->now()},
        published);
    if (!ok) {
      reply(frames, wire::encode_error("ack", ok.error(), envelope()));
      return;
    }
    reply(frames, wire::encode_reply("ack", m.alert_id, envelope()));
  }

  // ---- snapshots ------------------------------------------------------------------------------

  void send_shared(std::vector<zmq::message_t> route, const std::string& client,
                   const ReplyLedger::BodyPtr& body) {
    route.push_back(ledger->message(body, client));
    (void)zmq::send_multipart(router, route, zmq::send_flags::dontwait);
  }

  // True when a new body of `size` bytes would join replies already held past the budget. With
  // nothing held, one body always goes out, however large.
  bool over_budget(std::size_t size) const {
    const std::uint64_t held = ledger->queued_bytes();
    return held > 0 && held + size > opts.max_queued_reply_bytes;
  }

  std::string busy_text() const {
    return fmt::format("busy: {} bytes of replies wait for clients that do not read them; ask again later",
                       ledger->queued_bytes());
  }

  void count(std::uint64_t PublisherStats::*field, std::uint64_t n = 1) {
    std::lock_guard lock(stats_mu);
    stats.*field += n;
  }

  void request_snapshot(std::vector<zmq::message_t>& frames) {
    const std::string client = frames.front().to_string();
    const bool waiting = std::any_of(waiters.begin(), waiters.end(), [&](const Waiter& w) { return w.client == client; });
    if (waiting || ledger->outstanding(client) > 0) {
      // Its earlier reply is on its way (or being encoded): that one answers this request too.
      count(&PublisherStats::snapshots_coalesced);
      return;
    }
    if (snapshot_body && snapshot_body->seq == seq) {
      send_shared(route_of(frames), client, snapshot_body);
      count(&PublisherStats::snapshots_served);
      return;
    }
    waiters.push_back(Waiter{route_of(frames), client, seq});
    encode_if_needed();
  }

  // Starts an encode for the waiters, or refuses them while too much is held for non-readers.
  void encode_if_needed() {
    if (waiters.empty() || !encoder->idle()) return;
    if (snapshot_body && snapshot_body->seq == seq) {
      serve_waiters();
      return;
    }
    snapshot_body.reset();  // stale: clients still reading it keep their copy alive
    if (over_budget(last_snapshot_size)) {
      const std::string text = busy_text();
      if (busy_log.allow(Clock::now())) log()->warn("snapshot requests refused: {}", text);
      for (auto& w : waiters) {
        w.route.emplace_back(wire::encode_error("snapshot", text, envelope()));
        (void)zmq::send_multipart(router, w.route, zmq::send_flags::dontwait);
      }
      count(&PublisherStats::snapshots_refused, waiters.size());
      waiters.clear();
      return;
    }
    encoder->submit(std::make_shared<const metrics::Snapshot>(published), envelope());
    count(&PublisherStats::snapshot_encodes);
  }

  void serve_waiters() {
    std::vector<Waiter> later;
    std::uint64_t served = 0;
    for (auto& w : waiters) {
      if (w.asked_at <= snapshot_body->seq) {
        send_shared(std::move(w.route), w.client, snapshot_body);
        ++served;
      } else {
        later.push_back(std::move(w));  // asked after the state was copied: needs a newer one
      }
    }
    waiters = std::move(later);
    count(&PublisherStats::snapshots_served, served);
  }

  void collect_encoded() {
    auto done = encoder->take();
    if (!done) return;
    last_snapshot_size = done->json.size();
    snapshot_body = ledger->make_body(std::move(done->json), done->seq);
    serve_waiters();
    encode_if_needed();
  }

  void wake_from_encoder() {
    (void)encoder_kick.send(zmq::buffer(&kEncoded, 1), zmq::send_flags::dontwait);
  }

  void note_bad_request() {
    std::lock_guard lock(stats_mu);
    ++stats.bad_requests;
  }

  void drain_router() {
    for (int i = 0; i < 64; ++i) {  // bounded so a request flood cannot starve deltas
      std::vector<zmq::message_t> frames;
      auto r = zmq::recv_multipart(router, std::back_inserter(frames), zmq::recv_flags::dontwait);
      if (!r) return;
      handle_request(frames);
    }
  }

  void drain_subscriptions() {
    bool subscribed = false;
    for (;;) {
      zmq::message_t m;
      auto r = xpub.recv(m, zmq::recv_flags::dontwait);
      if (!r) break;
      if (m.size() > 0 && static_cast<const char*>(m.data())[0] == 1) subscribed = true;
    }
    if (subscribed) {
      // A new subscriber learns the current seq at once and knows its subscription is live
      // before it asks for a snapshot.
      send_heartbeat();
      std::lock_guard lock(stats_mu);
      ++stats.subscriptions;
    }
  }

  bool drain_kicks() {
    bool stop = false;
    for (;;) {
      zmq::message_t m;
      auto r = kick_pull.recv(m, zmq::recv_flags::dontwait);
      if (!r) break;
      if (m.size() > 0 && static_cast<const char*>(m.data())[0] == kStop) stop = true;
      pending = true;
    }
    return stop;
  }

  void run() {
    next_heartbeat = Clock::now() + opts.heartbeat_interval;
    pending = true;  // the hub may already hold a snapshot
    for (;;) {
      auto now = Clock::now();
      auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(next_heartbeat - now);
      if (pending) {
        auto due = std::chrono::duration_cast<std::chrono::milliseconds>(
            last_delta + opts.batch_interval - now);
        timeout = std::min(timeout, due);
      }
      timeout = std::max(timeout, std::chrono::milliseconds(0));
      std::array<zmq::pollitem_t, 3> items{{
          {router.handle(), 0, ZMQ_POLLIN, 0},
          {xpub.handle(), 0, ZMQ_POLLIN, 0},
          {kick_pull.handle(), 0, ZMQ_POLLIN, 0},
      }};
      zmq::poll(items.data(), items.size(), timeout);
      if ((items[2].revents & ZMQ_POLLIN) != 0 && drain_kicks()) break;
      collect_encoded();
      if ((items[1].revents & ZMQ_POLLIN) != 0) drain_subscriptions();
      now = Clock::now();
      if (pending && now >= last_delta + opts.batch_interval) process_latest();
      if ((items[0].revents & ZMQ_POLLIN) != 0) drain_router();
      if (now >= next_heartbeat) {
        send_heartbeat();
        next_heartbeat = now + opts.heartbeat_interval;
      }
    }
  }

  void watch() {
    zmq::socket_t push(ctx, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 0);
    push.connect(kick_endpoint);
    std::uint64_t gen = 0;
    while (running.load()) {
      if (hub.wait_newer(gen, std::chrono::milliseconds(100))) {
        // A full kick queue already means "look at the hub": dropping this one loses nothing.
        (void)push.send(zmq::buffer(&kKick, 1), zmq::send_flags::dontwait);
      }
    }
  }
};

Publisher::Publisher(zmq::context_t& ctx, SnapshotHub& hub, PublisherOptions opts)
    : impl_(std::make_unique<Impl>(ctx, hub, std::move(opts))) {}

Publisher::~Publisher() { stop(); }

void Publisher::start() {
  Impl& m = *impl_;
  if (m.running.load()) return;
  m.xpub = zmq::socket_t(m.ctx, zmq::socket_type::xpub);
  m.xpub.set(zmq::sockopt::sndhwm, m.opts.send_high_water_mark);
  m.xpub.set(zmq::sockopt::linger, 0);
  if (m.opts.secure_socket) m.opts.secure_socket(m.xpub, "publish");
  m.xpub.bind(m.opts.publish_endpoint);
  m.bound_publish = m.xpub.get(zmq::sockopt::last_endpoint);
  m.router = zmq::socket_t(m.ctx, zmq::socket_type::router);
  m.router.set(zmq::sockopt::linger, 0);
  m.router.set(zmq::sockopt::sndhwm, 100);
  // Requests are a few hundred bytes (an ack's comment is capped at 280); a peer sending more is
  // cut off by libzmq before the message takes memory.
  m.router.set(zmq::sockopt::maxmsgsize, std::int64_t{64} * 1024);
  if (m.opts.secure_socket) m.opts.secure_socket(m.router, "control");
  m.router.bind(m.opts.control_endpoint);
  m.bound_control = m.router.get(zmq::sockopt::last_endpoint);
  m.kick_pull = zmq::socket_t(m.ctx, zmq::socket_type::pull);
  m.kick_pull.set(zmq::sockopt::rcvhwm, 16);
  m.kick_pull.bind(m.kick_endpoint);
  m.encoder_kick = zmq::socket_t(m.ctx, zmq::socket_type::push);
  m.encoder_kick.set(zmq::sockopt::linger, 0);
  m.encoder_kick.connect(m.kick_endpoint);
  m.encoder = std::make_unique<SnapshotEncoder>([&m] { m.wake_from_encoder(); });
  m.running = true;
  m.worker = std::thread([&m] { m.run(); });
  m.watcher = std::thread([&m] { m.watch(); });
  log()->info("wallboard protocol {}: deltas on {}, snapshots on {}",
              wire::to_string(wire::ProtocolVersion{}), m.bound_publish, m.bound_control);
}

void Publisher::stop() {
  Impl& m = *impl_;
  if (!m.running.exchange(false)) return;
  {
    zmq::socket_t push(m.ctx, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 1000);
    push.connect(m.kick_endpoint);
    (void)push.send(zmq::buffer(&kStop, 1), zmq::send_flags::none);
  }
  m.worker.join();
  m.watcher.join();
  m.encoder.reset();  // finishes a running encode first
  m.encoder_kick.close();
  m.waiters.clear();
  m.snapshot_body.reset();
  m.xpub.close();
  m.router.close();
  m.kick_pull.close();
}

std::string Publisher::publish_endpoint() const { return impl_->bound_publish; }
std::string Publisher::control_endpoint() const { return impl_->bound_control; }

PublisherStats Publisher::stats() const {
  PublisherStats s;
  {
    std::lock_guard lock(impl_->stats_mu);
    s = impl_->stats;
  }
  s.queued_reply_bytes = impl_->ledger->queued_bytes();
  return s;
}

}  // namespace callwatch::daemon
