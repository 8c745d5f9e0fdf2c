// Discrete-event simulation of a contact center. One ordered agenda of actions (time, sequence);
// every action emits its native events at its own time, so the output is in time order by
// construction. Randomness comes from std::mt19937_64 (its output is fixed by the standard) through
// our own uniform/exponential draws: std distributions differ between library versions, and a
// seed must give the same stream everywhere.
#include "feeds/sim/simulator.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <limits>
#include <queue>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "callwatch/metrics/event.hpp"
#include "feeds/native/native_parser.hpp"

namespace callwatch::daemon::sim {

namespace {

using metrics::AgentState;
using metrics::EndedBy;
using metrics::Event;
using metrics::EventType;
using metrics::ExitReason;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kRingTimeout = 15.0;  // seconds an unanswered member rings (queues.conf timeout)

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : g_(seed) {}
  // 53 random bits -> [0, 1).
  double uniform() { return static_cast<double>(g_() >> 11) * 0x1.0p-53; }
  double uniform(double a, double b) { return a + (b - a) * uniform(); }
  // Inverse CDF; 1 - u is in (0, 1] so the log is finite.
  double exponential(double mean) { return -mean * std::log(1.0 - uniform()); }
  bool chance(double p) { return uniform() < p; }
  std::size_t index(std::size_t n) {
    return std::min(n - 1, static_cast<std::size_t>(uniform() * static_cast<double>(n)));
  }

 private:
  std::mt19937_64 g_;
};

enum class Act : std::uint8_t {
  arrival,
  ring_end,     // idx = call slot, token = visit; answered or not decided at offer time
  call_end,     // idx = call slot, token = visit
  leave,        // idx = call slot, token = visit: patience or queue timeout ran out
  wrap_end,     // idx = agent, token = agent generation
  pause_end,    // idx = agent, token = agent generation
  break_request,
};

struct Action {
  double t;
  std::uint64_t seq;
  std::uint64_t token;
  std::uint32_t idx;
  Act kind;
  bool operator>(const Action& o) const { return t != o.t ? t > o.t : seq > o.seq; }
};

enum class CallState : std::uint8_t { free, waiting, ringing, talking };
enum class LeaveKind : std::uint8_t { abandon, key, timeout };

struct Call {
  std::string id;
  std::string caller;
  CallState state = CallState::free;
  int queue = -1;
  int agent = -1;
  double entered = 0;
  std::uint64_t visit = 0;  // unique per queue visit: stale actions carry an old one
  LeaveKind leave_kind = LeaveKind::abandon;
  bool ring_answers = true;
  bool transferred = false;
  double hold = 0;
};

enum class BreakReason : std::uint8_t { lunch, training, short_break };
constexpr std::array<std::string_view, 3> kBreakNames = {"午饭", "培训", "Break"};
constexpr std::string_view kAutoPause = "Auto-Pause";

struct Agent {
  std::vector<int> queues;
  std::vector<std::string_view> queue_views;
  AgentState state = AgentState::logged_out;
  double idle_since = 0;
  std::uint64_t gen = 0;
  int call = -1;
  bool break_pending = false;
  bool on_break = false;
};

struct Queue {
  std::set<std::pair<double, int>> idle;  // available members, longest idle first
  std::deque<std::pair<int, std::uint64_t>> line;  // (call slot, visit) in arrival order, lazy
  int eligible = 0;  // members logged in and not paused
};

}  // namespace

struct Simulator::Impl {
  SimOptions o;
  double start;
  Rng arrival_rng;   // arrivals only: the arrival process does not depend on agent behaviour
  Rng behave_rng;
  std::vector<std::string> queue_names, queue_display, agent_names;
  std::vector<double> cum_weight;  // cumulative queue weights, last = 1
  std::vector<Queue> queues;
  std::vector<Agent> agents;
  std::vector<Call> calls;
  std::vector<int> free_calls;
  std::priority_queue<Action, std::vector<Action>, std::greater<>> agenda;
  std::uint64_t seq = 0;
  std::uint64_t visits = 0;
  std::uint64_t call_counter = 0;
  int active_calls = 0;
  int busy_agents = 0;  // ringing, on call or in wrap-up
  int breaks = 0;       // agents on a break or about to take one
  int break_cap = 1;
  double mean_break = 0;
  bool arrivals_done = false;
  bool finished = false;
  double now = 0;  // simulated seconds since start
  SimStats stats;
  const std::function<void(std::string_view)>* sink = nullptr;
  const std::function<void(const Event&)>* event_sink = nullptr;  // instead of sink: no JSON
  std::string buf;

