// The real wall clock behind metrics::Clock, for the running wallboard (tests inject a manual one).
#pragma once

#include <chrono>

#include "callwatch/metrics/clock.hpp"

namespace callwatch::wallboard::app {

class SystemClock final : public metrics::Clock {
 public:
  double now() const override {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

}  // namespace callwatch::wallboard::app
