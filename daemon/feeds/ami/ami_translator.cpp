#include "feeds/ami/ami_translator.hpp"
#include "feeds/message_gate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <set>

namespace callwatch::daemon {

namespace m = callwatch::metrics;

namespace {

constexpr char kSep = '\x1f';  // joins (call, queue) and (queue, interface) keys

std::string key2(std::string_view a, std::string_view b) {
  std::string k;
  k.reserve(a.size() + b.size() + 1);
  k.append(a).push_back(kSep);
  k.append(b);
  return k;
}
std::string_view key_second(std::string_view k) {
  const auto p = k.find(kSep);
  return p == std::string_view::npos ? std::string_view() : k.substr(p + 1);
}
std::string_view key_first(std::string_view k) { return k.substr(0, k.find(kSep)); }

bool is(std::string_view a, std::string_view b) { return iequals(a, b); }

// "unknown" and "<unknown>" are how Asterisk spells a missing caller id.
std::string_view caller_id(std::string_view v) {
  if (is(v, "unknown") || is(v, "<unknown>")) return {};
  return v;
}
// The number, else the name (a caller with a withheld number may still have a name).
std::string_view caller_of(const AmiMessage& msg) {
  const std::string_view num = caller_id(msg.get("CallerIDNum"));
  return num.empty() ? caller_id(msg.get("CallerIDName")) : num;
}

enum class Act : std::uint8_t { none, ringing, on_call };

constexpr std::size_t kMaxPending = 4096;  // outcomes held back at once

}  // namespace

struct AmiTranslator::Impl {
  AmiTranslatorOptions opts;
  FeedSink sink;
  AmiTranslatorStats stats;
  MessageGate gate;  // counting and the feeds' one duplicate rule (feeds/message_gate.hpp)
  TimeBounds times;  // the window of times a message may state (around receipt_clock live)
  std::string version;
  std::uint64_t conn = 0;
  double clock = m::kNoValue;      // feed time of the message being handled
  double last_ts = m::kNoValue;    // newest Timestamp header / receipt time
  double uid_clock = m::kNoValue;  // newest Uniqueid epoch (replay fallback only)
  // Live: the local receipt time. Hold-back deadlines run on it, so a PBX clock that differs
  // from ours (Timestamp headers) cannot release an outcome before its deciding event.
  double receipt_clock = m::kNoValue;
  double deadline_clock() const { return std::isfinite(receipt_clock) ? receipt_clock : clock; }
  // Restarts (FEED-SPEC P12/P18, METRICS.md "Counting rules"): a feed_restart at the first sign
  // of one (the connection dropped, a new banner in a capture, Event: Shutdown).
  std::uint64_t restarts = 0;           // feed_restarts emitted
  double restart_ts = m::kNoValue;      // time of the last one: later agent states are not earlier
  bool state_since_restart = false;     // something reached the engine since the last restart
  // Live with Timestamp headers: PBX clock - local clock at the last stamped event, so a drop
  // noticed at local time t is placed at t + offset on the feed's own clock.
  double pbx_offset = 0;
  // The current message's time is a guess (replay, no Timestamp header): the newest Uniqueid
  // epoch lags the real time by as much as a channel's age, so hold-back deadlines do not run
  // on it (the deciding event, the caller's Hangup, a new connection or the end decide).
  bool guessed = false;
  bool dialplan_seen = false;      // a VarSet arrived on this connection
  bool agent_events_seen = false;  // AgentCalled/Connect/Complete seen (eventwhencalled=yes)
  bool warned_no_agent_events = false;
  std::string expected_qs;

  struct Visit {
    double joined = m::kNoValue;
    std::uint64_t conn = 0;
    std::string caller;
    // feed_restarts emitted before the engine last saw this visit entered: below `restarts`,
    // the engine closed it at a restart and it is entered again (first entry time) when it
    // shows up waiting or with its outcome on a later connection.
    std::uint64_t epoch = 0;
  };
  std::map<std::string, Visit, std::less<>> open;       // key (call, queue)
  std::set<std::string, std::less<>> closed_this_conn;  // outcomes seen since the banner

  enum class PendingKind : std::uint8_t { abandon, leave };
  struct Pending {
    PendingKind kind = PendingKind::abandon;
    std::string call, queue;
    double ts = 0;              // the AMI event's time
    double hold = m::kNoValue;  // HoldTime stated by QueueCallerAbandon
    double joined = m::kNoValue;
    double deadline = 0;
  };
  std::vector<Pending> pending;
  std::map<std::string, std::string, std::less<>> queuestatus;  // uniqueid -> QUEUESTATUS

  struct Member {
    std::string name;
    int status = -1, paused = -1, incall = -1;
    std::string reason;
    bool present = false;  // logged in to the queue as far as the engine was told
    bool seen = false;     // a status was recorded (dedupe baseline)
  };
  std::map<std::string, Member, std::less<>> members;     // key (queue, interface)
  std::map<std::string, std::string, std::less<>> alias;  // interface -> member name
  struct AgentAct {
    int calls = 0;        // answered and not completed, by call events
    Act qms = Act::none;  // activity this translator set from device state
  };
  std::map<std::string, AgentAct, std::less<>> acts;
  // Members rung for a caller (AgentCalled), until the ring ends. Asterisk says when a ring
  // ends with no answer (AgentRingNoAnswer) but not when another member answered the call or
  // the caller left: then only DialEnd/Hangup tell, so the answer and the caller's leaving end
  // the other rings here (seen on a real Asterisk: ring-all, "Answered elsewhere").
  struct Rung {
    std::string agent, queue, iface;
  };
  std::map<std::string, std::vector<Rung>, std::less<>> rung;  // caller uniqueid

  struct Answered {
    std::string queue, agent, transfer_to;
  };
  std::map<std::string, Answered, std::less<>> answered;  // caller uniqueid

