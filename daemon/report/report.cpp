// `callwatchd report`: read the files, load the config, replay, print. Exit 0 on success, 2 on
// unusable input (unreadable file, bad config, unsupported format); bad lines are never fatal.
#include <cstdio>
#include <fstream>

#include <fmt/format.h>

#include "callwatch/config/config.hpp"
#include "commands.hpp"
#include "report/report.hpp"
#include "report/report_store.hpp"

namespace callwatch::daemon {

namespace {

// The files are streamed by the replay; an unreadable one is refused before anything runs.
bool can_read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return static_cast<bool>(in);
}

}  // namespace

int run_report(const ReportOptions& opts) {
  if (!opts.from.empty() || !opts.to.empty()) return run_stored_report(opts);  // report_store.cpp
  config::Config cfg = config::default_config();
  if (!opts.config_path.empty()) {
    auto loaded = config::load_config_file(opts.config_path);
    if (!loaded) {
      for (const auto& e : loaded.error()) std::fprintf(stderr, "%s\n", e.to_string().c_str());
      return 2;
    }
    cfg = std::move(*loaded);
  }

  const auto format = config::feed_type_from_string(opts.format);
  if (!format) {
    std::fprintf(stderr, "callwatchd report: unknown --format '%s'\n", opts.format.c_str());
    return 2;
  }
  ReportRequest req;
  req.format = *format;
  req.settings = report_engine_settings(cfg.engine, opts);
  req.intervals = opts.interval_minutes.has_value();
  for (const auto& path : opts.files) {
    ReportInput in{path, {}, path};
    if (!can_read(path)) {
      std::fprintf(stderr, "callwatchd report: cannot read %s\n", path.c_str());
      return 2;
    }
    req.inputs.push_back(std::move(in));
  }

  auto res = replay_report(req);
  if (!res) {
    std::fprintf(stderr, "callwatchd report: %s\n", res.error().c_str());
    return 2;
  }
  const std::string out = opts.json  ? build_report_json(*res, req.intervals)
                          : opts.csv ? build_report_csv(*res, req.intervals)
                                     : build_report_text(*res, req.intervals);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return std::fflush(stdout) == 0 ? 0 : 1;
}

}  // namespace callwatch::daemon
