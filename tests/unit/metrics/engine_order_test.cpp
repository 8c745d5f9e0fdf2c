// METRICS.md "Event time, order and repeats": the same events give the same figures whatever
// order they arrive in, within the lateness bound; repeats are duplicates however late.
#include <algorithm>
#include <cmath>
#include <random>
#include <set>
#include <sstream>

#include <catch2/catch.hpp>

#include "callwatch/metrics/kpi.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"
#include "test_events.hpp"

using namespace callwatch::metrics;
using namespace cwtest;
using Catch::Detail::Approx;

namespace {

constexpr double t0 = 1767600000;  // 2026-01-05 08:00:00 UTC, a 15-minute boundary

// An event that owns its strings, so a stream can be shuffled and applied again.
struct Ev {
  EventType type = EventType::call_enqueued;
  double ts = 0;
  std::string call, queue, agent, reason;
  std::vector<std::string> queues;
  AgentState state = AgentState::available;
  ExitReason exit = ExitReason::timeout;
  double hold = kNoValue;
};

ApplyResult apply(Engine& engine, const Ev& v) {
  Event e;
  e.type = v.type;
  e.ts = v.ts;
  e.call = v.call;
  e.queue = v.queue;
  e.agent = v.agent;
  e.reason = v.reason;
  e.state = v.state;
  e.exit_reason = v.exit;
  e.hold = v.hold;
  std::vector<std::string_view> qs(v.queues.begin(), v.queues.end());
  e.queues = qs;
  return engine.apply(e);
}

// A seeded half hour of three queues and eight agents: every outcome, ring-no-answers before
// answers, pauses with reasons (some during calls), hold, and exact repeats of some events.
std::vector<Ev> generate(unsigned seed) {
  std::mt19937 rng(seed);
  auto uni = [&](double a, double b) { return std::uniform_real_distribution<double>(a, b)(rng); };
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  const std::vector<std::string> queues = {"sales", "support", "技术支持"};
  std::vector<std::string> agents;
  for (int i = 0; i < 8; ++i) agents.push_back("agent" + std::to_string(i));
  std::vector<Ev> out;
  for (int i = 0; i < 8; ++i) {
    Ev e;
    e.type = EventType::agent_state;
    e.ts = t0 + i * 0.5;
    e.agent = agents[i];
    e.queues = {queues[i % 3], queues[(i + 1) % 3]};
    out.push_back(e);
  }
  const char* reasons[] = {"Lunch", "Training", "午饭"};
  for (int k = 0; k < 30; ++k) {
    Ev p;
    p.type = EventType::agent_state;
    // Whole seconds plus a per-pause hundredth: two state events of one agent never share a
    // time (in the same second their order is their arrival, which a shuffle changes).
    p.ts = std::round(uni(t0 + 10, t0 + 1700)) + 0.01 * (k + 1);
    p.agent = agents[pick(8)];
    p.state = AgentState::paused;
    p.reason = reasons[pick(3)];
    if (pick(2)) p.queues = {queues[pick(3)]};
    out.push_back(p);
    Ev u = p;
    u.ts = p.ts + std::round(uni(5, 120));
    u.state = AgentState::available;
    u.reason.clear();
    out.push_back(u);
  }
  double t = t0 + 5;
  for (int c = 0; c < 160; ++c) {
    t += uni(2, 14);
    const std::string call = "1767600000." + std::to_string(c);
    const std::string q = queues[pick(3)];
    Ev en;
    en.type = EventType::call_enqueued;
    en.ts = std::round(t * 10) / 10;
    en.call = call;
    en.queue = q;
    out.push_back(en);
    const double wait = std::round(uni(0, 50));
    const int kind = pick(10);
    Ev o = en;
    o.ts = en.ts + wait;
    if (kind < 6) {
      const int who = pick(8);
      const int rings = pick(3);
      for (int r = 0; r < rings; ++r) {
        Ev rn = en;
        rn.type = EventType::agent_ring_noanswer;
        rn.ts = en.ts + wait * (r + 1) / (rings + 1);
        rn.agent = agents[(who + r + 1) % 8];
        out.push_back(rn);
      }
      o.type = EventType::call_answered;
      o.agent = agents[who];
      out.push_back(o);
      Ev end;
      end.type = EventType::call_ended;
      end.call = call;
      end.agent = agents[who];
      end.ts = o.ts + std::round(uni(20, 240));
      if (pick(3) == 0) end.hold = std::round(uni(1, 15));
      out.push_back(end);
    } else if (kind < 8) {
      o.type = EventType::call_abandoned;
      o.ts = en.ts + (kind == 6 ? std::round(uni(0, 4)) : wait);
      out.push_back(o);
    } else {
      o.type = EventType::call_exited;
      o.exit = kind == 8 ? ExitReason::timeout : ExitReason::key;
      out.push_back(o);
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const Ev& a, const Ev& b) { return a.ts < b.ts; });
  // Exact repeats: one event in twelve is delivered twice (right away or much later).
  std::vector<Ev> noisy;
  for (const Ev& e : out) {
    noisy.push_back(e);
    if (pick(12) == 0) noisy.push_back(e);
  }
  return noisy;
}

// The same stream delivered with every event up to L - 0.5 s late: sorted by ts + jitter, so no
// event arrives more than L - 0.5 s after one newer than it.
std::vector<Ev> shuffle_within(std::vector<Ev> v, double bound, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> jitter(0, bound - 0.5);
  std::vector<std::pair<double, Ev>> keyed;
  for (auto& e : v) keyed.emplace_back(e.ts + jitter(rng), std::move(e));
  std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<Ev> out;
  for (auto& [k, e] : keyed) out.push_back(std::move(e));
  return out;
}

Snapshot replay(const std::vector<Ev>& stream, std::vector<ClosedInterval>* closed = nullptr) {
  Engine engine(EngineSettings{});
  double last = 0;
  for (const Ev& e : stream) {
    apply(engine, e);
    last = std::max(last, e.ts);
  }
  engine.finish(last);
  if (closed) {
    // By boundary and queue: queues are listed in the order they were first seen.
    *closed = engine.closed_intervals();
    std::stable_sort(closed->begin(), closed->end(), [](const ClosedInterval& a, const ClosedInterval& b) {
      return a.start != b.start ? a.start < b.start : a.queue < b.queue;
    });
  }
  return engine.snapshot();
}

// Every counter of two snapshots, named when they differ.
std::string differences(const Snapshot& a, const Snapshot& b) {
  std::ostringstream out;
  auto num = [&](const std::string& what, double x, double y) {
    if (std::isnan(x) && std::isnan(y)) return;
    if (!(std::abs(x - y) <= 1e-6 * std::max(1.0, std::abs(x)))) out << what << ": " << x << " vs " << y << "\n";
  };
  auto queue_counters = [&](const std::string& at, const QueueCounters& x, const QueueCounters& y) {
    for (const auto& f : kQueueIntFields) num(at + "." + std::string(f.name), double(x.*f.member), double(y.*f.member));
    for (const auto& f : kQueueRealFields) num(at + "." + std::string(f.name), x.*f.member, y.*f.member);
  };
  if (a.queues.size() != b.queues.size()) out << "queue count differs\n";
  for (std::size_t i = 0; i < std::min(a.queues.size(), b.queues.size()); ++i) {
    const auto& x = a.queues[i];
    const auto& y = b.queues[i];
    queue_counters(x.name + ".total", x.total, y.total);
    queue_counters(x.name + ".today", today(x), today(y));
    num(x.name + ".calls_waiting", x.calls_waiting, y.calls_waiting);
    for (int s = 0; s < kAgentStateCount; ++s) num(x.name + ".agents", x.agents[s], y.agents[s]);
    num(x.name + ".answer_wait.count", double(x.answer_wait.count), double(y.answer_wait.count));
    for (std::size_t k = 0; k < x.answer_wait.counts.size(); ++k)
      num(x.name + ".answer_wait.bucket", double(x.answer_wait.counts[k]), double(y.answer_wait.counts[k]));
    num(x.name + ".handle.sum", x.handle.sum, y.handle.sum);
  }
  if (a.agents.size() != b.agents.size()) out << "agent count differs\n";
  for (std::size_t i = 0; i < std::min(a.agents.size(), b.agents.size()); ++i) {
    const auto& x = a.agents[i];
    const auto& y = b.agents[i];
    for (const auto& f : kAgentIntFields) num(x.name + "." + std::string(f.name), double(x.today.*f.member), double(y.today.*f.member));
    for (const auto& f : kAgentRealFields) num(x.name + "." + std::string(f.name), x.today.*f.member, y.today.*f.member);
    for (int s = 0; s < kAgentStateCount; ++s)
      num(x.name + ".state_seconds." + std::string(to_string(AgentState(s))), x.today.state_seconds[s], y.today.state_seconds[s]);
    num(x.name + ".state", double(x.state), double(y.state));
    for (const auto& [reason, secs] : x.today.paused_by_reason) {
      auto it = y.today.paused_by_reason.find(reason);
      num(x.name + ".paused." + reason, secs, it == y.today.paused_by_reason.end() ? 0.0 : it->second);
    }
  }
  return out.str();
}

}  // namespace

