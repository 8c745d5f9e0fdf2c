// What a relay serving several daemons (sites) hands its boards: one state in which every queue,
// agent and alert carries its site, so equal names at two sites stay apart and an ack finds the
// daemon that owns the alert. Pure: no sockets, no clock.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "callwatch/metrics/alerts.hpp"
#include "callwatch/metrics/snapshot.hpp"

namespace callwatch::daemon::relay {

struct SiteState {
  std::string label;  // unique among the sites merged (site name, else host:port)
  std::shared_ptr<const metrics::Snapshot> state;  // null: nothing received from it yet
};

// "north" + "sales" -> "north/sales": queue names, agent names and alert ids of a merged state.
std::string qualify(std::string_view label, std::string_view name);

// Several sites' states as one: names qualified, display names and alert subjects read
// "north: Sales", broadcasts from "north: alice", data-quality counts summed. Times are the latest of the sites (a relay merges
// sites that share a day; docs/running.md). Sites without a state yet are left out.
metrics::Snapshot merge_sites(const std::vector<SiteState>& sites, std::uint64_t version);

// The day's alert transitions of several sites as one list, oldest first, ids and queues
// qualified as merge_sites qualifies them. `histories[i]` belongs to `labels[i]`.
std::vector<metrics::AlertTransition> merge_histories(
    const std::vector<std::string>& labels, const std::vector<std::vector<metrics::AlertTransition>>& histories);

// The site owning a merged alert id and the id at that site; none when no label matches.
std::optional<std::pair<std::size_t, std::string>> owner_of(const std::vector<std::string>& labels,
                                                            std::string_view merged_id);

// Site labels made unique (a second "north" becomes "north-2") so that owner_of is unambiguous.
std::vector<std::string> unique_labels(std::vector<std::string> labels);

}  // namespace callwatch::daemon::relay
