// The same call story told by queue_log, AMI and FreeSWITCH ESL (tests/data/story, written by
// make_story.py) gives the same KPIs through `callwatchd report`'s replay. The numbers are worked
// out by hand from the story (make_story.py docstring), not taken from a run.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "report/report.hpp"

namespace cd = callwatch::daemon;
namespace m = callwatch::metrics;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

cd::ReportResult report(const char* format, const char* file) {
  cd::ReportRequest req;
  req.format = *callwatch::config::feed_type_from_string(format);
  req.inputs.push_back({file, slurp(std::string(CALLWATCH_TEST_DATA) + "/story/" + file)});
  REQUIRE(!req.inputs[0].text.empty());
  auto r = cd::replay_report(req);
  REQUIRE(r.has_value());
  return *r;
}

const m::AgentCounters* agent(const cd::ReportResult& r, std::string_view name) {
  for (const auto& a : r.agents) {
    if (a.name == name) return &a.counters;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("queue_log, AMI and ESL tell the same story and give the same KPIs", "[feed][story]") {
  const char* formats[][2] = {
      {"queue_log", "story.queue_log"}, {"ami", "story.ami"}, {"esl", "story.esl"}};
  for (const auto& [format, file] : formats) {
    INFO(format);
    const cd::ReportResult r = report(format, file);
    for (const auto& w : r.warnings) UNSCOPED_INFO(w);
    CHECK(r.rejected == 0);
    REQUIRE(r.queues.size() == 1);
    CHECK(r.queues[0].name == "sales");
    const m::QueueCounters& q = r.queues[0].counters;
    // c1 answered (wait 15), c2 answered (wait 45), c3 abandoned (wait 3), c4 timed out (60).
    CHECK(q.offered() == 4);
    CHECK(q.answered == 2);
    CHECK(q.abandoned == 1);
    CHECK(q.short_abandoned == 1);  // 3 < S = 5
    CHECK(q.timed_out == 1);
    CHECK(q.exited_empty == 0);
    CHECK(q.exited_key == 0);
    CHECK(q.answered_within_sl == 1);             // 15 <= T = 20; 45 is not
    CHECK(q.abandoned_within_sl == 1);            // 3 <= 20
    CHECK(q.answer_wait_sum == Approx(15 + 45));  // ASA 30
    CHECK(q.handled == 2);
    CHECK(q.handle_sum == Approx(120 + 60));  // AHT 90, talk only
    CHECK(q.max_wait == Approx(60));
    CHECK(q.ring_noanswer == 1);  // Bob, 15000 ms

    const auto* alice = agent(r, "Alice");
    const auto* bob = agent(r, "Bob");
    REQUIRE(alice != nullptr);
    REQUIRE(bob != nullptr);
    CHECK(alice->answered == 1);
    CHECK(alice->ring_noanswer == 0);
    CHECK(alice->talk_seconds == Approx(120));
    CHECK(bob->answered == 1);
    CHECK(bob->ring_noanswer == 1);
    CHECK(bob->talk_seconds == Approx(60));
    CHECK(bob->paused_seconds() == Approx(60));  // t0+400 .. t0+460
    CHECK(alice->paused_seconds() == 0);
  }
}
