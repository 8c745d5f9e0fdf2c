// The engine: calls, visits, queues and agents as state machines, and the windows of METRICS.md.
// Everything here runs on one thread; names are interned once so the hot path hashes a name at
// most once per event and works on integer ids afterwards.
//
// Order (METRICS.md "Event time, order and repeats"): every count lands in the interval, day and
// minute its own timestamp names. A call keeps its events, sorted by time, while it is in flight;
// an event that arrives out of order for its call takes back what the call contributed and plays
// the call again in time order. An agent keeps the state it had before its recent events (the
// last max_lateness_seconds) and those events; one out of order takes back the agent's time since
// then and walks it again. In-order events take the fast path: one step, no replay. A finished
// call is kept as a small record until its day closes, so a repeat is a duplicate however late.
#include "callwatch/metrics/engine.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "callwatch/metrics/kpi.hpp"
#include "internal/interner.hpp"
#include "internal/minute_ring.hpp"
#include "internal/state_codec.hpp"

namespace callwatch::metrics {

namespace {

using Id = internal::Id;
constexpr Id kNone = internal::kNoId;
constexpr double kSkewTolerance = 5.0;           // live: event ahead of our clock by more = skew
constexpr double kTalkingRetention = 8 * 3600.0;  // answered and not yet ended
constexpr double kStaleVisit = 6 * 3600.0;        // a caller "waiting" this long lost its outcome
// Finished calls leave memory this often (engine time) once settled: every minute kept ~70 s of a
// busy center's calls (~50k at 5,000 events/s, ~40 MB); every 15 s keeps ~25 s of them.
constexpr double kPruneEvery = 15.0;
constexpr std::size_t kMaxWarnings = 1000;
constexpr std::size_t kMaxJournal = 512;    // an agent's recent events kept for reordering
constexpr std::size_t kMaxCallOps = 256;    // a call's events kept for reordering
constexpr std::size_t kMaxCallerBytes = 40;  // caller ID kept per call (UTF-8, cut on a boundary)

// The caller ID as kept: control characters dropped, at most kMaxCallerBytes, never half a
// UTF-8 sequence.
std::string bounded_caller(std::string_view v) {
  std::string out;
  for (const char ch : v) {
    if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) continue;
    out.push_back(ch);
  }
  if (out.size() > kMaxCallerBytes) {
    std::size_t cut = kMaxCallerBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

enum class Activity : std::uint8_t { none, ringing, on_call, wrap_up };

// ---- calls ------------------------------------------------------------------------------------

// One event of a call, with names as ids: what the call's replay needs, nothing more.
struct CallOp {
  double ts = 0;
  std::uint64_t seq = 0;  // arrival order: ties of time keep it
  // PBX restarts of the call before this event arrived: a restart is a barrier, events are not
  // moved across it (a reconnect re-enters waiting callers with their first entry time).
  std::uint16_t epoch = 0;
  EventType type = EventType::call_enqueued;
  ExitReason exit_reason = ExitReason::timeout;
  bool inferred = false;
  Id queue = kNone;
  Id agent = kNone;
  double wait = kNoValue, talk = kNoValue, hold = kNoValue, wrap = kNoValue, ring_ms = kNoValue;

  // Events of one second in the order a call lives them: entry, rings, outcome, completion.
  static int rank(EventType t) {
    switch (t) {
      case EventType::call_enqueued: return 0;
      case EventType::agent_ring_noanswer: return 1;
      case EventType::call_transferred: return 2;
      case EventType::call_ended: return 4;
      case EventType::feed_restart: return 5;
      default: return 3;
    }
  }
  bool before(const CallOp& o) const {
    if (epoch != o.epoch) return epoch < o.epoch;
    if (ts != o.ts) return ts < o.ts;
    if (rank(type) != rank(o.type)) return rank(type) < rank(o.type);
    return seq < o.seq;
  }
  static bool same_num(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }
  bool same(const CallOp& o) const {
    return ts == o.ts && epoch == o.epoch && type == o.type && exit_reason == o.exit_reason && queue == o.queue &&
           agent == o.agent && inferred == o.inferred && same_num(wait, o.wait) &&
           same_num(talk, o.talk) && same_num(hold, o.hold) && same_num(wrap, o.wrap) &&
           same_num(ring_ms, o.ring_ms);
  }
};

// How a visit ended: a caller who hung up or was answered (and is still on that call) cannot
// enter the same queue again; one sent out by timeout, empty queue or key can.
enum class VisitEnd : std::uint8_t { open, answered, abandoned, left, cut };

struct Visit {
  Id queue = kNone;
  double entered = kNoValue;  // NaN: entry precedes the input
  bool done = false;          // has its outcome (or was cut)
  VisitEnd end = VisitEnd::open;
};

// What a call's events give when played in time order (rebuilt by every replay).
struct CallDerived {
  std::vector<Visit> visits;
  std::vector<Id> agents_offered;
  int queues_entered = 0;
  bool bounced = false;
  bool answered = false;
  bool ended = false;
  bool transferred = false;  // moved on by transfer after its answer: it may enter a queue again
  Id answered_queue = kNone;
  Id answered_agent = kNone;
  double answer_ts = kNoValue;

  bool waiting() const {
    return std::any_of(visits.begin(), visits.end(), [](const Visit& v) { return !v.done; });
  }
};

struct CallState {
  std::vector<CallOp> ops;  // sorted by (ts, seq)
  CallDerived d;
  double last_ts = 0;
  std::uint16_t feed = 0;
  std::uint16_t epoch = 0;  // restarts applied to it
  bool legacy = false;  // restored from a state without events: applied in arrival order only
  // Caller ID as the feed gave it on the entry (personal data: cut to kMaxCallerBytes, shown by
  // the boards in their waiting lists and agents' current calls, never in /metrics).
  std::string caller;
};

// ---- agents -----------------------------------------------------------------------------------

enum class AgentOpKind : std::uint8_t { state, answer, end, ring_stop, reset };

// What few state ops carry (the queues of a per-queue state, a pause reason): out of line and
// shared by the op's copies, so that an agent's journal, which holds every event of the lateness
// window (all 1M of a flood), is 48 bytes an op.
struct StateDetail {
  std::vector<Id> queues;  // sorted, unique
  std::string reason;
};

// One event of an agent's state machine: its own agent_state events and what its calls do to it.
struct AgentOp {
  double ts = 0;
  std::uint64_t seq = 0;
  std::uint64_t call = 0;  // answer / end / ring_stop: the call (its key), so a replay finds it
  std::shared_ptr<const StateDetail> detail;  // state: queues and reason, null when both empty
  Id queue = kNone;                           // answer / end: the call's queue
  AgentOpKind kind = AgentOpKind::state;
  AgentState state = AgentState::available;
  bool wrap_stated = false;  // end: the call_ended stated its after-call work

  // state: the queues it applies to (empty: all); paused: the reason.
  const std::vector<Id>& queues() const {
    static const std::vector<Id> kNoQueues;
    return detail ? detail->queues : kNoQueues;
  }
  std::string_view reason() const { return detail ? std::string_view(detail->reason) : std::string_view(); }
  void set_detail(std::vector<Id> qs, std::string why) {
    if (qs.empty() && why.empty()) {
      detail.reset();
      return;
    }
    detail = std::make_shared<const StateDetail>(StateDetail{std::move(qs), std::move(why)});
  }

  // Events of one second keep their arrival order (a queue_log has one-second times and its
  // order is the truth), except where the order is plain: one call's answer comes before its
  // end, and an agent's call ends before the agent answers another one.
  bool before(const AgentOp& o) const {
    if (ts != o.ts) return ts < o.ts;
    const bool calls = call != 0 && o.call != 0;
    if (calls && kind == AgentOpKind::answer && o.kind == AgentOpKind::end) return call == o.call;
    if (calls && kind == AgentOpKind::end && o.kind == AgentOpKind::answer) return call != o.call;
    return seq < o.seq;
  }
  bool same(const AgentOp& o) const {
    return ts == o.ts && kind == o.kind && state == o.state && wrap_stated == o.wrap_stated &&
           queue == o.queue && call == o.call && queues() == o.queues() && reason() == o.reason();
  }
};

struct AgentMachine {
  bool logged_in = false;
  std::vector<Id> members;    // queues, sorted
  std::vector<Id> paused_in;  // queues, sorted
  bool paused_all = false;
  std::string pause_reason;
  Activity activity = Activity::none;
  AgentState state = AgentState::logged_out;
  double state_since = 0;  // when the current state began (shown as "time in state")
  double wrap_started = 0;
  bool wrap_stated = false;  // the last call_ended stated its after-call work: not timed again
  Id last_call_queue = kNone;
  std::uint64_t call = 0;         // on_call: the call (its key) the agent answered
  std::uint64_t ringing_for = 0;  // ringing: the call the feed said it rings for (0: not said)
};

struct AgentStateRec {
  std::string name;
  AgentMachine m;     // now: after every event of the journal
  AgentMachine base;  // before the journal's events
  double base_t = 0;  // time of `base`
  std::vector<AgentOp> journal;  // sorted by (ts, seq), all at or after base_t
  double accounted_to = 0;  // time in state is counted up to here
  AgentCounters interval, today;
  std::uint16_t feed = 0;
};

// A call waiting in a queue: its entry time and the call's key (0: a state restored without it).
struct WaitEntry {
  double entered = 0;
  std::uint64_t call = 0;
  bool operator<(const WaitEntry& o) const {
    return entered != o.entered ? entered < o.entered : call < o.call;
  }
};

struct QueueState {
  std::string name;
  QueueSettings settings;
  std::multiset<WaitEntry> waiting;  // calls waiting now, oldest first
  QueueCounters interval, today, total;
  std::optional<Window> previous;
  internal::MinuteRing<QueueCounters> ring;
  // The last hour per minute as the snapshot sends it, built again only when a count lands in
  // the ring or the minute turns (500 queues x 60 minutes at every publish otherwise).
  mutable std::int64_t trend_minute = INT64_MIN;
  mutable bool trend_dirty = true;
  mutable std::vector<int> trend_arrivals;
  mutable std::vector<double> trend_sl;
  Histogram answer_wait, abandon_wait, handle;
  bool gap = false;
  // Bumped by everything that changes what the queue's view shows: a count, a span of member
  // time, the waiting list, a member's state, a ring for a caller waiting here. The snapshot
  // builds the queue's view again only when it moved (or the clock did, see queue_view_current).
  mutable std::uint64_t changes = 0;
};

// Calls in flight and recently finished: a slab of states with a flat index on the call id.
class CallTable {
 public:
  CallState* find(std::string_view id, std::uint64_t h) {
    const Id found = index_.find(id, h, [this](Id i) { return std::string_view(ids_[i]); });
    return found == internal::FlatIndex::kEmpty ? nullptr : &states_[found];
  }
  // By the key alone (what a waiting entry or an agent keeps): the first call with that hash.
  const CallState* find_key(std::uint64_t h) const {
    if (h == 0) return nullptr;
    const Id found = index_.find_hash(h, [this, h](Id i) { return hashes_[i] == h; });
    return found == internal::FlatIndex::kEmpty ? nullptr : &states_[found];
  }
  CallState& get_or_add(std::string_view id) {
    const std::uint64_t h = internal::hash_key(id);
    if (CallState* c = find(id, h)) return *c;
    return add(id, h);
  }
  CallState& add(std::string_view id, std::uint64_t h) {
    const Id n = static_cast<Id>(ids_.size());
    ids_.emplace_back(id);
    hashes_.push_back(h);
    states_.emplace_back();
    index_.insert(h, n);
    return states_.back();
  }
  std::size_t size() const { return ids_.size(); }
  template <typename F>
  void for_each(F&& f) {
    for (std::size_t i = 0; i < ids_.size(); ++i) f(ids_[i], hashes_[i], states_[i]);
  }
  template <typename F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < ids_.size(); ++i) f(ids_[i], hashes_[i], states_[i]);
  }
  template <typename Pred>
  void remove_if(Pred&& pred) {
    auto key = [this](Id i) { return std::string_view(ids_[i]); };
    for (std::size_t i = 0; i < ids_.size();) {
      if (!pred(hashes_[i], states_[i])) {
        ++i;
        continue;
      }
      index_.erase(ids_[i], hashes_[i], key);
      const std::size_t last = ids_.size() - 1;
      if (i != last) {
        index_.reassign(hashes_[last], static_cast<Id>(last), static_cast<Id>(i));
        ids_[i] = std::move(ids_[last]);
        hashes_[i] = hashes_[last];
        states_[i] = std::move(states_[last]);
      }
      ids_.pop_back();
      hashes_.pop_back();
      states_.pop_back();
    }
  }

 private:
  std::vector<std::string> ids_;
  std::vector<std::uint64_t> hashes_;
  std::vector<CallState> states_;
  internal::FlatIndex index_;
};

// Finished calls until their day closes: 16 bytes each (the call id's 64-bit hash, the first two
// queues it may not enter again). The table grows by half (not doubling) and keeps its size when
// the day closes, so a day of a million calls takes about 21 MB and the next day no more.
class FinishedCalls {
 public:
  struct Rec {
    std::uint64_t key = 0;  // 0: empty slot
    Id q0 = kNone;
    Id q1 = kNone;  // kMany: more queues, listed in many_
  };
  static constexpr Id kMany = kNone - 1;

  const Rec* find(std::uint64_t key) const {
    if (slots_.empty()) return nullptr;
    key = fix(key);
    for (std::size_t i = home(key);; i = next(i)) {
      if (slots_[i].key == 0) return nullptr;
      if (slots_[i].key == key) return &slots_[i];
    }
  }
  bool visited(const Rec& r, Id q) const {
    if (q == kNone) return false;  // a queue never seen
    if (r.q0 == q || r.q1 == q) return true;
    if (r.q1 != kMany) return false;
    auto it = many_.find(r.key);
    return it != many_.end() && std::find(it->second.begin(), it->second.end(), q) != it->second.end();
  }
  void add(std::uint64_t key, const std::vector<Id>& queues) {
    if ((size_ + 1) * 5 > slots_.size() * 4) grow();
    key = fix(key);
    Rec r{key, queues.empty() ? kNone : queues[0], queues.size() > 1 ? queues[1] : kNone};
    if (queues.size() > 2) {
      r.q1 = kMany;
      many_[key] = queues;
    }
    if (place(r)) ++size_;
  }
  void clear() {
    std::fill(slots_.begin(), slots_.end(), Rec{});  // the next day needs about as many
    many_.clear();
    size_ = 0;
  }
  std::size_t size() const { return size_; }
  std::size_t bytes() const { return slots_.capacity() * sizeof(Rec); }
  template <typename F>
  void for_each(F&& f) const {
    for (const Rec& r : slots_) {
      if (r.key == 0) continue;
      std::vector<Id> qs;
      if (r.q0 != kNone) qs.push_back(r.q0);
      if (r.q1 == kMany) qs = many_.at(r.key);
      else if (r.q1 != kNone) qs.push_back(r.q1);
      f(r.key, qs);
    }
  }