TEST_CASE("a stream shuffled within the lateness bound gives the figures of the sorted stream",
          "[metrics][engine][order]") {
  for (unsigned seed = 1; seed <= 200; ++seed) {
    const std::vector<Ev> sorted = generate(seed);
    std::vector<ClosedInterval> closed_sorted, closed_shuffled;
    const Snapshot want = replay(sorted, &closed_sorted);
    REQUIRE(today(queue(want, "sales")).offered() > 20);  // the stream is not empty
    for (unsigned shuffle : {11u, 12u, 13u}) {
      const Snapshot got = replay(shuffle_within(sorted, 10, seed * 100 + shuffle), &closed_shuffled);
      INFO("seed " << seed << " shuffle " << shuffle);
      CHECK(differences(want, got) == "");
      // The closed intervals hold the same counts (late events land in their own interval).
      REQUIRE(closed_sorted.size() == closed_shuffled.size());
      for (std::size_t i = 0; i < closed_sorted.size(); ++i) {
        CHECK(closed_sorted[i].queue == closed_shuffled[i].queue);
        CHECK(closed_sorted[i].counters.offered() == closed_shuffled[i].counters.offered());
        CHECK(closed_sorted[i].counters.answered_within_sl == closed_shuffled[i].counters.answered_within_sl);
        CHECK(closed_sorted[i].counters.agent_paused_seconds == Approx(closed_shuffled[i].counters.agent_paused_seconds));
      }
    }
  }
}

