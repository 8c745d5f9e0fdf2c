// callwatchd relay: argv already parsed into RelayCmdOptions; loads keys, runs the Relay until
// SIGTERM/SIGINT, and logs its counters once a minute.
#include <csignal>
#include <cstdio>
#include <pthread.h>

#include <spdlog/spdlog.h>

#include "commands.hpp"
#include "relay/relay.hpp"
#include "runtime/logging.hpp"
#include "runtime/stop_signals.hpp"
#include "runtime/system_clock.hpp"
#include "serve/security.hpp"
#include "startup_files.hpp"

namespace callwatch::daemon {

int run_relay(const RelayCmdOptions& opts) {
  if (!init_logging(opts.log_level)) {
    std::fprintf(stderr, "callwatchd relay: unknown --log-level %s\n", opts.log_level.c_str());
    return 2;
  }
  auto log = component_logger("relay");
  auto refuse = [&](const std::string& why) {
    std::fprintf(stderr, "callwatchd relay: %s\n", why.c_str());
    log->critical("{}; not starting", why);
    return 2;
  };
  if (opts.upstream.size() != opts.upstream_control.size()) {
    return refuse("give one --upstream-control for each --upstream, in the same order");
  }
  if (opts.key_file.empty() != opts.server_key.empty()) return refuse("--key and --server-key go together (CURVE)");

  relay::RelayOptions ro;
  for (std::size_t i = 0; i < opts.upstream.size(); ++i) {
    ro.upstreams.push_back({opts.upstream[i], opts.upstream_control[i]});
  }
  ro.publish_endpoint = opts.publish;
  ro.control_endpoint = opts.control;
  ro.site = opts.site;
  if (!opts.key_file.empty()) {
    auto pair = protocol::load_curve_secret(opts.key_file);
    if (!pair) return refuse(pair.error());
    auto server = protocol::load_curve_public(opts.server_key);
    if (!server) return refuse(server.error());
    ro.upstream_key = *pair;
    ro.upstream_server_public = *server;
  }

  // The relay's own sockets: CURVE and roles from a config's [security], as the daemon's.
  std::optional<ServerSecurity> curve;
  config::SecurityConfig security;
  if (!opts.config_path.empty()) {
    auto loaded = config::load_effective_config(opts.config_path);
    if (!loaded) {
      for (const auto& e : loaded.error()) std::fprintf(stderr, "%s\n", e.to_string().c_str());
      return refuse("configuration is invalid");
    }
    auto files = load_startup_files(*loaded);
    if (!files) {
      for (const auto& e : files.error()) std::fprintf(stderr, "%s\n", e.to_string().c_str());
      return refuse("configuration is invalid");
    }
    curve = std::move(files->curve);
    security = loaded->security;
    ro.serve.max_queued_reply_bytes = loaded->publisher.max_queued_reply_bytes;
  }

  const sigset_t signals = block_stop_signals();

  const SystemClock clock;
  ro.clock = &clock;
  zmq::context_t ctx(1);
  std::unique_ptr<ZapHandler> zap;
  if (curve) {
    zap = std::make_unique<ZapHandler>(ctx, *curve);
    // The relay's boards: their keys' roles and queue scopes, as at a daemon.
    secure_publisher(ro.serve, *curve, security);
  }
  relay::Relay relay(ctx, ro);
  try {
    relay.start();
  } catch (const zmq::error_t& e) {
    return refuse(fmt::format("cannot listen on {} / {}: {}", opts.publish, opts.control, e.what()));
  }
  log->info("ready: boards on {} and {}", relay.publish_endpoint(), relay.control_endpoint());

  auto next_report = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  for (;;) {
    timespec timeout{0, 200 * 1000 * 1000};
    const int sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig == SIGTERM || sig == SIGINT) {
      log->info("{}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      break;
    }
    if (std::chrono::steady_clock::now() >= next_report) {
      next_report += std::chrono::minutes(1);
      const auto s = relay.stats();
      log->info("upstreams {}; merges {}; boards: subscriptions {}, snapshots served {} refused {}; acks forwarded {} "
                "accepted {} refused {} timed out {} unrouted {}; upstream resyncs {} reconnects {}",
                s.live ? "live" : "NOT live", s.merges, s.publisher.subscriptions, s.publisher.snapshots_served,
                s.publisher.snapshots_refused, s.acks_forwarded, s.acks_accepted, s.acks_refused, s.acks_timed_out,
                s.acks_unrouted, s.upstream_resyncs, s.upstream_reconnects);
    }
  }
  relay.stop();
  log->info("stopped");
  return 0;
}

}  // namespace callwatch::daemon
