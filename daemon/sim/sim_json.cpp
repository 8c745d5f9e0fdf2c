#include "sim/sim_json.hpp"

#include <iterator>
#include <string_view>

#include <fmt/format.h>

namespace callwatch::daemon::sim {

namespace {

void append_string(std::string_view s, std::string& out) {
  out.push_back('"');
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (c < 0x20) {
      fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
    } else {
      out.push_back(ch);  // UTF-8 passes through: JSON is UTF-8
    }
  }
  out.push_back('"');
}

void field(std::string_view key, std::string_view value, std::string& out) {
  out.push_back(',');
  append_string(key, out);
  out.push_back(':');
  append_string(value, out);
}

}  // namespace

void append_sim_json(const metrics::Event& e, std::string& out) {
  using metrics::EventType;
  out += "{\"type\":";
  append_string(metrics::to_string(e.type), out);
  // Milliseconds: finer than any PBX logs, and rounding keeps the order of the stream.
  fmt::format_to(std::back_inserter(out), ",\"ts\":{:.3f}", e.ts);
  if (!e.call.empty()) field("call", e.call, out);
  if (!e.queue.empty()) field("queue", e.queue, out);
  if (!e.agent.empty()) field("agent", e.agent, out);
  switch (e.type) {
    case EventType::call_enqueued:
      if (!e.caller.empty()) field("caller", e.caller, out);
      if (e.priority != 0) fmt::format_to(std::back_inserter(out), ",\"priority\":{}", e.priority);
      break;
    case EventType::call_ended:
      if (metrics::has_value(e.hold)) fmt::format_to(std::back_inserter(out), ",\"hold_seconds\":{}", e.hold);
      if (e.by == metrics::EndedBy::caller) field("by", "caller", out);
      if (e.by == metrics::EndedBy::agent) field("by", "agent", out);
      break;
    case EventType::call_exited:
      field("reason", metrics::to_string(e.exit_reason), out);
      break;
    case EventType::call_transferred:
      if (!e.to_queue.empty()) field("to_queue", e.to_queue, out);
      if (!e.to.empty()) field("to", e.to, out);
      break;
    case EventType::agent_state:
      field("state", metrics::to_string(e.state), out);
      if (!e.reason.empty()) field("reason", e.reason, out);
      if (!e.queues.empty()) {
        out += ",\"queues\":[";
        for (std::size_t i = 0; i < e.queues.size(); ++i) {
          if (i > 0) out.push_back(',');
          append_string(e.queues[i], out);
        }
        out.push_back(']');
      }
      break;
    default:
      break;
  }
  out.push_back('}');
}

}  // namespace callwatch::daemon::sim
