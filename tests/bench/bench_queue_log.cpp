// queue_log_replay: `callwatchd report --format queue_log` (read the file, replay_report) on a large
// generated queue_log, against reading the same file and splitting every line into its fields.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <unistd.h>

#include "bench.hpp"
#include "callwatch/metrics/engine.hpp"
#include "feeds/queue_log/queue_log_parser.hpp"
#include "report/report.hpp"

namespace callwatch::bench {

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text;
  in.seekg(0, std::ios::end);
  text.resize(static_cast<std::size_t>(in.tellg()));
  in.seekg(0);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  return text;
}

}  // namespace

std::vector<Figure> bench_queue_log(const BenchConfig& cfg, const Corpus& corpus) {
  const std::size_t max_lines = cfg.tiny ? 20000 : 1000000;
  const std::string text = make_queue_log(corpus.options, max_lines);
  std::size_t lines = 0;
  for (char c : text) lines += c == '\n';
  const auto path = (std::filesystem::temp_directory_path() /
                     fmt::format("callwatch-bench-{}.queue_log", static_cast<long>(::getpid())))
                        .string();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  volatile std::size_t sink = 0;
  std::uint64_t accepted = 0, rejected = 0;

  const auto subject = [&]() {
    const auto t0 = std::chrono::steady_clock::now();
    daemon::ReportRequest req;
    req.format = callwatch::config::FeedType::queue_log;
    req.inputs.push_back({path, read_file(path)});
    auto res = daemon::replay_report(req);
    const double s = seconds_since(t0);
    if (res) {
      accepted = res->events;
      rejected = res->rejected;
      sink = sink + res->queues.size();
    }
    return s;
  };
  const auto baseline = [&]() {
    const auto t0 = std::chrono::steady_clock::now();
    const std::string data = read_file(path);
    std::vector<std::string_view> fields;
    std::size_t n = 0;
    std::size_t pos = 0;
    while (pos < data.size()) {
      std::size_t eol = data.find('\n', pos);
      if (eol == std::string::npos) eol = data.size();
      std::string_view l(data.data() + pos, eol - pos);
      fields.clear();
      std::size_t f = 0;
      for (std::size_t bar; (bar = l.find('|', f)) != std::string_view::npos; f = bar + 1) {
        fields.push_back(l.substr(f, bar - f));
      }
      fields.push_back(l.substr(f));
      n += fields.size();
      pos = eol + 1;
    }
    const double s = seconds_since(t0);
    sink = sink + n;
    return s;
  };
  const Timing t = measure(cfg.tiny ? 2 : 3, subject, baseline);  // a full replay takes seconds
  std::filesystem::remove(path);
  // Where the time goes (note only): the line parser alone, then parser + engine without the
  // report's ordering and bookkeeping.
  const auto parse_only = [&](bool apply) {
    std::vector<double> times;
    for (int i = 0; i < 1; ++i) {
      daemon::QueueLogParser parser;
      const metrics::EngineSettings settings;
      metrics::Engine engine(settings);
      const auto t0 = std::chrono::steady_clock::now();
      std::size_t pos = 0, no = 0;
      while (pos < text.size()) {
        std::size_t eol = text.find('\n', pos);
        if (eol == std::string::npos) eol = text.size();
        const auto& res = parser.parse(std::string_view(text.data() + pos, eol - pos), ++no);
        if (apply) {
          for (const auto& e : res.events) engine.apply(e);
        }
        pos = eol + 1;
      }
      times.push_back(seconds_since(t0));
    }
    return median(times);
  };
  const double t_parse = parse_only(false);
  const double t_parse_apply = parse_only(true);
  if (rejected > 0 || accepted + 100 < lines) {
    fmt::print(stderr, "queue_log_replay: {} of {} lines accepted, {} rejected\n", accepted, lines, rejected);
  }
  const double n = static_cast<double>(lines);
  Figure f;
  f.name = "queue_log_replay";
  f.unit = "lines/s (higher is better)";
  f.value = n / t.subject;
  f.baseline = n / t.baseline;
  f.higher_is_better = true;
  f.goal = 0.5;
  f.note = fmt::format(
      "{} lines, {:.1f} MB, report --format queue_log vs read + split; QueueLogParser alone {:.3g} lines/s, "
      "+ engine {:.3g} lines/s",
      lines, static_cast<double>(text.size()) / 1e6, n / t_parse, n / t_parse_apply);
  return {f};
}

}  // namespace callwatch::bench
