// Issue 15's board items in the view models: who is waiting (desktop list, kiosk panel), each
// agent's current call, estimated wait on tiles, the kiosk's layout, tile sparklines, the alarm,
// and the agent timeline. Every expected number is worked out by hand in the comments.
#include <catch2/catch.hpp>

#include <cmath>

#include "vm/board.hpp"
#include "vm/history.hpp"
#include "vm/site_feed.hpp"
#include "vm/style.hpp"

using namespace callwatch;
using namespace callwatch::wallboard::vm;
using metrics::AgentState;
using Catch::Detail::Approx;

namespace {

constexpr double kNow = 1767600000;  // 2026-01-05 08:00:00 UTC

metrics::QueueView queue(std::string name, std::string title, int waiting) {
  metrics::QueueView q;
  q.name = std::move(name);
  q.settings.display_name = std::move(title);
  q.settings.sl_threshold = 20;
  q.calls_waiting = waiting;
  return q;
}

SiteFeed live(metrics::Snapshot s) {
  SiteFeed f;
  f.endpoint = "tcp://a:1";
  f.engine_now = s.now;
  f.state = std::make_shared<const metrics::Snapshot>(std::move(s));
  f.connected = true;
  f.last_message_at = kNow;
  return f;
}

// sales: 25 waiting, 2 listed (50 s and 10 s); support: 1 waiting for 30 s.
metrics::Snapshot two_queues() {
  metrics::Snapshot s;
  s.now = kNow;
  auto sales = queue("sales", "销售 Sales", 25);
  sales.waiting_list = {{1, "+8613800001234", kNow - 50, "Ana"}, {2, "", kNow - 10, ""}};
  sales.waiting_unlisted = 23;
  sales.longest_wait = 50;
  sales.estimated_wait = 45;
  auto support = queue("support", "Support", 1);
  support.waiting_list = {{1, "5551001", kNow - 30, ""}};
  support.longest_wait = 30;
  support.estimated_wait = metrics::kNoValue;
  s.queues = {sales, support};
  return s;
}

}  // namespace

TEST_CASE("caller IDs are shown, masked to their last 4 characters or hidden", "[wallboard][vm][waiting]") {
  CHECK(caller_text("+8613800001234", CallerDisplay::show, Lang::en) == "+8613800001234");
  // 14 characters: 10 stars, then 1234.
  CHECK(caller_text("+8613800001234", CallerDisplay::mask, Lang::en) == "**********1234");
  // 4 characters or fewer keep their second half: "5551" -> "**51", "张三丰" (3) -> "**丰".
  CHECK(caller_text("5551", CallerDisplay::mask, Lang::en) == "**51");
  CHECK(caller_text("张三丰", CallerDisplay::mask, Lang::en) == "**丰");
  CHECK(caller_text("+8613800001234", CallerDisplay::hide, Lang::en) == "–");
  CHECK(caller_text("", CallerDisplay::show, Lang::en) == "withheld");
  CHECK(caller_text("", CallerDisplay::mask, Lang::zh) == "未显示");
}

TEST_CASE("the desktop lists the callers of the queue waiting longest, or of the one clicked",
          "[wallboard][vm][waiting]") {
  const std::vector<SiteFeed> sites{live(two_queues())};
  History h;
  BoardOptions opts;
  DesktopQuery q;
  auto d = build_desktop(sites, kNow, opts, h, q);
  // No click yet: sales (longest 50 s) beats support (30 s).
  CHECK(d.waiting.title == "Waiting in 销售 Sales");
  REQUIRE(d.waiting.rows.size() == 2);
  CHECK(d.waiting.rows[0].position == "1");
  CHECK(d.waiting.rows[0].caller == "+8613800001234");
  CHECK(d.waiting.rows[0].wait_fig.text == "0:50");
  CHECK(d.waiting.rows[0].wait_fig.color == palette::red);  // 50 >= T = 20
  CHECK(d.waiting.rows[0].ringing == "ringing Ana");
  CHECK(d.waiting.rows[1].caller == "withheld");
  CHECK(d.waiting.rows[1].wait_fig.text == "0:10");
  CHECK(d.waiting.rows[1].wait_fig.color == palette::text);  // 10 < 15 = 3/4 of T
  CHECK(d.waiting.more_text == "+23 more waiting, not listed");  // 25 - 2
  CHECK(d.waiting.estimated_wait_text == "Estimated wait for a new caller: 0:45");
  int selected = 0;
  for (const auto& r : d.queues) selected += r.selected;
  CHECK(selected == 1);

  for (const auto& r : d.queues) {
    if (r.title == "Support") q.selected_queue = r.key;  // clicked
  }
  d = build_desktop(sites, kNow, opts, h, q);
  CHECK(d.waiting.title == "Waiting in Support");
  REQUIRE(d.waiting.rows.size() == 1);
  CHECK(d.waiting.rows[0].wait_fig.text == "0:30");
  CHECK(d.waiting.rows[0].wait_fig.color == palette::red);  // 30 >= 20
  CHECK(d.waiting.more_text.empty());
  CHECK(d.waiting.estimated_wait_text == "Estimated wait for a new caller: –");  // no staff/AHT
}

