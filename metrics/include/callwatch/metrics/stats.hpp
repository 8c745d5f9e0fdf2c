// Interval counters of queues and agents, each declared once in a table below: the struct, add(),
// the snapshot codec, the engine state, the store columns and the equality checks are all made
// from the same rows. The KPI formulas over these counters live in kpi.hpp.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include "callwatch/metrics/event.hpp"
#include "callwatch/metrics/settings.hpp"

namespace callwatch::metrics {

// How two counters of the same field combine (windows summed from minutes, site totals):
// `clock` is a sum of seconds that grows while time passes (agent time), so snapshot diffs
// compare it within their time tolerance instead of exactly.
enum class Merge : std::uint8_t { sum, max, clock };

// Queue counters: INT(name) for counts, REAL(name, merge, initial) for seconds and maxima.
// A new counter is one row here (append it: the engine state of older daemons reads by position)
// plus its definition where it is counted.
#define CALLWATCH_QUEUE_COUNTERS(INT, REAL)                                     \
  INT(answered)                                                                 \
  INT(abandoned)                                                                \
  INT(short_abandoned)     /* also inside abandoned */                          \
  INT(timed_out)                                                                \
  INT(exited_empty)                                                             \
  INT(exited_key)                                                               \
  INT(transferred_out)     /* left by transfer before answer: not offered */    \
  INT(answered_within_sl)                                                       \
  INT(abandoned_within_sl)                                                      \
  INT(answered_with_wait)  /* answered visits whose wait is known (ASA) */      \
  INT(handled)             /* completed calls with a known handle time */       \
  INT(arrivals)            /* call_enqueued events (load for Erlang, surge) */  \
  INT(ring_noanswer)                                                            \
  INT(bounced)             /* calls offered to 3+ agents/queues before answer */ \
  INT(no_wait_outcomes)    /* outcomes counted without a known wait */          \
  REAL(answer_wait_sum, Merge::sum, 0.0)                                        \
  REAL(handle_sum, Merge::sum, 0.0)  /* talk + hold + wrap */                   \
  REAL(talk_sum, Merge::sum, 0.0)                                               \
  REAL(hold_sum, Merge::sum, 0.0)                                               \
  REAL(max_wait, Merge::max, kNoValue)  /* over visits of all five outcomes */              \
  /* Time of the queue's members as the queue sees them (a pause in another queue leaves */ \
  /* an agent available here): busy = on call + wrap-up, idle = available + ringing.     */ \
  REAL(agent_busy_seconds, Merge::clock, 0.0)                                   \
  REAL(agent_idle_seconds, Merge::clock, 0.0)                                   \
  REAL(agent_paused_seconds, Merge::clock, 0.0)

// Agent counters (scalars); time in state and pause time by reason are kept beside them.
#define CALLWATCH_AGENT_COUNTERS(INT, REAL)                                     \
  INT(answered)                                                                 \
  INT(ring_noanswer)                                                            \
  INT(ring_refused)  /* ring time 0: device refused at once, not a no-answer */ \
  REAL(talk_seconds, Merge::sum, 0.0)                                           \
  REAL(hold_seconds, Merge::sum, 0.0)                                           \
  REAL(wrap_seconds, Merge::sum, 0.0)                                           \
  INT(handled)       /* completed calls (call_ended with a known talk time) */

#define CALLWATCH_DECLARE_INT(name) std::int64_t name = 0;
#define CALLWATCH_DECLARE_REAL(name, merge, initial) double name = initial;

struct QueueCounters {
  CALLWATCH_QUEUE_COUNTERS(CALLWATCH_DECLARE_INT, CALLWATCH_DECLARE_REAL)

  std::int64_t offered() const {
    return answered + abandoned + timed_out + exited_empty + exited_key;
  }
  void add(const QueueCounters& o);
  bool operator==(const QueueCounters& o) const;  // NaN equals NaN (no data on both sides)
};

struct AgentCounters {
  CALLWATCH_AGENT_COUNTERS(CALLWATCH_DECLARE_INT, CALLWATCH_DECLARE_REAL)
  std::array<double, kAgentStateCount> state_seconds{};  // time in each state
  std::map<std::string, double, std::less<>> paused_by_reason;

