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

#include "callwatch/metrics/event.hpp"

namespace callwatch::daemon::sim {

struct SimOptions {
  int queues = 6;
  int agents = 50;
  // Calls per second, all queues together. 0.2/s x ~200 s of handle + wrap is ~40 Erlangs on 50
  // agents: busy but stable (~80 % occupancy), so a surge visibly breaks the service level.
  double rate = 0.2;
  double surge_factor = 1.0;     // arrival rate multiplier once the surge starts
  double surge_at = -1;          // seconds after start; < 0 = no surge
  double surge_duration = 600;   // seconds the surge lasts
  double duration = 0;           // seconds; 0 = forever
  std::uint64_t seed = 1;
  double mean_aht = 180;         // seconds of talk (incl. hold), exponential
  double mean_patience = 90;     // seconds, exponential
  double ring_noanswer_probability = 0.08;
  // Extensions (defaults chosen to look like a real floor; tests switch pieces off).
  double mean_wrap = 15;         // after-call work, seconds, exponential (min 2 s)
  double max_wait = 180;         // queue timeout: call_exited timeout at this wait
  double key_exit_probability = 0.04;   // of callers who give up: press a key instead of hanging up
  double transfer_probability = 0.03;   // of answered calls: agent transfers to another queue
  double pause_fraction = 0.06;  // long-run share of agents on a break (午饭, 培训, Break)
  double auto_pause_seconds = 30;  // agent paused "Auto-Pause" after a ring-no-answer (mean)
  bool log_out_at_end = true;    // after `duration` and the last call: agents log out
  int opening_calls = 0;         // extra calls in the first `opening_seconds` (the lines open)
  double opening_seconds = 2;
};

// What happened so far (for the summary line of callwatch-sim and for the bench).
struct SimStats {
  std::uint64_t events = 0;
  std::uint64_t arrivals = 0;  // new calls (transfers into a queue not included)
  std::uint64_t transfers = 0;
  std::uint64_t answered = 0;
  std::uint64_t abandoned = 0;
  std::uint64_t timed_out = 0;
  std::uint64_t exited_empty = 0;
  std::uint64_t exited_key = 0;
  std::uint64_t ring_noanswer = 0;
  std::uint64_t pauses = 0;
};

class Simulator {
 public:
  // Throws std::invalid_argument on impossible options (negative rate, no queues, ...).
  Simulator(const SimOptions& opts, double start_time);
  ~Simulator();
  Simulator(const Simulator&) = delete;
  Simulator& operator=(const Simulator&) = delete;

  // Emits, in time order, every event due at or before `t` (one native JSON object each).
  // Returns false once the simulation is over (duration reached and all calls finished).
  bool run_until(double t, const std::function<void(std::string_view json)>& sink);
  // The same events as metrics::Event (views valid during the call): the embedded simulator
  // hands them to the engine without JSON.
  bool run_events_until(double t, const std::function<void(const metrics::Event&)>& sink);

  // Time of the next event (+inf when the simulation is over): lets a paced sender sleep.
  double next_event_time() const;

  const std::vector<std::string>& queue_names() const;
  // Bilingual names for a config or a wallboard ("sales" -> "销售 Sales"), parallel to queue_names().
  const std::vector<std::string>& queue_display_names() const;
  const std::vector<std::string>& agent_names() const;
  const SimStats& stats() const;

  // Name lists the simulator draws from (first N queues, then generated ones).
  static std::vector<std::string> make_queue_names(int n);
  static std::vector<std::string> make_queue_display_names(int n);
  static std::vector<std::string> make_agent_names(int n);
  // Each queue's share of the arrival rate (sums to 1): weight 1 / (1 + 0.3 i), the first queues
  // busiest. Expected calls of queue i in a window = rate x share[i] x seconds.
  static std::vector<double> queue_shares(int n);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace callwatch::daemon::sim
