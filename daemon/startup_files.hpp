// The refusals of callwatchd's start-up about the files its configuration names: the store's
// folder and file, secret files others may read (server key, metrics password, feed
// credentials), missing key or credentials files. One function, so `--check-config` refuses
// exactly what the daemon refuses, in the same words, each at the line of the key naming the
// file; the daemon then exits 2 (a configuration problem: systemd does not restart it).
#pragma once

#include <optional>
#include <vector>

#include <tl/expected.hpp>

#include "callwatch/config/config.hpp"
#include "serve/security.hpp"

namespace callwatch::daemon {

// What the daemon runs on of those files.
struct StartupFiles {
  std::optional<ServerSecurity> curve;  // set when [security] turns CURVE on
  BasicAuth basic_auth;
};

tl::expected<StartupFiles, std::vector<config::ConfigError>> load_startup_files(const config::Config& cfg);

}  // namespace callwatch::daemon
