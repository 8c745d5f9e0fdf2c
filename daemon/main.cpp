// callwatchd: argv -> one of the commands in commands.hpp.
#include <malloc.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include <CLI/CLI.hpp>

#include "commands.hpp"
#include "feeds/feed_registry.hpp"

namespace cd = callwatch::daemon;

namespace {

// "15m", "900s", "1h", "30" (minutes) -> minutes
bool parse_interval(const std::string& s, int& minutes) {
  if (s.empty()) return false;
  std::size_t pos = 0;
  long v = 0;
  try {
    v = std::stol(s, &pos);
  } catch (...) {
    return false;
  }
  const std::string unit = s.substr(pos);
  if (unit.empty() || unit == "m" || unit == "min") minutes = static_cast<int>(v);
  else if (unit == "h") minutes = static_cast<int>(v * 60);
  else if (unit == "s" && v % 60 == 0) minutes = static_cast<int>(v / 60);
  else return false;
  return minutes > 0 && minutes <= 24 * 60 && (24 * 60) % minutes == 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Two malloc arenas, not one per thread that allocates: the daemon's threads pass large
  // short-lived buffers around (checkpoint state, snapshot and /metrics bodies), and each arena
  // kept what its thread freed. At 10,000 agents, 120 s into the large soak: RSS 336 -> 222 MB
  // (361 MB taken from the system for 147 MB in use, before), latency unchanged. An operator's
  // MALLOC_ARENA_MAX wins.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) ::mallopt(M_ARENA_MAX, 2);
  // Buffers of 1 MB and more (checkpoint state of 20-50 MB, /metrics and snapshot bodies) are
  // mapped and given back when freed. glibc otherwise raises its mapping threshold after the first
  // such free, up to 32 MB, and serves them from the heap, which then stays as large as the
  // largest moment: 120 s into the large soak RSS 284 -> 232 MB (max, one run each; the CPU and
  // latency differences were within run-to-run noise). An operator's MALLOC_MMAP_THRESHOLD_ or
  // GLIBC_TUNABLES wins.
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr && std::getenv("GLIBC_TUNABLES") == nullptr) {
    ::mallopt(M_MMAP_THRESHOLD, 1 << 20);
  }
  CLI::App app{"callwatchd: live contact-center queue monitor"};
  app.set_version_flag("--version", std::string("callwatchd ") + CALLWATCH_VERSION);

