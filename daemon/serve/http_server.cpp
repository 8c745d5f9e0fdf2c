// civetweb handlers. Each worker thread keeps its own render and gzip buffers (thread_local), so a
// scrape allocates nothing once the buffers have grown to the body's size.
#include "serve/http_server.hpp"

#include <civetweb.h>
#include <zlib.h>

#include <array>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "runtime/logging.hpp"

namespace callwatch::daemon {

namespace {

constexpr std::string_view kIndexPage =
    "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>callwatchd</title></head>\n"
    "<body><h1>callwatchd</h1><p>Live contact-center monitor.</p>\n"
    "<ul><li><a href=\"/metrics\">/metrics</a> (Prometheus)</li>\n"
    "<li><a href=\"/healthz\">/healthz</a></li></ul></body></html>\n";

// True when the client accepts gzip: a "gzip" (or "*") coding whose q is not 0.
bool accepts_gzip(const char* header) {
  if (!header) return false;
  std::string_view rest(header);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    auto trim = [](std::string_view s) {
      while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
      while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
      return s;
    };
    const auto semi = item.find(';');
    const std::string_view coding = trim(item.substr(0, semi));
    if (coding != "gzip" && coding != "x-gzip" && coding != "*") continue;
    if (semi == std::string_view::npos) return true;
    std::string_view params = trim(item.substr(semi + 1));
    if (params.substr(0, 2) == "q=") {
      params.remove_prefix(2);
      // q=0, q=0.0, q=0.000 refuse; anything else accepts.
      bool zero = !params.empty() && params[0] == '0';
      for (std::size_t i = 1; zero && i < params.size(); ++i) {
        if (params[i] != '.' && params[i] != '0') zero = false;
      }
      if (!zero) return true;
      continue;
    }
    return true;
  }
  return false;
}

// Per worker thread: a deflate stream (gzip wrapper) reused with deflateReset.
class Gzipper {
 public:
  Gzipper() {
    // Level 1: Prometheus text compresses ~10x even at the fastest level, and a scrape of 100k
    // series must stay cheap (PERF.md scrape_100k).
    ok_ = deflateInit2(&zs_, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~Gzipper() {
    if (ok_) deflateEnd(&zs_);
  }
  Gzipper(const Gzipper&) = delete;
  Gzipper& operator=(const Gzipper&) = delete;

  bool compress(std::string_view in, std::string& out) {
    if (!ok_ || deflateReset(&zs_) != Z_OK) return false;
    out.resize(deflateBound(&zs_, static_cast<uLong>(in.size())));
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    zs_.next_out = reinterpret_cast<Bytef*>(out.data());
    zs_.avail_out = static_cast<uInt>(out.size());
    if (deflate(&zs_, Z_FINISH) != Z_STREAM_END) return false;
    out.resize(zs_.total_out);
    return true;
  }

 private:
  z_stream zs_{};
  bool ok_ = false;
};

}  // namespace

struct HttpServer::Impl {
  HttpOptions opts;
  const SnapshotHub* hub = nullptr;
  mg_context* ctx = nullptr;
  std::string address;
  std::shared_ptr<spdlog::logger> log = component_logger("http");

  ~Impl() {
    if (ctx) mg_stop(ctx);
    mg_exit_library();
  }

  static void send(mg_connection* conn, int status, std::string_view content_type, std::string_view body,
                   bool gzip = false) {
    const mg_request_info* ri = mg_get_request_info(conn);
    const bool head = ri && ri->request_method && std::strcmp(ri->request_method, "HEAD") == 0;
    mg_response_header_start(conn, status);
    mg_response_header_add(conn, "Content-Type", content_type.data(), static_cast<int>(content_type.size()));
    const std::string length = std::to_string(body.size());
    mg_response_header_add(conn, "Content-Length", length.c_str(), -1);
    if (gzip) mg_response_header_add(conn, "Content-Encoding", "gzip", -1);
    mg_response_header_add(conn, "Vary", "Accept-Encoding", -1);
    mg_response_header_add(conn, "Cache-Control", "no-store", -1);
    mg_response_header_send(conn);
    if (!head && !body.empty()) mg_write(conn, body.data(), body.size());
  }

  static bool method_allowed(mg_connection* conn) {
    const mg_request_info* ri = mg_get_request_info(conn);
    const char* m = ri ? ri->request_method : nullptr;
    if (m && (std::strcmp(m, "GET") == 0 || std::strcmp(m, "HEAD") == 0)) return true;
    mg_response_header_start(conn, 405);
    mg_response_header_add(conn, "Allow", "GET, HEAD", -1);
    mg_response_header_add(conn, "Content-Length", "0", -1);
    mg_response_header_send(conn);
    return false;
  }

