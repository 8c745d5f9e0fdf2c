// TZif reader (RFC 8536) and load_timezone: the only place callwatch touches zone files, so the
// metrics core can stay free of I/O.
#include "callwatch/config/zoneinfo.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "callwatch/config/config.hpp"
#include "suggest.hpp"

namespace callwatch::config {
namespace {

using Transition = metrics::TimeZone::Transition;

class Reader {
 public:
  explicit Reader(std::string_view bytes) : b_(bytes) {}
  bool has(std::size_t n) const { return b_.size() - pos_ >= n; }
  std::size_t pos() const { return pos_; }
  void skip(std::size_t n) { pos_ += n; }
  std::uint8_t u8() { return static_cast<std::uint8_t>(b_[pos_++]); }
  std::uint32_t u32() {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | u8();
    return v;
  }
  std::int32_t i32() { return static_cast<std::int32_t>(u32()); }
  std::int64_t i64() {
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | u8();
    return static_cast<std::int64_t>(v);
  }
  std::string_view rest() const { return b_.substr(pos_); }

 private:
  std::string_view b_;
  std::size_t pos_ = 0;
};

struct Header {
  char version = 0;
  std::uint32_t isutcnt = 0, isstdcnt = 0, leapcnt = 0, timecnt = 0, typecnt = 0, charcnt = 0;
  std::size_t data_size(std::size_t time_size) const {
    return timecnt * time_size + timecnt + typecnt * 6 + charcnt + leapcnt * (time_size + 4) +
           isstdcnt + isutcnt;
  }
};

tl::expected<Header, std::string> read_header(Reader& r) {
  if (!r.has(44) || r.rest().substr(0, 4) != "TZif") {
    return tl::unexpected(std::string("not a TZif file"));
  }
  r.skip(4);
  Header h;
  h.version = static_cast<char>(r.u8());
  r.skip(15);
  h.isutcnt = r.u32();
  h.isstdcnt = r.u32();
  h.leapcnt = r.u32();
  h.timecnt = r.u32();
  h.typecnt = r.u32();
  h.charcnt = r.u32();
  // Bounds from RFC 8536: a file outside them is damaged, and the checks keep the size sums small.
  if (h.typecnt == 0 || h.typecnt > 256 || h.timecnt > 100000 || h.charcnt > 100000 ||
      h.leapcnt > 100000 || (h.isutcnt != 0 && h.isutcnt != h.typecnt) ||
      (h.isstdcnt != 0 && h.isstdcnt != h.typecnt)) {
    return tl::unexpected(std::string("damaged TZif header"));
  }
  return h;
}

struct Body {
  std::vector<std::int64_t> times;
  std::vector<std::uint8_t> indices;
  std::vector<int> offsets;  // per local time type
};

tl::expected<Body, std::string> read_body(Reader& r, const Header& h, std::size_t time_size) {
  if (!r.has(h.data_size(time_size))) return tl::unexpected(std::string("truncated TZif file"));
  Body b;
  b.times.reserve(h.timecnt);
  for (std::uint32_t i = 0; i < h.timecnt; ++i) {
    b.times.push_back(time_size == 8 ? r.i64() : r.i32());
  }
  for (std::uint32_t i = 0; i < h.timecnt; ++i) {
    const std::uint8_t idx = r.u8();
    if (idx >= h.typecnt) return tl::unexpected(std::string("damaged TZif transition"));
    b.indices.push_back(idx);
  }
  for (std::uint32_t i = 0; i < h.typecnt; ++i) {
    const std::int32_t utoff = r.i32();
    r.skip(2);  // isdst, abbreviation index: only the offset matters for interval alignment
    // -2^31 is reserved by the RFC; real offsets stay within a day.
    if (utoff < -89999 || utoff > 93599) return tl::unexpected(std::string("bad UTC offset"));
    b.offsets.push_back(utoff);
  }
  r.skip(h.charcnt + h.leapcnt * (time_size + 4) + h.isstdcnt + h.isutcnt);
  return b;
}

bool all_of_chars(std::string_view s, std::string_view allowed_extra) {
  return std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           allowed_extra.find(c) != std::string_view::npos;
  });
}