  Impl(const SimOptions& opts, double start_time)
      : o(opts),
        start(start_time),
        arrival_rng(splitmix64(opts.seed)),
        behave_rng(splitmix64(opts.seed ^ 0x5851F42D4C957F2DULL)) {
    validate();
    queue_names = make_queue_names(o.queues);
    queue_display = make_queue_display_names(o.queues);
    agent_names = make_agent_names(o.agents);
    queues.resize(static_cast<std::size_t>(o.queues));
    build_weights();
    assign_skills();
    // Expected break length: the mix of reasons below (0.6 x 600 s + 0.25 x 2250 s + 0.15 x 1800 s).
    mean_break = 0.6 * 600 + 0.25 * 2250 + 0.15 * 1800;
    break_cap = std::max(1, static_cast<int>(std::ceil(o.agents * o.pause_fraction * 1.5)));
    // Agents log in at 0 (first thing run_until emits), then the first call comes.
    const double first = next_arrival(0);
    if (std::isfinite(first)) {
      schedule(first, Act::arrival, 0, 0);
    } else {
      arrivals_done = true;
    }
    if (o.pause_fraction > 0 && o.agents > 0) schedule(0, Act::break_request, 0, 0);
    // "The lines open": extra calls spread over the first seconds, outside the Poisson chain.
    for (int i = 0; i < o.opening_calls; ++i) {
      schedule(0.05 + o.opening_seconds * i / std::max(1, o.opening_calls), Act::arrival, 1, 0);
    }
  }

  void validate() const {
    auto bad = [](const char* what) { throw std::invalid_argument(what); };
    if (o.queues < 1) bad("queues must be at least 1");
    if (o.agents < 0) bad("agents must not be negative");
    if (!(o.rate >= 0) || !std::isfinite(o.rate)) bad("rate must be a finite number >= 0");
    if (!(o.surge_factor >= 0) || !std::isfinite(o.surge_factor)) bad("surge factor must be >= 0");
    if (!(o.duration >= 0)) bad("duration must be >= 0");
    if (!(o.mean_aht > 0) || !(o.mean_patience > 0) || !(o.mean_wrap >= 0) || !(o.max_wait > 0))
      bad("mean handle time, patience and max wait must be > 0");
    for (double p : {o.ring_noanswer_probability, o.key_exit_probability, o.transfer_probability,
                     o.pause_fraction})
      if (!(p >= 0 && p < 1)) bad("probabilities must be in [0, 1)");
  }

  void build_weights() {
    const auto shares = queue_shares(o.queues);
    double total = 0;
    cum_weight.resize(queues.size());
    for (std::size_t i = 0; i < queues.size(); ++i) cum_weight[i] = (total += shares[i]);
    cum_weight.back() = 1.0;
  }

  double weight(std::size_t q) const { return q == 0 ? cum_weight[0] : cum_weight[q] - cum_weight[q - 1]; }

  std::size_t pick_queue(Rng& rng) const {
    const double u = rng.uniform();
    auto it = std::upper_bound(cum_weight.begin(), cum_weight.end(), u);
    return std::min(static_cast<std::size_t>(it - cum_weight.begin()), cum_weight.size() - 1);
  }

