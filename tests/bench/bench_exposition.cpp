// exposition_10k / _100k: render_metrics (the daemon's /metrics body) from a Snapshot with about
// 10k / 100k series, against a minimal hand-written renderer writing the same series and values
// into a reused buffer. exposition_prometheus_cpp_10k: prometheus-cpp's Registry::Collect +
// TextSerializer on the same 10k series (all registered as gauges), informative.
#include <charconv>
#include <cmath>
#include <map>
#include <memory>
#include <string>

#include <fmt/format.h>
#include <prometheus/gauge.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "bench.hpp"
#include "callwatch/metrics/engine.hpp"
#include "serve/exporter.hpp"
#include "feeds/native/native_parser.hpp"

namespace callwatch::bench {

namespace m = callwatch::metrics;

namespace {

struct Series {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;  // values unescaped
  double value = 0;
};
struct Family {
  std::string header;  // "# HELP ...\n# TYPE ...\n"
  std::vector<Series> series;
};

std::size_t count_series(std::string_view body) {
  std::size_t n = 0;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t eol = body.find('\n', pos);
    if (eol == std::string_view::npos) eol = body.size();
    if (eol > pos && body[pos] != '#') ++n;
    pos = eol + 1;
  }
  return n;
}

// Reads back a text-format body (the exporter's own output) into families of series.
std::vector<Family> parse_body(std::string_view body) {
  std::vector<Family> fams;
  std::size_t pos = 0;
  bool header_open = false;
  while (pos < body.size()) {
    std::size_t eol = body.find('\n', pos);
    if (eol == std::string_view::npos) eol = body.size();
    std::string_view l = body.substr(pos, eol - pos);
    pos = eol + 1;
    if (l.empty()) continue;
    if (l[0] == '#') {
      if (!header_open) fams.emplace_back();
      header_open = true;
      fams.back().header.append(l).push_back('\n');
      continue;
    }
    header_open = false;
    if (fams.empty()) fams.emplace_back();
    Series s;
    std::size_t i = 0;
    while (i < l.size() && l[i] != '{' && l[i] != ' ') ++i;
    s.name = std::string(l.substr(0, i));
    if (i < l.size() && l[i] == '{') {
      ++i;
      while (i < l.size() && l[i] != '}') {
        const std::size_t eq = l.find('=', i);
        std::string key(l.substr(i, eq - i));
        std::string val;
        std::size_t j = eq + 2;  // past ="
        for (; j < l.size() && l[j] != '"'; ++j) {
          if (l[j] == '\\' && j + 1 < l.size()) {
            ++j;
            val.push_back(l[j] == 'n' ? '\n' : l[j]);
          } else {
            val.push_back(l[j]);
          }
        }
        s.labels.emplace_back(std::move(key), std::move(val));
        i = j + 1;
        if (i < l.size() && l[i] == ',') ++i;
      }
      ++i;  // '}'
    }
    const std::string_view v = l.substr(std::min(l.size(), i + 1));
    if (v == "NaN") s.value = std::nan("");
    else if (v == "+Inf") s.value = INFINITY;
    else if (v == "-Inf") s.value = -INFINITY;
    else s.value = std::strtod(std::string(v).c_str(), nullptr);
    fams.back().series.push_back(std::move(s));
  }
  return fams;
}

// The baseline: what a hand-written exporter at least does per series.
void render_baseline(const std::vector<Family>& fams, std::string& out) {
  out.clear();
  char num[32];
  for (const auto& f : fams) {
    out += f.header;
    for (const auto& s : f.series) {
      out += s.name;
      if (!s.labels.empty()) {
        out.push_back('{');
        for (std::size_t i = 0; i < s.labels.size(); ++i) {
          if (i > 0) out.push_back(',');
          out += s.labels[i].first;
          out += "=\"";
          for (char c : s.labels[i].second) {
            if (c == '\\' || c == '"') {
              out.push_back('\\');
              out.push_back(c);
            } else if (c == '\n') {
              out += "\\n";
            } else {
              out.push_back(c);
            }
          }
          out.push_back('"');
        }
        out.push_back('}');
      }
      out.push_back(' ');
      if (std::isnan(s.value)) {
        out += "NaN";
      } else if (std::isinf(s.value)) {
        out += s.value > 0 ? "+Inf" : "-Inf";
      } else {
        auto r = std::to_chars(num, num + sizeof num, s.value);
        out.append(num, r.ptr);
      }
      out.push_back('\n');
    }
  }
}

// A snapshot with about `target` series: the simulated floor's queues, cut or repeated (copies
// renamed "<name>~k") until the body has the size asked for.
m::Snapshot sized_snapshot(const m::Snapshot& base, std::size_t fixed, double per_queue, std::size_t target) {
  m::Snapshot s = base;
  const auto want = static_cast<std::size_t>(std::max(1.0, std::round((static_cast<double>(target) -
                                                                        static_cast<double>(fixed)) / per_queue)));
  s.queues.clear();
  for (std::size_t i = 0; i < want; ++i) {
    m::QueueView q = base.queues[i % base.queues.size()];
    if (i >= base.queues.size()) q.name += fmt::format("~{}", i / base.queues.size());
    s.queues.push_back(std::move(q));
  }
  return s;
}

struct Sized {
  m::Snapshot snap;
  std::vector<Family> fams;
  std::size_t series = 0;
  std::size_t bytes = 0;
};

}  // namespace

