// libmicrohttpd in its epoll mode: a few threads watch every connection, so a client that
// connects and says nothing costs a connection slot (bounded, counted when refused), never a
// thread. Bodies go out from pooled buffers that stay alive until the client has read them; the
// bytes they hold are bounded too. A wrong password is answered late by suspending the connection
// and resuming it from a timer thread, so guessing is slow and still ties up no thread.
#include "serve/http_server.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cstring>
#include <map>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "runtime/log_limiter.hpp"
#include "runtime/logging.hpp"
#include "serve/auth_throttle.hpp"
#include "serve/content_coding.hpp"

namespace callwatch::daemon {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kIndexPage =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>callwatchd</title></head>\n"
    "<body><h1>callwatchd</h1><p>Live contact-center monitor.</p>\n"
    "<ul><li><a href=\"/metrics\">/metrics</a> (Prometheus)</li>\n"
    "<li><a href=\"/healthz\">/healthz</a></li></ul></body></html>\n";
constexpr std::string_view kMetricsType = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view kTextType = "text/plain; charset=utf-8";

// The access handler sees this in *con_cls when it is called again after a delayed 401.
char delayed_answer_marker;
void* const kDelayedAnswer = &delayed_answer_marker;

// "10.0.0.5" / "::1" of a peer, and the same with its port for the log.
std::string peer_host(const sockaddr* sa) {
  std::array<char, INET6_ADDRSTRLEN> text{};
  if (sa == nullptr) return "?";
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, text.data(),
              text.size());
  } else if (sa->sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, text.data(),
              text.size());
  } else {
    return "?";
  }
  return text.data();
}

int peer_port(const sockaddr* sa) {
  if (sa == nullptr) return 0;
  if (sa->sa_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(sa)->sin_port);
  if (sa->sa_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(sa)->sin6_port);
  return 0;
}

// A client-supplied name as it may appear in a log line: printable ASCII, the rest escaped, short.
std::string printable(std::string_view s) {
  std::string out;
  for (const char c : s.substr(0, 64)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f && c != '"' && c != '\\') {
      out.push_back(c);
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  if (s.size() > 64) out += "...";
  return out;
}

struct ListenAddress {
  sockaddr_storage addr{};
  bool ipv6 = false;
  std::string host;  // as address() reports it
};

// HOST:PORT, [V6]:PORT, :PORT or *:PORT (every IPv4 interface) -> a socket address.
tl::expected<ListenAddress, std::string> resolve_listen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  if (colon == std::string::npos) return tl::unexpected(std::string("expected HOST:PORT"));
  std::string host = listen.substr(0, colon);
  const std::string port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host == "*") host.clear();
  addrinfo hints{};
  hints.ai_family = host.empty() ? AF_INET : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (const int rc =
          getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &found);
      rc != 0) {
    return tl::unexpected(std::string(gai_strerror(rc)));
  }
  ListenAddress out;
  std::memcpy(&out.addr, found->ai_addr, found->ai_addrlen);
  out.ipv6 = found->ai_family == AF_INET6;
  out.host = host.empty() ? "0.0.0.0" : host;
  freeaddrinfo(found);
  return out;
}

}  // namespace

struct HttpServer::Impl {
  // A response body; it goes back to the pool when libmicrohttpd has sent it (or dropped it).
  struct Body {
    Impl* owner = nullptr;
    std::string bytes;
    std::size_t counted = 0;  // what it adds to `unsent` while out
  };

  HttpOptions opts;
  const SnapshotHub* hub = nullptr;
  MHD_Daemon* mhd = nullptr;
  std::string address;
  std::shared_ptr<spdlog::logger> log = component_logger("http");

  std::atomic<std::uint64_t> open{0};
  std::atomic<std::uint64_t> refused_connections{0};
  std::atomic<std::uint64_t> refused_unsent{0};
  std::atomic<std::uint64_t> auth_failures{0};
  std::atomic<std::uint64_t> unsent{0};
  LogLimiter refusal_log{5};
  LogLimiter auth_log{5};
  std::unique_ptr<AuthThrottle> throttle;