  // Staff follows load: each agent's first queue goes where staff is shortest relative to the
  // queue's weight (every queue gets one first while there are enough agents); 1-3 queues each.
  void assign_skills() {
    Rng rng(splitmix64(o.seed ^ 0xA0761D6478BD642FULL));
    agents.resize(static_cast<std::size_t>(o.agents));
    std::vector<double> staffed(queues.size(), 0);
    for (std::size_t a = 0; a < agents.size(); ++a) {
      std::size_t primary = 0;
      if (a < queues.size()) {
        primary = a;
      } else {
        double best = -kInf;
        for (std::size_t q = 0; q < queues.size(); ++q) {
          const double deficit = weight(q) * static_cast<double>(a + 1) - staffed[q];
          if (deficit > best) best = deficit, primary = q;
        }
      }
      staffed[primary] += 1;
      auto& ag = agents[a];
      ag.queues.push_back(static_cast<int>(primary));
      const double u = rng.uniform();
      const int want = queues.size() == 1 ? 1 : (u < 0.5 ? 1 : (u < 0.85 ? 2 : 3));
      for (int tries = 0; static_cast<int>(ag.queues.size()) < std::min<int>(want, static_cast<int>(queues.size())) && tries < 20;
           ++tries) {
        const int q = static_cast<int>(pick_queue(rng));
        if (std::find(ag.queues.begin(), ag.queues.end(), q) == ag.queues.end()) ag.queues.push_back(q);
      }
      for (int q : ag.queues) ag.queue_views.emplace_back(queue_names[static_cast<std::size_t>(q)]);
    }
  }

  void schedule(double t, Act kind, std::uint32_t idx, std::uint64_t token) {
    agenda.push(Action{t, seq++, token, idx, kind});
  }

  // ---- emission -----------------------------------------------------------------------------

  void emit(const Event& e) {
    if (event_sink != nullptr) {
      ++stats.events;
      (*event_sink)(e);
      return;
    }
    buf.clear();
    append_native_json(e, buf);
    ++stats.events;
    (*sink)(buf);
  }

  Event base(EventType type) const {
    Event e;
    e.type = type;
    // Milliseconds, as PBXs log them (shorter messages); rounding keeps the stream's order.
    e.ts = std::round((start + now) * 1000.0) / 1000.0;
    return e;
  }

  void emit_agent_state(int a, AgentState s, std::string_view reason = {}, bool with_queues = false,
                        std::string_view call = {}) {
    Event e = base(EventType::agent_state);
    e.agent = agent_names[static_cast<std::size_t>(a)];
    e.call = call;  // a ring names the caller rung for, as AMI's AgentCalled does
    e.state = s;
    e.reason = reason;
    if (with_queues) e.queues = agents[static_cast<std::size_t>(a)].queue_views;
    emit(e);
  }

  // ---- agent state machine ------------------------------------------------------------------

  static bool is_busy(AgentState s) {
    return s == AgentState::ringing || s == AgentState::on_call || s == AgentState::wrap_up;
  }
  static bool is_eligible(AgentState s) {
    return s != AgentState::logged_out && s != AgentState::paused;
  }

  void set_state(int a, AgentState s, std::string_view reason = {}, bool with_queues = false,
                 std::string_view call = {}) {
    Agent& ag = agents[static_cast<std::size_t>(a)];
    const AgentState old = ag.state;
    if (old == AgentState::available) {
      for (int q : ag.queues) queues[static_cast<std::size_t>(q)].idle.erase({ag.idle_since, a});
    }
    if (is_eligible(old) != is_eligible(s)) {
      for (int q : ag.queues) queues[static_cast<std::size_t>(q)].eligible += is_eligible(s) ? 1 : -1;
    }
    busy_agents += (is_busy(s) ? 1 : 0) - (is_busy(old) ? 1 : 0);
    ag.state = s;
    ++ag.gen;
    if (s == AgentState::available) {
      ag.idle_since = now;
      for (int q : ag.queues) queues[static_cast<std::size_t>(q)].idle.insert({now, a});
    }
    emit_agent_state(a, s, reason, with_queues, call);
  }

  // Available again (after wrap-up, a pause, a cancelled ring): take a pending break first,
  // otherwise pick up the oldest waiting call of the agent's queues.
  void make_available(int a) {
    Agent& ag = agents[static_cast<std::size_t>(a)];
    if (ag.break_pending && !arrivals_done) {
      start_break(a);
      return;
    }
    if (ag.break_pending) {
      ag.break_pending = false;
      --breaks;
    }
    set_state(a, AgentState::available);
    route_agent(a);
  }

