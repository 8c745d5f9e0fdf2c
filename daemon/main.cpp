// callwatchd: argv -> one of the commands in commands.hpp.
#include <cstdio>
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
  if (keygen->parsed()) return cd::run_keygen(keygen_opts);
  if (check_config) {
    // An empty path checks what the daemon would run on: the default file if present, else defaults.
    return cd::run_check_config(run.config_path);
  }
  return cd::run_daemon(run);
}
