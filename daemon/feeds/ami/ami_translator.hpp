// Asterisk AMI messages (framed by AmiFramer) -> native events (FEED-SPEC 1.2-1.6, mapping 6.2),
// for Asterisk 11 and 12+ alike. No I/O: the live client, the capture replayer and the fuzzer
// drive it the same way, so a recorded stream replays exactly as it ran.
//
// Every Event block is one input message for the counting rules (FeedSink): rejected once at
// its first refused part, a duplicate when identical to a block accepted the same day (see
// on_message), else accepted; banners and responses are not input messages.
//
// Decisions (pitfall numbers of FEED-SPEC section 5):
// - P1 units: AgentRingNoAnswer RingTime is ms, HoldTime/TalkTime/Wait are s.
// - P2/P3: QueueCallerLeave/Leave never counts an outcome; AgentConnect is the answer. A Leave
//   neither preceded by QueueCallerAbandon nor followed by AgentConnect within `hold_seconds`
//   is a key exit, marked inferred (6.2); a QUEUESTATUS VarSet seen for it decides instead.
// - P4: QueueCallerAbandon is held back until the caller's QUEUESTATUS VarSet (exact), the
//   caller's Hangup or `hold_seconds` of feed time. Without a VarSet: when dialplan events are
//   seen on the connection, a real abandon; otherwise (inferred) timed_out when HoldTime >= the
//   configured queue timeout - 1 s, exited_empty when leavewhenempty is configured and no
//   member is available, else abandoned.
// - P5/P6: both naming generations are understood on every connection; the caller is always
//   `Uniqueid`, the member `Interface`/`Location`/`Member`.
// - P7: agents are named by member name; an interface seen in QueueMember/QueueMemberStatus/
//   QueueMemberAdded with a name is remembered and mapped back to it.
// - P11: QueueMemberStatus is deduplicated on (queue, interface, Status, Paused, InCall).
// - P12/P18 restarts and reconnects: the first sign of one is a feed_restart (METRICS.md
//   "Counting rules"): the live connection dropped (on_disconnect), a new banner in a capture,
//   or `Event: Shutdown`. The engine ends the calls and pauses of the feed's agents there and
//   closes its open visits. The QueueStatus answer of the next connection (routed by ActionID,
//   P17) rebuilds: each QueueMember sets the member's paused state (with PausedReason) and
//   activity in its queue; a QueueEntry of a caller known from before the drop enters it again
//   with its first entry time, an unknown one at now - Wait; visits of the listed queues that
//   it no longer shows ended unseen and are forgotten (not offered). An outcome of a visit from
//   before the drop enters it again first, so nothing is lost or counted twice.
// - Time: a `Timestamp` header (manager.conf timestampevents=yes), else the receipt time live;
//   a replay without Timestamp headers guesses from Uniqueid epochs, counts such events
//   (stats().untimed_events) and computes no wait from them.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "feeds/ami/ami_framer.hpp"
#include "feeds/duplicate_filter.hpp"
#include "feeds/feed_common.hpp"
#include "feeds/time_bounds.hpp"

namespace callwatch::daemon {

struct AmiTranslatorOptions {
  std::vector<std::string> queues;  // only these queues (FeedConfig::queues); empty = all
  // P4 step 2 and 3 inputs (queues.conf `timeout`, `leavewhenempty`), when known.
  std::map<std::string, double, std::less<>> queue_timeout_seconds;
  std::set<std::string, std::less<>> leave_when_empty;
  double hold_seconds = 2.0;  // how long an outcome waits for the event that decides it
  std::size_t max_name_bytes = 256;
  std::size_t max_tracked = 200000;  // cap of each per-call table (memory bound)
  // Day of the duplicate rule (EngineSettings tz / day_start_seconds) and its memory bound.
  DuplicateFilter::Options duplicates;
  // The window of times a message may state (feeds/time_bounds.hpp), around the receipt time live.
  TimeLimits times;
};

struct AmiTranslatorStats {
  std::uint64_t messages = 0;   // framed messages seen (all kinds)
  std::uint64_t events_in = 0;  // AMI events seen
  std::uint64_t emitted = 0;    // native events emitted
  std::uint64_t rejected = 0;     // event blocks rejected
  std::uint64_t accepted = 0;     // event blocks accepted (FeedSink::accepted)
  std::uint64_t duplicates = 0;   // event blocks identical to one accepted the same day
  std::uint64_t ignored = 0;      // accepted blocks that carry nothing for queue KPIs
  std::uint64_t connections = 0;  // banners seen
  std::uint64_t resyncs = 0;      // QueueStatus answers applied
  // AgentComplete blocks without the caller's fields, matched to the member's answered call.
  std::uint64_t completes_matched = 0;
  // Replay only: asynchronous events with / without a Timestamp header (list answers, which
  // never carry one, are in neither).
  std::uint64_t timed_events = 0;
  std::uint64_t untimed_events = 0;
};

class AmiTranslator {
 public:
  AmiTranslator(AmiTranslatorOptions opts, FeedSink sink);
  ~AmiTranslator();
  AmiTranslator(const AmiTranslator&) = delete;
  AmiTranslator& operator=(const AmiTranslator&) = delete;

  // One framed message. `receipt` is the wall-clock time it arrived (live); NaN in a replay,
  // where time is the last `Timestamp` header seen (else the newest Uniqueid epoch seen).
  void on_message(const AmiMessage& m, double receipt);
  // The live connection dropped: held-back outcomes are decided now with what is known, then a
  // feed_restart at `now` (when anything was told since the last one).
  void on_disconnect(double now);
  // Live time passes: held-back outcomes whose wait is over are released.
  void tick(double now);
  // End of a replay: everything held back is released.
  void finish();

  // Live client: the ActionID of its own QueueStatus request (answers with other ActionIDs
  // are then ignored). Replays accept any QueueStatus answer.
  void expect_queue_status(std::string action_id);

  double clock() const;  // current feed time (NaN before any time is known)
  const AmiTranslatorStats& stats() const;
  // The version of the last banner (`1.3`, `2.10.5`), empty before one.
  std::string_view ami_version() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace callwatch::daemon
