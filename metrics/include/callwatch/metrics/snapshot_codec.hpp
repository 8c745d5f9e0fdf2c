// The wallboard wire format: JSON encoding of metrics::Snapshot, of the delta between two
// snapshots, and of the protocol's envelope messages (snapshot, delta, heartbeat, request, error).
// Pure: no sockets, no clock, no files; the daemon's publisher and the wallboard both link it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "callwatch/metrics/alerts.hpp"
#include "callwatch/metrics/snapshot.hpp"

namespace callwatch::metrics::wire {

// Every message carries "proto":"MAJOR.MINOR". A minor bump only adds fields (old readers ignore
// them); a major bump may change meaning, so a reader refuses the body and says so on screen.
inline constexpr int kProtocolMajor = 1;
// 1.1 added: ack fields (who, comment, role), the `reply` type and the alert_history request.
// 1.2 added: per queue staffed, staffing_gap, estimated_wait, occupancy; agent counters handled.
// 1.3 added: per alert metric, above, threshold, subject, agents_needed (boards word the text).
// 1.4 added: state and delta `broadcasts` (supervisors' messages), the `broadcast` and
//     `withdraw` requests (text, ttl, broadcast id).
// 1.5 added: per queue waiting_list (callers waiting, capped at kMaxWaitingListed) and
// waiting_unlisted, trend_start, trend_arrivals, trend_sl; per agent call_caller and
// call_queue; the agent_history request (`agent`) and its reply (`spans`, `spans_cut`).
inline constexpr int kProtocolMinor = 5;

// Bounds of a broadcast, checked by the daemon (refusals counted) and by the board before sending.
inline constexpr std::size_t kMaxBroadcastBytes = 280;   // UTF-8 bytes of the text
inline constexpr std::size_t kMaxBroadcasts = 8;         // live at once per daemon
inline constexpr double kMinBroadcastSeconds = 5;        // time to live
inline constexpr double kMaxBroadcastSeconds = 24 * 3600.0;

struct ProtocolVersion {
  int major = kProtocolMajor;
  int minor = kProtocolMinor;
  bool operator==(const ProtocolVersion&) const = default;
};
std::string to_string(ProtocolVersion v);  // "1.0"

enum class MessageType : std::uint8_t {
  snapshot,   // control reply: full state at `seq`
  delta,      // publish: changes since seq-1
  heartbeat,  // publish: "alive, latest seq is `seq`", every second
  request,    // control request: "snapshot" | "ack" | "alert_history" | "broadcast" | "withdraw"
  error,      // control reply: `request` could not be served, `error` says why
  reply,      // control reply: `request` was served (ack accepted; alert_history in `history`)
};
std::string_view to_string(MessageType t);

// What changed between two snapshots: whole entries for added or changed queues, agents and
// alerts, names (alert ids) of removed ones, and the scalar header of the newer snapshot.
struct SnapshotDelta {
  double now = 0;
  double interval_start = 0;
  double day_start = 0;
  std::uint64_t events_applied = 0;
  std::uint64_t version = 0;
  std::vector<QueueView> queues;
  std::vector<std::string> removed_queues;
  std::vector<AgentView> agents;
  std::vector<std::string> removed_agents;
  std::vector<AlertView> alerts;
  std::vector<std::string> removed_alerts;  // by AlertView::id
  std::optional<DataQuality> data_quality;  // present when it changed
  // 1.4: the whole list of live broadcasts when it changed (at most kMaxBroadcasts).
  std::optional<std::vector<BroadcastView>> broadcasts;

