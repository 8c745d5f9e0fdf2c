// scrape_100k: a real HTTP GET /metrics with Accept-Encoding: gzip from the daemon's own HTTP server
// (daemon/serve/http_server: render + gzip per request) of a snapshot with about 100k series,
// against the same gzip body served from a prebuilt buffer by a minimal blocking socket server.
// The client is the same for both: connect, request, read to the end (Connection: close).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include <fmt/format.h>

#include "bench.hpp"
#include "runtime/snapshot_hub.hpp"
#include "serve/http_server.hpp"

namespace callwatch::bench {

namespace {

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<std::uint16_t>(port));
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    if (fd >= 0) ::close(fd);
    return -1;
  }
  return fd;
}

// One GET /metrics with gzip; the whole response (headers + body) in `raw`. Seconds, or < 0.
double get_gzip(int port, std::string& raw) {
  raw.clear();
  const auto t0 = std::chrono::steady_clock::now();
  const int fd = connect_to(port);
  if (fd < 0) return -1;
  static constexpr std::string_view kRequest =
      "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n";
  ::send(fd, kRequest.data(), kRequest.size(), MSG_NOSIGNAL);
  char buf[1 << 16];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) raw.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return seconds_since(t0);
}

// The baseline server: answers every connection with `response` (prebuilt headers + body).
class BufferServer {
 public:
  explicit BufferServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(fd_, 16);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~BufferServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(connect_to(port_));  // wakes accept()
    thread_.join();
    ::close(fd_);
  }
  int port() const { return port_; }

 private:
  void run() {
    std::string req;
    char buf[4096];
    while (!stop_) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      req.clear();
      while (req.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        req.append(buf, static_cast<std::size_t>(n));
      }
      for (std::size_t off = 0; off < response_.size() && !stop_;) {
        const ssize_t n = ::send(c, response_.data() + off, response_.size() - off, MSG_NOSIGNAL);
        if (n <= 0) break;
        off += static_cast<std::size_t>(n);
      }
      ::close(c);
    }
  }
  std::string response_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace

std::vector<Figure> bench_scrape(const BenchConfig& cfg, const Corpus& corpus) {
  SeriesSnapshot z = series_snapshot(corpus, 100000);
  daemon::SnapshotHub hub;
  hub.publish(std::make_shared<const metrics::Snapshot>(std::move(z.snap)),
              std::make_shared<const std::vector<daemon::FeedHealth>>(std::move(z.feeds)));
  daemon::HttpOptions opts;
  opts.listen = "127.0.0.1:0";
  auto server = daemon::HttpServer::start(opts, hub);
  if (!server) {
    fmt::print(stderr, "scrape_100k: the HTTP server did not start: {}\n", server.error());
    return {};
  }
  const std::string& addr = (*server)->address();
  const int port = std::stoi(addr.substr(addr.rfind(':') + 1));

  // The daemon's own response once: its body (and headers) are what the baseline serves.
  std::string raw;
  if (get_gzip(port, raw) < 0 || raw.find("Content-Encoding: gzip") == std::string::npos) {
    fmt::print(stderr, "scrape_100k: /metrics did not answer with gzip\n");
    return {};
  }
  const std::size_t head = raw.find("\r\n\r\n") + 4;
  std::string prebuilt = fmt::format(
      "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Encoding: gzip\r\n"
      "Content-Length: {}\r\nConnection: close\r\n\r\n",
      raw.size() - head);
  prebuilt.append(raw, head, std::string::npos);
  const std::size_t gz_bytes = raw.size() - head;
  BufferServer baseline_server(std::move(prebuilt));

  std::string got;
  const auto subject = [&] { return get_gzip(port, got); };
  const auto baseline = [&] { return get_gzip(baseline_server.port(), got); };
  const Timing t = measure(cfg.tiny ? 2 : cfg.reps * 2, subject, baseline);
  // The first scrape of a newly published frame pays the render and the deflate of the state
  // part (later ones reuse them): noted beside the figure, the median of a few.
  const auto snap = hub.latest();
  std::vector<double> fresh;
  for (int i = 0; i < (cfg.tiny ? 2 : 5); ++i) {
    hub.publish(snap);
    const double s = get_gzip(port, got);
    if (s > 0) fresh.push_back(s * 1e3);
  }
  const std::uint64_t renders = (*server)->state_renders();

  Figure f;
  f.name = "scrape_100k";
  f.unit = "ms per GET /metrics with gzip (lower is better)";
  f.value = t.subject * 1e3;
  f.baseline = t.baseline * 1e3;
  f.higher_is_better = false;
  f.goal = 2.0;
  f.note = fmt::format(
      "{} series ({:.1f} MB text, {:.2f} MB gzip) from daemon/serve/http_server on a published snapshot, "
      "vs the same gzip body sent from a prebuilt buffer; tcp loopback, Connection: close; the "
      "state part is rendered once per published frame ({} renders in all): the first scrape of a new "
      "frame takes {:.1f} ms",
      z.series, static_cast<double>(z.bytes) / 1e6, static_cast<double>(gz_bytes) / 1e6, renders,
      fresh.empty() ? 0.0 : median(fresh));
  return {f};
}

}  // namespace callwatch::bench