 private:
  static std::uint64_t fix(std::uint64_t k) { return k == 0 ? 1 : k; }
  // Any table size: the hash scaled to it (no power of two needed).
  std::size_t home(std::uint64_t key) const {
    const std::uint64_t mixed = key * 0x9e3779b97f4a7c15ull;
    return static_cast<std::size_t>((mixed >> 32) * slots_.size() >> 32);  // tables under 2^32
  }
  std::size_t next(std::size_t i) const { return i + 1 == slots_.size() ? 0 : i + 1; }
  bool place(const Rec& r) {
    for (std::size_t i = home(r.key);; i = next(i)) {
      if (slots_[i].key == r.key) {
        slots_[i] = r;
        return false;
      }
      if (slots_[i].key == 0) {
        slots_[i] = r;
        return true;
      }
    }
  }
  void grow() {
    std::vector<Rec> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() + old.size() / 2, Rec{});
    for (const Rec& r : old)
      if (r.key != 0) place(r);
  }
  std::vector<Rec> slots_;
  std::unordered_map<std::uint64_t, std::vector<Id>> many_;
  std::size_t size_ = 0;
};

void insert_sorted(std::vector<Id>& v, Id id) {
  auto it = std::lower_bound(v.begin(), v.end(), id);
  if (it == v.end() || *it != id) v.insert(it, id);
}
bool erase_sorted(std::vector<Id>& v, Id id) {
  auto it = std::lower_bound(v.begin(), v.end(), id);
  if (it == v.end() || *it != id) return false;
  v.erase(it);
  return true;
}
bool contains_sorted(const std::vector<Id>& v, Id id) {
  return std::binary_search(v.begin(), v.end(), id);
}

std::vector<double> merged_bounds(std::vector<double> base, const EngineSettings& s) {
  base.push_back(s.queue_defaults.sl_threshold);
  base.push_back(s.queue_defaults.short_abandon);
  for (const auto& [name, q] : s.queues) {
    base.push_back(q.sl_threshold);
    base.push_back(q.short_abandon);
  }
  base.erase(std::remove_if(base.begin(), base.end(), [](double b) { return !(b > 0); }),
             base.end());
  std::sort(base.begin(), base.end());
  base.erase(std::unique(base.begin(), base.end()), base.end());
  return base;
}

Histogram make_histogram(const std::vector<double>& bounds) {
  Histogram h;
  h.bounds = bounds;
  h.counts.assign(bounds.size() + 1, 0);
  return h;
}

// A histogram observation taken back (sign -1) or made (+1).
void observe(Histogram& h, double v, int sign) {
  if (sign > 0) {
    h.observe(v);
    return;
  }
  if (h.counts.size() != h.bounds.size() + 1) return;
  const auto it = std::lower_bound(h.bounds.begin(), h.bounds.end(), v);
  auto& c = h.counts[static_cast<std::size_t>(it - h.bounds.begin())];
  if (c > 0) --c;
  h.sum -= v;
  if (h.count > 0) --h.count;
}

std::string fmt_ts(double t) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", t);
  return buf;
}

}  // namespace

void Histogram::observe(double v) {
  if (counts.size() != bounds.size() + 1) counts.assign(bounds.size() + 1, 0);
  const auto it = std::lower_bound(bounds.begin(), bounds.end(), v);  // le: v <= bound
  counts[static_cast<std::size_t>(it - bounds.begin())]++;
  sum += v;
  count++;
}

std::string_view window_label(WindowKind w) {
  switch (w) {
    case WindowKind::interval: return "interval";
    case WindowKind::sliding_15m: return "15m";
    case WindowKind::sliding_1h: return "1h";
    case WindowKind::today: return "today";
  }
  return "";
}

struct Engine::Impl {
  EngineSettings settings;
  const Clock* clock = nullptr;
  std::vector<double> wait_bounds, handle_bounds;

  // The agent views of the last snapshot, by agent id, and the memberships they were built from:
  // the next snapshot reuses a view while it still holds (agent_view_current), so a publish after
  // a few events builds a few views, not 10,000. Ids by name, and queue ids by name, are kept
  // until an agent or a queue is added (names never change).
  mutable std::vector<std::shared_ptr<AgentView>> agent_views;
  mutable std::vector<std::vector<Id>> agent_view_members;
  mutable std::vector<Id> agent_order, queue_order;

  internal::Interner queue_names, agent_names, feed_names;
  std::vector<QueueState> queues;
  std::vector<AgentStateRec> agents;
  CallTable calls;
  FinishedCalls finished;
  bool finished_rows_on = false;                // serialize() leaves `finished` out
  std::vector<Engine::FinishedRow> finished_log;  // finished since the last take (rows on)
  double last_prune = 0;

  bool started = false;
  double start_time = 0;  // first instant the engine saw (replay: first event)
  double now = 0;
  double max_ts = -1e300;  // newest event time applied (the lateness bound counts from it)
  std::uint64_t seq = 0;   // arrival number of events
  double interval_start = 0;
  double interval_end = 0;
  double day_start = 0;
  double next_day_start = 0;
  std::vector<ClosedInterval> closed;
  std::uint64_t revision = 0;  // closed intervals corrected so far
  DataQuality dq;
  // note_gap today: a queue first seen later today (a configured one declared after the restore,
  // one whose figures the lost state held) carries the flag too. Not part of the saved state: a
  // restart that loses state notes the gap again.
  bool gap_today = false;
  std::uint64_t version = 0;
  std::uint64_t events_applied = 0;

  // Replays: -1 takes a contribution back, +1 makes it, 0 only rebuilds state (restore).
  int sign = 1;
  bool replaying = false;  // warnings are counted but their text is not listed again
  bool rebuilding = false;  // a call replay: the waiting list is redone once at its end

  // Lateness counts per feed: two PBXs whose clocks differ by more than the bound do not make
  // each other's events late.
  std::vector<double> feed_max_ts{-1e300};
  double horizon(std::uint16_t feed = 0) const {
    const double m = feed < feed_max_ts.size() ? feed_max_ts[feed] : max_ts;
    return m - settings.max_lateness_seconds;
  }

  // ---- time -------------------------------------------------------------------------------
  void start_at(double t) {
    started = true;
    start_time = t;
    now = t;
    interval_start = settings.tz.interval_start(t, settings.interval_minutes);
    interval_end = interval_start + settings.interval_minutes * 60.0;
    day_start = settings.tz.day_start(t, settings.day_start_seconds);
    next_day_start = settings.tz.day_start(day_start + 86400 + 7200, settings.day_start_seconds);
  }

  // ---- where a count lands: by its own time ----------------------------------------------
  // The closed interval of queue q that holds time t, made when a late count needs it.
  QueueCounters* closed_at(const QueueState& q, double t, bool create) {
    for (std::size_t i = closed.size(); i-- > 0;) {
      ClosedInterval& ci = closed[i];
      if (ci.end <= t) break;
      if (ci.start <= t && ci.queue == q.name) {
        ci.revision = ++revision;
        return &ci.counters;
      }
    }
    if (!create || t < day_start) return nullptr;  // older days: in the total only
    const double start = settings.tz.interval_start(t, settings.interval_minutes);
    double end = settings.tz.interval_start(start + settings.interval_minutes * 60.0 + 1,
                                            settings.interval_minutes);
    if (end <= start) end = start + settings.interval_minutes * 60.0;
    auto at = std::upper_bound(closed.begin(), closed.end(), start,
                               [](double s, const ClosedInterval& c) { return s < c.start; });
    at = closed.insert(at, ClosedInterval{q.name, start, end, QueueCounters{}, ++revision});
    return &at->counters;
  }

  template <typename F>
  void count(QueueState& q, double t, F&& f) {
    ++q.changes;
    f(q.total);
    if (t >= day_start) f(q.today);
    if (t >= interval_start) {
      f(q.interval);
    } else {
      if (QueueCounters* c = closed_at(q, t, sign > 0)) f(*c);
      if (q.previous && t >= q.previous->since && t < q.previous->until) f(q.previous->counters);
    }
    if (QueueCounters* b = q.ring.find(t, std::max(now, t))) {
      f(*b);
      q.trend_dirty = true;
    }
  }
  template <typename F>
  void count_agent(AgentStateRec& a, double t, F&& f) {
    changed_agent(a);
    if (t >= day_start) f(a.today);
    if (t >= interval_start) f(a.interval);
  }

  // A span [from, to) of a queue's member time into the windows it overlaps.
  void span_queue(QueueState& q, double QueueCounters::*field, double from, double to) {
    if (!(to > from)) return;
    ++q.changes;
    const double s = sign;
    q.total.*field += s * (to - from);
    if (to > day_start) q.today.*field += s * (to - std::max(from, day_start));
    if (to > interval_start) q.interval.*field += s * (to - std::max(from, interval_start));
    if (from < interval_start) {
      // Only a replay of an agent's time reaches back here: correct the closed intervals.
      for (std::size_t i = closed.size(); i-- > 0;) {
        ClosedInterval& ci = closed[i];
        if (ci.end <= from) break;
        if (ci.queue != q.name || ci.start >= to) continue;
        const double d = std::min(to, ci.end) - std::max(from, ci.start);
        if (d > 0) {
          ci.counters.*field += s * d;
          ci.revision = ++revision;
        }
      }
      if (q.previous) {
        const double d = std::min(to, q.previous->until) - std::max(from, q.previous->since);
        if (d > 0) q.previous->counters.*field += s * d;
      }
    }
    const double ring_now = std::max(now, to);
    for (double t = std::max(from, to - internal::MinuteRing<QueueCounters>::kMinutes * 60.0); t < to;) {
      const double end = std::min(to, std::floor(t / 60.0) * 60.0 + 60.0);
      if (QueueCounters* b = q.ring.find(t, ring_now)) b->*field += s * (end - t);
      t = end;
    }
  }
  void span_agent(AgentStateRec& a, const AgentMachine& m, double from, double to) {
    if (!(to > from)) return;
    if (m.state == AgentState::logged_out) return;  // time logged out is not counted
    const double s = sign;
    const int st = static_cast<int>(m.state);
    auto add = [&](AgentCounters& c, double lo) {
      const double d = to - std::max(from, lo);
      if (d <= 0) return;
      c.state_seconds[st] += s * d;
      if (m.state == AgentState::paused) {
        double& r = c.paused_by_reason[m.pause_reason];
        r += s * d;
        if (std::abs(r) < 1e-9) c.paused_by_reason.erase(m.pause_reason);
      }
    };
    add(a.today, day_start);
    add(a.interval, interval_start);
  }

  // A member's state as one of its queues sees it: paused only where it is paused (or paused in
  // all), available elsewhere.
  static AgentState state_in(const AgentMachine& a, Id q) {
    if (!a.logged_in) return AgentState::logged_out;
    AgentState st = a.state;
    if (st == AgentState::paused || st == AgentState::available) {
      st = (a.paused_all || contains_sorted(a.paused_in, q)) ? AgentState::paused
                                                              : AgentState::available;
    }
    return st;
  }
  // The queue counter a member's time in `st` adds to (nullptr: none).
  static double QueueCounters::*agent_time_field(AgentState st) {
    switch (st) {
      case AgentState::on_call:
      case AgentState::wrap_up: return &QueueCounters::agent_busy_seconds;
      case AgentState::available:
      case AgentState::ringing: return &QueueCounters::agent_idle_seconds;
      case AgentState::paused: return &QueueCounters::agent_paused_seconds;
      case AgentState::logged_out: break;
    }
    return nullptr;
  }

  // The time [from, to) of an agent in machine state m: its own counters and its queues'.
  void accrue(AgentStateRec& a, const AgentMachine& m, double from, double to) {
    if (sign == 0 || !(to > from)) return;
    span_agent(a, m, from, to);
    for (Id q : m.members) {
      if (double QueueCounters::*field = agent_time_field(state_in(m, q))) span_queue(queues[q], field, from, to);
    }
  }
  void accrue_agent(AgentStateRec& a, double t) {
    if (t <= a.accounted_to) return;
    const int saved = sign;
    sign = 1;
    accrue(a, a.m, a.accounted_to, t);
    sign = saved;
    a.accounted_to = t;
  }

  void close_interval(double boundary) {
    for (auto& a : agents) accrue_agent(a, boundary);
    changed_all();
    for (auto& q : queues) {
      if (q.interval.offered() > 0 || q.interval.arrivals > 0 || q.interval.handled > 0 ||
          q.interval.transferred_out > 0 || q.interval.ring_noanswer > 0) {
        closed.push_back(ClosedInterval{q.name, interval_start, boundary, q.interval, 0});
      }
      Window w;
      w.counters = q.interval;
      w.since = std::max(interval_start, start_time);
      w.until = boundary;
      q.previous = w;
      q.interval = QueueCounters{};
    }
    for (auto& a : agents) a.interval = AgentCounters{};
    if (closed.size() > settings.max_closed_intervals) {
      closed.erase(closed.begin(),
                   closed.begin() + static_cast<long>(closed.size() - settings.max_closed_intervals));
    }
    if (boundary >= next_day_start) {
      for (auto& q : queues) {
        q.today = QueueCounters{};
        q.gap = false;
      }
      for (auto& a : agents) a.today = AgentCounters{};
      day_start = next_day_start;
      next_day_start = settings.tz.day_start(day_start + 86400 + 7200, settings.day_start_seconds);
      dq.gap = false;
      gap_today = false;
      finished.clear();  // repeats are recognised within their day
      finished_log.clear();
    }
    ++version;
  }

