// Temporary: replaced file by file as the commands land.
#include <cstdio>
#include "commands.hpp"
namespace callwatch::daemon {
int run_daemon(const RunOptions&) { std::fprintf(stderr, "not yet\n"); return 1; }
int run_report(const ReportOptions&) { std::fprintf(stderr, "not yet\n"); return 1; }
int run_staffing(const StaffingOptions&) { std::fprintf(stderr, "not yet\n"); return 1; }
int run_check_config(const std::string&) { std::fprintf(stderr, "not yet\n"); return 1; }
std::string default_config_path() { return "/etc/callwatch/callwatch.toml"; }
}
