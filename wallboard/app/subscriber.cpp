#include "subscriber.hpp"

#include <array>
#include <cstring>
#include <deque>
#include <mutex>

#include <spdlog/spdlog.h>
#include <zmq_addon.hpp>

#include "callwatch/metrics/snapshot_codec.hpp"

namespace callwatch::wallboard::app {

namespace wire = metrics::wire;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::shared_ptr<spdlog::logger> log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    if (auto l = spdlog::get("wallboard.subscriber")) return l;
    auto l = spdlog::default_logger()->clone("wallboard.subscriber");
    spdlog::register_logger(l);
    return l;
  }();
  return logger;
}

std::atomic<std::uint64_t> g_monitor_counter{0};

// Deltas that arrive while a snapshot is on its way; more than this and we simply ask again.
constexpr std::size_t kMaxBuffered = 2000;

}  // namespace

struct Subscriber::Impl {
  zmq::context_t& ctx;
  FeedStore& store;
  std::size_t index;
  SiteEndpoints ep;
  const metrics::Clock& clock;
  SubscriberOptions opts;

  std::mutex outbox_mu;
  std::deque<std::pair<std::string, std::string>> outbox;  // (alert id, ack request body)

  std::atomic<bool> running{false};
  std::thread thread;
  mutable std::mutex stats_mu;
  SubscriberStats stats;

  Impl(zmq::context_t& c, FeedStore& s, std::size_t i, SiteEndpoints e, const metrics::Clock& cl,
       SubscriberOptions o)
      : ctx(c), store(s), index(i), ep(std::move(e)), clock(cl), opts(o) {}

  template <typename F>
  void count(F&& f) {
    std::lock_guard lock(stats_mu);
    f(stats);
  }

