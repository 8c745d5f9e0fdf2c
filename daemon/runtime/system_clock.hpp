// The daemon's one wall-clock source: the wiring creates it and hands it to the engine loop, the
// feeds, the store, the publisher and the demo; tests hand them a clock they control.
// (steady_clock stays where a thread measures durations: timeouts, pacing, backoff.)
#pragma once

#include "callwatch/metrics/clock.hpp"

namespace callwatch::daemon {

class SystemClock final : public metrics::Clock {
 public:
  double now() const override;  // seconds since the Unix epoch, UTC
};

// A process-wide SystemClock: the default of options structs that take a clock.
const metrics::Clock& system_clock();

}  // namespace callwatch::daemon