  void start_break(int a) {
    Agent& ag = agents[static_cast<std::size_t>(a)];
    ag.break_pending = false;
    ag.on_break = true;
    const double u = behave_rng.uniform();
    BreakReason r;
    double len;
    if (u < 0.6) {
      r = BreakReason::short_break, len = behave_rng.uniform(300, 900);
    } else if (u < 0.85) {
      r = BreakReason::lunch, len = behave_rng.uniform(1800, 2700);
    } else {
      r = BreakReason::training, len = behave_rng.uniform(1200, 2400);
    }
    ++stats.pauses;
    set_state(a, AgentState::paused, kBreakNames[static_cast<std::size_t>(r)]);
    schedule(now + len, Act::pause_end, static_cast<std::uint32_t>(a), ag.gen);
  }

  // ---- calls --------------------------------------------------------------------------------

  int new_call_slot() {
    if (!free_calls.empty()) {
      const int s = free_calls.back();
      free_calls.pop_back();
      return s;
    }
    calls.emplace_back();
    return static_cast<int>(calls.size() - 1);
  }

  void free_call(int slot) {
    Call& c = calls[static_cast<std::size_t>(slot)];
    c.state = CallState::free;
    c.agent = -1;
    ++c.visit;  // any action still in the agenda for this slot is now stale
    free_calls.push_back(slot);
    --active_calls;
  }

  std::string make_caller() {
    const double u = behave_rng.uniform();
    std::string s;
    if (u < 0.03) return s;  // withheld number
    int digits = 9;
    if (u < 0.6) {
      s = "+861";  // a Chinese mobile: +86 1[3-9]x xxxx xxxx
      s.push_back(static_cast<char>('3' + behave_rng.index(7)));
    } else if (u < 0.8) {
      s = "0";
    } else {
      s = "+34";
    }
    for (int i = 0; i < digits; ++i) s.push_back(static_cast<char>('0' + behave_rng.index(10)));
    return s;
  }

  // chain: a Poisson arrival schedules the next one; an opening call does not.
  void arrival(bool chain) {
    const int q = static_cast<int>(pick_queue(arrival_rng));
    if (chain) {
      const double next = next_arrival(now);
      if (std::isfinite(next)) {
        schedule(next, Act::arrival, 0, 0);
      } else {
        arrivals_done = true;
      }
    }
    ++stats.arrivals;
    const int slot = new_call_slot();
    ++active_calls;
    Call& c = calls[static_cast<std::size_t>(slot)];
    // Asterisk Uniqueid style: creation epoch, a dot, a counter ("1767600000.1" != ".10").
    c.id = fmt::format("{}.{}", static_cast<std::int64_t>(start + now), ++call_counter);
    c.caller = make_caller();
    c.transferred = false;
    enter_queue(slot, q);
  }

  void enter_queue(int slot, int q) {
    Call& c = calls[static_cast<std::size_t>(slot)];
    c.queue = q;
    c.state = CallState::waiting;
    c.agent = -1;
    c.entered = now;
    c.visit = ++visits;
    Event e = base(EventType::call_enqueued);
    e.call = c.id;
    e.queue = queue_names[static_cast<std::size_t>(q)];
    e.caller = c.caller;
    emit(e);
    Queue& qu = queues[static_cast<std::size_t>(q)];
    if (qu.eligible == 0) {
      // leavewhenempty: nobody logged in and unpaused can ever take it.
      leave(slot, true);
      return;
    }
    // The caller gives up after their patience, unless the queue timeout comes first.
    const double patience = behave_rng.exponential(o.mean_patience);
    double leave_at;
    if (patience >= o.max_wait) {
      c.leave_kind = LeaveKind::timeout;
      leave_at = o.max_wait;
    } else {
      c.leave_kind = behave_rng.chance(o.key_exit_probability) ? LeaveKind::key : LeaveKind::abandon;
      leave_at = patience;
    }
    schedule(now + leave_at, Act::leave, static_cast<std::uint32_t>(slot), c.visit);
    qu.line.emplace_back(slot, c.visit);
    route_call(slot);
  }

