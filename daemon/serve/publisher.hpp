// Serves the engine's state to wallboards (DESIGN.md "Wallboard protocol"): XPUB deltas and
// heartbeats, ROUTER snapshot requests. Reads SnapshotHub only, so it can never block the engine.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <zmq.hpp>

#include "runtime/alerts_runtime.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"
#include "runtime/snapshot_hub.hpp"
#include "runtime/system_clock.hpp"

namespace callwatch::daemon {

struct PublisherOptions {
  std::string publish_endpoint = "tcp://127.0.0.1:7702";  // XPUB; "tcp://127.0.0.1:*" for tests
  std::string control_endpoint = "tcp://127.0.0.1:7703";  // ROUTER
  std::string site;                                       // shown by wallboards merging sites
  std::chrono::milliseconds batch_interval{100};          // at most one delta per interval
  std::chrono::milliseconds heartbeat_interval{1000};
  // Messages queued per subscriber. A subscriber that falls this far behind loses messages on
  // its own pipe only (others keep flowing); the sequence gap makes it ask for a new snapshot.
  int send_high_water_mark = 1000;
  metrics::wire::DiffOptions diff;
  // Alert acks go to the engine through it and alert_history is read from it; null: both
  // requests are refused.
  std::shared_ptr<AlertControl> alerts;
  // Wall time of envelopes (sent_at) and of acks as they arrive.
  const metrics::Clock* clock = &system_clock();
  // CURVE (daemon/security): applied to the XPUB ("publish") and the ROUTER ("control") before
  // they bind. With roles_from_keys, an ack's role is the one the ZAP handler gave the client's
  // key, never what the request claims.
  std::function<void(zmq::socket_t&, std::string_view domain)> secure_socket;
  bool roles_from_keys = false;
  // Bytes of snapshot and history replies held for clients that have not read them (a body
  // shared by several clients counted once). While that much is held, a request that needs a new
  // body gets a "busy" error. A client has at most one snapshot reply on its way: asking again
  // before reading it is coalesced into it ([publisher] in the config).
  std::size_t max_queued_reply_bytes = std::size_t{256} << 20;
};

struct PublisherStats {
  std::uint64_t seq = 0;  // last delta's sequence number
  std::uint64_t deltas = 0;
  std::uint64_t heartbeats = 0;
  std::uint64_t snapshots_served = 0;
  std::uint64_t snapshots_coalesced = 0;  // asked again before reading the reply on its way
  std::uint64_t snapshots_refused = 0;    // busy: max_queued_reply_bytes held
  std::uint64_t snapshot_encodes = 0;
  std::uint64_t queued_reply_bytes = 0;   // now
  std::uint64_t bad_requests = 0;
  std::uint64_t subscriptions = 0;
  std::uint64_t bytes_published = 0;
};

class Publisher {
 public:
  Publisher(zmq::context_t& ctx, SnapshotHub& hub, PublisherOptions opts = {});
  ~Publisher();  // stops
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Binds both endpoints (throws zmq::error_t when one is taken or malformed: a start-up error)
  // and starts the publishing thread.
  void start();
  void stop();

  // Endpoints actually bound (a wildcard port resolved), valid after start().
  std::string publish_endpoint() const;
  std::string control_endpoint() const;
  PublisherStats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace callwatch::daemon
