// A consistent, self-contained copy of the engine's state at one instant: what the exporter,
// the wallboard publisher, the report and the store read. Building one never changes the engine.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "callwatch/metrics/cow_vector.hpp"
#include "callwatch/metrics/event.hpp"
#include "callwatch/metrics/settings.hpp"
#include "callwatch/metrics/shared_list.hpp"
#include "callwatch/metrics/kpi.hpp"
#include "callwatch/metrics/stats.hpp"

namespace callwatch::metrics {

struct Histogram {
  std::vector<double> bounds;          // upper bounds, ascending, +Inf implied
  std::vector<std::uint64_t> counts;   // per bucket (not cumulative); size bounds+1
  double sum = 0;
  std::uint64_t count = 0;
  void observe(double v);
};

struct Window {
  QueueCounters counters;
  double since = 0;  // start of the span these counters cover (UTC)
  double until = 0;  // end (now for open windows)
};

enum class WindowKind : std::uint8_t { interval, sliding_15m, sliding_1h, today };
inline constexpr int kWindowCount = 4;
std::string_view window_label(WindowKind w);  // "interval", "15m", "1h", "today"

// One caller waiting in a queue now, as the boards list them (protocol 1.5).
struct WaitingCaller {
  int position = 0;     // 1: the longest waiting (by entry time)
  std::string caller;   // caller ID as the feed gave it (cut to 40 bytes); "" when not given
  double entered = 0;   // UTC; the wait is now - entered
  std::string ringing;  // the agent rung for this caller now; "" when none or the feed does not say
  bool operator==(const WaitingCaller&) const = default;
};
// Callers listed per queue on the wire; the rest are counted in QueueView::waiting_unlisted.
inline constexpr int kMaxWaitingListed = 20;

struct QueueView {
  std::string name;
  QueueSettings settings;  // display name filled with the name when empty
  int calls_waiting = 0;
  double longest_wait = kNoValue;  // live: now - oldest entry among calls waiting
  std::array<Window, kWindowCount> windows;
  std::optional<Window> previous_interval;
  std::array<int, kAgentStateCount> agents{};  // members of this queue by state
  double arrival_rate = 0;                     // calls/s over the Erlang window
  double measured_aht = kNoValue;              // seconds, over the Erlang window (or today)
  std::optional<int> agents_required;          // Erlang C for the queue's T and target
  int staffed = 0;                             // members logged in and not paused (kpi staffed)
  std::optional<int> staffing_gap;             // agents_required - staffed, floored at 0
  double estimated_wait = kNoValue;            // expected wait of a caller joining now
  double surge_ratio = kNoValue;               // arrivals last 5 min / expected; no data = NaN
  std::int64_t arrivals_5m = 0;
  QueueCounters total;                         // since the engine started (Prometheus counters)
  Histogram answer_wait, abandon_wait, handle;
  bool data_gap = false;                       // a restart or feed gap touched today's numbers
  // 1.5: who is waiting, oldest first (at most kMaxWaitingListed), and how many more wait.
  std::vector<WaitingCaller> waiting_list;
  int waiting_unlisted = 0;
  // 1.5: the last hour per minute (the engine's minute buckets), oldest first, the last being the
  // current partial minute: calls that entered, and the displayed SL of that minute's outcomes
  // (NaN: no outcome in it). Empty from an older daemon.
  double trend_start = 0;  // UTC start of the first minute
  std::vector<int> trend_arrivals;
  std::vector<double> trend_sl;
};
inline constexpr int kTrendMinutes = 60;

struct AgentView {
  std::string name;
  AgentState state = AgentState::logged_out;
  double state_since = 0;
  std::string pause_reason;
  std::vector<std::string> queues;
  AgentCounters today;     // including the open span up to now
  AgentCounters interval;  // current interval, including the open span
  // 1.5: on a call, its caller ID ("" when not given) and queue; the talk time is the time in
  // the on_call state (state_since is the answer).
  std::string call_caller;
  std::string call_queue;
  // The daemon says whom the agent talks to (1.5, on a call): an empty call_caller is then a
  // withheld caller ID, not a daemon that does not tell.
  bool call_known = false;
};

// One span of an agent's day in one state (the agent timeline, protocol 1.5).
struct AgentSpan {
  double from = 0;
  double to = 0;  // the open span: the time of the reply
  AgentState state = AgentState::logged_out;
  std::string reason;  // paused: the pause reason
  bool operator==(const AgentSpan&) const = default;
};

// Spans of one agent's day kept and sent (a day of state changes every minute is 1,440).
inline constexpr std::size_t kMaxAgentSpans = 2000;

struct DataQuality {
  std::uint64_t events = 0;     // accepted events
  std::uint64_t rejected = 0;   // counted by the feed/parser, added here for reports
  std::uint64_t duplicates = 0;
  std::uint64_t restarts = 0;   // PBX restarts seen (visits cut)
  std::uint64_t visits_cut = 0;
  std::uint64_t inferred_outcomes = 0;
  std::uint64_t late_events = 0;   // older than max_lateness_seconds: counted by its time, states untouched
  std::uint64_t clock_skew = 0;    // event time ahead of the engine clock: clamped
  std::map<std::string, std::uint64_t, std::less<>> warning_counts;  // by kind
  CowVector<std::string> warnings;  // first messages, capped (shared by the snapshots' copies)
  bool gap = false;
};

enum class AlertSeverity : std::uint8_t { info, warning, critical };
enum class AlertState : std::uint8_t { inactive, pending, firing, resolved };

struct AlertView {
  std::string id;        // stable key: rule name + queue
  std::string rule;      // rule name (label `alert`)
  std::string queue;     // "" for global rules
  AlertSeverity severity = AlertSeverity::warning;
  AlertState state = AlertState::inactive;
  double value = kNoValue;
  double since = 0;      // when the current state began
  std::string message;   // English, in words (logs, Prometheus, boards before protocol 1.3)
  // What the message says, for boards that word it in their own language (protocol 1.3): the
  // rule's metric (to_string(AlertMetric)), its direction and threshold, the subject shown (the
  // queue's display name or the feed), and for a surge the agents still needed (the queue's
  // staffing gap, as the board shows it; none when 0 or unknown).
  std::string metric;
  bool above = true;
  double threshold = kNoValue;
  std::string subject;
  std::optional<int> agents_needed;
  bool acked = false;
  std::string acked_by;
  double acked_at = 0;
  std::string ack_comment;
};

// A supervisor's message to every board (protocol 1.4), shown in the kiosk's alert strip until it
// expires or is withdrawn. The daemon's publisher owns them (serve/publisher), never the engine.
struct BroadcastView {
  std::string id;         // unique within the daemon's store ("b" + posting time in ms + "-" + n)
  std::string text;       // UTF-8, bounded by the daemon (wire::kMaxBroadcastBytes)
  std::string from;       // who wrote it: the supervisor key's name, or the board's --user
  double posted_at = 0;   // daemon wall clock (UTC s)
  double expires_at = 0;  // daemon wall clock (UTC s); withdrawn earlier by a supervisor
  bool operator==(const BroadcastView&) const = default;
};

struct Snapshot {
  double now = 0;
  double interval_start = 0;
  double day_start = 0;
  // Sorted by name. Shared entry by entry with the snapshots before it (shared_list.hpp): an
  // entry at the same address as in an older snapshot is unchanged since.
  SharedList<QueueView> queues;
  SharedList<AgentView> agents;
  std::vector<AlertView> alerts;  // every rule x queue known, firing or not
  DataQuality data_quality;
  std::uint64_t events_applied = 0;
  std::uint64_t version = 0;  // bumps on every change
  std::vector<BroadcastView> broadcasts;  // live ones, sorted by id (publisher's; 1.4)
};

// A closed interval of one queue (for --interval reports and, later, the store).
struct ClosedInterval {
  std::string queue;
  double start = 0;
  double end = 0;
  QueueCounters counters;
  // Engine-wide change number of the last correction by a late event (0: never corrected); the
  // store writes a record again when it grows.
  std::uint64_t revision = 0;
};

}  // namespace callwatch::metrics
