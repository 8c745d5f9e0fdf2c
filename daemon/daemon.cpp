// `callwatchd` without a subcommand: load the config, bind every listener (a taken address is a
// fatal start-up error naming it), run the engine thread, the HTTP exporter, the wallboard
// publisher and (with --demo) the embedded simulator, until SIGTERM/SIGINT.
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
#include "runtime/engine_loop.hpp"
#include "feeds/feed_registry.hpp"
#include "feeds/feed_runner.hpp"
#include "serve/http_server.hpp"
#include "runtime/logging.hpp"
#include "serve/publisher.hpp"
#include "serve/security.hpp"
#include "store/store.hpp"
#include "feeds/sim/simulator.hpp"

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

// The embedded simulator (--demo): paced on the wall clock, pushed through the inproc endpoint.
void run_simulator(zmq::context_t& ctx, const sim::SimOptions& opts, std::atomic<bool>& stop,
                   std::atomic<bool>& up) {
  auto log = component_logger("feed.sim");
  try {
    zmq::socket_t push(ctx, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 0);
    push.set(zmq::sockopt::sndtimeo, 200);  // never block shutdown on a full pipe
    push.connect(kInternalFeedEndpoint);
    SystemClock clock;
    sim::Simulator simulator(opts, clock.now());
    std::uint64_t dropped = 0;
    auto sink = [&](std::string_view json) {
      if (!push.send(zmq::buffer(std::string_view("sim")), zmq::send_flags::sndmore) ||
          !push.send(zmq::buffer(json), zmq::send_flags::none)) {
        ++dropped;
      }
    };
    up = true;
    log->info("simulator running: {} queues, {} agents, {} calls/s", opts.queues, opts.agents, opts.rate);
    while (!stop.load()) {
      if (!simulator.run_until(clock.now(), sink)) {
        log->info("simulation finished");
        break;
      }
      // Sleep until the next event, but wake at least every 100 ms to see the stop flag.
      const double wait = std::clamp(simulator.next_event_time() - clock.now(), 0.005, 0.1);
      std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    }
    if (dropped) log->warn("{} simulated events could not be handed to the engine", dropped);
  } catch (const std::exception& e) {
    log->error("simulator stopped: {}", e.what());
  }
  up = false;
}

}  // namespace


