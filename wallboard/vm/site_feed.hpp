// What the wallboard knows about one daemon (site): the last state it rebuilt from the protocol
// and the health of the link, judged against the wallboard's own clock (injected, so tests can
// move time).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "callwatch/metrics/snapshot.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"

namespace callwatch::wallboard::vm {

// DESIGN.md: no heartbeat for 3 s and the screen says the data is stale.
inline constexpr double kStaleAfterSeconds = 3.0;

enum class LinkState : std::uint8_t {
  waiting,       // no state received yet
  live,          // a message within the last 3 s
  stale,         // connected, but silent for more than 3 s
  disconnected,  // the transport is down: last values kept, greyed
  incompatible,  // the daemon speaks a newer major protocol version
};

// The daemon's answer to an ack this wallboard sent (desktop mode), shown next to the alert until
// the alert is resolved. The acked state itself comes back in a delta, like for every board.
struct AckReply {
  enum class Kind : std::uint8_t { sending, accepted, refused };
  Kind kind = Kind::sending;
  std::string reason;  // refused: the daemon's error text, as is
};

// One agent's day as the daemon last sent it (agent_history, desktop timeline).
struct AgentHistory {
  enum class Kind : std::uint8_t { none, loading, ready, unavailable };
  Kind kind = Kind::none;
  std::string agent;
  std::vector<metrics::AgentSpan> spans;
  double since = 0;  // the day's start
  std::uint64_t cut = 0;
  std::string reason;  // unavailable: the daemon's error (an older daemon: "unknown request")
};

struct SiteFeed {
  std::string endpoint;  // the --connect address
  std::string site;      // the publisher's site name; may be empty
  std::shared_ptr<const metrics::Snapshot> state;  // null until the first snapshot
  double last_message_at = metrics::kNoValue;  // wallboard clock (UTC s) of the last message
  double engine_now = metrics::kNoValue;       // engine time carried by that message
  bool connected = false;                      // transport-level (socket monitor)
  std::optional<metrics::wire::ProtocolVersion> newer_protocol;
  std::uint64_t seq = 0;
  std::uint64_t resyncs = 0;
  std::uint64_t updates = 0;  // bumps on every change worth a redraw
  std::map<std::string, AckReply> ack_replies;  // by alert id: acks sent from this wallboard
  std::optional<AckReply> broadcast_reply;  // the last broadcast or withdraw this board sent
  AgentHistory agent_history;  // the timeline asked for last (desktop)
};

// The site's name as shown: its own name, else host:port of the endpoint.
std::string site_label(const SiteFeed& f);
LinkState link_state(const SiteFeed& f, double now);
// Engine time "now" for durations such as time in state: the last engine time plus the time
// since it arrived while live; frozen at the last value when the link is not live.
double engine_time(const SiteFeed& f, double now);

}  // namespace callwatch::wallboard::vm