  bool in_line(const std::pair<int, std::uint64_t>& entry) const {
    const Call& c = calls[static_cast<std::size_t>(entry.first)];
    return c.visit == entry.second && (c.state == CallState::waiting || c.state == CallState::ringing);
  }

  void route_call(int slot) {
    Call& c = calls[static_cast<std::size_t>(slot)];
    Queue& qu = queues[static_cast<std::size_t>(c.queue)];
    if (qu.idle.empty()) return;
    offer(slot, qu.idle.begin()->second);
  }

  // The oldest call waiting (not ringing someone) across the agent's queues.
  void route_agent(int a) {
    int best = -1;
    for (int q : agents[static_cast<std::size_t>(a)].queues) {
      auto& line = queues[static_cast<std::size_t>(q)].line;
      while (!line.empty() && !in_line(line.front())) line.pop_front();
      for (auto it = line.begin(); it != line.end();) {
        if (!in_line(*it)) {
          it = line.erase(it);
          continue;
        }
        const Call& c = calls[static_cast<std::size_t>(it->first)];
        if (c.state == CallState::waiting) {
          if (best < 0 || c.entered < calls[static_cast<std::size_t>(best)].entered) best = it->first;
          break;
        }
        ++it;
      }
    }
    if (best >= 0) offer(best, a);
  }

  void offer(int slot, int a) {
    Call& c = calls[static_cast<std::size_t>(slot)];
    c.state = CallState::ringing;
    c.agent = a;
    set_state(a, AgentState::ringing, {}, false, c.id);
    c.ring_answers = !behave_rng.chance(o.ring_noanswer_probability);
    const double ring = c.ring_answers ? behave_rng.uniform(1.5, 6.0) : kRingTimeout;
    schedule(now + ring, Act::ring_end, static_cast<std::uint32_t>(slot), c.visit);
  }

  void ring_end(int slot) {
    Call& c = calls[static_cast<std::size_t>(slot)];
    const int a = c.agent;
    Event e = base(c.ring_answers ? EventType::call_answered : EventType::agent_ring_noanswer);
    e.call = c.id;
    e.queue = queue_names[static_cast<std::size_t>(c.queue)];
    e.agent = agent_names[static_cast<std::size_t>(a)];
    if (!c.ring_answers) {
      e.ring_ms = kRingTimeout * 1000.0;
      ++stats.ring_noanswer;
      emit(e);
      // autopause=yes: the member who let it ring out is paused for a short while, so the call
      // goes to the next longest-idle member instead of ringing the same desk again.
      c.state = CallState::waiting;
      c.agent = -1;
      set_state(a, AgentState::paused, kAutoPause);
      schedule(now + behave_rng.uniform(0.5, 1.5) * o.auto_pause_seconds, Act::pause_end,
               static_cast<std::uint32_t>(a), agents[static_cast<std::size_t>(a)].gen);
      route_call(slot);
      return;
    }
    ++stats.answered;
    emit(e);
    c.state = CallState::talking;
    agents[static_cast<std::size_t>(a)].call = slot;
    set_state(a, AgentState::on_call);
    const double talk = 5.0 + behave_rng.exponential(std::max(1.0, o.mean_aht - 5.0));
    c.hold = behave_rng.chance(0.2) ? std::floor(behave_rng.uniform(0.05, 0.3) * talk) : 0;
    schedule(now + talk, Act::call_end, static_cast<std::uint32_t>(slot), c.visit);
  }

