#include "runtime/system_clock.hpp"

#include <chrono>

namespace callwatch::daemon {

double SystemClock::now() const {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

const metrics::Clock& system_clock() {
  static const SystemClock clock;
  return clock;
}

}  // namespace callwatch::daemon
