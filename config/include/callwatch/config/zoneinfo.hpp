// Reading IANA time zones for metrics::TimeZone: the TZif files of the system zoneinfo and the
// POSIX TZ rule in their footer, which governs every instant after the file's last transition.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "callwatch/metrics/timezone.hpp"

namespace callwatch::config {

// One end of a daylight-saving period in a POSIX TZ rule ("M3.5.0/2", "J60", "59/25").
struct PosixTzRule {
  enum class Kind : std::uint8_t {
    julian_no_leap,  // Jn: day 1..365, February 29 never counted
    day_of_year,     // n: day 0..365, February 29 counted in leap years
    month_week_day,  // Mm.w.d: weekday d (0 = Sunday) of week w (5 = last) of month m
  };
  Kind kind = Kind::month_week_day;
  int day = 0;    // Jn / n
  int month = 0;  // Mm.w.d
  int week = 0;
  int weekday = 0;
  int time_seconds = 7200;  // local wall time of the switch; may be negative or past 24 h
};

// "CET-1CEST,M3.5.0,M10.5.0/3": offsets here are seconds EAST of UTC (the TZ string writes them
// west-positive; the parser flips the sign).
struct PosixTz {
  std::string std_name;
  int std_offset = 0;
  struct Dst {
    std::string name;
    int offset = 0;
    PosixTzRule start;  // wall time of `start` is read in standard time, of `end` in DST
    PosixTzRule end;
  };
  std::optional<Dst> dst;
};

tl::expected<PosixTz, std::string> parse_posix_tz(std::string_view text);

// The switches the rule implies in local years first_year..last_year (inclusive), sorted, each
// with the offset in force from that instant. Empty when the rule has no daylight saving.
std::vector<metrics::TimeZone::Transition> posix_tz_transitions(const PosixTz& tz, int first_year,
                                                                int last_year);

// Years up to which a zone's footer rule is expanded into explicit transitions; after the last
// generated switch the offset of that switch stays in force.
inline constexpr int kLastGeneratedYear = 2100;

// A zone from the bytes of a TZif file (RFC 8536, versions 1 to 4). The 64-bit section is used
// when present, and the footer rule fills in the years after the last transition.
tl::expected<metrics::TimeZone, std::string> parse_tzif(std::string_view bytes,
                                                        const std::string& name);

// Zones that need no zone file: "UTC", "Etc/UTC", "GMT", "Etc/GMT+5" (POSIX sign: 5 h WEST),
// and "UTC+08:00" / "UTC-3" (ISO sign: east positive). nullopt for any other name.
std::optional<metrics::TimeZone> builtin_timezone(std::string_view name);

// The zoneinfo directory: $TZDIR when set and not empty, else /usr/share/zoneinfo.
std::string zoneinfo_dir();

}  // namespace callwatch::config