TEST_CASE("an agent on a call shows its caller, the queue's name and the talk time",
          "[wallboard][vm][waiting]") {
  auto s = two_queues();
  metrics::AgentView ana;
  ana.name = "Ana";
  ana.state = AgentState::on_call;
  ana.state_since = kNow - 125;  // answered 2:05 ago
  ana.call_caller = "+8613800001234";
  ana.call_known = true;
  ana.call_queue = "sales";
  metrics::AgentView bo;
  bo.name = "Bo";
  bo.state = AgentState::on_call;
  bo.state_since = kNow - 20;
  bo.call_queue = "support";  // caller ID withheld
  bo.call_known = true;
  metrics::AgentView cy;
  cy.name = "Cy";
  cy.state = AgentState::available;
  metrics::AgentView di;  // from a daemon before 1.5: it does not say whom
  di.name = "Di";
  di.state = AgentState::on_call;
  di.state_since = kNow - 5;
  s.agents = {ana, bo, cy, di};
  const std::vector<SiteFeed> sites{live(s)};
  History h;
  BoardOptions opts;
  DesktopQuery q;
  q.agent_sort = AgentColumn::current_call;
  q.agent_ascending = false;  // longest call first
  auto d = build_desktop(sites, kNow, opts, h, q);
  REQUIRE(d.agents.size() == 4);
  CHECK(d.agents[0].name == "Ana");  // 125 s > 20 s > 5 s; Cy (no call) last
  CHECK(d.agents[0].call_text == "2:05  +8613800001234 · 销售 Sales");
  CHECK(d.agents[1].call_text == "0:20  withheld · Support");
  CHECK(d.agents[2].name == "Di");
  CHECK(d.agents[2].call_text == "0:05");  // talk time only, never "withheld"
  CHECK(d.agents[3].name == "Cy");
  CHECK(d.agents[3].call_text.empty());
  opts.callers = CallerDisplay::mask;
  d = build_desktop(sites, kNow, opts, h, q);
  CHECK(d.agents[0].call_text == "2:05  **********1234 · 销售 Sales");
}

TEST_CASE("the kiosk panel lists the longest waiters of all queues, masked, with estimated wait on tiles",
          "[wallboard][vm][waiting]") {
  const std::vector<SiteFeed> sites{live(two_queues())};
  BoardOptions opts;
  opts.callers = CallerDisplay::mask;
  opts.kiosk_waiters = 2;
  const auto k = build_kiosk(sites, kNow, opts, 12);
  // Waits: sales #1 50 s, support #1 30 s, sales #2 10 s; two rows fit.
  REQUIRE(k.waiters.rows.size() == 2);
  CHECK(k.waiters.rows[0].queue == "销售 Sales");
  CHECK(k.waiters.rows[0].caller == "**********1234");
  CHECK(k.waiters.rows[1].queue == "Support");
  CHECK(k.waiters.rows[1].position == "1");  // its position in its own queue
  CHECK(k.waiters.rows[1].caller == "***1001");
  CHECK(k.waiters.more_text == "+24 more waiting, not listed");  // 25 + 1 - 2
  // Estimated wait 45 s against T = 20: red; none (no staff or AHT): a grey dash.
  REQUIRE(k.tiles.size() == 2);
  CHECK(k.tiles[0].estimated_wait.text == "0:45");
  CHECK(k.tiles[0].estimated_wait.color == palette::red);
  CHECK(k.tiles[1].estimated_wait.text == "–");
  CHECK(k.tiles[1].estimated_wait.color == palette::muted);
  CHECK_FALSE(k.waiters.rows[0].greyed);
  // The site's link down: the last known callers stay, grey.
  auto down = live(two_queues());
  down.connected = false;
  const auto kd = build_kiosk({down}, kNow, opts, 12);
  REQUIRE_FALSE(kd.waiters.rows.empty());
  CHECK(kd.waiters.rows[0].greyed);
  // 16 s is past 3/4 of 20 (15): amber.
  auto s = two_queues();
  s.queues[0].estimated_wait = 16;
  const auto k2 = build_kiosk({live(s)}, kNow, opts, 12);
  CHECK(k2.tiles[0].estimated_wait.color == palette::amber);
}