  void advance(double t) {
    if (!started) {
      start_at(t);
      return;
    }
    if (t <= now) return;
    const double span = settings.interval_minutes * 60.0;
    // A jump of days (clock change, replay gap): close the current interval once, then skip the
    // empty ones instead of walking through each.
    if (t - interval_end > 2 * 86400.0) {
      close_interval(interval_end);
      const double new_start = settings.tz.interval_start(t, settings.interval_minutes);
      for (auto& a : agents) a.accounted_to = std::max(a.accounted_to, new_start);
      changed_all();
      for (auto& q : queues) q.today = QueueCounters{};
      for (auto& a : agents) a.today = AgentCounters{};
      finished.clear();
      finished_log.clear();
      interval_start = new_start;
      interval_end = new_start + span;
      day_start = settings.tz.day_start(t, settings.day_start_seconds);
      next_day_start = settings.tz.day_start(day_start + 86400 + 7200, settings.day_start_seconds);
    }
    while (t >= interval_end) {
      close_interval(interval_end);
      interval_start = interval_end;
      // Recompute rather than add: a DST change can make a local interval start move.
      interval_end = settings.tz.interval_start(interval_start + span + 1, settings.interval_minutes);
      if (interval_end <= interval_start) interval_end = interval_start + span;
    }
    now = t;
    prune_calls(t);
  }

  void prune_calls(double t) {
    // Every kPruneEvery s of engine time: O(calls), a few ms even for a million calls.
    if (t - last_prune < kPruneEvery) return;
    last_prune = t;
    std::uint64_t stale = 0;
    calls.for_each([&](const std::string&, std::uint64_t key, CallState& c) {
      for (auto& v : c.d.visits) {
        if (v.done || !has_value(v.entered) || t - v.entered < kStaleVisit) continue;
        // The feed lost this visit's outcome: stop counting it as waiting, never as offered.
        leave_waiting(queues[v.queue], v, key);
        v.done = true;
        v.end = VisitEnd::cut;
        c.legacy = true;  // its events no longer replay to this state
        queues[v.queue].gap = true;
        ++queues[v.queue].changes;
        ++stale;
      }
    });
    if (stale > 0) {
      dq.visits_cut += stale;
      warn("stale_visit", std::to_string(stale) + " visit(s) waiting over " +
                              std::to_string(static_cast<int>(kStaleVisit / 3600)) +
                              " h without an outcome were closed (not offered)");
    }
    // Finished and settled (nothing can arrive in time to change them): keep a small record.
    calls.remove_if([&](std::uint64_t key, const CallState& c) {
      const double settled = std::min(horizon(c.feed), t - settings.max_lateness_seconds);
      if (c.d.waiting()) return false;
      const bool talking = c.d.answered && !c.d.ended;
      if (talking ? t - c.last_ts <= kTalkingRetention : c.last_ts >= settled) return false;
      // The queues it may not enter again (answered or abandoned there last).
      std::vector<Id> qs;
      for (auto it = c.d.visits.rbegin(); it != c.d.visits.rend(); ++it) {
        if (std::any_of(c.d.visits.rbegin(), it, [&](const Visit& v) { return v.queue == it->queue; })) continue;
        if (it->end == VisitEnd::answered || it->end == VisitEnd::abandoned) qs.push_back(it->queue);
      }
      changed_by_call(c);
      finished.add(key, qs);
      if (finished_rows_on) finished_log.push_back({day_start, key, qs});
      return true;
    });
  }

  // ---- names ------------------------------------------------------------------------------
  Id queue_id(std::string_view name) {
    auto [id, added] = queue_names.intern(name);
    if (added) {
      QueueState q;
      q.name = std::string(name);
      q.settings = settings.for_queue(name);
      if (q.settings.display_name.empty()) q.settings.display_name = q.name;
      q.answer_wait = make_histogram(wait_bounds);
      q.abandon_wait = make_histogram(wait_bounds);
      q.handle = make_histogram(handle_bounds);
      q.gap = gap_today;
      queues.push_back(std::move(q));
    }
    return id;
  }
  Id agent_id(std::string_view name) {
    auto [id, added] = agent_names.intern(name);
    if (added) {
      AgentStateRec a;
      a.name = std::string(name);
      a.m.state_since = now;
      a.accounted_to = -1e300;  // nothing counted yet: its first event may be older than now
      a.base = a.m;
      a.base_t = -1e300;
      agents.push_back(std::move(a));
      changed_agent(id);
    }
    return id;
  }
  std::uint16_t feed_id(std::string_view name) {
    if (name.empty()) return 0;
    // Events come in runs from one feed: the last name answers without a hash (a copy of it, not
    // a view, since callers' buffers are reused).
    if (last_feed_fid != 0 && name == last_feed_name) return last_feed_fid;
    auto [id, added] = feed_names.intern(name);
    const auto fid = static_cast<std::uint16_t>(std::min<Id>(id + 1, 65535));
    if (feed_max_ts.size() <= fid) feed_max_ts.resize(fid + 1u, -1e300);
    last_feed_name.assign(name);
    last_feed_fid = fid;
    return fid;
  }
  std::string last_feed_name;
  std::uint16_t last_feed_fid = 0;
  std::uint16_t event_feed = 0;  // the feed id of the event being applied, resolved once in apply()

  void warn(std::string_view kind, std::string msg) {
    auto it = dq.warning_counts.find(kind);
    if (sign < 0) {
      if (it != dq.warning_counts.end() && it->second > 0) --it->second;
      return;
    }
    if (sign == 0) return;
    if (it == dq.warning_counts.end()) dq.warning_counts.emplace(std::string(kind), 1);
    else ++it->second;
    if (!replaying && dq.warnings.size() < kMaxWarnings) dq.warnings.push_back(std::move(msg));
  }

  // ---- agents: the state machine and its journal ------------------------------------------
  // Applies one op to machine m at time `at`; wrap-up time it ends counts at `at`.
  void step_agent(AgentStateRec& a, AgentMachine& m, const AgentOp& op) {
    const double at = op.ts;
    switch (op.kind) {
      case AgentOpKind::answer:
        m.logged_in = true;
        if (op.queue != kNone) insert_sorted(m.members, op.queue);
        m.activity = Activity::on_call;
        m.last_call_queue = op.queue;
        m.wrap_stated = false;
        m.call = op.call;
        break;
      case AgentOpKind::end:
        if (op.wrap_stated) m.wrap_stated = true;
        if (m.activity == Activity::on_call || m.activity == Activity::ringing) {
          m.activity = settings.wrap_up_after_call ? Activity::wrap_up : Activity::none;
        }
        if (op.queue != kNone) m.last_call_queue = op.queue;
        if (op.call == m.call || m.activity != Activity::on_call) m.call = 0;
        break;
      case AgentOpKind::ring_stop:
        if (m.activity == Activity::ringing) m.activity = Activity::none;
        break;
      case AgentOpKind::reset:
        // PBX restart: its calls and pauses are over; what follows tells the new state.
        m.activity = Activity::none;
        m.paused_in.clear();
        m.paused_all = false;
        break;
      case AgentOpKind::state: step_agent_state(m, op); break;
    }
    update_state(a, m, at);
    if (m.state != AgentState::on_call) m.call = 0;
    if (m.state != AgentState::ringing) m.ringing_for = 0;
  }

  void step_agent_state(AgentMachine& m, const AgentOp& op) {
    const auto& qs = op.queues();
    switch (op.state) {
      case AgentState::logged_out:
        if (qs.empty()) {
          m.members.clear();
        } else {
          for (Id q : qs) {
            erase_sorted(m.members, q);
            erase_sorted(m.paused_in, q);
          }
        }
        if (m.members.empty()) {
          m.logged_in = false;
          m.activity = Activity::none;
          m.paused_in.clear();
          m.paused_all = false;
        }
        break;
      case AgentState::paused: {
        m.logged_in = true;
        // A pause ends a ring (a feed may never say that the ring stopped); a call or after-call
        // work goes on, and the pause counts from its end.
        if (m.activity == Activity::ringing) m.activity = Activity::none;
        const bool was_paused = m.paused_all || !m.paused_in.empty();
        if (!was_paused || op.reason() != m.pause_reason) m.pause_reason = std::string(op.reason());
        if (qs.empty()) {
          // Paused in every queue it is in: unpausing one of them later leaves the others paused.
          m.paused_all = true;
          for (Id q : m.members) insert_sorted(m.paused_in, q);
        } else {
          for (Id q : qs) {
            insert_sorted(m.members, q);
            insert_sorted(m.paused_in, q);
          }
        }
        break;
      }
      case AgentState::available:
        m.logged_in = true;
        if (qs.empty()) {
          m.paused_in.clear();
          m.paused_all = false;
        } else {
          for (Id q : qs) {
            insert_sorted(m.members, q);
            erase_sorted(m.paused_in, q);
          }
          m.paused_all = false;  // the queues still listed stay paused
        }
        // Available ends ringing and after-call work; a call ends only with its call_ended (an
        // unpause during a call leaves the agent on the call: one state at a time).
        if (m.activity != Activity::on_call) m.activity = Activity::none;
        break;
      case AgentState::ringing:
      case AgentState::on_call:
      case AgentState::wrap_up:
        m.logged_in = true;
        for (Id q : qs) insert_sorted(m.members, q);
        m.activity = op.state == AgentState::ringing  ? Activity::ringing
                     : op.state == AgentState::on_call ? Activity::on_call
                                                       : Activity::wrap_up;
        if (op.state == AgentState::ringing) m.ringing_for = op.call;
        break;
    }
  }

  void update_state(AgentStateRec& a, AgentMachine& m, double at) {
    AgentState s;
    if (!m.logged_in) s = AgentState::logged_out;
    else if (m.activity == Activity::on_call) s = AgentState::on_call;
    else if (m.activity == Activity::ringing) s = AgentState::ringing;
    else if (m.activity == Activity::wrap_up) s = AgentState::wrap_up;
    else if (m.paused_all || !m.paused_in.empty()) s = AgentState::paused;
    else s = AgentState::available;
    if (s == m.state) return;
    if (m.state == AgentState::wrap_up && m.last_call_queue != kNone && !m.wrap_stated && sign != 0) {
      // After-call work belongs to the handle time of the call it followed (unless the feed
      // already stated it on call_ended).
      const double wrap = at - m.wrap_started;
      if (wrap > 0) {
        const double sw = sign * wrap;
        count_agent(a, at, [&](AgentCounters& c) { c.wrap_seconds += sw; });
        count(queues[m.last_call_queue], at, [&](QueueCounters& k) { k.handle_sum += sw; });
      }
    }
    if (m.state == AgentState::wrap_up) m.wrap_stated = false;
    if (s == AgentState::wrap_up) m.wrap_started = at;
    m.state = s;
    m.state_since = at;
  }

  // Plays the journal from `base`, counting time up to `until` with the current sign.
  AgentMachine walk(AgentStateRec& a, double until) {
    AgentMachine m = a.base;
    double t = a.base_t;
    for (const AgentOp& op : a.journal) {
      if (op.ts > t) {
        accrue(a, m, t, op.ts);
        t = op.ts;
      }
      step_agent(a, m, op);
    }
    if (until > t) accrue(a, m, t, until);
    return m;
  }

  // Events older than the lateness bound are final: they move into `base`.
  void settle(AgentStateRec& a) {
    const double h = horizon(a.feed);
    std::size_t n = 0;
    while (n < a.journal.size() && (a.journal[n].ts < h || a.journal.size() - n > kMaxJournal)) ++n;
    if (n == 0) return;
    const int saved = sign;
    sign = 0;
    for (std::size_t i = 0; i < n; ++i) step_agent(a, a.base, a.journal[i]);
    sign = saved;
    a.base_t = a.journal[n - 1].ts;
    a.journal.erase(a.journal.begin(), a.journal.begin() + static_cast<long>(n));
  }

  // Takes back the agent's time since `base`, changes the journal, and walks it again.
  template <typename F>
  void rewalk(AgentStateRec& a, F&& change) {
    const int saved = sign;
    const bool saved_replaying = replaying;
    replaying = true;
    sign = -1;
    walk(a, a.accounted_to);
    change();
    double until = a.accounted_to;
    if (!a.journal.empty()) until = std::max(until, a.journal.back().ts);
    sign = 1;
    a.m = walk(a, until);
    a.accounted_to = until;
    sign = saved;
    replaying = saved_replaying;
  }

  // One op for agent `aid`. Returns false for an identical repeat. An op older than the agent's
  // settled state leaves the state alone (late).
  bool agent_op(Id aid, AgentOp op, std::uint16_t feed) {
    changed_agent(aid);
    AgentStateRec& a = agents[aid];
    if (feed != 0) a.feed = feed;
    settle(a);
    if (op.ts < a.base_t) return true;  // later than the bound: states untouched
    for (const AgentOp& o : a.journal) {
      if (o.same(op)) return false;
    }
    const bool in_order = (a.journal.empty() || !op.before(a.journal.back())) && op.ts >= a.accounted_to;
    if (in_order && sign == 1) {
      accrue_agent(a, op.ts);
      step_agent(a, a.m, op);
      a.journal.push_back(std::move(op));
      return true;
    }
    // Later than the bound and not after everything the agent did: its states and spans are
    // not rewritten (the event still counts as late).
    if (op.ts < horizon(a.feed)) return true;
    rewalk(a, [&] {
      auto at = std::upper_bound(a.journal.begin(), a.journal.end(), op,
                                 [](const AgentOp& x, const AgentOp& y) { return x.before(y); });
      a.journal.insert(at, std::move(op));
    });
    return true;
  }

  // Removes an op a call replay no longer gives (false when it is settled already).
  void agent_op_remove(Id aid, const AgentOp& op) {
    changed_agent(aid);
    AgentStateRec& a = agents[aid];
    auto it = std::find_if(a.journal.begin(), a.journal.end(), [&](const AgentOp& o) { return o.same(op); });
    if (it == a.journal.end() || op.ts < horizon(a.feed)) return;
    const std::size_t idx = static_cast<std::size_t>(it - a.journal.begin());
    rewalk(a, [&] { a.journal.erase(a.journal.begin() + static_cast<long>(idx)); });
  }

  // ---- calls: one step per event, replayed in time order when one comes out of order --------
  struct Emitted {
    Id agent;
    AgentOp op;
  };
  std::vector<Emitted>* emit_to = nullptr;  // a replay collects the agent ops of its call here
  std::uint64_t call_key = 0;               // the call being stepped
  std::uint16_t call_feed = 0;

  void emit(Id aid, AgentOp op) {
    if (sign == 0) return;
    op.call = call_key;
    if (emit_to) emit_to->push_back(Emitted{aid, std::move(op)});
    else agent_op(aid, std::move(op), call_feed);
  }

  static void note_max_wait(QueueCounters& c, double wait) {
    if (!has_value(wait)) return;
    c.max_wait = has_value(c.max_wait) ? std::max(c.max_wait, wait) : wait;
  }