TEST_CASE("with a PBX restart in the stream, a shuffle within the bound on each side of it gives the sorted figures",
          "[metrics][engine][order]") {
  // The restart is a barrier: nothing delivered after it is moved before it (a feed that
  // reconnects sends what it has from then on), so the shuffle keeps each event on its side.
  constexpr double restart_at = t0 + 900.3;
  for (unsigned seed = 1; seed <= 40; ++seed) {
    std::vector<Ev> sorted = generate(seed);
    Ev r;
    r.type = EventType::feed_restart;
    r.ts = restart_at;
    const auto at = std::upper_bound(sorted.begin(), sorted.end(), r.ts,
                                     [](double t, const Ev& e) { return t < e.ts; });
    sorted.insert(at, r);
    const Snapshot want = replay(sorted);
    REQUIRE(want.data_quality.restarts == 1);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> jitter(0, 9.5);
    std::vector<std::pair<double, Ev>> keyed;
    for (const Ev& e : sorted) {
      double k = e.ts + (e.type == EventType::feed_restart ? 0.0 : jitter(rng));
      if (e.ts < restart_at) k = std::min(k, restart_at - 1e-6);
      keyed.emplace_back(k, e);
    }
    std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<Ev> shuffled;
    for (auto& [k, e] : keyed) shuffled.push_back(e);
    INFO("seed " << seed);
    CHECK(differences(want, replay(shuffled)) == "");
  }
}

TEST_CASE("an answer that arrives before its enqueue completes the same visit",
          "[metrics][engine][order]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.state(t0, "A", AgentState::available, {"q"});
  f.enqueue(t0 + 1, "other", "q");
  CHECK(f.answer(t0 + 30, "c1", "q", "A") == ApplyResult::applied);
  CHECK(f.enqueue(t0 + 22, "c1", "q") == ApplyResult::applied);  // 8 s late
  engine.advance_to(t0 + 40);
  const auto s = engine.snapshot();
  const auto& c = today(queue(s, "q"));
  CHECK(c.answered == 1);
  CHECK(c.answered_with_wait == 1);       // the enqueue supplied the entry: wait 8
  CHECK(c.answer_wait_sum == Approx(8));
  CHECK(c.answered_within_sl == 1);
  CHECK(c.no_wait_outcomes == 0);
  CHECK(queue(s, "q").calls_waiting == 1);  // only "other": c1 is not waiting a second time
  CHECK(queue(s, "q").longest_wait == Approx(39));
  CHECK(s.data_quality.warning_counts.count("unknown_wait") == 1);
  CHECK(s.data_quality.warning_counts.at("unknown_wait") == 0);  // taken back by the replay
}

