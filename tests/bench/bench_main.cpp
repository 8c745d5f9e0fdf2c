// callwatch-bench [--json] [--tiny]: the PERF.md figures, each with its same-run baseline.
// A program, not a test: CI runs it with --tiny only to prove every figure still runs.
#include <set>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "bench.hpp"
#include "feeds/native/native_parser.hpp"

namespace {

using callwatch::bench::Figure;

void print_json(const Figure& f) {
  std::string unit;
  callwatch::daemon::append_json_string(f.unit, unit);
  std::string name;
  callwatch::daemon::append_json_string(f.name, name);
  fmt::print("{{\"name\":{},\"value\":{:.6g},\"unit\":{},\"baseline\":{:.6g},\"ratio\":{:.4f}}}\n", name, f.value,
             unit, f.baseline, f.ratio());
  std::fflush(stdout);
}

void print_text(const Figure& f) {
  std::string verdict = "informative";
  if (f.goal > 0) {
    const double measured = f.goal_absolute ? f.value : f.ratio();
    const bool ok = f.higher_is_better ? measured >= f.goal : measured <= f.goal;
    verdict = fmt::format("goal {}{} {:.4g}: {}", f.goal_absolute ? "value " : "", f.higher_is_better ? ">=" : "<=",
                          f.goal, ok ? "met" : "MISSED");
  }
  fmt::print("{:<30} {:>14.6g} {:<28} baseline {:>12.6g}  ratio {:>7.3f}  ({})\n{:<30} {}\n", f.name, f.value, f.unit,
             f.baseline, f.ratio(), verdict, "", f.note);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace callwatch::bench;
  BenchConfig cfg;
  bool json = false;
  std::string only;
  CLI::App app{"callwatch-bench: PERF.md figures, each next to a baseline measured in the same run"};
  app.add_flag("--json", json, "one JSON line per figure: {name, value, unit, baseline, ratio}");
  app.add_flag("--tiny", cfg.tiny, "small sizes, a few seconds in all (CI: proves the figures run)");
  app.add_option("--reps", cfg.reps, "timed repetitions of each side (fastest taken)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  app.add_option("--only", only,
                 "comma-separated groups: ingest,zmq,queue_log,exposition,scrape,feeds,wallboard,day,replay_day,live");
  cfg.daemon_bin = std::string(CALLWATCH_BIN_DIR) + "/callwatchd";
  cfg.wallboard_bin = std::string(CALLWATCH_BIN_DIR) + "/callwatch-wallboard";
  app.add_option("--daemon", cfg.daemon_bin, "callwatchd binary (live figures)")->capture_default_str();
  app.add_option("--wallboard", cfg.wallboard_bin, "callwatch-wallboard binary (kiosk_idle_cpu)")
      ->capture_default_str();
  app.add_option("--day-calls", cfg.day_calls, "calls in the generated day of replay_day_seconds (default 1M; "
                 "--tiny 20000)")
      ->check(CLI::Range(100, 100000000));
  app.add_option("--kiosk-seconds", cfg.kiosk_seconds, "kiosk_idle_cpu sampling span (default 60; --tiny 5)")
      ->check(CLI::Range(1.0, 3600.0));
  app.add_option("--burst-seconds", cfg.burst_seconds, "live_burst_latency: seconds at 5,000 events/s "
                 "(default 30; --tiny 5)")
      ->check(CLI::Range(1.0, 3600.0));
  CLI11_PARSE(app, argc, argv);
  if (cfg.tiny && app.count("--reps") == 0) cfg.reps = 3;
  if (cfg.tiny && app.count("--day-calls") == 0) cfg.day_calls = 20000;
  if (cfg.tiny && app.count("--kiosk-seconds") == 0) cfg.kiosk_seconds = 5;
  if (cfg.tiny && app.count("--burst-seconds") == 0) cfg.burst_seconds = 5;

  std::set<std::string> groups;
  {
    std::stringstream ss(only);
    for (std::string g; std::getline(ss, g, ',');) groups.insert(g);
  }
  const auto wanted = [&](const char* g) { return groups.empty() || groups.contains(g); };

  // The large center of PERF.md: 500 queues, 10,000 agents, calls at ~80 % of what they can take
  // (10,000 agents / ~200 s per call = 50 calls/s at full load; 40 calls/s here).
  callwatch::daemon::sim::SimOptions sim;
  sim.queues = cfg.tiny ? 100 : 500;
  sim.agents = cfg.tiny ? 2000 : 10000;
  sim.rate = cfg.tiny ? 8 : 40;
  sim.seed = 20260105;
  sim.surge_factor = 2;
  sim.surge_at = 600;
  sim.surge_duration = 300;
  const std::size_t messages = cfg.tiny ? 25000 : 500000;
  Corpus corpus;
  const auto t0 = std::chrono::steady_clock::now();
  make_corpus(sim, messages, corpus);
  if (!json) {
    fmt::print("corpus: {} native messages ({:.1f} MB) from the simulator, {} queues, {} agents, in {:.2f} s{}\n",
               corpus.messages.size(), static_cast<double>(corpus.bytes) / 1e6, sim.queues, sim.agents,
               seconds_since(t0), cfg.tiny ? " (tiny)" : "");
  }

  const auto emit = [&](const std::vector<Figure>& figs) {
    for (const auto& f : figs) json ? print_json(f) : print_text(f);
  };
  if (wanted("ingest")) emit(bench_ingest(cfg, corpus));
  if (wanted("zmq")) emit(bench_zmq(cfg, corpus));
  if (wanted("queue_log")) emit(bench_queue_log(cfg, corpus));
  if (wanted("exposition")) emit(bench_exposition(cfg, corpus));
  if (wanted("scrape")) emit(bench_scrape(cfg, corpus));
  if (wanted("wallboard")) emit(bench_wallboard(cfg, corpus));
  if (wanted("feeds")) emit(bench_feeds(cfg, corpus));
  if (wanted("day")) emit(bench_day(cfg));
  if (wanted("replay_day")) emit(bench_replay_day(cfg, corpus));
  if (wanted("live")) emit(bench_live(cfg));
  return 0;
}
