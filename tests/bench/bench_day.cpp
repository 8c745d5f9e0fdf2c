// A generated day of a large center through the engine in replay mode: how much memory the day's
// finished calls take (METRICS.md "Event time, order and repeats": every finished visit is
// remembered until its day closes) and how long the engine takes for the day's events.
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <malloc.h>
#include <unistd.h>

#include "bench.hpp"
#include "callwatch/metrics/engine.hpp"

namespace callwatch::bench {

namespace {

namespace m = callwatch::metrics;

double resident_mb() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  long size = 0, resident = 0;
  const int n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<double>(resident) * static_cast<double>(::sysconf(_SC_PAGESIZE)) / 1e6;
}

}  // namespace

std::vector<Figure> bench_day(const BenchConfig& cfg) {
  const int calls = cfg.tiny ? 20000 : 1000000;
  const int queues = cfg.tiny ? 100 : 500;
  const int agents = cfg.tiny ? 2000 : 10000;
  const double day = 1767571200;  // 2026-01-05 00:00 UTC
  std::vector<std::string> qnames, anames;
  for (int q = 0; q < queues; ++q) qnames.push_back(fmt::format("queue-{:03}", q));
  for (int a = 0; a < agents; ++a) anames.push_back(fmt::format("agent-{:05}", a));

  const m::EngineSettings settings;
  const double before = resident_mb();
  const struct mallinfo2 mi0 = mallinfo2();
  m::Engine engine(settings);
  for (int a = 0; a < agents; ++a) {
    m::Event e;
    e.type = m::EventType::agent_state;
    e.ts = day + 1;
    e.agent = anames[a];
    e.state = m::AgentState::available;
    std::string_view q[] = {qnames[a % queues]};
    e.queues = q;
    engine.apply(e);
  }
  const double after_agents = resident_mb();

  // Calls spread over 23 hours; each enqueued, then answered (talk 180 s) or abandoned.
  std::mt19937 rng(20260105);
  std::uniform_int_distribution<int> pick_q(0, queues - 1);
  std::uniform_real_distribution<double> wait(0, 60);
  const double step = 23 * 3600.0 / calls;
  std::string id;
  std::uint64_t events = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int c = 0; c < calls; ++c) {
    const double t = day + 60 + c * step;
    id = fmt::format("1767571200.{}", c);
    const int q = pick_q(rng);
    const double w = wait(rng);
    m::Event e;
    e.call = id;
    e.queue = qnames[q];
    e.type = m::EventType::call_enqueued;
    e.ts = t;
    engine.apply(e);
    e.ts = t + w;
    if (c % 10 == 0) {
      e.type = m::EventType::call_abandoned;
      engine.apply(e);
      events += 2;
      continue;
    }
    e.type = m::EventType::call_answered;
    e.agent = anames[(q + agents / queues * (c % (agents / queues))) % agents];
    engine.apply(e);
    e.type = m::EventType::call_ended;
    e.ts = t + w + 180;
    engine.apply(e);
    events += 3;
  }
  engine.advance_to(day + 23.5 * 3600);  // still the same day: every finished call is remembered
  const double secs = seconds_since(t0);
  const double after_day = resident_mb();
  const struct mallinfo2 mi = mallinfo2();
  const double in_use = (static_cast<double>(mi.uordblks + mi.hblkhd) -
                         static_cast<double>(mi0.uordblks + mi0.hblkhd)) / 1e6;

  Figure mem;
  mem.name = "day_1m_calls_memory";
  mem.value = after_day - after_agents;
  mem.unit = "MB resident for the day's calls";
  mem.baseline = 16.0 * calls / 1e6;  // one 16-byte record per finished call
  mem.higher_is_better = false;
  mem.note = fmt::format("{} calls over 23 h, {} queues, {} agents, replay mode; the agents took {:.1f} MB; "
                         "{} finished calls remembered in {:.1f} MB; {:.1f} MB allocated by the engine; baseline: 16 bytes per call",
                         calls, queues, agents, after_agents - before, engine.finished_calls(),
                         static_cast<double>(engine.finished_call_bytes()) / 1e6, in_use);
  Figure speed;
  speed.name = "day_replay_engine_seconds";
  speed.value = secs;
  speed.unit = "s for the day's events";
  speed.baseline = static_cast<double>(events) / std::max(secs, 1e-9);
  speed.higher_is_better = false;
  speed.note = fmt::format("{} events applied in {:.2f} s (baseline column: events per second)", events, secs);
  return {mem, speed};
}

}  // namespace callwatch::bench
