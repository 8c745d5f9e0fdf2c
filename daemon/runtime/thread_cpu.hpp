// CPU time of the calling thread: what a piece of work cost the thread, without the time it
// spent waiting for a core on a busy machine (wall time would count that too). CostPacer spaces a
// repeated piece of work (a publish, a delta) by its own cost.
#pragma once

#include <algorithm>
#include <chrono>
#include <ctime>

namespace callwatch::daemon {

inline std::chrono::nanoseconds thread_cpu_now() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec);
}

// Work done at most every `floor`, and never so often that it takes more than `share` of its
// thread's CPU: the gap is the larger of the floor and the last run's CPU cost / share.
class CostPacer {
 public:
  using Steady = std::chrono::steady_clock;
  CostPacer(std::chrono::milliseconds floor, double share) : floor_(floor), share_(share) {}

  Steady::duration gap() const {
    return std::max<Steady::duration>(floor_, std::chrono::duration_cast<Steady::duration>(cost_ / share_));
  }
  // Runs `work`, timing it on this thread's CPU clock.
  template <typename F>
  void run(F&& work) {
    const auto cpu0 = thread_cpu_now();
    work();
    cost_ = thread_cpu_now() - cpu0;
  }
  // True at most once a minute (at `now`) while the gap is over 1.5 times the floor: time to say so.
  bool stretched_news(Steady::time_point now) {
    if (!(gap() > 1.5 * floor_) || now - said_ < std::chrono::minutes(1)) return false;
    said_ = now;
    return true;
  }
  double cost_ms() const { return std::chrono::duration<double, std::milli>(cost_).count(); }
  double gap_ms() const { return std::chrono::duration<double, std::milli>(gap()).count(); }
  long long floor_ms() const { return floor_.count(); }

 private:
  std::chrono::milliseconds floor_;
  double share_;
  std::chrono::nanoseconds cost_{};  // the last run's CPU time on this thread
  Steady::time_point said_ = Steady::now() - std::chrono::minutes(2);
};

}  // namespace callwatch::daemon