  struct EntryRow {
    std::string call, queue, caller;
    double wait = m::kNoValue;
  };
  struct MemberRow {
    std::string queue, iface, name, reason;
    int status = -1, paused = -1, incall = -1;
  };
  struct List {
    std::set<std::string, std::less<>> queues;
    std::vector<EntryRow> entries;
    std::vector<MemberRow> members;
  };
  std::map<std::string, List, std::less<>> lists;  // by ActionID
  std::optional<List> deferred;                    // complete, but no time known yet (replay)

  Impl(AmiTranslatorOptions o, FeedSink s)
      : opts(std::move(o)), sink(std::move(s)), gate(opts.duplicates), times(opts.times) {}

  // ---- output ------------------------------------------------------------------------------
  void emit(OwnedEvent& oe) {
    if (oe.event.type != m::EventType::feed_restart) state_since_restart = true;
    // A state after a restart is never placed before it (the engine would end it there): the
    // PBX clock of Timestamp headers may lag the local clock the drop was timed with.
    if (oe.event.type == m::EventType::agent_state && std::isfinite(restart_ts) &&
        oe.event.ts < restart_ts) {
      oe.event.ts = restart_ts;
    }
    if (!std::isfinite(clock)) {
      // A replay before any time is known (a capture opening with its QueueStatus answer): the
      // event waits for the capture's first time instead of being stamped 1970.
      if (timeless.size() < opts.max_tracked) timeless.push_back(oe);
      return;
    }
    ++stats.emitted;
    if (sink.event) sink.event(oe.view());
  }
  std::vector<OwnedEvent> timeless;
  void flush_timeless() {
    auto waiting = std::move(timeless);
    timeless.clear();
    for (auto& oe : waiting) {
      oe.event.ts = clock;
      emit(oe);
    }
    if (deferred) {
      auto l = std::move(*deferred);
      deferred.reset();
      reconcile(l);
    }
  }
  void warn(std::string_view kind, const std::string& msg) {
    if (sink.warning) sink.warning(kind, msg);
  }
  // A message is rejected once, with its first reason, however many of its parts are refused.
  void reject(std::string_view reason, const std::string& detail) {
    if (!gate.reject()) return;
    ++stats.rejected;
    if (sink.reject) sink.reject(reason, detail);
  }

  bool wanted(std::string_view queue) const {
    if (opts.queues.empty()) return true;
    return std::find(opts.queues.begin(), opts.queues.end(), queue) != opts.queues.end();
  }

  double now() const {
    if (std::isfinite(clock)) return clock;
    return 0;
  }

  // ---- time --------------------------------------------------------------------------------
  // Why the message's Timestamp is refused (feeds/time_bounds.hpp), "" when it is fine or absent;
  // a refused time moves no clock.
  std::string set_time(const AmiMessage& msg, double receipt) {
    double stamped = m::kNoValue;
    if (const auto t = msg.get("Timestamp"); !t.empty()) {
      double v = 0;
      if (parse_decimal(t, v) && v > 0) stamped = v;
    }
    if (std::isfinite(stamped)) {
      if (std::string why = times.check(stamped, receipt, "Timestamp"); !why.empty()) return why;
    }
    for (const auto& h : msg.headers) {
      const auto n = h.name;
      if (n.size() >= 8 && (iequals(n.substr(n.size() - 8), "uniqueid") ||
                            iequals(n.substr(n.size() - 8), "linkedid"))) {
        // A clock of last resort (replay without Timestamp): only an epoch inside the window.
        const double e = uniqueid_epoch(h.value);
        if (std::isfinite(e) && (!std::isfinite(uid_clock) || e > uid_clock) &&
            times.check(e, receipt, "Uniqueid").empty()) {
          uid_clock = e;
        }
      }
    }
    guessed = false;
    if (std::isfinite(stamped)) {
      clock = stamped;
      if (std::isfinite(receipt)) pbx_offset = stamped - receipt;
      if (!std::isfinite(last_ts) || stamped > last_ts) last_ts = stamped;
    } else if (std::isfinite(receipt)) {
      clock = receipt;
      if (!std::isfinite(last_ts) || receipt > last_ts) last_ts = receipt;
    } else {
      // Replay without a Timestamp on this message: the newest time known.
      guessed = true;
      double c = last_ts;
      if (std::isfinite(uid_clock) && (!std::isfinite(c) || uid_clock > c)) c = uid_clock;
      if (std::isfinite(c)) clock = c;
    }
    if (std::isfinite(clock) && (!timeless.empty() || deferred)) flush_timeless();
    return {};
  }

  // ---- names -------------------------------------------------------------------------------
  static std::string_view interface_of(const AmiMessage& msg) {
    for (const char* h : {"Interface", "Location", "Member", "AgentCalled"}) {
      const auto v = msg.get(h);
      if (!v.empty()) return v;
    }
    return {};
  }
  std::string agent_name(std::string_view name, std::string_view iface) {
    if (!name.empty() && !iface.empty() && name != iface) {
      alias[std::string(iface)] = std::string(name);
      return std::string(name);
    }
    if (!iface.empty()) {
      if (auto it = alias.find(iface); it != alias.end()) return it->second;
      return std::string(iface);
    }
    return std::string(name);
  }
  std::string agent_of(const AmiMessage& msg) {
    std::string_view name = msg.get("MemberName");
    if (name.empty()) name = msg.get("AgentName");
    return agent_name(name, interface_of(msg));
  }

  bool name_ok(std::string_view what, std::string_view v) {
    if (v.size() > opts.max_name_bytes) {
      reject("name_too_long",
             fmt::format("{} is {} bytes, the limit is {}", what, v.size(), opts.max_name_bytes));
      return false;
    }
    return true;
  }

  // A stated duration: absent -> NaN; present and not a number, or reaching back out of the
  // window of times -> the event is rejected. `per_second`: 1000 for milliseconds.
  bool number(const AmiMessage& msg, std::string_view header, double& out, double per_second = 1) {
    const auto v = msg.get(header);
    out = m::kNoValue;
    if (v.empty()) return true;
    double d = 0;
    if (!parse_decimal(v, d) || d < 0) {
      reject("bad_number", fmt::format("{} {} '{}' is not a number", msg.get("Event"), header, v));
      return false;
    }
    if (std::isfinite(clock)) {
      const double seconds = d / per_second;
      if (std::string why = times.check(clock - seconds, receipt_clock, header, seconds); !why.empty()) {
        reject("bad_number", fmt::format("{} {}", msg.get("Event"), why));
        return false;
      }
    }
    out = d;
    return true;
  }

