// The live figures, on real processes: a callwatchd with its store on, fed over its native ZeroMQ
// feed at the large size (500 queues, 10,000 agents).
// - rss_10k_agents: the daemon's resident memory after 1M events, against its RSS at start.
// - live_burst_latency_p50/_p99: then 5,000 events/s; every 200 ms a probe call enters and leaves
//   the queue "bench-probe"; the time from sending probe k to the first wallboard delta and to the
//   first /metrics body showing k offered calls there (the value is the worse of the two paths,
//   both are in the note), against the raw ZeroMQ round trip of the same bytes.
// - kiosk_idle_cpu: a real callwatch-wallboard --kiosk under Xvfb showing that board for 60 s while
//   one event a second arrives; its CPU share (/proc/PID/stat) against one core.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "../integration/daemon_process.hpp"
#include "bench.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"
#include "feeds/native/native_parser.hpp"

namespace callwatch::bench {

namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// One child process, stopped (SIGTERM, then SIGKILL) when it goes out of scope.
struct Child {
  pid_t pid = -1;
  Child() = default;
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() { stop(); }
  bool start(const std::vector<std::string>& args, const std::string& log,
             const std::vector<std::string>& env_extra = {}, int keep_fd = -1) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    if (keep_fd >= 0) posix_spawn_file_actions_adddup2(&fa, keep_fd, 3);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::vector<std::string> env_store;
    for (char** e = environ; *e; ++e) env_store.emplace_back(*e);
    for (const auto& e : env_extra) env_store.push_back(e);
    std::vector<char*> envp;
    for (auto& e : env_store) envp.push_back(e.data());
    envp.push_back(nullptr);
    const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) pid = -1;
    return rc == 0;
  }
  bool alive() {
    if (pid <= 0) return false;
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      pid = -1;
      return false;
    }
    return true;
  }
  void stop() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return;
      }
      std::this_thread::sleep_for(50ms);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    pid = -1;
  }
};