  void check_bounce(CallDerived& c, Id queue, double t) {
    if (c.bounced || queue == kNone) return;
    if (static_cast<int>(c.agents_offered.size()) >= 3 || c.queues_entered >= 3) {
      c.bounced = true;
      const std::int64_t s = sign;
      count(queues[queue], t, [s](QueueCounters& k) { k.bounced += s; });
    }
  }

  // Finds the visit of (call, queue) that an outcome closes: the latest open one, else the
  // latest one (a second outcome), else none.
  static Visit* find_visit(CallDerived& c, Id queue) {
    Visit* last = nullptr;
    for (auto it = c.visits.rbegin(); it != c.visits.rend(); ++it) {
      if (it->queue != queue) continue;
      if (!it->done) return &*it;
      if (!last) last = &*it;
    }
    return last;
  }

  static void leave_waiting(QueueState& q, const Visit& v, std::uint64_t key) {
    if (!has_value(v.entered)) return;
    ++q.changes;
    auto it = q.waiting.find(WaitEntry{v.entered, key});
    // A state restored without keys holds the entry under key 0.
    if (it == q.waiting.end()) it = q.waiting.find(WaitEntry{v.entered, 0});
    if (it != q.waiting.end()) q.waiting.erase(it);
  }
  // Visit changes touch the waiting list only on the fast path; a replay redoes it as a whole.
  void waiting_add(const Visit& v) {
    if (sign == 1 && !rebuilding && has_value(v.entered)) {
      queues[v.queue].waiting.insert(WaitEntry{v.entered, call_key});
      ++queues[v.queue].changes;
    }
  }
  void waiting_remove(const Visit& v) {
    if (sign == 1 && !rebuilding) leave_waiting(queues[v.queue], v, call_key);
  }

  std::string call_name;  // the call id of the event being applied (for warnings)

  ApplyResult step_enqueued(CallDerived& c, const CallOp& e) {
    Visit* last = nullptr;
    for (auto& v : c.visits) {
      if (v.queue != e.queue) continue;
      last = &v;
      if (!v.done) {
        warn("duplicate_enqueue", "call " + call_name + " entered queue " + queues[e.queue].name +
                                      " twice without an outcome");
        return ApplyResult::ignored_duplicate;
      }
    }
    // A reconnect's rebuild enters a caller the restart cut again with its first entry time: the
    // same visit goes on (not a second arrival, no longer cut).
    if (last && last->end == VisitEnd::cut && has_value(last->entered) && last->entered == e.ts) {
      last->done = false;
      last->end = VisitEnd::open;
      waiting_add(*last);
      if (sign != 0) dq.visits_cut -= static_cast<std::uint64_t>(static_cast<std::int64_t>(sign));
      return ApplyResult::applied;
    }
    // An entry into a queue whose visit has its outcome is a repeat (METRICS.md: a finished visit
    // is remembered until its day closes), the same whether the call is still in memory or kept
    // as a finished record: the caller hung up, or was answered. A caller sent out by timeout,
    // empty queue, key or transfer may enter again (a dialplan loop), as may one cut by a PBX
    // restart (a reconnect enters the callers still waiting again) or an answered call
    // transferred back into the queue: those start a new visit.
    if (last && (last->end == VisitEnd::abandoned ||
                 (last->end == VisitEnd::answered && !(c.transferred && !c.ended)))) {
      warn("duplicate_enqueue", "call " + call_name + " entered queue " + queues[e.queue].name +
                                    " again after its outcome: a repeat, ignored");
      return ApplyResult::ignored_duplicate;
    }
    c.visits.push_back(Visit{e.queue, e.ts, false});
    ++c.queues_entered;
    waiting_add(c.visits.back());
    const std::int64_t s = sign;
    count(queues[e.queue], e.ts, [s](QueueCounters& k) { k.arrivals += s; });
    check_bounce(c, e.queue, e.ts);
    return ApplyResult::applied;
  }

  enum class Outcome { answered, abandoned, timed_out, exited_empty, exited_key, transferred_out };

  ApplyResult step_outcome(CallDerived& c, const CallOp& e, Outcome o) {
    const Id qid = e.queue;
    Visit* v = find_visit(c, qid);
    if (v && v->done) {
      warn("duplicate_outcome", "call " + call_name + " in queue " + queues[qid].name +
                                    ": second outcome ignored");
      return ApplyResult::ignored_duplicate;
    }
    if (!v) {
      // Entry precedes the input (file starts mid-day, daemon started mid-call).
      c.visits.push_back(Visit{qid, kNoValue, false});
      v = &c.visits.back();
    }
    QueueState& q = queues[qid];
    waiting_remove(*v);
    v->done = true;
    v->end = o == Outcome::answered    ? VisitEnd::answered
             : o == Outcome::abandoned ? VisitEnd::abandoned
                                       : VisitEnd::left;
    double wait = e.wait;
    if (!has_value(wait) && has_value(v->entered)) wait = e.ts - v->entered;
    if (has_value(wait) && wait < 0) {
      warn("negative_wait", "call " + call_name + ": outcome before entry, wait taken as 0");
      wait = 0;
    }
    if (!has_value(wait) && o != Outcome::transferred_out) {
      warn("unknown_wait", "call " + call_name + " in queue " + q.name +
                               ": outcome without a known wait counts in no wait-based figure");
    }
    if (e.inferred && sign != 0) dq.inferred_outcomes += static_cast<std::uint64_t>(static_cast<std::int64_t>(sign));
    const double T = q.settings.sl_threshold;
    const double S = q.settings.short_abandon;
    const bool known = has_value(wait);
    const std::int64_t s = sign;
    if (s != 0) {
      count(q, e.ts, [&](QueueCounters& k) {
        switch (o) {
          case Outcome::answered:
            k.answered += s;
            if (known) {
              k.answered_with_wait += s;
              k.answer_wait_sum += static_cast<double>(s) * wait;
              if (wait <= T) k.answered_within_sl += s;
            }
            break;
          case Outcome::abandoned:
            k.abandoned += s;
            if (known && wait <= T) k.abandoned_within_sl += s;
            if (known && wait < S) k.short_abandoned += s;
            break;
          case Outcome::timed_out: k.timed_out += s; break;
          case Outcome::exited_empty: k.exited_empty += s; break;
          case Outcome::exited_key: k.exited_key += s; break;
          case Outcome::transferred_out: k.transferred_out += s; return;
        }
        if (!known) k.no_wait_outcomes += s;
        if (s > 0) note_max_wait(k, wait);  // a largest wait is not taken back
      });
      if (known && o == Outcome::answered) observe(q.answer_wait, wait, sign);
      if (known && o == Outcome::abandoned) observe(q.abandon_wait, wait, sign);
    }

    if (o == Outcome::answered) {
      // A new leg (e.g. transferred to another queue and answered there) gets its own completion.
      c.answered = true;
      c.ended = false;
      c.transferred = false;  // a transfer counts for the leg it ended, not for this one
      c.answered_queue = qid;
      c.answer_ts = e.ts;
      if (e.agent != kNone) {
        c.answered_agent = e.agent;
        if (!contains_sorted(c.agents_offered, e.agent)) insert_sorted(c.agents_offered, e.agent);
        count_agent(agents[e.agent], e.ts, [s](AgentCounters& k) { k.answered += s; });
        AgentOp op;
        op.ts = e.ts;
        op.seq = e.seq;
        op.kind = AgentOpKind::answer;
        op.queue = qid;
        emit(e.agent, std::move(op));
      }
      check_bounce(c, qid, e.ts);
    }
    return ApplyResult::applied;
  }

  ApplyResult step_ended(CallDerived& c, const CallOp& e) {
    // A completion for a call that was never answered and whose visits all have their outcome (or
    // were cut by a restart) completes nothing: a repeat, as it is once the call is kept as a
    // finished record.
    const bool finished = !c.answered && !c.ended && !c.visits.empty() &&
                          std::none_of(c.visits.begin(), c.visits.end(),
                                       [](const Visit& v) { return v.end == VisitEnd::answered || !v.done; });
    if (c.ended || finished) {
      warn("duplicate_completion", "call " + call_name + ": second completion ignored");
      return ApplyResult::ignored_duplicate;
    }
    c.ended = true;
    c.answered = false;  // the leg is over: a later visit of the same call can be answered again
    Id qid = c.answered_queue;
    if (qid == kNone) qid = e.queue;
    const Id aid = e.agent != kNone ? e.agent : c.answered_agent;
    const double hold = has_value(e.hold) ? e.hold : 0.0;
    double talk = e.talk;
    if (!has_value(talk) && has_value(c.answer_ts)) talk = std::max(0.0, e.ts - c.answer_ts - hold);
    const double wrap = has_value(e.wrap) ? e.wrap : 0.0;
    const std::int64_t s = sign;
    const double sd = static_cast<double>(s);
    if (qid == kNone) {
      warn("unattributed_completion", "call " + call_name + " ended with no known queue: not in AHT");
    } else if (!has_value(talk)) {
      warn("unknown_talk", "call " + call_name + " ended with no known talk time");
    } else if (s != 0) {
      QueueState& q = queues[qid];
      const double handle = talk + hold + wrap;
      count(q, e.ts, [&](QueueCounters& k) {
        k.handled += s;
        k.handle_sum += sd * handle;
        k.talk_sum += sd * talk;
        k.hold_sum += sd * hold;
      });
      observe(q.handle, handle, sign);
    }
    if (aid != kNone) {
      count_agent(agents[aid], e.ts, [&](AgentCounters& k) {
        if (has_value(talk)) {
          // A completed call: it counts in the agent's AHT with its talk, hold and wrap-up.
          k.talk_seconds += sd * talk;
          k.handled += s;
        }
        k.hold_seconds += sd * hold;
        if (has_value(e.wrap)) k.wrap_seconds += sd * wrap;
      });
      AgentOp op;
      op.ts = e.ts;
      op.seq = e.seq;
      op.kind = AgentOpKind::end;
      op.queue = qid;
      op.wrap_stated = has_value(e.wrap);
      emit(aid, std::move(op));
    }
    return ApplyResult::applied;
  }

  ApplyResult step_ring_noanswer(CallDerived* c, const CallOp& e) {
    const Id aid = e.agent;
    AgentOp op;
    op.ts = e.ts;
    op.seq = e.seq;
    op.kind = AgentOpKind::ring_stop;
    emit(aid, std::move(op));
    const std::int64_t s = sign;
    if (has_value(e.ring_ms) && e.ring_ms <= 0) {
      // Refused at once (busy, unreachable, DND): never offered to a person.
      count_agent(agents[aid], e.ts, [s](AgentCounters& k) { k.ring_refused += s; });
      return ApplyResult::applied;
    }
    // Rings belong to a visit still waiting: one for a queue whose latest visit has its outcome
    // (or, naming no queue, after every visit has one) is a repeat.
    const Visit* in_queue = nullptr;
    if (c && e.queue != kNone) {
      for (const auto& v : c->visits)
        if (v.queue == e.queue) in_queue = &v;
    }
    if (in_queue ? in_queue->done
                 : (c && !c->visits.empty() && !c->waiting())) {
      warn("duplicate_ring", "call " + call_name + ": ring-no-answer after the visit's outcome ignored");
      return ApplyResult::ignored_duplicate;
    }
    count_agent(agents[aid], e.ts, [s](AgentCounters& k) { k.ring_noanswer += s; });
    if (e.queue != kNone) count(queues[e.queue], e.ts, [s](QueueCounters& k) { k.ring_noanswer += s; });
    if (c) {
      if (!c->answered && !contains_sorted(c->agents_offered, aid)) insert_sorted(c->agents_offered, aid);
      check_bounce(*c, e.queue, e.ts);
    }
    return ApplyResult::applied;
  }

  ApplyResult step_call(CallDerived& c, const CallOp& e) {
    switch (e.type) {
      case EventType::call_enqueued: return step_enqueued(c, e);
      case EventType::call_answered: return step_outcome(c, e, Outcome::answered);
      case EventType::call_abandoned: return step_outcome(c, e, Outcome::abandoned);
      case EventType::call_exited:
        return step_outcome(c, e,
                            e.exit_reason == ExitReason::timeout ? Outcome::timed_out
                            : e.exit_reason == ExitReason::empty ? Outcome::exited_empty
                                                                 : Outcome::exited_key);
      case EventType::call_ended: return step_ended(c, e);
      case EventType::call_transferred:
        if (c.answered) c.transferred = true;
        if (!c.answered && e.queue != kNone) {
          // Before answer: the visit leaves its queue by transfer (not offered).
          Visit* v = find_visit(c, e.queue);
          if (v && !v->done) return step_outcome(c, e, Outcome::transferred_out);
        }
        return ApplyResult::applied;  // after answer: informational (call_ended has the figures)
      case EventType::agent_ring_noanswer: return step_ring_noanswer(&c, e);
      case EventType::feed_restart: {
        // The PBX restarted: visits still open (entered before it) end without an outcome.
        std::uint64_t cut = 0;
        for (auto& v : c.visits) {
          if (v.done || (has_value(v.entered) && v.entered > e.ts)) continue;
          waiting_remove(v);
          v.done = true;
          v.end = VisitEnd::cut;
          if (sign > 0) queues[v.queue].gap = true;
          ++queues[v.queue].changes;
          ++cut;
        }
        if (sign != 0) dq.visits_cut += static_cast<std::uint64_t>(static_cast<std::int64_t>(cut) * sign);
        return ApplyResult::applied;
      }
      case EventType::agent_state: break;
    }
    return ApplyResult::ignored_unknown;
  }

  // Plays all of a call's events again: takes back what they gave, then gives it in time order.
  // The agent ops they give are compared, and only the differences reach the agents.
  template <typename F>
  ApplyResult replay_call(CallState& c, F&& change, const CallOp* mine) {
    for (const auto& v : c.d.visits)
      if (!v.done) leave_waiting(queues[v.queue], v, call_key);
    std::vector<Emitted> before, after;
    const bool saved_replaying = replaying;
    replaying = true;
    rebuilding = true;
    emit_to = &before;
    sign = -1;
    CallDerived d;
    for (const CallOp& op : c.ops) step_call(d, op);
    change();
    emit_to = &after;
    sign = 1;
    d = CallDerived{};
    ApplyResult result = ApplyResult::applied;
    for (const CallOp& op : c.ops) {
      const bool is_mine = mine && op.seq == mine->seq;
      replaying = !is_mine;
      const ApplyResult r = step_call(d, op);
      if (is_mine) result = r;
    }
    replaying = saved_replaying;
    rebuilding = false;
    emit_to = nullptr;
    c.d = std::move(d);
    for (const auto& v : c.d.visits) {
      if (!v.done && has_value(v.entered)) queues[v.queue].waiting.insert(WaitEntry{v.entered, call_key});
      ++queues[v.queue].changes;
    }
    // Agent ops: take back the ones no longer given, add the new ones.
    for (const Emitted& b : before) {
      const bool kept = std::any_of(after.begin(), after.end(), [&](const Emitted& x) {
        return x.agent == b.agent && x.op.same(b.op);
      });
      if (!kept) agent_op_remove(b.agent, b.op);
    }
    for (Emitted& x : after) {
      const bool had = std::any_of(before.begin(), before.end(), [&](const Emitted& b) {
        return x.agent == b.agent && x.op.same(b.op);
      });
      if (!had) agent_op(x.agent, std::move(x.op), call_feed);
    }
    return result;
  }

