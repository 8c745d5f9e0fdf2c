#include "feeds/time_bounds.hpp"

#include <cmath>

#include <fmt/format.h>

#include "runtime/system_clock.hpp"

namespace callwatch::daemon {

TimeBounds::TimeBounds(TimeLimits limits, const metrics::Clock* wall)
    : limits_(limits), wall_(wall ? wall : &system_clock()) {}

std::string TimeBounds::check(double t, double now, std::string_view what, double stated) {
  const bool live = std::isfinite(now);
  auto refuse = [&](double by, bool ahead, std::string_view reference) {
    const std::string subject = std::isfinite(stated)
                                    ? fmt::format("{} {} starts its span at {}", what, stated, t)
                                    : fmt::format("{} {}", what, t);
    const std::string amount = by < 1e15 ? fmt::format("{:.0f}", by) : fmt::format("{:.3g}", by);
    return fmt::format("{} is {} s {} {} (more than [engine] {} = {:g})", subject, amount,
                       ahead ? "ahead of" : "before", reference,
                       ahead ? "max_event_ahead_seconds" : "max_event_age_seconds",
                       ahead ? limits_.max_ahead_seconds : limits_.max_age_seconds);
  };
  if (!std::isfinite(t)) return fmt::format("{} is not a finite time", what);
  if (live) {
    if (t > now + limits_.max_ahead_seconds) return refuse(t - now, true, "the daemon's clock");
    if (t < now - limits_.max_age_seconds) return refuse(now - t, false, "the daemon's clock");
    return {};
  }
  // The wall clock only moves on: a time within the bound of an earlier reading is within it of
  // now, so the clock is read again only for a time past the last reading's bound (a replay of
  // millions of lines reads it a few times, not once a line).
  if (!(t <= wall_seen_ + limits_.max_ahead_seconds)) {
    wall_seen_ = wall_->now();
    if (t > wall_seen_ + limits_.max_ahead_seconds) return refuse(t - wall_seen_, true, "this machine's clock");
  }
  if (std::isfinite(newest_) && t < newest_ - limits_.max_age_seconds) {
    return refuse(newest_ - t, false, "the newest time of the input so far");
  }
  if (!std::isfinite(newest_) || t > newest_) newest_ = t;
  return {};
}

std::string TimeBounds::check(const metrics::Event& e, double now) {
  std::string why = check(e.ts, now, "ts");
  if (!why.empty()) return why;
  const struct {
    double seconds;
    std::string_view name;
  } spans[] = {{e.wait, "wait_seconds"},
               {e.talk, "talk_seconds"},
               {e.hold, "hold_seconds"},
               {e.wrap, "wrap_seconds"},
               {e.ring_ms / 1000.0, "ring_ms / 1000"}};
  for (const auto& s : spans) {
    if (!metrics::has_value(s.seconds)) continue;
    why = check(e.ts - s.seconds, now, s.name, s.seconds);
    if (!why.empty()) return why;
  }
  return {};
}

}  // namespace callwatch::daemon
