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

int run_daemon(const RunOptions& opts);        // daemon.cpp
int run_report(const ReportOptions& opts);     // report.cpp
int run_staffing(const StaffingOptions& opts); // staffing_cmd.cpp
int run_check_config(const std::string& config_path);  // check_config.cpp
int run_keygen(const KeygenOptions& opts);     // keygen_cmd.cpp

// The config file the daemon uses when --config is not given.
std::string default_config_path();

}  // namespace callwatch::daemon