TEST_CASE("kiosk tiles fill the space between header and alert strip at 1080p and 4K",
          "[wallboard][vm][layout]") {
  // 1080p, 6 tiles, panel on: panel floor(0.22 * 1920) = 422 px at x = 1920 - 422 - 16 = 1482;
  // tiles in 1482 px x 860 px (140..1000). 3 columns x 2 rows: (1482 - 4*16)/3 = 472.67 wide,
  // (860 - 16)/2 = 422 high; content scale min(472.67/440, 422/320) = 1.074. 2 columns give
  // min(717/440, 276/320) = 0.8625 and 4 give min(350.5/440, 422/320) = 0.797: 3 wins.
  const auto l = kiosk_layout(1920, 140, 1000, 1.0f, 6, true);
  CHECK(l.cols == 3);
  CHECK(l.rows == 2);
  REQUIRE(l.tiles.size() == 6);
  CHECK(l.tiles[0].x == Approx(16));
  CHECK(l.tiles[0].y == Approx(140));
  CHECK(l.tiles[0].w == Approx(472.667).epsilon(1e-4));
  CHECK(l.tiles[0].h == Approx(422));
  CHECK(l.tiles[4].x == Approx(16 + 472.667 + 16).epsilon(1e-4));
  CHECK(l.tiles[4].y == Approx(140 + 422 + 16));
  CHECK(l.content_scale == Approx(1.0742).epsilon(1e-3));
  CHECK(l.waiters.x == Approx(1482));
  CHECK(l.waiters.w == Approx(422));
  CHECK(l.waiters.h == Approx(860));
  // The last tile ends a gap before the panel: 16 + 3 * 472.67 + 2 * 16 = 1466 = 1482 - 16.
  CHECK(l.tiles[5].x + l.tiles[5].w == Approx(1466).epsilon(1e-4));

  // 4K at scale 2: every length doubles (panel floor(844.8) = 844), the same grid and scale.
  const auto l4 = kiosk_layout(3840, 280, 2000, 2.0f, 6, true);
  CHECK(l4.cols == 3);
  CHECK(l4.rows == 2);
  CHECK(l4.tiles[0].w == Approx((3840 - 844 - 32 - 4 * 32) / 3.0));  // 945.33
  CHECK(l4.tiles[0].h == Approx(844));
  CHECK(l4.content_scale == Approx(l.content_scale).epsilon(1e-3));

  // Without the panel: 3 columns of (1920 - 64)/3 = 618.67 px, scale min(1.406, 1.319) = 1.319.
  const auto lp = kiosk_layout(1920, 140, 1000, 1.0f, 6, false);
  CHECK(lp.cols == 3);
  CHECK(lp.content_scale == Approx(422.0 / 320.0).epsilon(1e-4));
  CHECK(lp.waiters.w == 0);
  // 12 tiles (two sites of six) with the panel: 4 x 3 of (1482 - 80)/4 = 350.5 by
  // (860 - 32)/3 = 276, scale min(350.5/440, 276/320) = 0.797; 3 x 4 gives min(1.074, 0.634).
  const auto l12 = kiosk_layout(1920, 140, 1000, 1.0f, 12, true);
  CHECK(l12.cols == 4);
  CHECK(l12.rows == 3);
  CHECK(l12.content_scale == Approx(350.5 / 440.0).epsilon(1e-4));
  // Two tiles: side by side, 936 x 860; min(2.127, 2.69) = 2.127, capped at 2.
  const auto l2 = kiosk_layout(1920, 140, 1000, 1.0f, 2, false);
  CHECK(l2.cols == 2);
  CHECK(l2.rows == 1);
  CHECK(l2.tiles[0].w == Approx(936));
  CHECK(l2.content_scale == Approx(2.0));
}