  OwnedEvent make(m::EventType t, double ts) {
    OwnedEvent oe(t, ts);
    return oe;
  }
  static void set(std::string& dst, std::string_view v) { assign_utf8(dst, v); }

  // ---- agent states ------------------------------------------------------------------------
  void emit_state(const std::string& agent, m::AgentState st, std::string_view queue,
                  std::string_view reason = {}, std::string_view call = {}) {
    if (agent.empty()) return;
    if (!queue.empty() && !wanted(queue)) return;
    OwnedEvent oe = make(m::EventType::agent_state, now());
    set(oe.agent, agent);
    set(oe.call, call);  // a ring for a known caller (AgentCalled): boards show who is rung
    oe.event.state = st;
    set(oe.reason, reason);
    if (!queue.empty()) oe.queues.emplace_back(queue);
    emit(oe);
    AgentAct& a = acts[agent];
    if (st == m::AgentState::available || st == m::AgentState::logged_out)
      a.qms = Act::none;
    else if (st == m::AgentState::ringing)
      a.qms = Act::ringing;
    else if (st == m::AgentState::on_call)
      a.qms = Act::on_call;
  }

  enum class MemberSource : std::uint8_t { status, added, pause, snapshot };

  void member_update(std::string_view queue, std::string_view iface, std::string_view name,
                     int status, int paused, int incall, std::string_view reason,
                     MemberSource src) {
    if (queue.empty() || iface.empty()) return;
    if (!wanted(queue)) return;
    const std::string key = key2(queue, iface);
    if (members.size() >= opts.max_tracked && !members.count(key)) return;
    Member& mb = members[key];
    if (!name.empty() && name != iface) mb.name = std::string(name);
    const std::string agent = agent_name(mb.name, iface);
    if (src == MemberSource::status && mb.seen && mb.status == status && mb.paused == paused &&
        mb.incall == incall) {
      return;  // P11: the same device state again
    }
    const int prev_paused = mb.paused;
    if (src == MemberSource::added) mb.present = false;
    if (status >= 0) mb.status = status;
    if (paused >= 0) mb.paused = paused;
    if (incall >= 0) mb.incall = incall;
    if (src != MemberSource::pause) mb.seen = true;
    if (paused == 1) mb.reason = std::string(reason);
    AgentAct& act = acts[agent];
    const bool on_call = act.calls > 0;

    const bool unavailable = mb.status == 4 || mb.status == 5;
    if (unavailable && !on_call && src != MemberSource::pause) {
      if (mb.present) {
        mb.present = false;
        emit_state(agent, m::AgentState::logged_out, queue);
      }
      return;
    }
    auto membership = [&] {
      if (mb.paused == 1) {
        emit_state(agent, m::AgentState::paused, queue, mb.reason);
      } else {
        emit_state(agent, m::AgentState::available, queue);
        // `available` ends any activity in the engine: a call still up stays a call.
        if (on_call) emit_state(agent, m::AgentState::on_call, queue);
      }
    };
    if (!mb.present) {
      mb.present = true;
      membership();
    } else if (mb.paused >= 0 && mb.paused != prev_paused) {
      membership();
    }
    if (on_call || src == MemberSource::pause) return;
    const bool ringing = mb.status == 6 || mb.status == 7;
    const bool in_call = mb.incall == 1 && (mb.status == 2 || mb.status == 3 || mb.status == 8);
    if (ringing) {
      if (act.qms != Act::ringing) emit_state(agent, m::AgentState::ringing, queue);
    } else if (in_call) {
      if (act.qms != Act::on_call) emit_state(agent, m::AgentState::on_call, queue);
    } else if (mb.status == 1 && act.qms != Act::none) {
      // The ring or call this translator reported from device state is over.
      if (mb.paused == 1)
        act.qms = Act::none;
      else
        emit_state(agent, m::AgentState::available, queue);
    }
  }

  static int int_header(const AmiMessage& msg, std::string_view h) {
    long long v = -1;
    const auto s = msg.get(h);
    if (s.empty() || !parse_int(s, v) || v < 0 || v > 1000) return -1;
    return static_cast<int>(v);
  }
  static int incall_of(const AmiMessage& msg) {
    int v = int_header(msg, "InCall");
    if (v < 0) v = int_header(msg, "IsInCall");  // Asterisk 11 spelling
    return v;
  }
  static std::string_view pause_reason(const AmiMessage& msg) {
    auto r = msg.get("PausedReason");
    if (r.empty()) r = msg.get("Reason");
    return r;
  }

