// The protocol client of one site over ZeroMQ, on its own thread: subscribe to deltas and ask for
// snapshots on the control socket (the protocol itself is app/site_session); a snapshot request
// left unanswered means reconnect, forever, with backoff.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "callwatch/metrics/clock.hpp"
#include "callwatch/protocol/keys.hpp"
#include "feed_store.hpp"
#include "options.hpp"

namespace callwatch::wallboard::app {


struct SubscriberOptions {
  std::chrono::milliseconds snapshot_timeout{2000};
  std::chrono::milliseconds backoff_min{250};
  std::chrono::milliseconds backoff_max{10000};
  int receive_high_water_mark = 10000;  // beyond it ZeroMQ drops and we resync
  // CURVE (--key, --server-key): on both the SUB and the control socket; none: plain TCP.
  std::optional<protocol::CurveKeyPair> curve_client;
  std::string curve_server_public;
};

struct SubscriberStats {
  std::uint64_t snapshots = 0;
  std::uint64_t deltas = 0;
  std::uint64_t resyncs = 0;
  std::uint64_t reconnects = 0;
  std::uint64_t bad_messages = 0;
};

class Subscriber {
 public:
  Subscriber(zmq::context_t& ctx, FeedStore& store, std::size_t index, SiteEndpoints ep,
             const metrics::Clock& clock, SubscriberOptions opts = {});
  ~Subscriber();
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  void start();
  void stop();
  SubscriberStats stats() const;
  // Queues an ack request (vm::plan_ack's body) for this site's control socket; the subscriber
  // thread sends it and records the daemon's reply in the site's SiteFeed::ack_replies.
  // Thread-safe; the caller has already refused it in kiosk mode.
  void send_ack(const std::string& alert_id, std::string body);
  // Queues a broadcast or withdraw request (vm::plan_broadcast / plan_withdraw); the daemon's
  // answer goes to SiteFeed::broadcast_reply. Thread-safe; refused in kiosk mode by the caller.
  void send_control(std::string body);
  // Asks for one agent's day (agent_history); the reply lands in SiteFeed::agent_history. Only
  // the latest ask is kept: a click on another agent replaces it. Thread-safe.
  void request_agent_history(const std::string& agent);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace callwatch::wallboard::app