TEST_CASE("a call_ended before its answer waits for the answer's talk time; the agent is free after",
          "[metrics][engine][order]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.state(t0, "A", AgentState::available, {"q"});
  f.enqueue(t0 + 10, "c1", "q");
  f.end(t0 + 100, "c1", "A");                     // arrives first
  f.answer(t0 + 20, "c1", "q", "A");              // within L of nothing newer than t0 + 100? 80 s:
  engine.advance_to(t0 + 200);                    // beyond L: counts, but the agent's state is final
  auto s = engine.snapshot();
  CHECK(today(queue(s, "q")).answered == 1);
  CHECK(s.data_quality.late_events == 1);

  // Within the bound: the same call with the end 6 s before the answer in arrival.
  Engine e2(EngineSettings{});
  Feed g(e2);
  g.state(t0, "A", AgentState::available, {"q"});
  g.enqueue(t0 + 10, "c1", "q");
  g.answer(t0 + 20, "c1", "q", "B");  // another agent's call, to move time on
  g.enqueue(t0 + 30, "c2", "q");
  g.end(t0 + 96, "c2", "A");
  g.answer(t0 + 90, "c2", "q", "A");  // 6 s late
  e2.advance_to(t0 + 120);
  s = e2.snapshot();
  const auto& c = today(queue(s, "q"));
  CHECK(c.handled == 1);
  CHECK(c.talk_sum == Approx(6));              // 96 - 90
  CHECK(agent(s, "A").state == AgentState::available);  // not "on call" for good
  CHECK(agent(s, "A").today.handled == 1);
  CHECK(agent(s, "A").today.state_seconds[int(AgentState::on_call)] == Approx(6));
  CHECK(s.data_quality.late_events == 0);
}

TEST_CASE("repeats are duplicates however late; ring-no-answers count once",
          "[metrics][engine][order]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.enqueue(t0, "c1", "q");
  f.ring_noanswer(t0 + 5, "c1", "q", "A");
  CHECK(f.ring_noanswer(t0 + 5, "c1", "q", "A") == ApplyResult::ignored_duplicate);
  f.abandon(t0 + 20, "c1", "q");
  for (int k = 1; k <= 40; ++k) f.enqueue(t0 + 20 + 10 * k, "x" + std::to_string(k), "q");
  engine.advance_to(t0 + 600);  // the finished call is kept as a small record now
  CHECK(f.abandon(t0 + 355, "c1", "q") == ApplyResult::ignored_duplicate);  // 335 s later
  CHECK(f.ring_noanswer(t0 + 5, "c1", "q", "A") == ApplyResult::ignored_duplicate);
  CHECK(f.enqueue(t0, "c1", "q") == ApplyResult::ignored_duplicate);
  const auto s = engine.snapshot();
  const auto& c = today(queue(s, "q"));
  CHECK(c.abandoned == 1);
  CHECK(c.offered() == 1);
  CHECK(c.ring_noanswer == 1);
  CHECK(agent(s, "A").today.ring_noanswer == 1);
  CHECK(queue(s, "q").calls_waiting == 40);
}

TEST_CASE("live: a call stamped before an interval boundary and delivered after it counts in its interval",
          "[metrics][engine][order]") {
  ManualClock clock(t0 + 14 * 60 + 50);
  Engine engine(EngineSettings{}, &clock);
  Feed f(engine);
  f.enqueue(t0 + 14 * 60 + 50, "c1", "q");   // 08:14:50
  clock.set(t0 + 15 * 60 + 3);               // 08:15:03: the 08:00 interval is closed
  engine.advance_to(clock.now());
  f.answer(t0 + 15 * 60 - 5, "c1", "q", "A");  // stamped 08:14:55, 8 s late
  const auto s = engine.snapshot();
  const auto& q = queue(s, "q");
  CHECK(q.windows[int(WindowKind::interval)].counters.answered == 0);  // not in 08:15
  CHECK(today(q).answered == 1);
  const auto& closed = engine.closed_intervals();
  REQUIRE(closed.size() == 1);
  CHECK(closed[0].start == Approx(t0));
  CHECK(closed[0].counters.answered == 1);
  CHECK(closed[0].counters.answer_wait_sum == Approx(5));
  CHECK(closed[0].revision > 0);  // corrected after it closed: the store writes it again
  REQUIRE(q.previous_interval.has_value());
  CHECK(q.previous_interval->counters.answered == 1);
  CHECK(s.data_quality.late_events == 0);
}