  // ---- held-back outcomes ------------------------------------------------------------------
  void release_due(double t) {
    if (pending.empty() || !std::isfinite(t)) return;
    std::vector<Pending> due;
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->deadline <= t) {
        due.push_back(std::move(*it));
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& p : due) resolve(p, {});
  }
  void release_all() {
    auto all = std::move(pending);
    pending.clear();
    for (auto& p : all) resolve(p, {});
  }
  void release_uniqueid(std::string_view uid, std::string_view qstatus) {
    std::vector<Pending> hit;
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->call == uid) {
        hit.push_back(std::move(*it));
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& p : hit) resolve(p, qstatus);
  }
  bool any_member_available(std::string_view queue) const {
    for (const auto& [k, mb] : members) {
      if (key_first(k) != queue) continue;
      if (mb.present && mb.paused != 1 && mb.status != 4 && mb.status != 5) return true;
    }
    return false;
  }

  void resolve(Pending& p, std::string_view qstatus) {
    OwnedEvent oe;
    oe.event.ts = p.ts;
    set(oe.call, p.call);
    set(oe.queue, p.queue);
    double wait = p.hold;
    // From the times of the events only when they are known: in a capture without Timestamp
    // headers the wait stays unstated (the report shows no number built on it).
    if (!std::isfinite(wait) && std::isfinite(p.joined) && stats.untimed_events == 0)
      wait = std::max(0.0, p.ts - p.joined);
    oe.event.wait = wait;
    auto exited = [&](m::ExitReason r) {
      oe.event.type = m::EventType::call_exited;
      oe.event.exit_reason = r;
    };
    const bool withdraw = is(qstatus, "WITHDRAW");
    if (is(qstatus, "TIMEOUT")) {
      exited(m::ExitReason::timeout);
    } else if (is(qstatus, "LEAVEEMPTY") || is(qstatus, "LEAVEUNAVAIL") || withdraw) {
      exited(m::ExitReason::empty);
    } else if (p.kind == PendingKind::leave) {
      exited(m::ExitReason::key);
      oe.event.inferred = true;
      // Said when a Leave is taken for a key exit, not at the first Leave (12+ sends the
      // Leave of an answered caller before its AgentConnect).
      if (!agent_events_seen && !warned_no_agent_events) {
        warned_no_agent_events = true;
        warn("no_agent_events",
             "no AgentConnect/AgentCalled events on this AMI feed (queues.conf "
             "eventwhencalled=no?): a caller leaving without abandon cannot be told answered; "
             "counted as exited_key, inferred");
      }
    } else if (!qstatus.empty() || dialplan_seen) {
      oe.event.type = m::EventType::call_abandoned;
    } else {
      // P4 steps 2-4: no QUEUESTATUS to read.
      oe.event.inferred = true;
      const auto to = opts.queue_timeout_seconds.find(p.queue);
      if (to != opts.queue_timeout_seconds.end() && std::isfinite(p.hold) &&
          p.hold >= to->second - 1) {
        exited(m::ExitReason::timeout);
      } else if (opts.leave_when_empty.count(p.queue) && !any_member_available(p.queue)) {
        exited(m::ExitReason::empty);
      } else {
        oe.event.type = m::EventType::call_abandoned;
      }
    }
    if (withdraw) {
      warn("withdraw", fmt::format("call {} withdrawn from {} by AMI: counted as exited_empty",
                                   p.call, p.queue));
    }
    emit(oe);
  }

  // ---- call events -------------------------------------------------------------------------
  bool call_and_queue(const AmiMessage& msg, std::string_view& call, std::string_view& queue) {
    call = msg.get("Uniqueid");
    queue = msg.get("Queue");
    if (call.empty() || queue.empty()) {
      reject("missing_field",
             fmt::format("{} without {}", msg.get("Event"), call.empty() ? "Uniqueid" : "Queue"));
      return false;
    }
    return name_ok("Uniqueid", call) && name_ok("Queue", queue);
  }

  void on_join(const AmiMessage& msg) {
    std::string_view call, queue;
    if (!call_and_queue(msg, call, queue) || !wanted(queue)) return;
    std::string key = key2(call, queue);
    if (open.count(key)) return;  // already known (QueueStatus listed it first)
    if (open.size() >= opts.max_tracked) {
      warn("tracking_limit", "too many open visits: oldest forgotten");
      open.erase(open.begin());
    }
    closed_this_conn.erase(key);
    const std::string_view caller = caller_of(msg);
    open[key] = Visit{now(), conn, std::string(caller), restarts};
    OwnedEvent oe = make(m::EventType::call_enqueued, now());
    set(oe.call, call);
    set(oe.queue, queue);
    set(oe.caller, caller);
    emit(oe);
  }

  // A visit entered before a restart, which the engine closed there, is entered again with its
  // first entry time: its outcome (or its waiting) comes after the restart.
  void reenter(std::string_view key, Visit& v) {
    if (v.epoch >= restarts) return;
    v.epoch = restarts;
    v.conn = conn;
    OwnedEvent oe = make(m::EventType::call_enqueued, v.joined);
    set(oe.call, key_first(key));
    set(oe.queue, key_second(key));
    set(oe.caller, v.caller);
    emit(oe);
  }

  void close_visit(std::string_view call, std::string_view queue, double* joined = nullptr) {
    const std::string key = key2(call, queue);
    if (auto it = open.find(key); it != open.end()) {
      reenter(key, it->second);
      if (joined) *joined = it->second.joined;
      open.erase(it);
    }
    if (closed_this_conn.size() < opts.max_tracked) closed_this_conn.insert(key);
  }

  void hold_back(PendingKind kind, std::string_view call, std::string_view queue, double hold) {
    Pending p;
    p.kind = kind;
    p.call = std::string(call);
    p.queue = std::string(queue);
    p.ts = now();
    p.hold = hold;
    close_visit(call, queue, &p.joined);
    p.deadline = deadline_clock() + opts.hold_seconds;
    if (auto it = queuestatus.find(call); it != queuestatus.end()) {
      const std::string qs = it->second;
      queuestatus.erase(it);
      resolve(p, qs);
      return;
    }
    if (pending.size() >= kMaxPending) {  // memory bound (a capture that never decides them)
      Pending oldest = std::move(pending.front());
      pending.erase(pending.begin());
      resolve(oldest, {});
    }
    pending.push_back(std::move(p));
  }

  void on_leave(const AmiMessage& msg) {
    std::string_view call, queue;
    if (!call_and_queue(msg, call, queue) || !wanted(queue)) return;
    rings_over(call);
    if (!open.count(key2(call, queue))) return;  // outcome already known (P2)
    hold_back(PendingKind::leave, call, queue, m::kNoValue);
  }

  void on_abandon(const AmiMessage& msg) {
    std::string_view call, queue;
    if (!call_and_queue(msg, call, queue) || !wanted(queue)) return;
    double hold = 0;
    if (!number(msg, "HoldTime", hold)) return;
    // A Leave held back for this visit (versions that send Leave first) yields to the abandon.
    pending.erase(std::remove_if(pending.begin(), pending.end(),
                                 [&](const Pending& p) {
                                   return p.kind == PendingKind::leave && p.call == call &&
                                          p.queue == queue;
                                 }),
                  pending.end());
    rings_over(call);
    hold_back(PendingKind::abandon, call, queue, hold);
  }

  void on_connect(const AmiMessage& msg) {
    agent_events_seen = true;
    std::string_view call, queue;
    if (!call_and_queue(msg, call, queue) || !wanted(queue)) return;
    double wait = 0;
    if (!number(msg, "HoldTime", wait)) return;
    const std::string agent = agent_of(msg);
    if (agent.empty()) {
      reject("missing_field", "AgentConnect without MemberName/Interface");
      return;
    }
    if (!name_ok("MemberName", agent)) return;
    // The answer decides a Leave held back for this visit (P2: Leave comes first).
    pending.erase(std::remove_if(pending.begin(), pending.end(),
                                 [&](const Pending& p) {
                                   return p.kind == PendingKind::leave && p.call == call &&
                                          p.queue == queue;
                                 }),
                  pending.end());
    double joined = m::kNoValue;
    close_visit(call, queue, &joined);
    OwnedEvent oe = make(m::EventType::call_answered, now());
    set(oe.call, call);
    set(oe.queue, queue);
    set(oe.agent, agent);
    oe.event.wait = wait;
    emit(oe);
    AgentAct& a = acts[agent];
    ++a.calls;
    a.qms = Act::none;
    rings_over(call, agent);
    if (answered.size() >= opts.max_tracked) answered.erase(answered.begin());
    answered[std::string(call)] = Answered{std::string(queue), agent, {}};
  }

  // The answered call of `agent` in `queue`, when exactly one is open; empty otherwise.
  std::string_view only_answered(std::string_view agent, std::string_view queue) const {
    std::string_view found;
    for (const auto& [call, a] : answered) {
      if (a.agent != agent || a.queue != queue) continue;
      if (!found.empty()) return {};
      found = call;
    }
    return found;
  }

  void on_complete(const AmiMessage& msg) {
    agent_events_seen = true;
    std::string_view call, queue;
    std::string agent, matched;
    if (msg.get("Uniqueid").empty() && !msg.get("Queue").empty()) {
      // Asterisk sends AgentComplete without the caller's fields when the caller's channel is
      // already gone as the bridge ends ("Empty caller_snapshot; sending incomplete event",
      // app_queue.c; seen on a loaded lab machine). The member and the queue are still there:
      // the call is the one this member answered in this queue, if there is exactly one.
      queue = msg.get("Queue");
      agent = agent_of(msg);
      if (!name_ok("Queue", queue) || !wanted(queue)) return;
      // A copy: the map entry it comes from is erased below, before the call is used last.
      matched = agent.empty() ? std::string() : std::string(only_answered(agent, queue));
      call = matched;
      if (call.empty()) {
        reject("missing_field", "AgentComplete without Uniqueid, and its member has no one "
                                "answered call in the queue to match it to");
        return;
      }
      ++stats.completes_matched;
      warn("incomplete_event", fmt::format("AgentComplete without the caller's fields: matched "
                                           "to call {} answered by {} in {}",
                                           call, agent, queue));
    } else {
      if (!call_and_queue(msg, call, queue) || !wanted(queue)) return;
      agent = agent_of(msg);
    }
    double talk = 0, hold = 0;
    if (!number(msg, "TalkTime", talk) || !number(msg, "HoldTime", hold)) return;
    if (agent.empty()) {
      reject("missing_field", "AgentComplete without MemberName/Interface");
      return;
    }
    if (!name_ok("MemberName", agent)) return;
    const auto reason = msg.get("Reason");
    OwnedEvent oe = make(m::EventType::call_ended, now());
    set(oe.call, call);
    set(oe.queue, queue);
    set(oe.agent, agent);
    oe.event.talk = talk;
    oe.event.wait = hold;
    const bool transfer = is(reason, "transfer");
    oe.event.by = transfer               ? m::EndedBy::transfer
                  : is(reason, "agent")  ? m::EndedBy::agent
                  : is(reason, "caller") ? m::EndedBy::caller
                                         : m::EndedBy::unknown;
    emit(oe);
    std::string target;
    if (auto it = answered.find(call); it != answered.end()) {
      target = it->second.transfer_to;
      answered.erase(it);
    }
    if (transfer) {
      OwnedEvent x = make(m::EventType::call_transferred, now());
      set(x.call, call);
      set(x.agent, agent);
      set(x.to, target.empty() ? std::string_view("unknown") : std::string_view(target));
      emit(x);
    }
    AgentAct& a = acts[agent];
    if (a.calls > 0) --a.calls;
  }

  void on_transfer(const AmiMessage& msg, bool blind) {
    const auto transferee = msg.get("TransfereeUniqueid");
    auto it = answered.find(transferee);
    if (it == answered.end()) return;
    std::string to;
    if (blind) {
      const auto ext = msg.get("Extension");
      const auto ctx = msg.get("Context");
      to = std::string(ext);
      if (!ctx.empty()) to += "@" + std::string(ctx);
    } else {
      to = std::string(msg.get("TransferTargetChannel"));
      if (to.empty()) to = std::string(msg.get("DestApp"));
    }
    if (!to.empty() && to.size() <= opts.max_name_bytes) it->second.transfer_to = to;
  }

  void on_agent_called(const AmiMessage& msg) {
    agent_events_seen = true;
    const auto queue = msg.get("Queue");
    if (queue.empty() || !wanted(queue)) return;
    const std::string agent = agent_of(msg);
    if (agent.empty() || !name_ok("MemberName", agent)) return;
    if (acts[agent].calls > 0) return;
    const auto call = msg.get("Uniqueid");
    const bool call_ok = !call.empty() && call.size() <= opts.max_name_bytes;
    emit_state(agent, m::AgentState::ringing, queue, {}, call_ok ? call : std::string_view());
    if (!call_ok) return;
    auto it = rung.find(call);
    if (it == rung.end()) {
      if (rung.size() >= opts.max_tracked) rung.erase(rung.begin());
      it = rung.emplace(std::string(call), std::vector<Rung>{}).first;
    }
    if (it->second.size() < 64)
      it->second.push_back(Rung{agent, std::string(queue), std::string(interface_of(msg))});
  }

  // The rings for `call` are over (answered by `by`, or the caller left): the members still
  // ringing for it go back to what they were before, paused or available in that queue.
  void rings_over(std::string_view call, std::string_view by = {}) {
    auto it = rung.find(call);
    if (it == rung.end()) return;
    const std::vector<Rung> list = std::move(it->second);
    rung.erase(it);
    for (const Rung& r : list) {
      if (r.agent == by) continue;
      const AgentAct& act = acts[r.agent];
      if (act.calls > 0 || act.qms != Act::ringing) continue;
      const auto mb = members.find(key2(r.queue, r.iface));
      if (mb != members.end() && mb->second.paused == 1)
        emit_state(r.agent, m::AgentState::paused, r.queue, mb->second.reason);
      else
        emit_state(r.agent, m::AgentState::available, r.queue);
    }
  }

  void on_ring_noanswer(const AmiMessage& msg) {
    agent_events_seen = true;
    std::string_view call, queue;
    if (!call_and_queue(msg, call, queue) || !wanted(queue)) return;
    double ring_ms = 0;
    if (!number(msg, "RingTime", ring_ms, 1000)) return;  // P1: milliseconds on this event
    if (!std::isfinite(ring_ms)) {
      reject("missing_number", "AgentRingNoAnswer without RingTime");
      return;
    }
    const std::string agent = agent_of(msg);
    if (agent.empty() || !name_ok("MemberName", agent)) {
      if (agent.empty()) reject("missing_field", "AgentRingNoAnswer without MemberName/Interface");
      return;
    }
    OwnedEvent oe = make(m::EventType::agent_ring_noanswer, now());
    set(oe.call, call);
    set(oe.queue, queue);
    set(oe.agent, agent);
    oe.event.ring_ms = ring_ms;
    emit(oe);
    acts[agent].qms = Act::none;
    if (auto it = rung.find(call); it != rung.end()) {
      auto& v = it->second;
      v.erase(std::remove_if(v.begin(), v.end(), [&](const Rung& r) { return r.agent == agent; }),
              v.end());
      if (v.empty()) rung.erase(it);
    }
  }

  void on_agent_login(const AmiMessage& msg, bool login) {
    std::string_view id = msg.get("Agent");
    if (id.empty()) return;
    // P7: 12+ names the agent `1001`, its member interface is `Agent/1001`.
    std::string iface = id.rfind("Agent/", 0) == 0 ? std::string(id) : "Agent/" + std::string(id);
    std::string agent = agent_name({}, iface);
    if (!name_ok("Agent", agent)) return;
    OwnedEvent oe = make(m::EventType::agent_state, now());
    set(oe.agent, agent);
    oe.event.state = login ? m::AgentState::available : m::AgentState::logged_out;
    emit(oe);
  }

  // ---- QueueStatus answers (P17: routed by ActionID) ---------------------------------------
  List* list_for(const AmiMessage& msg) {
    const auto id = msg.get("ActionID");
    if (!expected_qs.empty() && id != expected_qs) return nullptr;
    if (lists.size() > 16 && !lists.count(id)) lists.erase(lists.begin());
    return &lists[std::string(id)];
  }

  void on_list_item(const AmiMessage& msg, std::string_view ev) {
    List* l = list_for(msg);
    if (!l) return;
    const auto queue = msg.get("Queue");
    if (queue.empty() || !wanted(queue)) return;
    if (queue.size() > opts.max_name_bytes) return;
    l->queues.insert(std::string(queue));
    if (is(ev, "QueueEntry")) {
      EntryRow r;
      r.call = std::string(msg.get("Uniqueid"));
      r.queue = std::string(queue);
      r.caller = std::string(caller_of(msg));
      double w = 0;
      if (parse_decimal(msg.get("Wait"), w) && w >= 0) r.wait = w;
      if (!r.call.empty() && r.call.size() <= opts.max_name_bytes)
        l->entries.push_back(std::move(r));
    } else if (is(ev, "QueueMember")) {
      MemberRow r;
      r.queue = std::string(queue);
      r.iface = std::string(interface_of(msg));
      r.name = std::string(msg.get("Name"));
      if (r.name.empty()) r.name = std::string(msg.get("MemberName"));
      r.status = int_header(msg, "Status");
      r.paused = int_header(msg, "Paused");
      r.incall = incall_of(msg);
      r.reason = std::string(pause_reason(msg));
      if (!r.iface.empty()) l->members.push_back(std::move(r));
    }
    if (l->entries.size() + l->members.size() > opts.max_tracked) {
      lists.erase(std::string(msg.get("ActionID")));
      warn("tracking_limit", "QueueStatus answer too large: ignored");
    }
  }

  void on_list_complete(const AmiMessage& msg) {
    const auto id = msg.get("ActionID");
    if (!expected_qs.empty() && id != expected_qs) return;
    auto it = lists.find(id);
    List l;
    if (it != lists.end()) {
      l = std::move(it->second);
      lists.erase(it);
    }
    if (!std::isfinite(clock)) {
      deferred = std::move(l);  // entered at now - Wait: needs a now
      return;
    }
    reconcile(l);
  }

  void reconcile(const List& l) {
    ++stats.resyncs;
    const double t = now();
    std::set<std::string, std::less<>> listed;
    for (const auto& e : l.entries) listed.insert(key2(e.call, e.queue));
    std::vector<std::string> missing;
    for (const auto& [k, v] : open) {
      if (v.conn < conn && l.queues.count(key_second(k)) && !listed.count(k)) missing.push_back(k);
    }
    if (!missing.empty()) {
      // Visits that ended while the feed was down: their outcome is unknown. The feed_restart of
      // the drop closed them in the engine (not offered); they are forgotten here.
      for (const auto& k : missing) open.erase(k);
      warn("ami_resync",
           fmt::format("AMI reconnect: {} visit(s) ended while disconnected, closed without an "
                       "outcome",
                       missing.size()));
    }
    for (const auto& e : l.entries) {
      const std::string k = key2(e.call, e.queue);
      if (auto it = open.find(k); it != open.end()) {
        reenter(k, it->second);  // still waiting: entered again with its first entry time
        continue;
      }
      if (closed_this_conn.count(k)) continue;
      double joined = t;
      if (std::isfinite(e.wait)) {
        joined = t - e.wait;
        // A status row, not an event: the caller does wait, since a time out of the window.
        if (std::string why = times.check(joined, receipt_clock, "QueueEntry Wait", e.wait); !why.empty()) {
          warn("time_clamped", fmt::format("QueueEntry {}: {}: entered now", e.call, why));
          ignored("time_clamped");
          joined = t;
        }
      } else {
        warn("unknown_wait", fmt::format("QueueEntry {} without Wait: entered now", e.call));
      }
      if (open.size() >= opts.max_tracked) break;
      open[k] = Visit{joined, conn, e.caller, restarts};
      OwnedEvent oe = make(m::EventType::call_enqueued, joined);
      set(oe.call, e.call);
      set(oe.queue, e.queue);
      set(oe.caller, e.caller);
      emit(oe);
    }
    std::set<std::string, std::less<>> seen_members;
    for (const auto& r : l.members) {
      seen_members.insert(key2(r.queue, r.iface));
      member_update(r.queue, r.iface, r.name, r.status, r.paused, r.incall, r.reason,
                    MemberSource::snapshot);
    }
    for (auto& [k, mb] : members) {
      if (!l.queues.count(key_first(k)) || seen_members.count(k) || !mb.present) continue;
      mb.present = false;
      emit_state(agent_name(mb.name, key_second(k)), m::AgentState::logged_out, key_first(k));
    }
  }

  // ---- restarts ----------------------------------------------------------------------------
  // The first sign of a restart (or of a drop that may hide one): the engine ends the calls and
  // pauses of this feed's agents and closes its open visits; the QueueStatus answer of the next
  // connection tells the new state (members come back from queues.conf unpaused, waiting
  // callers are listed). The time up to the rebuild is a gap, never pause or talk time.
  void restart(double t) {
    release_all();  // outcomes held back are decided with what is known, before the restart
    if (!state_since_restart) return;  // nothing told since the last one: one restart is enough
    if (std::isfinite(clock) && (!std::isfinite(t) || t < clock)) t = clock;
    if (std::isfinite(t)) clock = t;
    OwnedEvent r = make(m::EventType::feed_restart, now());
    emit(r);
    ++restarts;
    restart_ts = now();
    state_since_restart = false;
    // Mirror what the engine did: no calls, no pauses; device states are unknown until the
    // rebuild (so its QueueMember rows are applied, not taken for repeats).
    for (auto& [name, a] : acts) a = AgentAct{};
    rung.clear();
    for (auto& [k, mb] : members) {
      mb.paused = 0;
      mb.reason.clear();
      mb.status = -1;
      mb.incall = -1;
      mb.seen = false;
    }
  }

  // ---- dispatch ----------------------------------------------------------------------------
  void on_banner(const AmiMessage& msg) {
    // A new connection in a capture: the previous one dropped (live, on_disconnect said so
    // already and this adds nothing).
    restart(clock);
    version = std::string(msg.version);
    ++conn;
    ++stats.connections;
    dialplan_seen = false;
    closed_this_conn.clear();
    lists.clear();
    queuestatus.clear();
    if (conn > 1) {
      warn("feed_gap", fmt::format("AMI connection {} (Asterisk Call Manager/{}): events between "
                                   "connections are lost; state is rebuilt from QueueStatus",
                                   conn, version));
    }
  }

  void on_event(const AmiMessage& msg) {
    ++stats.events_in;
    const std::string_view ev = msg.first_value();
    if (is(ev, "QueueCallerJoin") || is(ev, "Join")) {
      on_join(msg);
    } else if (is(ev, "QueueCallerLeave") || is(ev, "Leave")) {
      on_leave(msg);
    } else if (is(ev, "QueueCallerAbandon")) {
      on_abandon(msg);
    } else if (is(ev, "AgentConnect")) {
      on_connect(msg);
    } else if (is(ev, "AgentComplete")) {
      on_complete(msg);
    } else if (is(ev, "AgentCalled")) {
      on_agent_called(msg);
    } else if (is(ev, "AgentRingNoAnswer")) {
      on_ring_noanswer(msg);
    } else if (is(ev, "AgentDump")) {
      agent_events_seen = true;  // caller keeps waiting: no outcome
    } else if (is(ev, "QueueMemberStatus") || is(ev, "QueueMemberPenalty") ||
               is(ev, "QueueMemberRinginuse")) {
      member_update(msg.get("Queue"), interface_of(msg), msg.get("MemberName"),
                    int_header(msg, "Status"), int_header(msg, "Paused"), incall_of(msg),
                    pause_reason(msg), MemberSource::status);
    } else if (is(ev, "QueueMemberAdded")) {
      member_update(msg.get("Queue"), interface_of(msg), msg.get("MemberName"),
                    int_header(msg, "Status"), int_header(msg, "Paused"), incall_of(msg),
                    pause_reason(msg), MemberSource::added);
    } else if (is(ev, "QueueMemberPause") || is(ev, "QueueMemberPaused")) {
      const int p = int_header(msg, "Paused");
      if (p < 0) {
        reject("bad_value", fmt::format("{} without a 0/1 Paused", ev));
        return;
      }
      member_update(msg.get("Queue"), interface_of(msg), msg.get("MemberName"), -1, p, -1,
                    pause_reason(msg), MemberSource::pause);
    } else if (is(ev, "QueueMemberRemoved")) {
      const auto queue = msg.get("Queue");
      const auto iface = interface_of(msg);
      if (queue.empty() || iface.empty() || !wanted(queue)) return;
      auto it = members.find(key2(queue, iface));
      std::string name(msg.get("MemberName"));
      if (it != members.end()) {
        if (name.empty()) name = it->second.name;
        members.erase(it);
      }
      emit_state(agent_name(name, iface), m::AgentState::logged_out, queue);
    } else if (is(ev, "AgentLogin") || is(ev, "Agentlogin")) {
      on_agent_login(msg, true);
    } else if (is(ev, "AgentLogoff") || is(ev, "Agentlogoff")) {
      on_agent_login(msg, false);
    } else if (is(ev, "VarSet")) {
      dialplan_seen = true;
      if (is(msg.get("Variable"), "QUEUESTATUS")) {
        const auto uid = msg.get("Uniqueid");
        const auto value = msg.get("Value");
        bool held = false;
        for (const auto& p : pending) held = held || p.call == uid;
        if (held) {
          release_uniqueid(uid, value);
        } else if (!uid.empty() && uid.size() <= opts.max_name_bytes) {
          if (queuestatus.size() >= 4096) queuestatus.clear();
          queuestatus[std::string(uid)] = std::string(value);
        }
      }
    } else if (is(ev, "Hangup")) {
      const auto uid = msg.get("Uniqueid");
      release_uniqueid(uid, {});
      if (auto it = queuestatus.find(uid); it != queuestatus.end()) queuestatus.erase(it);
    } else if (is(ev, "BlindTransfer")) {
      on_transfer(msg, true);
    } else if (is(ev, "AttendedTransfer")) {
      on_transfer(msg, false);
    } else if (is(ev, "QueueParams") || is(ev, "QueueEntry") || is(ev, "QueueMember")) {
      on_list_item(msg, ev);
    } else if (is(ev, "QueueStatusComplete")) {
      on_list_complete(msg);
    } else if (is(ev, "Shutdown")) {
      // Asterisk is stopping (sent after it hung up its channels: their abandons and
      // completions came first). The drop that follows adds no second restart.
      restart(now());
    } else {
      // Every other event (channel, bridge, CEL, peer...) carries nothing for queue KPIs.
      ignored("not_queue_event");
    }
  }
  void ignored(std::string_view result) {
    ++stats.ignored;
    if (sink.ignored) sink.ignored(result);
  }

  static double stamp_of(const AmiMessage& msg) {
    double v = 0;
    if (const auto t = msg.get("Timestamp"); !t.empty() && parse_decimal(t, v) && v > 0) return v;
    return m::kNoValue;
  }

  void on_message(const AmiMessage& msg, double receipt) {
    ++stats.messages;
    if (std::isfinite(receipt)) receipt_clock = receipt;
    if (msg.kind == AmiKind::banner) {
      if (std::isfinite(receipt)) clock = receipt;
      on_banner(msg);
      return;
    }
    if (msg.kind == AmiKind::response) {
      (void)set_time(msg, receipt);  // a Ping answer's Timestamp keeps a replay's clock honest
      return;
    }
    if (msg.kind != AmiKind::event) return;  // the client's actions, junk
    // The duplicate rule: the block as sent (header names and values in order) and, for a block
    // without its own Timestamp, the time it is given (receipt live, the feed clock in a replay),
    // so a status block legitimately repeated later is not taken for a copy.
    Fingerprinter fp;
    for (const auto& h : msg.headers) fp.add(h.name).add(h.value);
    double day_ts = stamp_of(msg);
    if (!std::isfinite(day_ts)) {
      day_ts = std::isfinite(receipt) ? receipt : clock;
      fp.add(day_ts);
    }
    if (!gate.begin(fp.value(), day_ts, sink)) return;
    if (!std::isfinite(receipt)) {
      // A replay: an asynchronous event without a Timestamp header (manager.conf
      // timestampevents=no) gets a guessed time. List answers (ActionID) never carry one, and
      // neither does the FullyBooted that Asterisk writes straight to a new session at login
      // (seen on a real Asterisk with timestampevents=yes): neither says the capture is untimed.
      if (!msg.get("Timestamp").empty())
        ++stats.timed_events;
      else if (msg.get("ActionID").empty() && msg.get("Event") != "FullyBooted")
        ++stats.untimed_events;
    }
    if (std::string why = set_time(msg, receipt); !why.empty()) {
      reject("bad_value", fmt::format("{} {}", msg.get("Event"), why));
      gate.end(sink);
      return;
    }
    if (!guessed) release_due(deadline_clock());
    on_event(msg);
    gate.end(sink);
  }
};