int run_daemon(const RunOptions& opts) {
  if (!init_logging(opts.log_level)) {
    std::fprintf(stderr, "callwatchd: unknown --log-level %s\n", opts.log_level.c_str());
    return 2;
  }
  auto log = component_logger("daemon");

  auto loaded = config::load_effective_config(opts.config_path);
  if (!loaded) {
    for (const auto& e : loaded.error()) std::fprintf(stderr, "%s\n", e.to_string().c_str());
    log->critical("configuration is invalid; not starting");
    return 2;
  }
  config::Config cfg = std::move(*loaded);
  set_process_timezone(cfg.timezone, *log);
  log->info("callwatchd {} starting; config {}; time zone {}", CALLWATCH_VERSION, cfg.source, cfg.timezone);

  // Signals go to no thread but this one (sigwait below): block them before any thread starts,
  // civetweb's and ZeroMQ's included, since threads inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  metrics::EngineSettings settings = cfg.engine;
  sim::SimOptions sim_opts;
  if (opts.demo) {
    // A visible surge a few minutes in, so the demo shows the service level break, the surge
    // alert fire (about 4 minutes in: see demo_alert_rules) and everything recover.
    sim_opts.surge_factor = 4;
    sim_opts.surge_at = 120;
    sim_opts.surge_duration = 600;
    // The lines open with a handful of callers, so the board and /metrics have figures at once.
    sim_opts.opening_calls = 12;
    // Hidden knob for tests and rehearsals: CALLWATCH_DEMO_SURGE=FACTOR@SECONDS.
    if (const char* env = std::getenv("CALLWATCH_DEMO_SURGE"); env && *env) {
      if (auto ok = parse_surge(env, sim_opts); !ok) {
        log->critical("CALLWATCH_DEMO_SURGE: {}", ok.error());
        return 2;
      }
      log->info("demo surge from CALLWATCH_DEMO_SURGE: {}x from {} s", sim_opts.surge_factor, sim_opts.surge_at);
    }
    // Bilingual display names for the simulated queues the config does not name, and the
    // simulator's own rates as their forecast: the surge baseline from the first minute.
    const auto names = sim::Simulator::make_queue_names(sim_opts.queues);
    const auto display = sim::Simulator::make_queue_display_names(sim_opts.queues);
    const auto forecast = demo_forecast_per_interval(sim_opts, settings.interval_minutes);
    for (std::size_t i = 0; i < names.size() && i < display.size(); ++i) {
      if (settings.queues.count(names[i])) continue;
      metrics::QueueSettings q = settings.queue_defaults;
      q.display_name = display[i];
      if (q.site.empty()) q.site = cfg.site;
      if (q.forecast_per_interval <= 0 && i < forecast.size()) q.forecast_per_interval = forecast[i];
      // The simulator's mean talk + wrap-up as the planned handle time: staffing (Erlang C) has
      // figures from the first call instead of after the first calls end.
      if (q.erlang_aht <= 0) q.erlang_aht = sim_opts.mean_aht + sim_opts.mean_wrap;
      settings.queues.emplace(names[i], q);
    }
  }

  // ---- store and security (daemon/store, daemon/security) -----------------------------------
  // A store that cannot be opened at all (missing folder, not a database) is a configuration
  // error; a read-only or full disk later is not: it is counted and the service goes on.
  std::shared_ptr<Store> store;
  if (!cfg.storage_path.empty()) {
    auto opened = Store::open(StoreOptions{.path = cfg.storage_path});
    if (!opened) {
      log->critical("{} (check [general] storage_path)", opened.error());
      return 1;
    }
    store = std::move(*opened);
  }
  std::optional<ServerSecurity> curve;
  if (cfg.security.curve()) {
    auto sec = load_server_security(cfg.security);
    if (!sec) {
      log->critical("[security]: {}", sec.error());
      return 1;
    }
    curve = std::move(*sec);
  }
  auto basic_auth = load_basic_auth(cfg.metrics_http);
  if (!basic_auth) {
    log->critical("[metrics]: {}", basic_auth.error());
    return 1;
  }

  zmq::context_t ctx(1);
  // The ZAP handler must listen before any CURVE socket binds: without it libzmq lets every
  // key in. It lives until the end of this function, after every socket is closed.
  std::unique_ptr<ZapHandler> zap;
  if (curve) zap = std::make_unique<ZapHandler>(ctx, *curve);
  SnapshotHub hub;
  SystemClock clock;
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

  HttpOptions http_opts;
  http_opts.listen = opts.web_listen.empty() ? cfg.listen.metrics : opts.web_listen;
  http_opts.export_options.agent_state = cfg.export_agent_state;
  http_opts.export_options.agent_state_max_agents = cfg.metrics_http.agent_state_max_agents;
  http_opts.auth = *basic_auth;
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

  // Wallboards: XPUB deltas + heartbeats and ROUTER snapshots, fed from the same hub.
  PublisherOptions pub_opts;
  pub_opts.publish_endpoint = cfg.listen.publish;
  pub_opts.control_endpoint = cfg.listen.control;
  pub_opts.site = cfg.site;
  pub_opts.alerts = alert_control;
  if (curve) {
    pub_opts.secure_socket = [&curve](zmq::socket_t& sock, std::string_view domain) {
      apply_curve_server(sock, *curve, domain);
    };
    pub_opts.roles_from_keys = true;
  }
  Publisher publisher(ctx, hub, pub_opts);
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
  for (const auto& p : restored.feeds) feed_opts.positions[p.feed] = p.position;
  auto pbx_feeds = start_feeds(
      ctx, cfg.feeds, [&](const std::string& name) { return loop->add_internal_feed(name); }, feed_opts);
  if (!pbx_feeds) {
    log->critical("{}", pbx_feeds.error());
    return 1;
  }

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

  std::atomic<bool> stop_sim{false};
  std::thread sim_thread;
  if (opts.demo) {
    auto up = loop->add_internal_feed("sim");  // before the engine publishes its first frame
    sim_thread = std::thread([&ctx, &sim_opts, &stop_sim, up] { run_simulator(ctx, sim_opts, stop_sim, *up); });
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

  stop_sim = true;
  if (sim_thread.joinable()) sim_thread.join();
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