  CallOp make_op(const Event& e, double t) {
    CallOp op;
    op.ts = t;
    op.seq = ++seq;
    op.type = e.type;
    op.exit_reason = e.exit_reason;
    op.inferred = e.inferred;
    if (!e.queue.empty()) op.queue = queue_id(e.queue);
    if (!e.agent.empty()) op.agent = agent_id(e.agent);
    op.wait = e.wait;
    op.talk = e.talk;
    op.hold = e.hold;
    op.wrap = e.wrap;
    op.ring_ms = e.ring_ms;
    return op;
  }

  // A call event changes the views of the queues the call visits (its outcome, its place and its
  // caller ID in their waiting lists), whatever the steps below counted.
  ApplyResult on_call_event(const Event& e, double t) {
    stepped_call = nullptr;
    const ApplyResult r = call_event_steps(e, t);
    if (stepped_call) changed_by_call(*stepped_call);
    return r;
  }
  // The views a call shows in: its queues' (waiting list, counts) and its agents' (the caller
  // they talk to).
  void changed_by_call(const CallState& c) const {
    for (const Visit& v : c.d.visits) ++queues[v.queue].changes;
    for (Id aid : c.d.agents_offered) changed_agent(aid);
    if (c.d.answered_agent != kNone) changed_agent(c.d.answered_agent);
  }
  CallState* stepped_call = nullptr;

  ApplyResult call_event_steps(const Event& e, double t) {
    const std::uint64_t key = internal::hash_key(e.call);
    call_name.assign(e.call);
    call_key = key;
    call_feed = event_feed;
    CallState* cp = calls.find(e.call, key);
    if (!cp) {
      if (const FinishedCalls::Rec* r = finished.find(key)) {
        // A finished call: a repeat is a duplicate however late. A new queue is a new leg.
        // The same rule as for a call still in memory: an entry into a queue where it was not
        // answered or abandoned last is a new visit; everything else is a repeat.
        const bool new_leg = e.type == EventType::call_enqueued && !e.queue.empty() &&
                             !finished.visited(*r, queue_names.find(e.queue));
        if (!new_leg) {
          warn("duplicate_finished", "call " + call_name + ": event for a finished call ignored");
          return ApplyResult::ignored_duplicate;
        }
      }
      cp = &calls.add(e.call, key);
    }
    CallState& c = *cp;
    stepped_call = cp;
    c.feed = call_feed;
    if (e.type == EventType::call_enqueued && !e.caller.empty() && c.caller.empty()) {
      c.caller = bounded_caller(e.caller);
    }
    CallOp op = make_op(e, t);
    op.epoch = c.epoch;
    if (e.type == EventType::feed_restart) ++c.epoch;
    // A repeat of an outcome, entry or completion is caught by the steps (with their own
    // warnings); a ring-no-answer or a transfer has no state to tell, so compare the events.
    const bool stateless = e.type == EventType::agent_ring_noanswer || e.type == EventType::call_transferred;
    for (const CallOp& o : c.ops) {
      if (stateless && o.same(op)) {
        warn("duplicate_event", "call " + call_name + ": the same event again, ignored");
        return ApplyResult::ignored_duplicate;
      }
    }
    c.last_ts = std::max(c.last_ts, t);
    const bool in_order = c.ops.empty() || !op.before(c.ops.back());
    if (in_order || c.legacy) {
      if (c.ops.size() < kMaxCallOps) c.ops.push_back(op);
      else c.legacy = true;  // a call with this many events no longer replays
      return step_call(c.d, op);
    }
    return replay_call(
        c,
        [&] {
          auto at = std::upper_bound(c.ops.begin(), c.ops.end(), op,
                                     [](const CallOp& x, const CallOp& y) { return x.before(y); });
          c.ops.insert(at, op);
        },
        &op);
  }

  ApplyResult on_agent_state(const Event& e, double t) {
    const Id aid = agent_id(e.agent);
    AgentOp op;
    op.ts = t;
    op.seq = ++seq;
    op.kind = AgentOpKind::state;
    op.state = e.state;
    // A ring that names its call (AMI AgentCalled, a native agent_state with "call"): boards
    // show who is rung for each waiting caller.
    if (e.state == AgentState::ringing && !e.call.empty()) op.call = internal::hash_key(e.call);
    std::vector<Id> qs;
    for (auto name : e.queues) {
      if (!name.empty()) qs.push_back(queue_id(name));
    }
    std::sort(qs.begin(), qs.end());
    qs.erase(std::unique(qs.begin(), qs.end()), qs.end());
    op.set_detail(std::move(qs), e.state == AgentState::paused ? std::string(e.reason) : std::string());
    return agent_op(aid, std::move(op), event_feed) ? ApplyResult::applied
                                                         : ApplyResult::ignored_duplicate;
  }

  ApplyResult on_restart(const Event& e, double t) {
    ++dq.restarts;
    dq.gap = true;
    const std::uint16_t feed = feed_id(e.feed);
    const std::uint64_t cut_before = dq.visits_cut;
    // Calls of that feed with a visit still open: the restart is one of their events.
    std::vector<std::string> ids;
    calls.for_each([&](const std::string& id, std::uint64_t, CallState& c) {
      if (feed != 0 && c.feed != feed && c.feed != 0) return;
      if (c.d.waiting()) ids.push_back(id);
    });
    Event r = e;
    for (const auto& id : ids) {
      r.call = id;
      on_call_event(r, t);
    }
    for (Id aid = 0; aid < agents.size(); ++aid) {
      AgentStateRec& a = agents[aid];
      if (feed != 0 && a.feed != feed && a.feed != 0) continue;
      if (!a.m.logged_in && a.journal.empty()) continue;
      AgentOp op;
      op.ts = t;
      op.seq = ++seq;
      op.kind = AgentOpKind::reset;
      agent_op(aid, std::move(op), 0);
    }
    const std::uint64_t cut = dq.visits_cut - cut_before;
    warn("pbx_restart", "PBX restart at " + fmt_ts(e.ts) + ": " + std::to_string(cut) +
                            (cut == 1 ? " visit" : " visits") +
                            " still open closed without an outcome; the calls and pauses of its "
                            "agents end");
    return ApplyResult::applied;
  }

  ApplyResult apply(const Event& e) {
    double t = e.ts;
    if (!std::isfinite(t)) return ApplyResult::ignored_unknown;
    const std::uint16_t fid = feed_id(e.feed);
    if (clock) {
      const double wall = clock->now();
      if (!started) start_at(wall);
      if (t > wall + kSkewTolerance) {
        ++dq.clock_skew;
        // At our time, but never before what this feed said already: with a PBX clock 16 s
        // ahead, an answer 5 s ahead keeps its time and the end 16 s ahead must not land before
        // it (the call would never end, its agent stay on the call).
        t = std::max(wall, feed_max_ts[fid]);
      }
    }
    if (!started) start_at(t);
    if (t > now) advance(t);
    event_feed = fid;
    if (t < horizon(fid)) ++dq.late_events;  // counts by its time; states and spans stay
    max_ts = std::max(max_ts, t);
    feed_max_ts[fid] = std::max(feed_max_ts[fid], t);
    ++version;
    ++events_applied;
    sign = 1;
    replaying = false;
    switch (e.type) {
      case EventType::call_enqueued:
      case EventType::call_answered:
      case EventType::call_abandoned:
      case EventType::call_exited:
      case EventType::call_ended:
      case EventType::call_transferred:
        if (e.call.empty()) return ApplyResult::ignored_unknown;
        return on_call_event(e, t);
      case EventType::agent_ring_noanswer: {
        if (!e.call.empty()) return on_call_event(e, t);
        call_key = 0;
        call_feed = event_feed;
        CallOp op = make_op(e, t);
        return step_ring_noanswer(nullptr, op);
      }
      case EventType::agent_state: return on_agent_state(e, t);
      case EventType::feed_restart: return on_restart(e, t);
    }
    return ApplyResult::ignored_unknown;
  }

  // ---- views ------------------------------------------------------------------------------
  AgentCounters with_open_span(const AgentStateRec& a, const AgentCounters& base, double t) const {
    AgentCounters c = base;
    if (t > a.accounted_to && a.m.state != AgentState::logged_out) {
      c.state_seconds[static_cast<int>(a.m.state)] += t - a.accounted_to;
      if (a.m.state == AgentState::paused) c.paused_by_reason[a.m.pause_reason] += t - a.accounted_to;
    }
    return c;
  }

  // What the board says an agent on a call talks to: known when the engine knows the call.
  struct CallShown {
    bool known = false;
    std::string_view caller, queue;
  };
  CallShown call_shown(const AgentStateRec& a) const {
    CallShown c;
    if (a.m.state != AgentState::on_call) return c;
    // Known when the call is: an agent put on_call by a status row, or by a state restored
    // from before format 5, talks to someone the engine cannot name (not "withheld").
    if (const CallState* call = calls.find_key(a.m.call)) {
      c.known = true;
      c.caller = call->caller;
    }
    if (a.m.last_call_queue != kNone) c.queue = queues[a.m.last_call_queue].name;
    return c;
  }

