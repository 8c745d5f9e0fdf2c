// callwatch.toml: the daemon's whole configuration, validated at start-up. Every error names the
// file and line; unknown keys are errors so a typo never silently falls back to a default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "callwatch/config/feed_type.hpp"
#include "callwatch/metrics/alerts.hpp"
#include "callwatch/metrics/settings.hpp"
#include "callwatch/metrics/timezone.hpp"

namespace callwatch::config {

// Used when no --config is given and the file exists; otherwise the built-in defaults apply.
inline constexpr std::string_view kDefaultConfigPath = "/etc/callwatch/callwatch.toml";

struct ConfigError {
  std::string file;
  int line = 0;    // 1-based; 0 when not tied to a line
  int column = 0;  // 1-based; 0 when not tied to a position
  std::string message;
  // "file:line:column: message" ("file:line: message" without a column, "file: message" without a line)
  std::string to_string() const;
};

struct ListenConfig {
  std::string feed = "tcp://127.0.0.1:7701";     // native JSON events (PULL)
  std::string publish = "tcp://127.0.0.1:7702";  // wallboard deltas (XPUB)
  std::string control = "tcp://127.0.0.1:7703";  // snapshot / ack (ROUTER)
  std::string metrics = "127.0.0.1:9747";        // HTTP /metrics
};

// One event source. The loader resolves what the daemon needs: a native feed always has its
// ZeroMQ endpoint in `address` ([listen].feed when the file gives none), an ami/esl address
// always carries a port. With no [[feed]] in the file, one native feed named "native" on
// [listen].feed is configured.
struct FeedConfig {
  std::string name;                 // label value of callwatch_feed_* metrics; unique
  FeedType type = FeedType::native;
  std::string address;              // native: ZeroMQ endpoint; ami/esl: host:port; queue_log: ""
  std::string path;                 // queue_log file (required for queue_log, else "")
  std::string credentials_file;     // ami/esl login; never logged
  std::vector<std::string> queues;  // empty: all; each names a [[queue]]
  int line = 0;
  int credentials_line = 0;  // of credentials_file, for start-up refusals (0 when absent)
};

// The metrics and severities of alert rules are metrics/'s own (callwatch/metrics/alerts.hpp).
using metrics::AlertMetric;
using metrics::AlertSeverity;
enum class AlertWindow : std::uint8_t { live, sliding_15m, sliding_1h, today, interval };

std::string_view to_string(AlertWindow w);  // "live", "15m", "1h", "today", "interval"

// True for the metrics measured over a window (service_level, abandon_rate, bounced_calls).
bool alert_metric_has_window(AlertMetric m);

// An [[alert]] rule. It fires when the value stays beyond `threshold` (strictly above, or
// strictly below) for `for_seconds`, and clears once the value is back at or past `clear`
// (clear <= threshold for an above rule, >= for a below rule; equal when no hysteresis).
struct AlertRuleConfig {
  std::string name;  // unique; the `alert` label of callwatch_alerts_firing
  AlertMetric metric = AlertMetric::longest_wait;
  AlertWindow window = AlertWindow::live;     // live for metrics without a window, else default 15m
  std::optional<metrics::SlFormula> formula;  // service_level only; nullopt: the queue's formula
  bool above = true;                          // false: fires below the threshold
  double threshold = 0;
  double clear = 0;
  double for_seconds = 0;
  AlertSeverity severity = AlertSeverity::warning;
  std::vector<std::string> queues;  // empty: every queue; each names a [[queue]]
  int line = 0;
};

// Who a CURVE client key belongs to ([[security.client]] role): a kiosk only reads, a supervisor
// may also acknowledge alerts, a feed may push events and nothing else.
enum class ClientRole : std::uint8_t { kiosk, supervisor, feed };
std::string_view to_string(ClientRole r);

// One client key let in when CURVE is on.
struct ClientKeyConfig {
  std::string name;        // names the key in logs and in the ZeroMQ user id ("supervisor:name")
  ClientRole role = ClientRole::kiosk;
  std::string public_key;  // Z85, 40 characters; empty: <keys_dir>/<name>.pub, read at start-up
  int line = 0;
};

// [[security.scope]]: kiosk or supervisor keys bound to a set of queues. The daemon sends those
// clients only these queues (their agents and alerts) and takes their acks only for them.
struct ScopeConfig {
  std::string name;                  // names the scope in logs
  std::vector<std::string> clients;  // [[security.client]] names (kiosk or supervisor)
  std::vector<std::string> queues;   // each names a [[queue]]; at least one
  int line = 0;
};

// [security]: ZeroMQ CURVE on the feed, publish and control sockets when server_key is set.
struct SecurityConfig {
  std::string keys_dir;    // where `callwatchd keygen` wrote the key files
  std::string server_key;  // name of the daemon's key pair in keys_dir ("" = CURVE off)
  std::vector<ClientKeyConfig> clients;
  std::vector<ScopeConfig> scopes;  // clients in none see every queue
  int server_key_line = 0;  // for start-up refusals about the key files
  bool curve() const { return !server_key.empty(); }
};

// [storage]: how often the live state is saved (the loss window of a crash) and how long a
// downtime must last before the restart flags a gap in today's figures.
struct StorageConfig {
  double checkpoint_seconds = 1.0;
  double gap_seconds = 5.0;
};

// [metrics] access control of the HTTP endpoint: optional basic auth. TLS is a reverse proxy's
// job (a `tls_certificate` key is an error that says so).
struct MetricsHttpConfig {
  std::string basic_auth_user;           // "" = no authentication
  std::string basic_auth_password_file;  // first line is the password; must not be world-readable
  int basic_auth_password_file_line = 0;
  // Most agents callwatch_agent_state exports (6 series each); the rest are counted, not shown.
  std::size_t agent_state_max_agents = 2000;
  // Limits of the HTTP listener (docs/operations.md "Limits"). Idle connections cost no thread;
  // these bound what a client that connects and never finishes can hold.
  int threads = 4;                        // threads answering requests (rendering, gzip)
  std::size_t max_connections = 512;      // open at once; one more is closed at accept
  int idle_timeout_seconds = 10;          // a connection silent this long is closed
  // /metrics bodies written but not yet read by their clients; above it a scrape gets 503.
  std::size_t max_unsent_bytes = std::size_t{256} << 20;
  // A wrong password is answered 401 after this, doubling per failure in a row from the same
  // address up to 8 times it; the connection waits without holding a thread. 0: at once.
  double auth_failure_delay_seconds = 1.0;
};

// [publisher]: the wallboard sockets (publish 7702, control 7703).
struct PublisherConfig {
  // Bytes of snapshot and history replies held for clients that have not read them (a body
  // shared by several clients counts once); above it new snapshot requests get a "busy" error.
  std::size_t max_queued_reply_bytes = std::size_t{256} << 20;
};

struct Config {
  std::string source;  // file name, or "<defaults>"
  // Queue settings (defaults and per queue), time zone, day start, interval, engine switches.
  metrics::EngineSettings engine;
  std::string timezone = "UTC";
  std::string day_start = "00:00";
  std::string site;
  ListenConfig listen;
  std::vector<FeedConfig> feeds;
  std::vector<std::string> queue_names;  // [[queue]] names in file order (keys of engine.queues)
  std::vector<AlertRuleConfig> alerts;
  bool export_agent_state = false;  // callwatch_agent_state series (one per agent and state)
  std::string storage_path;         // empty: no persistence
  int storage_path_line = 0;
  int log_rate_limit_per_second = 10;
  StorageConfig storage;
  SecurityConfig security;
  MetricsHttpConfig metrics_http;
  PublisherConfig publisher;
  // [engine] cardinality guard: distinct queues and agents the live engine accepts; an event that
  // would add one more is not applied (counted in callwatch_feed_events_ignored_total).
  std::size_t max_queues = 2000;
  std::size_t max_agents = 50000;
};

using ConfigResult = tl::expected<Config, std::vector<ConfigError>>;

// Built-in defaults (no file): DESIGN.md "Config".
Config default_config();
// Every error found, sorted by position, not just the first.
ConfigResult parse_config(std::string_view toml_text, const std::string& source_name);
ConfigResult load_config_file(const std::string& path);
// What the daemon runs on: `path` when given (a missing file is an error); with an empty path,
// `default_path` when that file exists, else default_config().
ConfigResult load_effective_config(
    const std::string& path, const std::string& default_path = std::string(kDefaultConfigPath));

// A zone by IANA name ("Asia/Shanghai", "UTC", "Europe/Berlin"), read from the system zoneinfo
// ($TZDIR or /usr/share/zoneinfo). "UTC" and fixed zones ("Etc/GMT-8", "UTC+05:30") need no file.
tl::expected<metrics::TimeZone, std::string> load_timezone(const std::string& name);

}  // namespace callwatch::config
