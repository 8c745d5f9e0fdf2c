// Asterisk queue_log lines (FEED-SPEC section 2, mapping 6.1) -> metrics::Event, one line at a time.
// Used by `callwatchd report --format queue_log` and by the live queue_log tailer.
//
// Counting rules (METRICS.md, last section) decided here:
// - blank line: not a record. Rejected: fewer than 5 fields, non-numeric epoch, a number the event
//   needs that is present but not a number, more data fields (trailing empty ones dropped) than any
//   Asterisk version writes for the verb, a name longer than max_name_bytes, an epoch outside
//   the window of feeds/time_bounds.hpp (bad_epoch), a stated wait or talk time reaching back out
//   of it (bad_number). A rejected line is
//   rejected each time it occurs (it never enters the duplicate set).
// - duplicate: byte-identical (after dropping the line end) to a line accepted the same day (the
//   day of its epoch, in the configured zone and day start): the feeds' one DuplicateFilter.
// - A wait or talk time the line does not state (old version, empty field) is left unset
//   (kNoValue) so the engine falls back to timestamps; ring time has no fallback, so a
//   RINGNOANSWER without one is rejected.
// - RINGNOANSWER with 0 ms is emitted as agent_ring_noanswer with ring_ms = 0: the engine counts it
//   as refused (AgentCounters::ring_refused), never as a ring-no-answer. RINGCANCELED emits nothing.
// - PAUSEALL/UNPAUSEALL (P8) are held back: if a per-queue PAUSE (resp. UNPAUSE) follows within
//   1 s, for the same agent or (Asterisk 11, PAUSEALL names the interface) any agent, it is dropped;
//   otherwise it is emitted, for every queue of the agent, when a line more than 1 s later arrives or
//   on flush(). A live tailer must call flush() when the file goes idle.
// - DID, INFO, AGENTDUMP, CONFIGRELOAD, PENALTY, RINGINUSE, OUTCALL, PBXware OUT* verbs: accepted,
//   no event. XiVO FULL/JOINEMPTY/CLOSED/DIVERT_*: accepted, no event (refused before entering, not
//   offered), counted in refused_on_join() and warned once per verb. Unknown verbs: accepted, no
//   event, warned once per verb.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <unordered_set>

#include "feeds/duplicate_filter.hpp"
#include "feeds/time_bounds.hpp"
#include <vector>

#include "callwatch/metrics/event.hpp"

namespace callwatch::daemon {

enum class QueueLogLineStatus : std::uint8_t { blank, rejected, duplicate, accepted };

struct QueueLogWarning {
  std::uint64_t line = 0;  // the caller's line number
  std::string_view kind;   // stable key: duplicate, unknown_verb, syscompat, withdraw, ...
  std::string message;     // readable, without the line number
};

struct QueueLogLine {
  QueueLogLineStatus status = QueueLogLineStatus::blank;
  std::uint64_t line = 0;
  double ts = metrics::kNoValue;      // the line's epoch when it parsed
  std::string_view reject_reason;     // rejected: stable label (metrics label value)
  std::string reject_detail;          // rejected: readable explanation
  std::string_view verb;              // accepted: the verb as written
  std::string_view queue;             // accepted: queue column, "" for NONE
  // accepted: events to apply in order; views stay valid until the next parse()/flush().
  std::span<const metrics::Event> events;
};

class QueueLogParser {
 public:
  struct Options {
    std::size_t max_name_bytes = 256;  // callid, queue, agent
    DuplicateFilter::Options duplicates;  // day of the duplicate rule, memory bound
    // The window of times a line may state (feeds/time_bounds.hpp): around `live_clock` (the
    // live tail: the daemon's clock), or, null, around the input's own times (a replay).
    TimeLimits times;
    const metrics::Clock* live_clock = nullptr;
  };
  using WarningSink = std::function<void(const QueueLogWarning&)>;

  QueueLogParser();
  explicit QueueLogParser(Options opts, WarningSink sink = {});
  QueueLogParser(const QueueLogParser&) = delete;
  QueueLogParser& operator=(const QueueLogParser&) = delete;

  // One line, with or without its CR/LF. The result (and its events) is valid until the next call.
  const QueueLogLine& parse(std::string_view line, std::uint64_t line_no);
  // End of input (or the live file went idle): emit any PAUSEALL/UNPAUSEALL still held back.
  std::span<const metrics::Event> flush();

  void set_warning_sink(WarningSink sink) { sink_ = std::move(sink); }
  const DuplicateFilter& duplicates() const { return seen_; }
  // Callers refused before entering a queue (XiVO FULL, JOINEMPTY, ...), by verb.
  const std::map<std::string, std::uint64_t, std::less<>>& refused_on_join() const {
    return refused_on_join_;
  }

 private:
  struct Pending {  // a PAUSEALL/UNPAUSEALL waiting to see whether per-queue lines follow
    std::string agent;
    std::string reason;
    double ts = 0;
    bool pause = true;
    bool covered = false;
  };

  void reject(std::string_view reason, std::string detail);
  void warn(std::uint64_t line, std::string_view kind, std::string message);
  void warn_once(std::uint64_t line, std::string_view kind, std::string_view verb, std::string message);
  void release_pending(double now, bool all);
  bool map_verb(std::string_view verb, bool known, std::span<const std::string_view> data,
                std::uint64_t line_no);

  Options opts_;
  WarningSink sink_;
  QueueLogLine out_;
  std::string text_;  // the current line (UTF-8 repaired); events view into it
  std::vector<std::string_view> fields_;
  std::vector<metrics::Event> events_;       // what the caller gets
  std::vector<metrics::Event> line_events_;  // this line's own events, before pending ones
  std::string to_storage_;                   // TRANSFER target "extension@context"
  std::array<std::string_view, 1> queue_slot_{};
  std::vector<Pending> pending_;
  std::vector<Pending> released_;  // storage for events emitted from pending_ this call

  DuplicateFilter seen_;  // fingerprints of the lines accepted today
  TimeBounds times_;

  std::unordered_set<std::string> warned_verbs_;
  std::map<std::string, std::uint64_t, std::less<>> refused_on_join_;
};

// Strict decimal number: digits, optionally '.' and digits. No sign, exponent or spaces.
bool parse_queue_log_number(std::string_view s, double& out);

}  // namespace callwatch::daemon
