// Time zones: offsets read from the system's TZif files, the POSIX footer rule after the last
// explicit transition, zones that need no file, and interval / day boundaries in local time.
// Every instant below was worked out by hand from 2026-01-01 00:00 UTC = 1767225600 (56 years of
// 365 days + 14 leap days = 20454 days since 1970) and then checked with `date -u -d @N`.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>

#include "callwatch/config/config.hpp"
#include "callwatch/config/zoneinfo.hpp"

using namespace callwatch;
using config::load_timezone;

namespace {

constexpr std::int64_t k2026 = 1767225600;  // 2026-01-01 00:00:00 UTC, a Thursday
constexpr std::int64_t kDay = 86400;

metrics::TimeZone zone(const std::string& name) {
  auto z = load_timezone(name);
  if (!z) FAIL(z.error());
  return *z;
}

// Sets TZDIR for the scope of a test and puts the old value back.
class ScopedTzdir {
 public:
  explicit ScopedTzdir(const std::string& dir) {
    if (const char* old = std::getenv("TZDIR")) old_ = old;
    ::setenv("TZDIR", dir.c_str(), 1);
  }
  ~ScopedTzdir() {
    if (old_) {
      ::setenv("TZDIR", old_->c_str(), 1);
    } else {
      ::unsetenv("TZDIR");
    }
  }

 private:
  std::optional<std::string> old_;
};

// A minimal TZif file written byte by byte (RFC 8536), so footer handling can be tested apart
// from whatever the installed tzdata holds.
class TzifBuilder {
 public:
  struct Type {
    std::int32_t utoff;
    bool dst;
  };
  TzifBuilder(char version, std::vector<Type> types,
              std::vector<std::pair<std::int64_t, int>> transitions, std::string footer,
              std::uint32_t leapcnt = 0)
      : version_(version),
        types_(std::move(types)),
        transitions_(std::move(transitions)),
        footer_(std::move(footer)),
        leapcnt_(leapcnt) {}

  std::string bytes() const {
    std::string out;
    block(out, version_ == '\0' ? 4 : 4);
    if (version_ != '\0') {
      block(out, 8);
      out += "\n" + footer_ + "\n";
    }
    return out;
  }

 private:
  static void be(std::string& out, std::uint64_t v, int n) {
    for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  }
  void block(std::string& out, int time_size) const {
    out += "TZif";
    out.push_back(version_);
    out.append(15, '\0');
    const std::uint32_t charcnt = 4;  // "XXX\0": one abbreviation shared by all types
    be(out, 0, 4);                    // isutcnt
    be(out, 0, 4);                    // isstdcnt
    be(out, leapcnt_, 4);
    be(out, transitions_.size(), 4);
    be(out, types_.size(), 4);
    be(out, charcnt, 4);
    for (const auto& t : transitions_) be(out, static_cast<std::uint64_t>(t.first), time_size);
    for (const auto& t : transitions_) out.push_back(static_cast<char>(t.second));
    for (const auto& t : types_) {
      be(out, static_cast<std::uint32_t>(t.utoff), 4);
      out.push_back(t.dst ? 1 : 0);
      out.push_back(0);
    }
    out += std::string("XXX\0", 4);
    for (std::uint32_t i = 0; i < leapcnt_; ++i) {
      be(out, 78796800, time_size);  // 1972-07-01, the first leap second
      be(out, 1, 4);
    }
  }

  char version_;
  std::vector<Type> types_;
  std::vector<std::pair<std::int64_t, int>> transitions_;
  std::string footer_;
  std::uint32_t leapcnt_;
};

}  // namespace

TEST_CASE("Asia/Shanghai is UTC+8 at any instant of this century", "[config][timezone]") {
  const auto sh = zone("Asia/Shanghai");
  CHECK(sh.name() == "Asia/Shanghai");
  // 8 h * 3600 = 28800 s; China has kept no daylight saving since 1991.
  for (std::int64_t t : {std::int64_t{946684800},      // 2000-01-01
                         k2026 + 14 * kDay,            // 2026-01-15
                         k2026 + 195 * kDay,           // 2026-07-15
                         std::int64_t{3786912000},     // 2090-01-01
                         std::int64_t{4102444800}}) {  // 2100-01-01
    INFO(t);
    CHECK(sh.offset_at(t) == 28800);
  }
}

