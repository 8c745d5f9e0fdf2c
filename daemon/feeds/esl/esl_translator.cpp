#include "feeds/esl/esl_translator.hpp"
#include "feeds/message_gate.hpp"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace callwatch::daemon {

namespace m = callwatch::metrics;

namespace {

constexpr char kSep = '\x1f';
std::string key2(std::string_view a, std::string_view b) {
  std::string k(a);
  k.push_back(kSep);
  k.append(b);
  return k;
}
std::string_view key_first(std::string_view k) { return k.substr(0, k.find(kSep)); }
std::string_view key_second(std::string_view k) {
  const auto p = k.find(kSep);
  return p == std::string_view::npos ? std::string_view() : k.substr(p + 1);
}
bool is(std::string_view a, std::string_view b) { return iequals(a, b); }

// One event's headers, from a plain or a JSON body.
struct Headers {
  std::vector<EslHeader> list;
  std::string_view get(std::string_view name) const {
    for (const auto& h : list) {
      if (iequals(h.name, name)) return h.value;
    }
    return {};
  }
};

}  // namespace

struct EslTranslator::Impl {
  EslTranslatorOptions opts;
  FeedSink sink;
  EslTranslatorStats stats;
  MessageGate gate;  // counting and the feeds' one duplicate rule (feeds/message_gate.hpp)
  TimeBounds times;  // the window of times a message may state (feeds/time_bounds.hpp)
  double live_now = m::kNoValue;  // live: the receipt time of what is handled; NaN in a replay
  std::uint64_t conn = 0;
  double clock = m::kNoValue;
  EslEventHeaders plain;
  simdjson::dom::parser json_parser;
  std::string json_storage;
  bool warned_wrap = false;

  struct Visit {
    double joined = m::kNoValue;
    std::uint64_t conn = 0;
    std::string caller;
    std::uint64_t epoch = 0;  // restarts emitted when the engine last saw it entered (as AMI)
  };
  // Restarts: a feed_restart at the first sign of one (the live connection dropped, a new
  // auth/request in a capture); the snapshot of the next connection tells the new state.
  std::uint64_t restarts = 0;
  bool state_since_restart = false;
  double pbx_offset = 0;  // live: FreeSWITCH clock - local clock at the last event
  double restart_ts = m::kNoValue;
  std::map<std::string, Visit, std::less<>> open;  // (call, queue)
  std::set<std::string, std::less<>> closed_this_conn;
  std::map<std::string, std::string, std::less<>> member_call;  // CC-Member-UUID -> call id
  std::map<std::string, double, std::less<>> first_joined;      // CC-Member-UUID -> joined
  std::set<std::string, std::less<>> hung_up;                   // session uuids (CHANNEL_HANGUP)

  struct Agent {
    std::string status, state;
    double wrap_up = 0;
    std::vector<std::string> tiers;
  };
  std::map<std::string, Agent, std::less<>> agents;

  struct Snapshot {
    bool any = false;
    std::set<std::string, std::less<>> queues;
    struct Waiting {
      std::string call, member, queue, caller;
      double joined = m::kNoValue;
    };
    std::vector<Waiting> waiting;
    struct AgentRow {
      std::string name, status, state;
      double wrap_up = 0;
    };
    std::vector<AgentRow> agents;
    std::map<std::string, std::vector<std::string>, std::less<>> tiers;
    bool tiers_seen = false;
  } snap;

  Impl(EslTranslatorOptions o, FeedSink s)
      : opts(std::move(o)), sink(std::move(s)), gate(opts.duplicates), times(opts.times) {}

