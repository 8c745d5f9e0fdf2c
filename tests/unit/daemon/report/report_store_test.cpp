// `callwatchd report --from --to` over the store: ISO times in the config's zone, totals summed
// from the stored intervals by the same rules, longer intervals re-bucketed, gaps as warnings.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "report/report_store.hpp"

using namespace callwatch;
using namespace callwatch::daemon;
using namespace std::chrono_literals;

namespace {

constexpr double t0 = 1767600000;  // 2026-01-05T08:00:00Z = 16:00 in Shanghai (+08:00)

metrics::ClosedInterval iv(const std::string& q, double start, std::int64_t answered,
                           std::int64_t within, std::int64_t abandoned, double wait_sum) {
  metrics::ClosedInterval c;
  c.queue = q;
  c.start = start;
  c.end = start + 900;
  c.counters.answered = answered;
  c.counters.answered_within_sl = within;
  c.counters.abandoned = abandoned;
  c.counters.answered_with_wait = answered;
  c.counters.answer_wait_sum = wait_sum;
  c.counters.max_wait = 40;
  return c;
}

}  // namespace

TEST_CASE("report times read ISO 8601 in the config zone or with their own offset",
          "[store][report]") {
  const auto shanghai = metrics::TimeZone::fixed(8 * 3600, "Asia/Shanghai");
  CHECK(*parse_report_time("2026-01-05T16:00:00+08:00", shanghai) == t0);
  CHECK(*parse_report_time("2026-01-05T08:00:00Z", shanghai) == t0);
  CHECK(*parse_report_time("2026-01-05T03:00-05:00", shanghai) == t0);
  CHECK(*parse_report_time("2026-01-05T16:00", shanghai) == t0);        // local to the zone
  CHECK(*parse_report_time("2026-01-05", shanghai) == t0 - 16 * 3600);  // local midnight
  CHECK(*parse_report_time("2026-01-05 16:00:30", shanghai) == t0 + 30);
  for (const char* bad :
       {"", "yesterday", "2026-13-01", "2026-01-05T25:00", "2026-01-05T10:00+8", "2026-02-30"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_report_time(bad, shanghai));
  }
}

TEST_CASE("stored intervals become the report: totals, intervals, gaps", "[store][report]") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("callwatch-report-store-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  {
    StoreOptions o;
    o.path = (dir / "cw.db").string();
    auto store = Store::open(o);
    REQUIRE(store);
    Checkpoint c;
    c.taken_at = t0 + 3600 + 60;  // the 09:00Z interval is open at the checkpoint
    c.engine_state = "x";
    c.intervals = {iv("sales", t0, 10, 8, 2, 100), iv("sales", t0 + 900, 5, 5, 0, 30),
                   iv("billing", t0 + 900, 4, 1, 1, 200), iv("sales", t0 + 2700, 1, 1, 0, 3),
                   iv("sales", t0 - 900, 7, 7, 0, 7)};  // before the range
    (*store)->submit(c);
    (*store)->record_gap({t0 + 1000, t0 + 1300, "daemon crashed (no clean stop)"});
    REQUIRE((*store)->flush(5s));
  }
  StoreOptions o;
  o.path = (dir / "cw.db").string();
  o.read_only = true;
  auto store = Store::open(o);
  REQUIRE(store);
  metrics::EngineSettings settings;
  settings.tz = metrics::TimeZone::fixed(8 * 3600, "Asia/Shanghai");

  // [08:00Z, 09:30Z): the first four intervals.
  const ReportResult r = stored_report(**store, t0, t0 + 5400, settings, std::nullopt);
  REQUIRE(r.queues.size() == 2);
  CHECK(r.queues[0].name == "billing");
  CHECK(r.queues[1].name == "sales");
  const auto& s = r.queues[1].counters;
  // sales by hand: answered 10 + 5 + 1 = 16, abandoned 2, offered 18, within 8 + 5 + 1 = 14,
  // wait sum 100 + 30 + 3 = 133.
  CHECK(s.answered == 16);
  CHECK(s.offered() == 18);
  CHECK(s.answered_within_sl == 14);
  CHECK(s.answer_wait_sum == 133);
  CHECK(r.intervals.size() == 4);
  CHECK(r.intervals.front().start == t0);
  REQUIRE(r.warnings.size() == 3);
  CHECK(r.warnings[0].find(
            "no data from 2026-01-05T16:16:40+08:00 to 2026-01-05T16:21:40+08:00 (300 s)") == 0);
  CHECK(r.warnings[1].find("the interval from 2026-01-05T17:00:00+08:00 was still open") == 0);
  CHECK(r.warnings[2].find("agents are not stored") == 0);

  const std::string json = build_report_json(r, true);
  CHECK(json.find("\"intervals\": [") != std::string::npos);
  CHECK(json.find("\"start\": \"2026-01-05T16:00:00+08:00\"") != std::string::npos);
  CHECK(json.find("\"offered\": 18") != std::string::npos);

  // Hourly buckets: 08:00-09:00Z holds sales 10+5+1 (three intervals) and billing.
  const ReportResult h = stored_report(**store, t0, t0 + 5400, settings, 60);
  REQUIRE(h.intervals.size() == 2);
  CHECK(h.intervals[0].queue == "billing");
  CHECK(h.intervals[1].queue == "sales");
  CHECK(h.intervals[1].start == t0);
  CHECK(h.intervals[1].counters.answered == 16);
  std::filesystem::remove_all(dir);
}
