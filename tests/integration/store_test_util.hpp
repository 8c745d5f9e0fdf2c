// Helpers of the restart, reliability and CURVE tests: a callwatchd process whose ports, config
// and store survive a restart (kill -9 included), an event file made by callwatch-sim --dump,
// and a small sender that pushes its lines over a real ZeroMQ socket.
#pragma once

#include <sys/resource.h>
#include <sys/stat.h>

#include <map>
#include <sstream>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "daemon_process.hpp"

namespace cwtest {

// A temp folder with a fixed set of ports and a config; start()/kill9()/stop() may run many times.
class Site {
 public:
  explicit Site(std::string extra_toml = {}) {
    char tmpl[] = "/tmp/callwatch-store-it-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
    dir = tmpl;
    ::chmod(dir.c_str(), 0755);  // a daemon without DAC override must still reach its files
    feed_port = free_tcp_port();
    http_port = free_tcp_port();
    pub_port = free_tcp_port();
    ctl_port = free_tcp_port();
    db = (dir / "callwatch.db").string();
    config = dir / "callwatch.toml";
    write_config(std::move(extra_toml));
  }
  ~Site() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      int st = 0;
      ::waitpid(pid, &st, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  Site(const Site&) = delete;
  Site& operator=(const Site&) = delete;

  void write_config(std::string extra_toml, bool with_storage = true) {
    std::ofstream(config) << (with_storage ? "[general]\nstorage_path = \"" + db + "\"\n"
                                           : std::string())
                          << "[listen]\nfeed = \"tcp://127.0.0.1:" << feed_port
                          << "\"\npublish = \"tcp://127.0.0.1:" << pub_port
                          << "\"\ncontrol = \"tcp://127.0.0.1:" << ctl_port
                          << "\"\nmetrics = \"127.0.0.1:" << http_port
                          << "\"\n\n[[feed]]\nname = \"native\"\n"
                          << "type = \"native\"\n\n"
                          << extra_toml;
  }

  // Starts callwatchd (behind `prefix`, e.g. setpriv) and waits for /healthz.
  void start(const std::vector<std::string>& prefix = {}, bool wait_ready = true) {
    std::vector<std::string> args = prefix;
    args.push_back(std::string(CALLWATCH_BIN_DIR) + "/callwatchd");
    args.insert(args.end(), {"--config", config.string(), "--log-level", "debug"});
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string log_path = (dir / "daemon.log").string();
    posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("posix_spawn " + args[0]);
    if (wait_ready &&
        !wait_for([&] { return http_get(http_port, "/healthz").status == 200; }, 15s)) {
      throw std::runtime_error("callwatchd did not become ready; log:\n" + log());
    }
  }
  void kill9() {
    ::kill(pid, SIGKILL);
    int st = 0;
    ::waitpid(pid, &st, 0);
    pid = -1;
  }
  // SIGTERM; the exit status (-1 when it had to be killed).
  int stop() {
    ::kill(pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    int st = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, &st, WNOHANG) == pid) {
        pid = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      }
      std::this_thread::sleep_for(20ms);
    }
    kill9();
    return -1;
  }
  // Waits for the process to exit by itself (a start-up refusal); its exit status or -1.
  int wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    int st = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, &st, WNOHANG) == pid) {
        pid = -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

  std::string log() const {
    std::ifstream in(dir / "daemon.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string scrape() const {
    const auto r = http_get(http_port, "/metrics");
    if (r.status != 200) throw std::runtime_error("scrape failed: " + std::to_string(r.status));
    return r.body;
  }
  double value(const std::string& series, double missing = -1) const {
    return sample(scrape(), series).value_or(missing);
  }
  std::string feed_endpoint() const { return "tcp://127.0.0.1:" + std::to_string(feed_port); }
  std::string publish_endpoint() const { return "tcp://127.0.0.1:" + std::to_string(pub_port); }
  std::string control_endpoint() const { return "tcp://127.0.0.1:" + std::to_string(ctl_port); }

  std::filesystem::path dir;
  std::filesystem::path config;
  std::string db;
  int feed_port = 0, http_port = 0, pub_port = 0, ctl_port = 0;
  pid_t pid = -1;
};

// Writes `password` as the metrics password file in the site's folder with `mode`; the [metrics]
// lines that turn basic auth on with it for `user`.
inline std::string metrics_basic_auth(const Site& site, const std::string& user, const std::string& password,
                                      mode_t mode = 0600) {
  const auto pass = site.dir / "metrics.pass";
  std::ofstream(pass) << password << "\n";
  if (::chmod(pass.c_str(), mode) != 0) throw std::runtime_error("chmod " + pass.string());
  return "[metrics]\nbasic_auth_user = \"" + user + "\"\nbasic_auth_password_file = \"" + pass.string() + "\"\n";
}

inline double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

inline std::vector<std::string> read_lines(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::vector<std::string> out;
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

// Runs a command; its exit status (-1 when it could not run).
inline int run(const std::string& cmd) {
  const int rc = std::system(cmd.c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

// Pushes JSON lines to a native feed over tcp and waits until ZeroMQ has handed them over.
inline void send_lines(zmq::context_t& ctx, const std::string& endpoint,
                       const std::vector<std::string>& lines, std::size_t from = 0,
                       std::size_t to = static_cast<std::size_t>(-1)) {
  zmq::socket_t push(ctx, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 10000);
  push.set(zmq::sockopt::sndhwm, 0);
  push.connect(endpoint);
  for (std::size_t i = from; i < std::min(to, lines.size()); ++i) {
    (void)push.send(zmq::buffer(lines[i]), zmq::send_flags::none);
  }
  push.close();  // linger: blocks until sent
}

// Values of every sample of a family, by the `queue` label: {"sales": 12, ...}.
inline std::map<std::string, double> by_queue(const std::string& body, const std::string& family,
                                              const std::string& extra_labels = {}) {
  std::map<std::string, double> out;
  std::istringstream in(body);
  const std::string prefix = family + "{queue=\"";
  for (std::string l; std::getline(in, l);) {
    if (l.rfind(prefix, 0) != 0) continue;
    const auto q_end = l.find('"', prefix.size());
    if (q_end == std::string::npos) continue;
    const std::string rest = l.substr(q_end + 1, l.find('}') - q_end - 1);
    if (rest != extra_labels) continue;
    out[l.substr(prefix.size(), q_end - prefix.size())] = std::stod(l.substr(l.rfind(' ') + 1));
  }
  return out;
}

}  // namespace cwtest
