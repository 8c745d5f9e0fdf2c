// The live queue_log feed (feed_runner: tailer + the report's line parser) on a real file that is
// written while it runs, rotated in the middle and left with a half-written line for a moment;
// events arrive over the inproc hand-off and must give the story's KPIs
// (tests/data/story/make_story.py).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "callwatch/metrics/engine.hpp"
#include "feeds/feed_runner.hpp"
#include "feeds/feed_wire.hpp"
#include "feeds/native/native_parser.hpp"

namespace cd = callwatch::daemon;
namespace cf = callwatch::config;
namespace m = callwatch::metrics;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

TEST_CASE("queue_log feed: follows a file through rotation and partial lines",
          "[feed][queue_log][live]") {
  std::ifstream in(std::string(CALLWATCH_TEST_DATA) + "/story/story.queue_log");
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l + "\n");
  REQUIRE(lines.size() == 15);

  char tmpl[] = "/tmp/callwatch-qlfeed-XXXXXX";
  const fs::path dir = ::mkdtemp(tmpl);
  const fs::path log = dir / "queue_log";
  auto append = [](const fs::path& p, const std::string& s) {
    std::ofstream out(p, std::ios::app | std::ios::binary);
    out << s;
  };
  append(log, "1767500000|old|sales|NONE|ENTERQUEUE||1|1\n");  // history: not replayed

  zmq::context_t ctx;
  const std::string ep = "inproc://feeds-queue-log";
  zmq::socket_t pull(ctx, zmq::socket_type::pull);
  pull.bind(ep);
  cf::FeedConfig f;
  f.name = "pbx-log";
  f.type = cf::FeedType::queue_log;
  f.path = log.string();
  cd::FeedRunOptions o;
  o.endpoint = ep;
  // The story is a recording of January 2026 played as a live file: the window of times is
  // opened for it (feeds/time_bounds.hpp).
  o.times.max_age_seconds = 1e10;
  o.poll_interval = 20ms;
  o.idle_flush = 100ms;
  std::shared_ptr<std::atomic<bool>> up;
  auto threads = cd::start_feeds(
      ctx, {f}, [&](const std::string&) { return up = std::make_shared<std::atomic<bool>>(false); },
      o);
  REQUIRE(threads.has_value());
  std::this_thread::sleep_for(100ms);  // the tailer takes the end of the file

  for (std::size_t i = 0; i < 8; ++i) append(log, lines[i]);
  std::this_thread::sleep_for(100ms);
  // logrotate: rename, the writer finishes a line in the old file, then writes the new one.
  fs::rename(log, dir / "queue_log.1");
  append(dir / "queue_log.1", lines[8]);
  for (std::size_t i = 9; i < 12; ++i) append(log, lines[i]);
  const std::string& l12 = lines[12];
  append(log, l12.substr(0, 20));  // half a line for a moment
  std::this_thread::sleep_for(100ms);
  append(log, l12.substr(20));
  for (std::size_t i = 13; i < lines.size(); ++i) append(log, lines[i]);

  m::EngineSettings settings;
  m::Engine engine(settings, nullptr);
  pull.set(zmq::sockopt::rcvtimeo, 100);
  std::vector<std::string> got;
  std::vector<std::string> positions;
  std::vector<std::uint64_t> lines_in_batch;  // accepted lines of each batch
  double last = 0;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  // 15 lines -> 15 events (DID-free story: every line gives exactly one event).
  while (got.size() < 15 && std::chrono::steady_clock::now() < deadline) {
    zmq::message_t name, body, position;
    if (!pull.recv(name)) continue;
    REQUIRE(pull.recv(body));
    // Third frame: "<inode>:<offset>" after the batch's last line, saved with the checkpoint.
    REQUIRE(body.more());
    REQUIRE(pull.recv(position));
    positions.emplace_back(static_cast<const char*>(position.data()), position.size());
    cd::WireReader reader(std::string_view(static_cast<const char*>(body.data()), body.size()));
    cd::WireItem item;
    std::uint64_t accepted = 0;
    while (reader.next(item)) {
      if (item.kind == cd::WireRecord::accepted) accepted += item.count;
      if (item.kind != cd::WireRecord::event) continue;
      std::string j;
      cd::append_native_json(item.event, j);
      got.push_back(j);
      last = std::max(last, item.event.ts);
      engine.apply(item.event);
    }
    REQUIRE(reader.error().empty());
    lines_in_batch.push_back(accepted);
  }
  CHECK(up->load());
  (*threads)->stop();
  fs::remove_all(dir);
  REQUIRE(got.size() == 15);
  // The first batch's position: just after its last story line (the first batch holds some of
  // the 8 lines written before the rotation), which follow the 42-byte history line written
  // before the feed started.
  REQUIRE(lines_in_batch[0] >= 1);
  REQUIRE(lines_in_batch[0] <= 8);
  std::size_t offset = 42;
  for (std::size_t i = 0; i < lines_in_batch[0]; ++i) offset += lines[i].size();
  CHECK(positions[0].substr(positions[0].find(':')) == ":" + std::to_string(offset));
  for (const auto& j : got) CHECK(j.find("\"old\"") == std::string::npos);
  engine.finish(last);
  const auto snap = engine.snapshot();
  REQUIRE(snap.queues.size() == 1);
  const auto& q = snap.queues[0].total;
  CHECK(q.offered() == 4);
  CHECK(q.answered == 2);
  CHECK(q.abandoned == 1);
  CHECK(q.timed_out == 1);
  CHECK(q.answer_wait_sum == Approx(60));
}
