// ingest_parse_apply: NativeParser::parse + Engine::apply per message, against a bare simdjson
// on-demand parse of the same messages that reads every field they carry.
#include <simdjson.h>

#include <fmt/format.h>

#include "bench.hpp"
#include "callwatch/metrics/engine.hpp"
#include "feeds/native/native_parser.hpp"

namespace callwatch::bench {

namespace m = callwatch::metrics;

namespace {

// What any consumer must do at least: parse, and read each field's value (strings as views,
// numbers as doubles, the queues array). The sum only keeps the compiler from dropping work.
std::size_t touch_fields(simdjson::ondemand::parser& parser, std::string_view msg, std::size_t readable) {
  namespace od = simdjson::ondemand;
  std::size_t acc = 0;
  od::document doc;
  if (parser.iterate(msg.data(), msg.size(), readable).get(doc)) return 0;
  od::object obj;
  if (doc.get_object().get(obj)) return 0;
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return 0;
    acc += key.size();
    od::value v = field.value();
    od::json_type t;
    if (v.type().get(t)) return 0;
    switch (t) {
      case od::json_type::string: {
        std::string_view s;
        if (!v.get_string().get(s)) acc += s.size();
        break;
      }
      case od::json_type::number: {
        double d;
        if (!v.get_double().get(d)) acc += static_cast<std::size_t>(d) & 1;
        break;
      }
      case od::json_type::array: {
        od::array arr;
        if (v.get_array().get(arr)) return 0;
        for (auto item : arr) {
          std::string_view s;
          if (!item.get_string().get(s)) acc += s.size();
        }
        break;
      }
      default:
        break;
    }
  }
  return acc;
}

}  // namespace

std::vector<Figure> bench_ingest(const BenchConfig& cfg, const Corpus& corpus) {
  const auto& msgs = corpus.messages;
  const char* end = corpus.buffer.data() + corpus.buffer.size();
  std::size_t rejected = 0;
  volatile std::size_t sink = 0;

  double snapshot_ms = 0;  // what every publish pays at this size (note only)
  const auto subject = [&]() {
    daemon::NativeParser parser;
    const m::EngineSettings settings;
    m::Engine engine(settings);  // replay mode: time follows the events
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t bad = 0;
    for (const auto msg : msgs) {
      // The corpus is padded like a receive buffer: parsed where it lies, as the daemon does.
      auto r = parser.parse_in_place(msg, static_cast<std::size_t>(end - msg.data()));
      if (r) {
        engine.apply(**r);
      } else {
        ++bad;
      }
    }
    const double s = seconds_since(t0);
    rejected = bad;
    std::vector<double> snaps;
    for (int i = 0; i < 3; ++i) {
      const auto s0 = std::chrono::steady_clock::now();
      sink = sink + engine.snapshot().events_applied;
      snaps.push_back(seconds_since(s0) * 1e3);
    }
    snapshot_ms = median(snaps);
    return s;
  };
  const auto baseline = [&]() {
    simdjson::ondemand::parser parser;
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t acc = 0;
    for (const auto msg : msgs) acc += touch_fields(parser, msg, static_cast<std::size_t>(end - msg.data()));
    const double s = seconds_since(t0);
    sink = sink + acc;
    return s;
  };
  const Timing t = measure(cfg.reps, subject, baseline);
  // Where the time goes (note only): the project's parser alone, without the engine.
  std::vector<double> parse_only;
  for (int i = 0; i < std::max(1, cfg.reps / 2); ++i) {
    daemon::NativeParser parser;
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t ok = 0;
    for (const auto msg : msgs) ok += parser.parse_in_place(msg, static_cast<std::size_t>(end - msg.data())).has_value();
    parse_only.push_back(seconds_since(t0));
    sink = sink + ok;
  }
  if (rejected > 0) fmt::print(stderr, "ingest_parse_apply: {} simulated messages rejected\n", rejected);
  const double n = static_cast<double>(msgs.size());
  Figure f;
  f.name = "ingest_parse_apply";
  f.unit = "events/s (higher is better)";
  f.value = n / t.subject;
  f.baseline = n / t.baseline;
  f.higher_is_better = true;
  f.goal = 0.5;
  f.note = fmt::format(
      "{} messages, {:.0f} B average, {} queues / {} agents; NativeParser alone {:.3g} events/s; one "
      "Engine::snapshot() after them {:.2f} ms",
      msgs.size(), static_cast<double>(corpus.bytes) / n, corpus.queues, corpus.agents, n / median(parse_only),
      snapshot_ms);
  return {f};
}

}  // namespace callwatch::bench