  void call_end(int slot) {
    Call& c = calls[static_cast<std::size_t>(slot)];
    const int a = c.agent;
    const bool transfer = o.queues > 1 && !c.transferred && behave_rng.chance(o.transfer_probability);
    Event e = base(EventType::call_ended);
    e.call = c.id;
    e.agent = agent_names[static_cast<std::size_t>(a)];
    e.hold = c.hold > 0 ? c.hold : metrics::kNoValue;
    e.by = transfer || behave_rng.chance(0.4) ? EndedBy::agent : EndedBy::caller;
    emit(e);
    int to = -1;
    if (transfer) {
      // Another queue, never the same one (a transfer back to itself is a re-queue, not a transfer).
      to = static_cast<int>(behave_rng.index(static_cast<std::size_t>(o.queues - 1)));
      if (to >= c.queue) ++to;
      Event t = base(EventType::call_transferred);
      t.call = c.id;
      t.agent = e.agent;
      t.to_queue = queue_names[static_cast<std::size_t>(to)];
      ++stats.transfers;
      emit(t);
    }
    agents[static_cast<std::size_t>(a)].call = -1;
    set_state(a, AgentState::wrap_up);
    const double wrap = o.mean_wrap > 0 ? std::max(2.0, behave_rng.exponential(o.mean_wrap)) : 0.5;
    schedule(now + wrap, Act::wrap_end, static_cast<std::uint32_t>(a), agents[static_cast<std::size_t>(a)].gen);
    if (transfer) {
      c.transferred = true;
      enter_queue(slot, to);
    } else {
      free_call(slot);
    }
  }

  // The visit ends unanswered: queue empty, or the caller's own leave kind drawn at entry.
  void leave(int slot, bool empty) {
    Call& c = calls[static_cast<std::size_t>(slot)];
    Event e = base(EventType::call_exited);
    e.call = c.id;
    e.queue = queue_names[static_cast<std::size_t>(c.queue)];
    if (empty) {
      e.exit_reason = ExitReason::empty;
      ++stats.exited_empty;
    } else if (c.leave_kind == LeaveKind::abandon) {
      e.type = EventType::call_abandoned;
      ++stats.abandoned;
    } else if (c.leave_kind == LeaveKind::key) {
      e.exit_reason = ExitReason::key;
      ++stats.exited_key;
    } else {
      e.exit_reason = ExitReason::timeout;
      ++stats.timed_out;
    }
    emit(e);
    const int a = c.state == CallState::ringing ? c.agent : -1;
    free_call(slot);
    if (a >= 0) make_available(a);  // the ring stops when the caller leaves (RINGCANCELED)
  }

  void break_request() {
    if (arrivals_done) return;
    // Requests come as a Poisson stream sized so that, in the long run, pause_fraction of the
    // agents are on a break: rate = fraction x agents / mean break length.
    schedule(now + behave_rng.exponential(mean_break / (o.pause_fraction * o.agents)), Act::break_request, 0, 0);
    if (breaks >= break_cap) return;  // "a few at a time": the supervisor says no
    const int a = static_cast<int>(behave_rng.index(agents.size()));
    Agent& ag = agents[static_cast<std::size_t>(a)];
    if (ag.on_break || ag.break_pending || ag.state == AgentState::logged_out) return;
    ++breaks;
    ag.break_pending = true;
    if (ag.state == AgentState::available) start_break(a);
    // Busy or auto-paused: the break starts when the current call or pause is over.
  }

  void pause_end(int a) {
    Agent& ag = agents[static_cast<std::size_t>(a)];
    if (ag.on_break) {
      ag.on_break = false;
      --breaks;
    }
    make_available(a);
  }

  // Next arrival after t of a Poisson process whose rate is piecewise constant (surge window):
  // an Exp(1) amount of integrated rate is spent segment by segment, which is exact because the
  // process is memoryless at each rate change.
  double next_arrival(double t) {
    double budget = arrival_rng.exponential(1.0);
    const double surge_end = o.surge_at + o.surge_duration;
    for (int guard = 0; guard < 8; ++guard) {
      const bool in_surge = o.surge_at >= 0 && t >= o.surge_at && t < surge_end;
      const double r = o.rate * (in_surge ? o.surge_factor : 1.0);
      double boundary = kInf;
      if (o.surge_at >= 0 && t < o.surge_at) boundary = o.surge_at;
      else if (in_surge) boundary = surge_end;
      if (o.duration > 0) boundary = std::min(boundary, o.duration);
      if (r > 0 && t + budget / r <= boundary) return t + budget / r;
      if (!std::isfinite(boundary) || (o.duration > 0 && boundary >= o.duration)) return kInf;
      if (r > 0) budget -= r * (boundary - t);
      t = boundary;
    }
    return kInf;
  }