// "+8", "-03:30", "+0530" after UTC; east positive.
std::optional<int> parse_iso_offset(std::string_view s) {
  if (s.size() < 2 || (s[0] != '+' && s[0] != '-')) return std::nullopt;
  const int sign = s[0] == '-' ? -1 : 1;
  std::string digits;
  for (char c : s.substr(1)) {
    if (c == ':') continue;
    if (c < '0' || c > '9') return std::nullopt;
    digits.push_back(c);
  }
  int h = 0;
  int m = 0;
  if (digits.size() <= 2) {
    h = std::stoi(digits);
  } else if (digits.size() == 4) {
    h = std::stoi(digits.substr(0, 2));
    m = std::stoi(digits.substr(2));
  } else {
    return std::nullopt;
  }
  // A colon only belongs between hours and minutes ("+08:00").
  const auto colon = s.find(':');
  if (colon != std::string_view::npos && (colon != 3 || s.size() != 6)) return std::nullopt;
  if (h > 14 || m > 59) return std::nullopt;
  return sign * (h * 3600 + m * 60);
}

std::optional<std::string> suggest_zone(const std::string& dir, const std::string& name) {
  const auto slash = name.rfind('/');
  const std::string region = slash == std::string::npos ? "" : name.substr(0, slash);
  const std::string leaf = slash == std::string::npos ? name : name.substr(slash + 1);
  std::error_code ec;
  const std::filesystem::path base = region.empty() ? dir : dir + "/" + region;
  std::vector<std::string> candidates;
  for (const auto& e : std::filesystem::directory_iterator(base, ec)) {
    if (e.is_regular_file(ec)) candidates.push_back(e.path().filename().string());
  }
  auto best = closest_match(leaf, candidates);
  if (!best) return std::nullopt;
  return region.empty() ? *best : region + "/" + *best;
}

}  // namespace

tl::expected<metrics::TimeZone, std::string> parse_tzif(std::string_view bytes,
                                                        const std::string& name) {
  Reader r(bytes);
  auto h1 = read_header(r);
  if (!h1) return tl::unexpected(h1.error());
  Header h = *h1;
  std::size_t time_size = 4;
  if (h.version >= '2') {
    // Version 2+ repeats the data with 64-bit times (the 32-bit part stops in 2038): skip to it.
    if (!r.has(h.data_size(4))) return tl::unexpected(std::string("truncated TZif file"));
    r.skip(h.data_size(4));
    auto h2 = read_header(r);
    if (!h2) return tl::unexpected(h2.error());
    h = *h2;
    time_size = 8;
  }
  if (h.leapcnt != 0) {
    // "right/" zones count leap seconds, so their instants are not Unix time.
    return tl::unexpected(
        std::string("zone counts leap seconds (a right/ zone); use the plain zone"));
  }
  auto body = read_body(r, h, time_size);
  if (!body) return tl::unexpected(body.error());

  const int initial = body->offsets[0];  // RFC 8536: type 0 applies before the first transition
  std::vector<Transition> transitions;
  int current = initial;
  for (std::size_t i = 0; i < body->times.size(); ++i) {
    if (i > 0 && body->times[i] <= body->times[i - 1]) {
      return tl::unexpected(std::string("TZif transitions out of order"));
    }
    const int off = body->offsets[body->indices[i]];
    if (off == current) continue;  // a change of abbreviation or isdst only
    transitions.push_back({body->times[i], off});
    current = off;
  }

  if (time_size == 8) {
    std::string_view rest = r.rest();
    if (rest.size() < 2 || rest[0] != '\n')
      return tl::unexpected(std::string("missing TZif footer"));
    const auto end = rest.find('\n', 1);
    if (end == std::string_view::npos)
      return tl::unexpected(std::string("unterminated TZif footer"));
    const std::string_view footer = rest.substr(1, end - 1);
    if (!footer.empty()) {
      auto rule = parse_posix_tz(footer);
      if (!rule) return tl::unexpected(rule.error());
      const std::int64_t last = transitions.empty() ? INT64_MIN : transitions.back().utc;
      int first_year = 1970;
      if (!transitions.empty()) {
        // The civil year of the last explicit switch; the rule takes over after that instant.
        using namespace std::chrono;
        const auto d = floor<days>(sys_seconds{seconds{last}});
        first_year = static_cast<int>(year_month_day{d}.year());
      }
      // Without daylight saving the rule only restates the offset of the last transition.
      for (const auto& t : posix_tz_transitions(*rule, first_year, kLastGeneratedYear)) {
        if (t.utc <= last || t.offset == current) continue;
        transitions.push_back(t);
        current = t.offset;
      }
    }
  }
  return metrics::TimeZone::from_transitions(name, initial, std::move(transitions));
}

