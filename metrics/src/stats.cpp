#include "callwatch/metrics/stats.hpp"

#include <algorithm>

namespace callwatch::metrics {

namespace {
double merge(Merge m, double a, double b) {
  if (m != Merge::max) return a + b;
  if (!has_value(a)) return b;
  if (!has_value(b)) return a;
  return std::max(a, b);
}
bool same_value(double a, double b) { return (!has_value(a) && !has_value(b)) || a == b; }

template <typename S, typename Ints, typename Reals>
void add_fields(S& to, const S& from, const Ints& ints, const Reals& reals) {
  for (const auto& f : ints) to.*f.member += from.*f.member;
  for (const auto& f : reals) to.*f.member = merge(f.merge, to.*f.member, from.*f.member);
}
}  // namespace

std::string_view to_string(SlFormula f) {
  switch (f) {
    case SlFormula::answered: return "answered";
    case SlFormula::offered: return "offered";
    case SlFormula::abandons_positive: return "abandons_positive";
    case SlFormula::abandons_ignored: return "abandons_ignored";
  }
  return "offered";
}

bool parse_sl_formula(std::string_view s, SlFormula& out) {
  for (int i = 0; i < kSlFormulaCount; ++i) {
    if (to_string(static_cast<SlFormula>(i)) == s) {
      out = static_cast<SlFormula>(i);
      return true;
    }
  }
  return false;
}

void QueueCounters::add(const QueueCounters& o) {
  add_fields(*this, o, kQueueIntFields, kQueueRealFields);
}

bool QueueCounters::operator==(const QueueCounters& o) const {
  for (const auto& f : kQueueIntFields)
    if (this->*f.member != o.*f.member) return false;
  for (const auto& f : kQueueRealFields)
    if (!same_value(this->*f.member, o.*f.member)) return false;
  return true;
}

double AgentCounters::logged_in_seconds() const {
  double s = 0;
  for (int i = 0; i < kAgentStateCount; ++i) {
    if (i != static_cast<int>(AgentState::logged_out)) s += state_seconds[i];
  }
  return s;
}

void AgentCounters::add(const AgentCounters& o) {
  add_fields(*this, o, kAgentIntFields, kAgentRealFields);
  for (int i = 0; i < kAgentStateCount; ++i) state_seconds[i] += o.state_seconds[i];
  for (const auto& [reason, secs] : o.paused_by_reason) paused_by_reason[reason] += secs;
}

}  // namespace callwatch::metrics