SeriesSnapshot series_snapshot(const Corpus& corpus, std::size_t target) {
  daemon::NativeParser parser;
  const m::EngineSettings settings;
  m::Engine engine(settings);
  for (const auto msg : corpus.messages) {
    if (auto r = parser.parse(msg)) engine.apply(**r);
  }
  const m::Snapshot base = engine.snapshot();
  SeriesSnapshot z;
  z.feeds.resize(1);
  z.feeds[0].name = "native";
  z.feeds[0].up = true;
  z.feeds[0].events = corpus.messages.size();
  z.feeds[0].last_event_ts = 1767600000;
  z.feeds[0].rejected["not_json"] = 3;
  const daemon::ExportOptions opts;
  std::string out;
  m::Snapshot empty = base;
  empty.queues.clear();
  daemon::render_metrics(empty, z.feeds, opts, out);
  const std::size_t fixed = count_series(out);
  daemon::render_metrics(base, z.feeds, opts, out);
  const double per_queue = static_cast<double>(count_series(out) - fixed) / static_cast<double>(base.queues.size());
  z.snap = sized_snapshot(base, fixed, per_queue, target);
  daemon::render_metrics(z.snap, z.feeds, opts, out);
  z.series = count_series(out);
  z.bytes = out.size();
  return z;
}