  std::mutex pool_mu;
  std::vector<std::unique_ptr<Body>> pool;

  std::mutex start_mu;
  std::string start_error;  // libmicrohttpd's last message while starting

  // Delayed 401s: connections suspended until their time, resumed by one timer thread.
  std::mutex delay_mu;
  std::condition_variable delay_cv;
  std::multimap<Clock::time_point, MHD_Connection*> delayed;
  bool stopping = false;
  std::thread timer;

  ~Impl() {
    {
      // libmicrohttpd must not stop with a connection suspended: answer them all now.
      std::lock_guard lock(delay_mu);
      stopping = true;
      for (auto& [when, c] : delayed) MHD_resume_connection(c);
      delayed.clear();
    }
    delay_cv.notify_all();
    if (timer.joinable()) timer.join();
    if (mhd) MHD_stop_daemon(mhd);
  }

  HttpHealthSample stats() const {
    return HttpHealthSample{.connections = open.load(),
                            .refused_connection_limit = refused_connections.load(),
                            .refused_unsent_bytes = refused_unsent.load(),
                            .auth_failures = auth_failures.load()};
  }

  // ---- bodies ---------------------------------------------------------------------------------

  std::unique_ptr<Body> take_body() {
    std::lock_guard lock(pool_mu);
    if (pool.empty()) {
      auto b = std::make_unique<Body>();
      b->owner = this;
      return b;
    }
    auto b = std::move(pool.back());
    pool.pop_back();
    return b;
  }

  void give_back(std::unique_ptr<Body> b) {
    unsent -= b->counted;
    b->counted = 0;
    std::lock_guard lock(pool_mu);
    // Enough for every thread to render and compress at once; more would only hold memory.
    if (pool.size() < static_cast<std::size_t>(opts.threads) * 2 + 2) pool.push_back(std::move(b));
  }

  static void body_sent(void* cls) {
    auto* b = static_cast<Body*>(cls);
    b->owner->give_back(std::unique_ptr<Body>(b));
  }

  // ---- responses ------------------------------------------------------------------------------

  static void add_common_headers(MHD_Response* r, std::string_view type) {
    MHD_add_response_header(r, "Content-Type", std::string(type).c_str());
    MHD_add_response_header(r, "Cache-Control", "no-store");
  }

  static MHD_Result queue(MHD_Connection* c, unsigned status, MHD_Response* r) {
    if (r == nullptr) return MHD_NO;
    const MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
  }

  // Text that lives as long as the program (the index page, fixed messages).
  static MHD_Result send_static(MHD_Connection* c, unsigned status, std::string_view type,
                                std::string_view text) {
    MHD_Response* r = MHD_create_response_from_buffer(text.size(), const_cast<char*>(text.data()),
                                                      MHD_RESPMEM_PERSISTENT);
    if (r != nullptr) add_common_headers(r, type);
    return queue(c, status, r);
  }

  static MHD_Result send_copy(MHD_Connection* c, unsigned status, std::string_view type,
                              const std::string& text) {
    MHD_Response* r = MHD_create_response_from_buffer(text.size(), const_cast<char*>(text.data()),
                                                      MHD_RESPMEM_MUST_COPY);
    if (r != nullptr) add_common_headers(r, type);
    return queue(c, status, r);
  }

  MHD_Result send_body(MHD_Connection* c, std::unique_ptr<Body> body, bool gzip) {
    body->counted = body->bytes.size();
    unsent += body->counted;
    Body* raw = body.release();  // libmicrohttpd owns it until body_sent
    MHD_Response* r = MHD_create_response_from_buffer_with_free_callback_cls(
        raw->bytes.size(), raw->bytes.data(), &Impl::body_sent, raw);
    if (r == nullptr) {
      body_sent(raw);
      return MHD_NO;
    }
    add_common_headers(r, kMetricsType);
    MHD_add_response_header(r, "Vary", "Accept-Encoding");
    if (gzip) MHD_add_response_header(r, "Content-Encoding", "gzip");
    return queue(c, MHD_HTTP_OK, r);
  }

