// feeds_parse_*: how fast each PBX feed turns its bytes into native events (framer + translator;
// queue_log: the line parser), against splitting the same bytes into lines and `name: value` /
// `|` fields only, in the same run. Input: the story captures of tests/data/story repeated with
// fresh call ids until a few MB.
#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <string>

#include "bench.hpp"
#include "feeds/ami/ami_framer.hpp"
#include "feeds/ami/ami_translator.hpp"
#include "feeds/esl/esl_framer.hpp"
#include "feeds/esl/esl_translator.hpp"
#include "feeds/queue_log/queue_log_parser.hpp"

namespace callwatch::bench {

namespace {

std::string story(const char* name) {
  std::ifstream in(std::string(CALLWATCH_SOURCE_DIR) + "/tests/data/story/" + name,
                   std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Copies `body` `n` times; in copy k every "1767600" (call ids, times) becomes 1767600 + k*1000
// so that no two copies share a call.
std::string repeat(const std::string& head, const std::string& body, std::size_t n) {
  std::string out = head;
  out.reserve(head.size() + body.size() * n);
  for (std::size_t k = 0; k < n; ++k) {
    const std::string stamp = std::to_string(1767600 + k * 1000);
    std::size_t from = 0;
    for (std::size_t at; (at = body.find("1767600", from)) != std::string::npos; from = at + 7) {
      out.append(body, from, at - from);
      out.append(stamp);
    }
    out.append(body, from, std::string::npos);
  }
  return out;
}

// The baseline of every figure: lines, and each line split once at `sep`.
double split_only(std::string_view data, std::string_view sep) {
  const auto t0 = std::chrono::steady_clock::now();
  std::size_t n = 0, pos = 0;
  while (pos < data.size()) {
    std::size_t eol = data.find('\n', pos);
    if (eol == std::string_view::npos) eol = data.size();
    std::string_view l = data.substr(pos, eol - pos);
    for (std::size_t f = 0, at; (at = l.find(sep, f)) != std::string_view::npos;
         f = at + sep.size())
      ++n;
    pos = eol + 1;
  }
  const double s = seconds_since(t0);
  static volatile std::size_t sink = 0;
  sink = sink + n;  // keeps the loop from being optimized away
  return s;
}

Figure figure(const char* name, std::size_t bytes, const Timing& t, std::string note) {
  Figure f;
  f.name = name;
  f.unit = "MB/s (higher is better)";
  f.value = static_cast<double>(bytes) / 1e6 / t.subject;
  f.baseline = static_cast<double>(bytes) / 1e6 / t.baseline;
  f.note = std::move(note);
  return f;
}

}  // namespace

std::vector<Figure> bench_feeds(const BenchConfig& cfg, const Corpus&) {
  const std::size_t copies = cfg.tiny ? 50 : 1000;
  std::vector<Figure> out;

  const std::string ami_story = story("story.ami");
  const std::string esl_story = story("story.esl");
  const std::string ql_story = story("story.queue_log");
  if (ami_story.empty() || esl_story.empty() || ql_story.empty()) {
    fmt::print(stderr, "feeds: tests/data/story not found under {}: skipped\n",
               CALLWATCH_SOURCE_DIR);
    return out;
  }

  {  // AMI: banner once, then the story's blocks again and again.
    const auto nl = ami_story.find("\r\n") + 2;
    const std::string data = repeat(ami_story.substr(0, nl), ami_story.substr(nl), copies);
    std::size_t events = 0;
    const auto subject = [&] {
      daemon::FeedSink sink;
      sink.event = [&](const metrics::Event&) { ++events; };
      daemon::AmiTranslator tr({}, sink);
      daemon::AmiFramer framer;
      const auto t0 = std::chrono::steady_clock::now();
      auto cb = [&](const daemon::AmiMessage& m) { tr.on_message(m, metrics::kNoValue); };
      framer.feed(data, cb);
      framer.finish(cb);
      tr.finish();
      return seconds_since(t0);
    };
    const Timing t = measure(cfg.reps, subject, [&] { return split_only(data, ": "); });
    out.push_back(figure("feeds_parse_ami", data.size(), t,
                         fmt::format("{:.1f} MB of AMI (story x{}), framer + translator vs lines + "
                                     "': ' split",
                                     static_cast<double>(data.size()) / 1e6, copies)));
  }
  {  // ESL: the snapshot once, then the events again and again.
    const auto first_event = esl_story.find("Content-Type: text/event-plain");
    const auto head_end = esl_story.rfind("Content-Length:", first_event);
    const std::string data =
        repeat(esl_story.substr(0, head_end), esl_story.substr(head_end), copies);
    const auto subject = [&] {
      daemon::FeedSink sink;
      sink.event = [](const metrics::Event&) {};
      daemon::EslTranslator tr({}, sink);
      daemon::EslFramer framer;
      const auto t0 = std::chrono::steady_clock::now();
      framer.feed(data, [&](const daemon::EslMessage& m) { tr.on_message(m, metrics::kNoValue); });
      tr.finish();
      return seconds_since(t0);
    };
    const Timing t = measure(cfg.reps, subject, [&] { return split_only(data, ": "); });
    out.push_back(figure("feeds_parse_esl", data.size(), t,
                         fmt::format("{:.1f} MB of plain ESL events (story x{}), framer + URL "
                                     "decoding + translator vs lines + ': ' split",
                                     static_cast<double>(data.size()) / 1e6, copies)));
  }
  {  // queue_log: the line parser alone (the report's full replay is queue_log_replay).
    const std::string data = repeat("", ql_story, copies * 4);
    const auto subject = [&] {
      daemon::QueueLogParser parser;
      const auto t0 = std::chrono::steady_clock::now();
      std::size_t pos = 0, no = 0;
      while (pos < data.size()) {
        std::size_t eol = data.find('\n', pos);
        if (eol == std::string::npos) eol = data.size();
        parser.parse(std::string_view(data).substr(pos, eol - pos), ++no);
        pos = eol + 1;
      }
      parser.flush();
      return seconds_since(t0);
    };
    const Timing t = measure(cfg.reps, subject, [&] { return split_only(data, "|"); });
    out.push_back(
        figure("feeds_parse_queue_log", data.size(), t,
               fmt::format("{:.1f} MB of queue_log (story x{}), QueueLogParser vs lines + "
                           "'|' split",
                           static_cast<double>(data.size()) / 1e6, copies * 4)));
  }
  return out;
}

}  // namespace callwatch::bench
