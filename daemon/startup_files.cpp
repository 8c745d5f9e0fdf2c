#include "startup_files.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "feeds/feed_runner.hpp"
#include "store/store.hpp"

namespace callwatch::daemon {

namespace {

// The line of the first item of [security] that the loader refuses: the server key, else the
// client whose public key does not load (each tried alone, only on this error path).
int security_line(const config::SecurityConfig& sec) {
  config::SecurityConfig alone = sec;
  alone.clients.clear();
  if (!load_server_security(alone)) return sec.server_key_line;
  for (const auto& c : sec.clients) {
    alone.clients = {c};
    if (!load_server_security(alone)) return c.line;
  }
  return sec.server_key_line;
}

}  // namespace

tl::expected<StartupFiles, std::vector<config::ConfigError>> load_startup_files(const config::Config& cfg) {
  std::vector<config::ConfigError> errors;
  auto refuse = [&](int line, std::string message) {
    errors.push_back(config::ConfigError{cfg.source, line, 0, std::move(message)});
  };
  StartupFiles out;
  if (!cfg.storage_path.empty()) {
    if (auto ok = Store::check_path(cfg.storage_path); !ok) {
      refuse(cfg.storage_path_line, ok.error() + " ([general] storage_path)");
    }
  }
  if (cfg.security.curve()) {
    if (auto sec = load_server_security(cfg.security)) {
      out.curve = std::move(*sec);
    } else {
      refuse(security_line(cfg.security), "[security]: " + sec.error());
    }
  }
  if (auto auth = load_basic_auth(cfg.metrics_http)) {
    out.basic_auth = std::move(*auth);
  } else {
    refuse(cfg.metrics_http.basic_auth_password_file_line, "[metrics]: " + auth.error());
  }
  for (const auto& f : cfg.feeds) {
    if (auto cred = feed_credentials(f); !cred) refuse(f.credentials_line ? f.credentials_line : f.line, cred.error());
  }
  if (!errors.empty()) {
    std::stable_sort(errors.begin(), errors.end(),
                     [](const config::ConfigError& a, const config::ConfigError& b) { return a.line < b.line; });
    return tl::unexpected(std::move(errors));
  }
  return out;
}

}  // namespace callwatch::daemon
