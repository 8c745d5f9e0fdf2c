#include "callwatch/metrics/timezone.hpp"

#include <algorithm>
#include <cmath>

namespace callwatch::metrics {

TimeZone TimeZone::utc() { return TimeZone{}; }

TimeZone TimeZone::fixed(int offset_seconds, std::string name) {
  TimeZone z;
  z.initial_offset_ = offset_seconds;
  z.name_ = name.empty() ? "UTC" + std::to_string(offset_seconds) : std::move(name);
  return z;
}

TimeZone TimeZone::from_transitions(std::string name, int initial_offset,
                                    std::vector<Transition> transitions) {
  TimeZone z;
  z.name_ = std::move(name);
  z.initial_offset_ = initial_offset;
  z.transitions_ = std::move(transitions);
  std::sort(z.transitions_.begin(), z.transitions_.end(),
            [](const Transition& a, const Transition& b) { return a.utc < b.utc; });
  return z;
}

int TimeZone::offset_at(std::int64_t utc) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), utc,
                             [](std::int64_t t, const Transition& tr) { return t < tr.utc; });
  if (it == transitions_.begin()) return initial_offset_;
  return std::prev(it)->offset;
}

namespace {
double floor_to(double v, double step) { return std::floor(v / step) * step; }
// Whole seconds of a time for the offset lookup; a time no clock gives (NaN, 1e19 from a broken
// line) must not be cast out of range (undefined behaviour): it is clamped to +-2^53 s.
std::int64_t whole_seconds(double utc) {
  constexpr double kMax = 9007199254740992.0;
  if (!(utc > -kMax)) return -static_cast<std::int64_t>(kMax);
  if (!(utc < kMax)) return static_cast<std::int64_t>(kMax);
  return static_cast<std::int64_t>(std::floor(utc));
}
}  // namespace

double TimeZone::interval_start(double utc, int minutes) const {
  const int off = offset_at(whole_seconds(utc));
  const double local = utc + off;
  return floor_to(local, minutes * 60.0) - off;
}

double TimeZone::day_start(double utc, int day_start_seconds) const {
  // Local day boundary at local midnight + day_start; around a DST change the offset of the
  // boundary instant can differ from the offset now, so resolve it at the candidate instant.
  const int off = offset_at(whole_seconds(utc));
  const double local = utc + off - day_start_seconds;
  const double local_start = floor_to(local, 86400.0) + day_start_seconds;
  double start = local_start - off;
  const int off_at_start = offset_at(whole_seconds(start));
  if (off_at_start != off) start = local_start - off_at_start;
  if (start > utc) start -= 86400;  // guard: the boundary never lies after now
  return start;
}

}  // namespace callwatch::metrics