  // `order`: the ids of `items` by name, sorted again only when items were added (names of an id
  // never change, and nothing is ever removed).
  template <typename Items>
  static void by_name(const Items& items, std::vector<Id>& order) {
    if (order.size() == items.size()) return;
    order.resize(items.size());
    for (Id i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](Id a, Id b) { return items[a].name < items[b].name; });
  }

  AgentView agent_view(const AgentStateRec& a) const {
    AgentView v;
    v.name = a.name;
    v.state = a.m.state;
    v.state_since = a.m.state_since;
    if (a.m.state == AgentState::paused) v.pause_reason = a.m.pause_reason;
    v.queues.reserve(a.m.members.size());
    for (Id q : a.m.members) v.queues.push_back(queues[q].name);
    std::sort(v.queues.begin(), v.queues.end());
    const CallShown c = call_shown(a);
    v.call_known = c.known;
    v.call_caller = std::string(c.caller);
    v.call_queue = std::string(c.queue);
    v.today = with_open_span(a, a.today, now);
    v.interval = with_open_span(a, a.interval, now);
    return v;
  }

  // `shown` is `base` with the open span up to now (with_open_span), the clock-grown parts
  // within settings.view_refresh_seconds: every count and every stated time exactly.
  bool counters_current(const AgentStateRec& a, const AgentCounters& base,
                        const AgentCounters& shown) const {
    for (const auto& f : kAgentIntFields) {
      if (base.*f.member != shown.*f.member) return false;
    }
    for (const auto& f : kAgentRealFields) {
      if (!CallOp::same_num(base.*f.member, shown.*f.member)) return false;
    }
    const double tol = settings.agent_refresh();
    const bool counting = now > a.accounted_to && a.m.state != AgentState::logged_out;
    const double span = counting ? now - a.accounted_to : 0.0;
    for (int k = 0; k < kAgentStateCount; ++k) {
      const double want = base.state_seconds[k] + (counting && k == static_cast<int>(a.m.state) ? span : 0.0);
      if (!(std::abs(want - shown.state_seconds[k]) <= tol)) return false;
    }
    // Pause by reason, both maps walked in step (same order): a reason missing on one side is
    // 0 s there (the open reason appears in a view once its span is longer than 0).
    const bool paused_open = counting && a.m.state == AgentState::paused;
    const auto within = [&](std::string_view reason, double base_secs, double shown_secs) {
      const double want = base_secs + (paused_open && reason == a.m.pause_reason ? span : 0.0);
      return std::abs(want - shown_secs) <= tol;
    };
    bool open_seen = !paused_open;
    auto b = base.paused_by_reason.begin();
    auto v = shown.paused_by_reason.begin();
    const auto b_end = base.paused_by_reason.end();
    const auto v_end = shown.paused_by_reason.end();
    while (b != b_end || v != v_end) {
      const int order = b == b_end ? 1 : v == v_end ? -1 : b->first.compare(v->first);
      const std::string_view reason = order <= 0 ? std::string_view(b->first) : std::string_view(v->first);
      if (paused_open && reason == a.m.pause_reason) open_seen = true;
      if (!within(reason, order <= 0 ? b->second : 0.0, order >= 0 ? v->second : 0.0)) return false;
      if (order <= 0) ++b;
      if (order >= 0) ++v;
    }
    if (!open_seen && !(span <= tol)) return false;
    return true;
  }

  // The last snapshot's view of agent `ai` still says what a new one would: the same state,
  // reason, queues and call, the same counts, and times grown by the clock alone no further than
  // settings.view_refresh_seconds (0: exact, every view of a counting agent is built again).
  bool agent_view_current(Id ai, const AgentView& v) const {
    const AgentStateRec& a = agents[ai];
    if (v.state != a.m.state || v.state_since != a.m.state_since) return false;
    if (a.m.state == AgentState::paused ? v.pause_reason != a.m.pause_reason : !v.pause_reason.empty())
      return false;
    if (agent_view_members[ai] != a.m.members) return false;
    const CallShown c = call_shown(a);
    if (v.call_known != c.known || v.call_caller != c.caller || v.call_queue != c.queue) return false;
    return counters_current(a, a.today, v.today) && counters_current(a, a.interval, v.interval);
  }

  // ---- what changed since the last snapshot -----------------------------------------------
  // A publish costs what changed (issue 14): the snapshot looks again only at agents whose
  // machine or counts an event touched, builds again only the views of queues whose `changes`
  // moved, and keeps each member's share of its queues' views in one flat list, so the counts
  // per state and the open spans of 10,000 agents are a walk over a few hundred kB, not over
  // every agent's record.
  struct MemberShare {
    Id queue = kNone;  // kNone: an entry the agent no longer has (skipped; compacted away)
    AgentState state = AgentState::logged_out;  // as this queue sees it (state_in)
    double from = 0;  // the agent's accounted_to: its time from here to now is not counted yet
    bool operator==(const MemberShare&) const = default;
  };
  struct QueueViewKey {
    std::uint64_t changes = 0;
    double built = 0;  // `now` of the view
    std::int64_t minute = 0;
    double interval_start = 0, day_start = 0;
  };
  mutable std::vector<std::uint8_t> agent_changed;  // by agent id, since the last snapshot
  mutable std::vector<Id> changed_agents;
  mutable bool all_changed = true;
  mutable std::vector<MemberShare> shares;
  mutable std::vector<std::uint32_t> share_first, share_count;  // by agent id
  mutable std::size_t dead_shares = 0;
  mutable std::vector<std::uint64_t> agent_rings;  // by agent id: the call it rings for, or 0
  mutable std::vector<std::pair<std::uint64_t, Id>> last_rung;
  // By agent id: the clock past which its view, untouched since, is built again (+inf: its
  // times stand still).
  mutable std::vector<double> agent_view_due;
  mutable std::vector<std::uint8_t> agent_view_stale;  // changed since its view was built
  mutable std::vector<std::shared_ptr<QueueView>> queue_views;  // by queue id
  mutable std::vector<QueueViewKey> queue_view_keys;

  void changed_agent(Id aid) const {
    if (agent_changed.size() <= aid) agent_changed.resize(aid + 1, 0);
    if (!agent_changed[aid]) {
      agent_changed[aid] = 1;
      changed_agents.push_back(aid);
    }
  }
  void changed_agent(const AgentStateRec& a) const {
    if (&a >= agents.data() && &a < agents.data() + agents.size()) changed_agent(static_cast<Id>(&a - agents.data()));
  }
  // Every agent and every queue (an interval or a day closed, a gap noted, a restore).
  void changed_all() const { all_changed = true; }

  void share_entries(const AgentStateRec& a, std::vector<MemberShare>& out) const {
    out.clear();
    for (Id q : a.m.members) out.push_back(MemberShare{q, state_in(a.m, q), a.accounted_to});
  }

  // Brings the shares, rings and the `changes` of queues up to date with the agents touched.
  void take_changes() const {
    const std::size_t n = agents.size();
    share_first.resize(n, 0);
    share_count.resize(n, 0);
    agent_rings.resize(n, 0);
    agent_view_stale.resize(n, 1);
    agent_view_due.resize(n, 0);
    agent_changed.resize(n, 0);
    const auto ring_of = [](const AgentStateRec& a) -> std::uint64_t {
      return a.m.state == AgentState::ringing ? a.m.ringing_for : 0;
    };
    if (all_changed) {
      shares.clear();
      dead_shares = 0;
      std::vector<MemberShare> mine;
      for (Id ai = 0; ai < n; ++ai) {
        share_entries(agents[ai], mine);
        share_first[ai] = static_cast<std::uint32_t>(shares.size());
        share_count[ai] = static_cast<std::uint32_t>(mine.size());
        shares.insert(shares.end(), mine.begin(), mine.end());
        agent_rings[ai] = ring_of(agents[ai]);
        agent_view_stale[ai] = 1;
      }
      for (const QueueState& q : queues) ++q.changes;
    } else {
      std::vector<MemberShare> mine;
      for (Id ai : changed_agents) {
        agent_view_stale[ai] = 1;
        agent_rings[ai] = ring_of(agents[ai]);
        share_entries(agents[ai], mine);
        MemberShare* old = shares.data() + share_first[ai];
        const std::uint32_t count = share_count[ai];
        if (count == mine.size() && std::equal(mine.begin(), mine.end(), old)) continue;
        for (std::uint32_t k = 0; k < count; ++k) ++queues[old[k].queue].changes;
        for (const MemberShare& m : mine) ++queues[m.queue].changes;
        if (count == mine.size()) {
          std::copy(mine.begin(), mine.end(), old);
          continue;
        }
        for (std::uint32_t k = 0; k < count; ++k) old[k].queue = kNone;
        dead_shares += count;
        share_first[ai] = static_cast<std::uint32_t>(shares.size());
        share_count[ai] = static_cast<std::uint32_t>(mine.size());
        shares.insert(shares.end(), mine.begin(), mine.end());
      }
      if (dead_shares > shares.size() / 2) {
        // Compacted in agent order (the open spans are summed in that order).
        std::vector<MemberShare> live;
        live.reserve(shares.size() - dead_shares);
        for (Id ai = 0; ai < n; ++ai) {
          const std::uint32_t first = share_first[ai];
          share_first[ai] = static_cast<std::uint32_t>(live.size());
          live.insert(live.end(), shares.begin() + first, shares.begin() + first + share_count[ai]);
        }
        shares = std::move(live);
        dead_shares = 0;
      }
    }
    for (Id ai : changed_agents) agent_changed[ai] = 0;
    changed_agents.clear();
    all_changed = false;
  }

  // Agents ringing for a named call, by call (the first by name shown when two ring for one
  // caller: ring-all). A caller whose ringing agent changed changes its queues' views.
  std::vector<std::pair<std::uint64_t, Id>> rung_now() const {
    std::vector<std::pair<std::uint64_t, Id>> rung;
    for (Id ai = 0; ai < agent_rings.size(); ++ai) {
      if (agent_rings[ai] != 0) rung.emplace_back(agent_rings[ai], ai);
    }
    std::sort(rung.begin(), rung.end(), [&](const auto& x, const auto& y) {
      return x.first != y.first ? x.first < y.first : agents[x.second].name < agents[y.second].name;
    });
    rung.erase(std::unique(rung.begin(), rung.end(),
                           [](const auto& x, const auto& y) { return x.first == y.first; }),
               rung.end());
    for (std::size_t i = 0, j = 0; i < rung.size() || j < last_rung.size();) {
      const bool take_new = j == last_rung.size() || (i < rung.size() && rung[i] < last_rung[j]);
      const bool take_old = i == rung.size() || (j < last_rung.size() && last_rung[j] < rung[i]);
      if (!take_new && !take_old) {
        ++i;
        ++j;
        continue;
      }
      const std::uint64_t key = take_new ? rung[i++].first : last_rung[j++].first;
      if (const CallState* c = calls.find_key(key)) {
        for (const Visit& v : c->d.visits) ++queues[v.queue].changes;
      }
    }
    last_rung = rung;
    return rung;
  }

  bool queue_view_current(Id qi, std::int64_t minute) const {
    if (qi >= queue_views.size() || !queue_views[qi]) return false;
    if (settings.view_refresh_seconds < 0) return false;
    const QueueViewKey& k = queue_view_keys[qi];
    // The view as it was at k.built, nothing changed since: kept while that is no more than
    // settings.view_refresh_seconds ago and the minute buckets did not turn. Queues built at one
    // publish (the minute turned) are a refresh behind at once: eight groups of queues keep their
    // views 9/16 to 16/16 of the refresh, so 500 queues are not all built again in one publish
    // every second (the boards' slowest deltas).
    const double refresh = settings.view_refresh_seconds * (1.0 - static_cast<double>(qi % 8) / 16.0);
    return k.changes == queues[qi].changes && k.minute == minute &&
           k.interval_start == interval_start && k.day_start == day_start && now >= k.built &&
           now - k.built <= refresh;
  }

  using OpenSpans = std::array<QueueCounters, kWindowCount + 1>;  // the windows and the total

  QueueView queue_view(Id qi, const AgentsByState& members, const OpenSpans& open,
                       const std::vector<std::pair<std::uint64_t, Id>>& rung) const {
    constexpr int kTotal = kWindowCount;
    const QueueState& q = queues[qi];
    QueueView v;
    v.name = q.name;
    v.settings = q.settings;
    v.calls_waiting = static_cast<int>(q.waiting.size());
    if (!q.waiting.empty()) v.longest_wait = std::max(0.0, now - q.waiting.begin()->entered);
    // The first kMaxWaitingListed only: a queue of 5,000 callers costs 20 entries here.
    for (const WaitEntry& w : q.waiting) {
      if (static_cast<int>(v.waiting_list.size()) >= kMaxWaitingListed) break;
      WaitingCaller wc;
      wc.position = static_cast<int>(v.waiting_list.size()) + 1;
      wc.entered = w.entered;
      if (const CallState* c = calls.find_key(w.call)) wc.caller = c->caller;
      if (w.call != 0) {
        auto it = std::lower_bound(rung.begin(), rung.end(), w.call,
                                   [](const auto& x, std::uint64_t k) { return x.first < k; });
        if (it != rung.end() && it->first == w.call) wc.ringing = agents[it->second].name;
      }
      v.waiting_list.push_back(std::move(wc));
    }
    v.waiting_unlisted = v.calls_waiting - static_cast<int>(v.waiting_list.size());
    {
      // The last hour per minute, from the buckets the sliding windows use: 60 lookups.
      using Ring = internal::MinuteRing<QueueCounters>;
      const std::int64_t cur = Ring::minute_of(now);
      if (q.trend_dirty || q.trend_minute != cur) {
        q.trend_arrivals.resize(kTrendMinutes);
        q.trend_sl.resize(kTrendMinutes);
        for (int i = 0; i < kTrendMinutes; ++i) {
          const QueueCounters* b = q.ring.minute_bucket(cur - (kTrendMinutes - 1) + i);
          q.trend_arrivals[i] = b ? static_cast<int>(b->arrivals) : 0;
          const auto sl = b ? service_level(*b, q.settings.formula) : std::nullopt;
          q.trend_sl[i] = sl ? *sl : kNoValue;
        }
        q.trend_minute = cur;
        q.trend_dirty = false;
      }
      v.trend_start = static_cast<double>(cur - (kTrendMinutes - 1)) * 60.0;
      v.trend_arrivals = q.trend_arrivals;
      v.trend_sl = q.trend_sl;
    }
    auto& iw = v.windows[static_cast<int>(WindowKind::interval)];
    iw.counters = q.interval;
    iw.since = std::max(interval_start, start_time);
    iw.until = now;
    auto& w15 = v.windows[static_cast<int>(WindowKind::sliding_15m)];
    w15.counters = q.ring.sum(now, 15);
    w15.since = std::max(q.ring.window_start(now, 15), start_time);
    w15.until = now;
    auto& w60 = v.windows[static_cast<int>(WindowKind::sliding_1h)];
    w60.counters = q.ring.sum(now, 60);
    w60.since = std::max(q.ring.window_start(now, 60), start_time);
    w60.until = now;
    auto& td = v.windows[static_cast<int>(WindowKind::today)];
    td.counters = q.today;
    td.since = std::max(day_start, start_time);
    td.until = now;
    for (int w = 0; w < kWindowCount; ++w) v.windows[w].counters.add(open[w]);
    v.previous_interval = q.previous;
    v.agents = members;
    v.total = q.total;
    v.total.add(open[kTotal]);
    v.answer_wait = q.answer_wait;
    v.abandon_wait = q.abandon_wait;
    v.handle = q.handle;
    v.data_gap = q.gap;

    // Erlang C staffing from the measured load.
    // Whole-minute buckets: k buckets cover the current partial minute and k-1 full ones, cut
    // at the engine's start. Rates divide by the span actually covered, not the nominal one.
    const auto covered = [&](int k) {
      return std::max(1.0, now - std::max(q.ring.window_start(now, k), start_time));
    };
    const int erlang_buckets = std::max(1, static_cast<int>(std::ceil(settings.erlang_window_seconds / 60.0)));
    const QueueCounters load = q.ring.sum(now, erlang_buckets);
    v.arrival_rate = arrival_rate(load.arrivals, covered(erlang_buckets));
    double h = q.settings.erlang_aht;
    if (!(h > 0)) {
      const auto a1 = aht(w60.counters);
      const auto at = aht(q.today);
      h = a1 ? *a1 : (at ? *at : kNoValue);
    }
    v.measured_aht = h;
    v.agents_required = queue_agents_required(v.arrival_rate, h, q.settings);
    v.staffed = staffed(v.agents);
    v.staffing_gap = staffing_gap(v.agents_required, v.staffed);
    v.estimated_wait = estimated_wait(v.calls_waiting,
                                      v.agents[static_cast<int>(AgentState::available)],
                                      v.staffed, h);

    // Surge: arrivals over the last 5 minutes against the count expected for the same span.
    SurgeInputs surge;
    surge.arrivals_5m = q.ring.sum(now, 5).arrivals;
    surge.span_5m = covered(5);
    surge.arrivals_1h = w60.counters.arrivals;
    surge.span_1h = covered(60);
    surge.running_seconds = now - start_time;
    surge.forecast_per_interval = q.settings.forecast_per_interval;
    surge.interval_seconds = settings.interval_minutes * 60.0;
    v.arrivals_5m = surge.arrivals_5m;
    v.surge_ratio = surge_ratio(surge);
    return v;
  }

  // When the view of agent `ai`, built now, falls a refresh behind while nothing touches the
  // agent (its call's events and the call being forgotten count as touching it): only the clock
  // moves its times, from accounted_to on, in any state but logged out.
  double agent_view_due_at(Id ai) const {
    const AgentStateRec& a = agents[ai];
    if (a.m.state == AgentState::logged_out) return std::numeric_limits<double>::infinity();
    return std::max(now, a.accounted_to) + settings.agent_refresh();
  }

  Snapshot snapshot() const {
    Snapshot s;
    s.now = now;
    s.interval_start = interval_start;
    s.day_start = day_start;
    s.data_quality = dq;
    s.events_applied = events_applied;
    s.version = version;

    take_changes();
    const auto rung = rung_now();
    using Ring = internal::MinuteRing<QueueCounters>;
    const std::int64_t minute = Ring::minute_of(now);
    queue_views.resize(queues.size());
    queue_view_keys.resize(queues.size());

    // The queues whose views are built again: per queue the members by state and the open span
    // of each member's time (not accrued yet) in every window and the total, from the shares.
    std::vector<std::uint8_t> build(queues.size(), 0);
    std::size_t builds = 0;
    for (Id qi = 0; qi < queues.size(); ++qi) {
      if (!queue_view_current(qi, minute)) {
        build[qi] = 1;
        ++builds;
      }
    }
    constexpr int kTotal = kWindowCount;
    std::vector<AgentsByState> per_queue(builds > 0 ? queues.size() : 0);
    for (auto& arr : per_queue) arr.fill(0);
    std::vector<OpenSpans> open(builds > 0 ? queues.size() : 0);
    if (builds > 0) {
      std::array<double, kWindowCount + 1> window_from{};
      window_from[static_cast<int>(WindowKind::interval)] = interval_start;
      window_from[static_cast<int>(WindowKind::sliding_15m)] = std::max(Ring::window_start(now, 15), start_time);
      window_from[static_cast<int>(WindowKind::sliding_1h)] = std::max(Ring::window_start(now, 60), start_time);
      window_from[static_cast<int>(WindowKind::today)] = day_start;
      window_from[kTotal] = -1e300;
      for (const MemberShare& m : shares) {
        if (m.queue == kNone || !build[m.queue]) continue;
        per_queue[m.queue][static_cast<int>(m.state)]++;
        double QueueCounters::*field = agent_time_field(m.state);
        if (!field || now <= m.from) continue;
        for (int w = 0; w <= kWindowCount; ++w) {
          const double span = now - std::max(m.from, window_from[w]);
          if (span > 0) open[m.queue][w].*field += span;
        }
      }
    }

    by_name(queues, queue_order);
    s.queues.reserve(queues.size());
    for (Id qi : queue_order) {
      std::shared_ptr<QueueView>& cached = queue_views[qi];
      if (build[qi]) {
        cached = std::make_shared<QueueView>(queue_view(qi, per_queue[qi], open[qi], rung));
        queue_view_keys[qi] = QueueViewKey{queues[qi].changes, now, minute, interval_start, day_start};
      }
      s.queues.push_shared(cached);
    }

    by_name(agents, agent_order);
    agent_views.resize(agents.size());
    agent_view_members.resize(agents.size());
    s.agents.reserve(agents.size());
    for (Id ai : agent_order) {
      std::shared_ptr<AgentView>& cached = agent_views[ai];
      // Untouched: one number looked at, not the agent's record. Touched and still shown
      // right (a repeat, a count of another agent's call): kept, due when it was.
      const bool kept = cached && settings.agent_refresh() >= 0 &&
                        (agent_view_stale[ai] ? agent_view_current(ai, *cached) : now <= agent_view_due[ai]);
      if (!kept) {
        cached = std::make_shared<AgentView>(agent_view(agents[ai]));
        agent_view_members[ai] = agents[ai].m.members;
        agent_view_due[ai] = agent_view_due_at(ai);
      }
      agent_view_stale[ai] = 0;
      s.agents.push_shared(cached);
    }
    return s;
  }
};

