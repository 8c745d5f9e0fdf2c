#include "callwatch/metrics/event.hpp"

#include <array>

namespace callwatch::metrics {

namespace {
constexpr std::array<std::string_view, kEventTypeCount> kTypeNames = {
    "call_enqueued",    "call_answered",       "call_ended",
    "call_abandoned",   "call_exited",         "call_transferred",
    "agent_ring_noanswer", "agent_state",      "feed_restart"};
constexpr std::array<std::string_view, kAgentStateCount> kStateNames = {
    "logged_out", "available", "ringing", "on_call", "wrap_up", "paused"};
constexpr std::array<std::string_view, 3> kExitNames = {"timeout", "empty", "key"};

template <typename E, std::size_t N>
bool lookup(const std::array<std::string_view, N>& names, std::string_view s, E& out) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == s) {
      out = static_cast<E>(i);
      return true;
    }
  }
  return false;
}
}  // namespace

std::string_view to_string(EventType t) { return kTypeNames[static_cast<int>(t)]; }
std::string_view to_string(AgentState s) { return kStateNames[static_cast<int>(s)]; }
std::string_view to_string(ExitReason r) { return kExitNames[static_cast<int>(r)]; }

bool parse_event_type(std::string_view s, EventType& out) {
  // feed_restart is internal: not accepted from the native JSON feed.
  if (s == "feed_restart") return false;
  return lookup(kTypeNames, s, out);
}
bool parse_agent_state(std::string_view s, AgentState& out) { return lookup(kStateNames, s, out); }
bool parse_exit_reason(std::string_view s, ExitReason& out) { return lookup(kExitNames, s, out); }

}  // namespace callwatch::metrics
