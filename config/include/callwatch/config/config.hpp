// callwatch.toml: the daemon's whole configuration, validated at start-up. Every error names the
// file and line; unknown keys are errors so a typo never silently falls back to a default.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "callwatch/metrics/settings.hpp"
#include "callwatch/metrics/timezone.hpp"

namespace callwatch::config {

struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when not tied to a line
  int column = 0;
  std::string message;
  std::string to_string() const;  // "file:line:column: message"
};

struct ListenConfig {
  std::string feed = "tcp://127.0.0.1:7701";     // native JSON events (PULL)
  std::string publish = "tcp://127.0.0.1:7702";  // wallboard deltas (XPUB)
  std::string control = "tcp://127.0.0.1:7703";  // snapshot / ack (ROUTER)
  std::string metrics = "127.0.0.1:9747";        // HTTP /metrics
};

struct FeedConfig {
  std::string name;               // label value of callwatch_feed_* metrics
  std::string type;               // native | queue_log | ami | esl
  std::string address;            // host:port or ZeroMQ endpoint
  std::string path;               // queue_log file
  std::string credentials_file;   // never logged
  std::vector<std::string> queues;  // empty: all
  int line = 0;
};

struct Config {
  std::string source;  // file name, or "<defaults>"
  metrics::EngineSettings engine;
  std::string timezone = "UTC";
  std::string day_start = "00:00";
  std::string site;
  ListenConfig listen;
  std::vector<FeedConfig> feeds;
  bool export_agent_state = false;  // callwatch_agent_state series (one per agent and state)
  std::string storage_path;         // empty: no persistence
  int log_rate_limit_per_second = 10;
};

using ConfigResult = tl::expected<Config, std::vector<ConfigError>>;

// Built-in defaults (no file): DESIGN.md "Config".
Config default_config();
ConfigResult parse_config(std::string_view toml_text, const std::string& source_name);
ConfigResult load_config_file(const std::string& path);

// A zone by IANA name ("Asia/Shanghai", "UTC", "Europe/Berlin"), read from the system zoneinfo.
tl::expected<metrics::TimeZone, std::string> load_timezone(const std::string& name);

}  // namespace callwatch::config