  cd::RunOptions run;
  bool check_config = false;
  app.add_option("--config", run.config_path, "TOML configuration file");
  app.add_flag("--demo", run.demo, "run the embedded simulator as a feed");
  app.add_option("--web.listen-address", run.web_listen, "HOST:PORT of /metrics (default 127.0.0.1:9747)");
  app.add_option("--log-level", run.log_level, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_flag("--check-config", check_config, "validate the configuration and exit");

  cd::ReportOptions rep;
  auto* report = app.add_subcommand("report", "replay recorded feeds through the engine and print KPIs");
  std::string interval;
  report->add_option("--format", rep.format, "queue_log|ami|esl|native")
      ->check(CLI::IsMember(cd::feed_type_names()));
  report->add_option("--config", rep.config_path, "TOML configuration file");
  report->add_option("--sl-threshold", rep.sl_threshold, "service-level threshold T, seconds")
      ->check(CLI::PositiveNumber);
  report->add_option("--short-abandon", rep.short_abandon, "short-abandon threshold S, seconds")
      ->check(CLI::NonNegativeNumber);
  report->add_option("--interval", interval, "add per-interval figures, e.g. 15m");
  auto* json = report->add_flag("--json", rep.json, "JSON output");
  report->add_flag("--csv", rep.csv, "CSV output")->excludes(json);
  report->add_option("FILE", rep.files, "input files, oldest first (none with --from/--to)");
  report->add_option("--from", rep.from, "read stored intervals from this time (ISO 8601; no zone: config zone)");
  report->add_option("--to", rep.to, "... up to this time (exclusive; default now)");

  cd::StaffingOptions st;
  auto* staffing = app.add_subcommand("staffing", "what-if staffing with Erlang C (or Erlang A)");
  staffing->add_option("--calls-per-hour", st.calls_per_hour)->required();
  staffing->add_option("--aht", st.aht, "average handle time, seconds")->required();
  staffing->add_option("--sl-threshold", st.sl_threshold, "seconds");
  staffing->add_option("--target", st.target, "service-level target 0-1");
  staffing->add_option("--patience", st.patience, "mean caller patience, seconds (Erlang A)");
  staffing->add_flag("--json", st.json);

  cd::KeygenOptions keygen_opts;
  auto* keygen = app.add_subcommand("keygen", "write a CURVE key pair: NAME.key (secret, 0600) and NAME.pub");
  keygen->add_option("--out", keygen_opts.out_dir, "folder for the key files")->required();
  keygen->add_option("--name", keygen_opts.name, "key name, e.g. server, floor-1, alice")->required();
  keygen->add_flag("--force", keygen_opts.force, "replace an existing pair");

  cd::RelayCmdOptions rel;
  auto* relay = app.add_subcommand("relay", "serve the boards of one or more daemons to many screens");
  relay->add_option("--upstream", rel.upstream, "a daemon's deltas (XPUB), e.g. tcp://HOST:7702; repeat for several sites")
      ->required();
  relay->add_option("--upstream-control", rel.upstream_control,
                    "that daemon's snapshots and acks (ROUTER), e.g. tcp://HOST:7703; one per --upstream")
      ->required();
  relay->add_option("--publish", rel.publish, "where boards subscribe (XPUB)")->capture_default_str();
  relay->add_option("--control", rel.control, "where boards ask for snapshots and send acks (ROUTER)")
      ->capture_default_str();
  relay->add_option("--site", rel.site, "site name the boards show (default: the upstream's)");
  relay->add_option("--key", rel.key_file, "CURVE: the relay's secret key file towards the upstreams");
  relay->add_option("--server-key", rel.server_key, "CURVE: the upstreams' public key file");
  relay->add_option("--config", rel.config_path, "TOML file whose [security] and [publisher] apply to --publish/--control");
  relay->add_option("--log-level", rel.log_level, "trace|debug|info|warn|error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  cd::BroadcastOptions bc;
  auto* broadcast = app.add_subcommand(
      "broadcast", "post (--text, --for), withdraw (--withdraw ID) or list (--list) supervisors' messages");
  broadcast->add_option("--control", bc.control, "the daemon's control socket (default tcp://127.0.0.1:7703)");
  broadcast->add_option("--key", bc.key_file, "CURVE: this supervisor's secret key file");
  broadcast->add_option("--server-key", bc.server_key, "CURVE: the daemon's public key file");
  broadcast->add_option("--user", bc.user, "the sender shown on the boards (default: the key's name, else $USER)");
  broadcast->add_option("--text", bc.text, "the message (UTF-8, one line, at most 280 bytes)");
  broadcast->add_option("--for", bc.for_duration, "how long it shows: 90s, 30m, 2h (5 s to 24 h; default 30m)");
  broadcast->add_option("--withdraw", bc.withdraw, "withdraw the broadcast with this id");
  broadcast->add_flag("--list", bc.list, "print the live broadcasts");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  if (report->parsed()) {
    // Either recorded files to replay, or a time range of stored intervals: exactly one.
    const bool stored = !rep.from.empty() || !rep.to.empty();
    if (stored == !rep.files.empty()) {
      std::fprintf(stderr, "callwatchd report: give FILE... to replay recordings, or --from (and --to) to read "
                           "the stored intervals, not both\n");
      return 2;
    }
    if (!interval.empty()) {
      int minutes = 0;
      if (!parse_interval(interval, minutes)) {
        std::fprintf(stderr, "callwatchd report: --interval %s: expected minutes dividing a day, e.g. 15m\n",
                     interval.c_str());
        return 2;
      }
      rep.interval_minutes = minutes;
    }
    return cd::run_report(rep);
  }
  if (staffing->parsed()) return cd::run_staffing(st);
  if (relay->parsed()) return cd::run_relay(rel);
  if (keygen->parsed()) return cd::run_keygen(keygen_opts);
  if (broadcast->parsed()) {
    if (bc.user.empty() && bc.key_file.empty()) {
      const char* u = std::getenv("USER");
      bc.user = u ? u : "";
    }
    if (!bc.key_file.empty() && bc.server_key.empty()) {
      std::fprintf(stderr, "callwatchd broadcast: --key needs --server-key (the daemon's .pub file)\n");
      return 2;
    }
    return cd::run_broadcast(bc);
  }
  if (check_config) {
    // An empty path checks what the daemon would run on: the default file if present, else defaults.
    return cd::run_check_config(run.config_path);
  }
  return cd::run_daemon(run);
}