// utime + stime of a process, seconds; < 0 when it is gone.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(stat.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14 and 15 (1-based) of proc(5)
    if (i == 14) utime = std::strtod(field.c_str(), nullptr);
    if (i == 15) stime = std::strtod(field.c_str(), nullptr);
  }
  return (utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Native messages with their time cut out: `head` ends with `"ts":`, `tail` follows the number.
// The sender writes the wall clock in between, so the daemon takes each as a live event.
struct LiveMessage {
  std::string head;
  std::string tail;
};

std::vector<LiveMessage> live_corpus(const daemon::sim::SimOptions& opts, std::size_t n) {
  std::vector<LiveMessage> out;
  out.reserve(n);
  daemon::sim::Simulator sim(opts, 1767600000.0);
  std::string json;
  const auto sink = [&](const metrics::Event& e) {
    if (out.size() >= n) return;
    metrics::Event copy = e;
    copy.ts = 1.5;  // a marker: the only "ts":1.5 in the text
    json.clear();
    daemon::append_native_json(copy, json);
    const auto at = json.find("\"ts\":1.5");
    if (at == std::string::npos) return;
    out.push_back({json.substr(0, at + 5), json.substr(at + 8)});
  };
  for (double t = 1767600000.0; out.size() < n; t += 60) {
    if (!sim.run_events_until(t, sink)) break;
  }
  return out;
}

struct Totals {
  double events = 0;    // callwatch_feed_events_total (accepted)
  double rejected = 0;  // callwatch_feed_events_rejected_total
  double ignored = 0;   // callwatch_feed_events_ignored_total
  double dropped = 0;   // ... {result="duplicate_message"}: neither accepted nor rejected
  double counted() const { return events + rejected + dropped; }
  double probe_offered = -1;
};

double sum_samples(std::string_view body, std::string_view prefix) {
  double total = 0;
  std::size_t pos = 0;
  while (pos < body.size()) {
    std::size_t eol = body.find('\n', pos);
    if (eol == std::string_view::npos) eol = body.size();
    const std::string_view l = body.substr(pos, eol - pos);
    pos = eol + 1;
    if (l.substr(0, prefix.size()) != prefix) continue;
    const auto sp = l.rfind(' ');
    if (sp != std::string_view::npos) total += std::strtod(std::string(l.substr(sp + 1)).c_str(), nullptr);
  }
  return total;
}

std::optional<Totals> scrape_totals(int port) {
  const auto r = cwtest::http_get(port, "/metrics");
  if (r.status != 200) return std::nullopt;
  Totals t;
  t.events = sum_samples(r.body, "callwatch_feed_events_total{");
  t.rejected = sum_samples(r.body, "callwatch_feed_events_rejected_total{");
  t.ignored = sum_samples(r.body, "callwatch_feed_events_ignored_total{");
  t.dropped = sum_samples(r.body, "callwatch_feed_events_ignored_total{feed=\"native\",result=\"duplicate_message\"}");
  const std::string probe = "callwatch_queue_calls_offered_total{queue=\"bench-probe\"} ";
  if (auto at = r.body.find(probe); at != std::string::npos) {
    t.probe_offered = std::strtod(r.body.c_str() + at + probe.size(), nullptr);
  }
  return t;
}

struct Probes {
  std::mutex mu;
  struct Pending {
    std::int64_t offered;
    Steady::time_point sent;
  };
  std::deque<Pending> board;    // not yet seen in a delta
  std::deque<Pending> metrics;  // not yet seen in /metrics
  std::vector<double> board_s, metrics_s;
  std::uint64_t delta_gaps = 0;
};

void board_reader(zmq::context_t& ctx, const std::string& endpoint, Probes& probes, std::atomic<bool>& stop) {
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "delta");
  sub.set(zmq::sockopt::rcvhwm, 100000);
  sub.set(zmq::sockopt::rcvtimeo, 100);
  sub.connect(endpoint);
  std::uint64_t last_seq = 0;
  while (!stop.load()) {
    std::vector<zmq::message_t> frames;
    if (!zmq::recv_multipart(sub, std::back_inserter(frames)) || frames.size() < 2) continue;
    const auto got = Steady::now();
    const std::string_view body = frames.back().to_string_view();
    // Every delta's sequence number (a light scan; only those naming the probe are decoded).
    if (const auto p = body.find("\"seq\":"); p != std::string_view::npos) {
      const std::uint64_t seq = std::strtoull(body.data() + p + 6, nullptr, 10);
      if (last_seq != 0 && seq > last_seq + 1) probes.delta_gaps += seq - last_seq - 1;
      if (seq != 0) last_seq = seq;
    }
    if (body.find("bench-probe") == std::string_view::npos) continue;
    auto m = metrics::wire::decode(body);
    if (!m) continue;
    for (const auto& q : m->delta.queues) {
      if (q.name != "bench-probe") continue;
      const std::int64_t offered = q.total.offered();
      std::lock_guard lock(probes.mu);
      while (!probes.board.empty() && probes.board.front().offered <= offered) {
        probes.board_s.push_back(std::chrono::duration<double>(got - probes.board.front().sent).count());
        probes.board.pop_front();
      }
    }
  }
}

// Scrapes back to back while a probe is outstanding; also tracks the backlog (sent - counted).
void metrics_reader(int port, Probes& probes, const std::atomic<std::uint64_t>& sent,
                    std::vector<double>& backlog, std::atomic<bool>& stop) {
  auto last_backlog = Steady::now();
  while (!stop.load()) {
    bool pending = false;
    {
      std::lock_guard lock(probes.mu);
      pending = !probes.metrics.empty();
    }
    const bool sample_backlog = Steady::now() - last_backlog >= 1s;
    if (!pending && !sample_backlog) {
      std::this_thread::sleep_for(2ms);
      continue;
    }
    const double sent_before = static_cast<double>(sent.load());
    const auto t = scrape_totals(port);
    const auto got = Steady::now();
    if (!t) continue;
    if (sample_backlog) {
      backlog.push_back(std::max(0.0, sent_before - t->counted()));
      last_backlog = got;
    }
    std::lock_guard lock(probes.mu);
    while (!probes.metrics.empty() && probes.metrics.front().offered <= t->probe_offered) {
      probes.metrics_s.push_back(std::chrono::duration<double>(got - probes.metrics.front().sent).count());
      probes.metrics.pop_front();
    }
  }
}

std::string probe_json(std::string_view type, double ts, std::uint64_t k) {
  return fmt::format(R"({{"type":"{}","ts":{:.3f},"call":"bench-probe-{}","queue":"bench-probe"}})", type, ts, k);
}

Figure skipped(const char* name, const std::string& why) {
  fmt::print(stderr, "{}: skipped: {}\n", name, why);
  Figure f;
  f.name = name;
  f.unit = "skipped";
  f.note = "skipped: " + why;
  return f;
}

}  // namespace

double process_rss_mb(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtod(line.c_str() + 6, nullptr) / 1024.0 * 1.048576;
  }
  return 0;
}

