// The wallboard's UI strings in English and Chinese (--lang en|zh). Every string the screen can
// show lives here, so the font atlas can be built from exactly these glyphs plus the data's.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace callwatch::wallboard::vm {

enum class Lang : std::uint8_t { en, zh };
std::optional<Lang> parse_lang(std::string_view s);

enum class Str : std::uint8_t {
  app_title,
  calls_waiting,
  longest_wait,
  sl_today,
  sl_interval,
  sl_short,
  sl_previous,
  sl_today_short,
  agents_available,
  available,
  on_call,
  paused,
  ringing,
  wrap_up,
  logged_out,
  page,
  alerts,
  no_alerts,
  ack,
  queues,
  agents,
  filter,
  queue,
  site,
  waiting,
  offered,
  answered,
  abandoned,
  abandon_rate,
  asa,
  aht,
  required,
  staffed,
  bounced,
  occupancy,
  estimated_wait,
  current_interval,
  previous_interval,
  state,
  time_in_state,
  pause_reason,
  ring_no_answer,
  last_hour,
  target,
  stale_since,         // "data stale since {time} ({age})"
  disconnected_from,   // "disconnected from {site}"
  waiting_for,         // "waiting for data from {site}"
  newer_protocol,      // "{site} speaks protocol {v}; this wallboard understands {ours}: update it"
  seconds_suffix,      // "s" / "秒"
  data_gap,
  sparkline_hint,
  acked_by,            // "acked by {who}"
  ack_sending,         // the ack is on its way
  ack_accepted,
  ack_refused,         // "refused: {reason}"
  ack_comment_hint,    // placeholder of the optional comment
  leaderboard,         // page / tab title
  rank,
  agent,
  handled,
  window_today,        // "today since {time}"
  window_interval,     // "this interval since {time}"
  leaderboard_rule,    // "ranked by handled calls, then AHT; agents logged in for {} or more"
  leaderboard_left_out,  // "not ranked, logged in for less: {}"
  leaderboard_empty,   // nobody ranked yet
  minutes_suffix,      // "min" / "分钟"
  alert_compose,       // "{subject}: {reading} ({limit})"
  alert_above,         // "alert above {}"
  alert_below,         // "alert below {}"
  alert_longest_wait,  // "a caller has waited {}"
  alert_calls_waiting,
  alert_service_level,
  alert_abandon_rate,
  alert_agents_available,
  alert_surge,
  alert_bounced,
  alert_feed_stale,    // "feed {}: no event for {} ({limit})"
  alert_feed_never,    // "feed {}: no event yet"
  alert_agents_needed, // "; {} more agents needed"
  alert_no_data,
  broadcast,           // "Broadcast": the ticker's label and the desktop editor's title
  broadcast_item,      // "{from}: {text} (until {HH:MM}, {left} left)"
  broadcast_hint,      // placeholder of the message box
  broadcast_for,       // "for"
  broadcast_send,
  broadcast_withdraw,
  broadcast_none,      // no broadcast live
  broadcast_sent,      // the daemon took it
  broadcast_sending,
  waiting_in,          // "Waiting in {queue}"
  longest_waiting,     // kiosk panel title
  no_caller_waiting,
  more_waiting,        // "+{} more waiting, not listed"
  caller,
  caller_withheld,
  ringing_agent,       // "ringing {agent}"
  current_call,
  wait_col,            // "Wait"
  est_wait_new,        // "Estimated wait for a new caller: {}"
  click_queue_hint,    // how to pick the queue whose callers are listed
  calls_per_minute,    // sparkline legend on kiosk tiles
  trend_peak,          // "max {}": the busiest minute's calls
  critical_alarm,      // kiosk alarm banner: "CRITICAL: {}"
  timeline_of,         // "{agent} today"
  timeline_hint,       // "Select an agent to see its day"
  timeline_loading,
  timeline_unavailable,  // "no agent history from this daemon ({})"
  timeline_cut,        // "{} earlier changes not kept"
  callers_not_sent,    // a daemon before protocol 1.5: no waiting list
  count_,  // number of strings (keep last)
};

std::string_view text(Lang lang, Str s);

}  // namespace callwatch::wallboard::vm
