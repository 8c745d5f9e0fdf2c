// /metrics text exposition (Prometheus text format 0.0.4), rendered by hand from a Snapshot into a
// reused buffer: the metric table of DESIGN.md, declared once in exporter.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "callwatch/metrics/snapshot.hpp"

namespace callwatch::daemon {

struct FeedHealth {
  std::string name;               // label `feed`
  bool up = false;
  double last_event_ts = 0;       // 0 = never
  std::uint64_t events = 0;       // accepted
  std::map<std::string, std::uint64_t> rejected;  // by reason label
};

struct ExportOptions {
  bool agent_state = false;  // callwatch_agent_state (opt-in: one series per agent and state)
  std::string version = CALLWATCH_VERSION;
};

void render_metrics(const metrics::Snapshot& snap, const std::vector<FeedHealth>& feeds,
                    const ExportOptions& opts, std::string& out);

}  // namespace callwatch::daemon
