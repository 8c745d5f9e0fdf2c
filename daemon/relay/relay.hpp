// callwatchd relay (DESIGN.md "Added in the second round"): a wallboard-protocol client of one or
// more daemons that keeps their board state and serves it, snapshots and deltas, to many boards,
// so hundreds of screens cost the daemon one subscriber. Acks go on to the daemon that owns the
// alert and its answer comes back to the board that asked.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "callwatch/metrics/clock.hpp"
#include "callwatch/protocol/keys.hpp"
#include "serve/publisher.hpp"

namespace callwatch::daemon::relay {

struct Upstream {
  std::string publish;  // the daemon's XPUB (--upstream)
  std::string control;  // its ROUTER (--upstream-control)
};

struct RelayOptions {
  std::vector<Upstream> upstreams;
  // Served to the boards. Loopback by default, like the daemon's own ports.
  std::string publish_endpoint = "tcp://127.0.0.1:7712";
  std::string control_endpoint = "tcp://127.0.0.1:7713";
  // The envelopes' site name; empty: a single upstream's own name passes through, several are
  // served under the name "relay".
  std::string site;
  // CURVE towards the upstreams (--key, --server-key): the relay's key must be a supervisor key
  // at the daemon for acks to pass.
  std::optional<protocol::CurveKeyPair> upstream_key;
  std::string upstream_server_public;
  // At most one merged state per interval (the publisher batches deltas the same way).
  std::chrono::milliseconds merge_interval{100};
  // An ack passed on and not answered in this time is answered "no answer" to the board.
  std::chrono::milliseconds ack_timeout{5000};
  // Bounds: acks waiting for their daemon's answer; over it a new one is refused, counted.
  std::size_t max_pending_acks = 256;
  // Serving side: CURVE, roles, reply budget and batching, as the daemon's publisher.
  PublisherOptions serve;
  const metrics::Clock* clock = &system_clock();
};

struct RelayStats {
  std::uint64_t merges = 0;            // states handed to the publisher
  std::uint64_t acks_forwarded = 0;    // sent to the owning daemon
  std::uint64_t acks_accepted = 0;
  std::uint64_t acks_refused = 0;      // by the owning daemon
  std::uint64_t acks_unrouted = 0;     // no site owns the alert id, or the bound was full
  std::uint64_t acks_timed_out = 0;
  std::uint64_t requests_refused = 0;  // alert_history/agent_history over the bound of 64 waiting
  std::uint64_t upstream_resyncs = 0;  // summed over the upstream subscribers
  std::uint64_t upstream_reconnects = 0;
  bool live = false;                   // every upstream heard from within 3 s
  PublisherStats publisher;
};

class Relay {
 public:
  Relay(zmq::context_t& ctx, RelayOptions opts);
  ~Relay();  // stops
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Binds the serving endpoints (throws zmq::error_t when taken) and connects to the upstreams.
  void start();
  void stop();

  std::string publish_endpoint() const;
  std::string control_endpoint() const;
  RelayStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace callwatch::daemon::relay