Engine::Engine(EngineSettings settings, const Clock* clock) : impl_(std::make_unique<Impl>()) {
  impl_->settings = std::move(settings);
  if (impl_->settings.interval_minutes <= 0) impl_->settings.interval_minutes = 15;
  impl_->clock = clock;
  impl_->wait_bounds = merged_bounds(impl_->settings.wait_buckets, impl_->settings);
  impl_->handle_bounds = impl_->settings.handle_buckets;
  std::sort(impl_->handle_bounds.begin(), impl_->handle_bounds.end());
  if (clock) impl_->start_at(clock->now());
}
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

ApplyResult Engine::apply(const Event& e) { return impl_->apply(e); }
void Engine::declare_queue(std::string_view name) {
  if (impl_->queue_names.find(name) != internal::kNoId) return;
  impl_->queue_id(name);
  ++impl_->version;
}
void Engine::advance_to(double now) { impl_->advance(now); }
void Engine::finish(double end) {
  impl_->advance(end);
  for (auto& a : impl_->agents) impl_->accrue_agent(a, impl_->now);
  impl_->changed_all();
}
double Engine::now() const { return impl_->now; }
Snapshot Engine::snapshot() const { return impl_->snapshot(); }
const std::vector<ClosedInterval>& Engine::closed_intervals() const { return impl_->closed; }
DataQuality& Engine::data_quality() { return impl_->dq; }
const DataQuality& Engine::data_quality() const { return impl_->dq; }
const EngineSettings& Engine::settings() const { return impl_->settings; }
std::uint64_t Engine::version() const { return impl_->version; }
std::size_t Engine::finished_calls() const { return impl_->finished.size(); }
std::size_t Engine::finished_call_bytes() const { return impl_->finished.bytes(); }

void Engine::set_finished_rows(bool on) {
  Impl& m = *impl_;
  if (on && !m.finished_rows_on) {
    // What is held now (a state restored from a blob that still had them) goes out as rows too.
    m.finished.for_each([&](std::uint64_t key, const std::vector<Id>& qs) {
      m.finished_log.push_back({m.day_start, key, qs});
    });
  }
  if (!on) m.finished_log.clear();
  m.finished_rows_on = on;
}

std::vector<Engine::FinishedRow> Engine::take_finished_rows() {
  std::vector<FinishedRow> out;
  out.swap(impl_->finished_log);
  return out;
}

std::size_t Engine::restore_finished_rows(const std::vector<FinishedRow>& rows) {
  std::size_t taken = 0;
  const std::size_t nq = impl_->queues.size();
  for (const FinishedRow& r : rows) {
    if (r.day != impl_->day_start) continue;  // another day: its repeats are new calls now
    std::vector<Id> qs;
    for (const std::uint32_t q : r.queues) {
      if (q < nq) qs.push_back(q);  // an id the state does not know is dropped, not guessed
    }
    impl_->finished.add(r.key, qs);
    ++taken;
  }
  return taken;
}

double Engine::day_start() const { return impl_->day_start; }

void Engine::warn(std::string_view kind, std::string message) {
  impl_->warn(kind, std::move(message));
}