TEST_CASE("a pause later than the bound counts nothing into states; one within it is put in place",
          "[metrics][engine][order]") {
  Engine engine(EngineSettings{});
  Feed f(engine);
  f.state(t0, "A", AgentState::available, {"q"});
  f.enqueue(t0 + 100, "c1", "q");
  f.answer(t0 + 102, "c1", "q", "A");
  // "No more calls after this one": the PAUSE stamped before the CONNECT arrives after it.
  f.state(t0 + 101, "A", AgentState::paused, {}, "Lunch");
  f.end(t0 + 160, "c1", "A");
  engine.advance_to(t0 + 200);
  auto s = engine.snapshot();
  const auto& a = agent(s, "A");
  CHECK(a.state == AgentState::paused);
  CHECK(a.pause_reason == "Lunch");
  CHECK(a.today.state_seconds[int(AgentState::paused)] == Approx(1 + 40));  // 101-102, 160-200
  CHECK(a.today.state_seconds[int(AgentState::on_call)] == Approx(58));
  CHECK(a.today.paused_by_reason.at("Lunch") == Approx(41));

  // Beyond the bound: the state stays as it was; the event is counted as late.
  f.state(t0 + 140, "A", AgentState::available);  // 20 s older than the newest event
  s = engine.snapshot();
  CHECK(agent(s, "A").state == AgentState::paused);
  CHECK(s.data_quality.late_events == 1);
}

TEST_CASE("a PBX restart ends its agents' pauses and calls; other feeds keep theirs",
          "[metrics][engine][order]") {
  Engine engine(EngineSettings{});
  auto state = [&](double ts, const char* agent, AgentState st, const char* feed, const char* reason = "") {
    Event e;
    e.type = EventType::agent_state;
    e.ts = ts;
    e.agent = agent;
    e.state = st;
    e.reason = reason;
    e.feed = feed;
    engine.apply(e);
  };
  state(t0, "A", AgentState::available, "pbx1");
  state(t0, "B", AgentState::available, "pbx2");
  state(t0 + 10, "A", AgentState::paused, "pbx1", "Break");
  state(t0 + 10, "B", AgentState::paused, "pbx2", "Break");
  Event r;
  r.type = EventType::feed_restart;
  r.ts = t0 + 40;
  r.feed = "pbx1";
  engine.apply(r);
  engine.advance_to(t0 + 100);
  const auto s = engine.snapshot();
  CHECK(agent(s, "A").state == AgentState::available);  // reloaded unpaused
  CHECK(agent(s, "A").today.paused_seconds() == Approx(30));
  CHECK(agent(s, "B").state == AgentState::paused);
  CHECK(agent(s, "B").today.paused_seconds() == Approx(90));
  CHECK(s.data_quality.restarts == 1);
}




TEST_CASE("a snapshot after every event reuses only views that nothing changed: each says "
          "what a view built from scratch says",
          "[metrics][engine][order][views]") {
  // No refresh allowed (replay settings): a view is kept only while its queue or agent is
  // untouched and the clock has not moved (the shuffled stream's late events do not move it), so
  // every kept view must be exactly what an engine fed the same events and building every view
  // again at every snapshot shows. A change the engine forgot to mark (a count, a span, a
  // waiting caller, a ring, a member's state) shows here.
  EngineSettings fresh;
  fresh.view_refresh_seconds = -1;
  for (unsigned seed = 1; seed <= 25; ++seed) {
    const std::vector<Ev> stream = shuffle_within(generate(seed), 10, seed * 100 + 7);
    Engine step(EngineSettings{});
    Engine once(fresh);
    std::size_t kept_queues = 0, kept_agents = 0, events = 0;
    Snapshot last;
    for (const Ev& e : stream) {
      apply(step, e);
      apply(once, e);
      ++events;
      Snapshot got = step.snapshot();
      const Snapshot want = once.snapshot();
      for (std::size_t i = 0; i < got.queues.size() && i < last.queues.size(); ++i)
        kept_queues += got.queues.address(i) == last.queues.address(i);
      for (std::size_t i = 0; i < got.agents.size() && i < last.agents.size(); ++i)
        kept_agents += got.agents.address(i) == last.agents.address(i);
      INFO("seed " << seed << " after event " << events << " at " << std::fixed << e.ts);
      REQUIRE(differences(want, got) == "");
      // Everything the boards see, the clock-grown sums to a millionth of a second (they may be
      // summed over the members in another order).
      const auto d = wire::diff(want, got, wire::DiffOptions{1e-6});
      REQUIRE(d.queues.empty());
      REQUIRE(d.agents.empty());
      last = std::move(got);
    }
    // Views were kept along the way (late events, repeats at the same instant).
    CHECK(kept_queues > 0);
    CHECK(kept_agents > 0);
  }
}
