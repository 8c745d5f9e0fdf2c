// Native JSON events (DESIGN.md "Native events") -> metrics::Event, with simdjson on-demand.
// Anything that does not fit the table is rejected with a reason, never thrown.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "callwatch/metrics/event.hpp"

namespace callwatch::daemon {

// Label values of callwatch_feed_events_rejected_total{reason}. Keep the list short and stable.
enum class RejectReason : std::uint8_t {
  not_json,        // does not parse (including truncated)
  not_object,      // valid JSON but not an object
  unknown_type,    // "type" is not one of the native types
  missing_field,   // a required field is absent
  wrong_type,      // a field has the wrong JSON type
  bad_value,       // right type, impossible value (negative ts, unknown state/reason, NaN)
  too_large,       // message over the size cap
  name_too_long,   // a name over EngineSettings::max_name_bytes
  invalid_utf8,
};
inline constexpr int kRejectReasonCount = 9;
std::string_view to_string(RejectReason r);

// Field rules beyond the DESIGN.md table (forward compatible, strict where it matters):
// - the whole message is valid JSON (RFC 8259) or it is not_json, including the values of fields
//   the event does not use (on-demand parsing would skip them unread: they are read through);
//   a value nested deeper than 64 levels is not_json too;
// - unknown fields are ignored; a known field with the wrong JSON type rejects (wrong_type);
// - `null` means "absent" (a required field that is null is missing_field);
// - "ts": number, finite, > 0; optional numbers `wait_seconds`, `talk_seconds`, `hold_seconds`,
//   `wrap_seconds` (finite, >= 0), `ring_ms` (>= 0), `priority` (an integer), `inferred` (bool);
// - call_ended accepts an optional `queue`; call_transferred needs `agent` or `queue` and
//   `to_queue` or `to`;
// - names (call, queue, agent, caller, to, to_queue, reason, queues[]) longer than max_name_bytes
//   reject as name_too_long; empty required names are bad_value.
class NativeParser {
 public:
  explicit NativeParser(std::size_t max_message_bytes = 64 * 1024, std::size_t max_name_bytes = 256);
  ~NativeParser();
  NativeParser(const NativeParser&) = delete;
  NativeParser& operator=(const NativeParser&) = delete;

  // Bytes simdjson may read past the end of a message (simdjson::SIMDJSON_PADDING).
  static constexpr std::size_t kPadding = 64;

  // The returned event (and its string views) stays valid until the next call to parse().
  // Copies the message into the parser's own padded buffer first.
  tl::expected<const metrics::Event*, RejectReason> parse(std::string_view json);
  // The same, without the copy: `readable` bytes from json.data() may be read (the message and
  // whatever follows it). With readable >= json.size() + kPadding the message is parsed where it
  // lies (a socket's receive buffer, a file read whole); else it falls back to parse(). Only the
  // message's bytes are read; the event's views are valid until the next call, as with parse().
  tl::expected<const metrics::Event*, RejectReason> parse_in_place(std::string_view json, std::size_t readable);

  // Why the last parse() rejected, for logs (e.g. `missing field "queue"`). Valid until the next
  // parse(); empty after an accepted message.
  std::string_view last_error() const;

  std::size_t max_message_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;  // pimpl keeps simdjson out of every includer
};

// The inverse: one native JSON object for an event (feeds that translate AMI/ESL/queue_log into
// native events, the simulator, and recording). Appends to `out`.
void append_native_json(const metrics::Event& e, std::string& out);

// Appends `s` as a JSON string literal (quotes included), escaping quote, backslash and control
// characters; UTF-8 passes through unchanged.
void append_json_string(std::string_view s, std::string& out);

}  // namespace callwatch::daemon