  void maybe_finish() {
    if (finished || !arrivals_done || active_calls > 0 || busy_agents > 0) return;
    if (o.duration <= 0) return;
    finished = true;
    if (!o.log_out_at_end) return;
    for (std::size_t a = 0; a < agents.size(); ++a) {
      if (agents[a].state != AgentState::logged_out) set_state(static_cast<int>(a), AgentState::logged_out);
    }
  }

  void process(const Action& act) {
    now = act.t;
    switch (act.kind) {
      case Act::arrival:
        arrival(act.idx == 0);
        break;
      case Act::ring_end:
      case Act::call_end:
      case Act::leave: {
        Call& c = calls[act.idx];
        if (c.visit != act.token) return;  // stale: the visit is over
        if (act.kind == Act::ring_end && c.state == CallState::ringing) ring_end(static_cast<int>(act.idx));
        if (act.kind == Act::call_end && c.state == CallState::talking) call_end(static_cast<int>(act.idx));
        if (act.kind == Act::leave && (c.state == CallState::waiting || c.state == CallState::ringing))
          leave(static_cast<int>(act.idx), false);
        break;
      }
      case Act::wrap_end:
      case Act::pause_end: {
        Agent& ag = agents[act.idx];
        if (ag.gen != act.token) return;
        if (act.kind == Act::wrap_end && ag.state == AgentState::wrap_up) make_available(static_cast<int>(act.idx));
        if (act.kind == Act::pause_end && ag.state == AgentState::paused) pause_end(static_cast<int>(act.idx));
        break;
      }
      case Act::break_request:
        break_request();
        break;
    }
    maybe_finish();
  }

  bool logged_in = false;

  bool run_until(double t, const std::function<void(std::string_view)>* s,
                 const std::function<void(const Event&)>* es) {
    sink = s;
    event_sink = es;
    if (!logged_in) {
      logged_in = true;
      now = 0;
      // Shift start: everybody logs in with their queues before the first call.
      for (std::size_t a = 0; a < agents.size(); ++a) set_state(static_cast<int>(a), AgentState::available, {}, true);
      maybe_finish();
    }
    const double until = t - start;
    while (!finished && !agenda.empty() && agenda.top().t <= until) {
      const Action act = agenda.top();
      agenda.pop();
      process(act);
    }
    sink = nullptr;
    event_sink = nullptr;
    return !finished;
  }
};

std::vector<double> Simulator::queue_shares(int n) {
  // Bigger queues first, with a long tail.
  std::vector<double> w(static_cast<std::size_t>(std::max(n, 0)));
  double total = 0;
  for (std::size_t i = 0; i < w.size(); ++i) total += (w[i] = 1.0 / (1.0 + 0.3 * static_cast<double>(i)));
  for (double& x : w) x /= total;
  return w;
}

Simulator::Simulator(const SimOptions& opts, double start_time)
    : impl_(std::make_unique<Impl>(opts, start_time)) {}
Simulator::~Simulator() = default;

bool Simulator::run_until(double t, const std::function<void(std::string_view)>& sink) {
  return impl_->run_until(t, &sink, nullptr);
}
bool Simulator::run_events_until(double t, const std::function<void(const Event&)>& sink) {
  return impl_->run_until(t, nullptr, &sink);
}

double Simulator::next_event_time() const {
  if (impl_->finished || impl_->agenda.empty()) return kInf;
  return impl_->start + impl_->agenda.top().t;
}

const std::vector<std::string>& Simulator::queue_names() const { return impl_->queue_names; }
const std::vector<std::string>& Simulator::queue_display_names() const { return impl_->queue_display; }
const std::vector<std::string>& Simulator::agent_names() const { return impl_->agent_names; }
const SimStats& Simulator::stats() const { return impl_->stats; }

}  // namespace callwatch::daemon::sim