  static MHD_Result method_not_allowed(MHD_Connection* c) {
    MHD_Response* r = MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
    if (r != nullptr) MHD_add_response_header(r, "Allow", "GET, HEAD");
    return queue(c, MHD_HTTP_METHOD_NOT_ALLOWED, r);
  }

  static MHD_Result unauthorized(MHD_Connection* c) {
    MHD_Response* r = MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
    if (r != nullptr) {
      MHD_add_response_header(r, "WWW-Authenticate",
                              "Basic realm=\"callwatch\", charset=\"UTF-8\"");
    }
    return queue(c, MHD_HTTP_UNAUTHORIZED, r);
  }

  // ---- handlers -------------------------------------------------------------------------------

  // A wrong or malformed credential: counted, logged (the name sent, never the password) and
  // answered after the throttle's delay while the connection waits suspended.
  MHD_Result refuse_login(MHD_Connection* c, const BasicAuthCheck& check, void** con_cls) {
    ++auth_failures;
    const auto* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const sockaddr* peer = info ? info->client_addr : nullptr;
    const std::string host = peer_host(peer);
    const auto now = Clock::now();
    const auto delay = throttle->failed(host, now);
    summarise_logs(now);
    if (auth_log.allow(now)) {
      const std::string who =
          check.outcome == BasicAuthCheck::Outcome::wrong
              ? fmt::format("wrong password for user \"{}\"", printable(check.user))
              : std::string("malformed basic auth credentials");
      log->warn("/metrics: {} from {}:{}; answered after {} ms", who, host, peer_port(peer),
                delay.count());
    }
    if (delay.count() == 0) return unauthorized(c);
    MHD_suspend_connection(c);
    *con_cls = kDelayedAnswer;
    std::lock_guard lock(delay_mu);
    if (stopping) {
      MHD_resume_connection(c);
    } else {
      delayed.emplace(now + delay, c);
      delay_cv.notify_one();
    }
    return MHD_YES;
  }

  void summarise_logs(Clock::time_point now) {
    if (const auto n = auth_log.take_held(now))
      log->warn("/metrics: {} more failed logins in the last second", n);
    if (const auto n = refusal_log.take_held(now)) {
      log->warn("{} more connections refused in the last second (max_connections)", n);
    }
  }

  MHD_Result metrics(MHD_Connection* c, void** con_cls) {
    if (*con_cls == kDelayedAnswer) return unauthorized(c);  // its delay is over
    if (opts.auth.enabled()) {
      const BasicAuthCheck check = verify_basic_auth(
          MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"), opts.auth);
      // No credentials at all is how a browser starts: a challenge, not a guess.
      if (check.outcome == BasicAuthCheck::Outcome::missing) return unauthorized(c);
      if (check.outcome != BasicAuthCheck::Outcome::ok) return refuse_login(c, check, con_cls);
      const auto* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
      throttle->succeeded(peer_host(info ? info->client_addr : nullptr));
    }
    if (unsent.load() >= opts.max_unsent_bytes) {
      // Clients that do not read their bodies hold this much already.
      ++refused_unsent;
      return send_static(
          c, MHD_HTTP_SERVICE_UNAVAILABLE, kTextType,
          "busy: too many /metrics bodies are waiting for their clients to read them\n");
    }
    const SnapshotHub::Frame frame = hub->frame();
    static const metrics::Snapshot kEmpty{};
    static const std::vector<FeedHealth> kNoFeeds{};
    auto body = take_body();
    render_metrics(frame.snapshot ? *frame.snapshot : kEmpty, frame.feeds ? *frame.feeds : kNoFeeds,
                   opts.export_options, body->bytes);
    const char* accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
    if (accept != nullptr && accepts_gzip(accept)) {
      thread_local Gzipper gzipper;
      auto gz = take_body();
      if (gzipper.compress(body->bytes, gz->bytes)) {
        give_back(std::move(body));
        return send_body(c, std::move(gz), true);
      }
      give_back(std::move(gz));
    }
    return send_body(c, std::move(body), false);
  }

  MHD_Result healthz(MHD_Connection* c) {
    const SnapshotHub::Frame frame = hub->frame();
    if (!frame.snapshot) {
      return send_static(c, MHD_HTTP_SERVICE_UNAVAILABLE, kTextType,
                         "starting: no snapshot published yet\n");
    }
    const auto age = Clock::now() - frame.published;
    if (age > opts.stale_after) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(age).count();
      return send_copy(c, MHD_HTTP_SERVICE_UNAVAILABLE, kTextType,
                       fmt::format("engine stalled: last snapshot {:.1f} s ago\n",
                                   static_cast<double>(ms) / 1000.0));
    }
    return send_static(c, MHD_HTTP_OK, kTextType, "ok\n");
  }

