// /metrics text exposition (Prometheus text format 0.0.4), rendered by hand from a Snapshot into a
// reused buffer: the metric table of DESIGN.md, declared once in exporter.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "callwatch/metrics/snapshot.hpp"
#include "runtime/feed_health.hpp"

namespace callwatch::daemon {

// Health of the store (daemon/store) as /metrics shows it; absent without storage configured.
struct StoreHealthSample {
  std::uint64_t errors = 0;        // callwatch_store_errors_total
  double last_checkpoint_at = 0;   // engine time of the newest checkpoint on disk; 0 = none yet
};

// The HTTP listener's limits as /metrics shows them (daemon/serve/http_server).
struct HttpHealthSample {
  std::uint64_t connections = 0;               // callwatch_http_connections
  std::uint64_t refused_connection_limit = 0;  // callwatch_http_refused_total{reason}
  std::uint64_t refused_unsent_bytes = 0;
  std::uint64_t auth_failures = 0;             // callwatch_http_auth_failures_total
};

// The wallboard control socket (daemon/serve/publisher): what snapshot requests got.
struct PublisherHealthSample {
  std::uint64_t snapshots_served = 0;     // callwatch_wallboard_snapshot_requests_total{result}
  std::uint64_t snapshots_coalesced = 0;
  std::uint64_t snapshots_refused = 0;
  std::uint64_t snapshot_encodes = 0;     // callwatch_wallboard_snapshot_encodes_total
  std::uint64_t queued_reply_bytes = 0;   // callwatch_wallboard_queued_reply_bytes
  std::uint64_t broadcasts_live = 0;      // callwatch_wallboard_broadcasts
  // callwatch_wallboard_requests_refused_total{request,reason}: [ack, broadcast, withdraw] x
  // [role, scope, invalid, limit, unknown] (serve/publisher.hpp ControlRequest, Refusal).
  std::array<std::array<std::uint64_t, 5>, 3> refused{};
  std::uint64_t timeline_spans = 0;       // callwatch_wallboard_agent_timeline_spans
  std::uint64_t timeline_spans_dropped = 0;  // ..._agent_timeline_spans_dropped_total
};

struct ExportOptions {
  bool agent_state = false;  // callwatch_agent_state (opt-in: one series per agent and state)
  // Most agents callwatch_agent_state shows (first by name); the rest are only counted in
  // callwatch_agent_state_omitted_agents, so a huge floor cannot blow up the scrape.
  std::size_t agent_state_max_agents = 2000;
  std::string version = CALLWATCH_VERSION;
  // Read at every scrape (any thread); empty when the daemon runs without storage.
  std::function<StoreHealthSample()> store_health = {};
  // Read at every scrape; empty (HELP/TYPE without samples) when not wired, as in unit tests.
  std::function<HttpHealthSample()> http_health = {};
  std::function<PublisherHealthSample()> publisher_health = {};
};

// One row of the metric table: every family /metrics can show, in the order it shows them.
// Docs and tests read the same table.
struct MetricInfo {
  std::string_view name;
  std::string_view type;    // counter | gauge | histogram
  std::string_view labels;  // comma-separated label names, for docs
  std::string_view help;
  // A queue counter family (`_total` per queue): the field of metrics' counter table it reads.
  std::int64_t metrics::QueueCounters::*counter = nullptr;
};
std::span<const MetricInfo> metric_table();

// /metrics in two parts. The state part reads only one published frame (snapshot and feeds):
// the HTTP server renders it once per frame and serves it to every scrape of that frame. The live
// part is the listeners' and the store's own samples and the build, read at every scrape.
// Both replace the contents of `out` (its capacity is kept).
void render_state_metrics(const metrics::Snapshot& snap, const std::vector<FeedHealth>& feeds,
                          const ExportOptions& opts, std::string& out);
void render_live_metrics(const ExportOptions& opts, std::string& out);
// Both parts, state then live (tests, the bench's baseline).
void render_metrics(const metrics::Snapshot& snap, const std::vector<FeedHealth>& feeds,
                    const ExportOptions& opts, std::string& out);

// Label value escaping of the text format: backslash, double quote and newline.
void append_label_value(std::string_view v, std::string& out);
// A sample value as Prometheus reads it: shortest round-trip decimal, +Inf, -Inf, NaN.
void append_sample_value(double v, std::string& out);

}  // namespace callwatch::daemon
