// The last hour of each queue for the desktop sparklines: calls waiting and the displayed
// service level (15-minute sliding window), sampled at a fixed step on the wallboard's clock.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "vm/site_feed.hpp"

namespace callwatch::wallboard::vm {

class History {
 public:
  struct Sample {
    double t = 0;
    float waiting = 0;
    float sl = 0;  // NaN when the window has no data: the line breaks there
  };

  explicit History(double keep_seconds = 3600, double step_seconds = 10)
      : keep_(keep_seconds), step_(step_seconds) {}

  // Adds a sample for `key` unless one was taken less than a step ago; drops samples older
  // than the kept span.
  void record(const std::string& key, double t, int waiting, std::optional<double> sl);
  // Every queue of every site that is live (a stale or disconnected site adds nothing: a flat
  // line would pretend the numbers held).
  void record_sites(const std::vector<SiteFeed>& sites, double now);
  const std::deque<Sample>* find(const std::string& key) const;
  double keep_seconds() const { return keep_; }

 private:
  double keep_, step_;
  std::map<std::string, std::deque<Sample>, std::less<>> series_;
};

// The key of a queue across merged sites.
std::string queue_key(const SiteFeed& f, const std::string& queue);

}  // namespace callwatch::wallboard::vm