  // `url` is the path exactly as sent (no percent-decoding, no folding of case or slashes), so
  // "/METRICS", "//metrics" and "/metrics%00" are other paths: 404.
  MHD_Result handle(MHD_Connection* c, std::string_view url, std::string_view method,
                    void** con_cls) {
    enum class Page { metrics, healthz, index, none };
    const Page page = url == "/metrics"   ? Page::metrics
                      : url == "/healthz" ? Page::healthz
                      : url == "/"        ? Page::index
                                          : Page::none;
    if (page == Page::none) return send_static(c, MHD_HTTP_NOT_FOUND, kTextType, "not found\n");
    if (method != "GET" && method != "HEAD") return method_not_allowed(c);
    switch (page) {
      case Page::metrics:
        return metrics(c, con_cls);
      case Page::healthz:
        return healthz(c);
      default:
        return send_static(c, MHD_HTTP_OK, "text/html; charset=utf-8", kIndexPage);
    }
  }

  // ---- libmicrohttpd callbacks ----------------------------------------------------------------

  static MHD_Result on_request(void* cls, MHD_Connection* c, const char* url, const char* method,
                               const char* /*version*/, const char* /*upload_data*/,
                               std::size_t* /*upload_data_size*/, void** con_cls) {
    return static_cast<Impl*>(cls)->handle(c, url ? url : "", method ? method : "", con_cls);
  }

  // Runs for every accepted socket before any byte is read: takes a connection slot or refuses.
  static MHD_Result on_accept(void* cls, const sockaddr* addr, socklen_t /*len*/) {
    auto* m = static_cast<Impl*>(cls);
    std::uint64_t n = m->open.load();
    do {
      if (n >= m->opts.max_connections) {
        ++m->refused_connections;
        const auto now = Clock::now();
        m->summarise_logs(now);
        if (m->refusal_log.allow(now)) {
          m->log->warn("refused a connection from {}: {} open, the [metrics] max_connections",
                       peer_host(addr), n);
        }
        return MHD_NO;
      }
    } while (!m->open.compare_exchange_weak(n, n + 1));
    return MHD_YES;
  }

  static void on_connection(void* cls, MHD_Connection* /*c*/, void** /*socket_context*/,
                            MHD_ConnectionNotificationCode code) {
    if (code == MHD_CONNECTION_NOTIFY_CLOSED) --static_cast<Impl*>(cls)->open;
  }

  // Leaves the path as the client wrote it (the default decoder turns "%00" into a NUL, which
  // would cut "/metrics%00" down to "/metrics").
  static std::size_t keep_raw(void* /*cls*/, MHD_Connection* /*c*/, char* s) {
    return std::strlen(s);
  }

