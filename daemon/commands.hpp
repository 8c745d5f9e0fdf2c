// Entry points of callwatchd's commands; main.cpp only parses argv into these option structs.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace callwatch::daemon {

struct RunOptions {
  std::string config_path;      // empty: /etc/callwatch/callwatch.toml if present, else defaults
  bool demo = false;            // embedded simulator
  std::string web_listen;       // overrides config listen.metrics when set
  std::string log_level = "info";
};

struct ReportOptions {
  std::string format = "queue_log";  // queue_log | ami | esl | native
  std::string config_path;
  std::optional<double> sl_threshold;
  std::optional<double> short_abandon;
  std::optional<int> interval_minutes;  // --interval 15m
  bool json = false;
  bool csv = false;
  std::vector<std::string> files;
  // Stored history instead of files (daemon/report_store.cpp): ISO 8601 times, [from, to).
  std::string from;
  std::string to;
};

struct StaffingOptions {
  double calls_per_hour = 0;
  double aht = 0;
  double sl_threshold = 20;
  double target = 0.80;
  std::optional<double> patience;
  bool json = false;
};

struct KeygenOptions {
  std::string out_dir;
  std::string name;
  bool force = false;  // replace an existing pair
};

struct RelayCmdOptions {
  std::vector<std::string> upstream;          // XPUB of each daemon, in order
  std::vector<std::string> upstream_control;  // its ROUTER, same order
  std::string publish = "tcp://127.0.0.1:7712";
  std::string control = "tcp://127.0.0.1:7713";
  std::string site;
  std::string key_file, server_key;  // CURVE towards the upstreams
  std::string config_path;           // [security] and [publisher] of the relay's own sockets
  std::string log_level = "info";
};
// `callwatchd broadcast`: post, withdraw or list the supervisors' messages of a running daemon.
struct BroadcastOptions {
  std::string control = "tcp://127.0.0.1:7703";
  std::string key_file;    // CURVE: this client's secret key file
  std::string server_key;  // CURVE: the daemon's .pub file
  std::string user;        // shown as the sender; default: the key's name, else $USER
  std::string text;        // post this
  std::string for_duration = "30m";
  std::string withdraw;    // withdraw the broadcast with this id
  bool list = false;
  double timeout_seconds = 5;
};
// "90", "90s", "30m", "2h" -> seconds (broadcast_cmd.cpp).
std::optional<double> parse_duration_seconds(const std::string& s);

int run_daemon(const RunOptions& opts);        // daemon.cpp
int run_report(const ReportOptions& opts);     // report.cpp
int run_staffing(const StaffingOptions& opts); // staffing_cmd.cpp
int run_check_config(const std::string& config_path);  // check_config.cpp
int run_keygen(const KeygenOptions& opts);     // keygen_cmd.cpp
int run_relay(const RelayCmdOptions& opts);    // relay/relay_cmd.cpp
int run_broadcast(const BroadcastOptions& opts);  // broadcast_cmd.cpp

// The config file the daemon uses when --config is not given.
std::string default_config_path();

}  // namespace callwatch::daemon
