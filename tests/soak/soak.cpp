// callwatch-soak: runs callwatchd (with its store) under a steady stream of native events for a
// while and samples it every second: resident memory, event-to-wallboard latency, events sent,
// applied, rejected and lost, store errors. Writes one CSV row per second, a gnuplot script and,
// when gnuplot is installed, a PNG. Not a timed test: CI runs a short one to prove it works.
//
//   callwatch-soak [--duration 600] [--rate 5000] [--queues 100] [--agents 5000]
//                  [--out DIR] [--daemon PATH] [--checkpoint 1]
//
// Latency: every 200 ms a probe call enters and at once leaves the queue "soak-probe" (one more
// offered call there); the time from sending probe k to the first wallboard delta whose probe
// queue shows k offered calls is one sample. Counting, not toggling, keeps the match right when
// one delta carries several probes. That path is the whole pipeline: PUSH, parse, engine,
// snapshot, diff, XPUB.
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <queue>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "../integration/daemon_process.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"

extern char** environ;

namespace {

using namespace std::chrono_literals;
using Steady = std::chrono::steady_clock;

std::atomic<bool> g_interrupted{false};
extern "C" void on_signal(int) { g_interrupted = true; }

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

struct Options {
  double duration = 600;
  double rate = 5000;
  int queues = 100;
  int agents = 5000;
  double checkpoint = 1.0;
  std::string out = "soak-out";
  std::string daemon = std::string(CALLWATCH_BIN_DIR) + "/callwatchd";
  double drain_timeout = 60;
};

// ---- the event stream --------------------------------------------------------------------------

// A synthetic floor sized for a rate, not for realism of the figures: calls enter, wait 0-30 s,
// three quarters are answered by a free agent and end after 2-8 s of talk (the agent is free
// again), the rest hang up. Every event carries the wall clock time it is sent at, so the daemon
// handles it as a live event.
class Floor {
 public:
  Floor(int queues, int agents, std::uint64_t seed) : rng_(seed) {
    for (int q = 0; q < queues; ++q) queue_names_.push_back(fmt::format("q{:03}", q));
    for (int a = 0; a < agents; ++a) {
      agent_names_.push_back(fmt::format("agent-{:05}", a));
      free_.push_back(a);
    }
  }

  // Events due up to `now`, plus new calls so that about `want` events are produced.
  void produce(double now, std::size_t want, std::vector<std::string>& out) {
    while (!timers_.empty() && timers_.top().at <= now && out.size() < want) {
      Timer t = timers_.top();
      timers_.pop();
      fire(t, now, out);
    }
    while (out.size() < want) new_call(now, out);
  }

  std::vector<std::string> login(double now) const {
    std::vector<std::string> out;
    for (std::size_t a = 0; a < agent_names_.size(); ++a) {
      out.push_back(fmt::format(
          R"({{"type":"agent_state","ts":{:.3f},"agent":"{}","state":"available","queues":["{}"]}})",
          now, agent_names_[a], queue_names_[a % queue_names_.size()]));
    }
    return out;
  }

 private:
  enum class Kind : std::uint8_t { outcome, end };
  struct Timer {
    double at;
    Kind kind;
    std::uint64_t call;
    int queue;
    int agent;
    bool operator<(const Timer& o) const { return at > o.at; }  // min-heap
  };

  void new_call(double now, std::vector<std::string>& out) {
    const std::uint64_t id = next_call_++;
    const int q = static_cast<int>(id % queue_names_.size());
    out.push_back(fmt::format(R"({{"type":"call_enqueued","ts":{:.3f},"call":"s{}","queue":"{}"}})",
                              now, id, queue_names_[q]));
    std::uniform_real_distribution<double> wait(0, 30);
    timers_.push(Timer{now + wait(rng_), Kind::outcome, id, q, -1});
  }

