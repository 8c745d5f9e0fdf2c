// Time-zone arithmetic for interval alignment and the "today" boundary. The core never reads
// zone files: a zone is a list of (utc instant, offset) transitions handed in by config/.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace callwatch::metrics {

class TimeZone {
 public:
  struct Transition {
    std::int64_t utc;  // instant from which `offset` applies
    int offset;        // seconds east of UTC
  };
  static TimeZone utc();
  static TimeZone fixed(int offset_seconds, std::string name = {});
  // Transitions sorted by utc; before the first one `initial_offset` applies.
  static TimeZone from_transitions(std::string name, int initial_offset,
                                   std::vector<Transition> transitions);

  int offset_at(std::int64_t utc) const;
  const std::string& name() const { return name_; }

  // Start (UTC) of the aligned interval of `minutes` that holds `utc`, aligned on local time.
  double interval_start(double utc, int minutes) const;
  // Start (UTC) of the business day holding `utc`; the day begins `day_start_seconds` after
  // local midnight.
  double day_start(double utc, int day_start_seconds) const;

 private:
  std::string name_ = "UTC";
  int initial_offset_ = 0;
  std::vector<Transition> transitions_;
};

}  // namespace callwatch::metrics
