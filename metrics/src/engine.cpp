// The engine: calls, visits, queues and agents as state machines, and the windows of METRICS.md.
// Everything here runs on one thread; names are interned once so the hot path hashes a name at
// most once per event and works on integer ids afterwards.
#include "callwatch/metrics/engine.hpp"

#include <algorithm>
#include <array>
#include <cmath>
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
// How long a call is remembered after its last event: long enough to recognise a repeated
// outcome or a late completion, short enough that a busy center's memory stays flat.
constexpr double kFinishedRetention = 180.0;      // every visit has its outcome, no call in talk
constexpr double kTalkingRetention = 8 * 3600.0;  // answered and not yet ended
constexpr double kStaleVisit = 6 * 3600.0;        // a caller "waiting" this long lost its outcome
constexpr std::size_t kMaxWarnings = 1000;

enum class Activity : std::uint8_t { none, ringing, on_call, wrap_up };

struct Visit {
  Id queue = kNone;
  double entered = kNoValue;  // NaN: entry precedes the input
  bool done = false;          // has its outcome (or was cut)
};

struct CallState {
  std::vector<Visit> visits;
  std::vector<Id> agents_offered;
  int queues_entered = 0;
  bool bounced = false;
  bool answered = false;
  bool ended = false;
  Id answered_queue = kNone;
  Id answered_agent = kNone;
  double answer_ts = kNoValue;
  double last_ts = 0;
};

struct QueueState {
  std::string name;
  QueueSettings settings;
  std::multiset<double> waiting;  // entry times of calls waiting now
  QueueCounters interval, today, total;
  std::optional<Window> previous;
  internal::MinuteRing<QueueCounters> ring;
  Histogram answer_wait, abandon_wait, handle;
  bool gap = false;
};

struct AgentStateRec {
  std::string name;
  bool logged_in = false;
  std::vector<Id> members;  // queues, sorted
  std::vector<Id> paused_in;  // queues, sorted
  bool paused_all = false;
  std::string pause_reason;
  Activity activity = Activity::none;
  AgentState state = AgentState::logged_out;
  double state_since = 0;   // when the current state began (shown as "time in state")
  double accounted_to = 0;  // time in state is counted up to here (interval closes move it)
  double reason_since = 0;  // pause time by reason: start of the current reason's share
  double wrap_started = 0;
  bool wrap_stated = false;  // the last call_ended stated its after-call work: not timed again
  AgentCounters interval, today;
  Id last_call_queue = kNone;
};

