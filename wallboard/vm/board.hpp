// View models of the two screens: the kiosk (large screen on the floor) and the supervisor's
// desktop. Built from the merged sites and the wallboard's clock; ui/ draws them as they are.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "vm/broadcast.hpp"
#include "vm/history.hpp"
#include "vm/site_feed.hpp"
#include "vm/strings.hpp"
#include "vm/style.hpp"

namespace callwatch::wallboard::vm {

// The leaderboard (kiosk page and desktop tab): agents ranked by handled calls over a stated
// window; agents logged in for less than the window's minimum are left out, and counted, so a
// late starter is not shown at the bottom for having had no time.
enum class LeaderWindow : std::uint8_t { today, interval };
struct LeaderboardOptions {
  LeaderWindow window = LeaderWindow::today;
  double min_logged_in_today = 1800;     // seconds
  double min_logged_in_interval = 300;   // seconds
  int max_rows = 10;
};

// A number as drawn: its text and color.
struct Figure {
  std::string text;
  Color color = palette::text;
};

// Caller IDs are personal data: a kiosk on the floor masks them by default (--caller-id).
enum class CallerDisplay : std::uint8_t {
  show,  // as the feed gave them
  mask,  // the last 4 characters only: "*******1234"
  hide,  // no caller ID at all
};

struct BoardOptions {
  Lang lang = Lang::en;
  int utc_offset_seconds = 0;  // the wallboard's local zone, for the clock and banners
  double page_seconds = 10;    // kiosk page rotation period
  bool acks = false;  // desktop mode: alerts may be acknowledged (a kiosk never: read-only)
  bool leaderboard_page = false;  // kiosk: the leaderboard is the last page of the rotation
  bool leaderboard_only = false;  // kiosk: the leaderboard alone (a screen of its own)
  LeaderboardOptions leaders;
  CallerDisplay callers = CallerDisplay::show;
  // Kiosk: a critical alert that fires and is not acknowledged makes the screen say so (a red
  // frame and a banner) and, when `alarm_sound`, the app rings the terminal bell. Off by default.
  bool alarm = false;
  bool alarm_sound = false;
  int kiosk_waiters = 8;  // rows of the kiosk's longest-waiting panel (0: no panel)
};

// A caller ID as this board shows it; "" (withheld by the caller) reads "withheld".
std::string caller_text(std::string_view caller, CallerDisplay how, Lang lang);

// One waiting caller as listed (desktop list of a queue, kiosk's longest waiters).
struct WaiterVM {
  std::string position;  // "1"
  std::string queue;     // the queue's title (kiosk: the list spans queues)
  std::string caller;    // as shown: masked, hidden ("–") or "withheld"
  double wait = 0;       // seconds, on the board's engine clock
  Figure wait_fig;       // colored against the queue's SL threshold (wait_color)
  std::string ringing;   // "ringing Ana"; empty when nobody is rung or the feed does not say
  bool greyed = false;   // its site is disconnected: last known, drawn grey
};

WaiterVM make_waiter(const metrics::QueueView& q, const metrics::WaitingCaller& c,
                     double engine_now, bool grey, const BoardOptions& opts);

struct WaitingListVM {
  std::string title;
  std::vector<WaiterVM> rows;
  std::string more_text;   // "+5 more waiting, not listed"; empty when all are listed
  std::string empty_text;  // shown when rows is empty
  std::string estimated_wait_text;  // desktop: a new caller's expected wait in this queue
  std::string queue_key;   // desktop: the queue listed
};

// The kiosk's areas, decided here so that ui/ only draws: tiles fill the space between the header
// and the alert strip, as large as the page's tile count lets them, and their contents scale with
// them (content_scale: 1 = the 440x320 px tile of a 1080-line screen).
struct Rect {
  float x = 0, y = 0, w = 0, h = 0;
};
struct KioskLayout {
  int cols = 1, rows = 1;
  std::vector<Rect> tiles;
  Rect waiters;  // the longest-waiting panel; w == 0: none
  float content_scale = 1;
};
KioskLayout kiosk_layout(float width, float top, float bottom, float scale, int tiles,
                         bool waiters_panel);

// Sparkline of a tile: the last hour per minute, bars for calls per minute (scaled to the hour's
// busiest minute) and points for SL (0-100 %), oldest first.
struct TrendVM {
  std::vector<float> bars;  // 0..1 of the bar height
  std::vector<float> sl;    // 0..1, NaN where the minute had no outcome
  int peak = 0;             // calls in the busiest minute (the bars' full height)
  std::string label;        // "calls / min, last hour · peak 7"
};
TrendVM build_trend(const metrics::QueueView& q, Lang lang);

// Desktop: one agent's day as a bar from the day's start to now.
struct TimelineSegment {
  float from = 0, to = 0;  // 0..1 of the bar
  Color color;
  metrics::AgentState state = metrics::AgentState::logged_out;
};
struct TimelineVM {
  std::string title;   // "Ana today"
  std::string status;  // hint, loading, unavailable; empty when drawn
  std::vector<TimelineSegment> segments;
  std::vector<std::string> ticks;  // hour labels under the bar, evenly spaced
  std::vector<float> tick_at;      // 0..1
  std::string cut_text;
  std::vector<std::pair<std::string, Color>> legend;  // the states on the bar, first seen first
};
// `spans` as the daemon sent them (AgentSpan.to of the last: the reply time, extended to now).
TimelineVM build_timeline(std::string_view agent, const std::vector<metrics::AgentSpan>& spans,
                          double day_start, double now, const BoardOptions& opts,
                          std::uint64_t cut = 0);

struct Banner {
  enum class Kind : std::uint8_t { waiting, stale, disconnected, incompatible };
  Kind kind = Kind::stale;
  std::string text;
  Color color = palette::banner_red;
};

struct HeaderVM {
  Figure calls_waiting, longest_wait, sl_today, available, on_call, paused;
  std::string clock;  // HH:MM:SS, local
};

struct AlertVM {
  std::string id;
  std::string text;   // "queue: message"
  std::string since;  // HH:MM:SS
  Color color = palette::amber;
  bool acked = false;
  std::string acked_by;      // who acked (every board shows it)
  std::string acked_text;    // "acked by NAME"; empty while not acked
  bool flashing = false;     // firing and not acked yet
  bool ack_enabled = false;  // desktop, firing, not acked, site live: the button works
  std::size_t site = 0;      // index of the site (daemon) that owns the alert: acks go there
  std::string ack_status;    // this board's ack: sending / accepted / refused with the reason
  Color ack_status_color = palette::muted;
};

struct TileVM {
  std::string key;
  std::string title;
  std::string site;  // empty with a single site
  Figure waiting, longest_wait, sl_interval, sl_today, available, estimated_wait;
  TrendVM trend;
  std::string target;  // "target 80% / 20 s"
  bool greyed = false;
  bool data_gap = false;
};

struct LeaderRow {
  int rank = 0;  // equal handled calls and AHT share a rank (1, 2, 2, 4)
  std::string site, name;
  std::int64_t handled = 0, answered = 0;
  std::optional<double> aht, occupancy;
  double logged_in = 0;  // seconds in the window
  std::string handled_text, aht_text, occupancy_text;
  bool greyed = false;
};

struct LeaderboardVM {
  std::string title;        // "Leaderboard"
  std::string window_text;  // "today since 08:00"
  std::string rule_text;    // how it is ranked and who is left out
  std::string left_out_text;  // "3 agents logged in for less are not ranked"; empty when none
  int left_out = 0;
  std::vector<LeaderRow> rows;  // best first, at most max_rows
};

LeaderboardVM build_leaderboard(const std::vector<SiteFeed>& sites, double now,
                                const BoardOptions& opts);

struct KioskVM {
  HeaderVM header;
  std::optional<LeaderboardVM> leaderboard;  // set on the leaderboard page (tiles empty)
  std::vector<TileVM> tiles;  // the current page only
  int page = 0;
  int page_count = 1;
  int total_tiles = 0;
  std::string page_text;  // "Page 2 / 3"; empty with one page
  std::vector<AlertVM> alerts;
  std::vector<TickerItem> ticker;  // supervisors' broadcasts on screen now (a row each), above the alerts
  std::vector<Banner> banners;
  WaitingListVM waiters;  // the longest waiting callers of every queue
  // The alarm (opts.alarm): a critical alert firing and not acknowledged. alarm_key changes
  // when another alert starts one, so the app rings once per new alarm.
  bool alarm = false;
  std::string alarm_text;
  std::string alarm_key;
};

// Tiles laid out on a screen: as many columns and rows as fit at the minimum readable size
// (scaled with the screen height: 1080 lines = scale 1).
struct Grid {
  int cols = 1;
  int rows = 1;
  int per_page() const { return cols * rows; }
};
Grid kiosk_grid(float width, float height, float scale, bool waiters_panel = false);
// Page shown at `now`: pages advance every period, so every screen of a room agrees.
int page_at(double now, int items, int per_page, double period_seconds);

// The kiosk's panel: the opts.kiosk_waiters longest waiting callers of all queues and sites.
WaitingListVM build_longest_waiters(const std::vector<SiteFeed>& sites, double now,
                                   const BoardOptions& opts);
KioskVM build_kiosk(const std::vector<SiteFeed>& sites, double now, const BoardOptions& opts,
                    int tiles_per_page);

// ---- desktop

enum class QueueColumn : std::uint8_t {
  site, name, waiting, longest_wait, sl_interval, sl_previous, sl_today, offered, answered,
  abandoned, abandon_rate, asa, aht, required, staffed, bounced, occupancy, estimated_wait, count_
};
enum class AgentColumn : std::uint8_t {
  site, name, state, time_in_state, pause_reason, answered, ring_no_answer, aht, occupancy,
  current_call, count_
};

struct QueueRow {
  std::string key, site, name, title;
  // Raw values: sorting works on these, never on text.
  int waiting = 0;
  double longest_wait = metrics::kNoValue;
  std::optional<double> sl_interval, sl_previous, sl_today, abandon_rate, asa, aht;
  std::int64_t offered = 0, answered = 0, abandoned = 0, bounced = 0;
  std::optional<int> required;
  std::optional<int> staffing_gap;  // the engine's: required - staffed, floored at 0
  int staffed = 0;  // logged in and not paused (the engine's figure)
  int available = 0;
  std::optional<double> occupancy;       // today, of the queue's members
  std::optional<double> estimated_wait;  // a caller joining now
  // As drawn.
  Figure f_waiting, f_longest_wait, f_sl_interval, f_sl_previous, f_sl_today;
  std::string offered_text, answered_text, abandoned_text, abandon_rate_text, asa_text, aht_text,
      required_text, staffed_text, bounced_text, occupancy_text, estimated_wait_text;
  Color required_color = palette::text;  // red while the staffing gap is above 0
  bool selected = false;  // its callers are listed
  const std::deque<History::Sample>* history = nullptr;
  bool greyed = false;
  bool data_gap = false;
};

struct AgentRow {
  std::string site, name;
  metrics::AgentState state = metrics::AgentState::logged_out;
  std::string state_text;
  Color state_color = palette::grey;
  double time_in_state = 0;
  std::string time_text;
  std::string pause_reason;
  std::int64_t answered = 0, ring_noanswer = 0;
  std::optional<double> aht, occupancy;  // today
  std::string aht_text, occupancy_text;
  std::string call_text;  // on a call: "2:05  5551001 · Sales" (talk, caller as shown, queue)
  double talk = 0;        // on a call: seconds
  bool selected = false;  // its timeline is shown
  std::size_t site_index = 0;
  bool greyed = false;
};

struct DesktopVM {
  HeaderVM header;
  std::vector<QueueRow> queues;
  std::vector<AgentRow> agents;
  std::vector<AlertVM> alerts;
  std::vector<Banner> banners;
  bool multi_site = false;
  std::string interval_text;  // "Current interval 10:15–10:30"
  LeaderboardVM leaders_today, leaders_interval;  // the Leaderboard tab, both windows
  std::vector<TickerItem> broadcasts;  // live ones, each with a withdraw button
  bool can_broadcast = false;          // the editor is shown (desktop with acks: never a kiosk)
  std::string broadcast_status;        // this board's last broadcast: sending / taken / refused
  Color broadcast_status_color = palette::muted;
  WaitingListVM waiting;  // callers of the selected queue (else the one waiting longest)
  TimelineVM timeline;    // the selected agent's day (else a hint)
};

struct DesktopQuery {
  std::string queue_filter;
  std::string agent_filter;
  QueueColumn queue_sort = QueueColumn::name;
  bool queue_ascending = true;
  AgentColumn agent_sort = AgentColumn::name;
  bool agent_ascending = true;
  std::string selected_queue;  // QueueRow::key whose callers are listed
  std::string selected_agent;  // agent name whose timeline is shown
  std::size_t selected_site = 0;  // the site (daemon) of that agent
};

// The desktop's list of the selected queue's callers (marks that row selected).
WaitingListVM build_queue_waiting(const std::vector<SiteFeed>& sites, double now,
                                  const BoardOptions& opts, const DesktopQuery& query,
                                  std::vector<QueueRow>& rows);
DesktopVM build_desktop(const std::vector<SiteFeed>& sites, double now, const BoardOptions& opts,
                        const History& history, const DesktopQuery& query);

// Sorting keeps rows without a value last in either direction (a "–" is not a top performer)
// and breaks ties by site then name, so rows never jump between frames.
void sort_queue_rows(std::vector<QueueRow>& rows, QueueColumn col, bool ascending);
void sort_agent_rows(std::vector<AgentRow>& rows, AgentColumn col, bool ascending);
// Case-insensitive (ASCII) substring match; an empty filter matches everything.
bool matches_filter(std::string_view text, std::string_view filter);

// Banners of every site that is not live, most severe first.
std::vector<Banner> build_banners(const std::vector<SiteFeed>& sites, double now,
                                  const BoardOptions& opts);
std::string agent_state_text(Lang lang, metrics::AgentState s);
// An alert in words of `lang` from what it measures: "Sales: calls arriving at 2.22× the expected
// rate (alert above 2.50×); 3 more agents needed". nullopt for an alert from a daemon older than
// protocol 1.3 (no metric): the board shows its message then.
std::optional<std::string> alert_text(Lang lang, const metrics::AlertView& a);
// Color of a live longest wait against the queue's SL threshold T: at or past T the call has
// already missed the target (red); from 3/4 of T it is about to (amber).
Color wait_color(double longest_wait, double sl_threshold);

}  // namespace callwatch::wallboard::vm