  void emit(OwnedEvent& oe) {
    if (oe.event.type != m::EventType::feed_restart) state_since_restart = true;
    // A state after a restart is never placed before it (snapshot rows are timed on receipt,
    // the drop on FreeSWITCH's clock).
    if (oe.event.type == m::EventType::agent_state && std::isfinite(restart_ts) &&
        oe.event.ts < restart_ts) {
      oe.event.ts = restart_ts;
    }
    ++stats.emitted;
    if (sink.event) sink.event(oe.view());
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
  void ignored(std::string_view result) {
    ++stats.ignored;
    if (sink.ignored) sink.ignored(result);
  }
  bool wanted(std::string_view q) const {
    return opts.queues.empty() ||
           std::find(opts.queues.begin(), opts.queues.end(), q) != opts.queues.end();
  }
  double now() const { return std::isfinite(clock) ? clock : 0; }
  static void set(std::string& dst, std::string_view v) { assign_utf8(dst, v); }
  bool name_ok(std::string_view what, std::string_view v) {
    if (v.size() > opts.max_name_bytes) {
      reject("name_too_long",
             fmt::format("{} is {} bytes, the limit is {}", what, v.size(), opts.max_name_bytes));
      return false;
    }
    return true;
  }
  // CC-*-Time: epoch seconds. Absent -> NaN; malformed or out of the window -> false (event
  // rejected).
  bool epoch(const Headers& h, std::string_view name, double& out) {
    out = m::kNoValue;
    const auto v = h.get(name);
    if (v.empty()) return true;
    double d = 0;
    if (!parse_decimal(v, d) || d < 0) {
      reject("bad_number", fmt::format("{} '{}' is not a number", name, v));
      return false;
    }
    if (std::string why = times.check(d, live_now, name); !why.empty()) {
      reject("bad_number", why);
      return false;
    }
    out = d;
    return true;
  }

  // ---- agents ------------------------------------------------------------------------------
  void agent_event(const std::string& name, m::AgentState st, std::string_view reason = {}) {
    OwnedEvent oe(m::EventType::agent_state, now());
    set(oe.agent, name);
    oe.event.state = st;
    set(oe.reason, reason);
    const auto it = agents.find(name);
    if (it != agents.end() && !it->second.tiers.empty()) {
      for (const auto& q : it->second.tiers) {
        if (wanted(q)) oe.queues.push_back(q);
      }
      if (oe.queues.empty()) return;  // none of its queues is watched
    }
    emit(oe);
  }

  static bool available_status(std::string_view s) {
    return is(s, "Available") || is(s, "Available (On Demand)");
  }

  void agent_status(const std::string& name, std::string_view status) {
    if (name.empty() || !name_ok("CC-Agent", name)) return;
    Agent& a = agents[name];
    if (a.status == status) return;  // P15: written again, unchanged
    a.status = std::string(status);
    if (is(status, "Logged Out")) {
      agent_event(name, m::AgentState::logged_out);
    } else if (is(status, "On Break")) {
      agent_event(name, m::AgentState::paused, "");
    } else if (available_status(status)) {
      agent_event(name, m::AgentState::available);
      // The module's state still holds (a call in progress stays a call).
      const std::string st = a.state;
      a.state.clear();
      if (!st.empty() && !is(st, "Waiting"))
        agent_state(name, st);
      else
        a.state = st;
    }
  }

  void agent_state(const std::string& name, std::string_view state) {
    if (name.empty() || !name_ok("CC-Agent", name)) return;
    Agent& a = agents[name];
    if (a.state == state) return;
    a.state = std::string(state);
    // States matter only while the status lets the agent take calls.
    if (!a.status.empty() && !available_status(a.status)) return;
    if (is(state, "Waiting"))
      agent_event(name, m::AgentState::available);
    else if (is(state, "Receiving") || is(state, "Reserved"))
      agent_event(name, m::AgentState::ringing);
    else if (is(state, "In a queue call"))
      agent_event(name, m::AgentState::on_call);
    else if (is(state, "Idle"))
      agent_event(name, m::AgentState::paused, "idle");
  }

  // ---- visits ------------------------------------------------------------------------------
  std::string call_of(const Headers& h) {
    const auto member = h.get("CC-Member-UUID");
    const auto session = h.get("CC-Member-Session-UUID");
    if (!member.empty()) {
      if (auto it = member_call.find(member); it != member_call.end()) return it->second;
    }
    if (!session.empty()) return std::string(session);
    return std::string(member);
  }
  void remember_member(std::string_view member, const std::string& call, double joined) {
    if (member.empty()) return;
    if (member_call.size() >= opts.max_tracked) {
      member_call.clear();
      first_joined.clear();
    }
    member_call.emplace(std::string(member), call);
    if (std::isfinite(joined)) first_joined.emplace(std::string(member), joined);
  }

  void enqueue(const std::string& call, std::string_view queue, double joined,
               std::string_view caller) {
    const std::string k = key2(call, queue);
    if (open.count(k)) return;
    if (open.size() >= opts.max_tracked) {
      warn("tracking_limit", "too many open visits: oldest forgotten");
      open.erase(open.begin());
    }
    closed_this_conn.erase(k);
    open[k] = Visit{joined, conn, std::string(caller), restarts};
    OwnedEvent oe(m::EventType::call_enqueued, joined);
    set(oe.call, call);
    set(oe.queue, queue);
    set(oe.caller, caller);
    emit(oe);
  }
  // A visit the engine closed at a restart is entered again (first entry time) before what
  // follows it on a later connection: its outcome, or its waiting in the snapshot.
  void reenter(std::string_view k, Visit& v) {
    if (v.epoch >= restarts) return;
    v.epoch = restarts;
    v.conn = conn;
    OwnedEvent oe(m::EventType::call_enqueued, v.joined);
    set(oe.call, key_first(k));
    set(oe.queue, key_second(k));
    set(oe.caller, v.caller);
    emit(oe);
  }

  void close_visit(const std::string& call, std::string_view queue) {
    const std::string k = key2(call, queue);
    if (auto it = open.find(k); it != open.end()) {
      reenter(k, it->second);
      open.erase(it);
    }
    if (closed_this_conn.size() < opts.max_tracked) closed_this_conn.insert(k);
  }

  bool call_queue(const Headers& h, std::string& call, std::string_view& queue) {
    queue = h.get("CC-Queue");
    call = call_of(h);
    if (queue.empty() || call.empty()) {
      reject("missing_field", fmt::format("{} without {}", h.get("CC-Action"),
                                          queue.empty() ? "CC-Queue" : "CC-Member-Session-UUID"));
      return false;
    }
    return name_ok("CC-Queue", queue) && name_ok("CC-Member-Session-UUID", call);
  }

  void on_queue_start(const Headers& h, bool resume) {
    std::string call;
    std::string_view queue;
    if (!call_queue(h, call, queue) || !wanted(queue)) return;
    const auto member = h.get("CC-Member-UUID");
    double joined = now();
    if (resume) {
      // The wait goes on from the first join (abandoned-resume-allowed).
      if (auto it = first_joined.find(member); it != first_joined.end()) joined = it->second;
    }
    remember_member(member, call, joined);
    if (resume) {
      if (auto it = open.find(key2(call, queue)); it != open.end()) {
        reenter(it->first, it->second);
        return;
      }
    }
    std::string_view cid = h.get("CC-Member-CID-Number");
    if (cid.empty()) cid = h.get("CC-Member-CID-Name");  // number withheld: the name
    enqueue(call, queue, joined, cid);
  }

  void on_bridge_start(const Headers& h) {
    std::string call;
    std::string_view queue;
    if (!call_queue(h, call, queue) || !wanted(queue)) return;
    double answered = 0, joined = 0;
    if (!epoch(h, "CC-Agent-Answered-Time", answered) ||
        !epoch(h, "CC-Member-Joined-Time", joined)) {
      return;
    }
    const std::string agent(h.get("CC-Agent"));
    if (agent.empty()) {
      reject("missing_field", "bridge-agent-start without CC-Agent");
      return;
    }
    if (!name_ok("CC-Agent", agent)) return;
    answer(call, queue, agent, answered, joined);
  }

  void answer(const std::string& call, std::string_view queue, const std::string& agent,
              double answered, double joined) {
    close_visit(call, queue);
    OwnedEvent oe(m::EventType::call_answered, now());
    set(oe.call, call);
    set(oe.queue, queue);
    set(oe.agent, agent);
    if (std::isfinite(answered) && std::isfinite(joined)) {
      oe.event.wait = std::max(0.0, answered - joined);
    }
    emit(oe);
    answered_calls.insert(call);
    if (answered_calls.size() > opts.max_tracked) answered_calls.clear();
  }
  std::set<std::string, std::less<>> answered_calls;

  void on_bridge_end(const Headers& h) {
    std::string call;
    std::string_view queue;
    if (!call_queue(h, call, queue) || !wanted(queue)) return;
    double answered = 0, ended = 0;
    if (!epoch(h, "CC-Agent-Answered-Time", answered) ||
        !epoch(h, "CC-Bridge-Terminated-Time", ended)) {
      return;
    }
    const std::string agent(h.get("CC-Agent"));
    if (agent.empty()) {
      reject("missing_field", "bridge-agent-end without CC-Agent");
      return;
    }
    if (!name_ok("CC-Agent", agent)) return;
    OwnedEvent oe(m::EventType::call_ended, now());
    set(oe.call, call);
    set(oe.queue, queue);
    set(oe.agent, agent);
    if (std::isfinite(answered) && std::isfinite(ended))
      oe.event.talk = std::max(0.0, ended - answered);
    if (auto it = agents.find(agent); it != agents.end() && it->second.wrap_up > 0) {
      oe.event.wrap = it->second.wrap_up;  // P15: derived, the module sends no wrap-up event
      if (!warned_wrap) {
        warned_wrap = true;
        warn("derived_wrap_up",
             "FreeSWITCH sends no wrap-up event: after-call work is taken "
             "from each agent's wrap_up_time (derived)");
      }
    }
    emit(oe);
  }

  void on_bridge_fail(const Headers& h) {
    std::string call;
    std::string_view queue;
    if (!call_queue(h, call, queue) || !wanted(queue)) return;
    const auto cause = h.get("CC-Hangup-Cause");
    const std::string agent(h.get("CC-Agent"));
    if (agent.empty() || !name_ok("CC-Agent", agent)) return;
    if (is(cause, "ORIGINATOR_CANCEL") || is(cause, "LOSE_RACE")) {
      return;  // not the agent's fault: the caller left or another agent answered
    }
    double called = 0, aborted = 0;
    if (!epoch(h, "CC-Agent-Called-Time", called) || !epoch(h, "CC-Agent-Aborted-Time", aborted)) {
      return;
    }
    OwnedEvent oe(m::EventType::agent_ring_noanswer, now());
    set(oe.call, call);
    set(oe.queue, queue);
    set(oe.agent, agent);
    if (std::isfinite(called) && std::isfinite(aborted)) {
      oe.event.ring_ms = std::max(0.0, aborted - called) * 1000.0;
    }
    emit(oe);
  }

  void on_queue_end(const Headers& h) {
    std::string call;
    std::string_view queue;
    if (!call_queue(h, call, queue) || !wanted(queue)) return;
    double joined = 0, leaving = 0;
    if (!epoch(h, "CC-Member-Joined-Time", joined) ||
        !epoch(h, "CC-Member-Leaving-Time", leaving)) {
      return;
    }
    const auto cause = h.get("CC-Cause");
    const auto ccs = h.get("Channel-Call-State");
    const auto ans = h.get("Answer-State");
    const auto session = h.get("CC-Member-Session-UUID");
    const bool leg_known = !ccs.empty() || !ans.empty();
    const bool gone = is(ccs, "HANGUP") || is(ans, "hangup") || hung_up.count(session) > 0;
    std::string to(h.get("Caller-Destination-Number"));
    if (to.empty() || to.size() > opts.max_name_bytes) to = "unknown";

    if (is(cause, "Terminated")) {
      const std::string k = key2(call, queue);
      if (open.count(k)) {
        // bridge-agent-start was missed (reconnect): the end event carries the answer too.
        const std::string agent(h.get("CC-Agent"));
        double answered = 0;
        if (!agent.empty() && name_ok("CC-Agent", agent) &&
            epoch(h, "CC-Agent-Answered-Time", answered)) {
          answer(call, queue, agent, answered, joined);
        }
      }
      if (leg_known && !gone) {
        OwnedEvent x(m::EventType::call_transferred, now());
        set(x.call, call);
        set(x.queue, queue);
        set(x.agent, h.get("CC-Agent"));
        set(x.to, to);
        if (!x.agent.empty()) x.queue.clear();  // after answer: from the agent
        emit(x);
      }
      return;
    }
    if (!is(cause, "Cancel")) {
      warn("unknown_cause", fmt::format("member-queue-end with CC-Cause '{}' ignored", cause));
      return;
    }
    close_visit(call, queue);
    OwnedEvent oe(m::EventType::call_exited, now());
    set(oe.call, call);
    set(oe.queue, queue);
    if (std::isfinite(joined) && std::isfinite(leaving))
      oe.event.wait = std::max(0.0, leaving - joined);
    const auto reason = h.get("CC-Cancel-Reason");
    if (is(reason, "TIMEOUT")) {
      oe.event.exit_reason = m::ExitReason::timeout;
    } else if (is(reason, "NO_AGENT_TIMEOUT")) {
      oe.event.exit_reason = m::ExitReason::empty;
    } else if (is(reason, "EXIT_WITH_KEY")) {
      oe.event.exit_reason = m::ExitReason::key;
    } else if (!gone && leg_known) {
      // P16: BREAK_OUT with the caller still up: transferred or broken out, not an abandon.
      oe.event.type = m::EventType::call_transferred;
      set(oe.to, to);
    } else {
      oe.event.type = m::EventType::call_abandoned;
      oe.event.inferred = !gone;  // no caller-leg evidence either way
    }
    emit(oe);
  }

  void on_callcenter(const Headers& h) {
    ++stats.events_in;
    const auto action = h.get("CC-Action");
    if (is(action, "member-queue-start"))
      on_queue_start(h, false);
    else if (is(action, "member-queue-resume"))
      on_queue_start(h, true);
    else if (is(action, "bridge-agent-start"))
      on_bridge_start(h);
    else if (is(action, "bridge-agent-end"))
      on_bridge_end(h);
    else if (is(action, "bridge-agent-fail"))
      on_bridge_fail(h);
    else if (is(action, "member-queue-end"))
      on_queue_end(h);
    else if (is(action, "agent-status-change"))
      agent_status(std::string(h.get("CC-Agent")), h.get("CC-Agent-Status"));
    else if (is(action, "agent-state-change"))
      agent_state(std::string(h.get("CC-Agent")), h.get("CC-Agent-State"));
    // members-count, agent-offering, agent-max-no-answer (a status change follows),
    // agent-contact-change, agent-add, ...: nothing for the KPIs.
  }

  // ---- snapshot ----------------------------------------------------------------------------
  void on_table(std::string_view body) {
    EslTable t;
    if (!parse_esl_table(body, t)) return;
    if (t.column("session_uuid") >= 0 && t.column("joined_epoch") >= 0) {
      snap.any = true;
      for (std::size_t r = 0; r < t.rows.size(); ++r) {
        const auto q = t.cell(r, "queue");
        if (q.empty() || q.size() > opts.max_name_bytes || !wanted(q)) continue;
        snap.queues.insert(std::string(q));
        const auto state = t.cell(r, "state");
        if (!(is(state, "Waiting") || is(state, "Trying"))) continue;
        Snapshot::Waiting w;
        w.member = std::string(t.cell(r, "uuid"));
        w.call = std::string(t.cell(r, "session_uuid"));
        w.queue = std::string(q);
        w.caller = std::string(t.cell(r, "cid_number"));
        double j = 0;
        if (parse_decimal(t.cell(r, "joined_epoch"), j) && j > 0) w.joined = j;
        if (!w.call.empty() && w.call.size() <= opts.max_name_bytes)
          snap.waiting.push_back(std::move(w));
      }
    } else if (t.column("name") == 0 && t.column("wrap_up_time") >= 0) {
      snap.any = true;
      for (std::size_t r = 0; r < t.rows.size(); ++r) {
        Snapshot::AgentRow a;
        a.name = std::string(t.cell(r, "name"));
        a.status = std::string(t.cell(r, "status"));
        a.state = std::string(t.cell(r, "state"));
        double w = 0;
        if (parse_decimal(t.cell(r, "wrap_up_time"), w) && w >= 0) a.wrap_up = w;
        if (!a.name.empty() && a.name.size() <= opts.max_name_bytes)
          snap.agents.push_back(std::move(a));
      }
    } else if (t.column("queue") >= 0 && t.column("agent") >= 0 && t.column("level") >= 0) {
      snap.any = true;
      snap.tiers_seen = true;
      for (std::size_t r = 0; r < t.rows.size(); ++r) {
        const auto q = t.cell(r, "queue");
        const auto a = t.cell(r, "agent");
        if (q.empty() || a.empty() || q.size() > opts.max_name_bytes) continue;
        snap.tiers[std::string(a)].emplace_back(q);
      }
    } else if (t.column("name") == 0 && t.column("strategy") >= 0) {
      snap.any = true;
      for (std::size_t r = 0; r < t.rows.size(); ++r) {
        const auto q = t.cell(r, "name");
        if (!q.empty() && q.size() <= opts.max_name_bytes && wanted(q))
          snap.queues.insert(std::string(q));
      }
    }
  }

  void apply_snapshot() {
    if (!snap.any) return;
    Snapshot s = std::move(snap);
    snap = Snapshot{};
    ++stats.snapshots;
    const double t = now();
    std::set<std::string, std::less<>> listed;
    for (auto& w : s.waiting) {
      if (auto it = member_call.find(w.member); it != member_call.end()) w.call = it->second;
      listed.insert(key2(w.call, w.queue));
    }
    std::vector<std::string> missing;
    for (const auto& [k, v] : open) {
      if (v.conn < conn && s.queues.count(key_second(k)) && !listed.count(k)) missing.push_back(k);
    }
    if (!missing.empty()) {
      // Ended while the feed was down (outcome unknown): the restart of the drop closed them
      // in the engine (not offered); forgotten here.
      for (const auto& k : missing) open.erase(k);
      warn("esl_resync", fmt::format("ESL reconnect: {} visit(s) ended while disconnected, closed "
                                     "without an outcome",
                                     missing.size()));
    }
    for (const auto& w : s.waiting) {
      const std::string k = key2(w.call, w.queue);
      if (auto it = open.find(k); it != open.end()) {
        reenter(k, it->second);  // still waiting: entered again with its first entry time
        continue;
      }
      if (closed_this_conn.count(k)) continue;
      double joined = std::isfinite(w.joined) ? w.joined : t;
      // A status row, not an event: the caller does wait, since a time out of the window.
      if (std::string why = times.check(joined, live_now, "joined_epoch"); !why.empty()) {
        warn("time_clamped", fmt::format("waiting member {}: {}: entered now", w.call, why));
        ignored("time_clamped");
        joined = t;
      }
      remember_member(w.member, w.call, joined);
      enqueue(w.call, w.queue, joined, w.caller);
    }
    if (s.tiers_seen) {
      for (auto& [name, a] : agents) a.tiers.clear();
      for (auto& [name, qs] : s.tiers) agents[name].tiers = std::move(qs);
    }
    for (const auto& a : s.agents) {
      Agent& rec = agents[a.name];
      rec.wrap_up = a.wrap_up;
      if (rec.status == a.status) {
        agent_state(a.name, a.state);
      } else {
        rec.state = a.state;  // agent_status applies it (one event, not two)
        agent_status(a.name, a.status);
      }
    }
  }

  // ---- restarts ----------------------------------------------------------------------------
  // The engine ends the calls and pauses of the feed's agents and closes its open visits; the
  // next snapshot (agent list: status and state; members lists: waiting callers) rebuilds.
  void restart(double t) {
    if (!state_since_restart) return;
    if (std::isfinite(t) && (!std::isfinite(clock) || t > clock)) clock = t;
    OwnedEvent r(m::EventType::feed_restart, now());
    emit(r);
    ++restarts;
    restart_ts = now();
    state_since_restart = false;
    // The agents' status and state as the engine now has them: unknown, so the snapshot's
    // rows are applied rather than taken for repeats (P15).
    for (auto& [n, a] : agents) {
      a.status.clear();
      a.state.clear();
    }
  }

  // ---- dispatch ----------------------------------------------------------------------------
  // Why the event's Event-Date-Timestamp is refused (feeds/time_bounds.hpp), "" when it is fine
  // or absent; a refused time moves no clock.
  std::string set_time(const Headers& h, double receipt) {
    const auto ts = h.get("Event-Date-Timestamp");
    double us = 0;
    if (!ts.empty() && parse_decimal(ts, us) && us > 0) {
      if (std::string why = times.check(us / 1e6, receipt, "Event-Date-Timestamp"); !why.empty()) {
        return why;
      }
      clock = us / 1e6;  // P1: microseconds
      if (std::isfinite(receipt)) pbx_offset = clock - receipt;
    } else if (std::isfinite(receipt)) {
      clock = receipt;
    }
    return {};
  }

  bool read_json(std::string_view body, Headers& h) {
    json_storage.assign(body);
    simdjson::dom::element doc;
    if (json_parser.parse(json_storage).get(doc)) return false;
    simdjson::dom::object obj;
    if (doc.get_object().get(obj)) return false;
    for (auto field : obj) {
      std::string_view v;
      if (field.value.get_string().get(v)) continue;
      h.list.push_back({field.key, v});
    }
    return true;
  }

  // One event message: rejected, a duplicate, or accepted (FeedSink counting rules).
  void on_event_body(std::string_view ctype, std::string_view body, double receipt) {
    Headers h;
    if (is(ctype, "text/event-json")) {
      if (!read_json(body, h)) {
        reject("not_json", "text/event-json body does not parse");
        return;
      }
    } else {
      parse_event_plain(body, plain);
      h.list = plain.headers;
    }
    // The duplicate rule: the event as sent and, for one without Event-Date-Timestamp, the time
    // it is given (receipt live, the feed clock in a replay).
    Fingerprinter fp;
    fp.add(ctype).add(body);
    double day_ts = m::kNoValue;
    double us = 0;
    if (const auto ts = h.get("Event-Date-Timestamp"); !ts.empty() && parse_decimal(ts, us) && us > 0) {
      day_ts = us / 1e6;
    } else {
      day_ts = std::isfinite(receipt) ? receipt : clock;
      fp.add(day_ts);
    }
    if (!gate.begin(fp.value(), day_ts, sink)) return;
    translate(h, receipt);
    gate.end(sink);
  }

  void translate(const Headers& h, double receipt) {
    if (std::string why = set_time(h, receipt); !why.empty()) {
      reject("bad_value", why);
      return;
    }
    apply_snapshot();
    const auto name = h.get("Event-Name");
    if (is(name, "CHANNEL_HANGUP") || is(name, "CHANNEL_HANGUP_COMPLETE")) {
      const auto uid = h.get("Unique-ID");
      if (!uid.empty() && uid.size() <= opts.max_name_bytes) {
        if (hung_up.size() >= 65536) hung_up.clear();
        hung_up.insert(std::string(uid));
      }
      return;
    }
    if (is(name, "CUSTOM") && is(h.get("Event-Subclass"), "callcenter::info")) {
      on_callcenter(h);
    } else {
      ignored("not_callcenter_event");
    }
  }

  void on_message(const EslMessage& msg, double receipt) {
    ++stats.messages;
    live_now = receipt;
    if (std::isfinite(receipt)) clock = receipt;
    const auto ctype = msg.content_type();
    if (is(ctype, "auth/request")) {
      apply_snapshot();
      // A new connection in a capture: the previous one dropped (live, on_disconnect said so).
      restart(clock);
      ++conn;
      ++stats.connections;
      closed_this_conn.clear();
      if (conn > 1) {
        warn("feed_gap", fmt::format("ESL connection {}: events between connections are lost; "
                                     "state is rebuilt from callcenter_config",
                                     conn));
      }
    } else if (is(ctype, "api/response")) {
      on_table(msg.body);
    } else if (is(ctype, "command/reply")) {
      // In a replay the time is not known before the first event: the snapshot waits for it.
      if (msg.get("Reply-Text").find("event listener enabled") != std::string_view::npos &&
          std::isfinite(clock)) {
        apply_snapshot();
      }
    } else if (is(ctype, "text/event-plain") || is(ctype, "text/event-json")) {
      on_event_body(ctype, msg.body, receipt);
    } else if (is(ctype, "text/disconnect-notice") || is(ctype, "text/rude-rejection")) {
      apply_snapshot();
    }
  }
};

EslTranslator::EslTranslator(EslTranslatorOptions opts, FeedSink sink)
    : impl_(std::make_unique<Impl>(std::move(opts), std::move(sink))) {}
EslTranslator::~EslTranslator() = default;
void EslTranslator::on_message(const EslMessage& msg, double receipt) {
  impl_->on_message(msg, receipt);
}
void EslTranslator::snapshot_done(double now) {
  impl_->live_now = now;
  if (std::isfinite(now)) impl_->clock = now;
  impl_->apply_snapshot();
}
void EslTranslator::on_disconnect(double now) {
  impl_->live_now = now;
  impl_->apply_snapshot();
  impl_->restart(std::isfinite(now) ? now + impl_->pbx_offset : now);  // on the feed's clock
}
void EslTranslator::finish() { impl_->apply_snapshot(); }
const EslTranslatorStats& EslTranslator::stats() const {
  impl_->stats.accepted = impl_->gate.accepted();
  impl_->stats.duplicates = impl_->gate.duplicates();
  return impl_->stats;
}

}  // namespace callwatch::daemon