  // One connection's life: returns when the daemon stopped answering (reconnect) or on stop.
  // Returns true when it got at least one snapshot (the backoff then starts over).
  bool session() {
    zmq::socket_t sub(ctx, zmq::socket_type::sub);
    sub.set(zmq::sockopt::linger, 0);
    sub.set(zmq::sockopt::rcvhwm, opts.receive_high_water_mark);
    // ZeroMQ's own reconnect, with its own exponential backoff up to 5 s.
    sub.set(zmq::sockopt::reconnect_ivl, 250);
    sub.set(zmq::sockopt::reconnect_ivl_max, 5000);
    sub.set(zmq::sockopt::subscribe, "");
    if (opts.curve_client) protocol::apply_curve_client(sub, *opts.curve_client, opts.curve_server_public);
    const std::string mon_ep = "inproc://callwatch-wb-monitor-" +
                               std::to_string(g_monitor_counter.fetch_add(1));
    if (zmq_socket_monitor(sub.handle(), mon_ep.c_str(),
                           ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED) != 0) {
      throw zmq::error_t();
    }
    zmq::socket_t mon(ctx, zmq::socket_type::pair);
    mon.set(zmq::sockopt::linger, 0);
    mon.connect(mon_ep);
    sub.connect(ep.publish);

    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    if (opts.curve_client) {
      protocol::apply_curve_client(dealer, *opts.curve_client, opts.curve_server_public);
    }
    dealer.connect(ep.control);
    // Acks sent on this connection, oldest first: the ROUTER answers in order, and an error reply
    // does not name the alert.
    std::deque<std::string> acks_in_flight;
    auto send_acks = [&] {
      std::deque<std::pair<std::string, std::string>> out;
      {
        std::lock_guard lock(outbox_mu);
        out.swap(outbox);
      }
      for (auto& [alert, body] : out) {
        std::array<zmq::const_buffer, 2> frames{zmq::str_buffer(""), zmq::buffer(body)};
        if (zmq::send_multipart(dealer, frames, zmq::send_flags::dontwait)) {
          acks_in_flight.push_back(alert);
        } else {
          store.update(index, [&alert](vm::SiteFeed& f) {
            f.ack_replies[alert] = {vm::AckReply::Kind::refused, "control socket busy"};
          });
        }
      }
    };

    metrics::Snapshot state;
    bool have_state = false;
    std::uint64_t seq = 0, stream = 0;
    bool requested = false;
    auto requested_at = SteadyClock::now();
    std::deque<wire::Message> buffered;
    bool got_snapshot = false;

    auto request_snapshot = [&] {
      if (requested) return;
      const std::string body = wire::encode_request("snapshot");
      std::array<zmq::const_buffer, 2> frames{zmq::str_buffer(""), zmq::buffer(body)};
      (void)zmq::send_multipart(dealer, frames, zmq::send_flags::dontwait);
      requested = true;
      requested_at = SteadyClock::now();
    };
    auto resync = [&](const char* why) {
      if (requested) return;
      log()->info("{}: resync ({})", ep.publish, why);
      count([](SubscriberStats& s) { ++s.resyncs; });
      store.update(index, [](vm::SiteFeed& f) { ++f.resyncs; });
      buffered.clear();
      request_snapshot();
    };
    auto publish_state = [&](double engine_now) {
      auto snap = std::make_shared<const metrics::Snapshot>(state);
      const double now = clock.now();
      store.update(index, [&](vm::SiteFeed& f) {
        f.state = std::move(snap);
        f.seq = seq;
        f.last_message_at = now;
        f.engine_now = engine_now;
        f.connected = true;
        f.newer_protocol.reset();
      });
    };
    // Every message refreshes "last heard". It wakes the screen only when that changes what is
    // shown (the link comes back, a stale banner goes, the site gets its name); otherwise the
    // next whole-second redraw picks it up, so heartbeats cost no extra frames.
    auto touch = [&](const wire::Message& m) {
      const double now = clock.now();
      bool wake = false;
      store.update_quiet(index, [&](vm::SiteFeed& f) {
        wake = !f.connected || (!m.site.empty() && f.site != m.site) ||
               !(now - f.last_message_at <= vm::kStaleAfterSeconds);
      });
      auto set = [&](vm::SiteFeed& f) {
        f.last_message_at = now;
        if (m.now > 0) f.engine_now = m.now;
        if (!m.site.empty()) f.site = m.site;
        f.connected = true;
      };
      if (wake) {
        store.update(index, set);
      } else {
        store.update_quiet(index, set);
      }
    };
    // Applies one delta in order; false when it does not follow (the caller resyncs).
    auto apply_delta = [&](const wire::Message& m) {
      if (m.stream != stream) return false;
      if (m.seq <= seq) return true;  // already in the snapshot
      if (m.seq != seq + 1) return false;
      wire::apply(state, m.delta);
      seq = m.seq;
      count([](SubscriberStats& s) { ++s.deltas; });
      return true;
    };

    // Ask at once; a subscription that is not live yet only costs a gap and a second request.
    request_snapshot();

    while (running.load()) {
      send_acks();
      std::array<zmq::pollitem_t, 3> items{{
          {sub.handle(), 0, ZMQ_POLLIN, 0},
          {dealer.handle(), 0, ZMQ_POLLIN, 0},
          {mon.handle(), 0, ZMQ_POLLIN, 0},
      }};
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(100));

      if ((items[2].revents & ZMQ_POLLIN) != 0) {
        for (;;) {
          std::vector<zmq::message_t> ev;
          if (!zmq::recv_multipart(mon, std::back_inserter(ev), zmq::recv_flags::dontwait)) break;
          if (ev.empty() || ev[0].size() < 2) continue;
          std::uint16_t id = 0;
          std::memcpy(&id, ev[0].data(), sizeof id);
          const bool up = id == ZMQ_EVENT_CONNECTED;
          store.update(index, [up](vm::SiteFeed& f) { f.connected = up; });
          if (!up) log()->warn("{}: disconnected", ep.publish);
        }
      }

      bool changed = false;
      double engine_now = 0;
      if ((items[0].revents & ZMQ_POLLIN) != 0) {
        for (int i = 0; i < 256; ++i) {
          std::vector<zmq::message_t> frames;
          if (!zmq::recv_multipart(sub, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
            break;
          }
          if (frames.size() != 2) {
            count([](SubscriberStats& s) { ++s.bad_messages; });
            continue;
          }
          auto m = wire::decode(frames[1].to_string_view());
          if (!m) {
            count([](SubscriberStats& s) { ++s.bad_messages; });
            log()->warn("{}: bad message: {}", ep.publish, m.error());
            continue;
          }
          if (!m->compatible()) {
            const auto v = m->proto;
            store.update(index, [v](vm::SiteFeed& f) { f.newer_protocol = v; });
            continue;
          }
          touch(*m);
          if (m->type == wire::MessageType::delta) {
            if (!have_state || requested) {
              if (buffered.size() >= kMaxBuffered) buffered.pop_front();
              buffered.push_back(std::move(*m));
              continue;
            }
            if (!apply_delta(*m)) {
              resync(m->stream != stream ? "new stream" : "sequence gap");
              continue;
            }
            changed = true;
            engine_now = m->delta.now;
          } else if (m->type == wire::MessageType::heartbeat && have_state && !requested) {
            if (m->stream != stream) {
              resync("new stream");
            } else if (m->seq > seq) {
              resync("heartbeat ahead of us");  // the delta(s) before it were lost
            }
          }
        }
      }

      if ((items[1].revents & ZMQ_POLLIN) != 0) {
        for (;;) {
          std::vector<zmq::message_t> frames;
          if (!zmq::recv_multipart(dealer, std::back_inserter(frames),
                                   zmq::recv_flags::dontwait)) {
            break;
          }
          auto m = wire::decode(frames.back().to_string_view());
          if (!m) {
            count([](SubscriberStats& s) { ++s.bad_messages; });
            continue;
          }
          if (!m->compatible()) {
            const auto v = m->proto;
            store.update(index, [v](vm::SiteFeed& f) { f.newer_protocol = v; });
            requested = false;
            continue;
          }
          if (m->request == "ack" && (m->type == wire::MessageType::reply ||
                                      m->type == wire::MessageType::error)) {
            std::string alert = m->alert_id;
            if (!acks_in_flight.empty()) {
              if (alert.empty()) alert = acks_in_flight.front();
              acks_in_flight.pop_front();
            }
            vm::AckReply r;
            r.kind = m->type == wire::MessageType::reply ? vm::AckReply::Kind::accepted
                                                         : vm::AckReply::Kind::refused;
            r.reason = m->error;
            log()->info("{}: ack of {}: {}", ep.control, alert,
                        r.kind == vm::AckReply::Kind::accepted ? "accepted" : m->error);
            if (!alert.empty()) {
              store.update(index, [&](vm::SiteFeed& f) { f.ack_replies[alert] = r; });
            }
            continue;
          }
          if (m->type != wire::MessageType::snapshot) {
            log()->warn("{}: control answered {}: {}", ep.control, wire::to_string(m->type),
                        m->error);
            continue;
          }
          requested = false;
          got_snapshot = true;
          state = std::move(m->snapshot);
          seq = m->seq;
          stream = m->stream;
          have_state = true;
          count([](SubscriberStats& s) { ++s.snapshots; });
          if (!m->site.empty()) {
            store.update(index, [site = m->site](vm::SiteFeed& f) { f.site = site; });
          }
          // Deltas that raced the reply: those above its seq follow on, in order.
          bool ok = true;
          while (!buffered.empty()) {
            ok = apply_delta(buffered.front());
            buffered.pop_front();
            if (!ok) break;
          }
          changed = true;
          engine_now = state.now;
          if (!ok) resync("gap after snapshot");
        }
      }

      if (changed) publish_state(engine_now);

      if (requested && SteadyClock::now() - requested_at > opts.snapshot_timeout) {
        // No answer: the daemon is gone or hung. New sockets, after a backoff.
        store.update(index, [](vm::SiteFeed& f) { f.connected = false; });
        return got_snapshot;
      }
    }
    return got_snapshot;
  }

