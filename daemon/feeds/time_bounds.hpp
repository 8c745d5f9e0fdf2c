// The range of times a feed may state. Every time that starts a span — an event's own time, a
// caller's entry, an answer, the start of a state, and the start a stated duration implies (ts -
// wait, ts - talk) — lies in a window around a reference, or the message is rejected (each feed
// with its own reason label) and logged: `ts` 1.0 once showed a caller waiting 56 years, 1e300 one
// the stale sweep never cut. Live, the reference is the daemon's clock. In a replay (`callwatchd
// report` of last year's files) the daemon's clock says nothing about the input: the past is
// bounded by the input's own newest time so far, the future by this machine's clock (a recording
// does not come from the future).
#pragma once

#include <string>
#include <string_view>

#include "callwatch/metrics/clock.hpp"
#include "callwatch/metrics/event.hpp"
#include "callwatch/metrics/settings.hpp"

namespace callwatch::daemon {

struct TimeLimits {
  // [engine] max_event_age_seconds: a week by default (late events, a queue_log backlog after an
  // outage, a PBX clock days behind still count, by their own time).
  double max_age_seconds = metrics::kDefaultMaxEventAgeSeconds;
  // [engine] max_event_ahead_seconds: two days by default (a PBX clock a day ahead still counts,
  // as clock_skew).
  double max_ahead_seconds = metrics::kDefaultMaxEventAheadSeconds;

  static TimeLimits of(const metrics::EngineSettings& s) {
    return {s.max_event_age_seconds, s.max_event_ahead_seconds};
  }
};

class TimeBounds {
 public:
  explicit TimeBounds(TimeLimits limits = {}, const metrics::Clock* wall = nullptr);

  // "" when `t` may start a span, else why not (naming `what` and the config key; no allocation
  // when it may). `now`: the daemon's clock live, NaN in a replay (then a time that passes moves
  // the input's newest time). `stated`: for the start a duration implies (t = ts - stated), the
  // duration, so the message names it.
  std::string check(double t, double now, std::string_view what, double stated = metrics::kNoValue);
  // An event's own time and the starts its stated durations imply (wait, talk, hold, wrap, ring).
  std::string check(const metrics::Event& e, double now);

  const TimeLimits& limits() const { return limits_; }

 private:
  TimeLimits limits_;
  const metrics::Clock* wall_;
  double newest_ = metrics::kNoValue;  // replay: the newest time that passed
  double wall_seen_ = -1e300;           // replay: the wall clock when last read
};

}  // namespace callwatch::daemon