// ---- state codec ---------------------------------------------------------------------------
namespace {

using internal::StateReader;
using internal::StateWriter;

// The counters are written in the order of their field tables (stats.hpp), and every state
// names those fields in its header: a daemon reads the state of an older one (a field it did not
// have starts at its initial value) and a field it no longer knows is skipped.
struct FieldLayout {
  std::vector<int> queue_ints, queue_reals, agent_ints, agent_reals;  // stored position -> row
};

template <typename Table>
void put_names(StateWriter& w, const Table& table) {
  w.i(static_cast<std::int64_t>(std::size(table)));
  for (const auto& f : table) w.str(f.name);
}
template <typename Table>
std::vector<int> get_names(StateReader& r, const Table& table) {
  std::vector<int> rows;
  for (std::size_t n = r.count(1000), k = 0; k < n && r.ok(); ++k) {
    const std::string name = r.str();
    int row = -1;
    for (std::size_t i = 0; i < std::size(table); ++i) {
      if (table[i].name == name) row = static_cast<int>(i);
    }
    rows.push_back(row);
  }
  return rows;
}
// Format 2 had no header: its fields were the first rows of today's tables.
std::vector<int> first_rows(int n) {
  std::vector<int> rows(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = i;
  return rows;
}
FieldLayout layout_v2() { return {first_rows(15), first_rows(5), first_rows(3), first_rows(3)}; }

void put_layout(StateWriter& w) {
  put_names(w, kQueueIntFields);
  put_names(w, kQueueRealFields);
  put_names(w, kAgentIntFields);
  put_names(w, kAgentRealFields);
}
FieldLayout get_layout(StateReader& r) {
  FieldLayout l;
  l.queue_ints = get_names(r, kQueueIntFields);
  l.queue_reals = get_names(r, kQueueRealFields);
  l.agent_ints = get_names(r, kAgentIntFields);
  l.agent_reals = get_names(r, kAgentRealFields);
  return l;
}

template <typename S, typename Ints, typename Reals>
void put_fields(StateWriter& w, const S& c, const Ints& ints, const Reals& reals) {
  for (const auto& f : ints) w.i(c.*f.member);
  for (const auto& f : reals) w.num(c.*f.member);
}
template <typename S, typename Ints, typename Reals>
void get_fields(StateReader& r, S& c, const Ints& ints, const std::vector<int>& int_rows,
                const Reals& reals, const std::vector<int>& real_rows) {
  for (int row : int_rows) {
    const std::int64_t v = r.i();
    if (row >= 0) c.*ints[row].member = v;
  }
  for (int row : real_rows) {
    const double v = r.num();
    if (row >= 0) c.*reals[row].member = v;
  }
}

void put(StateWriter& w, const QueueCounters& c) {
  put_fields(w, c, kQueueIntFields, kQueueRealFields);
}
void get(StateReader& r, QueueCounters& c, const FieldLayout& l) {
  get_fields(r, c, kQueueIntFields, l.queue_ints, kQueueRealFields, l.queue_reals);
}
void put(StateWriter& w, const AgentCounters& c) {
  put_fields(w, c, kAgentIntFields, kAgentRealFields);
  for (double v : c.state_seconds) w.num(v);
  w.i(static_cast<std::int64_t>(c.paused_by_reason.size()));
  for (const auto& [reason, secs] : c.paused_by_reason) {
    w.str(reason);
    w.num(secs);
  }
}
void get(StateReader& r, AgentCounters& c, const FieldLayout& l) {
  get_fields(r, c, kAgentIntFields, l.agent_ints, kAgentRealFields, l.agent_reals);
  for (double& v : c.state_seconds) v = r.num();
  const std::size_t n = r.count(100000);
  for (std::size_t k = 0; k < n && r.ok(); ++k) {
    std::string reason = r.str();
    c.paused_by_reason[reason] = r.num();
  }
}
void put(StateWriter& w, const Histogram& h) {
  w.i(static_cast<std::int64_t>(h.counts.size()));
  for (auto v : h.counts) w.i(static_cast<std::int64_t>(v));
  w.num(h.sum);
  w.i(static_cast<std::int64_t>(h.count));
}
void get(StateReader& r, Histogram& h) {
  const std::size_t n = r.count(1000);
  std::vector<std::uint64_t> counts(n);
  for (auto& v : counts) v = static_cast<std::uint64_t>(r.i());
  h.sum = r.num();
  h.count = static_cast<std::uint64_t>(r.i());
  // Bounds come from the current settings; counts are kept only when the layout still matches.
  if (counts.size() == h.bounds.size() + 1) h.counts = std::move(counts);
  else {
    h.counts.assign(h.bounds.size() + 1, 0);
    h.sum = 0;
    h.count = 0;
  }
}
void put_ids(StateWriter& w, const std::vector<Id>& ids) {
  w.i(static_cast<std::int64_t>(ids.size()));
  for (Id id : ids) w.i(id == kNone ? -1 : static_cast<std::int64_t>(id));
}
Id get_id(StateReader& r, std::size_t limit) {
  const std::int64_t v = r.i();
  if (v == -1) return kNone;
  if (v < 0 || static_cast<std::size_t>(v) >= limit) return kNone;
  return static_cast<Id>(v);
}
void get_ids(StateReader& r, std::vector<Id>& ids, std::size_t limit) {
  const std::size_t n = r.count(1000000);
  ids.clear();
  for (std::size_t k = 0; k < n && r.ok(); ++k) {
    const Id id = get_id(r, limit);
    if (id != kNone) ids.push_back(id);
  }
}

void put_machine(StateWriter& w, const AgentMachine& a) {
  w.b(a.logged_in);
  put_ids(w, a.members);
  put_ids(w, a.paused_in);
  w.b(a.paused_all);
  w.str(a.pause_reason);
  w.i(static_cast<int>(a.activity));
  w.i(static_cast<int>(a.state));
  w.num(a.state_since);
  w.num(a.wrap_started);
  w.b(a.wrap_stated);
  put_ids(w, {a.last_call_queue});
  w.i(static_cast<std::int64_t>(a.call));
  w.i(static_cast<std::int64_t>(a.ringing_for));
}
void get_machine(StateReader& r, AgentMachine& a, std::size_t nq, std::int64_t format) {
  a.logged_in = r.b();
  get_ids(r, a.members, nq);
  get_ids(r, a.paused_in, nq);
  a.paused_all = r.b();
  a.pause_reason = r.str();
  a.activity = static_cast<Activity>(std::clamp<std::int64_t>(r.i(), 0, 3));
  a.state = static_cast<AgentState>(std::clamp<std::int64_t>(r.i(), 0, kAgentStateCount - 1));
  a.state_since = r.num();
  a.wrap_started = r.num();
  a.wrap_stated = r.b();
  std::vector<Id> last;
  get_ids(r, last, nq);
  a.last_call_queue = last.empty() ? kNone : last[0];
  if (format >= 5) {
    a.call = static_cast<std::uint64_t>(r.i());
    a.ringing_for = static_cast<std::uint64_t>(r.i());
  }
}
void put_op(StateWriter& w, const AgentOp& op) {
  w.num(op.ts);
  w.i(static_cast<std::int64_t>(op.seq));
  w.i(static_cast<int>(op.kind));
  w.i(static_cast<int>(op.state));
  w.b(op.wrap_stated);
  put_ids(w, {op.queue});
  w.i(static_cast<std::int64_t>(op.call));
  put_ids(w, op.queues());
  w.str(op.reason());
}
void get_op(StateReader& r, AgentOp& op, std::size_t nq) {
  op.ts = r.num();
  op.seq = static_cast<std::uint64_t>(r.i());
  op.kind = static_cast<AgentOpKind>(std::clamp<std::int64_t>(r.i(), 0, 4));
  op.state = static_cast<AgentState>(std::clamp<std::int64_t>(r.i(), 0, kAgentStateCount - 1));
  op.wrap_stated = r.b();
  std::vector<Id> q;
  get_ids(r, q, nq);
  op.queue = q.empty() ? kNone : q[0];
  op.call = static_cast<std::uint64_t>(r.i());
  std::vector<Id> qs;
  get_ids(r, qs, nq);
  op.set_detail(std::move(qs), r.str());
}
void put_op(StateWriter& w, const CallOp& op) {
  w.num(op.ts);
  w.i(static_cast<std::int64_t>(op.seq));
  w.i(op.epoch);
  w.i(static_cast<int>(op.type));
  w.i(static_cast<int>(op.exit_reason));
  w.b(op.inferred);
  put_ids(w, {op.queue, op.agent});
  for (double v : {op.wait, op.talk, op.hold, op.wrap, op.ring_ms}) w.num(v);
}
void get_op(StateReader& r, CallOp& op, std::size_t nq, std::size_t na) {
  op.ts = r.num();
  op.seq = static_cast<std::uint64_t>(r.i());
  op.epoch = static_cast<std::uint16_t>(std::clamp<std::int64_t>(r.i(), 0, 65535));
  op.type = static_cast<EventType>(std::clamp<std::int64_t>(r.i(), 0, kEventTypeCount - 1));
  op.exit_reason = static_cast<ExitReason>(std::clamp<std::int64_t>(r.i(), 0, 2));
  op.inferred = r.b();
  const std::size_t two = r.count(2);
  op.queue = two > 0 ? get_id(r, nq) : kNone;
  op.agent = two > 1 ? get_id(r, na) : kNone;
  for (double* v : {&op.wait, &op.talk, &op.hold, &op.wrap, &op.ring_ms}) *v = r.num();
}

}  // namespace

std::string Engine::serialize() const {
  const Impl& m = *impl_;
  StateWriter w;
  w.tag("callwatch-engine-state 5");
  put_layout(w);
  w.b(m.started);
  for (double v : {m.start_time, m.now, m.interval_start, m.interval_end, m.day_start, m.next_day_start})
    w.num(v);
  w.i(static_cast<std::int64_t>(m.version));
  w.i(static_cast<std::int64_t>(m.events_applied));
  w.num(m.max_ts);
  w.i(static_cast<std::int64_t>(m.seq));
  w.i(static_cast<std::int64_t>(m.revision));
  w.i(static_cast<std::int64_t>(m.feed_names.size()));
  for (std::size_t f = 0; f < m.feed_names.size(); ++f) {
    w.str(m.feed_names.name(static_cast<Id>(f)));
    w.num(f + 1 < m.feed_max_ts.size() ? m.feed_max_ts[f + 1] : -1e300);
  }
  w.num(m.feed_max_ts[0]);
  w.tag("\ndq");
  const DataQuality& d = m.dq;
  for (auto v : {d.events, d.rejected, d.duplicates, d.restarts, d.visits_cut, d.inferred_outcomes,
                 d.late_events, d.clock_skew})
    w.i(static_cast<std::int64_t>(v));
  w.b(d.gap);
  w.i(static_cast<std::int64_t>(d.warning_counts.size()));
  for (const auto& [k, v] : d.warning_counts) {
    w.str(k);
    w.i(static_cast<std::int64_t>(v));
  }
  w.i(static_cast<std::int64_t>(d.warnings.size()));
  for (const auto& s : d.warnings) w.str(s);
  w.tag("\nqueues");
  w.i(static_cast<std::int64_t>(m.queues.size()));
  for (const auto& q : m.queues) {
    w.str(q.name);
    w.i(static_cast<std::int64_t>(q.waiting.size()));
    for (const WaitEntry& e : q.waiting) w.num(e.entered);  // keys: rebuilt from the calls
    put(w, q.interval);
    put(w, q.today);
    put(w, q.total);
    w.b(q.previous.has_value());
    if (q.previous) {
      put(w, q.previous->counters);
      w.num(q.previous->since);
      w.num(q.previous->until);
    }
    for (int k = 0; k < internal::MinuteRing<QueueCounters>::kMinutes; ++k) {
      w.i(q.ring.bucket_minute(k));
      put(w, q.ring.bucket_value(k));
    }
    put(w, q.answer_wait);
    put(w, q.abandon_wait);
    put(w, q.handle);
    w.b(q.gap);
    w.tag("");
  }
  w.tag("agents");
  w.i(static_cast<std::int64_t>(m.agents.size()));
  for (const auto& a : m.agents) {
    w.str(a.name);
    put_machine(w, a.m);
    w.num(a.accounted_to);
    put(w, a.interval);
    put(w, a.today);
    w.i(a.feed);
    put_machine(w, a.base);
    w.num(a.base_t);
    w.i(static_cast<std::int64_t>(a.journal.size()));
    for (const auto& op : a.journal) put_op(w, op);
    w.tag("");
  }
  w.tag("calls");
  w.i(static_cast<std::int64_t>(m.calls.size()));
  // Sorted so the same state always gives the same text.
  std::vector<std::pair<const std::string*, const CallState*>> call_order;
  call_order.reserve(m.calls.size());
  m.calls.for_each([&](const std::string& id, std::uint64_t, const CallState& c) { call_order.emplace_back(&id, &c); });
  std::sort(call_order.begin(), call_order.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  for (const auto& [idp, cp] : call_order) {
    const std::string& id = *idp;
    const CallState& c = *cp;
    w.str(id);
    const CallDerived& d = c.d;
    w.i(static_cast<std::int64_t>(d.visits.size()));
    for (const auto& v : d.visits) {
      put_ids(w, {v.queue});
      w.num(v.entered);
      w.b(v.done);
      w.i(static_cast<int>(v.end));
    }
    w.b(d.transferred);
    put_ids(w, d.agents_offered);
    w.i(d.queues_entered);
    w.b(d.bounced);
    w.b(d.answered);
    w.b(d.ended);
    put_ids(w, {d.answered_queue, d.answered_agent});
    w.num(d.answer_ts);
    w.num(c.last_ts);
    w.i(c.feed);
    w.i(c.epoch);
    w.b(c.legacy);
    w.str(c.caller);
    w.i(static_cast<std::int64_t>(c.ops.size()));
    for (const auto& op : c.ops) put_op(w, op);
    w.tag("");
  }
  w.tag("finished");
  if (m.finished_rows_on) {
    w.i(0);  // kept by the store as rows (take_finished_rows)
  } else {
    w.i(static_cast<std::int64_t>(m.finished.size()));
    m.finished.for_each([&](std::uint64_t key, const std::vector<Id>& qs) {
      w.i(static_cast<std::int64_t>(key));
      put_ids(w, qs);
    });
  }
  w.tag("closed");
  w.i(static_cast<std::int64_t>(m.closed.size()));
  for (const auto& ci : m.closed) {
    w.str(ci.queue);
    w.num(ci.start);
    w.num(ci.end);
    put(w, ci.counters);
    w.i(static_cast<std::int64_t>(ci.revision));
    w.tag("");
  }
  w.tag("end");
  return w.take();
}

bool Engine::restore(std::string_view data) {
  StateReader r(data);
  r.expect("callwatch-engine-state");
  // 1: before accounted_to (not read); 2: fixed counter fields; 3: named fields, wrap_stated;
  // 4: events of calls and agents; 5: caller IDs, agents' current and rung calls.
  const std::int64_t format = r.i();
  if (format < 2 || format > 5 || !r.ok()) return false;
  const FieldLayout layout = format == 2 ? layout_v2() : get_layout(r);
  Impl m;
  m.settings = impl_->settings;
  m.clock = impl_->clock;
  m.wait_bounds = impl_->wait_bounds;
  m.handle_bounds = impl_->handle_bounds;
  m.finished_rows_on = impl_->finished_rows_on;  // a mode of this engine, like its settings
  m.started = r.b();
  for (double* v : {&m.start_time, &m.now, &m.interval_start, &m.interval_end, &m.day_start,
                    &m.next_day_start})
    *v = r.num();
  m.version = static_cast<std::uint64_t>(r.i());
  m.events_applied = static_cast<std::uint64_t>(r.i());
  if (format >= 4) {
    m.max_ts = r.num();
    m.seq = static_cast<std::uint64_t>(r.i());
    m.revision = static_cast<std::uint64_t>(r.i());
    for (std::size_t n = r.count(65000), f = 0; f < n && r.ok(); ++f) {
      const std::uint16_t fid = m.feed_id(r.str());
      m.feed_max_ts[fid] = r.num();
    }
    m.feed_max_ts[0] = r.num();
  } else {
    m.max_ts = m.now;
  }
  r.expect("dq");
  DataQuality& d = m.dq;
  for (std::uint64_t* v : {&d.events, &d.rejected, &d.duplicates, &d.restarts, &d.visits_cut,
                           &d.inferred_outcomes, &d.late_events, &d.clock_skew})
    *v = static_cast<std::uint64_t>(r.i());
  d.gap = r.b();
  for (std::size_t n = r.count(100000), k = 0; k < n && r.ok(); ++k) {
    std::string key = r.str();
    d.warning_counts[key] = static_cast<std::uint64_t>(r.i());
  }
  for (std::size_t n = r.count(100000), k = 0; k < n && r.ok(); ++k) d.warnings.push_back(r.str());
  r.expect("queues");
  const std::size_t nq = r.count(10'000'000);
  for (std::size_t k = 0; k < nq && r.ok(); ++k) {
    const Id id = m.queue_id(r.str());
    QueueState& q = m.queues[id];
    for (std::size_t n = r.count(), j = 0; j < n && r.ok(); ++j) q.waiting.insert(WaitEntry{r.num(), 0});
    get(r, q.interval, layout);
    get(r, q.today, layout);
    get(r, q.total, layout);
    if (r.b()) {
      Window w;
      get(r, w.counters, layout);
      w.since = r.num();
      w.until = r.num();
      q.previous = w;
    }
    for (int b = 0; b < internal::MinuteRing<QueueCounters>::kMinutes && r.ok(); ++b) {
      const std::int64_t minute = r.i();
      QueueCounters c;
      get(r, c, layout);
      q.ring.set_bucket(b, minute, c);
    }
    get(r, q.answer_wait);
    get(r, q.abandon_wait);
    get(r, q.handle);
    q.gap = r.b();
  }
  r.expect("agents");
  const std::size_t na = r.count(10'000'000);
  for (std::size_t k = 0; k < na && r.ok(); ++k) {
    const Id id = m.agent_id(r.str());
    AgentStateRec& a = m.agents[id];
    const std::size_t nq = m.queues.size();
    if (format >= 4) {
      get_machine(r, a.m, nq, format);
      a.accounted_to = r.num();
      get(r, a.interval, layout);
      get(r, a.today, layout);
      a.feed = static_cast<std::uint16_t>(std::clamp<std::int64_t>(r.i(), 0, 65535));
      get_machine(r, a.base, nq, format);
      a.base_t = r.num();
      for (std::size_t n = r.count(kMaxJournal + 1), j = 0; j < n && r.ok(); ++j) {
        AgentOp op;
        get_op(r, op, nq);
        a.journal.push_back(std::move(op));
      }
    } else {
      AgentMachine& x = a.m;
      x.logged_in = r.b();
      get_ids(r, x.members, nq);
      get_ids(r, x.paused_in, nq);
      x.paused_all = r.b();
      x.pause_reason = r.str();
      x.activity = static_cast<Activity>(std::clamp<std::int64_t>(r.i(), 0, 3));
      x.state = static_cast<AgentState>(std::clamp<std::int64_t>(r.i(), 0, kAgentStateCount - 1));
      x.state_since = r.num();
      a.accounted_to = r.num();
      r.num();  // reason_since: every event is a span boundary now
      x.wrap_started = r.num();
      if (format >= 3) x.wrap_stated = r.b();
      get(r, a.interval, layout);
      get(r, a.today, layout);
      std::vector<Id> last;
      get_ids(r, last, nq);
      x.last_call_queue = last.empty() ? kNone : last[0];
      // No events of before: the restored state is the settled one.
      a.base = x;
      a.base_t = a.accounted_to;
    }
  }
  r.expect("calls");
  const std::size_t nc = r.count();
  for (std::size_t k = 0; k < nc && r.ok(); ++k) {
    std::string id = r.str();
    CallState c;
    CallDerived& d = c.d;
    for (std::size_t n = r.count(100000), j = 0; j < n && r.ok(); ++j) {
      Visit v;
      std::vector<Id> qid;
      get_ids(r, qid, m.queues.size());
      v.queue = qid.empty() ? kNone : qid[0];
      v.entered = r.num();
      v.done = r.b();
      if (format >= 4) v.end = static_cast<VisitEnd>(std::clamp<std::int64_t>(r.i(), 0, 4));
      else if (v.done) v.end = VisitEnd::left;
      if (v.queue != kNone) d.visits.push_back(v);
    }
    if (format >= 4) d.transferred = r.b();
    get_ids(r, d.agents_offered, m.agents.size());
    d.queues_entered = static_cast<int>(r.i());
    d.bounced = r.b();
    d.answered = r.b();
    d.ended = r.b();
    const std::size_t two = r.count(2);
    d.answered_queue = two > 0 ? get_id(r, m.queues.size()) : kNone;
    d.answered_agent = two > 1 ? get_id(r, m.agents.size()) : kNone;
    d.answer_ts = r.num();
    c.last_ts = r.num();
    if (format >= 4) {
      c.feed = static_cast<std::uint16_t>(std::clamp<std::int64_t>(r.i(), 0, 65535));
      c.epoch = static_cast<std::uint16_t>(std::clamp<std::int64_t>(r.i(), 0, 65535));
      c.legacy = r.b();
      if (format >= 5) c.caller = bounded_caller(r.str());
      for (std::size_t n = r.count(kMaxCallOps + 1), j = 0; j < n && r.ok(); ++j) {
        CallOp op;
        get_op(r, op, m.queues.size(), m.agents.size());
        c.ops.push_back(op);
      }
    } else {
      c.legacy = true;  // no events to play again
    }
    m.calls.get_or_add(id) = std::move(c);
  }
  if (format >= 4) {
    r.expect("finished");
    for (std::size_t n = r.count(), k = 0; k < n && r.ok(); ++k) {
      const auto key = static_cast<std::uint64_t>(r.i());
      std::vector<Id> qs;
      get_ids(r, qs, m.queues.size());
      m.finished.add(key, qs);
    }
  }
  r.expect("closed");
  for (std::size_t n = r.count(), k = 0; k < n && r.ok(); ++k) {
    ClosedInterval ci;
    ci.queue = r.str();
    ci.start = r.num();
    ci.end = r.num();
    get(r, ci.counters, layout);
    if (format >= 4) ci.revision = static_cast<std::uint64_t>(r.i());
    m.closed.push_back(std::move(ci));
  }
  r.expect("end");
  if (!r.ok()) return false;
  // The waiting lists with their calls' keys, from the calls' open visits; a queue whose stored
  // list does not match them (an older, inconsistent state) keeps the stored times.
  std::vector<std::multiset<WaitEntry>> rebuilt(m.queues.size());
  m.calls.for_each([&](const std::string&, std::uint64_t key, const CallState& c) {
    for (const auto& v : c.d.visits) {
      if (!v.done && has_value(v.entered) && v.queue < rebuilt.size()) rebuilt[v.queue].insert(WaitEntry{v.entered, key});
    }
  });
  for (std::size_t qi = 0; qi < m.queues.size(); ++qi) {
    if (rebuilt[qi].size() == m.queues[qi].waiting.size()) m.queues[qi].waiting = std::move(rebuilt[qi]);
  }
  *impl_ = std::move(m);
  return true;
}

void Engine::note_gap(double from, double to) {
  Impl& m = *impl_;
  m.dq.gap = true;
  m.gap_today = true;
  for (auto& q : m.queues) q.gap = true;
  m.changed_all();
  m.warn("gap", "no data from " + fmt_ts(from) + " to " + fmt_ts(to) + " (" +
                    std::to_string(static_cast<long long>(to - from)) + " s): daemon or feed down");
  ++m.version;
}

}  // namespace callwatch::metrics
