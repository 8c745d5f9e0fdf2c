// The HTTP side of callwatchd (libmicrohttpd): GET /metrics (gzip when asked), /healthz, a small
// index page and the browser board (GET /board: the page, its JS and WASM, the fonts, and
// /board/ws, the WebSocket handed to serve/board_stream). It only reads the SnapshotHub: scrapes
// never touch engine state.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <tl/expected.hpp>

#include "runtime/snapshot_hub.hpp"
#include "serve/board_stream.hpp"
#include "serve/exporter.hpp"
#include "serve/security.hpp"

namespace callwatch::daemon {

struct HttpOptions {
  std::string listen = "127.0.0.1:9747";  // HOST:PORT; port 0 picks a free one
  ExportOptions export_options;
  // /healthz fails when the engine has published nothing for this long (a stuck engine thread).
  std::chrono::milliseconds stale_after{10000};
  // Threads that parse requests and render bodies. Connections are watched by epoll, so an idle
  // or slow client holds a connection slot, never a thread.
  int threads = 4;
  // [metrics] access (daemon/security): basic auth on /metrics (/healthz stays open for probes).
  // TLS comes from a reverse proxy in front (docs/operations.md).
  BasicAuth auth;
  // Limits ([metrics] in the config; docs/operations.md "Limits").
  std::size_t max_connections = 512;                      // one more is closed at accept, counted
  std::chrono::seconds idle_timeout{10};                  // a connection silent this long is closed
  std::size_t max_unsent_bytes = std::size_t{256} << 20;  // bodies not yet read; over: 503
  std::chrono::milliseconds auth_failure_delay{1000};     // first 401 delay of a streak
  // The browser board: the folder of its web build (index.html, callwatch-board.js and .wasm,
  // each optionally beside a .gz) and the WebSockets. A folder without the build, or no stream:
  // /board answers with a page saying what is missing.
  std::string board_dir;
  std::shared_ptr<BoardStream> board;
};

class HttpServer {
 public:
  // Binds and starts serving; the error names the address and the cause.
  static tl::expected<std::unique_ptr<HttpServer>, std::string> start(const HttpOptions& opts,
                                                                      const SnapshotHub& hub);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // "HOST:PORT" actually bound (the real port when 0 was asked).
  const std::string& address() const;
  HttpHealthSample stats() const;
  // Renders of /metrics' state part so far: one per published frame that was scraped, however
  // many scrapes read it.
  std::uint64_t state_renders() const;

  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);  // use start()

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace callwatch::daemon