  int metrics(mg_connection* conn) {
    if (!method_allowed(conn)) return 405;
    if (opts.auth.enabled() && !check_basic_auth(mg_get_header(conn, "Authorization"), opts.auth)) {
      mg_response_header_start(conn, 401);
      mg_response_header_add(conn, "WWW-Authenticate", "Basic realm=\"callwatch\", charset=\"UTF-8\"", -1);
      mg_response_header_add(conn, "Content-Length", "0", -1);
      mg_response_header_send(conn);
      return 401;
    }
    thread_local std::string body;
    thread_local std::string compressed;
    thread_local Gzipper gzipper;
    const SnapshotHub::Frame frame = hub->frame();
    static const metrics::Snapshot kEmpty{};
    static const std::vector<FeedHealth> kNoFeeds{};
    render_metrics(frame.snapshot ? *frame.snapshot : kEmpty, frame.feeds ? *frame.feeds : kNoFeeds,
                   opts.export_options, body);
    constexpr std::string_view kType = "text/plain; version=0.0.4; charset=utf-8";
    if (accepts_gzip(mg_get_header(conn, "Accept-Encoding")) && gzipper.compress(body, compressed)) {
      send(conn, 200, kType, compressed, true);
    } else {
      send(conn, 200, kType, body);
    }
    return 200;
  }

  int healthz(mg_connection* conn) {
    if (!method_allowed(conn)) return 405;
    const SnapshotHub::Frame frame = hub->frame();
    if (!frame.snapshot) {
      send(conn, 503, "text/plain; charset=utf-8", "starting: no snapshot published yet\n");
      return 503;
    }
    const auto age = std::chrono::steady_clock::now() - frame.published;
    if (age > opts.stale_after) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(age).count();
      send(conn, 503, "text/plain; charset=utf-8",
           fmt::format("engine stalled: last snapshot {:.1f} s ago\n", static_cast<double>(ms) / 1000.0));
      return 503;
    }
    send(conn, 200, "text/plain; charset=utf-8", "ok\n");
    return 200;
  }

  int index(mg_connection* conn) {
    if (!method_allowed(conn)) return 405;
    send(conn, 200, "text/html; charset=utf-8", kIndexPage);
    return 200;
  }
};

std::string to_civetweb_ports(const std::string& listen) {
  // ":9747" and "*:9747" mean every interface, which civetweb spells as the bare port.
  if (!listen.empty() && listen.front() == ':') return listen.substr(1);
  if (listen.rfind("*:", 0) == 0) return listen.substr(2);
  return listen;
}

tl::expected<std::unique_ptr<HttpServer>, std::string> HttpServer::start(const HttpOptions& opts,
                                                                         const SnapshotHub& hub) {
  auto impl = std::make_unique<Impl>();
  impl->opts = opts;
  impl->hub = &hub;
  // No TLS here: Debian 12's civetweb loads OpenSSL 3 at run time and crashes on the first TLS
  // request (a null function pointer); TLS for /metrics is a reverse proxy's job (docs/operations.md).
  mg_init_library(0);

  const std::string ports = to_civetweb_ports(opts.listen);
  const std::string threads = std::to_string(opts.threads);
  // No document_root: civetweb serves no files, only the handlers below.
  const char* options[] = {"listening_ports",    ports.c_str(), "num_threads", threads.c_str(),
                           "request_timeout_ms", "10000",       "enable_keep_alive", "yes",
                           nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = [](const mg_connection*, const char* message) {
    component_logger("http")->debug("civetweb: {}", message);
    return 1;
  };
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = impl.get();
  init.configuration_options = options;
  std::array<char, 256> error_text{};
  unsigned error_code = 0;
  mg_error_data error{};
  error.code = &error_code;
  error.text = error_text.data();
  error.text_buffer_size = error_text.size();

  impl->ctx = mg_start2(&init, &error);
  if (!impl->ctx) {
    return tl::unexpected(fmt::format("cannot listen on {} for /metrics: {}", opts.listen,
                                      error_text[0] ? error_text.data() : "civetweb failed to start"));
  }
  mg_set_request_handler(
      impl->ctx, "/metrics$", [](mg_connection* c, void* d) { return static_cast<Impl*>(d)->metrics(c); },
      impl.get());
  mg_set_request_handler(
      impl->ctx, "/healthz$", [](mg_connection* c, void* d) { return static_cast<Impl*>(d)->healthz(c); },
      impl.get());
  mg_set_request_handler(
      impl->ctx, "/$", [](mg_connection* c, void* d) { return static_cast<Impl*>(d)->index(c); }, impl.get());

  // The real address (port 0 asks the kernel for one).
  std::array<mg_server_port, 4> bound{};
  const int n = mg_get_server_ports(impl->ctx, static_cast<int>(bound.size()), bound.data());
  impl->address = opts.listen;
  if (n > 0) {
    const auto colon = opts.listen.rfind(':');
    const std::string host = colon == std::string::npos ? std::string("0.0.0.0") : opts.listen.substr(0, colon);
    impl->address = fmt::format("{}:{}", host.empty() || host == "*" ? "0.0.0.0" : host, bound[0].port);
  }
  return std::make_unique<HttpServer>(std::move(impl));
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
HttpServer::~HttpServer() = default;
const std::string& HttpServer::address() const { return impl_->address; }

}  // namespace callwatch::daemon
