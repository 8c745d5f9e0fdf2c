// `callwatchd` without a subcommand: load the config, bind every listener (a taken address is a
// fatal start-up error naming it), run the engine thread, the HTTP exporter, the wallboard
// publisher and (with --demo, daemon/demo.hpp) the embedded simulator, until SIGTERM/SIGINT.
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <cmath>
#include <filesystem>
#include <optional>
#include <thread>

#include <pthread.h>

#include <fmt/format.h>
#include <zmq.hpp>

#include "runtime/alerts_runtime.hpp"
#include "callwatch/config/config.hpp"
#include "commands.hpp"
#include "demo.hpp"
#include "runtime/engine_loop.hpp"
#include "feeds/feed_registry.hpp"
#include "feeds/feed_runner.hpp"
#include "serve/board_stream.hpp"
#include "serve/http_server.hpp"
#include "runtime/logging.hpp"
#include "runtime/stop_signals.hpp"
#include "serve/publisher.hpp"
#include "serve/security.hpp"
#include "startup_files.hpp"
#include "store/store.hpp"

namespace callwatch::daemon {

namespace {

// Transport cap of the native feed socket (ZMQ_MAXMSGSIZE). Larger than the parser's cap on
// purpose: a message between the two is read and counted as too_large, so an oversized event is
// visible in /metrics; only a peer sending more than this is cut off by ZeroMQ itself.
constexpr std::int64_t kTransportCap = 16 * 1024 * 1024;
constexpr std::size_t kMaxMessageBytes = 64 * 1024;

// Log timestamps in the contact center's zone: TZ is set only for a zone file that exists, since
// a POSIX TZ string reads fixed offsets like "UTC+08:00" with the opposite sign.
void set_process_timezone(const std::string& zone, spdlog::logger& log) {
  if (zone.empty() || zone == "UTC") return;
  const char* dir = std::getenv("TZDIR");
  const std::filesystem::path file = std::filesystem::path(dir ? dir : "/usr/share/zoneinfo") / zone;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec)) {
    log.debug("time zone {}: no zone file, log times stay in the process zone", zone);
    return;
  }
  ::setenv("TZ", (":" + zone).c_str(), 1);
  ::tzset();
}

zmq::socket_t bind_pull(zmq::context_t& ctx, const std::string& endpoint, bool capped,
                        const ServerSecurity* curve = nullptr) {
  zmq::socket_t s(ctx, zmq::socket_type::pull);
  if (curve) apply_curve_server(s, *curve, kDomainFeed);  // feed keys only (daemon/security)
  s.set(zmq::sockopt::linger, 0);
  // Deep receive queue: a burst (shift start, outage recovery) waits in memory, never dropped;
  // PUSH peers block instead of losing events when it is full.
  s.set(zmq::sockopt::rcvhwm, 100000);
  if (capped) s.set(zmq::sockopt::maxmsgsize, kTransportCap);
  s.bind(endpoint);
  return s;
}

// The browser board's web build: $CALLWATCH_BOARD_DIR, else share/callwatch/board beside the
// binary's bin/ (build/bin -> build/share/..., /usr/bin -> /usr/share/...).
std::string board_dir() {
  if (const char* env = std::getenv("CALLWATCH_BOARD_DIR"); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {};
  return (exe.parent_path().parent_path() / "share" / "callwatch" / "board").string();
}

}  // namespace


