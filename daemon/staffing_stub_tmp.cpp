// TEMPORARY STUB: delete this file when the real command lands.
#include <cstdio>
#include "commands.hpp"
namespace callwatch::daemon {
int run_staffing(const StaffingOptions&) { std::fprintf(stderr, "not implemented yet\n"); return 1; }

}