std::vector<Figure> bench_live(const BenchConfig& cfg) {
  std::vector<Figure> figs;
  if (::access(cfg.daemon_bin.c_str(), X_OK) != 0) {
    for (const char* n : {"rss_10k_agents", "live_burst_latency_p50", "live_burst_latency_p99", "kiosk_idle_cpu"}) {
      figs.push_back(skipped(n, fmt::format("no daemon binary at {} (--daemon)", cfg.daemon_bin)));
    }
    return figs;
  }
  daemon::sim::SimOptions sim;
  sim.queues = cfg.tiny ? 100 : 500;
  sim.agents = cfg.tiny ? 2000 : 10000;
  sim.rate = cfg.tiny ? 8 : 40;
  sim.seed = 20260106;
  const std::size_t flood = cfg.tiny ? 50000 : 1000000;
  const double burst_rate = cfg.tiny ? 1000 : 5000;
  const auto burst_events = static_cast<std::size_t>(burst_rate * cfg.burst_seconds);
  const auto corpus = live_corpus(sim, flood + burst_events + 10000);

  char tmpl[] = "/tmp/callwatch-bench-live-XXXXXX";
  if (!::mkdtemp(tmpl)) return {skipped("rss_10k_agents", "mkdtemp failed")};
  const std::filesystem::path dir = tmpl;
  const int feed_port = cwtest::free_tcp_port(), http_port = cwtest::free_tcp_port();
  const int pub_port = cwtest::free_tcp_port(), ctl_port = cwtest::free_tcp_port();
  std::ofstream(dir / "callwatch.toml") << fmt::format(
      "[general]\nstorage_path = \"{}\"\n[storage]\ncheckpoint_seconds = 1\n"
      "[listen]\nfeed = \"tcp://127.0.0.1:{}\"\npublish = \"tcp://127.0.0.1:{}\"\n"
      "control = \"tcp://127.0.0.1:{}\"\nmetrics = \"127.0.0.1:{}\"\n\n[[feed]]\nname = \"native\"\ntype = \"native\"\n",
      (dir / "callwatch.db").string(), feed_port, pub_port, ctl_port, http_port);
  const auto cleanup = [&] {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  };
  Child daemon;
  if (!daemon.start({cfg.daemon_bin, "--config", (dir / "callwatch.toml").string()}, (dir / "daemon.log").string()) ||
      !cwtest::wait_for([&] { return cwtest::http_get(http_port, "/healthz").status == 200; }, 15s)) {
    std::ifstream log(dir / "daemon.log");
    fmt::print(stderr, "bench live: callwatchd did not start:\n{}\n", std::string(std::istreambuf_iterator<char>(log), {}));
    cleanup();
    return {skipped("rss_10k_agents", "callwatchd did not start")};
  }
  const double rss_start = process_rss_mb(daemon.pid);

  zmq::context_t ctx(1);
  zmq::socket_t push(ctx, zmq::socket_type::push);
  push.set(zmq::sockopt::sndhwm, 100000);
  push.set(zmq::sockopt::linger, 5000);
  push.connect(fmt::format("tcp://127.0.0.1:{}", feed_port));
  std::atomic<std::uint64_t> sent{0};
  std::string msg;
  const auto send_live = [&](const LiveMessage& m) {
    msg.assign(m.head);
    fmt::format_to(std::back_inserter(msg), "{:.6f}", wall_now());
    msg.append(m.tail);
    push.send(zmq::buffer(msg), zmq::send_flags::none);  // blocks at the HWM: never dropped
    sent.fetch_add(1, std::memory_order_relaxed);
  };
  const auto counted = [&](double at_least, std::chrono::seconds timeout) {
    std::optional<Totals> last;
    cwtest::wait_for(
        [&] {
          last = scrape_totals(http_port);
          return last && last->counted() >= at_least;
        },
        timeout);
    return last;
  };

  // ---- rss_10k_agents: 1M events as fast as the daemon takes them --------------------------------
  const auto f0 = Steady::now();
  for (std::size_t i = 0; i < flood; ++i) send_live(corpus[i]);
  const auto after_flood = counted(static_cast<double>(flood), cfg.tiny ? 60s : 300s);
  const double flood_s = seconds_since(f0);
  std::this_thread::sleep_for(2s);  // a checkpoint or two of the full state
  const double rss_after = process_rss_mb(daemon.pid);
  {
    Figure f;
    f.name = "rss_10k_agents";
    f.value = rss_after;
    f.unit = "MB resident after the events (lower is better)";
    f.baseline = rss_start;
    f.higher_is_better = false;
    f.goal = 200;
    f.goal_absolute = true;
    f.note = fmt::format(
        "callwatchd with its store (checkpoint 1 s), {} queues / {} agents, {} live-timed simulator events "
        "sent in {:.1f} s ({:.0f} events/s end to end), {:.0f} accepted, {:.0f} rejected, {:.0f} ignored (of them "
        "{:.0f} identical messages); "
        "baseline: RSS at start; absolute goal < 200 MB",
        sim.queues, sim.agents, flood, flood_s, static_cast<double>(flood) / flood_s,
        after_flood ? after_flood->events : -1, after_flood ? after_flood->rejected : -1,
        after_flood ? after_flood->ignored : -1, after_flood ? after_flood->dropped : -1);
    figs.push_back(f);
  }

  // ---- live_burst_latency: 5,000 events/s with probes ------------------------------------------
  Probes probes;
  std::vector<double> backlog;
  std::atomic<bool> stop_readers{false};
  std::thread board([&] { board_reader(ctx, fmt::format("tcp://127.0.0.1:{}", pub_port), probes, stop_readers); });
  std::thread scraper([&] { metrics_reader(http_port, probes, sent, backlog, stop_readers); });
  std::this_thread::sleep_for(500ms);  // the subscription is through before the first probe
  std::uint64_t probe_n = 0;
  {
    const auto start = Steady::now();
    std::size_t next = flood;
    std::uint64_t produced = 0;
    auto next_probe = start + 100ms;
    for (;;) {
      const auto now = Steady::now();
      const double elapsed = std::chrono::duration<double>(now - start).count();
      if (elapsed >= cfg.burst_seconds) break;
      const auto target = static_cast<std::uint64_t>(elapsed * burst_rate);
      for (; produced < target && next < corpus.size(); ++produced) send_live(corpus[next++]);
      if (now >= next_probe) {
        ++probe_n;
        {
          std::lock_guard lock(probes.mu);
          probes.board.push_back({static_cast<std::int64_t>(probe_n), Steady::now()});
          probes.metrics.push_back({static_cast<std::int64_t>(probe_n), Steady::now()});
        }
        const double t = wall_now();
        push.send(zmq::buffer(probe_json("call_enqueued", t, probe_n)), zmq::send_flags::none);
        push.send(zmq::buffer(probe_json("call_abandoned", t, probe_n)), zmq::send_flags::none);
        sent.fetch_add(2);
        next_probe += 200ms;
      }
      std::this_thread::sleep_for(5ms);
    }
  }
  const auto after_burst = counted(static_cast<double>(sent.load()), cfg.tiny ? 30s : 120s);
  std::this_thread::sleep_for(1s);  // the last probes reach both readers
  stop_readers = true;
  board.join();
  scraper.join();
  const auto raw = raw_zmq_latencies(cfg.tiny ? 50 : 200, probe_json("call_enqueued", wall_now(), 1).size());
  {
    std::lock_guard lock(probes.mu);
    const double backlog_first = backlog.empty() ? 0 : backlog.front();
    const double backlog_max = backlog.empty() ? 0 : *std::max_element(backlog.begin(), backlog.end());
    const double backlog_last = backlog.empty() ? 0 : backlog.back();
    for (const auto& [suffix, p, goal] : {std::tuple{"p50", 0.50, 10.0}, std::tuple{"p99", 0.99, 50.0}}) {
      const double b = percentile(probes.board_s, p) * 1e3, m = percentile(probes.metrics_s, p) * 1e3;
      Figure f;
      f.name = std::string("live_burst_latency_") + suffix;
      f.value = std::max(b, m);
      f.unit = "ms from event to board and to /metrics, the worse (lower is better)";
      f.baseline = percentile(raw, p) * 1e3;
      f.higher_is_better = false;
      f.goal = goal;
      f.goal_absolute = true;
      f.note = fmt::format(
          "event -> board {:.2f} ms ({} of {} probes), event -> /metrics {:.2f} ms ({} probes); {:.0f} s at {:.0f} "
          "events/s after the {} events above, store on; backlog (sent - counted) sampled each second: first {:.0f}, "
          "max {:.0f}, last {:.0f}; {} accepted, {} rejected in all; delta gaps {}; baseline: raw ZeroMQ round trip "
          "PUSH -> forwarder -> XPUB -> SUB; absolute goal {} ms",
          b, probes.board_s.size(), probe_n, m, probes.metrics_s.size(), cfg.burst_seconds, burst_rate, flood,
          backlog_first, backlog_max, backlog_last, after_burst ? after_burst->events : -1,
          after_burst ? after_burst->rejected : -1, probes.delta_gaps, goal);
      figs.push_back(f);
    }
  }

  // ---- kiosk_idle_cpu: a kiosk on that board, one event a second --------------------------------
  [&] {
    if (::access(cfg.wallboard_bin.c_str(), X_OK) != 0) {
      figs.push_back(skipped("kiosk_idle_cpu", fmt::format("no wallboard binary at {} (--wallboard)", cfg.wallboard_bin)));
      return;
    }
    if (std::system("command -v Xvfb > /dev/null 2>&1") != 0) {
      figs.push_back(skipped("kiosk_idle_cpu", "Xvfb is not installed"));
      return;
    }
    int fds[2];
    if (::pipe(fds) != 0) {
      figs.push_back(skipped("kiosk_idle_cpu", "pipe failed"));
      return;
    }
    Child xvfb;
    // -displayfd: Xvfb picks a free display itself and writes its number to fd 3.
    const bool started = xvfb.start({"/usr/bin/env", "Xvfb", "-displayfd", "3", "-screen", "0", "1920x1080x24",
                                     "-nolisten", "tcp"},
                                    (dir / "xvfb.log").string(), {}, fds[1]);
    ::close(fds[1]);
    std::string display;
    if (started) {
      char buf[32];
      // Blocks until Xvfb is ready (it writes the number then) or exits (EOF).
      for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) {
        display.append(buf, static_cast<std::size_t>(n));
        if (display.find('\n') != std::string::npos) break;
      }
    }
    ::close(fds[0]);
    while (!display.empty() && (display.back() == '\n' || display.back() == ' ')) display.pop_back();
    if (display.empty()) {
      figs.push_back(skipped("kiosk_idle_cpu", "Xvfb did not start"));
      return;
    }
    Child kiosk;
    kiosk.start({cfg.wallboard_bin, "--connect", fmt::format("tcp://127.0.0.1:{}", pub_port), "--control",
                 fmt::format("tcp://127.0.0.1:{}", ctl_port), "--kiosk", "--size", "1920x1080"},
                (dir / "kiosk.log").string(), {"DISPLAY=:" + display});
    std::uint64_t k = 0;
    const auto tick = [&](std::chrono::steady_clock::time_point until) {
      while (Steady::now() < until) {
        // One change a second: a probe agent toggles between available and paused.
        ++k;
        push.send(zmq::buffer(fmt::format(
                      R"({{"type":"agent_state","ts":{:.3f},"agent":"bench-kiosk","state":"{}","reason":"{}","queues":["bench-probe"]}})",
                      wall_now(), k % 2 ? "paused" : "available", k % 2 ? "bench" : "")),
                  zmq::send_flags::none);
        std::this_thread::sleep_until(std::min(until, Steady::now() + 1s));
      }
    };
    tick(Steady::now() + (cfg.tiny ? 3s : 8s));  // start-up: fonts, GL, the first snapshot
    if (!kiosk.alive()) {
      std::ifstream log(dir / "kiosk.log");
      figs.push_back(skipped("kiosk_idle_cpu", "the wallboard exited: " +
                                                   std::string(std::istreambuf_iterator<char>(log), {}).substr(0, 300)));
      return;
    }
    const double c0 = cpu_seconds(kiosk.pid);
    const auto w0 = Steady::now();
    tick(w0 + std::chrono::milliseconds(static_cast<long>(cfg.kiosk_seconds * 1000)));
    const double c1 = cpu_seconds(kiosk.pid);
    const double span = seconds_since(w0);
    const bool alive = kiosk.alive();
    if (!alive || c0 < 0 || c1 < 0) {
      figs.push_back(skipped("kiosk_idle_cpu", "the wallboard exited while sampled"));
      return;
    }
    Figure f;
    f.name = "kiosk_idle_cpu";
    f.value = (c1 - c0) / span * 100;
    f.unit = "% of one core (lower is better)";
    f.baseline = 100;
    f.higher_is_better = false;
    f.goal = 2;
    f.goal_absolute = true;
    f.note = fmt::format(
        "callwatch-wallboard --kiosk 1920x1080 under Xvfb (display :{}), {:.0f} s on the live board above ({} "
        "queues / {} agents) with 1 change/s; {:.2f} s of CPU; baseline: one core",
        display, span, sim.queues, sim.agents, c1 - c0);
    figs.push_back(f);
  }();

  push.close();
  daemon.stop();
  cleanup();
  return figs;
}

}  // namespace callwatch::bench
