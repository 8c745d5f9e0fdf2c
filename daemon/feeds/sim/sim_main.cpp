// callwatch-sim: the simulated contact center as a separate process, sending native JSON events to
// a running daemon over ZeroMQ PUSH (load tests, demos on another machine) and/or recording them.
#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <zmq.hpp>

#include "feeds/sim/simulator.hpp"
#include "runtime/system_clock.hpp"

namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop.store(true); }

}  // namespace

int main(int argc, char** argv) {
  using callwatch::daemon::sim::SimOptions;
  using callwatch::daemon::sim::Simulator;

  SimOptions opts;
  std::string connect;
  std::string surge;
  std::string dump;
  std::string log_level = "info";
  double speed = 1.0;
  bool drain = false;
  double start_at = 0;

  CLI::App app{"callwatch-sim: a simulated contact center sending native events to callwatchd"};
  app.add_option("--connect", connect, "daemon native feed, e.g. tcp://127.0.0.1:7701");
  app.add_option("--queues", opts.queues, "number of queues")->check(CLI::Range(1, 100000))->capture_default_str();
  app.add_option("--agents", opts.agents, "number of agents")->check(CLI::Range(0, 1000000))->capture_default_str();
  app.add_option("--rate", opts.rate, "calls per second, all queues together")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--surge", surge, "FACTOR@SECONDS: multiply the arrival rate from SECONDS after start");
  app.add_option("--surge-duration", opts.surge_duration, "seconds the surge lasts")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--duration", opts.duration, "simulated seconds of arrivals; 0 = until interrupted")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--seed", opts.seed, "random seed (same seed, same events)")->capture_default_str();
  app.add_option("--aht", opts.mean_aht, "mean talk time, seconds")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--patience", opts.mean_patience, "mean caller patience, seconds")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--speed", speed, "simulated seconds per real second; 0 = as fast as possible")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--drain", drain, "after --duration, run on until every call has ended and agents log out");
  app.add_option("--start", start_at, "simulated start time, epoch seconds (default now): reproducible dumps")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--dump", dump, "also write the events as JSON lines to FILE ('-' = stdout)");
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error")->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help prints and exits 0; any bad option is a usage error: 2, like the daemon's commands.
    return app.exit(e) == 0 ? 0 : 2;
  }

  auto log = spdlog::stderr_color_mt("sim");
  log->set_level(spdlog::level::from_str(log_level));

  if (connect.empty() && dump.empty()) {
    log->error("nothing to do: give --connect tcp://HOST:7701 and/or --dump FILE");
    return 2;
  }
  if (!surge.empty()) {
    const auto at = surge.find('@');
    try {
      if (at == std::string::npos) throw std::invalid_argument("no @");
      std::size_t used1 = 0, used2 = 0;
      opts.surge_factor = std::stod(surge.substr(0, at), &used1);
      opts.surge_at = std::stod(surge.substr(at + 1), &used2);
      if (used1 != at || used2 != surge.size() - at - 1 || !(opts.surge_factor >= 0) || !(opts.surge_at >= 0))
        throw std::invalid_argument("bad number");
    } catch (const std::exception&) {
      log->error("--surge wants FACTOR@SECONDS (e.g. 3@600), got '{}'", surge);
      return 2;
    }
  }

  const double start = start_at > 0 ? start_at : callwatch::daemon::system_clock().now();
  std::unique_ptr<Simulator> sim;
  try {
    sim = std::make_unique<Simulator>(opts, start);
  } catch (const std::invalid_argument& e) {
    log->error("{}", e.what());
    return 2;
  }

  zmq::context_t ctx;
  std::optional<zmq::socket_t> push;
  if (!connect.empty()) {
    push.emplace(ctx, zmq::socket_type::push);
    // Queued events get 2 s to leave at exit; a daemon that is down must not hang us forever.
    push->set(zmq::sockopt::linger, 2000);
    push->set(zmq::sockopt::sndhwm, 100000);
    try {
      push->connect(connect);
    } catch (const zmq::error_t& e) {
      log->error("cannot connect to {}: {}", connect, e.what());
      return 2;
    }
  }
  std::ofstream dump_file;
  std::FILE* dump_out = nullptr;
  if (dump == "-") {
    dump_out = stdout;
  } else if (!dump.empty()) {
    dump_file.open(dump, std::ios::binary | std::ios::trunc);
    if (!dump_file) {
      log->error("cannot write {}", dump);
      return 2;
    }
  }

  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  std::uint64_t sent = 0;
  const auto sink = [&](std::string_view json) {
    if (g_stop.load()) return;
    if (push) {
      // Blocking send: when the daemon falls behind (or is not there yet), the simulator waits
      // (back-pressure), it never drops an event. A signal interrupts the wait.
      try {
        push->send(zmq::buffer(json.data(), json.size()), zmq::send_flags::none);
      } catch (const zmq::error_t& e) {
        if (e.num() != EINTR) throw;
        g_stop.store(true);
        return;
      }
    }
    if (dump_out != nullptr) {
      std::fwrite(json.data(), 1, json.size(), dump_out);
      std::fputc('\n', dump_out);
    } else if (dump_file.is_open()) {
      dump_file.write(json.data(), static_cast<std::streamsize>(json.size()));
      dump_file.put('\n');
    }
    ++sent;
  };

  log->info("simulating {} queues, {} agents, {:.3f} calls/s{}, speed {}{}", opts.queues, opts.agents, opts.rate,
            opts.surge_at >= 0 ? fmt::format(", surge x{} at {} s for {} s", opts.surge_factor, opts.surge_at,
                                             opts.surge_duration)
                               : std::string(),
            speed == 0 ? std::string("max") : fmt::format("{}x", speed),
            connect.empty() ? std::string() : fmt::format(", to {}", connect));

  // With a duration and no --drain, stop at the end of the arrivals window.
  const double stop_at = opts.duration > 0 && !drain ? start + opts.duration : INFINITY;
  const auto real_start = std::chrono::steady_clock::now();
  bool running = true;
  while (running && !g_stop.load()) {
    if (speed == 0) {
      // Flat out, in slices so a signal is still seen.
      const double next = sim->next_event_time();
      if (!std::isfinite(next)) break;
      const double to = std::min(stop_at, next + 60);
      running = sim->run_until(to, sink) && to < stop_at;
      continue;
    }
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - real_start).count();
    const double sim_now = std::min(stop_at, start + elapsed * speed);
    running = sim->run_until(sim_now, sink) && sim_now < stop_at;
    if (!running) break;
    // Sleep until the next event is due (at most 100 ms, to notice signals).
    const double wait_real = (std::min(sim->next_event_time(), stop_at) - sim_now) / speed;
    std::this_thread::sleep_for(std::chrono::duration<double>(std::clamp(wait_real, 0.0005, 0.1)));
  }
  if (dump_out != nullptr) std::fflush(dump_out);
  if (dump_file.is_open()) dump_file.flush();

  const auto& st = sim->stats();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - real_start).count();
  // The summary goes to stderr when the events themselves go to stdout.
  std::FILE* out = dump_out == stdout ? stderr : stdout;
  std::fprintf(out,
               "callwatch-sim: sent %llu events in %.1f s: %llu calls, %llu answered, %llu abandoned, "
               "%llu timed out, %llu exited by key, %llu exited empty, %llu transfers, %llu ring-no-answer, "
               "%llu breaks%s\n",
               static_cast<unsigned long long>(sent), took, static_cast<unsigned long long>(st.arrivals),
               static_cast<unsigned long long>(st.answered), static_cast<unsigned long long>(st.abandoned),
               static_cast<unsigned long long>(st.timed_out), static_cast<unsigned long long>(st.exited_key),
               static_cast<unsigned long long>(st.exited_empty), static_cast<unsigned long long>(st.transfers),
               static_cast<unsigned long long>(st.ring_noanswer), static_cast<unsigned long long>(st.pauses),
               g_stop.load() ? " (interrupted)" : "");
  return 0;
}