  static void on_log(void* cls, const char* format, va_list ap) {
    std::array<char, 512> text{};
    std::vsnprintf(text.data(), text.size(), format, ap);
    std::string line(text.data());
    while (!line.empty() && line.back() == '\n') line.pop_back();
    auto* m = static_cast<Impl*>(cls);
    {
      std::lock_guard lock(m->start_mu);
      m->start_error = line;
    }
    m->log->debug("libmicrohttpd: {}", line);
  }

  void run_timer() {
    std::unique_lock lock(delay_mu);
    while (!stopping) {
      const auto next =
          delayed.empty() ? Clock::now() + std::chrono::seconds(1) : delayed.begin()->first;
      delay_cv.wait_until(lock, std::min(next, Clock::now() + std::chrono::seconds(1)));
      const auto now = Clock::now();
      while (!delayed.empty() && delayed.begin()->first <= now) {
        MHD_resume_connection(delayed.begin()->second);
        delayed.erase(delayed.begin());
      }
      lock.unlock();
      summarise_logs(now);  // the last second of a burst too
      lock.lock();
    }
  }
};

tl::expected<std::unique_ptr<HttpServer>, std::string> HttpServer::start(const HttpOptions& opts,
                                                                         const SnapshotHub& hub) {
  auto fail = [&](const std::string& why) {
    return tl::unexpected(fmt::format("cannot listen on {} for /metrics: {}", opts.listen, why));
  };
  auto where = resolve_listen(opts.listen);
  if (!where) return fail(where.error());

  auto impl = std::make_unique<Impl>();
  Impl* m = impl.get();
  m->opts = opts;
  m->hub = &hub;
  m->throttle = std::make_unique<AuthThrottle>(opts.auth_failure_delay);
  m->opts.export_options.http_health = [m] { return m->stats(); };

  // No TLS here: TLS for /metrics is a reverse proxy's job (docs/operations.md).
  unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                   MHD_USE_ERROR_LOG;
  if (where->ipv6) flags |= MHD_USE_IPv6;
  // libmicrohttpd's own cap stays above ours, so every refusal is one on_accept counted.
  const auto mhd_limit = static_cast<unsigned>(opts.max_connections + 64);
  m->mhd = MHD_start_daemon(
      flags, 0, &Impl::on_accept, m, &Impl::on_request, m, MHD_OPTION_SOCK_ADDR,
      reinterpret_cast<sockaddr*>(&where->addr), MHD_OPTION_THREAD_POOL_SIZE,
      static_cast<unsigned>(std::max(opts.threads, 1)), MHD_OPTION_CONNECTION_LIMIT, mhd_limit,
      MHD_OPTION_CONNECTION_TIMEOUT, static_cast<unsigned>(opts.idle_timeout.count()),
      MHD_OPTION_NOTIFY_CONNECTION, &Impl::on_connection, m, MHD_OPTION_UNESCAPE_CALLBACK,
      &Impl::keep_raw, nullptr, MHD_OPTION_EXTERNAL_LOGGER, &Impl::on_log, m,
      MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_END);
  if (m->mhd == nullptr) {
    std::lock_guard lock(m->start_mu);
    return fail(m->start_error.empty() ? std::string("libmicrohttpd failed to start")
                                       : m->start_error);
  }
  m->timer = std::thread([m] { m->run_timer(); });

  // The real address (port 0 asks the kernel for one).
  const MHD_DaemonInfo* bound = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_BIND_PORT);
  const std::string host = where->ipv6 ? "[" + where->host + "]" : where->host;
  m->address = fmt::format("{}:{}", host, bound ? bound->port : 0);
  return std::make_unique<HttpServer>(std::move(impl));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;
const std::string& HttpServer::address() const { return impl_->address; }
HttpHealthSample HttpServer::stats() const { return impl_->stats(); }

}  // namespace callwatch::daemon
