#include "relay/site_merge.hpp"

#include <algorithm>
#include <set>

namespace callwatch::daemon::relay {

namespace {

// The engine keeps at most this many warning texts; a merge of several sites keeps as many.
constexpr std::size_t kMaxMergedWarnings = 1000;

std::string labelled(std::string_view label, std::string_view text) {
  std::string out;
  out.reserve(label.size() + 2 + text.size());
  out.append(label).append(": ").append(text);
  return out;
}

void add_quality(metrics::DataQuality& to, const metrics::DataQuality& from, std::string_view label) {
  to.events += from.events;
  to.rejected += from.rejected;
  to.duplicates += from.duplicates;
  to.restarts += from.restarts;
  to.visits_cut += from.visits_cut;
  to.inferred_outcomes += from.inferred_outcomes;
  to.late_events += from.late_events;
  to.clock_skew += from.clock_skew;
  for (const auto& [kind, n] : from.warning_counts) to.warning_counts[kind] += n;
  for (const auto& w : from.warnings) {
    if (to.warnings.size() >= kMaxMergedWarnings) break;
    to.warnings.push_back(labelled(label, w));
  }
  to.gap = to.gap || from.gap;
}

}  // namespace

std::string qualify(std::string_view label, std::string_view name) {
  std::string out;
  out.reserve(label.size() + 1 + name.size());
  out.append(label).append("/").append(name);
  return out;
}

metrics::Snapshot merge_sites(const std::vector<SiteState>& sites, std::uint64_t version) {
  metrics::Snapshot out;
  out.version = version;
  bool first = true;
  for (const auto& site : sites) {
    if (!site.state) continue;
    const metrics::Snapshot& s = *site.state;
    if (first) {
      out.now = s.now;
      out.interval_start = s.interval_start;
      out.day_start = s.day_start;
      first = false;
    } else {
      out.now = std::max(out.now, s.now);
      out.interval_start = std::max(out.interval_start, s.interval_start);
      out.day_start = std::max(out.day_start, s.day_start);
    }
    out.events_applied += s.events_applied;
    add_quality(out.data_quality, s.data_quality, site.label);
    for (const auto& q : s.queues) {
      metrics::QueueView v = q;
      v.name = qualify(site.label, q.name);
      v.settings.display_name =
          labelled(site.label, q.settings.display_name.empty() ? q.name : q.settings.display_name);
      for (auto& w : v.waiting_list) {
        if (!w.ringing.empty()) w.ringing = qualify(site.label, w.ringing);
      }
      out.queues.push_back(std::move(v));
    }
    for (const auto& a : s.agents) {
      metrics::AgentView v = a;
      v.name = qualify(site.label, a.name);
      for (auto& queue : v.queues) queue = qualify(site.label, queue);
      if (!v.call_queue.empty()) v.call_queue = qualify(site.label, v.call_queue);
      out.agents.push_back(std::move(v));
    }
    for (const auto& b : s.broadcasts) {
      metrics::BroadcastView v = b;
      v.id = qualify(site.label, b.id);
      v.from = labelled(site.label, b.from);
      out.broadcasts.push_back(std::move(v));
    }
    for (const auto& a : s.alerts) {
      metrics::AlertView v = a;
      v.id = qualify(site.label, a.id);
      if (!a.queue.empty()) v.queue = qualify(site.label, a.queue);
      if (!a.subject.empty()) v.subject = labelled(site.label, a.subject);
      if (!a.message.empty()) v.message = labelled(site.label, a.message);
      out.alerts.push_back(std::move(v));
    }
  }
  // Each site's lists are sorted, but "north/x" of one site and "south/a" of another interleave
  // only by label: sort once so diff and apply see the order they keep.
  auto by_name = [](const auto& a, const auto& b) { return a.name < b.name; };
  std::sort(out.queues.begin(), out.queues.end(), by_name);
  std::sort(out.agents.begin(), out.agents.end(), by_name);
  auto by_id = [](const auto& a, const auto& b) { return a.id < b.id; };
  std::sort(out.alerts.begin(), out.alerts.end(), by_id);
  std::sort(out.broadcasts.begin(), out.broadcasts.end(), by_id);
  return out;
}

std::vector<metrics::AlertTransition> merge_histories(
    const std::vector<std::string>& labels, const std::vector<std::vector<metrics::AlertTransition>>& histories) {
  std::vector<metrics::AlertTransition> out;
  for (std::size_t i = 0; i < histories.size() && i < labels.size(); ++i) {
    for (const auto& t : histories[i]) {
      metrics::AlertTransition v = t;
      v.id = qualify(labels[i], t.id);
      if (!t.queue.empty()) v.queue = qualify(labels[i], t.queue);
      if (!t.message.empty()) v.message = labelled(labels[i], t.message);
      out.push_back(std::move(v));
    }
  }
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.at < b.at; });
  return out;
}

std::optional<std::pair<std::size_t, std::string>> owner_of(const std::vector<std::string>& labels,
                                                            std::string_view merged_id) {
  std::optional<std::pair<std::size_t, std::string>> best;
  std::size_t best_len = 0;
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const std::string& l = labels[i];
    if (merged_id.size() > l.size() + 1 && merged_id.compare(0, l.size(), l) == 0 &&
        merged_id[l.size()] == '/' && (!best || l.size() > best_len)) {
      best = std::make_pair(i, std::string(merged_id.substr(l.size() + 1)));
      best_len = l.size();
    }
  }
  return best;
}

std::vector<std::string> unique_labels(std::vector<std::string> labels) {
  std::set<std::string> seen;
  for (auto& l : labels) {
    if (seen.insert(l).second) continue;
    for (int n = 2;; ++n) {
      std::string candidate = l + "-" + std::to_string(n);
      if (seen.insert(candidate).second) {
        l = std::move(candidate);
        break;
      }
    }
  }
  return labels;
}

}  // namespace callwatch::daemon::relay
