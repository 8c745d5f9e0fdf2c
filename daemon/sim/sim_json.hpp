// Native JSON for the simulator's events (DESIGN.md "Native events"): only the fields of the table,
// so the output is what any producer may send. Kept apart so it can defer to the feed's own writer.
#pragma once

#include <string>

#include "callwatch/metrics/event.hpp"

namespace callwatch::daemon::sim {

void append_sim_json(const metrics::Event& e, std::string& out);

}  // namespace callwatch::daemon::sim
