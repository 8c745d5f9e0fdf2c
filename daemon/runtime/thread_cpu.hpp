// CPU time of the calling thread: what a piece of work cost the thread, without the time it
// spent waiting for a core on a busy machine (wall time would count that too).
#pragma once

#include <chrono>
#include <ctime>

namespace callwatch::daemon {

inline std::chrono::nanoseconds thread_cpu_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

}  // namespace callwatch::daemon