TEST_CASE("Europe/Berlin is UTC+1 in winter and UTC+2 in summer", "[config][timezone]") {
  const auto berlin = zone("Europe/Berlin");
  // 2026-01-15 12:00 UTC = k2026 + 14 days + 12 h; 2026-07-15 is day 195 of the year
  // (31+28+31+30+31+30 = 181, + 14).
  CHECK(berlin.offset_at(k2026 + 14 * kDay + 43200) == 3600);
  CHECK(berlin.offset_at(k2026 + 195 * kDay + 43200) == 7200);
}

TEST_CASE("Europe/Berlin switches to summer time at 01:00 UTC on 2026-03-29",
          "[config][timezone]") {
  const auto berlin = zone("Europe/Berlin");
  // Last Sunday of March 2026: March 29 is day 31+28+28 = 87 of the year; 87 = 12*7 + 3 days after
  // a Thursday is a Sunday. The EU switches at 01:00 UTC: k2026 + 87 days + 3600 = 1774746000.
  constexpr std::int64_t kSwitch = k2026 + 87 * kDay + 3600;
  static_assert(kSwitch == 1774746000);
  CHECK(berlin.offset_at(kSwitch - 1) == 3600);
  CHECK(berlin.offset_at(kSwitch) == 7200);
  // Back to winter time on the last Sunday of October: day 297 (Oct 25), 01:00 UTC.
  constexpr std::int64_t kBack = k2026 + 297 * kDay + 3600;
  static_assert(kBack == 1792890000);
  CHECK(berlin.offset_at(kBack - 1) == 7200);
  CHECK(berlin.offset_at(kBack) == 3600);
}

TEST_CASE("Europe/Berlin in 2090 still switches by the footer rule", "[config][timezone]") {
  // Debian's zone files list explicit transitions only up to 2037; after that the footer
  // "CET-1CEST,M3.5.0,M10.5.0/3" decides. 2090-01-01 = k2026 + 64*365 + 16 leap days
  // (2028..2088) = k2026 + 23376 days = 3786912000, a Sunday (23376 = 3339*7 + 3 after Thursday).
  // Last Sunday of March 2090: March 31 is day 89 (a Friday), so March 26 (day 84).
  // Last Sunday of October 2090: October 31 is day 303 (a Tuesday), so October 29 (day 301).
  constexpr std::int64_t k2090 = 3786912000;
  constexpr std::int64_t kSpring = k2090 + 84 * kDay + 3600;
  constexpr std::int64_t kAutumn = k2090 + 301 * kDay + 3600;
  static_assert(kSpring == 3794173200 && kAutumn == 3812922000);
  const auto berlin = zone("Europe/Berlin");
  CHECK(berlin.offset_at(kSpring - 1) == 3600);
  CHECK(berlin.offset_at(kSpring) == 7200);
  CHECK(berlin.offset_at(kAutumn - 1) == 7200);
  CHECK(berlin.offset_at(kAutumn) == 3600);
}

TEST_CASE("a TZif file's footer rule takes over after its last transition", "[config][timezone]") {
  // One explicit transition, to CEST at 2000-03-26 01:00 UTC; everything later comes from the
  // footer. 2000-01-01 = 946684800 (a Saturday). Last Sunday of October 2000: October 31 is day
  // 304 (leap year: 31+29+31+30+31+30+31+31+30+30 = 304), 304 = 43*7 + 3 after Saturday = Tuesday,
  // so Sunday October 29 = day 302; the switch is 01:00 UTC: 946684800 + 302*86400 + 3600.
  constexpr std::int64_t k2000 = 946684800;
  constexpr std::int64_t kToCest = k2000 + 85 * kDay + 3600;  // March 26 = day 31+29+25 = 85
  constexpr std::int64_t kToCet = k2000 + 302 * kDay + 3600;
  static_assert(kToCest == 954032400 && kToCet == 972781200);
  const TzifBuilder file('2', {{3600, false}, {7200, true}}, {{kToCest, 1}},
                         "CET-1CEST,M3.5.0,M10.5.0/3");
  auto z = config::parse_tzif(file.bytes(), "Test/Footer");
  REQUIRE(z.has_value());
  CHECK(z->offset_at(kToCest - 1) == 3600);
  CHECK(z->offset_at(kToCest) == 7200);
  CHECK(z->offset_at(kToCet - 1) == 7200);  // from the footer, not from the file's transitions
  CHECK(z->offset_at(kToCet) == 3600);
  // 2026: the footer gives the same instants as the real Berlin file.
  CHECK(z->offset_at(1774746000 - 1) == 3600);
  CHECK(z->offset_at(1774746000) == 7200);
}

