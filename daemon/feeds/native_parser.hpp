// Native JSON events (DESIGN.md "Native events") -> metrics::Event, with simdjson on-demand.
// Anything that does not fit the table is rejected with a reason, never thrown.
#pragma once

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

class NativeParser {
 public:
  explicit NativeParser(std::size_t max_message_bytes = 64 * 1024, std::size_t max_name_bytes = 256);
  ~NativeParser();
  NativeParser(const NativeParser&) = delete;
  NativeParser& operator=(const NativeParser&) = delete;

  // The returned event (and its string views) stays valid until the next call to parse().
  tl::expected<const metrics::Event*, RejectReason> parse(std::string_view json);

 private:
  struct Impl;
  Impl* impl_;  // owned; pimpl keeps simdjson out of every includer
};

// The inverse: one native JSON object for an event (feeds that translate AMI/ESL/queue_log into
// native events, the simulator, and recording). Appends to `out`.
void append_native_json(const metrics::Event& e, std::string& out);

}  // namespace callwatch::daemon