  void run() {
    auto backoff = opts.backoff_min;
    while (running.load()) {
      bool ok = false;
      try {
        ok = session();
      } catch (const zmq::error_t& e) {
        log()->error("{}: {}", ep.publish, e.what());
      }
      if (!running.load()) break;
      count([](SubscriberStats& s) { ++s.reconnects; });
      if (ok) backoff = opts.backoff_min;
      log()->info("{}: no answer to snapshot request, reconnecting in {} ms", ep.control,
                  backoff.count());
      const auto until = SteadyClock::now() + backoff;
      while (running.load() && SteadyClock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      backoff = std::min(backoff * 2, opts.backoff_max);
    }
  }
};

Subscriber::Subscriber(zmq::context_t& ctx, FeedStore& store, std::size_t index, SiteEndpoints ep,
                       const metrics::Clock& clock, SubscriberOptions opts)
    : impl_(std::make_unique<Impl>(ctx, store, index, std::move(ep), clock, opts)) {}

Subscriber::~Subscriber() { stop(); }

void Subscriber::start() {
  if (impl_->running.exchange(true)) return;
  impl_->thread = std::thread([this] { impl_->run(); });
}

void Subscriber::stop() {
  if (!impl_->running.exchange(false)) return;
  impl_->thread.join();
}

void Subscriber::send_ack(const std::string& alert_id, std::string body) {
  impl_->store.update(impl_->index, [&alert_id](vm::SiteFeed& f) {
    f.ack_replies[alert_id] = vm::AckReply{vm::AckReply::Kind::sending, {}};
  });
  std::lock_guard lock(impl_->outbox_mu);
  impl_->outbox.emplace_back(alert_id, std::move(body));
}

SubscriberStats Subscriber::stats() const {
  std::lock_guard lock(impl_->stats_mu);
  return impl_->stats;
}

}  // namespace callwatch::wallboard::app