TEST_CASE("a version 1 TZif file is read from its 32-bit section", "[config][timezone]") {
  // No footer in version 1: the last transition's offset stays.
  const TzifBuilder file('\0', {{3600, false}, {7200, true}}, {{954032400, 1}}, "");
  auto z = config::parse_tzif(file.bytes(), "Test/V1");
  REQUIRE(z.has_value());
  CHECK(z->offset_at(954032399) == 3600);
  CHECK(z->offset_at(1774746000 + 180 * kDay) == 7200);
}

TEST_CASE("damaged or leap-second TZif data is refused", "[config][timezone]") {
  CHECK_FALSE(config::parse_tzif("", "x").has_value());
  CHECK_FALSE(config::parse_tzif("TZif2 but much too short", "x").has_value());
  const std::string good = TzifBuilder('2', {{3600, false}}, {}, "CET-1").bytes();
  REQUIRE(config::parse_tzif(good, "x").has_value());
  CHECK_FALSE(config::parse_tzif(good.substr(0, good.size() - 10), "x").has_value());
  auto leap =
      config::parse_tzif(TzifBuilder('2', {{0, false}}, {}, "UTC0", 1).bytes(), "right/UTC");
  REQUIRE_FALSE(leap.has_value());
  CHECK(leap.error().find("leap seconds") != std::string::npos);
  // A transition naming a local time type that does not exist.
  CHECK_FALSE(config::parse_tzif(TzifBuilder('2', {{0, false}}, {{1000, 3}}, "UTC0").bytes(), "x")
                  .has_value());
}

TEST_CASE("every truncation of a real zone file is refused, never read past its end",
          "[config][timezone]") {
  std::ifstream in(config::zoneinfo_dir() + "/Europe/Berlin", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  REQUIRE(bytes.size() > 1000);
  REQUIRE(config::parse_tzif(bytes, "Europe/Berlin").has_value());
  // Cutting inside the data or the footer loses the footer's closing newline at the latest.
  std::vector<std::size_t> accepted;
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    if (config::parse_tzif(std::string_view(bytes).substr(0, n), "cut")) accepted.push_back(n);
  }
  CHECK(accepted.empty());
}

TEST_CASE("POSIX TZ rules of the southern hemisphere and day-of-year forms", "[config][timezone]") {
  SECTION("Australia/Sydney: DST from the first Sunday of October to the first of April") {
    auto tz = config::parse_posix_tz("AEST-10AEDT,M10.1.0,M4.1.0/3");
    REQUIRE(tz.has_value());
    CHECK(tz->std_offset == 36000);
    REQUIRE(tz->dst.has_value());
    CHECK(tz->dst->offset == 39600);  // one hour more than standard by default
    // 2026: April 1 is day 90 (a Wednesday), first Sunday April 5 = day 94; 03:00 AEDT (+11) is
    // 16:00 UTC the day before: k2026 + 94 days - 8 h. October 1 is day 273 (a Thursday), first
    // Sunday October 4 = day 276; 02:00 AEST (+10) = k2026 + 276 days - 8 h.
    const auto t = config::posix_tz_transitions(*tz, 2026, 2026);
    REQUIRE(t.size() == 2);
    CHECK(t[0].utc == k2026 + 94 * kDay - 8 * 3600);
    CHECK(t[0].utc == 1775318400);
    CHECK(t[0].offset == 36000);
    CHECK(t[1].utc == k2026 + 276 * kDay - 8 * 3600);
    CHECK(t[1].offset == 39600);
  }
  SECTION("Jn never counts February 29, n does") {
    // 2028 is a leap year: 2028-01-01 = k2026 + 730 days = 1830297600. J60 is March 1 in every
    // year; zero-based day 59 is February 29 in 2028.
    constexpr std::int64_t k2028 = k2026 + 730 * kDay;
    auto j = config::parse_posix_tz("AAA0BBB,J60/0,J300/0");
    auto n = config::parse_posix_tz("AAA0BBB,59/0,300/0");
    REQUIRE(j.has_value());
    REQUIRE(n.has_value());
    CHECK(config::posix_tz_transitions(*j, 2028, 2028)[0].utc == k2028 + 60 * kDay);
    CHECK(config::posix_tz_transitions(*n, 2028, 2028)[0].utc == k2028 + 59 * kDay);
    CHECK(config::posix_tz_transitions(*j, 2027, 2027)[0].utc == k2026 + 365 * kDay + 59 * kDay);
  }
  SECTION("negative switch times (America/Nuuk) and quoted names") {
    auto tz = config::parse_posix_tz("<-02>2<-01>,M3.5.0/-1,M10.5.0/0");
    REQUIRE(tz.has_value());
    CHECK(tz->std_name == "-02");
    CHECK(tz->std_offset == -7200);
    // Last Sunday of March 2026 (day 87) at -1:00 local = Saturday 23:00 at UTC-2 = Sunday 01:00
    // UTC, the same instant as the EU switch.
    CHECK(config::posix_tz_transitions(*tz, 2026, 2026)[0].utc == 1774746000);
  }
  SECTION("malformed rules are refused") {
    for (const char* bad :
         {"", "C", "CET", "CET-1CEST", "CET-1CEST,M13.5.0,M10.5.0", "CET-1CEST,M3.5.0",
          "CET-1CEST,M3.6.0,M10.5.0", "CET-1CEST,J0,J10", "CET-1CEST,M3.5.0,M10.5.0/3x"}) {
      INFO(bad);
      CHECK_FALSE(config::parse_posix_tz(bad).has_value());
    }
    CHECK(config::parse_posix_tz("IST-5:30")->std_offset == 19800);
  }
}