  void fire(const Timer& t, double now, std::vector<std::string>& out) {
    if (t.kind == Kind::outcome) {
      std::uniform_real_distribution<double> u(0, 1);
      if (u(rng_) < 0.75 && !free_.empty()) {
        const int a = free_.front();
        free_.pop_front();
        out.push_back(fmt::format(
            R"({{"type":"call_answered","ts":{:.3f},"call":"s{}","queue":"{}","agent":"{}"}})", now,
            t.call, queue_names_[t.queue], agent_names_[a]));
        std::uniform_real_distribution<double> talk(2, 8);
        timers_.push(Timer{now + talk(rng_), Kind::end, t.call, t.queue, a});
      } else {
        out.push_back(
            fmt::format(R"({{"type":"call_abandoned","ts":{:.3f},"call":"s{}","queue":"{}"}})", now,
                        t.call, queue_names_[t.queue]));
      }
    } else {
      out.push_back(fmt::format(
          R"({{"type":"call_ended","ts":{:.3f},"call":"s{}","agent":"{}","by":"caller"}})", now,
          t.call, agent_names_[t.agent]));
      out.push_back(
          fmt::format(R"({{"type":"agent_state","ts":{:.3f},"agent":"{}","state":"available"}})",
                      now, agent_names_[t.agent]));
      free_.push_back(t.agent);
    }
  }

  std::mt19937_64 rng_;
  std::vector<std::string> queue_names_;
  std::vector<std::string> agent_names_;
  std::deque<int> free_;
  std::priority_queue<Timer> timers_;
  std::uint64_t next_call_ = 1;
};

// ---- probes ----------------------------------------------------------------------------------

struct Probes {
  std::mutex mu;
  // Outstanding probe: the probe queue's offered total once it is in, and when it was sent.
  struct Pending {
    std::int64_t offered;
    Steady::time_point sent;
  };
  std::deque<Pending> pending;
  std::vector<double> samples_ms;  // taken by the sampler each second
  std::uint64_t lost = 0;          // probes never seen within 10 s
  std::uint64_t delta_gaps = 0;    // sequence gaps on the subscription (XPUB dropped for us)
};

void subscriber(zmq::context_t& ctx, const std::string& endpoint, Probes& probes,
                std::atomic<bool>& stop) {
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
    const std::string_view body = frames[1].to_string_view();
    // Only deltas that mention the probe queue are worth decoding.
    const bool mentions = body.find("soak-probe") != std::string_view::npos;
    auto m = mentions ? callwatch::metrics::wire::decode(body) : tl::unexpected(std::string());
    // The sequence number is cheap to read without a full decode only when decoded; count gaps
    // on decoded ones and on the rest by a light scan of `"seq":`.
    std::uint64_t seq = 0;
    if (m) {
      seq = m->seq;
    } else if (auto p = body.find("\"seq\":"); p != std::string_view::npos) {
      seq = std::strtoull(body.data() + p + 6, nullptr, 10);
    }
    if (last_seq != 0 && seq > last_seq + 1) {
      std::lock_guard lock(probes.mu);
      probes.delta_gaps += seq - last_seq - 1;
    }
    if (seq != 0) last_seq = seq;
    if (!m) continue;
    for (const auto& q : m->delta.queues) {
      if (q.name != "soak-probe") continue;
      std::lock_guard lock(probes.mu);
      // Every probe up to the offered total shown has arrived.
      const std::int64_t offered = q.total.offered();
      while (!probes.pending.empty() && probes.pending.front().offered <= offered) {
        probes.samples_ms.push_back(
            std::chrono::duration<double, std::milli>(got - probes.pending.front().sent).count());
        probes.pending.pop_front();
      }
    }
  }
}

// ---- the daemon ------------------------------------------------------------------------------

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::strtol(line.c_str() + 6, nullptr, 10);
  }
  return -1;
}

double sum_samples(const std::string& body, const std::string& prefix) {
  double total = 0;
  std::istringstream in(body);
  for (std::string l; std::getline(in, l);) {
    if (l.rfind(prefix, 0) != 0) continue;
    const auto sp = l.rfind(' ');
    if (sp != std::string::npos) total += std::strtod(l.c_str() + sp + 1, nullptr);
  }
  return total;
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(
      v.size() - 1, static_cast<std::size_t>(std::ceil(p * static_cast<double>(v.size())) - 1));
  return v[i];
}

