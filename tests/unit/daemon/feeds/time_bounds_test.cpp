// The window of times a feed may state (feeds/time_bounds.hpp): live around the daemon's clock,
// in a replay around the input's own newest time (and never past this machine's clock).
#include <catch2/catch.hpp>

#include "feeds/time_bounds.hpp"

namespace cd = callwatch::daemon;
namespace m = callwatch::metrics;

namespace {
constexpr double kNow = 1796000000;  // 2026-11-29
constexpr double kDay = 86400;
}  // namespace

TEST_CASE("live, a time counts within a week behind and two days ahead of the daemon's clock",
          "[daemon][feeds][time]") {
  cd::TimeBounds b;
  CHECK(b.check(kNow, kNow, "ts").empty());
  CHECK(b.check(kNow - 7 * kDay, kNow, "ts").empty());
  CHECK(b.check(kNow + 2 * kDay, kNow, "ts").empty());
  // The probe of issue 13: ts 1.0 and 1e300.
  const std::string old = b.check(1.0, kNow, "ts");
  CHECK(old.find("1795999999 s before the daemon's clock") != std::string::npos);
  CHECK(old.find("max_event_age_seconds = 604800") != std::string::npos);
  CHECK(b.check(1e300, kNow, "ts").find("ahead of the daemon's clock") != std::string::npos);
  CHECK_FALSE(b.check(kNow - 7 * kDay - 1, kNow, "ts").empty());
  CHECK_FALSE(b.check(kNow + 2 * kDay + 1, kNow, "ts").empty());
  CHECK_FALSE(b.check(m::kNoValue, kNow, "ts").empty());
  // The limits are the config's.
  cd::TimeBounds narrow({3600, 60});
  CHECK_FALSE(narrow.check(kNow - 3601, kNow, "ts").empty());
  CHECK(narrow.check(kNow + 60, kNow, "ts").empty());
}

TEST_CASE("a stated duration may not reach back out of the window", "[daemon][feeds][time]") {
  cd::TimeBounds b;
  m::Event e;
  e.type = m::EventType::call_answered;
  e.ts = kNow;
  e.wait = 30;
  CHECK(b.check(e, kNow).empty());
  e.wait = 1e300;  // an entry 1e300 s before the answer
  const std::string why = b.check(e, kNow);
  CHECK(why.find("wait_seconds 1e+300 starts its span") != std::string::npos);
  e.wait = m::kNoValue;
  e.type = m::EventType::agent_ring_noanswer;
  e.ring_ms = 8 * kDay * 1000;  // eight days of ringing
  CHECK_FALSE(b.check(e, kNow).empty());
  e.ring_ms = 15000;
  CHECK(b.check(e, kNow).empty());
}

TEST_CASE("a replay is bounded by its own times: last year's file counts, garbage does not",
          "[daemon][feeds][time]") {
  const m::ManualClock wall(kNow);
  cd::TimeBounds b({}, &wall);
  const double last_year = kNow - 365 * kDay;
  // The first time has nothing to compare with but the wall clock; a year back is fine.
  CHECK(b.check(last_year, m::kNoValue, "epoch").empty());
  CHECK(b.check(last_year + 3600, m::kNoValue, "epoch").empty());
  // Out of order within the week: fine (the engine puts it in its place or counts it late).
  CHECK(b.check(last_year - 6 * kDay, m::kNoValue, "epoch").empty());
  // ts 1.0 in the middle of the file: 55 years before its newest time.
  CHECK(b.check(1.0, m::kNoValue, "epoch").find("before the newest time of the input so far") !=
        std::string::npos);
  // A recording does not come from the future: past this machine's clock + 2 days.
  CHECK(b.check(1e300, m::kNoValue, "epoch").find("ahead of this machine's clock") != std::string::npos);
  CHECK(b.check(kNow + 3 * kDay, m::kNoValue, "epoch").find("ahead of this machine's clock") !=
        std::string::npos);
  // A gap of months between rotated files is not refused (the newest time moves forward).
  CHECK(b.check(kNow - 10 * kDay, m::kNoValue, "epoch").empty());
  CHECK_FALSE(b.check(last_year, m::kNoValue, "epoch").empty());  // now far behind the newest
}