TEST_CASE("UTC and fixed zones load without any zone files", "[config][timezone]") {
  const auto empty = std::filesystem::temp_directory_path() /
                     ("callwatch-empty-tzdir-" + std::to_string(::getpid()));
  std::filesystem::create_directories(empty);
  {
    ScopedTzdir scoped(empty.string());
    CHECK(config::zoneinfo_dir() == empty.string());
    CHECK(zone("UTC").offset_at(1774746000) == 0);
    CHECK(zone("Etc/UTC").offset_at(0) == 0);
    CHECK(zone("GMT").offset_at(0) == 0);
    // POSIX sign in the Etc area: Etc/GMT-8 is 8 h EAST (+28800), Etc/GMT+5 5 h WEST (-18000).
    CHECK(zone("Etc/GMT-8").offset_at(0) == 28800);
    CHECK(zone("Etc/GMT+5").offset_at(0) == -18000);
    // ISO sign after "UTC": 5 h 30 min east = 19800 s; 3 h west = -10800 s.
    CHECK(zone("UTC+05:30").offset_at(0) == 19800);
    CHECK(zone("UTC-3").offset_at(0) == -10800);
    CHECK(zone("UTC+0800").offset_at(0) == 28800);
    CHECK_FALSE(load_timezone("UTC+25").has_value());
    CHECK_FALSE(load_timezone("Etc/GMT-15").has_value());
    // A real zone needs its file, which this directory does not have.
    auto berlin = load_timezone("Europe/Berlin");
    REQUIRE_FALSE(berlin.has_value());
    CHECK(berlin.error().find("unknown time zone 'Europe/Berlin'") != std::string::npos);
  }
  std::filesystem::remove_all(empty);
}

TEST_CASE("zone names cannot leave the zoneinfo directory", "[config][timezone]") {
  for (const char* bad : {"../etc/passwd", "/etc/localtime", "Europe/../../etc/passwd",
                          "Europe//Berlin", "Europe/Berlin/", "", "Asia/Shang hai"}) {
    INFO(bad);
    CHECK_FALSE(load_timezone(bad).has_value());
  }
  auto dir = load_timezone("Europe");  // a directory, not a zone
  REQUIRE_FALSE(dir.has_value());
  auto typo = load_timezone("Asia/Shanghia");
  REQUIRE_FALSE(typo.has_value());
  CHECK(typo.error().find("did you mean 'Asia/Shanghai'?") != std::string::npos);
}

