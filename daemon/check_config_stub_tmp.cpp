// TEMPORARY STUB: delete this file when the real command lands.
#include <cstdio>
#include "commands.hpp"
namespace callwatch::daemon {
int run_check_config(const std::string&) { std::fprintf(stderr, "not implemented yet\n"); return 1; }
std::string default_config_path() { return "/etc/callwatch/callwatch.toml"; }
}
