// Serves the engine's state to wallboards (DESIGN.md "Wallboard protocol"): XPUB deltas and
// heartbeats, ROUTER snapshot requests. Reads SnapshotHub only, so it can never block the engine.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <zmq.hpp>

#include "runtime/alerts_runtime.hpp"
#include "serve/board_tap.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"
#include "runtime/snapshot_hub.hpp"
#include "runtime/system_clock.hpp"
#include "serve/security.hpp"

namespace callwatch::daemon {

// Clients bound to a set of queues ([[security.scope]]): their snapshot replies, deltas and alert
// history hold only those queues (metrics/scope.hpp), and they may ack only those queues' alerts.
// Deltas reach them on a topic of their own (XPUB_MANUAL: the publisher applies each
// subscription itself, by the ZAP user id of the client that sent it).
struct PublisherScope {
  std::string name;
  std::vector<std::string> queues;
  std::vector<std::string> users;  // ZAP user ids, "supervisor:bob" (serve/security)
};

// Requests on the control socket that can be refused, and why (callwatch_wallboard_requests_
// refused_total{request,reason}).
enum class ControlRequest : std::uint8_t { ack, broadcast, withdraw, count_ };
enum class Refusal : std::uint8_t {
  role,     // not a supervisor (a kiosk key)
  scope,    // an ack of an alert outside the client's queues
  invalid,  // empty or too long text, a time to live out of range, an alert not firing
  limit,    // kMaxBroadcasts live already
  unknown,  // no such broadcast or alert
  count_
};
std::string_view to_string(ControlRequest r);
std::string_view to_string(Refusal r);

struct PublisherOptions {
  std::string publish_endpoint = "tcp://127.0.0.1:7702";  // XPUB; "tcp://127.0.0.1:*" for tests
  std::string control_endpoint = "tcp://127.0.0.1:7703";  // ROUTER
  std::string site;                                       // shown by wallboards merging sites
  // At most one delta per batch_interval, and never so often that making deltas (the diff, the
  // encoding, one per scope) takes more than max_delta_share of the publishing thread.
  std::chrono::milliseconds batch_interval{25};
  double max_delta_share = 0.4;
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

  // ---- serving state owned elsewhere (callwatchd relay, daemon/relay) ----
  // Acks of alerts another daemon owns: called instead of alerts->submit_ack, after the role
  // check and check_ack against what the boards hold. `done` is called once, later and on any
  // thread, with the owning daemon's answer; calls after stop() are dropped.
  using AckDone = std::function<void(tl::expected<void, std::string>)>;
  std::function<void(AckRequest, AckDone)> forward_ack;
  // Other requests another daemon answers (a relay: alert_history, agent_history), decoded. It
  // returns false for a request it does not take (then answered here as usual); when it takes
  // one, `done` gets the reply body to send back as is, or an error text, once, on any thread.
  using ReplyDone = std::function<void(tl::expected<std::string, std::string>)>;
  std::function<bool(const metrics::wire::Message&, std::string_view body, ReplyDone)> forward_request;
  // While it returns false no heartbeat and no delta goes out (after the first state): the state
  // is not known to be current (an upstream is silent), so boards keep what they hold and show it
  // stale, as they would beside a silent daemon; the changes go out together once it is true.
  std::function<bool()> live;
  // Engine time for heartbeats when the served state's own `now` lags it (a relay's state moves
  // with deltas; its upstreams' heartbeats carry the time in between). 0: use the state's.
  std::function<double()> now_source;
  // The envelopes' site name when it is learned later (a relay passes its upstream's on).
  std::function<std::string()> site_source;
  // Snapshot requests wait for the hub's first state (answered "no state yet" after 5 s): before
  // its first upstream snapshot a relay would hand out an empty board, an empty center to read.
  bool require_state = false;
  // The hub's states carry the broadcasts (a relay's upstreams post them); posting or withdrawing
  // one here is refused: it belongs to the daemon that shows it.
  bool broadcasts_from_hub = false;
  // Scoped clients; empty: every client sees everything (and XPUB runs as before).
  std::vector<PublisherScope> scopes;
  // Broadcasts (protocol 1.4) live at start-up (the store's; expired ones are dropped), and where
  // each change of the list goes (the store); none: kept in memory only.
  std::vector<metrics::BroadcastView> broadcasts;
  std::function<void(const std::vector<metrics::BroadcastView>&)> save_broadcasts;
  // Boards on other transports (the browser board's WebSockets): every delta and heartbeat, and
  // snapshots when they ask; null: none.
  std::shared_ptr<BoardTap> tap;
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
  std::uint64_t acks_forwarded = 0;   // passed on through forward_ack
  std::uint64_t requests_forwarded = 0;  // taken by forward_request
  std::uint64_t heartbeats_held = 0;  // not sent: `live` said the state is not current
  std::uint64_t deltas_held = 0;      // batches put off for the same reason
  std::uint64_t broadcasts_live = 0;       // now
  std::uint64_t broadcasts_posted = 0;
  std::uint64_t broadcasts_withdrawn = 0;
  std::uint64_t broadcasts_expired = 0;
  std::uint64_t scoped_subscriptions = 0;  // subscriptions held to a scope's topic
  std::array<std::array<std::uint64_t, static_cast<std::size_t>(Refusal::count_)>,
             static_cast<std::size_t>(ControlRequest::count_)>
      refused{};
  std::uint64_t refused_of(ControlRequest r, Refusal why) const {
    return refused[static_cast<std::size_t>(r)][static_cast<std::size_t>(why)];
  }
  std::uint64_t timeline_spans = 0;      // agent timeline spans held now (agent_history)
  std::uint64_t timeline_spans_cut = 0;  // dropped past the per-agent or total bound
};

// CURVE with roles from the keys ([security]) and the queue scopes of [[security.scope]] on a
// publisher's sockets (the daemon's and the relay's). `curve` must outlive the publisher.
void secure_publisher(PublisherOptions& opts, const ServerSecurity& curve, const config::SecurityConfig& cfg);

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
