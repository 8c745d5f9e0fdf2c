#include "subscriber.hpp"

#include <array>
#include <cstring>
#include <deque>
#include <mutex>

#include <spdlog/spdlog.h>
#include <zmq_addon.hpp>

#include "site_session.hpp"

namespace callwatch::wallboard::app {

using SteadyClock = std::chrono::steady_clock;

namespace {

std::atomic<std::uint64_t> g_monitor_counter{0};

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
  std::deque<std::string> control_outbox;                  // broadcast / withdraw bodies
  std::string history_ask;  // agent_history request body waiting to go; "" when none

  std::atomic<bool> running{false};
  std::thread thread;
  ProtocolCounters counters;
  std::atomic<std::uint64_t> reconnects{0};

  Impl(zmq::context_t& c, FeedStore& s, std::size_t i, SiteEndpoints e, const metrics::Clock& cl,
       SubscriberOptions o)
      : ctx(c), store(s), index(i), ep(std::move(e)), clock(cl), opts(o) {}

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
    auto send_request = [&dealer](const std::string& body) {
      std::array<zmq::const_buffer, 2> frames{zmq::str_buffer(""), zmq::buffer(body)};
      return zmq::send_multipart(dealer, frames, zmq::send_flags::dontwait).has_value();
    };
    SiteSession proto(store, index, clock, ep.publish, counters,
                      [&send_request](const std::string& body) { (void)send_request(body); });
    auto send_acks = [&] {
      std::deque<std::pair<std::string, std::string>> out;
      std::deque<std::string> controls;
      std::string history;
      {
        std::lock_guard lock(outbox_mu);
        out.swap(outbox);
        controls.swap(control_outbox);
        history.swap(history_ask);
      }
      if (!history.empty()) (void)send_request(history);
      for (auto& body : controls) {
        if (!send_request(body)) {
          store.update(index, [](vm::SiteFeed& f) {
            f.broadcast_reply = vm::AckReply{vm::AckReply::Kind::refused, "control socket busy"};
          });
        }
      }
      for (auto& [alert, body] : out) {
        if (send_request(body)) {
          proto.ack_sent(alert);
        } else {
          store.update(index, [&alert](vm::SiteFeed& f) {
            f.ack_replies[alert] = {vm::AckReply::Kind::refused, "control socket busy"};
          });
        }
      }
    };

    proto.start();

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
          proto.set_connected(id == ZMQ_EVENT_CONNECTED);
        }
      }

      if ((items[0].revents & ZMQ_POLLIN) != 0) {
        for (int i = 0; i < 256; ++i) {
          std::vector<zmq::message_t> frames;
          if (!zmq::recv_multipart(sub, std::back_inserter(frames), zmq::recv_flags::dontwait)) {
            break;
          }
          if (frames.size() != 2) {  // topic and body
            ++counters.bad_messages;
            continue;
          }
          proto.on_message(frames[1].to_string_view());
        }
      }

      if ((items[1].revents & ZMQ_POLLIN) != 0) {
        for (;;) {
          std::vector<zmq::message_t> frames;
          if (!zmq::recv_multipart(dealer, std::back_inserter(frames),
                                   zmq::recv_flags::dontwait)) {
            break;
          }
          proto.on_message(frames.back().to_string_view());
        }
      }

      proto.flush();

      if (proto.snapshot_overdue(SteadyClock::now(), opts.snapshot_timeout)) {
        // No answer: the daemon is gone or hung. New sockets, after a backoff.
        store.update(index, [](vm::SiteFeed& f) { f.connected = false; });
        return proto.got_snapshot();
      }
    }
    return proto.got_snapshot();
  }

  void run() {
    auto backoff = opts.backoff_min;
    while (running.load()) {
      bool ok = false;
      try {
        ok = session();
      } catch (const zmq::error_t& e) {
        protocol_log()->error("{}: {}", ep.publish, e.what());
      }
      if (!running.load()) break;
      ++reconnects;
      if (ok) backoff = opts.backoff_min;
      protocol_log()->info("{}: no answer to snapshot request, reconnecting in {} ms", ep.control,
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

void Subscriber::send_control(std::string body) {
  impl_->store.update(impl_->index, [](vm::SiteFeed& f) {
    f.broadcast_reply = vm::AckReply{vm::AckReply::Kind::sending, {}};
  });
  std::lock_guard lock(impl_->outbox_mu);
  if (impl_->control_outbox.size() < 16) impl_->control_outbox.push_back(std::move(body));  // a person types these
}

void Subscriber::request_agent_history(const std::string& agent) {
  impl_->store.update(impl_->index, [&agent](vm::SiteFeed& f) {
    if (f.agent_history.agent != agent) {
      f.agent_history = vm::AgentHistory{};
      f.agent_history.agent = agent;
      f.agent_history.kind = vm::AgentHistory::Kind::loading;
    }
  });
  std::lock_guard lock(impl_->outbox_mu);
  impl_->history_ask = metrics::wire::encode_agent_history_request(agent);
}

SubscriberStats Subscriber::stats() const {
  const ProtocolCounters& c = impl_->counters;
  return SubscriberStats{.snapshots = c.snapshots.load(),
                         .deltas = c.deltas.load(),
                         .resyncs = c.resyncs.load(),
                         .reconnects = impl_->reconnects.load(),
                         .bad_messages = c.bad_messages.load()};
}

}  // namespace callwatch::wallboard::app
