// Property test support: a seeded generator of a contact-center day in native events
// (DESIGN.md "Native events"), the noise real feeds add (duplicates, reorders inside the lateness
// bound, repeated outcomes, malformed lines), and an independent model of the figures written
// from METRICS.md. Nothing here calls the engine or any metrics/ function: the model is the
// specification, the daemon and `callwatchd report` are checked against it.
//
// Time is kept in ticks of 1/8 s: every timestamp is exact in binary floating point, so a wait of
// exactly T or S seconds is exactly T or S on every side (no rounding luck in the boundaries).
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace prop {

// splitmix64: the same seed gives the same day on every platform and standard library.
struct Rng {
  std::uint64_t s;
  explicit Rng(std::uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 0x5DEECE66Dull) {}
  std::uint64_t next() {
    std::uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  long range(long lo, long hi) {  // inclusive
    if (hi <= lo) return lo;
    return lo + static_cast<long>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
  double unit() { return static_cast<double>(next() >> 11) * (1.0 / 9007199254740992.0); }
  bool chance(double p) { return unit() < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) {
    return v[static_cast<std::size_t>(range(0, static_cast<long>(v.size()) - 1))];
  }
};

constexpr long kTicks = 8;           // ticks per second
constexpr long kInterval = 900;      // seconds (15-minute intervals, UTC-aligned)
constexpr long kLateness = 10;       // [engine] max_lateness_seconds used by the test

struct QueueDef {
  std::string name;
  long T = 20;  // service-level threshold, seconds
  long S = 5;   // short-abandon threshold, seconds
};

struct Ev {
  std::string type;
  long tick = 0;
  std::string call, queue, agent, state, reason, to_queue, exit_reason, by;
  std::vector<std::string> queues;
  bool with_queues = false;
  bool with_reason = false;
  long hold = -1;     // seconds, call_ended
  long ring_ms = -1;  // agent_ring_noanswer
  int seq = 0;        // generation order (ties of equal ticks keep it)
};

struct Day {
  long base = 0;      // epoch seconds of tick 0
  long end_tick = 0;  // tick of the last event of the clean stream
  std::vector<QueueDef> queues;
  std::vector<std::string> agents;
  std::vector<Ev> events;  // clean, sorted by (tick, seq)
  double ts(long tick) const { return static_cast<double>(base) + static_cast<double>(tick) / kTicks; }
  const QueueDef& queue(const std::string& n) const {
    for (const auto& q : queues)
      if (q.name == n) return q;
    throw std::runtime_error("unknown queue " + n);
  }
};

// ---- JSON lines -------------------------------------------------------------------------------

inline void jstr(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

inline std::string ts_text(long base, long tick) {
  return fmt::format("{}.{:03}", base + tick / kTicks, (tick % kTicks) * (1000 / kTicks));
}

// One native JSON object; `type_last` writes "type" at the end (legal JSON, fields in any order).
inline std::string to_json(long base, const Ev& e, bool type_last = false,
                           std::optional<long> tick_override = std::nullopt) {
  std::vector<std::pair<std::string, std::string>> f;
  auto s = [&](const char* k, const std::string& v) {
    std::string o;
    jstr(o, v);
    f.emplace_back(k, o);
  };
  f.emplace_back("ts", ts_text(base, tick_override.value_or(e.tick)));
  if (!e.call.empty()) s("call", e.call);
  if (!e.queue.empty()) s("queue", e.queue);
  if (!e.agent.empty()) s("agent", e.agent);
  if (!e.state.empty()) s("state", e.state);
  if (e.with_reason) s("reason", e.reason);
  if (e.with_queues) {
    std::string o = "[";
    for (std::size_t i = 0; i < e.queues.size(); ++i) {
      if (i) o += ',';
      jstr(o, e.queues[i]);
    }
    f.emplace_back("queues", o + "]");
  }
  if (!e.to_queue.empty()) s("to_queue", e.to_queue);
  if (!e.exit_reason.empty()) s("reason", e.exit_reason);
  if (!e.by.empty()) s("by", e.by);
  if (e.hold >= 0) f.emplace_back("hold_seconds", std::to_string(e.hold));
  if (e.ring_ms >= 0) f.emplace_back("ring_ms", std::to_string(e.ring_ms));
  std::string type;
  jstr(type, e.type);
  if (type_last) f.emplace_back("type", type);
  else f.insert(f.begin(), {"type", type});
  std::string out = "{";
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (i) out += ',';
    jstr(out, f[i].first);
    out += ':';
    out += f[i].second;
  }
  return out + "}";
}

// ---- the generator ------------------------------------------------------------------------------

struct GenOptions {
  int calls = 300;
  long minutes = 65;
};

class Generator {
 public:
  Generator(std::uint64_t seed, long base, GenOptions o) : rng_(seed), opt_(o) {
    day_.base = base;
    day_.queues = {{"sales", 20, 5}, {"support", 20, 5}, {"售后服务", 30, 3}, {"billing", 15, 5}};
    day_.agents = {"ana", "bo", "cy", "dee", "eli", "fay", "gus", "hal", "ivy", "jon", "kim", "李娜", "max", "ned"};
    D_ = o.minutes * 60 * kTicks;
  }

  Day run() {
    plan_agents();
    plan_arrivals();
    for (long t = 0; t <= D_; ++t) step(t);
    std::stable_sort(day_.events.begin(), day_.events.end(), [](const Ev& a, const Ev& b) {
      return a.tick != b.tick ? a.tick < b.tick : a.seq < b.seq;
    });
    day_.events.erase(std::remove_if(day_.events.begin(), day_.events.end(),
                                     [&](const Ev& e) { return e.tick > D_; }),
                      day_.events.end());
    day_.end_tick = day_.events.empty() ? 0 : day_.events.back().tick;
    return day_;
  }

 private:
  enum class ActKind { login, logout, pause, unpause, leave };
  struct Act {
    long tick;
    ActKind kind;
    std::vector<std::string> queues;
    std::string reason;
  };
  struct AgentSim {
    std::string name;
    std::vector<std::string> home;  // queues it logs in to
    bool logged_in = false;
    std::set<std::string> members, paused_in;
    bool paused_all = false;
    long busy_until = 0;            // may take a call from this tick on
    std::set<long> call_ticks;      // ticks of its answers and ends (no state change there)
    long last_state_tick = -1000;
    std::vector<Act> plan;
    std::size_t next = 0;
  };
  enum class Plan { answer, abandon, timeout, empty, key, transfer };
  struct Waiting {
    std::string call, queue;
    long enq = 0, at = 0, give_up = 0;
    Plan plan = Plan::answer;
    std::vector<std::string> visited;
  };

  Ev& emit(Ev e) {
    e.seq = seq_++;
    day_.events.push_back(std::move(e));
    return day_.events.back();
  }

  long secs(long lo, long hi) { return rng_.range(lo * kTicks, hi * kTicks); }

  void add_episode(AgentSim& a, long from, long to) {
    const long start = rng_.range(from, std::max(from, to - 60 * kTicks));
    auto d = [&] { return secs(20, 360); };
    std::vector<Act> acts;
    const auto& home = a.home;
    const std::string q1 = rng_.pick(home);
    std::string q2;
    for (const auto& q : home)
      if (q != q1) q2 = q;
    std::string other;
    for (const auto& q : day_.queues)
      if (std::find(home.begin(), home.end(), q.name) == home.end()) other = q.name;
    long t = start;
    switch (rng_.range(0, 7)) {
      case 0:  // PAUSEALL with a reason (sometimes none), UNPAUSEALL
        acts.push_back({t, ActKind::pause, {}, rng_.chance(0.25) ? "" : rng_.pick(std::vector<std::string>{"lunch", "break", "toilet"})});
        acts.push_back({t += d(), ActKind::unpause, {}, ""});
        break;
      case 1:  // per-queue pause
        acts.push_back({t, ActKind::pause, {q1}, "coaching"});
        acts.push_back({t += d(), ActKind::unpause, {q1}, ""});
        break;
      case 2:  // overlapping per-queue pauses with different reasons: one span
        if (q2.empty()) q2 = q1;
        acts.push_back({t, ActKind::pause, {q1}, "admin"});
        acts.push_back({t += secs(5, 90), ActKind::pause, {q2}, "email"});
        acts.push_back({t += secs(5, 90), ActKind::unpause, {q1}, ""});
        acts.push_back({t += secs(5, 90), ActKind::unpause, {q2}, ""});
        break;
      case 3:  // PAUSEALL beside a per-queue PAUSE, one UNPAUSEALL
        acts.push_back({t, ActKind::pause, {q1}, "meeting"});
        acts.push_back({t += secs(3, 60), ActKind::pause, {}, "meeting"});
        acts.push_back({t += d(), ActKind::unpause, {}, ""});
        break;
      case 4:  // a new reason does not restart the span
        acts.push_back({t, ActKind::pause, {}, "break"});
        acts.push_back({t += secs(10, 120), ActKind::pause, {}, "lunch"});
        acts.push_back({t += d(), ActKind::unpause, {}, ""});
        break;
      case 5:  // an unpause with no pause seen
        acts.push_back({t, ActKind::unpause, {}, ""});
        break;
      case 6:  // joining a queue paused starts a pause, leaving it ends it
        if (other.empty()) return;
        acts.push_back({t, ActKind::pause, {other}, "training"});
        acts.push_back({t += d(), ActKind::leave, {other}, ""});
        break;
      default:  // per-queue pause ended by UNPAUSEALL
        acts.push_back({t, ActKind::pause, {q1}, "wrap"});
        acts.push_back({t += d(), ActKind::unpause, {}, ""});
        break;
    }
    if (acts.back().tick >= to) return;  // would run past the login span: dropped
    for (auto& x : acts) a.plan.push_back(std::move(x));
  }

  void plan_agents() {
    const int nq = static_cast<int>(day_.queues.size());
    for (std::size_t i = 0; i < day_.agents.size(); ++i) {
      AgentSim a;
      a.name = day_.agents[i];
      a.home.push_back(day_.queues[i % nq].name);
      if (rng_.chance(0.6)) a.home.push_back(day_.queues[(i + 1) % nq].name);
      if (rng_.chance(0.25)) a.home.push_back(day_.queues[(i + 2) % nq].name);
      const bool late = i >= day_.agents.size() - 2;
      const long login = late ? secs(18 * 60, 22 * 60) : secs(0, 240);
      long logout = D_ + 1;
      a.plan.push_back({login, ActKind::login, a.home, ""});
      if (i == 3 || i == 7) {
        logout = secs(45 * 60, 50 * 60);
        a.plan.push_back({logout, ActKind::logout, {}, ""});
        if (i == 3) a.plan.push_back({secs(54 * 60, 58 * 60), ActKind::login, a.home, ""});
      }
      const int n = static_cast<int>(rng_.range(3, 6));
      for (int k = 0; k < n; ++k) add_episode(a, login + 30 * kTicks, std::min(logout, D_) - 60 * kTicks);
      std::stable_sort(a.plan.begin(), a.plan.end(), [](const Act& x, const Act& y) { return x.tick < y.tick; });
      sims_.push_back(std::move(a));
    }
  }

  void plan_arrivals() {
    for (int i = 0; i < opt_.calls; ++i) arrivals_.push_back(rng_.range(30 * kTicks, D_ - 20 * kTicks));
    // A few calls just before every interval boundary, so their outcomes and the events
    // around them straddle it.
    for (long b = (day_.base / kInterval + 1) * kInterval; b < day_.base + D_ / kTicks; b += kInterval) {
      const long bt = (b - day_.base) * kTicks;
      for (int k = 0; k < 3; ++k) arrivals_.push_back(bt - rng_.range(3 * kTicks, 7 * kTicks));
      for (int k = 0; k < 2; ++k) arrivals_.push_back(bt - rng_.range(1, 2 * kTicks - 1));
    }
    std::sort(arrivals_.begin(), arrivals_.end());
  }

  const std::string& pick_queue() {
    const double u = rng_.unit();
    const std::size_t i = u < 0.35 ? 0 : u < 0.65 ? 1 : u < 0.85 ? 2 : 3;
    return day_.queues[i].name;
  }

  void plan_visit(Waiting& w, bool second_leg) {
    const QueueDef& q = day_.queue(w.queue);
    const double u = rng_.unit();
    if (second_leg) {
      if (u < 0.75) {
        w.plan = Plan::answer;
        w.at = w.enq + secs(12, 60);  // never within L of the first leg's end
        w.give_up = w.enq + secs(150, 200);
      } else {
        w.plan = Plan::abandon;
        w.at = w.enq + secs(15, 100);
      }
      return;
    }
    if (u < 0.58) {
      w.plan = Plan::answer;
      const double v = rng_.unit();
      long wait = v < 0.2 ? rng_.range(1, 4 * kTicks) : v < 0.28 ? q.T * kTicks : v < 0.33 ? q.T * kTicks + 1
                                                                                     : secs(5, 90) + rng_.range(0, 7);
      w.at = w.enq + wait;
      w.give_up = w.enq + std::max(wait + kTicks, secs(120, 200));
    } else if (u < 0.78) {
      w.plan = Plan::abandon;
      const double v = rng_.unit();
      long p = v < 0.25 ? rng_.range(1, q.S * kTicks - 1) : v < 0.33 ? q.S * kTicks : v < 0.41 ? q.T * kTicks
               : v < 0.46 ? q.T * kTicks + 1 : secs(10, 150) + rng_.range(0, 7);
      w.at = w.enq + p;
    } else if (u < 0.83) {
      w.plan = Plan::timeout;
      w.at = w.enq + secs(60, 180);
    } else if (u < 0.87) {
      w.plan = Plan::empty;
      w.at = w.enq + rng_.range(1, 3 * kTicks);
    } else if (u < 0.92) {
      w.plan = Plan::key;
      w.at = w.enq + secs(5, 40);
    } else {
      w.plan = Plan::transfer;
      w.at = w.enq + secs(5, 40);
    }
  }

  std::string other_queue(const std::vector<std::string>& visited) {
    std::vector<std::string> c;
    for (const auto& q : day_.queues)
      if (std::find(visited.begin(), visited.end(), q.name) == visited.end()) c.push_back(q.name);
    return c.empty() ? std::string() : rng_.pick(c);
  }

  bool eligible(const AgentSim& a, const std::string& q, long t) const {
    return a.logged_in && a.members.count(q) && !a.paused_all && !a.paused_in.count(q) && t >= a.busy_until &&
           a.last_state_tick != t && !a.call_ticks.count(t);
  }

  void state_event(AgentSim& a, long t, const std::string& state, const std::vector<std::string>& queues,
                   std::optional<std::string> reason) {
    Ev e;
    e.type = "agent_state";
    e.tick = t;
    e.agent = a.name;
    e.state = state;
    e.queues = queues;
    e.with_queues = !queues.empty();
    if (reason) {
      e.reason = *reason;
      e.with_reason = true;
    }
    emit(std::move(e));
    a.last_state_tick = t;
  }

  void run_plan(AgentSim& a, long t) {
    while (a.next < a.plan.size() && a.plan[a.next].tick <= t) {
      if (a.call_ticks.count(t) || a.last_state_tick == t) return;  // one state change per tick
      const Act& x = a.plan[a.next];
      if (x.kind == ActKind::login) {
        ++a.next;
        if (a.logged_in) continue;
        state_event(a, t, "available", x.queues, std::nullopt);
        a.logged_in = true;
        a.members.insert(x.queues.begin(), x.queues.end());
        return;
      }
      if (!a.logged_in) {  // nothing but a login for an agent logged out
        ++a.next;
        continue;
      }
      if (x.kind == ActKind::logout) {
        if (t < a.busy_until) return;  // after the call
        ++a.next;
        state_event(a, t, "logged_out", {}, std::nullopt);
        a.logged_in = false;
        a.members.clear();
        a.paused_in.clear();
        a.paused_all = false;
        return;
      }
      const Act act = x;
      ++a.next;
      switch (act.kind) {
        case ActKind::pause:
          state_event(a, t, "paused", act.queues, act.reason);
          if (act.queues.empty()) a.paused_all = true;
          for (const auto& q : act.queues) {
            a.members.insert(q);
            a.paused_in.insert(q);
          }
          break;
        case ActKind::unpause:
          state_event(a, t, "available", act.queues, std::nullopt);
          if (act.queues.empty()) {
            a.paused_all = false;
            a.paused_in.clear();
          }
          for (const auto& q : act.queues) {
            a.members.insert(q);
            a.paused_in.erase(q);
          }
          break;
        case ActKind::leave:
          state_event(a, t, "logged_out", act.queues, std::nullopt);
          for (const auto& q : act.queues) {
            a.members.erase(q);
            a.paused_in.erase(q);
          }
          if (a.members.empty()) {
            a.logged_in = false;
            a.paused_all = false;
            a.paused_in.clear();
          }
          break;
        default:
          break;
      }
      return;
    }
  }

  void answer(Waiting& w, AgentSim& a, long t) {
    // Ring-no-answers by other members first (some refused at once: ring 0 ms).
    std::vector<AgentSim*> others;
    for (auto& o : sims_)
      if (&o != &a && o.logged_in && o.members.count(w.queue)) others.push_back(&o);
    const long n = others.empty() || t - w.enq < 3 ? 0 : rng_.range(0, std::min<long>(2, static_cast<long>(others.size())));
    for (long k = 0; k < n; ++k) {
      const long r = w.enq + (t - w.enq) * (k + 1) / (n + 1);
      if (r <= w.enq || r >= t) continue;
      AgentSim* o = others[static_cast<std::size_t>(rng_.range(0, static_cast<long>(others.size()) - 1))];
      Ev e;
      e.type = "agent_ring_noanswer";
      e.tick = r;
      e.call = w.call;
      e.queue = w.queue;
      e.agent = o->name;
      e.ring_ms = rng_.chance(0.12) ? 0 : rng_.range(4, 15) * 1000;
      emit(std::move(e));
    }
    Ev e;
    e.type = "call_answered";
    e.tick = t;
    e.call = w.call;
    e.queue = w.queue;
    e.agent = a.name;
    emit(std::move(e));
    a.call_ticks.insert(t);
    long dur = rng_.chance(0.15) ? rng_.range(kTicks, 4 * kTicks) : secs(20, 240) + rng_.range(0, 7);
    const long end = t + dur;
    // "No more calls after this one": PAUSE in the same second as the CONNECT (or later in the
    // call, from the plans); the pause counts from the call's end.
    if (rng_.chance(0.07)) {
      state_event(a, t, "paused", {}, std::string("after-call"));
      a.paused_all = true;
      const long until = end + secs(10, 60);
      auto it = std::lower_bound(a.plan.begin() + static_cast<long>(a.next), a.plan.end(), until,
                                 [](const Act& x, long v) { return x.tick < v; });
      a.plan.insert(it, Act{until, ActKind::unpause, {}, ""});
    }
    if (end > D_) {
      a.busy_until = D_ + 1;  // still talking when the day's input ends
      return;
    }
    a.call_ticks.insert(end);
    a.busy_until = end + kTicks;
    Ev c;
    c.type = "call_ended";
    c.tick = end;
    c.call = w.call;
    c.agent = a.name;
    if (dur >= 30 * kTicks && rng_.chance(0.3)) c.hold = rng_.range(3, dur / kTicks / 2);
    std::vector<std::string> visited = w.visited;
    const std::string next = other_queue(visited);
    if (!next.empty() && end + 20 * kTicks < D_ && rng_.chance(0.08)) {
      Ev x;
      x.type = "call_transferred";
      x.tick = end - 1;
      x.call = w.call;
      x.agent = a.name;
      x.to_queue = next;
      emit(std::move(x));
      c.by = "agent";
      Waiting nw;
      nw.call = w.call;
      nw.queue = next;
      nw.enq = end + kTicks;
      nw.visited = visited;
      nw.visited.push_back(next);
      pending_.push_back(nw);
    } else if (rng_.chance(0.5)) {
      c.by = rng_.chance(0.5) ? "caller" : "agent";
    }
    emit(std::move(c));
  }

  void enqueue(Waiting w, bool second_leg) {
    Ev e;
    e.type = "call_enqueued";
    e.tick = w.enq;
    e.call = w.call;
    e.queue = w.queue;
    emit(std::move(e));
    plan_visit(w, second_leg);
    waiting_.push_back(std::move(w));
  }

  void outcome(const Waiting& w, long t, const std::string& type, const std::string& reason = {}) {
    Ev e;
    e.type = type;
    e.tick = t;
    e.call = w.call;
    e.queue = w.queue;
    e.exit_reason = reason;
    emit(std::move(e));
  }

  void step(long t) {
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->enq == t) {
        enqueue(*it, true);
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& a : sims_) run_plan(a, t);
    while (next_arrival_ < arrivals_.size() && arrivals_[next_arrival_] == t) {
      ++next_arrival_;
      Waiting w;
      w.call = fmt::format("{}.{}", day_.base + t / kTicks, ++call_no_);
      w.queue = pick_queue();
      w.enq = t;
      w.visited = {w.queue};
      enqueue(std::move(w), false);
    }
    for (std::size_t i = 0; i < waiting_.size();) {
      Waiting& w = waiting_[i];
      bool done = false;
      if (t >= w.at) {
        switch (w.plan) {
          case Plan::abandon: outcome(w, t, "call_abandoned"); done = true; break;
          case Plan::timeout: outcome(w, t, "call_exited", "timeout"); done = true; break;
          case Plan::empty: outcome(w, t, "call_exited", "empty"); done = true; break;
          case Plan::key: outcome(w, t, "call_exited", "key"); done = true; break;
          case Plan::transfer: {
            const std::string next = other_queue(w.visited);
            Ev x;
            x.type = "call_transferred";
            x.tick = t;
            x.call = w.call;
            x.queue = w.queue;
            x.to_queue = next;
            emit(std::move(x));
            Waiting nw;
            nw.call = w.call;
            nw.queue = next;
            nw.enq = t + kTicks;
            nw.visited = w.visited;
            nw.visited.push_back(next);
            pending_.push_back(nw);
            done = true;
            break;
          }
          case Plan::answer: {
            std::vector<AgentSim*> c;
            for (auto& a : sims_)
              if (eligible(a, w.queue, t)) c.push_back(&a);
            if (!c.empty()) {
              answer(w, *c[static_cast<std::size_t>(rng_.range(0, static_cast<long>(c.size()) - 1))], t);
              done = true;
            } else if (t >= w.give_up) {
              outcome(w, t, "call_abandoned");
              done = true;
            }
            break;
          }
        }
      }
      if (done) waiting_.erase(waiting_.begin() + static_cast<long>(i));
      else ++i;
    }
  }

  Rng rng_;
  GenOptions opt_;
  Day day_;
  long D_ = 0;
  int seq_ = 0;
  int call_no_ = 0;
  std::vector<AgentSim> sims_;
  std::vector<long> arrivals_;
  std::size_t next_arrival_ = 0;
  std::vector<Waiting> waiting_, pending_;
};

// ---- noise ------------------------------------------------------------------------------------

enum class MsgKind { clean, duplicate, repeat, malformed };

struct Msg {
  std::string text;
  MsgKind kind = MsgKind::clean;
  double key = 0;           // delivery order (ticks)
  long tick = -1;           // event time (valid messages)
  std::string reject;       // expected reject reason (malformed)
  std::string note;         // what the noise did (for messages in failure output)
};

struct Noisy {
  std::vector<Msg> msgs;  // delivery order
  long duplicates = 0, repeats = 0, malformed = 0;
  std::map<std::string, long> rejected_by;
  long forced_answer_first = 0, forced_end_first = 0, forced_boundary = 0;
};

struct NoiseOptions {
  bool enabled = true;
  double duplicate_rate = 0.04;
  double repeat_rate = 0.05;
  double malformed_rate = 0.02;
};

inline void sort_by_key(std::vector<Msg>& v) {
  std::stable_sort(v.begin(), v.end(), [](const Msg& a, const Msg& b) { return a.key < b.key; });
}

// Largest lateness of an accepted message behind the newest one delivered before it (ticks).
// Exact duplicates after their first copy and malformed lines are not events.
inline long max_lateness(const std::vector<Msg>& v) {
  long newest = -1, worst = 0;
  std::set<std::string> seen;
  for (const auto& m : v) {
    if (m.kind == MsgKind::malformed) continue;
    if (!seen.insert(m.text).second) continue;
    if (newest >= 0) worst = std::max(worst, newest - m.tick);
    newest = std::max(newest, m.tick);
  }
  return worst;
}

inline Noisy add_noise(const Day& d, std::uint64_t seed, const NoiseOptions& o) {
  Noisy n;
  Rng rng(seed ^ 0xA5A5A5A5ull);
  const auto& ev = d.events;
  std::vector<Msg> m(ev.size());
  for (std::size_t i = 0; i < ev.size(); ++i) {
    m[i].text = to_json(d.base, ev[i], o.enabled && rng.chance(0.1));
    m[i].tick = ev[i].tick;
    m[i].key = static_cast<double>(ev[i].tick) + static_cast<double>(i) * 1e-7;
  }
  if (!o.enabled) {
    n.msgs = std::move(m);
    return n;
  }
  // Jitter inside the bound: up to 2 s late. Then forced swaps of pairs less than 4 s apart:
  // an answer before its enqueue, a call_ended before its answer, and an event just before an
  // interval boundary delivered after one just after it. Every message is then at most
  // 2 + 4 s late; the reshuffle of check (b) adds 3 s more: 9 s < L = 10 s.
  for (auto& x : m) x.key += static_cast<double>(rng.range(0, 2 * kTicks)) + rng.unit() * 0.5;
  std::set<std::size_t> used;
  std::map<std::pair<std::string, std::string>, std::size_t> enq_at;
  std::map<std::string, std::size_t> answer_at;
  auto force_after = [&](std::size_t earlier, std::size_t later) {
    m[earlier].key = std::max(m[earlier].key, m[later].key + 0.01);
    used.insert(earlier);
    used.insert(later);
  };
  for (std::size_t i = 0; i < ev.size(); ++i) {
    const Ev& e = ev[i];
    if (e.type == "call_enqueued") enq_at[{e.call, e.queue}] = i;
    if (e.type == "call_answered") {
      answer_at[e.call] = i;
      auto it = enq_at.find({e.call, e.queue});
      if (it != enq_at.end() && e.tick - ev[it->second].tick <= 4 * kTicks && !used.count(i) &&
          !used.count(it->second) && rng.chance(0.8)) {
        force_after(it->second, i);
        m[i].note = "answer delivered before its enqueue";
        ++n.forced_answer_first;
      }
    }
    if (e.type == "call_ended") {
      auto it = answer_at.find(e.call);
      if (it != answer_at.end() && e.tick - ev[it->second].tick <= 4 * kTicks && !used.count(i) &&
          !used.count(it->second) && rng.chance(0.8)) {
        force_after(it->second, i);
        m[i].note = "call_ended delivered before its answer";
        ++n.forced_end_first;
      }
    }
  }
  for (long b = (d.base / kInterval + 1) * kInterval; b < d.ts(d.end_tick); b += kInterval) {
    const long bt = (b - d.base) * kTicks;
    std::optional<std::size_t> x, y;
    for (std::size_t i = 0; i < ev.size(); ++i) {
      if (used.count(i)) continue;
      if (ev[i].tick >= bt - 2 * kTicks && ev[i].tick < bt) x = i;  // the last one before
      if (!y && ev[i].tick >= bt && ev[i].tick <= bt + 2 * kTicks) y = i;
    }
    if (x && y) {
      force_after(*x, *y);
      m[*x].note = "delivered after an event of the next interval";
      ++n.forced_boundary;
    }
  }
  // Exact duplicates: right behind the original, or minutes later.
  std::vector<Msg> extra;
  for (const auto& x : m) {
    if (!rng.chance(o.duplicate_rate)) continue;
    Msg dup = x;
    dup.kind = MsgKind::duplicate;
    if (rng.chance(0.5)) {
      dup.key = x.key + 0.001;
      dup.note = "exact duplicate, at once";
    } else {
      dup.key = x.key + static_cast<double>(rng.range(60 * kTicks, 600 * kTicks));
      dup.note = "exact duplicate, minutes later";
    }
    extra.push_back(std::move(dup));
    ++n.duplicates;
  }
  // Repeats with a new timestamp, minutes later (still inside the input's time span): a second
  // outcome, enqueue, ring-no-answer or completion of a finished visit or call.
  std::map<std::pair<std::string, std::string>, long> visit_end;  // outcome tick per visit
  std::map<std::string, long> call_last;                           // last tick of a call
  std::map<std::pair<std::string, std::string>, std::string> visit_how;  // the outcome's type
  for (const auto& e : ev) {
    if (e.type == "call_answered" || e.type == "call_abandoned" || e.type == "call_exited" ||
        (e.type == "call_transferred" && !e.queue.empty())) {
      visit_end[{e.call, e.queue}] = e.tick;
      visit_how[{e.call, e.queue}] = e.type;
    }
    if (!e.call.empty()) call_last[e.call] = std::max(call_last[e.call], e.tick);
  }
  for (std::size_t i = 0; i < ev.size(); ++i) {
    const Ev& e = ev[i];
    const bool outcome = e.type == "call_answered" || e.type == "call_abandoned" || e.type == "call_exited";
    const bool other = e.type == "call_enqueued" || e.type == "agent_ring_noanswer" || e.type == "call_ended";
    if (!(outcome || other) || !rng.chance(o.repeat_rate)) continue;
    // A caller sent out of a queue by timeout, empty queue, key or transfer may enter it again
    // (a dialplan loop): a later entry there is a new visit (METRICS.md), not a repeat.
    if (e.type == "call_enqueued") {
      const auto how = visit_how.find({e.call, e.queue});
      if (how != visit_how.end() && (how->second == "call_exited" || how->second == "call_transferred")) continue;
    }
    long after = e.tick;
    if (e.type == "call_ended") after = call_last[e.call];
    else if (auto it = visit_end.find({e.call, e.queue}); it != visit_end.end()) after = std::max(after, it->second);
    else continue;  // visit never finished: a repeat would be a real event
    const long t = after + rng.range(60 * kTicks, 400 * kTicks);
    if (t > d.end_tick) continue;
    Msg r;
    r.kind = MsgKind::repeat;
    r.text = to_json(d.base, e, false, t);
    r.tick = t;
    r.key = static_cast<double>(t) + static_cast<double>(rng.range(0, 2 * kTicks));
    r.note = fmt::format("repeat of a finished {} {:.0f} s later", e.type, static_cast<double>(t - e.tick) / kTicks);
    extra.push_back(std::move(r));
    ++n.repeats;
  }
  // Malformed lines at random places.
  const long nbad = std::max<long>(5, std::lround(static_cast<double>(ev.size()) * o.malformed_rate));
  for (long k = 0; k < nbad; ++k) {
    const std::size_t i = static_cast<std::size_t>(rng.range(0, static_cast<long>(ev.size()) - 1));
    const Ev& e = ev[i];
    const std::string ts = ts_text(d.base, e.tick);
    Msg b;
    b.kind = MsgKind::malformed;
    b.key = m[i].key + 0.0005;
    switch (k % 6) {
      case 0: {  // truncated, cut on a character boundary (a cut inside a CJK name is not UTF-8)
        const std::string& full = m[i].text;
        std::size_t cut = static_cast<std::size_t>(rng.range(2, static_cast<long>(full.size()) - 2));
        while (cut > 1 && (static_cast<unsigned char>(full[cut]) & 0xC0) == 0x80) --cut;
        b.text = full.substr(0, cut);
        b.reject = "not_json";
        break;
      }
      case 1:
        b.text = fmt::format(R"({{"type":"call_enqueued","ts":{},"call":"bad.{}"}})", ts, k);
        b.reject = "missing_field";
        break;
      case 2:
        b.text = fmt::format(R"({{"type":"call_abandoned","ts":"{}","call":"bad.{}","queue":"sales"}})", ts, k);
        b.reject = "wrong_type";
        break;
      case 3:
        b.text = fmt::format(R"({{"type":"agent_state","ts":{},"agent":"ana","state":"paused","queues":"sales","n":{}}})", ts, k);
        b.reject = "wrong_type";
        break;
      case 4:
        b.text = fmt::format(R"({{"type":"call_teleported","ts":{},"call":"bad.{}"}})", ts, k);
        b.reject = "unknown_type";
        break;
      default:
        b.text = fmt::format(R"(["call_enqueued",{},{}])", ts, k);
        b.reject = "not_object";
        break;
    }
    b.note = "malformed (" + b.reject + ")";
    ++n.rejected_by[b.reject];
    ++n.malformed;
    extra.push_back(std::move(b));
  }
  for (auto& x : extra) m.push_back(std::move(x));
  sort_by_key(m);
  n.msgs = std::move(m);
  return n;
}

// The same messages shuffled again inside the bound (check (b)): each up to 3 s later.
inline std::vector<Msg> reshuffle(const std::vector<Msg>& in, std::uint64_t seed) {
  Rng rng(seed ^ 0x5EED5EEDull);
  std::vector<Msg> v = in;
  for (auto& x : v) x.key += static_cast<double>(rng.range(0, 3 * kTicks)) + rng.unit() * 0.5;
  sort_by_key(v);
  return v;
}

// ---- the model (METRICS.md) -------------------------------------------------------------------

struct QueueFig {
  long offered = 0, answered = 0, abandoned = 0, short_abandoned = 0, timed_out = 0, exited_empty = 0,
       exited_key = 0, answered_within_sl = 0, abandoned_within_sl = 0, ring_noanswer = 0, handled = 0,
       calls_waiting = 0;
  long wait_sum = 0, handle_sum = 0;  // ticks
  std::optional<long> max_wait;       // ticks
  std::map<std::string, long> agents;  // members by state
};

struct AgentFig {
  long answered = 0, ring_noanswer = 0, handled = 0;
  long talk = 0, hold = 0, paused = 0;  // ticks
  std::string state = "logged_out";
};

struct Model {
  std::map<std::string, QueueFig> queues;
  std::map<std::string, AgentFig> agents;
  std::map<std::pair<std::string, long>, std::pair<long, long>> intervals;  // (queue, start) -> offered, answered
  long events = 0, rejected = 0;
  std::map<std::string, long> rejected_by;
};

inline std::optional<double> ratio(double num, double den) {
  if (den == 0) return std::nullopt;
  return num / den;
}

// The four service-level formulas of METRICS.md.
inline std::optional<double> sl(const QueueFig& q, const std::string& formula) {
  const double at = static_cast<double>(q.answered_within_sl);
  if (formula == "answered") return ratio(at, static_cast<double>(q.answered));
  if (formula == "offered") return ratio(at, static_cast<double>(q.offered - q.short_abandoned));
  if (formula == "abandons_positive")
    return ratio(at + static_cast<double>(q.abandoned_within_sl - q.short_abandoned),
                 static_cast<double>(q.offered - q.short_abandoned));
  return ratio(at, static_cast<double>(q.offered - q.abandoned));  // abandons_ignored
}
inline std::optional<double> asa(const QueueFig& q) {
  return ratio(static_cast<double>(q.wait_sum) / kTicks, static_cast<double>(q.answered));
}
inline std::optional<double> aht(const QueueFig& q) {
  return ratio(static_cast<double>(q.handle_sum) / kTicks, static_cast<double>(q.handled));
}
inline std::optional<double> max_wait(const QueueFig& q) {
  if (!q.max_wait) return std::nullopt;
  return static_cast<double>(*q.max_wait) / kTicks;
}
inline std::optional<double> agent_aht(const AgentFig& a) {
  return ratio(static_cast<double>(a.talk + a.hold) / kTicks, static_cast<double>(a.handled));
}

inline const std::vector<std::string>& sl_formulas() {
  static const std::vector<std::string> f = {"answered", "offered", "abandons_positive", "abandons_ignored"};
  return f;
}

// Computes every figure from the clean stream in time order. Rules (METRICS.md):
// - a visit (call, queue) ends with one outcome; wait = outcome time - entry time; counted in
//   the interval of its outcome; offered = the five outcomes (transferred_out is not one);
// - A_T: answered with wait <= T; Ab_T: abandoned with wait <= T; short: abandoned, wait < S;
// - max wait over the five outcomes; AHT = (talk + hold) / completed calls, in the queue of the
//   leg answered (no wrap-up: the feed states none and wrap_up_after_call is off);
// - a ring-no-answer with ring 0 ms is not a ring_noanswer;
// - paused: logged in, paused in all queues or in one at least, and not on a call (a pause
//   during a call counts from its end); a new reason does not restart the span, an unpause with
//   no pause adds nothing, joining a queue paused starts it and leaving the queue ends it; a pause
//   open at the end counts up to the input's last timestamp.
inline Model model_of(const Day& d, const Noisy& n) {
  Model m;
  struct Visit {
    long enq = 0;
    bool done = false;
  };
  struct Leg {
    std::string queue, agent;
    long answer = 0;
  };
  // Paused per queue: a pause (or unpause) without queues applies to every queue of the agent
  // (event.hpp: "empty = every queue of the agent"), so PAUSEALL is a pause in each of them and
  // the span ends once the agent is unpaused in every queue it was paused in.
  struct A {
    bool logged_in = false, on_call = false;
    std::set<std::string> members, paused_in;
    long cursor = 0;
    bool paused() const { return logged_in && !on_call && !paused_in.empty(); }
  };
  std::map<std::pair<std::string, std::string>, Visit> visits;
  std::map<std::string, Leg> legs;
  std::map<std::string, A> ag;
  auto accrue = [&](const std::string& name, long t) {
    A& a = ag[name];
    if (a.paused()) m.agents[name].paused += t - a.cursor;
    a.cursor = t;
  };
  for (const auto& q : d.queues) m.queues[q.name];
  for (const auto& e : d.events) {
    const long t = e.tick;
    if (!e.queue.empty()) m.queues[e.queue];
    if (!e.to_queue.empty()) m.queues[e.to_queue];
    if (!e.agent.empty()) m.agents[e.agent];
    for (const auto& q : e.queues) m.queues[q];
    if (e.type == "call_enqueued") {
      visits[{e.call, e.queue}] = Visit{t, false};
    } else if (e.type == "call_answered" || e.type == "call_abandoned" || e.type == "call_exited") {
      Visit& v = visits.at({e.call, e.queue});
      v.done = true;
      const long wait = t - v.enq;
      const QueueDef& qd = d.queue(e.queue);
      QueueFig& q = m.queues[e.queue];
      const long start = static_cast<long>(std::floor(d.ts(t) / kInterval)) * kInterval;
      auto& iv = m.intervals[{e.queue, start}];
      ++q.offered;
      ++iv.first;
      q.max_wait = std::max(q.max_wait.value_or(0), wait);
      if (e.type == "call_answered") {
        ++q.answered;
        ++iv.second;
        q.wait_sum += wait;
        if (wait <= qd.T * kTicks) ++q.answered_within_sl;
        accrue(e.agent, t);
        A& a = ag[e.agent];
        a.on_call = true;
        a.logged_in = true;
        a.members.insert(e.queue);
        ++m.agents[e.agent].answered;
        legs[e.call] = Leg{e.queue, e.agent, t};
      } else if (e.type == "call_abandoned") {
        ++q.abandoned;
        if (wait <= qd.T * kTicks) ++q.abandoned_within_sl;
        if (wait < qd.S * kTicks) ++q.short_abandoned;
      } else if (e.exit_reason == "timeout") {
        ++q.timed_out;
      } else if (e.exit_reason == "empty") {
        ++q.exited_empty;
      } else {
        ++q.exited_key;
      }
    } else if (e.type == "call_transferred") {
      if (!e.queue.empty()) visits.at({e.call, e.queue}).done = true;  // transferred_out: not offered
    } else if (e.type == "call_ended") {
      const Leg leg = legs.at(e.call);
      legs.erase(e.call);
      const long dur = t - leg.answer;
      const long hold = std::max(0L, e.hold) * kTicks;
      QueueFig& q = m.queues[leg.queue];
      ++q.handled;
      q.handle_sum += dur;
      AgentFig& af = m.agents[e.agent];
      ++af.handled;
      af.talk += dur - hold;
      af.hold += hold;
      accrue(e.agent, t);
      ag[e.agent].on_call = false;
    } else if (e.type == "agent_ring_noanswer") {
      if (e.ring_ms > 0) {
        ++m.agents[e.agent].ring_noanswer;
        ++m.queues[e.queue].ring_noanswer;
      }
    } else if (e.type == "agent_state") {
      accrue(e.agent, t);
      A& a = ag[e.agent];
      if (e.state == "paused") {
        a.logged_in = true;
        if (e.queues.empty()) a.paused_in = a.members;
        for (const auto& q : e.queues) {
          a.members.insert(q);
          a.paused_in.insert(q);
        }
      } else if (e.state == "available") {
        a.logged_in = true;
        if (e.queues.empty()) a.paused_in.clear();
        for (const auto& q : e.queues) {
          a.members.insert(q);
          a.paused_in.erase(q);
        }
      } else if (e.state == "logged_out") {
        if (e.queues.empty()) a.members.clear();
        for (const auto& q : e.queues) {
          a.members.erase(q);
          a.paused_in.erase(q);
        }
        if (a.members.empty()) {
          a.logged_in = false;
          a.paused_in.clear();
        }
      }
    }
  }
  for (auto& [name, a] : ag) {
    accrue(name, d.end_tick);
    AgentFig& f = m.agents[name];
    f.state = !a.logged_in ? "logged_out" : a.on_call ? "on_call" : a.paused() ? "paused" : "available";
    if (!a.logged_in) continue;
    for (const auto& q : a.members) {
      const std::string st = a.on_call ? "on_call" : a.paused_in.count(q) ? "paused" : "available";
      ++m.queues[q].agents[st];
    }
  }
  for (const auto& [key, v] : visits)
    if (!v.done) ++m.queues[key.second].calls_waiting;
  // Data quality: every message that is not malformed and not an exact copy of an earlier one is
  // an event (repeats with a new timestamp are events: they are ignored as figures, not as lines).
  m.events = static_cast<long>(n.msgs.size()) - n.malformed - n.duplicates;
  m.rejected = n.malformed;
  m.rejected_by = n.rejected_by;
  return m;
}

// ---- flat figures: "queue[sales].offered" -> value (nullopt: no data) --------------------------

using Flat = std::map<std::string, std::optional<double>>;

inline std::string qk(const std::string& q, const std::string& f) { return "queue[" + q + "]." + f; }
inline std::string ak(const std::string& a, const std::string& f) { return "agent[" + a + "]." + f; }

inline std::string utc_text(long epoch) {
  std::time_t t = epoch;
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

inline const std::vector<std::string>& agent_states() {
  static const std::vector<std::string> s = {"logged_out", "available", "ringing", "on_call", "wrap_up", "paused"};
  return s;
}
inline double state_index(const std::string& s) {
  const auto& v = agent_states();
  return static_cast<double>(std::find(v.begin(), v.end(), s) - v.begin());
}

inline Flat flatten(const Model& m) {
  Flat f;
  auto c = [](long v) { return std::optional<double>(static_cast<double>(v)); };
  auto secs = [](long ticks) { return std::optional<double>(static_cast<double>(ticks) / kTicks); };
  for (const auto& [n, q] : m.queues) {
    f[qk(n, "offered")] = c(q.offered);
    f[qk(n, "answered")] = c(q.answered);
    f[qk(n, "abandoned")] = c(q.abandoned);
    f[qk(n, "short_abandoned")] = c(q.short_abandoned);
    f[qk(n, "timed_out")] = c(q.timed_out);
    f[qk(n, "exited_empty")] = c(q.exited_empty);
    f[qk(n, "exited_key")] = c(q.exited_key);
    f[qk(n, "answered_within_sl")] = c(q.answered_within_sl);
    f[qk(n, "abandoned_within_sl")] = c(q.abandoned_within_sl);
    f[qk(n, "ring_noanswer")] = c(q.ring_noanswer);
    f[qk(n, "handled")] = c(q.handled);
    f[qk(n, "calls_waiting")] = c(q.calls_waiting);
    f[qk(n, "answer_wait_count")] = c(q.answered);
    f[qk(n, "answer_wait_sum_seconds")] = secs(q.wait_sum);
    for (const auto& fm : sl_formulas()) f[qk(n, "sl." + fm)] = sl(q, fm);
    f[qk(n, "asa_seconds")] = asa(q);
    f[qk(n, "aht_seconds")] = aht(q);
    f[qk(n, "max_wait_seconds")] = max_wait(q);
    for (const auto& st : {"available", "ringing", "on_call", "wrap_up", "paused"}) {
      auto it = q.agents.find(st);
      f[qk(n, std::string("agents.") + st)] = c(it == q.agents.end() ? 0 : it->second);
    }
  }
  for (const auto& [n, a] : m.agents) {
    f[ak(n, "answered")] = c(a.answered);
    f[ak(n, "ring_noanswer")] = c(a.ring_noanswer);
    f[ak(n, "handled")] = c(a.handled);
    f[ak(n, "talk_seconds")] = secs(a.talk);
    f[ak(n, "paused_seconds")] = secs(a.paused);
    f[ak(n, "aht_seconds")] = agent_aht(a);
    f[ak(n, "state")] = state_index(a.state);
  }
  for (const auto& [k, v] : m.intervals) {
    const std::string id = "interval[" + k.first + "@" + utc_text(k.second) + "].";
    f[id + "offered"] = c(v.first);
    f[id + "answered"] = c(v.second);
  }
  f["dq.events"] = c(m.events);
  f["dq.rejected"] = c(m.rejected);
  for (const auto& r : {"not_json", "not_object", "unknown_type", "missing_field", "wrong_type", "bad_value",
                        "too_large", "name_too_long", "invalid_utf8"}) {
    auto it = m.rejected_by.find(r);
    f[std::string("dq.rejected.") + r] = c(it == m.rejected_by.end() ? 0 : it->second);
  }
  return f;
}

}  // namespace prop