  // True when an entity or data quality changed (a new `now` alone is not worth a delta: the
  // heartbeat carries it).
  bool has_changes() const;
};

struct DiffOptions {
  // Fields that grow with the clock alone (time in each state, talk seconds of an open call,
  // sliding window bounds) are resent only once they moved by this much, so 10,000 agents do not
  // all go on the wire every 100 ms. Discrete fields (state, counts, reasons) are always exact.
  double time_tolerance_seconds = 10.0;
};

// `from` is what subscribers hold; `to` the newer state. Entities are matched by name (alert id).
// `last`: the state `from` was last brought up to (diff, then apply), when known: a queue or
// agent of `to` that is the very entry of `last` at the same place (the engine reused its view)
// is known to be as `from` has it and is not compared again. `from` is built by apply() and
// never shares entries with the engine's snapshots, so without `last` every entry is compared.
SnapshotDelta diff(const Snapshot& from, const Snapshot& to, const DiffOptions& opts = {},
                   const Snapshot* last = nullptr);
// Applies a delta in place; keeps queues and agents sorted by name and alerts by id.
void apply(Snapshot& state, const SnapshotDelta& delta);

// A decoded message. Body fields are filled only for a compatible major version.
struct Message {
  ProtocolVersion proto;
  MessageType type = MessageType::heartbeat;
  std::uint64_t seq = 0;
  std::string site;     // publisher's site name ("" when the daemon has none)
  std::uint64_t stream = 0;  // publisher run (see Envelope)
  double sent_at = 0;   // publisher's wall clock (UTC seconds)
  double now = 0;       // heartbeat: engine time of the latest published state
  Snapshot snapshot;    // type snapshot
  SnapshotDelta delta;  // type delta
  std::string request;  // type request: what is asked; type error: what was asked
  std::string error;    // type error
  std::string alert_id;  // request ack: the alert; reply to ack: the alert acknowledged
  std::string who;       // request ack: who acknowledges (shown on every board)
  std::string comment;   // request ack: optional note
  std::string role;      // request ack/broadcast/withdraw: "supervisor" may; "kiosk" may not
  std::string text;      // request broadcast: the message
  double ttl = 0;        // request broadcast: seconds until it expires
  std::string broadcast_id;  // request withdraw, reply to broadcast/withdraw: the message's id
  double since = 0;      // reply alert_history: start of the day the history covers
  std::vector<AlertTransition> history;  // reply alert_history: the day's transitions and acks
  std::string agent;               // request / reply agent_history: whose day
  std::vector<AgentSpan> spans;    // reply agent_history: today's states, oldest first
  std::uint64_t spans_cut = 0;     // reply agent_history: older spans of today not kept

  bool compatible() const { return proto.major == kProtocolMajor; }
};

struct Envelope {
  std::uint64_t seq = 0;
  std::string_view site = {};
  double sent_at = 0;
  // Identifies one run of a publisher: sequence numbers restart with a new stream, so a reader
  // that sees another stream id resyncs instead of taking seq 1 for an old message.
  std::uint64_t stream = 0;
};

std::string encode_snapshot(const Snapshot& s, const Envelope& env);
std::string encode_delta(const SnapshotDelta& d, const Envelope& env);
std::string encode_heartbeat(double now, const Envelope& env);
std::string encode_request(std::string_view request, std::string_view alert_id = {});
// An acknowledgement: the daemon stamps the time it received it (wallboard clocks may be off).
std::string encode_ack_request(std::string_view alert_id, std::string_view who,
                               std::string_view comment, std::string_view role);
std::string encode_reply(std::string_view request, std::string_view alert_id, const Envelope& env);
// A supervisor's message for every board, `ttl` seconds long (1.4); withdrawing one by its id.
std::string encode_broadcast_request(std::string_view text, double ttl, std::string_view who,
                                     std::string_view role);
std::string encode_withdraw_request(std::string_view broadcast_id, std::string_view who,
                                    std::string_view role);
// Reply to "broadcast" or "withdraw": the id of the message written or withdrawn.
std::string encode_broadcast_reply(std::string_view request, std::string_view broadcast_id,
                                   const Envelope& env);
std::string encode_alert_history(const std::vector<AlertTransition>& history, double since,
                                 const Envelope& env);
std::string encode_error(std::string_view request, std::string_view error, const Envelope& env);
// agent_history (1.5): one agent's states today, for the desktop's timeline.
std::string encode_agent_history_request(std::string_view agent);
std::string encode_agent_history(std::string_view agent, double since,
                                 const std::vector<AgentSpan>& spans, std::uint64_t cut,
                                 const Envelope& env);

// Body of one Snapshot without the envelope (round-trip tests, persistence of the last state).
std::string encode_state(const Snapshot& s);
tl::expected<Snapshot, std::string> decode_state(std::string_view json);

// Parses any protocol message. Untrusted input: a malformed message is an error, never a crash.
// A message of another major version decodes its envelope only (compatible() == false).
tl::expected<Message, std::string> decode(std::string_view json);

}  // namespace callwatch::metrics::wire
