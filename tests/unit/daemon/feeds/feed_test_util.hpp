// Helpers shared by the feed tests: a sink that records events as native JSON (readable in a
// failure message) and as owned events, plus file reading.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "feeds/feed_common.hpp"
#include "feeds/native/native_parser.hpp"

namespace callwatch::test {

struct Recorder {
  std::vector<std::string> json;
  // Strings are in the OwnedEvent fields; event.* views are NOT valid here (moved): call
  // view() on a copy before handing one to an engine.
  std::vector<daemon::OwnedEvent> events;
  std::vector<std::string> rejects;
  std::vector<std::string> warnings;

  daemon::FeedSink sink() {
    daemon::FeedSink s;
    s.event = [this](const metrics::Event& e) {
      std::string j;
      daemon::append_native_json(e, j);
      json.push_back(std::move(j));
      daemon::OwnedEvent o;
      o.event = e;
      o.call = std::string(e.call);
      o.queue = std::string(e.queue);
      o.agent = std::string(e.agent);
      o.caller = std::string(e.caller);
      o.reason = std::string(e.reason);
      o.to_queue = std::string(e.to_queue);
      o.to = std::string(e.to);
      for (auto q : e.queues) o.queues.emplace_back(q);
      o.view();
      events.push_back(std::move(o));
    };
    s.reject = [this](std::string_view r, const std::string& d) {
      rejects.push_back(std::string(r) + ": " + d);
    };
    s.warning = [this](std::string_view k, const std::string& m) {
      warnings.push_back(std::string(k) + ": " + m);
    };
    return s;
  }
  std::size_t count(metrics::EventType t) const {
    std::size_t n = 0;
    for (const auto& e : events) n += e.event.type == t ? 1 : 0;
    return n;
  }
  std::size_t warnings_of(std::string_view kind) const {
    std::size_t n = 0;
    for (const auto& w : warnings) n += w.rfind(std::string(kind) + ":", 0) == 0 ? 1 : 0;
    return n;
  }
  std::string all() const {
    std::string s;
    for (const auto& j : json) s += j + "\n";
    return s;
  }
};

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string data_path(std::string_view rel) {
  return std::string(CALLWATCH_TEST_DATA) + "/" + std::string(rel);
}

}  // namespace callwatch::test
