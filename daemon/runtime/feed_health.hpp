// Health of one feed as the exporter shows it (callwatch_feed_*): counted by the engine thread,
// which owns the feeds' counters, and published next to each Snapshot in the SnapshotHub.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace callwatch::daemon {

struct FeedHealth {
  std::string name;               // label `feed`
  bool up = false;
  double last_event_ts = 0;       // 0 = never; wall-clock time the last accepted event arrived
  std::uint64_t events = 0;       // accepted
  std::map<std::string, std::uint64_t> rejected;  // by reason label
  // Accepted but changed nothing (label `result`: "duplicate", "unknown"); data quality only.
  std::map<std::string, std::uint64_t> ignored;
};

}  // namespace callwatch::daemon
