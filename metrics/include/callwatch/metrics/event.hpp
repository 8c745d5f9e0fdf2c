// The one event model every feed is translated into (DESIGN.md "Native events").
// Events are non-owning views: the producer keeps the bytes alive while Engine::apply runs.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <span>
#include <string_view>

namespace callwatch::metrics {

inline constexpr double kNoValue = std::numeric_limits<double>::quiet_NaN();
inline bool has_value(double v) { return !std::isnan(v); }

enum class EventType : std::uint8_t {
  call_enqueued,
  call_answered,
  call_ended,
  call_abandoned,
  call_exited,
  call_transferred,
  agent_ring_noanswer,
  agent_state,
  // Not a native JSON type: a PBX restart (queue_log QUEUESTART, new AMI banner). Open visits are
  // closed without an outcome and the gap is flagged.
  feed_restart,
};
inline constexpr int kEventTypeCount = 9;

enum class ExitReason : std::uint8_t { timeout, empty, key };

// Order matters: it is the label order in /metrics and the index into per-state arrays.
enum class AgentState : std::uint8_t { logged_out, available, ringing, on_call, wrap_up, paused };
inline constexpr int kAgentStateCount = 6;

enum class EndedBy : std::uint8_t { unknown, caller, agent, transfer };

struct Event {
  EventType type = EventType::call_enqueued;
  double ts = 0;  // seconds since the Unix epoch, UTC

  std::string_view call;
  std::string_view queue;
  std::string_view agent;
  std::string_view caller;
  std::string_view reason;    // pause reason (agent_state)
  std::string_view to_queue;  // call_transferred: target queue, when a queue
  std::string_view to;        // call_transferred: target extension / agent
  // The feed that delivered the event (set by the daemon's ingest, empty in a single-feed
  // replay): a feed_restart ends the calls and pauses of that feed's agents only.
  std::string_view feed;

  // Stated by the feed; kNoValue when the feed does not say (then timestamps are used).
  double wait = kNoValue;     // seconds in queue up to this outcome
  double talk = kNoValue;     // call_ended: talk seconds
  double hold = kNoValue;     // call_ended: hold seconds
  double wrap = kNoValue;     // call_ended: after-call work seconds, when the feed knows it
  double ring_ms = kNoValue;  // agent_ring_noanswer: ring time in milliseconds

  ExitReason exit_reason = ExitReason::timeout;
  AgentState state = AgentState::available;
  EndedBy by = EndedBy::unknown;
  int priority = 0;

  // agent_state: the queues the state applies to; empty = every queue of the agent.
  std::span<const std::string_view> queues;

  // The feed inferred the outcome rather than read it (AMI rule P4, FreeSWITCH P16): counted
  // normally and flagged in data quality.
  bool inferred = false;
};

std::string_view to_string(EventType t);
std::string_view to_string(AgentState s);
std::string_view to_string(ExitReason r);
bool parse_event_type(std::string_view s, EventType& out);
bool parse_agent_state(std::string_view s, AgentState& out);
bool parse_exit_reason(std::string_view s, ExitReason& out);

}  // namespace callwatch::metrics