AmiTranslator::AmiTranslator(AmiTranslatorOptions opts, FeedSink sink)
    : impl_(std::make_unique<Impl>(std::move(opts), std::move(sink))) {}
AmiTranslator::~AmiTranslator() = default;

void AmiTranslator::on_message(const AmiMessage& msg, double receipt) {
  impl_->on_message(msg, receipt);
}
void AmiTranslator::on_disconnect(double now) {
  if (std::isfinite(now)) impl_->receipt_clock = now;
  impl_->restart(std::isfinite(now) ? now + impl_->pbx_offset : now);
}
void AmiTranslator::tick(double now) { impl_->release_due(now); }
void AmiTranslator::finish() {
  impl_->release_all();
  if (!std::isfinite(impl_->clock) && (!impl_->timeless.empty() || impl_->deferred)) {
    impl_->warn("no_time", "the AMI capture carries no time at all (no Timestamp header, no "
                           "Uniqueid): its events are stamped 0 (1970-01-01)");
    impl_->clock = 0;
    impl_->flush_timeless();
  }
}
void AmiTranslator::expect_queue_status(std::string action_id) {
  impl_->expected_qs = std::move(action_id);
}
double AmiTranslator::clock() const { return impl_->clock; }
const AmiTranslatorStats& AmiTranslator::stats() const {
  impl_->stats.accepted = impl_->gate.accepted();
  impl_->stats.duplicates = impl_->gate.duplicates();
  return impl_->stats;
}
std::string_view AmiTranslator::ami_version() const { return impl_->version; }

}  // namespace callwatch::daemon
