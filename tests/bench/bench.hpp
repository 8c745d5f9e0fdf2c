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

#include "feeds/sim/simulator.hpp"

namespace callwatch::bench {

struct Figure {
  std::string name;
  double value = 0;
  std::string unit;       // says which way is better
  double baseline = 0;
  bool higher_is_better = true;
  double goal = 0;        // PERF.md bar on value / baseline (0: informative, no goal)
  std::string note;       // size and how measured, for the text output
  double ratio() const { return baseline > 0 ? value / baseline : 0; }
};

struct BenchConfig {
  bool tiny = false;
  int reps = 5;  // timed repetitions of each side (fastest taken)
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
std::string make_queue_log(const daemon::sim::SimOptions& opts, std::size_t max_lines);

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

}  // namespace callwatch::bench