TEST_CASE("intervals and days align on local time in Asia/Kolkata (+05:30)", "[config][timezone]") {
  const auto kolkata = zone("Asia/Kolkata");
  CHECK(kolkata.offset_at(k2026) == 19800);
  // 2026-01-15 10:07:00 UTC = k2026 + 14 days + 36420 s = 15:37 IST.
  constexpr double kNow = k2026 + 14 * kDay + 10 * 3600 + 7 * 60;
  // Hour interval: 15:00 IST = 09:30 UTC (an hour floored in UTC would give 10:00).
  CHECK(kolkata.interval_start(kNow, 60) == k2026 + 14 * kDay + 9 * 3600 + 30 * 60);
  // 15-minute interval: 15:30 IST = 10:00 UTC.
  CHECK(kolkata.interval_start(kNow, 15) == k2026 + 14 * kDay + 10 * 3600);
  // 2026-01-15 20:00 UTC is 01:30 IST on the 16th: the day began at 00:00 IST on the 16th =
  // 18:30 UTC on the 15th.
  constexpr double kLate = k2026 + 14 * kDay + 20 * 3600;
  CHECK(kolkata.day_start(kLate, 0) == k2026 + 14 * kDay + 18 * 3600 + 30 * 60);
  // With the business day starting at 06:00, 01:30 IST still belongs to the day that began at
  // 06:00 IST on the 15th = 00:30 UTC on the 15th.
  CHECK(kolkata.day_start(kLate, 6 * 3600) == k2026 + 14 * kDay + 30 * 60);
}

TEST_CASE("intervals and days in Berlin around the 2026 daylight-saving changes",
          "[config][timezone]") {
  const auto berlin = zone("Europe/Berlin");
  constexpr double kMar29 = k2026 + 87 * kDay;  // 2026-03-29 00:00 UTC = 01:00 CET
  constexpr double kSwitch = kMar29 + 3600;     // 01:00 UTC: 02:00 CET becomes 03:00 CEST
  // Just before the switch, 00:59:59 UTC = 01:59:59 CET: interval 01:45 CET = 00:45 UTC.
  CHECK(berlin.interval_start(kSwitch - 1, 15) == kMar29 + 45 * 60);
  // 01:10 UTC = 03:10 CEST: interval 03:00 CEST = 01:00 UTC, the switch instant itself.
  CHECK(berlin.interval_start(kSwitch + 600, 15) == kSwitch);
  // Hour intervals: 00:30 UTC = 01:30 CET -> 01:00 CET = 00:00 UTC; 01:30 UTC = 03:30 CEST ->
  // 03:00 CEST = 01:00 UTC.
  CHECK(berlin.interval_start(kMar29 + 1800, 60) == kMar29);
  CHECK(berlin.interval_start(kSwitch + 1800, 60) == kSwitch);
  // Noon UTC on the 29th is 14:00 CEST, but the day began at 00:00 CET (still winter time) =
  // 23:00 UTC on the 28th.
  CHECK(berlin.day_start(kMar29 + 12 * 3600, 0) == kMar29 - 3600);
  // A 06:00 business day that morning began at 06:00 CEST = 04:00 UTC.
  CHECK(berlin.day_start(kMar29 + 12 * 3600, 6 * 3600) == kMar29 + 4 * 3600);

  constexpr double kOct25 = k2026 + 297 * kDay;  // 2026-10-25 00:00 UTC = 02:00 CEST
  // Autumn: 03:00 CEST falls back to 02:00 CET at 01:00 UTC; 02:00-03:00 local happens twice.
  // 00:10 UTC = 02:10 CEST -> 02:00 CEST = 00:00 UTC; 01:10 UTC = 02:10 CET -> 02:00 CET = 01:00
  // UTC.
  CHECK(berlin.interval_start(kOct25 + 600, 60) == kOct25);
  CHECK(berlin.interval_start(kOct25 + 3600 + 600, 60) == kOct25 + 3600);
  // Noon UTC on the 25th is 13:00 CET; the day began at 00:00 CEST = 22:00 UTC on the 24th.
  CHECK(berlin.day_start(kOct25 + 12 * 3600, 0) == kOct25 - 2 * 3600);
  // Summer, just after local midnight: 2026-07-14 22:30 UTC = 00:30 CEST on the 15th; the day
  // began at 00:00 CEST = 22:00 UTC on the 14th (July 15 = day 195).
  constexpr double kJul15 = k2026 + 195 * kDay;
  CHECK(berlin.day_start(kJul15 - 1800, 0) == kJul15 - 7200);
}
