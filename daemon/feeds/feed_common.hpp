// Pieces shared by the PBX feed translators (AMI, ESL, queue_log tail): where their output goes,
// events that own their strings, and the small text helpers every protocol needs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "callwatch/metrics/event.hpp"

namespace callwatch::daemon {

// Where a translator's output goes. Views in an event are valid only during the call.
// - event: one native event (metrics::Event, the one model of DESIGN.md);
// - reject: one input message refused (`reason` is a stable label of
//   callwatch_feed_events_rejected_total{reason}, `detail` readable);
// - warning: data-quality note (`kind` stable key, `message` readable);
// and the accounting of input messages (METRICS.md "Counting rules"), every message exactly one
// of: rejected (reject above), duplicate (identical to one accepted the same day, dropped),
// accepted (callwatch_feed_events_total, the report's data_quality.events). An accepted message
// the translator deliberately skips also calls ignored (`result`: stable label of
// callwatch_feed_events_ignored_total{result}). Messages that are not input (an AMI banner or
// Response, an ESL reply) are none of these. Any callback may be empty.
struct FeedSink {
  std::function<void(const metrics::Event&)> event;
  std::function<void(std::string_view reason, const std::string& detail)> reject;
  std::function<void(std::string_view kind, const std::string& message)> warning;
  std::function<void()> accepted;
  std::function<void()> duplicate;
  std::function<void(std::string_view result)> ignored;
};

// One recorded input (report inputs): a name for messages and either its bytes in memory or,
// when `path` is set, a file read in order in chunks (a report streams: never a whole file).
struct CaptureText {
  std::string_view name;
  std::string_view text;
  std::string_view path = {};
};

// The input's bytes in order: `text` at once, a file in 64 KiB chunks. The error names the file.
tl::expected<void, std::string> for_each_chunk(const CaptureText& in,
                                               const std::function<void(std::string_view)>& chunk);
// The input's lines in order, without their line end (CR LF or LF); a last line without one too.
tl::expected<void, std::string> for_each_line(const CaptureText& in,
                                              const std::function<void(std::string_view)>& line);
// The whole input in memory (a JSON capture is one document); `storage` holds a file's bytes.
tl::expected<std::string_view, std::string> whole_text(const CaptureText& in, std::string& storage);

// The files as CaptureText inputs read from disk (the names must outlive them).
std::vector<CaptureText> capture_files(const std::vector<std::string>& files);

// A metrics::Event together with the strings its views point at, so it can wait (held-back
// outcomes) or cross a thread. view() re-points the views after any copy or move.
struct OwnedEvent {
  metrics::Event event;
  std::string call, queue, agent, caller, reason, to_queue, to;
  std::vector<std::string> queues;

  OwnedEvent() = default;
  explicit OwnedEvent(metrics::EventType t, double ts) {
    event.type = t;
    event.ts = ts;
  }
  const metrics::Event& view() {
    event.call = call;
    event.queue = queue;
    event.agent = agent;
    event.caller = caller;
    event.reason = reason;
    event.to_queue = to_queue;
    event.to = to;
    views_.assign(queues.begin(), queues.end());
    event.queues = views_;
    return event;
  }

 private:
  std::vector<std::string_view> views_;
};

// ASCII case-insensitive equality (AMI header and event names, FEED-SPEC 1.1).
bool iequals(std::string_view a, std::string_view b);
// Leading/trailing spaces and tabs removed.
std::string_view trim(std::string_view s);
// Strict decimal: optional '-', digits, optional '.' and digits. No exponent, no spaces, finite.
bool parse_decimal(std::string_view s, double& out);
// Whole number, digits only (with optional leading '-').
bool parse_int(std::string_view s, long long& out);
// Copies `in` to `out`, replacing every invalid UTF-8 sequence by U+FFFD (names reach JSON).
void assign_utf8(std::string& out, std::string_view in);
bool valid_utf8(std::string_view s);

// Seconds since the epoch embedded in an Asterisk Uniqueid (`1585318545.326`,
// `host-1585318545.326`), or NaN. Used only as a clock of last resort when a recorded capture
// carries no Timestamp header at all.
double uniqueid_epoch(std::string_view uniqueid);

}  // namespace callwatch::daemon