std::vector<Figure> bench_exposition(const BenchConfig& cfg, const Corpus& corpus) {
  // The values come from the engine after the simulated traffic: realistic counts, ratios, NaNs.
  daemon::NativeParser parser;
  const m::EngineSettings settings;
  m::Engine engine(settings);
  for (const auto msg : corpus.messages) {
    if (auto r = parser.parse(msg)) engine.apply(**r);
  }
  const m::Snapshot base = engine.snapshot();
  std::vector<daemon::FeedHealth> feeds(1);
  feeds[0].name = "native";
  feeds[0].up = true;
  feeds[0].events = corpus.messages.size();
  feeds[0].last_event_ts = 1767600000;
  feeds[0].rejected["not_json"] = 3;
  const daemon::ExportOptions opts;

  std::string out;
  m::Snapshot empty = base;
  empty.queues.clear();
  daemon::render_metrics(empty, feeds, opts, out);
  const std::size_t fixed = count_series(out);
  daemon::render_metrics(base, feeds, opts, out);
  const double per_queue = static_cast<double>(count_series(out) - fixed) / static_cast<double>(base.queues.size());

  const auto make = [&](std::size_t target) {
    Sized z;
    z.snap = sized_snapshot(base, fixed, per_queue, target);
    daemon::render_metrics(z.snap, feeds, opts, out);
    z.series = count_series(out);
    z.bytes = out.size();
    z.fams = parse_body(out);
    return z;
  };

  std::vector<Figure> figs;
  std::string buf_subject, buf_baseline;
  buf_subject.reserve(1 << 20);
  buf_baseline.reserve(1 << 20);
  const int reps = cfg.tiny ? 3 : cfg.reps * 6;

  for (const std::size_t target : {std::size_t{10000}, std::size_t{100000}}) {
    const Sized z = make(target);
    const int inner = target >= 100000 ? 1 : 5;
    const auto subject = [&]() {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < inner; ++i) daemon::render_metrics(z.snap, feeds, opts, buf_subject);
      return seconds_since(t0) / inner;
    };
    const auto baseline = [&]() {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < inner; ++i) render_baseline(z.fams, buf_baseline);
      return seconds_since(t0) / inner;
    };
    const Timing t = measure(reps, subject, baseline);
    if (buf_baseline.size() + buf_baseline.size() / 10 < buf_subject.size() ||
        buf_subject.size() + buf_subject.size() / 10 < buf_baseline.size()) {
      fmt::print(stderr, "exposition: bodies differ in size: {} vs {} bytes\n", buf_subject.size(),
                 buf_baseline.size());
    }
    Figure f;
    f.name = target >= 100000 ? "exposition_100k" : "exposition_10k";
    f.unit = "ms (lower is better)";
    f.value = t.subject * 1e3;
    f.baseline = t.baseline * 1e3;
    f.higher_is_better = false;
    f.goal = 3.0;
    f.note = fmt::format("{} series, {} queues, {:.1f} MB body", z.series, z.snap.queues.size(),
                         static_cast<double>(z.bytes) / 1e6);
    figs.push_back(f);

    if (target == 10000) {
      // prometheus-cpp holding the same series: the library's own Collect + TextSerializer.
      prometheus::Registry registry;
      std::map<std::string, prometheus::Family<prometheus::Gauge>*> families;
      for (const auto& fam : z.fams) {
        for (const auto& s : fam.series) {
          auto it = families.find(s.name);
          if (it == families.end()) {
            auto& built = prometheus::BuildGauge().Name(s.name).Help("bench").Register(registry);
            it = families.emplace(s.name, &built).first;
          }
          std::map<std::string, std::string> labels(s.labels.begin(), s.labels.end());
          it->second->Add(labels).Set(s.value);
        }
      }
      const prometheus::TextSerializer serializer;
      std::size_t prom_bytes = 0;
      const auto prom = [&]() {
        const auto t0 = std::chrono::steady_clock::now();
        const std::string body = serializer.Serialize(registry.Collect());
        prom_bytes = body.size();
        return seconds_since(t0);
      };
      const auto hand = [&]() {
        const auto t0 = std::chrono::steady_clock::now();
        render_baseline(z.fams, buf_baseline);
        return seconds_since(t0);
      };
      const Timing p = measure(cfg.tiny ? 2 : cfg.reps * 2, prom, hand);
      Figure g;
      g.name = "exposition_prometheus_cpp_10k";
      g.unit = "ms (lower is better)";
      g.value = p.subject * 1e3;
      g.baseline = p.baseline * 1e3;
      g.higher_is_better = false;
      g.goal = 0;  // informative: how far the library is from the baseline
      g.note = fmt::format("{} series as gauges, Registry::Collect + TextSerializer, {:.1f} MB body", z.series,
                           static_cast<double>(prom_bytes) / 1e6);
      figs.push_back(g);
    }
  }
  return figs;
}

}  // namespace callwatch::bench