std::string fmt_ms(double v) { return std::isnan(v) ? std::string() : fmt::format("{:.2f}", v); }

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CLI::App app{"callwatch-soak: callwatchd under a steady event stream, sampled every second"};
  app.add_option("--duration", o.duration, "seconds of load")->capture_default_str();
  app.add_option("--rate", o.rate, "events per second")->capture_default_str();
  app.add_option("--queues", o.queues)->capture_default_str();
  app.add_option("--agents", o.agents)->capture_default_str();
  app.add_option("--checkpoint", o.checkpoint, "store checkpoint interval, seconds")
      ->capture_default_str();
  app.add_option("--out", o.out, "folder for soak.csv, soak.gp, soak.png, daemon.log")
      ->capture_default_str();
  app.add_option("--daemon", o.daemon, "callwatchd binary")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  std::signal(SIGPIPE, SIG_IGN);
  // Ctrl-C or a kill ends the load early but still stops the daemon and writes the files.
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  std::filesystem::create_directories(o.out);
  const std::filesystem::path out(o.out);
  const std::filesystem::path work = out / "work";
  std::filesystem::remove_all(work);
  std::filesystem::create_directories(work);

  const int feed_port = cwtest::free_tcp_port();
  const int http_port = cwtest::free_tcp_port();
  const int pub_port = cwtest::free_tcp_port();
  const int ctl_port = cwtest::free_tcp_port();
  const std::string config = (work / "callwatch.toml").string();
  std::ofstream(config) << fmt::format(
      "[general]\nstorage_path = \"{}\"\n[storage]\ncheckpoint_seconds = {}\n"
      "[listen]\nfeed = \"tcp://127.0.0.1:{}\"\npublish = \"tcp://127.0.0.1:{}\"\n"
      "control = \"tcp://127.0.0.1:{}\"\nmetrics = \"127.0.0.1:{}\"\n",
      (work / "callwatch.db").string(), o.checkpoint, feed_port, pub_port, ctl_port, http_port);

  // Start the daemon, its output in out/daemon.log.
  pid_t pid = -1;
  {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string log = (out / "daemon.log").string();
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    std::vector<std::string> args = {o.daemon, "--config", config};
    std::vector<char*> argv_c;
    for (auto& a : args) argv_c.push_back(a.data());
    argv_c.push_back(nullptr);
    if (posix_spawn(&pid, o.daemon.c_str(), &fa, nullptr, argv_c.data(), environ) != 0) {
      std::fprintf(stderr, "callwatch-soak: cannot start %s\n", o.daemon.c_str());
      return 2;
    }
    posix_spawn_file_actions_destroy(&fa);
  }
  auto stop_daemon = [&](int sig) {
    if (pid <= 0) return -1;
    ::kill(pid, sig);
    int status = 0;
    for (int i = 0; i < 200; ++i) {
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return status;
      }
      std::this_thread::sleep_for(50ms);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    pid = -1;
    return status;
  };
  if (!cwtest::wait_for([&] { return cwtest::http_get(http_port, "/healthz").status == 200; },
                        15s)) {
    std::fprintf(stderr, "callwatch-soak: the daemon did not become ready (see %s)\n",
                 (out / "daemon.log").c_str());
    stop_daemon(SIGKILL);
    return 2;
  }
  const long rss_start = rss_kib(pid);

  zmq::context_t ctx(1);
  Probes probes;
  std::atomic<bool> stop_sub{false};
  std::thread sub_thread(
      [&] { subscriber(ctx, fmt::format("tcp://127.0.0.1:{}", pub_port), probes, stop_sub); });
  std::this_thread::sleep_for(300ms);  // the subscription reaches the XPUB before the load

  // Sender: paced in 5 ms steps so a second holds `rate` events, whatever the machine's jitter.
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> blocked_ms{0};
  std::atomic<bool> stop_send{false};
  std::thread sender([&] {
    zmq::socket_t push(ctx, zmq::socket_type::push);
    push.set(zmq::sockopt::sndhwm, 100000);
    push.set(zmq::sockopt::linger, 5000);
    push.connect(fmt::format("tcp://127.0.0.1:{}", feed_port));
    Floor floor(o.queues, o.agents, 42);
    auto send = [&](const std::string& m) {
      // A full pipe means the daemon is behind: wait (never drop) and count the time waited.
      while (!push.send(zmq::buffer(m), zmq::send_flags::dontwait)) {
        if (stop_send.load()) return;
        std::this_thread::sleep_for(1ms);
        blocked_ms.fetch_add(1);
      }
      sent.fetch_add(1);
    };
    for (const auto& m : floor.login(wall_now())) send(m);
    const auto start = Steady::now();
    std::uint64_t produced = 0;
    std::uint64_t probe_n = 0;
    auto next_probe = start;
    std::vector<std::string> batch;
    while (!stop_send.load()) {
      const auto now = Steady::now();
      const double elapsed = std::chrono::duration<double>(now - start).count();
      if (elapsed >= o.duration || g_interrupted.load()) break;
      const auto target = static_cast<std::uint64_t>(elapsed * o.rate);
      if (target > produced) {
        batch.clear();
        floor.produce(wall_now(), target - produced, batch);
        for (const auto& m : batch) send(m);
        produced += batch.size();
      }
      if (now >= next_probe) {
        ++probe_n;
        const std::string id = fmt::format("probe-{}", probe_n);
        const double t = wall_now();
        {
          std::lock_guard lock(probes.mu);
          probes.pending.push_back({static_cast<std::int64_t>(probe_n), Steady::now()});
        }
        send(fmt::format(
            R"({{"type":"call_enqueued","ts":{:.3f},"call":"{}","queue":"soak-probe"}})", t, id));
        send(fmt::format(
            R"({{"type":"call_abandoned","ts":{:.3f},"call":"{}","queue":"soak-probe"}})", t, id));
        next_probe += 200ms;
      }
      std::this_thread::sleep_for(5ms);
    }
  });

  // Sampler: one CSV row a second.
  std::ofstream csv(out / "soak.csv");
  csv << "t_s,events_sent,sent_per_s,events_applied,applied_per_s,backlog,rejected,ignored,store_"
         "errors,"
         "checkpoint_age_s,rss_mib,latency_p50_ms,latency_p99_ms,latency_max_ms,latency_samples,"
         "probes_lost,"
         "delta_gaps,sender_blocked_ms\n";
  const auto t0 = Steady::now();
  double prev_sent = 0, prev_applied = 0;
  std::vector<double> all_latency;
  long rss_max = rss_start;
  long rss_last = rss_start;
  double applied = 0, rejected = 0, ignored = 0, store_errors = 0;
  bool daemon_died = false;
  auto sample_once = [&](double t) {
    const auto r = cwtest::http_get(http_port, "/metrics");
    if (r.status == 200) {
      applied = sum_samples(r.body, "callwatch_feed_events_total{");
      rejected = sum_samples(r.body, "callwatch_feed_events_rejected_total{");
      ignored = sum_samples(r.body, "callwatch_feed_events_ignored_total{");
      store_errors = sum_samples(r.body, "callwatch_store_errors_total");
    }
    double ckpt = sum_samples(r.body, "callwatch_store_last_checkpoint_timestamp_seconds");
    const long rss = pid > 0 ? rss_kib(pid) : -1;
    if (rss < 0) daemon_died = true;
    rss_last = rss;
    rss_max = std::max(rss_max, rss);
    std::vector<double> lat;
    std::uint64_t lost = 0, gaps = 0;
    {
      std::lock_guard lock(probes.mu);
      lat.swap(probes.samples_ms);
      while (!probes.pending.empty() && Steady::now() - probes.pending.front().sent > 10s) {
        probes.pending.pop_front();
        ++probes.lost;
      }
      lost = probes.lost;
      gaps = probes.delta_gaps;
    }
    all_latency.insert(all_latency.end(), lat.begin(), lat.end());
    const double s = static_cast<double>(sent.load());
    csv << fmt::format(
        "{:.1f},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f},{:.0f},{},{:.1f},{},{},{},{},{},{}"
        ",{}\n",
        t, s, s - prev_sent, applied, applied - prev_applied, s - applied, rejected, ignored,
        store_errors, ckpt > 0 ? fmt::format("{:.2f}", wall_now() - ckpt) : std::string(),
        static_cast<double>(rss) / 1024.0, fmt_ms(percentile(lat, 0.5)),
        fmt_ms(percentile(lat, 0.99)),
        fmt_ms(lat.empty() ? std::nan("") : *std::max_element(lat.begin(), lat.end())), lat.size(),
        lost, gaps, blocked_ms.load());
    csv.flush();
    prev_sent = s;
    prev_applied = applied;
  };
  for (int i = 1;; ++i) {
    std::this_thread::sleep_until(t0 + std::chrono::seconds(i));
    const double t = std::chrono::duration<double>(Steady::now() - t0).count();
    sample_once(t);
    if (daemon_died || t >= o.duration || g_interrupted.load()) break;
  }
  sender.join();
  // Drain: every event sent must be applied (nothing dropped), within a bound.
  const auto drain_start = Steady::now();
  for (int i = 1; !daemon_died; ++i) {
    std::this_thread::sleep_until(drain_start + std::chrono::seconds(i));
    sample_once(std::chrono::duration<double>(Steady::now() - t0).count());
    if (applied + rejected >= static_cast<double>(sent.load()) || i >= o.drain_timeout) break;
  }
  stop_sub = true;
  sub_thread.join();
  const int status = stop_daemon(SIGTERM);
  csv.close();

  // Plot.
  const std::string gp = (out / "soak.gp").string();
  std::ofstream(gp) << fmt::format(
      "set datafile separator ','\nset terminal pngcairo size 1400,900 noenhanced\nset output "
      "'{}'\n"
      "set key autotitle columnhead\nset multiplot layout 3,1 title 'callwatchd soak: {:.0f} "
      "events/s, {} queues, "
      "{} agents, checkpoint every {} s'\nset xlabel 'seconds'\n"
      "set ylabel 'MiB'\nplot '{}' using 1:11 with lines title 'RSS'\n"
      "set ylabel 'ms'\nset logscale y\nplot '{}' using 1:12 with lines title 'latency p50', '' "
      "using 1:13 with lines "
      "title 'latency p99', '' using 1:14 with points pt 7 ps 0.3 title 'latency max'\nunset "
      "logscale y\n"
      "set ylabel 'events/s'\nplot '{}' using 1:3 with lines title 'sent/s', '' using 1:5 with "
      "lines title "
      "'applied/s', '' using 1:6 with lines title 'backlog', '' using 1:7 with lines title "
      "'rejected (total)'\n"
      "unset multiplot\n",
      (out / "soak.png").string(), o.rate, o.queues, o.agents, o.checkpoint,
      (out / "soak.csv").string(), (out / "soak.csv").string(), (out / "soak.csv").string());
  bool plotted = false;
  if (std::system("command -v gnuplot > /dev/null 2>&1") == 0) {
    plotted =
        std::system(("gnuplot '" + gp + "' 2> '" + (out / "gnuplot.err").string() + "'").c_str()) ==
        0;
  }

  const double total_sent = static_cast<double>(sent.load());
  // Accepted events (callwatch_feed_events_total) include those the engine ignored as duplicates.
  const double lost_events = total_sent - applied - rejected;
  std::printf(
      "{\"duration_s\": %.0f, \"rate\": %.0f, \"events_sent\": %.0f, \"events_applied\": %.0f, "
      "\"events_rejected\": "
      "%.0f, \"events_lost\": %.0f, \"store_errors\": %.0f, \"rss_start_mib\": %.1f, "
      "\"rss_max_mib\": %.1f, "
      "\"rss_end_mib\": %.1f, \"latency_p50_ms\": %.2f, \"latency_p99_ms\": %.2f, "
      "\"latency_max_ms\": %.2f, "
      "\"latency_samples\": %zu, \"probes_lost\": %llu, \"delta_gaps\": %llu, \"csv\": \"%s\", "
      "\"png\": \"%s\", "
      "\"daemon_exit\": %d}\n",
      o.duration, o.rate, total_sent, applied, rejected, lost_events, store_errors,
      static_cast<double>(rss_start) / 1024.0, static_cast<double>(rss_max) / 1024.0,
      static_cast<double>(rss_last) / 1024.0, percentile(all_latency, 0.5),
      percentile(all_latency, 0.99),
      all_latency.empty() ? std::nan("")
                          : *std::max_element(all_latency.begin(), all_latency.end()),
      all_latency.size(), static_cast<unsigned long long>(probes.lost),
      static_cast<unsigned long long>(probes.delta_gaps), (out / "soak.csv").c_str(),
      plotted ? (out / "soak.png").c_str() : "", WIFEXITED(status) ? WEXITSTATUS(status) : -1);

  // Pass: the daemon lived and exited cleanly, nothing was lost or rejected, the store kept up.
  const bool ok = !daemon_died && WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
                  lost_events == 0 && rejected == 0 && store_errors == 0 && !all_latency.empty();
  if (!ok) std::fprintf(stderr, "callwatch-soak: FAILED (see %s)\n", (out / "daemon.log").c_str());
  return ok ? 0 : 1;
}