std::optional<metrics::TimeZone> builtin_timezone(std::string_view name) {
  static constexpr std::string_view kUtcNames[] = {
      "UTC", "Etc/UTC",  "GMT",  "Etc/GMT",   "Etc/UCT",
      "UCT", "Etc/Zulu", "Zulu", "Universal", "Etc/Universal"};
  if (name == "UTC") return metrics::TimeZone::utc();
  for (auto n : kUtcNames) {
    if (name == n) return metrics::TimeZone::fixed(0, std::string(name));
  }
  if (name.starts_with("Etc/GMT") && name.size() > 7) {
    // The Etc zones keep the POSIX sign: Etc/GMT+5 is five hours WEST of Greenwich.
    const std::string_view tail = name.substr(7);
    if ((tail[0] == '+' || tail[0] == '-') && tail.size() <= 3 && tail.size() >= 2 &&
        all_of_chars(tail.substr(1), "")) {
      const int h = std::stoi(std::string(tail.substr(1)));
      const bool west = tail[0] == '+';
      if (h <= (west ? 12 : 14))
        return metrics::TimeZone::fixed((west ? -1 : 1) * h * 3600, std::string(name));
    }
    return std::nullopt;
  }
  if (name.starts_with("UTC") && name.size() > 3) {
    if (auto off = parse_iso_offset(name.substr(3))) {
      return metrics::TimeZone::fixed(*off, std::string(name));
    }
  }
  return std::nullopt;
}

std::string zoneinfo_dir() {
  const char* env = std::getenv("TZDIR");
  if (env != nullptr && *env != '\0') return env;
  return "/usr/share/zoneinfo";
}

tl::expected<metrics::TimeZone, std::string> load_timezone(const std::string& name) {
  if (name.empty()) return tl::unexpected(std::string("time zone name is empty"));
  if (auto z = builtin_timezone(name)) return *z;
  // The name becomes a path under the zoneinfo directory: never let it climb out of it.
  if (name.front() == '/' || name.find("..") != std::string::npos ||
      name.find("//") != std::string::npos || name.back() == '/' || name.size() > 128 ||
      !all_of_chars(name, "/_+-.")) {
    return tl::unexpected(fmt::format(
        "'{}' is not a time zone name (expected an IANA name like \"Europe/Berlin\")", name));
  }
  const std::string dir = zoneinfo_dir();
  const std::string path = dir + "/" + name;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    std::string msg = fmt::format("unknown time zone '{}' (no file {})", name, path);
    if (auto s = suggest_zone(dir, name)) msg += fmt::format("; did you mean '{}'?", *s);
    return tl::unexpected(msg);
  }
  std::ifstream in(path, std::ios::binary);
  std::string bytes;
  constexpr std::size_t kMaxZoneFile = 1 << 20;  // real ones are a few KiB
  bytes.resize(kMaxZoneFile + 1);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  bytes.resize(static_cast<std::size_t>(in.gcount()));
  if (bytes.empty() && !in.eof()) return tl::unexpected(fmt::format("cannot read {}", path));
  if (bytes.size() > kMaxZoneFile)
    return tl::unexpected(fmt::format("{} is too large for a zone file", path));
  auto tz = parse_tzif(bytes, name);
  if (!tz) return tl::unexpected(fmt::format("time zone '{}' ({}): {}", name, path, tz.error()));
  return tz;
}

}  // namespace callwatch::config