int run_daemon(const RunOptions& opts) {
  if (!init_logging(opts.log_level)) {
    std::fprintf(stderr, "callwatchd: unknown --log-level %s\n", opts.log_level.c_str());
    return 2;
  }
  auto log = component_logger("daemon");

  // A configuration problem (the file, or a file it names) exits 2 with file:line: systemd's
  // RestartPreventExitStatus=2 does not restart what a restart cannot fix.
  auto refuse = [&](const std::vector<config::ConfigError>& errors) {
    for (const auto& e : errors) {
      std::fprintf(stderr, "%s\n", e.to_string().c_str());
      log->critical("{}", e.to_string());
    }
    log->critical("configuration is invalid; not starting");
    return 2;
  };
  auto loaded = config::load_effective_config(opts.config_path);
  if (!loaded) return refuse(loaded.error());
  config::Config cfg = std::move(*loaded);
  // The files the config names, as `--check-config` reads them (the same refusals, same words).
  auto files = load_startup_files(cfg);
  if (!files) return refuse(files.error());
  auto at_line = [&](int line, std::string message) {
    return std::vector<config::ConfigError>{{cfg.source, line, 0, std::move(message)}};
  };
  set_process_timezone(cfg.timezone, *log);
  log->info("callwatchd {} starting; config {}; time zone {}", CALLWATCH_VERSION, cfg.source, cfg.timezone);

  // Signals go to no thread but this one (sigwait below): block them before any thread starts,
  // libmicrohttpd's and ZeroMQ's included, since threads inherit the mask.
  const sigset_t signals = block_stop_signals();

  metrics::EngineSettings settings = live_engine_settings(cfg.engine);
  // The one wall clock of every thread below (engine, store, feeds, publisher, simulator).
  const SystemClock clock;

  std::optional<DemoSetup> demo;
  if (opts.demo) {
    auto setup = prepare_demo(settings, cfg.site, *log);
    if (!setup) {
      log->critical("{}", setup.error());
      return 2;
    }
    demo = std::move(*setup);
  }

  // ---- store and security (daemon/store, daemon/security) -----------------------------------
  // A store that cannot be opened at all (missing folder, not a database) is a configuration
  // error; a read-only or full disk later is not: it is counted and the service goes on.
  std::shared_ptr<Store> store;
  if (!cfg.storage_path.empty()) {
    auto opened = Store::open(StoreOptions{.path = cfg.storage_path, .clock = &clock});
    if (!opened) return refuse(at_line(cfg.storage_path_line, opened.error() + " ([general] storage_path)"));
    store = std::move(*opened);
  }
  std::optional<ServerSecurity> curve = std::move(files->curve);
  const BasicAuth* basic_auth = &files->basic_auth;

  zmq::context_t ctx(1);
  // The ZAP handler must listen before any CURVE socket binds: without it libzmq lets every
  // key in. It lives until the end of this function, after every socket is closed.
  std::unique_ptr<ZapHandler> zap;
  if (curve) zap = std::make_unique<ZapHandler>(ctx, *curve);
  SnapshotHub hub;
  EngineLoopOptions loop_opts;
  loop_opts.max_message_bytes = kMaxMessageBytes;
  loop_opts.reject_logs_per_second = cfg.log_rate_limit_per_second;
  loop_opts.alert_rules = to_alert_rules(cfg.alerts);
  // The demo shows alerts out of the box; a config with [[alert]] rules keeps its own.
  if (opts.demo && loop_opts.alert_rules.empty()) loop_opts.alert_rules = demo_alert_rules();
  // Acks from wallboards (publisher thread) to the engine thread; the day's history back.
  auto alert_control = std::make_shared<AlertControl>();
  loop_opts.alert_control = alert_control;
  loop_opts.max_queues = cfg.max_queues;
  loop_opts.max_agents = cfg.max_agents;
  loop_opts.store = store;
  loop_opts.checkpoint.interval = std::chrono::milliseconds(
      static_cast<std::int64_t>(std::llround(cfg.storage.checkpoint_seconds * 1000)));
  loop_opts.checkpoint.gap_seconds = cfg.storage.gap_seconds;
  auto loop = std::make_unique<EngineLoop>(std::move(settings), loop_opts, hub, clock);

  // Bind every listener before anything runs: a taken address fails fast with its name.
  std::vector<std::string> bound_feeds;
  try {
    std::vector<std::string> endpoints;
    for (const auto& f : cfg.feeds) {
      if (feed_kind(f.type).live) continue;  // ami / esl / queue_log: feed threads, started below
      if (std::find(endpoints.begin(), endpoints.end(), f.address) != endpoints.end()) {
        log->warn("feed \"{}\" shares {} with an earlier native feed; its events count there", f.name, f.address);
        continue;
      }
      try {
        zmq::socket_t s = bind_pull(ctx, f.address, true, curve ? &*curve : nullptr);
        const std::string actual = s.get(zmq::sockopt::last_endpoint);
        loop->add_native_feed(f.name, std::move(s));
        endpoints.push_back(f.address);
        bound_feeds.push_back(fmt::format("{} on {}", f.name, actual));
      } catch (const zmq::error_t& e) {
        throw std::runtime_error(fmt::format("cannot bind native feed \"{}\" to {}: {}", f.name, f.address, e.what()));
      }
    }
    loop->set_internal_socket(bind_pull(ctx, kInternalFeedEndpoint, false));
  } catch (const std::exception& e) {
    log->critical("{}", e.what());
    return 1;
  }

  // Wallboards: XPUB deltas + heartbeats and ROUTER snapshots, fed from the same hub; bound after
  // /metrics, made first so /metrics can show its counters.
  PublisherOptions pub_opts;
  pub_opts.publish_endpoint = cfg.listen.publish;
  pub_opts.control_endpoint = cfg.listen.control;
  pub_opts.site = cfg.site;
  pub_opts.alerts = alert_control;
  pub_opts.clock = &clock;
  pub_opts.max_queued_reply_bytes = cfg.publisher.max_queued_reply_bytes;
  if (curve) {
    secure_publisher(pub_opts, *curve, cfg.security);
    for (const auto& sc : cfg.security.scopes) {
      log->info("scope {}: {} sees {}", sc.name, fmt::join(sc.clients, ", "), fmt::join(sc.queues, ", "));
    }
  }
  // Broadcasts survive a restart: the store holds the live list (the publisher drops the ones
  // that expired meanwhile).
  if (store) {
    if (auto kept = store->broadcasts()) {
      pub_opts.broadcasts = std::move(*kept);
    } else {
      log->warn("broadcasts not restored: {}", kept.error());
    }
    pub_opts.save_broadcasts = [store](const std::vector<metrics::BroadcastView>& live) { store->save_broadcasts(live); };
  }
  // Browser boards (GET /board/ws on the metrics listener) get the same messages as the XPUB.
  auto board_stream = std::make_shared<BoardStream>();
  pub_opts.tap = board_stream;
  Publisher publisher(ctx, hub, pub_opts);

  HttpOptions http_opts;
  http_opts.listen = opts.web_listen.empty() ? cfg.listen.metrics : opts.web_listen;
  http_opts.export_options.agent_state = cfg.export_agent_state;
  http_opts.export_options.agent_state_max_agents = cfg.metrics_http.agent_state_max_agents;
  http_opts.export_options.publisher_health = [&publisher] {
    const PublisherStats s = publisher.stats();
    return PublisherHealthSample{.snapshots_served = s.snapshots_served,
                                 .snapshots_coalesced = s.snapshots_coalesced,
                                 .snapshots_refused = s.snapshots_refused,
                                 .snapshot_encodes = s.snapshot_encodes,
                                 .queued_reply_bytes = s.queued_reply_bytes,
                                 .broadcasts_live = s.broadcasts_live,
                                 .refused = s.refused,
                                 .timeline_spans = s.timeline_spans,
                                 .timeline_spans_dropped = s.timeline_spans_cut};
  };
  http_opts.auth = *basic_auth;
  http_opts.board = board_stream;
  http_opts.board_dir = board_dir();
  http_opts.threads = cfg.metrics_http.threads;
  http_opts.max_connections = cfg.metrics_http.max_connections;
  http_opts.idle_timeout = std::chrono::seconds(cfg.metrics_http.idle_timeout_seconds);
  http_opts.max_unsent_bytes = cfg.metrics_http.max_unsent_bytes;
  http_opts.auth_failure_delay = std::chrono::milliseconds(
      static_cast<std::int64_t>(std::llround(cfg.metrics_http.auth_failure_delay_seconds * 1000)));
  if (store) {
    http_opts.export_options.store_health = [store] {
      return StoreHealthSample{store->errors(), store->stats().last_checkpoint_at};
    };
  }
  auto http = HttpServer::start(http_opts, hub);
  if (!http) {
    log->critical("{}", http.error());
    return 1;
  }

  try {
    publisher.start();
  } catch (const std::exception& e) {
    log->critical("cannot bind the wallboard publisher to {} / {}: {}", cfg.listen.publish, cfg.listen.control,
                  e.what());
    return 1;
  }

  // Continue from the store's checkpoint before any event is applied (events that arrive now
  // wait in the bound sockets) and before the feed threads start (they resume from it).
  // restored.feeds holds where each feed stood (e.g. a queue_log offset) for the feed threads.
  const RestoreResult restored = loop->restore_from_store();

  // PBX feeds (AMI, ESL, queue_log tail): one thread each, handing native events to the engine
  // through the internal socket; a queue_log feed resumes where the checkpoint left it.
  FeedRunOptions feed_opts;
  feed_opts.endpoint = kInternalFeedEndpoint;
  feed_opts.max_name_bytes = cfg.engine.max_name_bytes;
  feed_opts.clock = &clock;
  feed_opts.duplicates.tz = cfg.engine.tz;
  feed_opts.duplicates.day_start_seconds = cfg.engine.day_start_seconds;
  feed_opts.times = TimeLimits::of(cfg.engine);
  for (const auto& p : restored.feeds) feed_opts.positions[p.feed] = p.position;
  auto pbx_feeds = start_feeds(
      ctx, cfg.feeds, [&](const std::string& name) { return loop->add_internal_feed(name); }, feed_opts);
  if (!pbx_feeds) return refuse(at_line(0, pbx_feeds.error()));  // read above, then changed

  std::atomic<bool> stop_engine{false};
  std::atomic<bool> engine_failed{false};
  std::thread engine_thread([&] {
    try {
      loop->run(stop_engine);
    } catch (const std::exception& e) {
      component_logger("engine")->critical("engine thread stopped: {}", e.what());
      engine_failed = true;
    }
  });

  std::unique_ptr<DemoSimulator> simulator;
  if (demo) {
    // Declared before the engine publishes its first frame.
    auto up = loop->add_internal_feed(std::string(kDemoFeedName));
    simulator = std::make_unique<DemoSimulator>(ctx, demo->sim, std::move(up), clock);
  }

  log->info("ready: /metrics on http://{}/metrics; native feeds: {}; wallboards: {} and {}{}",
            (*http)->address(), fmt::join(bound_feeds, ", "), publisher.publish_endpoint(),
            publisher.control_endpoint(), opts.demo ? "; demo simulator on" : "");

  int exit_code = 0;
  for (;;) {
    timespec timeout{0, 200 * 1000 * 1000};
    const int sig = sigtimedwait(&signals, nullptr, &timeout);
    if (sig == SIGTERM || sig == SIGINT) {
      log->info("{}: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
      break;
    }
    if (engine_failed) {
      exit_code = 1;
      break;
    }
  }

  simulator.reset();  // stops and joins the simulator thread
  (*pbx_feeds)->stop();
  stop_engine = true;
  engine_thread.join();
  log->debug("engine thread joined");
  publisher.stop();
  log->debug("publisher stopped");
  http->reset();
  log->debug("http server stopped");
  loop.reset();  // closes the feed sockets before the context goes
  log->info("stopped");
  return exit_code;
}

}  // namespace callwatch::daemon
