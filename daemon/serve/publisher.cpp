// One thread owns the XPUB and ROUTER sockets and "published", the state every subscriber holds
// once it applied all deltas; snapshot replies come from it, so a reply at seq N plus deltas
// N+1.. always rebuild the same state. A second thread only turns SnapshotHub's condition
// variable into a ZeroMQ message, so the socket thread sleeps in one zmq::poll for everything.
#include "serve/publisher.hpp"

#include <array>
#include <atomic>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>
#include <zmq_addon.hpp>

#include "runtime/logging.hpp"
#include "serve/security.hpp"

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
      reply(frames, wire::encode_snapshot(published, envelope()));
      std::lock_guard lock(stats_mu);
      ++stats.snapshots_served;
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
      const auto h = opts.alerts->history();
      reply(frames, wire::encode_alert_history(*h, opts.alerts->history_since(), envelope()));
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
  if (m.opts.secure_socket) m.opts.secure_socket(m.router, "control");
  m.router.bind(m.opts.control_endpoint);
  m.bound_control = m.router.get(zmq::sockopt::last_endpoint);
  m.kick_pull = zmq::socket_t(m.ctx, zmq::socket_type::pull);
  m.kick_pull.set(zmq::sockopt::rcvhwm, 16);
  m.kick_pull.bind(m.kick_endpoint);
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
  m.xpub.close();
  m.router.close();
  m.kick_pull.close();
}

std::string Publisher::publish_endpoint() const { return impl_->bound_publish; }
std::string Publisher::control_endpoint() const { return impl_->bound_control; }

PublisherStats Publisher::stats() const {
  std::lock_guard lock(impl_->stats_mu);
  return impl_->stats;
}

}  // namespace callwatch::daemon
