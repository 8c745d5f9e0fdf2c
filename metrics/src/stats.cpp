#include "callwatch/metrics/stats.hpp"

#include <algorithm>

namespace callwatch::metrics {

namespace {
std::optional<double> ratio(double num, double den) {
  if (den <= 0) return std::nullopt;
  return num / den;
}
double max_nan(double a, double b) {
  if (!has_value(a)) return b;
  if (!has_value(b)) return a;
  return std::max(a, b);
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
  answered += o.answered;
  abandoned += o.abandoned;
  short_abandoned += o.short_abandoned;
  timed_out += o.timed_out;
  exited_empty += o.exited_empty;
  exited_key += o.exited_key;
  transferred_out += o.transferred_out;
  answered_within_sl += o.answered_within_sl;
  abandoned_within_sl += o.abandoned_within_sl;
  answered_with_wait += o.answered_with_wait;
  answer_wait_sum += o.answer_wait_sum;
  handled += o.handled;
  handle_sum += o.handle_sum;
  talk_sum += o.talk_sum;
  hold_sum += o.hold_sum;
  max_wait = max_nan(max_wait, o.max_wait);
  arrivals += o.arrivals;
  ring_noanswer += o.ring_noanswer;
  bounced += o.bounced;
  no_wait_outcomes += o.no_wait_outcomes;
}

std::optional<double> service_level(const QueueCounters& c, SlFormula f) {
  const double at = static_cast<double>(c.answered_within_sl);
  const double short_ab = static_cast<double>(c.short_abandoned);
  const double offered = static_cast<double>(c.offered());
  switch (f) {
    case SlFormula::answered:
      return ratio(at, static_cast<double>(c.answered));
    case SlFormula::offered:
      return ratio(at, offered - short_ab);
    case SlFormula::abandons_positive:
      return ratio(at + static_cast<double>(c.abandoned_within_sl) - short_ab, offered - short_ab);
    case SlFormula::abandons_ignored:
      return ratio(at, offered - static_cast<double>(c.abandoned));
  }
  return std::nullopt;
}

std::optional<double> asa(const QueueCounters& c) {
  return ratio(c.answer_wait_sum, static_cast<double>(c.answered_with_wait));
}
std::optional<double> aht(const QueueCounters& c) {
  return ratio(c.handle_sum, static_cast<double>(c.handled));
}
std::optional<double> abandon_rate(const QueueCounters& c) {
  return ratio(static_cast<double>(c.abandoned), static_cast<double>(c.offered()));
}
std::optional<double> abandon_rate_excl_short(const QueueCounters& c) {
  return ratio(static_cast<double>(c.abandoned - c.short_abandoned),
               static_cast<double>(c.offered() - c.short_abandoned));
}
std::optional<double> max_wait(const QueueCounters& c) {
  if (!has_value(c.max_wait)) return std::nullopt;
  return c.max_wait;
}

double AgentCounters::logged_in_seconds() const {
  double s = 0;
  for (int i = 0; i < kAgentStateCount; ++i) {
    if (i != static_cast<int>(AgentState::logged_out)) s += state_seconds[i];
  }
  return s;
}

void AgentCounters::add(const AgentCounters& o) {
  answered += o.answered;
  ring_noanswer += o.ring_noanswer;
  ring_refused += o.ring_refused;
  talk_seconds += o.talk_seconds;
  hold_seconds += o.hold_seconds;
  wrap_seconds += o.wrap_seconds;
  for (int i = 0; i < kAgentStateCount; ++i) state_seconds[i] += o.state_seconds[i];
  for (const auto& [reason, secs] : o.paused_by_reason) paused_by_reason[reason] += secs;
}

namespace {
double busy_seconds(const AgentCounters& c) {
  return c.state_seconds[static_cast<int>(AgentState::on_call)] +
         c.state_seconds[static_cast<int>(AgentState::wrap_up)];
}
}  // namespace

std::optional<double> occupancy(const AgentCounters& c) {
  const double busy = busy_seconds(c);
  return ratio(busy, busy + c.state_seconds[static_cast<int>(AgentState::available)] +
                         c.state_seconds[static_cast<int>(AgentState::ringing)]);
}
std::optional<double> utilization(const AgentCounters& c) {
  return ratio(busy_seconds(c), c.logged_in_seconds());
}

}  // namespace callwatch::metrics