TEST_CASE("a tile's sparkline scales calls per minute to the hour's busiest minute",
          "[wallboard][vm][trend]") {
  metrics::QueueView q = queue("sales", "Sales", 0);
  q.trend_arrivals.assign(60, 0);
  q.trend_sl.assign(60, metrics::kNoValue);
  q.trend_arrivals[57] = 3;
  q.trend_arrivals[58] = 7;
  q.trend_arrivals[59] = 2;
  q.trend_sl[58] = 0.8;
  const auto t = build_trend(q, Lang::en);
  CHECK(t.peak == 7);
  REQUIRE(t.bars.size() == 60);
  CHECK(t.bars[58] == Approx(1.0));
  CHECK(t.bars[57] == Approx(3.0 / 7.0));  // 0.4286
  CHECK(t.bars[0] == 0);
  CHECK(std::isnan(t.sl[57]));  // no outcome that minute: no dot, never 0 %
  CHECK(t.sl[58] == Approx(0.8));
  CHECK(t.label == "calls / min, last hour · max 7");
  CHECK(build_trend(q, Lang::zh).label == "近一小时每分钟来电 · 峰值 7");
  // An older daemon sends no trend: nothing to draw.
  CHECK(build_trend(queue("x", "x", 0), Lang::en).bars.empty());
}

TEST_CASE("the alarm is on only when asked and a critical alert fires unacknowledged",
          "[wallboard][vm][alarm]") {
  auto s = two_queues();
  metrics::AlertView a;
  a.id = "wait/sales";
  a.rule = "wait";
  a.queue = "sales";
  a.severity = metrics::AlertSeverity::critical;
  a.state = metrics::AlertState::firing;
  a.message = "Sales: a caller has waited 1:40";
  a.since = kNow - 30;
  s.alerts = {a};
  BoardOptions opts;
  CHECK_FALSE(build_kiosk({live(s)}, kNow, opts, 12).alarm);  // off by default
  opts.alarm = true;
  const auto k = build_kiosk({live(s)}, kNow, opts, 12);
  CHECK(k.alarm);
  CHECK(k.alarm_text == "CRITICAL: Sales: a caller has waited 1:40");
  CHECK_FALSE(k.alarm_key.empty());
  s.alerts[0].acked = true;
  CHECK_FALSE(build_kiosk({live(s)}, kNow, opts, 12).alarm);
  s.alerts[0].acked = false;
  s.alerts[0].severity = metrics::AlertSeverity::warning;
  CHECK_FALSE(build_kiosk({live(s)}, kNow, opts, 12).alarm);
}

TEST_CASE("the agent timeline places each state of the day on a bar with hour marks",
          "[wallboard][vm][timeline]") {
  const double day = 1767571200;  // 2026-01-05 00:00 UTC
  const double now = day + 8 * 3600;
  // Logged out to 01:00, available to 02:00, on a call to 02:30, paused from 02:30 (the reply
  // said to 07:59; it runs on to now).
  const std::vector<metrics::AgentSpan> spans{
      {day, day + 3600, AgentState::logged_out, ""},
      {day + 3600, day + 7200, AgentState::available, ""},
      {day + 7200, day + 9000, AgentState::on_call, ""},
      {day + 9000, now - 60, AgentState::paused, "lunch"}};
  BoardOptions opts;
  const auto t = build_timeline("Ana", spans, day, now, opts, 3);
  CHECK(t.title == "Ana today");
  REQUIRE(t.segments.size() == 3);  // logged out leaves no segment
  // The bar starts at 01:00, the hour of the first state other than logged out, and ends at
  // 08:00: 7 h. Available 01:00-02:00 = 0..1/7, on a call to 02:30 = 1.5/7, paused to the end.
  CHECK(t.segments[0].from == Approx(0.0));
  CHECK(t.segments[0].to == Approx(1.0 / 7.0));  // 0.142857
  CHECK(t.segments[0].color == agent_state_color(AgentState::available));
  CHECK(t.segments[1].to == Approx(1.5 / 7.0));  // 0.214286
  CHECK(t.segments[2].state == AgentState::paused);
  CHECK(t.segments[2].to == Approx(1.0));
  // 7 hours: marks every 5/10/15/30 min would be 84/42/28/14 (> 8), every hour 7: 01:00 to 08:00.
  REQUIRE(t.ticks.size() == 8);
  CHECK(t.ticks[0] == "01:00");
  CHECK(t.ticks[7] == "08:00");
  CHECK(t.tick_at[1] == Approx(1.0 / 7.0));
  CHECK(t.cut_text == "3 earlier changes not kept");
  REQUIRE(t.legend.size() == 3);  // available, on call, paused: in the order they appear
  CHECK(t.legend[0].first == "Available");
  CHECK(t.legend[2].first == "Paused");
  // At UTC+8 the same instants read 09:00..16:00.
  opts.utc_offset_seconds = 8 * 3600;
  const auto t8 = build_timeline("Ana", spans, day, now, opts);
  CHECK(t8.ticks[0] == "09:00");
  // 01:00 to 20:00 is 19 h: hourly gives 19 marks, 2-hourly 9.5 (> 8), 3-hourly 6.3: marks at
  // 03:00, 06:00, ..., 18:00 (6 of them).
  const auto t20 = build_timeline("Ana", spans, day, day + 20 * 3600, BoardOptions{});
  REQUIRE(t20.ticks.size() == 6);
  CHECK(t20.ticks[0] == "03:00");
  CHECK(t20.ticks[1] == "06:00");

  // Logged in at 06:36 and now 06:43, under an hour of states: the bar runs from 06:30 (the 10
  // minutes before), 13 min long, a mark every 5 min (2.6 <= 8): 06:30, 06:35, 06:40.
  const std::vector<metrics::AgentSpan> late{
      {day, day + 6 * 3600 + 36 * 60, AgentState::logged_out, ""},
      {day + 6 * 3600 + 36 * 60, day + 6 * 3600 + 43 * 60, AgentState::available, ""}};
  const auto tl = build_timeline("Li", late, day, day + 6 * 3600 + 43 * 60, BoardOptions{});
  REQUIRE(tl.segments.size() == 1);
  CHECK(tl.segments[0].from == Approx(6.0 / 13.0));  // 0.4615
  CHECK(tl.segments[0].to == Approx(1.0));
  REQUIRE(tl.ticks.size() == 3);
  CHECK(tl.ticks[0] == "06:30");
  CHECK(tl.ticks[2] == "06:40");
  CHECK(tl.tick_at[1] == Approx(5.0 / 13.0));
}

