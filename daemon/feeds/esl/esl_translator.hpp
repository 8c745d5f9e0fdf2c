// FreeSWITCH mod_callcenter over the event socket (framed by EslFramer) -> native events
// (FEED-SPEC 3, mapping 6.3). No I/O: live client, capture replay and fuzzer drive it alike.
//
// Every text/event-plain or text/event-json message is one input message for the counting
// rules (FeedSink): rejected once, a duplicate when identical to one accepted the same day, or
// accepted; replies, api responses and auth requests are not input messages.
//
// Decisions (pitfalls of FEED-SPEC section 5):
// - Keys: the visit by CC-Member-UUID (a resumed caller keeps it), the call id is the first
//   CC-Member-Session-UUID seen for that member. Times: Event-Date-Timestamp (microseconds);
//   CC-*-Time are epoch seconds (P1).
// - P14: plain values are URL-decoded after the first ": ", `_undef_` is empty; text/event-json
//   bodies are read as they are.
// - P15: agent-status-change / agent-state-change repeat unchanged values: deduplicated per
//   agent. Wrap-up has no event: bridge-agent-end carries the agent's wrap_up_time (from
//   `callcenter_config agent list`) as the call's after-call work, warned as derived.
// - P16: member-queue-end Cancel with BREAK_OUT/NONE is an abandon when the caller leg in the
//   event (Channel-Call-State / Answer-State) or an earlier CHANNEL_HANGUP shows the caller gone;
//   a caller leg still up left by transfer/break (not offered); no caller-leg headers at all:
//   abandoned, marked inferred.
// - bridge-agent-fail is a ring-no-answer unless the cause is ORIGINATOR_CANCEL or LOSE_RACE;
//   ring_ms = (CC-Agent-Aborted-Time - CC-Agent-Called-Time) * 1000 (whole seconds: a refusal
//   within the second is 0 ms, counted apart like queue_log's RINGNOANSWER|0).
// - Snapshot after every (re)connect: `callcenter_config queue list`, `... queue list members
//   <q>`, `... tier list`, `... agent list` answers (recognized by their header row). Waiting
//   callers not known are enqueued at their joined_epoch; agents get their status/state. The
//   snapshot is applied at the first event after it (or the event-subscription reply, or the
//   end of input).
// - Restarts and reconnects (METRICS.md "Counting rules"): a feed_restart at the drop (live:
//   on_disconnect; a capture: the next auth/request) ends the calls and pauses of the feed's
//   agents and closes its open visits. The next snapshot rebuilds; callers it lists still
//   waiting, and visits whose outcome comes later, are entered again with their first entry
//   time; visits of covered queues it no longer lists ended unseen (not offered).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "feeds/duplicate_filter.hpp"
#include "feeds/esl/esl_framer.hpp"
#include "feeds/feed_common.hpp"
#include "feeds/time_bounds.hpp"

namespace callwatch::daemon {

struct EslTranslatorOptions {
  std::vector<std::string> queues;  // only these queues; empty = all
  std::size_t max_name_bytes = 256;
  std::size_t max_tracked = 200000;
  // Day of the duplicate rule (EngineSettings tz / day_start_seconds) and its memory bound.
  DuplicateFilter::Options duplicates;
  // The window of times a message may state (feeds/time_bounds.hpp), around the receipt time live.
  TimeLimits times;
};

struct EslTranslatorStats {
  std::uint64_t messages = 0;
  std::uint64_t events_in = 0;  // callcenter::info events seen
  std::uint64_t emitted = 0;
  std::uint64_t rejected = 0;     // event messages rejected
  std::uint64_t accepted = 0;     // event messages accepted (FeedSink::accepted)
  std::uint64_t duplicates = 0;   // identical to one accepted the same day: dropped
  std::uint64_t ignored = 0;      // accepted events that are not callcenter::info or a hangup
  std::uint64_t connections = 0;  // auth/request seen
  std::uint64_t snapshots = 0;
};

class EslTranslator {
 public:
  EslTranslator(EslTranslatorOptions opts, FeedSink sink);
  ~EslTranslator();
  EslTranslator(const EslTranslator&) = delete;
  EslTranslator& operator=(const EslTranslator&) = delete;

  // `receipt`: wall-clock arrival time (live), NaN in a replay (time = Event-Date-Timestamp).
  void on_message(const EslMessage& m, double receipt);
  // Live client: every snapshot command has been answered.
  void snapshot_done(double now);
  // Live client: the connection dropped (a feed_restart at `now` when anything was told since
  // the last one).
  void on_disconnect(double now);
  void finish();

  const EslTranslatorStats& stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace callwatch::daemon
