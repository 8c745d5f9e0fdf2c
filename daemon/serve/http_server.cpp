// libmicrohttpd in its epoll mode: a few threads watch every connection, so a client that
// connects and says nothing costs a connection slot (bounded, counted when refused), never a
// thread. Bodies go out from pooled buffers that stay alive until the client has read them; the
// bytes they hold are bounded too. A wrong password is answered late by suspending the connection
// and resuming it from a timer thread, so guessing is slow and still ties up no thread.
#include "serve/http_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdarg>
#include <cstring>
#include <map>
#include <optional>
#include <span>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "callwatch/protocol/board_fonts.hpp"
#include "runtime/log_limiter.hpp"
#include "runtime/logging.hpp"
#include "serve/auth_throttle.hpp"
#include "serve/content_coding.hpp"
#include "serve/websocket.hpp"

namespace callwatch::daemon {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kIndexPage =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>callwatchd</title></head>\n"
    "<body><h1>callwatchd</h1><p>Live contact-center monitor.</p>\n"
    "<ul><li><a href=\"/board?kiosk=1\">/board?kiosk=1</a> (the wallboard; "
    "<a href=\"/board\">desktop</a>, <a href=\"/board?kiosk=1&amp;lang=zh\">中文</a>)</li>\n"
    "<li><a href=\"/metrics\">/metrics</a> (Prometheus)</li>\n"
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

// The browser board's files: the web build's, by name; a .gz beside one is sent to clients
// that take gzip.
struct BoardFile {
  std::string_view url;
  std::string_view file;
  std::string_view type;
};
constexpr BoardFile kBoardFiles[] = {
    {"/board", "index.html", "text/html; charset=utf-8"},
    {"/board/", "index.html", "text/html; charset=utf-8"},
    {"/board/callwatch-board.js", "callwatch-board.js", "text/javascript; charset=utf-8"},
    {"/board/callwatch-board.wasm", "callwatch-board.wasm", "application/wasm"},
};

// What /board says when this daemon has no web build to serve.
std::string board_missing_page(const std::string& dir) {
  return fmt::format(
      "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>callwatch board: not built"
      "</title></head>\n<body style=\"font-family:sans-serif;background:#101418;color:#e8e8e8;"
      "padding:2em\">\n<h1>The browser board is not part of this callwatchd</h1>\n"
      "<p>Its web build (<code>index.html</code>, <code>callwatch-board.js</code>, "
      "<code>callwatch-board.wasm</code>) is not in <code>{}</code>.</p>\n"
      "<p>It is built with Emscripten: install it (<code>apt-get install emscripten</code>, "
      "Debian 12) and build again (<code>./callwatch.sh build</code>), or install the "
      "callwatch-wallboard package. The native board (<code>callwatch-wallboard</code>) and "
      "<a href=\"/metrics\">/metrics</a> work without it.</p>\n</body></html>\n",
      dir.empty() ? std::string("(no folder configured)") : dir);
}

// A regular file opened for a response, with its size; -1 when missing.
struct OpenFile {
  int fd = -1;
  std::uint64_t size = 0;
};
OpenFile open_regular(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return {};
  }
  return {fd, static_cast<std::uint64_t>(st.st_size)};
}

const protocol::FontFile* first_font(std::span<const protocol::FontFile> list) {
  for (const auto& f : list) {
    if (::access(std::string(f.path).c_str(), R_OK) == 0) return &f;
  }
  return nullptr;
}

// "Connection: keep-alive, Upgrade" holds the token "upgrade" (case-insensitive).
bool has_token(const char* header, std::string_view token) {
  if (header == nullptr) return false;
  std::string_view h(header);
  std::size_t at = 0;
  while (at <= h.size()) {
    const std::size_t end = std::min(h.find(',', at), h.size());
    std::string_view t = h.substr(at, end - at);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (t.size() == token.size() &&
        std::equal(t.begin(), t.end(), token.begin(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == b;
        })) {
      return true;
    }
    at = end + 1;
  }
  return false;
}