  double paused_seconds() const { return state_seconds[static_cast<int>(AgentState::paused)]; }
  double logged_in_seconds() const;
  void add(const AgentCounters& o);
};

#undef CALLWATCH_DECLARE_INT
#undef CALLWATCH_DECLARE_REAL

// ---- the field tables ---------------------------------------------------------------------------

template <typename S>
struct IntField {
  std::string_view name;
  std::int64_t S::*member;
};
template <typename S>
struct RealField {
  std::string_view name;
  double S::*member;
  Merge merge;
};

#define CALLWATCH_INT_ROW(S, name) IntField<S>{#name, &S::name},
#define CALLWATCH_REAL_ROW(S, name, merge, initial) RealField<S>{#name, &S::name, merge},
#define CALLWATCH_Q_INT(name) CALLWATCH_INT_ROW(QueueCounters, name)
#define CALLWATCH_Q_REAL(name, merge, initial) CALLWATCH_REAL_ROW(QueueCounters, name, merge, initial)
#define CALLWATCH_A_INT(name) CALLWATCH_INT_ROW(AgentCounters, name)
#define CALLWATCH_A_REAL(name, merge, initial) CALLWATCH_REAL_ROW(AgentCounters, name, merge, initial)
#define CALLWATCH_SKIP_INT(name)
#define CALLWATCH_SKIP_REAL(name, merge, initial)

inline constexpr IntField<QueueCounters> kQueueIntFields[] = {
    CALLWATCH_QUEUE_COUNTERS(CALLWATCH_Q_INT, CALLWATCH_SKIP_REAL)};
inline constexpr RealField<QueueCounters> kQueueRealFields[] = {
    CALLWATCH_QUEUE_COUNTERS(CALLWATCH_SKIP_INT, CALLWATCH_Q_REAL)};
inline constexpr IntField<AgentCounters> kAgentIntFields[] = {
    CALLWATCH_AGENT_COUNTERS(CALLWATCH_A_INT, CALLWATCH_SKIP_REAL)};
inline constexpr RealField<AgentCounters> kAgentRealFields[] = {
    CALLWATCH_AGENT_COUNTERS(CALLWATCH_SKIP_INT, CALLWATCH_A_REAL)};

#undef CALLWATCH_INT_ROW
#undef CALLWATCH_REAL_ROW
#undef CALLWATCH_Q_INT
#undef CALLWATCH_Q_REAL
#undef CALLWATCH_A_INT
#undef CALLWATCH_A_REAL
#undef CALLWATCH_SKIP_INT
#undef CALLWATCH_SKIP_REAL

// The tables cover every member: a field added to a struct without its row fails here.
static_assert(sizeof(QueueCounters) ==
              sizeof(std::int64_t) * std::size(kQueueIntFields) +
                  sizeof(double) * std::size(kQueueRealFields));
// Rounded up to the struct's alignment: on a 32-bit target (the browser board's WebAssembly) the
// map is 12 bytes and the struct ends in padding; a missing 8-byte row still shows.
static_assert(sizeof(AgentCounters) ==
              (sizeof(std::int64_t) * std::size(kAgentIntFields) +
               sizeof(double) * std::size(kAgentRealFields) +
               sizeof(std::array<double, kAgentStateCount>) +
               sizeof(std::map<std::string, double, std::less<>>) + alignof(AgentCounters) - 1) /
                  alignof(AgentCounters) * alignof(AgentCounters));

// Calls f(name, value_ref) for every scalar counter of c (ints first, then reals, table order).
template <typename S, typename F>
void for_each_counter(S& c, F&& f) {
  using T = std::remove_const_t<S>;
  if constexpr (std::is_same_v<T, QueueCounters>) {
    for (const auto& fld : kQueueIntFields) f(fld.name, c.*fld.member);
    for (const auto& fld : kQueueRealFields) f(fld.name, c.*fld.member);
  } else {
    for (const auto& fld : kAgentIntFields) f(fld.name, c.*fld.member);
    for (const auto& fld : kAgentRealFields) f(fld.name, c.*fld.member);
  }
}

}  // namespace callwatch::metrics