// Calls in flight and recently finished: a slab of states with a flat index on the call id.
class CallTable {
 public:
  CallState& get_or_add(std::string_view id) {
    const std::uint64_t h = internal::hash_key(id);
    const Id found = index_.find(id, h, [this](Id i) { return std::string_view(ids_[i]); });
    if (found != internal::FlatIndex::kEmpty) return states_[found];
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
    for (std::size_t i = 0; i < ids_.size(); ++i) f(ids_[i], states_[i]);
  }
  template <typename F>
  void for_each(F&& f) const {
    for (std::size_t i = 0; i < ids_.size(); ++i) f(ids_[i], states_[i]);
  }
  template <typename Pred>
  void remove_if(Pred&& pred) {
    auto key = [this](Id i) { return std::string_view(ids_[i]); };
    for (std::size_t i = 0; i < ids_.size();) {
      if (!pred(states_[i])) {
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

  internal::Interner queue_names, agent_names;
  std::vector<QueueState> queues;
  std::vector<AgentStateRec> agents;
  CallTable calls;
  double last_prune = 0;
  std::vector<Id> scratch_ids;

  bool started = false;
  double start_time = 0;  // first instant the engine saw (replay: first event)
  double now = 0;
  double interval_start = 0;
  double interval_end = 0;
  double day_start = 0;
  double next_day_start = 0;
  std::vector<ClosedInterval> closed;
  DataQuality dq;
  std::uint64_t version = 0;
  std::uint64_t events_applied = 0;

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

  // A member's state as one of its queues sees it: paused only where it is paused (or paused in
  // all), available elsewhere.
  static AgentState state_in(const AgentStateRec& a, Id q) {
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

  // The span [from, to) of an agent into each of its queues: interval, today and total, and the
  // minute buckets it covers so the sliding windows hold it where it happened.
  void accrue_queues(const AgentStateRec& a, double from, double to) {
    const double ring_now = std::max(now, to);
    const double ring_from = std::max(from, to - internal::MinuteRing<QueueCounters>::kMinutes * 60.0);
    for (Id q : a.members) {
      double QueueCounters::*field = agent_time_field(state_in(a, q));
      if (!field) continue;
      QueueState& qs = queues[q];
      const double d = to - from;
      qs.interval.*field += d;
      qs.today.*field += d;
      qs.total.*field += d;
      for (double t = ring_from; t < to;) {
        const double end = std::min(to, std::floor(t / 60.0) * 60.0 + 60.0);
        qs.ring.at(t, ring_now).*field += end - t;
        t = end;
      }
    }
  }

  void accrue_agent(AgentStateRec& a, double t) {
    if (t <= a.accounted_to) return;
    const double d = t - a.accounted_to;
    accrue_queues(a, a.accounted_to, t);
    const int s = static_cast<int>(a.state);
    a.interval.state_seconds[s] += d;
    a.today.state_seconds[s] += d;
    if (a.state == AgentState::paused) {
      const double from = std::max(a.reason_since, a.accounted_to);
      if (t > from) {
        a.interval.paused_by_reason[a.pause_reason] += t - from;
        a.today.paused_by_reason[a.pause_reason] += t - from;
      }
      a.reason_since = t;
    }
    a.accounted_to = t;
  }

  void close_interval(double boundary) {
    for (auto& a : agents) accrue_agent(a, boundary);
    for (auto& q : queues) {
      if (q.interval.offered() > 0 || q.interval.arrivals > 0 || q.interval.handled > 0 ||
          q.interval.transferred_out > 0 || q.interval.ring_noanswer > 0) {
        closed.push_back(ClosedInterval{q.name, interval_start, boundary, q.interval});
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
      for (auto& q : queues) q.today = QueueCounters{};
      for (auto& a : agents) a.today = AgentCounters{};
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
    // Once a minute of engine time: O(calls), a few ms even for a million calls.
    if (t - last_prune < 60) return;
    last_prune = t;
    std::uint64_t stale = 0;
    calls.for_each([&](const std::string&, CallState& c) {
      for (auto& v : c.visits) {
        if (v.done || !has_value(v.entered) || t - v.entered < kStaleVisit) continue;
        // The feed lost this visit's outcome: stop counting it as waiting, never as offered.
        leave_waiting(queues[v.queue], v);
        v.done = true;
        queues[v.queue].gap = true;
        ++stale;
      }
    });
    if (stale > 0) {
      dq.visits_cut += stale;
      warn("stale_visit", std::to_string(stale) + " visit(s) waiting over " +
                              std::to_string(static_cast<int>(kStaleVisit / 3600)) +
                              " h without an outcome were closed (not offered)");
    }
    calls.remove_if([&](const CallState& c) {
      const bool open = std::any_of(c.visits.begin(), c.visits.end(),
                                    [](const Visit& v) { return !v.done; });
      if (open) return false;
      const bool talking = c.answered && !c.ended;
      return t - c.last_ts > (talking ? kTalkingRetention : kFinishedRetention);
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
      queues.push_back(std::move(q));
    }
    return id;
  }
  Id agent_id(std::string_view name) {
    auto [id, added] = agent_names.intern(name);
    if (added) {
      AgentStateRec a;
      a.name = std::string(name);
      a.state_since = now;
      a.accounted_to = now;
      a.reason_since = now;
      agents.push_back(std::move(a));
    }
    return id;
  }

  void warn(std::string_view kind, std::string msg) {
    auto it = dq.warning_counts.find(kind);
    if (it == dq.warning_counts.end()) dq.warning_counts.emplace(std::string(kind), 1);
    else ++it->second;
    if (dq.warnings.size() < kMaxWarnings) dq.warnings.push_back(std::move(msg));
  }

  // ---- counting ---------------------------------------------------------------------------
  template <typename F>
  void count(QueueState& q, double t, F&& f) {
    f(q.interval);
    f(q.today);
    f(q.total);
    f(q.ring.at(t, now));
  }

  static void note_max_wait(QueueCounters& c, double wait) {
    if (!has_value(wait)) return;
    c.max_wait = has_value(c.max_wait) ? std::max(c.max_wait, wait) : wait;
  }

  void check_bounce(CallState& c, Id queue) {
    if (c.bounced || queue == kNone) return;
    if (static_cast<int>(c.agents_offered.size()) >= 3 || c.queues_entered >= 3) {
      c.bounced = true;
      count(queues[queue], now, [](QueueCounters& k) { ++k.bounced; });
    }
  }

  // Finds the visit of (call, queue) that an outcome closes: the latest open one, else the
  // latest one (a second outcome), else none.
  static Visit* find_visit(CallState& c, Id queue) {
    Visit* last = nullptr;
    for (auto it = c.visits.rbegin(); it != c.visits.rend(); ++it) {
      if (it->queue != queue) continue;
      if (!it->done) return &*it;
      if (!last) last = &*it;
    }
    return last;
  }

  void leave_waiting(QueueState& q, const Visit& v) {
    if (!has_value(v.entered)) return;
    auto it = q.waiting.find(v.entered);
    if (it != q.waiting.end()) q.waiting.erase(it);
  }

  CallState& call(std::string_view id, double t) {
    CallState& c = calls.get_or_add(id);
    c.last_ts = std::max(c.last_ts, t);
    return c;
  }

  ApplyResult on_enqueued(const Event& e, double t) {
    const Id qid = queue_id(e.queue);
    CallState& c = call(e.call, t);
    for (const auto& v : c.visits) {
      if (v.queue == qid && !v.done) {
        warn("duplicate_enqueue", "call " + std::string(e.call) + " entered queue " +
                                      std::string(e.queue) + " twice without an outcome");
        return ApplyResult::ignored_duplicate;
      }
    }
    c.visits.push_back(Visit{qid, e.ts, false});
    ++c.queues_entered;
    QueueState& q = queues[qid];
    q.waiting.insert(e.ts);
    count(q, t, [](QueueCounters& k) { ++k.arrivals; });
    check_bounce(c, qid);
    return ApplyResult::applied;
  }

  enum class Outcome { answered, abandoned, timed_out, exited_empty, exited_key, transferred_out };

  ApplyResult on_outcome(const Event& e, double t, Outcome o) {
    const Id qid = queue_id(e.queue);
    CallState& c = call(e.call, t);
    Visit* v = find_visit(c, qid);
    if (v && v->done) {
      warn("duplicate_outcome", "call " + std::string(e.call) + " in queue " +
                                    std::string(e.queue) + ": second outcome ignored");
      return ApplyResult::ignored_duplicate;
    }
    if (!v) {
      // Entry precedes the input (file starts mid-day, daemon started mid-call).
      c.visits.push_back(Visit{qid, kNoValue, false});
      v = &c.visits.back();
    }
    QueueState& q = queues[qid];
    leave_waiting(q, *v);
    v->done = true;
    double wait = e.wait;
    if (!has_value(wait) && has_value(v->entered)) wait = e.ts - v->entered;
    if (has_value(wait) && wait < 0) {
      warn("negative_wait", "call " + std::string(e.call) + ": outcome before entry, wait taken as 0");
      wait = 0;
    }
    if (!has_value(wait) && o != Outcome::transferred_out) {
      warn("unknown_wait", "call " + std::string(e.call) + " in queue " + std::string(e.queue) +
                               ": outcome without a known wait counts in no wait-based figure");
    }
    if (e.inferred) ++dq.inferred_outcomes;
    const double T = q.settings.sl_threshold;
    const double S = q.settings.short_abandon;
    const bool known = has_value(wait);
    count(q, t, [&](QueueCounters& k) {
      switch (o) {
        case Outcome::answered:
          ++k.answered;
          if (known) {
            ++k.answered_with_wait;
            k.answer_wait_sum += wait;
            if (wait <= T) ++k.answered_within_sl;
          }
          break;
        case Outcome::abandoned:
          ++k.abandoned;
          if (known && wait <= T) ++k.abandoned_within_sl;
          if (known && wait < S) ++k.short_abandoned;
          break;
        case Outcome::timed_out: ++k.timed_out; break;
        case Outcome::exited_empty: ++k.exited_empty; break;
        case Outcome::exited_key: ++k.exited_key; break;
        case Outcome::transferred_out: ++k.transferred_out; return;
      }
      if (!known) ++k.no_wait_outcomes;
      note_max_wait(k, wait);
    });
    if (known && o == Outcome::answered) q.answer_wait.observe(wait);
    if (known && o == Outcome::abandoned) q.abandon_wait.observe(wait);

    if (o == Outcome::answered) {
      // A new leg (e.g. transferred to another queue and answered there) gets its own completion.
      c.answered = true;
      c.ended = false;
      c.answered_queue = qid;
      c.answer_ts = e.ts;
      if (!e.agent.empty()) {
        const Id aid = agent_id(e.agent);
        c.answered_agent = aid;
        if (!contains_sorted(c.agents_offered, aid)) insert_sorted(c.agents_offered, aid);
        AgentStateRec& a = agents[aid];
        accrue_agent(a, std::max(t, a.accounted_to));  // before it joins the answered queue
        ++a.interval.answered;
        ++a.today.answered;
        a.logged_in = true;
        insert_sorted(a.members, qid);
        a.activity = Activity::on_call;
        a.last_call_queue = qid;
        a.wrap_stated = false;
        update_state(a, t);
      }
      check_bounce(c, qid);
    }
    return ApplyResult::applied;
  }

  ApplyResult on_ended(const Event& e, double t) {
    CallState& c = call(e.call, t);
    if (c.ended) {
      warn("duplicate_completion", "call " + std::string(e.call) + ": second completion ignored");
      return ApplyResult::ignored_duplicate;
    }
    c.ended = true;
    c.answered = false;  // the leg is over: a later visit of the same call can be answered again
    Id qid = c.answered_queue;
    if (qid == kNone && !e.queue.empty()) qid = queue_id(e.queue);
    Id aid = kNone;
    if (!e.agent.empty()) aid = agent_id(e.agent);
    else aid = c.answered_agent;
    const double hold = has_value(e.hold) ? e.hold : 0.0;
    double talk = e.talk;
    if (!has_value(talk) && has_value(c.answer_ts)) talk = std::max(0.0, e.ts - c.answer_ts - hold);
    const double wrap = has_value(e.wrap) ? e.wrap : 0.0;
    if (qid == kNone) {
      warn("unattributed_completion",
           "call " + std::string(e.call) + " ended with no known queue: not in AHT");
    } else if (!has_value(talk)) {
      warn("unknown_talk", "call " + std::string(e.call) + " ended with no known talk time");
    } else {
      QueueState& q = queues[qid];
      const double handle = talk + hold + wrap;
      count(q, t, [&](QueueCounters& k) {
        ++k.handled;
        k.handle_sum += handle;
        k.talk_sum += talk;
        k.hold_sum += hold;
      });
      q.handle.observe(handle);
    }
    if (aid != kNone) {
      AgentStateRec& a = agents[aid];
      if (has_value(talk)) {
        // A completed call: it counts in the agent's AHT with its talk, hold and wrap-up.
        a.interval.talk_seconds += talk;
        a.today.talk_seconds += talk;
        ++a.interval.handled;
        ++a.today.handled;
      }
      a.interval.hold_seconds += hold;
      a.today.hold_seconds += hold;
      if (has_value(e.wrap)) {
        a.interval.wrap_seconds += wrap;
        a.today.wrap_seconds += wrap;
        a.wrap_stated = true;  // already in the queue's handle time above
      }
      if (a.activity == Activity::on_call || a.activity == Activity::ringing) {
        a.activity = settings.wrap_up_after_call ? Activity::wrap_up : Activity::none;
      }
      a.last_call_queue = qid;
      update_state(a, t);
    }
    return ApplyResult::applied;
  }

  ApplyResult on_transferred(const Event& e, double t) {
    CallState& c = call(e.call, t);
    if (!c.answered && !e.queue.empty()) {
      // Before answer: the visit leaves its queue by transfer (not offered).
      const Id qid = queue_id(e.queue);
      Visit* v = find_visit(c, qid);
      if (v && !v->done) {
        Event closing = e;
        return on_outcome(closing, t, Outcome::transferred_out);
      }
    }
    return ApplyResult::applied;  // after answer: informational (call_ended carries the figures)
  }

  ApplyResult on_ring_noanswer(const Event& e, double t) {
    const Id aid = agent_id(e.agent);
    AgentStateRec& a = agents[aid];
    if (a.activity == Activity::ringing) {
      a.activity = Activity::none;
      update_state(a, t);
    }
    if (has_value(e.ring_ms) && e.ring_ms <= 0) {
      // Refused at once (busy, unreachable, DND): never offered to a person.
      ++a.interval.ring_refused;
      ++a.today.ring_refused;
      return ApplyResult::applied;
    }
    ++a.interval.ring_noanswer;
    ++a.today.ring_noanswer;
    Id qid = kNone;
    if (!e.queue.empty()) {
      qid = queue_id(e.queue);
      count(queues[qid], t, [](QueueCounters& k) { ++k.ring_noanswer; });
    }
    if (!e.call.empty()) {
      CallState& c = call(e.call, t);
      if (!c.answered && !contains_sorted(c.agents_offered, aid)) insert_sorted(c.agents_offered, aid);
      check_bounce(c, qid);
    }
    return ApplyResult::applied;
  }

  void update_state(AgentStateRec& a, double t) {
    AgentState s;
    if (!a.logged_in) s = AgentState::logged_out;
    else if (a.activity == Activity::on_call) s = AgentState::on_call;
    else if (a.activity == Activity::ringing) s = AgentState::ringing;
    else if (a.activity == Activity::wrap_up) s = AgentState::wrap_up;
    else if (a.paused_all || !a.paused_in.empty()) s = AgentState::paused;
    else s = AgentState::available;
    if (s == a.state) return;
    const double at = std::max(t, a.accounted_to);
    accrue_agent(a, at);
    if (a.state == AgentState::wrap_up && a.last_call_queue != kNone && !a.wrap_stated) {
      // After-call work belongs to the handle time of the call it followed (unless the feed
      // already stated it on call_ended).
      const double wrap = at - a.wrap_started;
      if (wrap > 0) {
        a.interval.wrap_seconds += wrap;
        a.today.wrap_seconds += wrap;
        count(queues[a.last_call_queue], t, [&](QueueCounters& k) { k.handle_sum += wrap; });
      }
    }
    if (a.state == AgentState::wrap_up) a.wrap_stated = false;
    if (s == AgentState::wrap_up) a.wrap_started = at;
    if (s == AgentState::paused) a.reason_since = at;
    a.state = s;
    a.state_since = at;
    a.accounted_to = at;
  }

  ApplyResult on_agent_state(const Event& e, double t) {
    const Id aid = agent_id(e.agent);
    std::vector<Id>& qs = scratch_ids;  // reused: no allocation per event
    qs.clear();
    for (auto name : e.queues) {
      if (!name.empty()) qs.push_back(queue_id(name));
    }
    AgentStateRec& a = agents[aid];
    const double at = std::max(t, a.accounted_to);
    accrue_agent(a, at);  // the time so far counts in the queues and pauses it was spent in
    switch (e.state) {
      case AgentState::logged_out:
        if (qs.empty()) {
          a.members.clear();
        } else {
          for (Id q : qs) {
            erase_sorted(a.members, q);
            erase_sorted(a.paused_in, q);
          }
        }
        if (a.members.empty()) {
          a.logged_in = false;
          a.activity = Activity::none;
          a.paused_in.clear();
          a.paused_all = false;
        }
        break;
      case AgentState::paused: {
        a.logged_in = true;
        const bool was_paused = a.state == AgentState::paused;
        if (was_paused && e.reason != a.pause_reason) {
          accrue_agent(a, at);  // split the span by reason; the span itself goes on
        }
        if (!was_paused || e.reason != a.pause_reason) a.pause_reason = std::string(e.reason);
        if (qs.empty()) {
          a.paused_all = true;
        } else {
          for (Id q : qs) {
            insert_sorted(a.members, q);
            insert_sorted(a.paused_in, q);
          }
        }
        break;
      }
      case AgentState::available:
        a.logged_in = true;
        if (qs.empty()) {
          a.paused_in.clear();
          a.paused_all = false;
        } else {
          for (Id q : qs) {
            insert_sorted(a.members, q);
            erase_sorted(a.paused_in, q);
          }
          if (a.paused_in.empty()) a.paused_all = false;
        }
        a.activity = Activity::none;
        break;
      case AgentState::ringing:
      case AgentState::on_call:
      case AgentState::wrap_up:
        a.logged_in = true;
        for (Id q : qs) insert_sorted(a.members, q);
        a.activity = e.state == AgentState::ringing  ? Activity::ringing
                     : e.state == AgentState::on_call ? Activity::on_call
                                                      : Activity::wrap_up;
        break;
    }
    update_state(a, at);
    return ApplyResult::applied;
  }

  ApplyResult on_restart(const Event& e, double t) {
    ++dq.restarts;
    dq.gap = true;
    std::uint64_t cut = 0;
    calls.for_each([&](const std::string&, CallState& c) {
      for (auto& v : c.visits) {
        if (v.done) continue;
        leave_waiting(queues[v.queue], v);
        v.done = true;
        queues[v.queue].gap = true;
        ++cut;
      }
    });
    for (auto& q : queues) q.waiting.clear();
    for (auto& a : agents) {
      if (a.activity != Activity::none) {
        a.activity = Activity::none;
        update_state(a, t);
      }
    }
    dq.visits_cut += cut;
    warn("pbx_restart", "PBX restart at " + fmt_ts(e.ts) + ": " + std::to_string(cut) +
                            (cut == 1 ? " visit" : " visits") +
                            " still open closed without an outcome");
    return ApplyResult::applied;
  }

  ApplyResult apply(const Event& e) {
    double t = e.ts;
    if (!std::isfinite(t)) return ApplyResult::ignored_unknown;
    if (clock) {
      const double wall = clock->now();
      if (!started) start_at(wall);
      if (t > wall + kSkewTolerance) {
        ++dq.clock_skew;
        t = wall;
      }
    }
    if (!started) start_at(t);
    if (t > now) advance(t);
    if (t < interval_start) {
      ++dq.late_events;
    }
    t = std::max(t, interval_start);
    ++version;
    ++events_applied;
    switch (e.type) {
      case EventType::call_enqueued: return on_enqueued(e, t);
      case EventType::call_answered: return on_outcome(e, t, Outcome::answered);
      case EventType::call_abandoned: return on_outcome(e, t, Outcome::abandoned);
      case EventType::call_exited:
        return on_outcome(e, t,
                          e.exit_reason == ExitReason::timeout ? Outcome::timed_out
                          : e.exit_reason == ExitReason::empty ? Outcome::exited_empty
                                                               : Outcome::exited_key);
      case EventType::call_ended: return on_ended(e, t);
      case EventType::call_transferred: return on_transferred(e, t);
      case EventType::agent_ring_noanswer: return on_ring_noanswer(e, t);
      case EventType::agent_state: return on_agent_state(e, t);
      case EventType::feed_restart: return on_restart(e, t);
    }
    return ApplyResult::ignored_unknown;
  }

  // ---- views ------------------------------------------------------------------------------
  AgentCounters with_open_span(const AgentStateRec& a, const AgentCounters& base, double t) const {
    AgentCounters c = base;
    if (t > a.accounted_to) {
      c.state_seconds[static_cast<int>(a.state)] += t - a.accounted_to;
      if (a.state == AgentState::paused) {
        const double from = std::max(a.reason_since, a.accounted_to);
        if (t > from) c.paused_by_reason[a.pause_reason] += t - from;
      }
    }
    return c;
  }

  Snapshot snapshot() const {
    Snapshot s;
    s.now = now;
    s.interval_start = interval_start;
    s.day_start = day_start;
    s.data_quality = dq;
    s.events_applied = events_applied;
    s.version = version;

    // Agents first: their counters with the open span, and per queue the members by state and
    // the open span of each member's time (not accrued yet) in every window and the total.
    std::vector<AgentCounters> agent_today(agents.size()), agent_interval(agents.size());
    std::vector<AgentsByState> per_queue(queues.size());
    for (auto& arr : per_queue) arr.fill(0);
    constexpr int kTotal = kWindowCount;  // the open-span slot of the total
    std::vector<std::array<QueueCounters, kWindowCount + 1>> open(queues.size());
    std::array<double, kWindowCount + 1> window_from{};
    window_from[static_cast<int>(WindowKind::interval)] = interval_start;
    window_from[static_cast<int>(WindowKind::sliding_15m)] =
        std::max(internal::MinuteRing<QueueCounters>::window_start(now, 15), start_time);
    window_from[static_cast<int>(WindowKind::sliding_1h)] =
        std::max(internal::MinuteRing<QueueCounters>::window_start(now, 60), start_time);
    window_from[static_cast<int>(WindowKind::today)] = day_start;
    window_from[kTotal] = -1e300;
    for (Id ai = 0; ai < agents.size(); ++ai) {
      const AgentStateRec& a = agents[ai];
      agent_today[ai] = with_open_span(a, a.today, now);
      agent_interval[ai] = with_open_span(a, a.interval, now);
      for (Id q : a.members) {
        const AgentState st = state_in(a, q);
        per_queue[q][static_cast<int>(st)]++;
        double QueueCounters::*field = agent_time_field(st);
        if (!field || now <= a.accounted_to) continue;
        for (int w = 0; w <= kWindowCount; ++w) {
          const double span = now - std::max(a.accounted_to, window_from[w]);
          if (span > 0) open[q][w].*field += span;
        }
      }
    }

    std::vector<Id> order(queues.size());
    for (Id i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](Id a, Id b) { return queues[a].name < queues[b].name; });
    s.queues.reserve(queues.size());
    for (Id qi : order) {
      const QueueState& q = queues[qi];
      QueueView v;
      v.name = q.name;
      v.settings = q.settings;
      v.calls_waiting = static_cast<int>(q.waiting.size());
      if (!q.waiting.empty()) v.longest_wait = std::max(0.0, now - *q.waiting.begin());
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
      for (int w = 0; w < kWindowCount; ++w) v.windows[w].counters.add(open[qi][w]);
      v.previous_interval = q.previous;
      v.agents = per_queue[qi];
      v.total = q.total;
      v.total.add(open[qi][kTotal]);
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
      s.queues.push_back(std::move(v));
    }

    std::vector<Id> aorder(agents.size());
    for (Id i = 0; i < aorder.size(); ++i) aorder[i] = i;
    std::sort(aorder.begin(), aorder.end(),
              [&](Id a, Id b) { return agents[a].name < agents[b].name; });
    s.agents.reserve(agents.size());
    for (Id ai : aorder) {
      const AgentStateRec& a = agents[ai];
      AgentView v;
      v.name = a.name;
      v.state = a.state;
      v.state_since = a.state_since;
      if (a.state == AgentState::paused) v.pause_reason = a.pause_reason;
      for (Id q : a.members) v.queues.push_back(queues[q].name);
      std::sort(v.queues.begin(), v.queues.end());
      v.today = std::move(agent_today[ai]);
      v.interval = std::move(agent_interval[ai]);
      s.agents.push_back(std::move(v));
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
}
double Engine::now() const { return impl_->now; }
Snapshot Engine::snapshot() const { return impl_->snapshot(); }
const std::vector<ClosedInterval>& Engine::closed_intervals() const { return impl_->closed; }
DataQuality& Engine::data_quality() { return impl_->dq; }
const DataQuality& Engine::data_quality() const { return impl_->dq; }
const EngineSettings& Engine::settings() const { return impl_->settings; }
std::uint64_t Engine::version() const { return impl_->version; }
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

}  // namespace

std::string Engine::serialize() const {
  const Impl& m = *impl_;
  StateWriter w;
  w.tag("callwatch-engine-state 3");
  put_layout(w);
  w.b(m.started);
  for (double v : {m.start_time, m.now, m.interval_start, m.interval_end, m.day_start, m.next_day_start})
    w.num(v);
  w.i(static_cast<std::int64_t>(m.version));
  w.i(static_cast<std::int64_t>(m.events_applied));
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
    for (double t : q.waiting) w.num(t);
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
    w.b(a.logged_in);
    put_ids(w, a.members);
    put_ids(w, a.paused_in);
    w.b(a.paused_all);
    w.str(a.pause_reason);
    w.i(static_cast<int>(a.activity));
    w.i(static_cast<int>(a.state));
    w.num(a.state_since);
    w.num(a.accounted_to);
    w.num(a.reason_since);
    w.num(a.wrap_started);
    w.b(a.wrap_stated);
    put(w, a.interval);
    put(w, a.today);
    put_ids(w, {a.last_call_queue});
    w.tag("");
  }
  w.tag("calls");
  w.i(static_cast<std::int64_t>(m.calls.size()));
  // Sorted so the same state always gives the same text.
  std::vector<std::pair<const std::string*, const CallState*>> call_order;
  call_order.reserve(m.calls.size());
  m.calls.for_each([&](const std::string& id, const CallState& c) { call_order.emplace_back(&id, &c); });
  std::sort(call_order.begin(), call_order.end(),
            [](const auto& a, const auto& b) { return *a.first < *b.first; });
  for (const auto& [idp, cp] : call_order) {
    const std::string& id = *idp;
    const CallState& c = *cp;
    w.str(id);
    w.i(static_cast<std::int64_t>(c.visits.size()));
    for (const auto& v : c.visits) {
      put_ids(w, {v.queue});
      w.num(v.entered);
      w.b(v.done);
    }
    put_ids(w, c.agents_offered);
    w.i(c.queues_entered);
    w.b(c.bounced);
    w.b(c.answered);
    w.b(c.ended);
    put_ids(w, {c.answered_queue, c.answered_agent});
    w.num(c.answer_ts);
    w.num(c.last_ts);
    w.tag("");
  }
  w.tag("closed");
  w.i(static_cast<std::int64_t>(m.closed.size()));
  for (const auto& ci : m.closed) {
    w.str(ci.queue);
    w.num(ci.start);
    w.num(ci.end);
    put(w, ci.counters);
    w.tag("");
  }
  w.tag("end");
  return w.take();
}

bool Engine::restore(std::string_view data) {
  StateReader r(data);
  r.expect("callwatch-engine-state");
  // 1: before accounted_to (not read); 2: fixed counter fields; 3: named fields, wrap_stated.
  const std::int64_t format = r.i();
  if ((format != 2 && format != 3) || !r.ok()) return false;
  const FieldLayout layout = format == 2 ? layout_v2() : get_layout(r);
  Impl m;
  m.settings = impl_->settings;
  m.clock = impl_->clock;
  m.wait_bounds = impl_->wait_bounds;
  m.handle_bounds = impl_->handle_bounds;
  m.started = r.b();
  for (double* v : {&m.start_time, &m.now, &m.interval_start, &m.interval_end, &m.day_start,
                    &m.next_day_start})
    *v = r.num();
  m.version = static_cast<std::uint64_t>(r.i());
  m.events_applied = static_cast<std::uint64_t>(r.i());
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
    for (std::size_t n = r.count(), j = 0; j < n && r.ok(); ++j) q.waiting.insert(r.num());
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
    a.logged_in = r.b();
    get_ids(r, a.members, m.queues.size());
    get_ids(r, a.paused_in, m.queues.size());
    a.paused_all = r.b();
    a.pause_reason = r.str();
    a.activity = static_cast<Activity>(std::clamp<std::int64_t>(r.i(), 0, 3));
    a.state = static_cast<AgentState>(std::clamp<std::int64_t>(r.i(), 0, kAgentStateCount - 1));
    a.state_since = r.num();
    a.accounted_to = r.num();
    a.reason_since = r.num();
    a.wrap_started = r.num();
    if (format >= 3) a.wrap_stated = r.b();
    get(r, a.interval, layout);
    get(r, a.today, layout);
    std::vector<Id> last;
    get_ids(r, last, m.queues.size());
    a.last_call_queue = last.empty() ? kNone : last[0];
  }
  r.expect("calls");
  const std::size_t nc = r.count();
  for (std::size_t k = 0; k < nc && r.ok(); ++k) {
    std::string id = r.str();
    CallState c;
    for (std::size_t n = r.count(100000), j = 0; j < n && r.ok(); ++j) {
      Visit v;
      std::vector<Id> qid;
      get_ids(r, qid, m.queues.size());
      v.queue = qid.empty() ? kNone : qid[0];
      v.entered = r.num();
      v.done = r.b();
      if (v.queue != kNone) c.visits.push_back(v);
    }
    get_ids(r, c.agents_offered, m.agents.size());
    c.queues_entered = static_cast<int>(r.i());
    c.bounced = r.b();
    c.answered = r.b();
    c.ended = r.b();
    const std::size_t two = r.count(2);
    c.answered_queue = two > 0 ? get_id(r, m.queues.size()) : kNone;
    c.answered_agent = two > 1 ? get_id(r, m.agents.size()) : kNone;
    c.answer_ts = r.num();
    c.last_ts = r.num();
    m.calls.get_or_add(id) = std::move(c);
  }
  r.expect("closed");
  for (std::size_t n = r.count(), k = 0; k < n && r.ok(); ++k) {
    ClosedInterval ci;
    ci.queue = r.str();
    ci.start = r.num();
    ci.end = r.num();
    get(r, ci.counters, layout);
    m.closed.push_back(std::move(ci));
  }
  r.expect("end");
  if (!r.ok()) return false;
  *impl_ = std::move(m);
  return true;
}

void Engine::note_gap(double from, double to) {
  Impl& m = *impl_;
  m.dq.gap = true;
  for (auto& q : m.queues) q.gap = true;
  m.warn("gap", "no data from " + fmt_ts(from) + " to " + fmt_ts(to) + " (" +
                    std::to_string(static_cast<long long>(to - from)) + " s): daemon or feed down");
  ++m.version;
}

}  // namespace callwatch::metrics
