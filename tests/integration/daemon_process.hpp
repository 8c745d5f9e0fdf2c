// Test helpers for running the real callwatchd: free ports, a temp config, posix_spawn, a small
// HTTP client over a real socket, and sample lookup in a /metrics body.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace cwtest {

using namespace std::chrono_literals;

// A port the kernel just handed out and nobody holds now. The kernel may hand the same free
// port out again right after it was closed, so a port is never returned twice by this process
// (one daemon's feed and metrics ports once came out equal: the daemon refused its config).
inline int free_tcp_port() {
  static std::mutex mu;
  static std::set<int> given;
  std::lock_guard<std::mutex> lock(mu);
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) throw std::runtime_error("bind");
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    const int port = ntohs(a.sin_port);
    if (given.insert(port).second) return port;
  }
  throw std::runtime_error("no fresh free port");
}

// A free port below the kernel's ephemeral range (32768-60999 here). The wallboard keeps
// reconnecting to the daemon's ports while it is down; with a port inside the ephemeral range,
// one of those connects can be given the destination port as its own source port and connect
// to itself (TCP simultaneous open), and then the daemon cannot bind it ("Address already in
// use" on restart; seen once in three full runs when these ports came from free_tcp_port()).
inline int free_port_below_ephemeral() {
  static unsigned seed = static_cast<unsigned>(::getpid());
  for (int attempt = 0; attempt < 200; ++attempt) {
    seed = seed * 1103515245u + 12345u;
    const int port = 20000 + static_cast<int>((seed >> 8) % 12000);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool ok = fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    if (fd >= 0) ::close(fd);
    if (ok) return port;
  }
  throw std::runtime_error("no free port below 32000");
}

// The standard output of a shell command (stderr as the command redirects it).
inline std::string run_command(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  ::pclose(p);
  return out;
}

struct HttpResponse {
  int status = 0;
  std::string headers;  // raw header block, lower-cased names not guaranteed
  std::string body;
  bool has_header(const std::string& line_prefix) const {
    std::istringstream in(headers);
    for (std::string l; std::getline(in, l);) {
      if (!l.empty() && l.back() == '\r') l.pop_back();
      if (l.size() >= line_prefix.size() &&
          std::equal(line_prefix.begin(), line_prefix.end(), l.begin(),
                     [](char x, char y) { return std::tolower(x) == std::tolower(y); })) {
        return true;
      }
    }
    return false;
  }
};

// HTTP/1.1 with Connection: close; reads to EOF. status 0 when nothing answers.
inline HttpResponse http_request(int port, const std::string& method, const std::string& path,
                                 const std::string& extra_headers = {}) {
  HttpResponse r;
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return r;
  }
  const std::string req = method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" +
                          extra_headers + "\r\n";
  ::send(fd, req.data(), req.size(), MSG_NOSIGNAL);
  std::string raw;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  const auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos || raw.compare(0, 9, "HTTP/1.1 ") != 0) return r;
  r.status = std::stoi(raw.substr(9, 3));
  r.headers = raw.substr(0, end);
  r.body = raw.substr(end + 4);
  return r;
}

inline HttpResponse http_get(int port, const std::string& path, const std::string& extra_headers = {}) {
  return http_request(port, "GET", path, extra_headers);
}

inline std::string gunzip(const std::string& in) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) throw std::runtime_error("inflateInit2");
  std::string out;
  char buf[65536];
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END) throw std::runtime_error("not a whole gzip stream");
  return out;
}

// The value of the sample whose name+labels are exactly `series` (e.g. `x{a="b"}`), if present.
inline std::optional<double> sample(const std::string& body, const std::string& series) {
  std::istringstream in(body);
  for (std::string l; std::getline(in, l);) {
    if (l.size() > series.size() && l.compare(0, series.size(), series) == 0 && l[series.size()] == ' ') {
      return std::stod(l.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

// 0 when promtool accepts the body.
inline int promtool_check(const std::string& body, const std::filesystem::path& dir) {
  const auto file = dir / "scrape.prom";
  std::ofstream(file) << body;
  const std::string cmd = "promtool check metrics < '" + file.string() + "' > '" + (dir / "promtool.out").string() +
                          "' 2>&1";
  return std::system(cmd.c_str());
}

inline bool wait_for(const std::function<bool()>& ok, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (ok()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return ok();
}

// One callwatchd process on free ports with a temp config; SIGTERM (then SIGKILL) on destruction.
class Daemon {
 public:
  explicit Daemon(std::vector<std::string> extra_args = {}, const std::string& extra_toml = {},
                  bool wait_ready = true, bool explicit_feed = true, int use_feed_port = 0) {
    char tmpl[] = "/tmp/callwatch-it-XXXXXX";
    if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
    dir = tmpl;
    feed_port = use_feed_port ? use_feed_port : free_tcp_port();
    http_port = free_tcp_port();
    const int pub = free_tcp_port();
    const int ctl = free_tcp_port();
    feed_endpoint = "tcp://127.0.0.1:" + std::to_string(feed_port);
    config = dir / "callwatch.toml";
    std::ofstream(config) << "[listen]\nfeed = \"" << feed_endpoint << "\"\npublish = \"tcp://127.0.0.1:" << pub
                          << "\"\ncontrol = \"tcp://127.0.0.1:" << ctl << "\"\nmetrics = \"127.0.0.1:" << http_port
                          << "\"\n\n"
                          // Explicit, so the tests do not depend on how a file without
                          // [[feed]] is completed (a case of its own below).
                          << (explicit_feed ? "[[feed]]\nname = \"native\"\ntype = \"native\"\n\n" : "")
                          << extra_toml;
    std::vector<std::string> args = {std::string(CALLWATCH_BIN_DIR) + "/callwatchd", "--config", config.string()};
    for (auto& a : extra_args) args.push_back(a);
    start(args);
    if (wait_ready && !wait_for([&] { return http_get(http_port, "/healthz").status == 200; }, 15s)) {
      throw std::runtime_error("callwatchd did not become ready; log:\n" + log());
    }
  }
  ~Daemon() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      if (!wait_exit(5s)) {
        ::kill(pid, SIGKILL);
        wait_exit(5s);
      }
    }
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  void start(const std::vector<std::string>& args) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    const std::string log_path = (dir / "daemon.log").string();
    posix_spawn_file_actions_addopen(&fa, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("posix_spawn " + args[0]);
  }

  // True once the process exited (exit status in `status`).
  bool wait_exit(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      const pid_t r = ::waitpid(pid, &status, WNOHANG);
      if (r == pid) {
        pid = -1;
        return true;
      }
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(20ms);
    }
  }
  bool running() {
    if (pid <= 0) return false;
    return ::waitpid(pid, &status, WNOHANG) == 0;
  }
  std::string log() const {
    std::ifstream in(dir / "daemon.log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::string scrape() const {
    const auto r = http_get(http_port, "/metrics");
    if (r.status != 200) throw std::runtime_error("scrape failed: status " + std::to_string(r.status));
    return r.body;
  }

  std::filesystem::path dir;
  std::filesystem::path config;
  std::string feed_endpoint;
  int feed_port = 0;
  int http_port = 0;
  pid_t pid = -1;
  int status = 0;
};

}  // namespace cwtest