TEST_CASE("the desktop timeline says loading, unavailable, or draws the site's reply",
          "[wallboard][vm][timeline]") {
  auto s = two_queues();
  s.day_start = 1767571200;
  auto f = live(s);
  History h;
  DesktopQuery q;
  auto d = build_desktop({f}, kNow, BoardOptions{}, h, q);
  CHECK(d.timeline.status == "select an agent to see its day");
  q.selected_agent = "Ana";
  f.agent_history.agent = "Ana";
  f.agent_history.kind = AgentHistory::Kind::loading;
  d = build_desktop({f}, kNow, BoardOptions{}, h, q);
  CHECK(d.timeline.status == "loading…");
  f.agent_history.kind = AgentHistory::Kind::unavailable;
  f.agent_history.reason = "unknown request";  // a daemon older than 1.5
  d = build_desktop({f}, kNow, BoardOptions{}, h, q);
  CHECK(d.timeline.status == "no agent history: unknown request");
  f.agent_history.kind = AgentHistory::Kind::ready;
  f.agent_history.since = s.day_start;
  f.agent_history.spans = {{s.day_start + 3600, kNow, AgentState::available, ""}};
  d = build_desktop({f}, kNow, BoardOptions{}, h, q);
  CHECK(d.timeline.status.empty());
  REQUIRE(d.timeline.segments.size() == 1);
  // Available from 01:00 to kNow (08:00): the bar starts at 01:00 and the segment fills it.
  CHECK(d.timeline.segments[0].from == Approx(0.0));
  CHECK(d.timeline.segments[0].to == Approx(1.0));
  CHECK(d.timeline.ticks.front() == "01:00");
}

TEST_CASE("a daemon before 1.5 sends no waiting list: the boards say so instead of 'none waiting'",
          "[wallboard][vm][waiting]") {
  metrics::Snapshot s;
  s.now = kNow;
  auto q = queue("sales", "Sales", 3);  // 3 waiting, no list, nothing counted as unlisted
  q.longest_wait = 40;
  s.queues = {q};
  const std::vector<SiteFeed> sites{live(s)};
  History h;
  const auto d = build_desktop(sites, kNow, BoardOptions{}, h, DesktopQuery{});
  CHECK(d.waiting.rows.empty());
  CHECK(d.waiting.empty_text == "this daemon does not list callers (older than protocol 1.5)");
  CHECK(d.waiting.more_text.empty());  // not "+3 more waiting, not listed"
  const auto k = build_kiosk(sites, kNow, BoardOptions{}, 12);
  CHECK(k.waiters.rows.empty());
  CHECK(k.waiters.empty_text == "this daemon does not list callers (older than protocol 1.5)");
  CHECK(k.waiters.more_text.empty());
}
