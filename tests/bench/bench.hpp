// callwatch-bench: every PERF.md figure next to a baseline measured in the same run on the same
// data, because on shared 2-core machines only the ratio of the two is stable.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "callwatch/metrics/snapshot.hpp"
#include "feeds/sim/simulator.hpp"
#include "runtime/feed_health.hpp"

namespace callwatch::bench {

struct Figure {
  std::string name;
  double value = 0;
  std::string unit;       // says which way is better
  double baseline = 0;
  bool higher_is_better = true;
  double goal = 0;        // PERF.md bar on value / baseline (0: informative, no goal)
  bool goal_absolute = false;  // the bar is on `value` itself (PERF.md "absolute" goals)
  std::string note;       // size and how measured, for the text output
  double ratio() const { return baseline > 0 ? value / baseline : 0; }
};

struct BenchConfig {
  bool tiny = false;
  int reps = 5;  // timed repetitions of each side (fastest taken)
  // Real processes (bench_live.cpp): the daemon and the wallboard binaries.
  std::string daemon_bin;
  std::string wallboard_bin;
  // replay_day_seconds: calls in the generated day (PERF.md: 1M; --tiny: 20,000).
  std::size_t day_calls = 1000000;
  double kiosk_seconds = 60;  // kiosk_idle_cpu sampling span
  double burst_seconds = 30;  // live_burst_latency: seconds of 5,000 events/s
};

// Native JSON messages from the simulator, back to back in one buffer (each followed by '\n') with
// simdjson's padding at the end: the bare baseline parses them in place, without a copy.
struct Corpus {
  std::string buffer;
  std::vector<std::string_view> messages;
  std::size_t bytes = 0;  // sum of message sizes
  int queues = 0;
  int agents = 0;
  daemon::sim::SimOptions options;  // what made it
};
void make_corpus(const daemon::sim::SimOptions& opts, std::size_t max_messages, Corpus& out);

// The same simulated traffic written as an Asterisk queue_log (FEED-SPEC 2): ENTERQUEUE, CONNECT,
// COMPLETE*, ABANDON, EXIT*, RINGNOANSWER, ADDMEMBER/REMOVEMEMBER, PAUSE/UNPAUSE per queue.
// Generated on the fly from its own simulation (a day of a large center does not fit in memory as
// messages).
// Stops at `max_lines` lines or `max_calls` ENTERQUEUE lines (new calls), whichever comes first.
std::string make_queue_log(const daemon::sim::SimOptions& opts, std::size_t max_lines,
                           std::size_t max_calls = static_cast<std::size_t>(-1));

double seconds_since(std::chrono::steady_clock::time_point t0);
double median(std::vector<double> v);

// Runs each side once to warm up, then `reps` times each, alternating which goes first, and
// returns the fastest seconds of each side. Each callable returns the seconds it measured itself
// (so set-up such as building an engine stays out of the time).
struct Timing {
  double subject = 0;
  double baseline = 0;
};
Timing measure(int reps, const std::function<double()>& subject, const std::function<double()>& baseline);

std::vector<Figure> bench_ingest(const BenchConfig& cfg, const Corpus& corpus);
std::vector<Figure> bench_zmq(const BenchConfig& cfg, const Corpus& corpus);
std::vector<Figure> bench_queue_log(const BenchConfig& cfg, const Corpus& corpus);
std::vector<Figure> bench_exposition(const BenchConfig& cfg, const Corpus& corpus);
std::vector<Figure> bench_wallboard(const BenchConfig& cfg, const Corpus& corpus);
std::vector<Figure> bench_feeds(const BenchConfig& cfg, const Corpus& corpus);  // feeds_bench.cpp
std::vector<Figure> bench_day(const BenchConfig& cfg);  // bench_day.cpp: a day of 1M calls
std::vector<Figure> bench_scrape(const BenchConfig& cfg, const Corpus& corpus);  // bench_scrape.cpp
std::vector<Figure> bench_replay_day(const BenchConfig& cfg, const Corpus& corpus);  // bench_replay_day.cpp
// bench_live.cpp: a real callwatchd (store on) at the large size: rss_10k_agents,
// live_burst_latency_p50/_p99, kiosk_idle_cpu.
std::vector<Figure> bench_live(const BenchConfig& cfg);

// A snapshot of the corpus's engine whose /metrics body has about `target` series (queues cut or
// repeated), with one feed's health: what exposition_* and scrape_100k render.
struct SeriesSnapshot {
  metrics::Snapshot snap;
  std::vector<daemon::FeedHealth> feeds;
  std::size_t series = 0;
  std::size_t bytes = 0;  // of the text body
};
SeriesSnapshot series_snapshot(const Corpus& corpus, std::size_t target);

// Seconds of each of `n` round trips PUSH -> PULL, forwarded as is -> XPUB -> SUB of `bytes`
// bytes over tcp loopback: the raw ZeroMQ baseline of the latency figures (wallboard_bench.cpp).
std::vector<double> raw_zmq_latencies(int n, std::size_t bytes);
double percentile(std::vector<double> v, double p);
// Resident memory of a process (/proc/PID/status VmRSS), MB; 0 when unknown.
double process_rss_mb(long pid);

}  // namespace callwatch::bench
