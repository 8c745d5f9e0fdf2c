// `callwatchd --check-config`: validate a configuration file the way the daemon would load it,
// and the files it names the way the daemon's start-up reads them (startup_files.hpp), so a
// deploy pipeline can refuse a broken file before a restart.
#include <fmt/format.h>

#include <cstdio>

#include "callwatch/config/config.hpp"
#include "commands.hpp"
#include "startup_files.hpp"

namespace callwatch::daemon {

std::string default_config_path() { return std::string(config::kDefaultConfigPath); }

int run_check_config(const std::string& config_path) {
  // An empty path checks what the daemon would run on: the default file, else the defaults.
  const auto cfg = config::load_effective_config(config_path);
  if (!cfg) {
    for (const auto& e : cfg.error()) fmt::print(stderr, "{}\n", e.to_string());
    return 1;
  }
  if (auto files = load_startup_files(*cfg); !files) {
    for (const auto& e : files.error()) fmt::print(stderr, "{}\n", e.to_string());
    return 1;
  }
  fmt::print("OK: {}: {} queues, {} feeds, {} alert rules\n", cfg->source, cfg->queue_names.size(),
             cfg->feeds.size(), cfg->alerts.size());
  return 0;
}

}  // namespace callwatch::daemon
