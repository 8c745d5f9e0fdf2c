// replay_day_seconds: `callwatchd report --format queue_log` (read the file, replay_report) on one
// generated day of a large center (500 queues, 10,000 agents, 1M calls; --day-calls or --tiny for
// less), against reading the same file and splitting every line into its fields. One run of each:
// a full day takes tens of seconds, and the two are interleaved so a drift of the machine shows.
#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <unistd.h>

#include "bench.hpp"
#include "report/report.hpp"

namespace callwatch::bench {

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text;
  in.seekg(0, std::ios::end);
  text.resize(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  return text;
}

double read_and_split(const std::string& path, std::size_t& fields_out) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string data = slurp(path);
  std::vector<std::string_view> fields;
  std::size_t n = 0, pos = 0;
  while (pos < data.size()) {
    std::size_t eol = data.find('\n', pos);
    if (eol == std::string::npos) eol = data.size();
    const std::string_view l(data.data() + pos, eol - pos);
    fields.clear();
    std::size_t f = 0;
    for (std::size_t bar; (bar = l.find('|', f)) != std::string_view::npos; f = bar + 1) fields.push_back(l.substr(f, bar - f));
    fields.push_back(l.substr(f));
    n += fields.size();
    pos = eol + 1;
  }
  fields_out = n;
  return seconds_since(t0);
}

}  // namespace

std::vector<Figure> bench_replay_day(const BenchConfig& cfg, const Corpus& corpus) {
  daemon::sim::SimOptions sim = corpus.options;  // the large center of the corpus
  sim.seed = 20260107;
  sim.surge_at = -1;
  const auto g0 = std::chrono::steady_clock::now();
  std::string text = make_queue_log(sim, static_cast<std::size_t>(-1), cfg.day_calls);
  const double gen_s = seconds_since(g0);
  std::size_t lines = 0, calls = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    ++lines;
    if (std::string_view(text.data() + pos, eol - pos).find("|ENTERQUEUE|") != std::string_view::npos) ++calls;
    pos = eol + 1;
  }
  const double mb = static_cast<double>(text.size()) / 1e6;
  const auto path = (std::filesystem::temp_directory_path() /
                     fmt::format("callwatch-bench-day-{}.queue_log", static_cast<long>(::getpid())))
                        .string();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  std::string().swap(text);  // the report holds its own copy; two would be 2x the day in memory

  std::size_t fields = 0;
  std::uint64_t accepted = 0, rejected = 0;
  const double base_s = read_and_split(path, fields);
  const auto t0 = std::chrono::steady_clock::now();
  {
    daemon::ReportRequest req;
    req.format = callwatch::config::FeedType::queue_log;
    req.inputs.push_back({path, slurp(path)});
    auto res = daemon::replay_report(req);
    if (res) {
      accepted = res->events;
      rejected = res->rejected;
    } else {
      fmt::print(stderr, "replay_day_seconds: the report failed\n");
    }
  }
  const double report_s = seconds_since(t0);
  const double base2_s = read_and_split(path, fields);
  std::filesystem::remove(path);

  Figure f;
  f.name = "replay_day_seconds";
  f.value = report_s;
  f.unit = "s for the day (lower is better)";
  f.baseline = std::min(base_s, base2_s);
  f.higher_is_better = false;
  f.goal = 2.0;
  f.note = fmt::format(
      "{} calls, {} queue_log lines, {:.0f} MB ({} queues / {} agents, generated in {:.1f} s); report --format "
      "queue_log {:.3g} lines/s, {} events, {} rejected; baseline read + split {:.2f} s / {:.2f} s",
      calls, lines, mb, sim.queues, sim.agents, gen_s, static_cast<double>(lines) / report_s, accepted, rejected,
      base_s, base2_s);
  return {f};
}

}  // namespace callwatch::bench
