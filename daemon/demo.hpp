// `callwatchd --demo`: the embedded simulator as a feed (several queues with CJK and Latin names,
// a surge a few minutes in), its queues with their forecast, and the alert rules the demo shows
// when the config names none. run_daemon only calls these.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <spdlog/logger.h>
#include <tl/expected.hpp>
#include <zmq.hpp>

#include "callwatch/metrics/alerts.hpp"
#include "callwatch/metrics/clock.hpp"
#include "callwatch/metrics/settings.hpp"
#include "feeds/sim/simulator.hpp"

namespace callwatch::daemon {

// The simulator's feed name (callwatch_feed_* label, the feed_stale rule's feed).
inline constexpr std::string_view kDemoFeedName = "sim";

// What `--demo` watches when the config names no rule, so the board and callwatch_alerts_firing
// show alerts out of the box: a caller waiting over a minute, today's service level under 80 %,
// a surge of arrivals, a long queue, and a simulator that went quiet.
std::vector<metrics::AlertRule> demo_alert_rules();

// Calls per 15-minute interval the demo simulator sends to each queue before its surge (same
// order as Simulator::make_queue_names): the surge baseline of the demo queues, so the surge
// ratio has data from the first minutes on instead of after 35 minutes of history.
std::vector<double> demo_forecast_per_interval(const sim::SimOptions& opts, double interval_minutes);

// "FACTOR@SECONDS" (as callwatch-sim --surge): the demo's surge from the environment
// (CALLWATCH_DEMO_SURGE), so a test need not wait minutes for it.
tl::expected<void, std::string> parse_surge(std::string_view text, sim::SimOptions& opts);

struct DemoSetup {
  sim::SimOptions sim;
};

// The demo's simulator options (CALLWATCH_DEMO_SURGE=FACTOR@SECONDS overrides the surge; a bad
// value is the error) and, in `settings`, the simulated queues the config does not name, with
// display names, site, forecast and planned handle time.
tl::expected<DemoSetup, std::string> prepare_demo(metrics::EngineSettings& settings,
                                                  const std::string& site, spdlog::logger& log);

// The simulator thread: paced on `clock`, pushing native events through the engine's internal
// endpoint as feed kDemoFeedName; `up` is that feed's callwatch_feed_up. Stops and joins when
// destroyed.
class DemoSimulator {
 public:
  DemoSimulator(zmq::context_t& ctx, sim::SimOptions opts, std::shared_ptr<std::atomic<bool>> up,
                const metrics::Clock& clock);
  ~DemoSimulator();
  DemoSimulator(const DemoSimulator&) = delete;
  DemoSimulator& operator=(const DemoSimulator&) = delete;

 private:
  sim::SimOptions opts_;
  std::shared_ptr<std::atomic<bool>> up_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace callwatch::daemon
