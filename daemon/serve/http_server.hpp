// The HTTP side of callwatchd (civetweb): GET /metrics (gzip when asked), /healthz and a small
// index page. It only reads the SnapshotHub: scrapes never touch engine state.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <tl/expected.hpp>

#include "serve/exporter.hpp"
#include "serve/security.hpp"
#include "runtime/snapshot_hub.hpp"

namespace callwatch::daemon {

struct HttpOptions {
  std::string listen = "127.0.0.1:9747";  // HOST:PORT; port 0 picks a free one
  ExportOptions export_options;
  // /healthz fails when the engine has published nothing for this long (a stuck engine thread).
  std::chrono::milliseconds stale_after{10000};
  int threads = 4;
  // [metrics] access (daemon/security): basic auth on /metrics (/healthz stays open for probes).
  // TLS comes from a reverse proxy in front (docs/operations.md).
  BasicAuth auth;
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

  struct Impl;
  explicit HttpServer(std::unique_ptr<Impl> impl);  // use start()

 private:
  std::unique_ptr<Impl> impl_;
};

// HOST:PORT -> civetweb's listening_ports syntax ("[::1]:9747" stays as it is).
std::string to_civetweb_ports(const std::string& listen);

}  // namespace callwatch::daemon