// A page of another site must not open the board's WebSocket with this browser's credentials
// (WebSockets have no same-origin rule of their own): an Origin, when sent, names this host.
bool same_origin(const char* origin, const char* host) {
  if (origin == nullptr) return true;  // not a browser: basic auth alone decides
  if (host == nullptr) return false;
  std::string_view o(origin);
  const auto scheme = o.find("://");
  if (scheme == std::string_view::npos) return false;
  return o.substr(scheme + 3) == host;
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

  // The state part of /metrics for one published frame (render_state_metrics): rendered by the
  // first scrape of the frame, deflated by its first gzip scrape, and reused by every later
  // scrape of it (HA Prometheus pairs, federation, a curl) until the engine publishes again.
  struct StateBody {
    std::uint64_t generation = 0;
    std::shared_ptr<const std::string> text;
    std::shared_ptr<const DeflatedPart> gz;  // null until a gzip scrape asked (or zlib failed)
  };
  std::mutex state_mu;  // one render at a time: a scrape that waited reuses what the other made
  std::shared_ptr<const StateBody> state;
  std::atomic<std::uint64_t> state_renders{0};

  std::mutex start_mu;
  std::string start_error;  // libmicrohttpd's last message while starting

  // Delayed 401s: connections suspended until their time, resumed by one timer thread.
  std::mutex delay_mu;
  std::condition_variable delay_cv;
  std::multimap<Clock::time_point, MHD_Connection*> delayed;
  bool stopping = false;
  std::thread timer;

  ~Impl() {
    // libmicrohttpd must not stop with an upgraded socket open: the board's go first.
    if (opts.board) opts.board->shutdown();
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
  MHD_Result refuse_login(MHD_Connection* c, std::string_view url, const BasicAuthCheck& check,
                          void** con_cls) {
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
      log->warn("{}: {} from {}:{}; answered after {} ms", url.substr(0, 32), who, host,
                peer_port(peer), delay.count());
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
      log->warn("{} more failed logins in the last second", n);
    if (const auto n = refusal_log.take_held(now)) {
      log->warn("{} more connections refused in the last second (max_connections)", n);
    }
  }

  // The [metrics] basic auth, for /metrics and /board alike: nothing when the request may go on,
  // else the answer already queued (a challenge, or a refusal after its delay).
  std::optional<MHD_Result> check_auth(MHD_Connection* c, std::string_view url, void** con_cls) {
    if (*con_cls == kDelayedAnswer) return unauthorized(c);  // its delay is over
    if (!opts.auth.enabled()) return std::nullopt;
    const BasicAuthCheck check = verify_basic_auth(
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization"), opts.auth);
    // No credentials at all is how a browser starts: a challenge, not a guess.
    if (check.outcome == BasicAuthCheck::Outcome::missing) return unauthorized(c);
    if (check.outcome != BasicAuthCheck::Outcome::ok) return refuse_login(c, url, check, con_cls);
    const auto* info = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    throttle->succeeded(peer_host(info ? info->client_addr : nullptr));
    return std::nullopt;
  }

  MHD_Result metrics(MHD_Connection* c, void** con_cls) {
    if (auto refused = check_auth(c, "/metrics", con_cls)) return *refused;
    if (unsent.load() >= opts.max_unsent_bytes) {
      // Clients that do not read their bodies hold this much already.
      ++refused_unsent;
      return send_static(
          c, MHD_HTTP_SERVICE_UNAVAILABLE, kTextType,
          "busy: too many /metrics bodies are waiting for their clients to read them\n");
    }
    const SnapshotHub::Frame frame = hub->frame();
    const char* accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
    const bool gzip = accept != nullptr && accepts_gzip(accept);
    const std::shared_ptr<const StateBody> st = state_of(frame, gzip);
    thread_local std::string live;
    render_live_metrics(opts.export_options, live);
    auto body = take_body();
    if (gzip && st->gz && gzipper().finish_with(*st->gz, live, body->bytes)) {
      return send_body(c, std::move(body), true);
    }
    body->bytes.assign(*st->text);
    body->bytes.append(live);
    return send_body(c, std::move(body), false);
  }

  // One zlib stream pair per serving thread, for the state part and for each body.
  static Gzipper& gzipper() {
    thread_local Gzipper g;
    return g;
  }

  std::shared_ptr<const StateBody> state_of(const SnapshotHub::Frame& frame, bool gzip) {
    static const metrics::Snapshot kEmpty{};
    static const std::vector<FeedHealth> kNoFeeds{};
    std::lock_guard lock(state_mu);
    if (!state || state->generation != frame.generation) {
      auto text = std::make_shared<std::string>();
      text->reserve(state ? state->text->size() + 4096 : 0);
      render_state_metrics(frame.snapshot ? *frame.snapshot : kEmpty,
                           frame.feeds ? *frame.feeds : kNoFeeds, opts.export_options, *text);
      state = std::make_shared<const StateBody>(StateBody{frame.generation, std::move(text), nullptr});
      ++state_renders;
    }
    if (gzip && !state->gz) {
      auto gz = std::make_shared<DeflatedPart>();
      if (gzipper().deflate_part(*state->text, *gz)) {
        state = std::make_shared<const StateBody>(StateBody{state->generation, state->text, std::move(gz)});
      }
    }
    return state;
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

  // ---- the browser board ----------------------------------------------------------------------

  MHD_Result send_file(MHD_Connection* c, const std::string& path, std::string_view type,
                       bool may_gzip, std::string_view cache) {
    OpenFile f;
    bool gz = false;
    if (may_gzip) {
      const char* accept = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
      if (accept != nullptr && accepts_gzip(accept)) {
        f = open_regular(path + ".gz");
        gz = f.fd >= 0;
      }
    }
    if (f.fd < 0) f = open_regular(path);
    if (f.fd < 0) return send_static(c, MHD_HTTP_NOT_FOUND, kTextType, "not found\n");
    MHD_Response* r = MHD_create_response_from_fd(f.size, f.fd);  // closes the fd when done
    if (r == nullptr) {
      ::close(f.fd);
      return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", std::string(type).c_str());
    MHD_add_response_header(r, "Cache-Control", std::string(cache).c_str());
    if (may_gzip) MHD_add_response_header(r, "Vary", "Accept-Encoding");
    if (gz) MHD_add_response_header(r, "Content-Encoding", "gzip");
    return queue(c, MHD_HTTP_OK, r);
  }

  // The font files the native board would read on this machine, for the page to build the same
  // atlas: each with the path it is read from there.
  std::string fonts_json() const {
    std::string out = "[";
    const protocol::FontFile* found[] = {first_font(protocol::kLatinFonts),
                                         first_font(protocol::kCjkFonts)};
    const char* names[] = {"latin", "cjk"};
    for (std::size_t i = 0; i < 2; ++i) {
      if (found[i] == nullptr) continue;
      if (out.size() > 1) out += ",";
      out += fmt::format(R"({{"url":"fonts/{}","path":"{}"}})", names[i], found[i]->path);
    }
    return out + "]\n";
  }

  MHD_Result board_socket(MHD_Connection* c) {
    if (!opts.board) {
      return send_static(c, MHD_HTTP_SERVICE_UNAVAILABLE, kTextType,
                         "this server has no board stream\n");
    }
    auto header = [c](const char* name) { return MHD_lookup_connection_value(c, MHD_HEADER_KIND, name); };
    const char* key = header("Sec-WebSocket-Key");
    const char* version = header("Sec-WebSocket-Version");
    if (!has_token(header("Upgrade"), "websocket") || !has_token(header("Connection"), "upgrade") ||
        key == nullptr || std::strlen(key) != 24) {
      return send_static(c, MHD_HTTP_BAD_REQUEST, kTextType,
                         "/board/ws is a WebSocket: a GET with Upgrade: websocket\n");
    }
    if (version == nullptr || std::string_view(version) != "13") {
      MHD_Response* r = MHD_create_response_from_buffer(0, nullptr, MHD_RESPMEM_PERSISTENT);
      if (r != nullptr) MHD_add_response_header(r, "Sec-WebSocket-Version", "13");
      return queue(c, MHD_HTTP_UPGRADE_REQUIRED, r);
    }
    if (!same_origin(header("Origin"), header("Host"))) {
      return send_static(c, MHD_HTTP_FORBIDDEN, kTextType,
                         "/board/ws: the page that asked is not from this server\n");
    }
    MHD_Response* r = MHD_create_response_for_upgrade(&Impl::on_upgrade, this);
    if (r == nullptr) return MHD_NO;
    MHD_add_response_header(r, "Upgrade", "websocket");
    // libmicrohttpd adds "Connection: Upgrade" itself.
    MHD_add_response_header(r, "Sec-WebSocket-Accept", ws::accept_key(key).c_str());
    return queue(c, MHD_HTTP_SWITCHING_PROTOCOLS, r);
  }

  static void on_upgrade(void* cls, MHD_Connection* /*c*/, void* /*con_cls*/, const char* extra_in,
                         std::size_t extra_in_size, MHD_socket sock, MHD_UpgradeResponseHandle* urh) {
    auto* m = static_cast<Impl*>(cls);
    m->opts.board->attach(sock, std::string_view(extra_in ? extra_in : "", extra_in ? extra_in_size : 0),
                     [urh] { MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE); });
  }

  MHD_Result board_request(MHD_Connection* c, std::string_view url, void** con_cls) {
    if (auto refused = check_auth(c, url, con_cls)) return *refused;
    if (url == "/board/ws") return board_socket(c);
    if (url == "/board/fonts.json") {
      return send_copy(c, MHD_HTTP_OK, "application/json; charset=utf-8", fonts_json());
    }
    if (url == "/board/fonts/latin" || url == "/board/fonts/cjk") {
      const protocol::FontFile* f =
          first_font(url.ends_with("cjk") ? std::span<const protocol::FontFile>(protocol::kCjkFonts)
                                          : std::span<const protocol::FontFile>(protocol::kLatinFonts));
      if (f == nullptr) return send_static(c, MHD_HTTP_NOT_FOUND, kTextType, "no such font here\n");
      // Fonts change only with a package upgrade: a board reloading its page keeps them.
      return send_file(c, std::string(f->path), "application/octet-stream", false,
                       "public, max-age=86400");
    }
    for (const auto& f : kBoardFiles) {
      if (url != f.url) continue;
      const std::string path = opts.board_dir + "/" + std::string(f.file);
      if (opts.board_dir.empty() || ::access(path.c_str(), R_OK) != 0) {
        return send_copy(c, MHD_HTTP_SERVICE_UNAVAILABLE, "text/html; charset=utf-8",
                         board_missing_page(opts.board_dir));
      }
      return send_file(c, path, f.type, true, "no-cache");
    }
    return send_static(c, MHD_HTTP_NOT_FOUND, kTextType, "not found\n");
  }

  // `url` is the path exactly as sent (no percent-decoding, no folding of case or slashes), so
  // "/METRICS", "//metrics" and "/metrics%00" are other paths: 404.
  MHD_Result handle(MHD_Connection* c, std::string_view url, std::string_view method,
                    void** con_cls) {
    enum class Page { metrics, healthz, index, board, none };
    const Page page = url == "/metrics"                                 ? Page::metrics
                      : url == "/healthz"                               ? Page::healthz
                      : url == "/"                                      ? Page::index
                      : url == "/board" || url.starts_with("/board/") ? Page::board
                                                                        : Page::none;
    if (page == Page::none) return send_static(c, MHD_HTTP_NOT_FOUND, kTextType, "not found\n");
    if (method != "GET" && method != "HEAD") return method_not_allowed(c);
    switch (page) {
      case Page::metrics:
        return metrics(c, con_cls);
      case Page::healthz:
        return healthz(c);
      case Page::board:
        return board_request(c, url, con_cls);
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
                   MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE;
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
std::uint64_t HttpServer::state_renders() const { return impl_->state_renders.load(); }

}  // namespace callwatch::daemon
