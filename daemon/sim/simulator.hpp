// A deterministic contact center: Poisson arrivals per queue, exponential patience and handle
// times, ring-no-answer, pauses with reasons, an optional surge. Emits native JSON events.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callwatch::daemon::sim {

struct SimOptions {
  int queues = 6;
  int agents = 50;
  double rate = 0.5;             // calls per second, all queues together
  double surge_factor = 1.0;     // arrival rate multiplier once the surge starts
  double surge_at = -1;          // seconds after start; < 0 = no surge
  double surge_duration = 600;   // seconds the surge lasts
  double duration = 0;           // seconds; 0 = forever
  std::uint64_t seed = 1;
  double mean_aht = 180;         // seconds
  double mean_patience = 90;     // seconds
  double ring_noanswer_probability = 0.08;
};

class Simulator {
 public:
  Simulator(const SimOptions& opts, double start_time);
  ~Simulator();

  // Emits, in time order, every event due at or before `t` (one native JSON object each).
  // Returns false once the simulation is over (duration reached and all calls finished).
  bool run_until(double t, const std::function<void(std::string_view json)>& sink);

  const std::vector<std::string>& queue_names() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace callwatch::daemon::sim
