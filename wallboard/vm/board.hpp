// View models of the two screens: the kiosk (large screen on the floor) and the supervisor's
// desktop. Built from the merged sites and the wallboard's clock; ui/ draws them as they are.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

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

struct BoardOptions {
  Lang lang = Lang::en;
  int utc_offset_seconds = 0;  // the wallboard's local zone, for the clock and banners
  double page_seconds = 10;    // kiosk page rotation period
  bool acks = false;  // desktop mode: alerts may be acknowledged (a kiosk never: read-only)
  bool leaderboard_page = false;  // kiosk: the leaderboard is the last page of the rotation
  bool leaderboard_only = false;  // kiosk: the leaderboard alone (a screen of its own)
  LeaderboardOptions leaders;
};

// A number as drawn: its text and color.
struct Figure {
  std::string text;
  Color color = palette::text;
};

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
  Figure waiting, longest_wait, sl_interval, sl_today, available;
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
  std::vector<Banner> banners;
};

// Tiles laid out on a screen: as many columns and rows as fit at the minimum readable size
// (scaled with the screen height: 1080 lines = scale 1).
struct Grid {
  int cols = 1;
  int rows = 1;
  int per_page() const { return cols * rows; }
};
Grid kiosk_grid(float width, float height, float scale);
// Page shown at `now`: pages advance every period, so every screen of a room agrees.
int page_at(double now, int items, int per_page, double period_seconds);

KioskVM build_kiosk(const std::vector<SiteFeed>& sites, double now, const BoardOptions& opts,
                    int tiles_per_page);

// ---- desktop

enum class QueueColumn : std::uint8_t {
  site, name, waiting, longest_wait, sl_interval, sl_previous, sl_today, offered, answered,
  abandoned, abandon_rate, asa, aht, required, staffed, bounced, occupancy, estimated_wait, count_
};
enum class AgentColumn : std::uint8_t {
  site, name, state, time_in_state, pause_reason, answered, ring_no_answer, aht, occupancy, count_
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
};

struct DesktopQuery {
  std::string queue_filter;
  std::string agent_filter;
  QueueColumn queue_sort = QueueColumn::name;
  bool queue_ascending = true;
  AgentColumn agent_sort = AgentColumn::name;
  bool agent_ascending = true;
};

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
