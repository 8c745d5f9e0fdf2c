// POSIX TZ strings as found in TZif footers (RFC 8536 section 3.3, with the version 3 extensions:
// hours up to 167 and negative switch times).
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>

#include "callwatch/config/zoneinfo.hpp"

namespace callwatch::config {
namespace {

class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  std::size_t pos() const { return i_; }
  void advance() { ++i_; }
  std::string_view rest() const { return s_.substr(std::min(i_, s_.size())); }

 private:
  std::string_view s_;
  std::size_t i_ = 0;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

tl::expected<int, std::string> parse_number(Cursor& c, int max_digits, int max_value) {
  if (!is_digit(c.peek()))
    return tl::unexpected(fmt::format("expected a number at '{}'", c.rest()));
  int v = 0;
  int digits = 0;
  while (is_digit(c.peek())) {
    if (++digits > max_digits) return tl::unexpected(std::string("number too long"));
    v = v * 10 + (c.peek() - '0');
    c.advance();
  }
  if (v > max_value) return tl::unexpected(fmt::format("{} is out of range", v));
  return v;
}

// Zone abbreviation: three or more letters, or <...> quoting digits and signs ("<+0530>").
tl::expected<std::string, std::string> parse_name(Cursor& c) {
  std::string name;
  if (c.eat('<')) {
    while (!c.done() && c.peek() != '>') {
      const char ch = c.peek();
      if (!std::isalnum(static_cast<unsigned char>(ch)) && ch != '+' && ch != '-') {
        return tl::unexpected(fmt::format("bad character '{}' in quoted zone name", ch));
      }
      name.push_back(ch);
      c.advance();
    }
    if (!c.eat('>')) return tl::unexpected(std::string("unterminated <quoted> zone name"));
  } else {
    while (std::isalpha(static_cast<unsigned char>(c.peek()))) {
      name.push_back(c.peek());
      c.advance();
    }
  }
  if (name.size() < 3) return tl::unexpected(fmt::format("zone name '{}' is shorter than 3", name));
  return name;
}

// [+-]hh[:mm[:ss]] in seconds, sign as written.
tl::expected<int, std::string> parse_hms(Cursor& c, int max_hours) {
  int sign = 1;
  if (c.eat('-')) {
    sign = -1;
  } else {
    c.eat('+');
  }
  auto h = parse_number(c, 3, max_hours);
  if (!h) return tl::unexpected(h.error());
  int seconds = *h * 3600;
  if (c.eat(':')) {
    auto m = parse_number(c, 2, 59);
    if (!m) return tl::unexpected(m.error());
    seconds += *m * 60;
    if (c.eat(':')) {
      auto s = parse_number(c, 2, 59);
      if (!s) return tl::unexpected(s.error());
      seconds += *s;
    }
  }
  return sign * seconds;
}

tl::expected<PosixTzRule, std::string> parse_rule(Cursor& c) {
  PosixTzRule r;
  if (c.eat('J')) {
    r.kind = PosixTzRule::Kind::julian_no_leap;
    auto d = parse_number(c, 3, 365);
    if (!d) return tl::unexpected(d.error());
    if (*d < 1) return tl::unexpected(std::string("Jn day must be 1..365"));
    r.day = *d;
  } else if (c.eat('M')) {
    r.kind = PosixTzRule::Kind::month_week_day;
    auto m = parse_number(c, 2, 12);
    if (!m || *m < 1 || !c.eat('.')) return tl::unexpected(std::string("bad Mm.w.d month"));
    auto w = parse_number(c, 1, 5);
    if (!w || *w < 1 || !c.eat('.')) return tl::unexpected(std::string("bad Mm.w.d week"));
    auto d = parse_number(c, 1, 6);
    if (!d) return tl::unexpected(std::string("bad Mm.w.d weekday"));
    r.month = *m;
    r.week = *w;
    r.weekday = *d;
  } else {
    r.kind = PosixTzRule::Kind::day_of_year;
    auto d = parse_number(c, 3, 365);
    if (!d) return tl::unexpected(d.error());
    r.day = *d;
  }
  if (c.eat('/')) {
    auto t = parse_hms(c, 167);
    if (!t) return tl::unexpected(t.error());
    r.time_seconds = *t;
  }
  return r;
}

// Local midnight (as seconds since the epoch on a UTC-like local scale) of the rule's day.
std::int64_t rule_local_seconds(const PosixTzRule& r, int year) {
  using namespace std::chrono;
  const std::chrono::year y{year};
  sys_days day;
  switch (r.kind) {
    case PosixTzRule::Kind::julian_no_leap: {
      // Jn never counts February 29, so from March on a leap year is one day further along.
      int offset = r.day - 1;
      if (y.is_leap() && r.day >= 60) ++offset;
      day = sys_days{y / January / 1} + days{offset};
      break;
    }
    case PosixTzRule::Kind::day_of_year:
      day = sys_days{y / January / 1} + days{r.day};
      break;
    case PosixTzRule::Kind::month_week_day: {
      const auto ym = y / month{static_cast<unsigned>(r.month)};
      const sys_days first{ym / 1};
      const unsigned first_wd = weekday{first}.c_encoding();
      const int to_first = (r.weekday - static_cast<int>(first_wd) + 7) % 7;
      int dom = 1 + to_first + 7 * (r.week - 1);
      const int month_days = static_cast<int>(static_cast<unsigned>((ym / last).day()));
      while (dom > month_days) dom -= 7;  // week 5 means the last such weekday
      day = first + days{dom - 1};
      break;
    }
  }
  return static_cast<std::int64_t>(day.time_since_epoch().count()) * 86400 + r.time_seconds;
}

}  // namespace

tl::expected<PosixTz, std::string> parse_posix_tz(std::string_view text) {
  auto fail = [&](const std::string& why) {
    return tl::unexpected(fmt::format("bad TZ rule '{}': {}", text, why));
  };
  Cursor c(text);
  PosixTz tz;
  auto std_name = parse_name(c);
  if (!std_name) return fail(std_name.error());
  tz.std_name = *std_name;
  auto std_off = parse_hms(c, 24);
  if (!std_off) return fail(std_off.error());
  tz.std_offset = -*std_off;  // POSIX counts hours west of Greenwich
  if (c.done()) return tz;

  PosixTz::Dst dst;
  auto dst_name = parse_name(c);
  if (!dst_name) return fail(dst_name.error());
  dst.name = *dst_name;
  dst.offset = tz.std_offset + 3600;
  if (!c.done() && c.peek() != ',') {
    auto off = parse_hms(c, 24);
    if (!off) return fail(off.error());
    dst.offset = -*off;
  }
  // Without a rule POSIX leaves the switch dates to the implementation; TZif footers always
  // carry one, so refuse rather than guess.
  if (!c.eat(',')) return fail("daylight saving time without a switch rule");
  auto start = parse_rule(c);
  if (!start) return fail(start.error());
  if (!c.eat(',')) return fail("expected ',' before the end rule");
  auto end = parse_rule(c);
  if (!end) return fail(end.error());
  if (!c.done()) return fail(fmt::format("unexpected '{}'", c.rest()));
  dst.start = *start;
  dst.end = *end;
  tz.dst = dst;
  return tz;
}

std::vector<metrics::TimeZone::Transition> posix_tz_transitions(const PosixTz& tz, int first_year,
                                                                int last_year) {
  std::vector<metrics::TimeZone::Transition> out;
  if (!tz.dst) return out;
  const auto& dst = *tz.dst;
  for (int y = first_year; y <= last_year; ++y) {
    // The start switch happens at a wall time read on standard time, the end on daylight time.
    out.push_back({rule_local_seconds(dst.start, y) - tz.std_offset, dst.offset});
    out.push_back({rule_local_seconds(dst.end, y) - dst.offset, tz.std_offset});
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& a, const auto& b) { return a.utc < b.utc; });
  // A zone on daylight time all year ("0/0,J365/25") ends one year's DST at the very instant the
  // next begins: of two switches at one instant the later one (the new year's) wins.
  std::vector<metrics::TimeZone::Transition> merged;
  for (const auto& t : out) {
    if (!merged.empty() && merged.back().utc == t.utc) {
      merged.back() = t;
    } else {
      merged.push_back(t);
    }
  }
  return merged;
}

}  // namespace callwatch::config
