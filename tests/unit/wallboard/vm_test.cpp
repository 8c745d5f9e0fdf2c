// Wallboard view models without any UI library: traffic lights at and around each threshold,
// number formats, stale and disconnected detection on an injected clock, page rotation, sorting,
// merging two sites, and CJK text.
#include <catch2/catch.hpp>

#include <cmath>

#include "../metrics/test_events.hpp"
#include "callwatch/metrics/clock.hpp"
#include "callwatch/metrics/engine.hpp"
#include "vm/board.hpp"
#include "vm/glyphs.hpp"
#include "vm/history.hpp"
#include "vm/site_feed.hpp"
#include "vm/style.hpp"

using namespace callwatch;
using namespace callwatch::wallboard::vm;
using metrics::AgentState;
using metrics::WindowKind;
using Catch::Detail::Approx;

namespace {

metrics::QueueView queue(std::string name, int waiting, double longest = metrics::kNoValue) {
  metrics::QueueView q;
  q.name = std::move(name);
  q.calls_waiting = waiting;
  q.longest_wait = longest;
  return q;
}

// Today's counters giving SL (offered formula) = within / (offered - short).
void set_today(metrics::QueueView& q, int answered, int within, int abandoned) {
  auto& c = q.windows[static_cast<int>(WindowKind::today)].counters;
  c.answered = answered;
  c.answered_within_sl = within;
  c.abandoned = abandoned;
}

metrics::AgentView agent(std::string name, AgentState s, double since = 0) {
  metrics::AgentView a;
  a.name = std::move(name);
  a.state = s;
  a.state_since = since;
  return a;
}

SiteFeed live_site(std::string endpoint, std::string site, metrics::Snapshot s, double at) {
  SiteFeed f;
  f.endpoint = std::move(endpoint);
  f.site = std::move(site);
  f.engine_now = s.now;
  f.state = std::make_shared<const metrics::Snapshot>(std::move(s));
  f.connected = true;
  f.last_message_at = at;
  return f;
}

bool same(const Color& a, const Color& b) { return a == b; }

}  // namespace

TEST_CASE("service level lights: met, within 5 points below, further below", "[wallboard][vm]") {
  // Target 80 %: 80.00 % meets it, 79.99 % is just below, 75 % is exactly 5 points below
  // (0.80 - 0.05 is 0.7500000000000001 in doubles: still amber), 74.99 % is red.
  CHECK(sl_light(0.80, 0.80) == Light::green);
  CHECK(sl_light(0.8001, 0.80) == Light::green);
  CHECK(sl_light(1.0, 0.80) == Light::green);
  CHECK(sl_light(0.7999, 0.80) == Light::amber);
  CHECK(sl_light(0.75, 0.80) == Light::amber);
  CHECK(sl_light(0.7499, 0.80) == Light::red);
  CHECK(sl_light(0.0, 0.80) == Light::red);
  // Target 90 %: the band is 85-90 %.
  CHECK(sl_light(0.85, 0.90) == Light::amber);
  CHECK(sl_light(0.849, 0.90) == Light::red);
  CHECK(sl_light(0.90, 0.90) == Light::green);
  // No data (zero denominator) is no color at all.
  CHECK(sl_light(std::nullopt, 0.80) == Light::none);
  CHECK(same(light_color(Light::none), palette::grey));
  CHECK(same(light_color(Light::amber), palette::amber));
}

TEST_CASE("a tile's SL comes from the queue's formula and target", "[wallboard][vm]") {
  metrics::Snapshot s;
  s.now = 1000;
  auto q = queue("sales", 0);
  // 18 answered (15 within 20 s) + 2 abandoned (none short) = 20 offered: SL = 15/20 = 75 %,
  // exactly 5 points under the 80 % target -> amber, shown "75%".
  set_today(q, 18, 15, 2);
  q.settings.sl_target = 0.80;
  auto q2 = queue("support", 0);
  // 19/20 = 95 % against a 90 % target -> green; 17/20 = 85 % -> amber; 16/20 = 80 % -> red.
  set_today(q2, 20, 19, 0);
  q2.settings.sl_target = 0.90;
  s.queues = {q, q2};
  auto sites = std::vector<SiteFeed>{live_site("tcp://a:7702", "", s, 1000)};
  auto k = build_kiosk(sites, 1000, BoardOptions{}, 12);
  REQUIRE(k.tiles.size() == 2);
  CHECK(k.tiles[0].sl_today.text == "75%");
  CHECK(same(k.tiles[0].sl_today.color, palette::amber));
  CHECK(k.tiles[0].sl_interval.text == "–");  // nothing offered this interval: no data
  CHECK(same(k.tiles[0].sl_interval.color, palette::grey));
  CHECK(k.tiles[1].sl_today.text == "95%");
  CHECK(same(k.tiles[1].sl_today.color, palette::green));
  CHECK(k.tiles[0].target == "target 80% / 20 s");
  // Header total: (15 + 19) / (20 + 20) = 85 % against the weighted target
  // (0.80*20 + 0.90*20) / 40 = 85 % -> green.
  CHECK(k.header.sl_today.text == "85%");
  CHECK(same(k.header.sl_today.color, palette::green));
}

TEST_CASE("longest wait turns amber at 3/4 of the SL threshold and red at it", "[wallboard][vm]") {
  // T = 20 s: amber from 15 s, red from 20 s.
  CHECK(same(wait_color(14.9, 20), palette::text));
  CHECK(same(wait_color(15.0, 20), palette::amber));
  CHECK(same(wait_color(19.9, 20), palette::amber));
  CHECK(same(wait_color(20.0, 20), palette::red));
  CHECK(same(wait_color(metrics::kNoValue, 20), palette::text));
}

TEST_CASE("numbers are formatted for reading at a distance and never rounded up",
          "[wallboard][vm]") {
  CHECK(format_percent(0.7996) == "79%");  // not "80%": that would look like target met
  CHECK(format_percent(0.29) == "29%");    // 28.999... in doubles must still read 29
  CHECK(format_percent(1.0) == "100%");
  CHECK(format_percent(std::nullopt) == "–");
  CHECK(format_duration(42) == "0:42");
  CHECK(format_duration(725) == "12:05");
  CHECK(format_duration(3723) == "1:02:03");
  CHECK(format_duration(metrics::kNoValue) == "–");
  // 1767600000 = 20458 days + 28800 s: 08:00:00 UTC, 16:00:00 in UTC+8.
  CHECK(format_clock(1767600000, 0) == "08:00:00");
  CHECK(format_clock(1767600000, 8 * 3600) == "16:00:00");
  CHECK(format_age(12.7, "s") == "12 s");
  CHECK(format_age(12.7, "秒") == "12 秒");
  CHECK(format_age(600, "s") == "10 min");
}

TEST_CASE("stale after 3 s without a message, disconnected when the transport drops",
          "[wallboard][vm]") {
  metrics::ManualClock clock(1000);
  metrics::Snapshot s;
  s.now = 999;
  s.queues = {queue("sales", 2, 30)};
  SiteFeed f = live_site("tcp://127.0.0.1:7702", "", s, clock.now());

  CHECK(link_state(f, clock.now()) == LinkState::live);
  clock.advance(3.0);  // exactly 3 s: not yet stale
  CHECK(link_state(f, clock.now()) == LinkState::live);
  clock.advance(0.1);
  CHECK(link_state(f, clock.now()) == LinkState::stale);

  clock.set(1012);
  // 1000 s after the epoch is 00:16:40 UTC; 12 s ago.
  auto banners = build_banners({f}, clock.now(), BoardOptions{});
  REQUIRE(banners.size() == 1);
  CHECK(banners[0].kind == Banner::Kind::stale);
  CHECK(banners[0].text == "data stale since 00:16:40 (12 s)");
  CHECK(same(banners[0].color, palette::banner_red));
  // Stale but connected: values still in color.
  auto k = build_kiosk({f}, clock.now(), BoardOptions{}, 12);
  CHECK_FALSE(k.tiles[0].greyed);

  f.connected = false;
  CHECK(link_state(f, clock.now()) == LinkState::disconnected);
  k = build_kiosk({f}, clock.now(), BoardOptions{}, 12);
  REQUIRE(k.banners.size() == 1);
  CHECK(k.banners[0].text ==
        "disconnected from 127.0.0.1:7702 — data stale since 00:16:40 (12 s)");
  REQUIRE(k.tiles.size() == 1);
  CHECK(k.tiles[0].greyed);
  CHECK(k.tiles[0].waiting.text == "2");  // last value kept...
  CHECK(same(k.tiles[0].waiting.color, greyed(palette::text)));  // ...in grey
  CHECK(same(k.header.calls_waiting.color, greyed(palette::text)));

  // In Chinese.
  BoardOptions zh;
  zh.lang = Lang::zh;
  f.connected = true;
  auto bz = build_banners({f}, clock.now(), zh);
  REQUIRE(bz.size() == 1);
  CHECK(bz[0].text == "数据已过期：自 00:16:40 起无更新 (12 秒)");

  SiteFeed never;
  never.endpoint = "tcp://10.0.0.9:7702";
  CHECK(link_state(never, clock.now()) == LinkState::waiting);
  CHECK(build_banners({never}, clock.now(), BoardOptions{})[0].text ==
        "waiting for data from 10.0.0.9:7702");

  f.newer_protocol = metrics::wire::ProtocolVersion{2, 1};
  CHECK(link_state(f, clock.now()) == LinkState::incompatible);
  CHECK(build_banners({f}, clock.now(), BoardOptions{})[0].text ==
        "127.0.0.1:7702 speaks protocol 2.1; this wallboard understands 1.x: update the "
        "wallboard");
}

TEST_CASE("time in state runs on while live and freezes when the data goes stale",
          "[wallboard][vm]") {
  metrics::Snapshot s;
  s.now = 5000;
  s.agents = {agent("alice", AgentState::on_call, 4900)};
  SiteFeed f = live_site("tcp://a:1", "", s, 10000);  // wallboard clock 10000 <-> engine 5000
  History h;
  // 2 s after the message: engine time 5002, alice on call 102 s = 1:42.
  auto d = build_desktop({f}, 10002, BoardOptions{}, h, DesktopQuery{});
  REQUIRE(d.agents.size() == 1);
  CHECK(d.agents[0].time_text == "1:42");
  // 10 s after: stale, frozen at engine 5000 -> 100 s.
  d = build_desktop({f}, 10010, BoardOptions{}, h, DesktopQuery{});
  CHECK(d.agents[0].time_text == "1:40");
}

TEST_CASE("pages rotate every period when the tiles do not fit", "[wallboard][vm]") {
  // 30 tiles, 12 per page = 3 pages; 10 s per page.
  CHECK(page_at(0, 30, 12, 10) == 0);
  CHECK(page_at(9.9, 30, 12, 10) == 0);
  CHECK(page_at(10, 30, 12, 10) == 1);
  CHECK(page_at(25, 30, 12, 10) == 2);
  CHECK(page_at(30, 30, 12, 10) == 0);
  CHECK(page_at(25, 12, 12, 10) == 0);  // fits: no rotation

  metrics::Snapshot s;
  for (int i = 0; i < 30; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "q%02d", i);
    s.queues.push_back(queue(name, i));
  }
  auto sites = std::vector<SiteFeed>{live_site("tcp://a:1", "", s, 25)};
  auto k = build_kiosk(sites, 25, BoardOptions{}, 12);
  CHECK(k.page == 2);
  CHECK(k.page_count == 3);
  CHECK(k.total_tiles == 30);
  REQUIRE(k.tiles.size() == 6);  // 24..29
  CHECK(k.tiles.front().title == "q24");
  CHECK(k.tiles.back().title == "q29");
  CHECK(k.page_text == "Page 3 / 3");

  // 1920x1080 at scale 1, tiles of at least 350 x 250: 1920/350 = 5.49 -> 5 columns,
  // (1080-300)/250 = 3.12 -> 3 rows. A 4K screen at scale 2 gives the same grid with everything
  // twice as large. With the waiting panel (floor(0.22 * 1920) = 422 px and a 16 px gap)
  // 1482/350 = 4.23 -> 4 columns: 12 tiles a page.
  auto g = kiosk_grid(1920, 1080, 1.0f);
  CHECK(g.cols == 5);
  CHECK(g.rows == 3);
  auto g4 = kiosk_grid(3840, 2160, 2.0f);
  CHECK(g4.cols == 5);
  CHECK(g4.rows == 3);
  CHECK(kiosk_grid(1920, 1080, 1.0f, true).cols == 4);
  CHECK(kiosk_grid(3840, 2160, 2.0f, true).per_page() == 12);
}

TEST_CASE("two sites merge: totals add up, tiles and rows keep their site", "[wallboard][vm]") {
  metrics::Snapshot north;
  north.now = 100;
  north.queues = {queue("sales", 2, 10), queue("support", 0)};
  north.queues[0].agents[static_cast<int>(AgentState::available)] = 1;
  north.agents = {agent("alice", AgentState::available), agent("bob", AgentState::available),
                  agent("carl", AgentState::paused)};
  metrics::Snapshot south;
  south.now = 100;
  south.queues = {queue("sales", 3, 25)};
  south.agents = {agent("dora", AgentState::available), agent("emil", AgentState::on_call)};
  std::vector<SiteFeed> sites{live_site("tcp://n:7702", "north", north, 100),
                              live_site("tcp://s:7702", "south", south, 100)};

  auto k = build_kiosk(sites, 100, BoardOptions{}, 12);
  CHECK(k.header.calls_waiting.text == "5");  // 2 + 3
  CHECK(k.header.longest_wait.text == "0:25");  // the longer of 10 s and 25 s
  CHECK(same(k.header.longest_wait.color, palette::red));  // 25 s >= T 20 s
  CHECK(k.header.available.text == "3");      // alice, bob, dora
  CHECK(k.header.on_call.text == "1");
  CHECK(k.header.paused.text == "1");
  REQUIRE(k.tiles.size() == 3);
  CHECK(k.tiles[0].site == "north");
  CHECK(k.tiles[2].site == "south");
  CHECK(k.tiles[0].key != k.tiles[2].key);  // same queue name, different sites
  CHECK(same(k.tiles[2].available.color, palette::red));  // 3 waiting, nobody available

  // South drops: only its tile greys, north stays in color; one banner names south.
  sites[1].connected = false;
  k = build_kiosk(sites, 101, BoardOptions{}, 12);
  CHECK_FALSE(k.tiles[0].greyed);
  CHECK(k.tiles[2].greyed);
  REQUIRE(k.banners.size() == 1);
  CHECK_THAT(k.banners[0].text, Catch::StartsWith("disconnected from south"));

  History h;
  auto d = build_desktop(sites, 101, BoardOptions{}, h, DesktopQuery{});
  CHECK(d.multi_site);
  REQUIRE(d.queues.size() == 3);
  CHECK(d.queues[0].site == "north");  // name sort, ties by site
  CHECK(d.queues[0].name == "sales");
  CHECK(d.queues[1].site == "south");
  CHECK(d.queues[1].name == "sales");
  CHECK(d.agents.size() == 5);
  DesktopQuery q;
  q.queue_filter = "SOUTH";  // site names filter too, case-insensitively
  CHECK(build_desktop(sites, 101, BoardOptions{}, h, q).queues.size() == 1);
}

TEST_CASE("sorting keeps rows without data last in both directions", "[wallboard][vm]") {
  std::vector<QueueRow> rows(4);
  rows[0].name = "a";
  rows[0].sl_today = 0.9;
  rows[1].name = "b";  // no data
  rows[2].name = "c";
  rows[2].sl_today = 0.5;
  rows[3].name = "d";
  rows[3].sl_today = 0.9;  // ties with a: name decides
  sort_queue_rows(rows, QueueColumn::sl_today, false);
  CHECK(rows[0].name == "a");
  CHECK(rows[1].name == "d");
  CHECK(rows[2].name == "c");
  CHECK(rows[3].name == "b");
  sort_queue_rows(rows, QueueColumn::sl_today, true);
  CHECK(rows[0].name == "c");
  CHECK(rows[1].name == "a");
  CHECK(rows[2].name == "d");
  CHECK(rows[3].name == "b");

  std::vector<AgentRow> agents(3);
  agents[0].name = "x";
  agents[0].time_in_state = 30;
  agents[1].name = "y";
  agents[1].time_in_state = 300;
  agents[2].name = "z";
  agents[2].time_in_state = 5;
  sort_agent_rows(agents, AgentColumn::time_in_state, false);
  CHECK(agents[0].name == "y");
  CHECK(agents[1].name == "x");
  CHECK(agents[2].name == "z");
}

TEST_CASE("CJK names decode, filter and grow the glyph set once", "[wallboard][vm]") {
  auto cps = decode_utf8("销售A");
  REQUIRE(cps.size() == 3);
  CHECK(cps[0] == 0x9500);  // 销 = E9 94 80
  CHECK(cps[1] == 0x552E);  // 售 = E5 94 AE
  CHECK(cps[2] == U'A');
  CHECK(decode_utf8("a\xff" "b\xe9\x94").size() == 2);  // bad byte and a cut sequence skipped

  GlyphSet g;
  CHECK(g.add("AB"));
  CHECK(g.add("销"));
  CHECK_FALSE(g.add("销BA"));  // nothing new: no atlas rebuild
  CHECK(g.ranges() == std::vector<std::uint16_t>{0x41, 0x42, 0x9500, 0x9500, 0});

  metrics::Snapshot s;
  s.queues = {queue("xiaoshou", 1)};
  s.queues[0].settings.display_name = "销售热线";
  s.agents = {agent("王芳", AgentState::paused)};
  s.agents[0].pause_reason = "午饭";
  std::vector<SiteFeed> sites{live_site("tcp://a:1", "", s, 0)};
  GlyphSet g2;
  g2.add_ui(Lang::zh);
  CHECK(g2.code_points().contains(U'排'));  // 排队来电
  CHECK(g2.add_sites(sites));
  CHECK(g2.code_points().contains(U'热'));
  CHECK(g2.code_points().contains(U'芳'));
  CHECK(g2.code_points().contains(U'饭'));
  CHECK_FALSE(g2.add_sites(sites));

  // The next state shares the unchanged entries: a changed agent (a new pause reason, copied on
  // write as a delta replaces it) is looked at again and brings its new characters; a new
  // agent in front moves the others one place: they are looked at again, nothing new in them.
  metrics::Snapshot s2 = *sites[0].state;
  s2.agents[0].pause_reason = "开会";
  std::vector<SiteFeed> next{live_site("tcp://a:1", "", s2, 1)};
  CHECK(g2.add_sites(next));
  CHECK(g2.code_points().contains(U'开'));
  CHECK(g2.code_points().contains(U'会'));
  CHECK_FALSE(g2.add_sites(next));
  metrics::Snapshot s3 = *next[0].state;
  s3.agents.insert(s3.agents.begin(), agent("芳", AgentState::available));
  s3.agents.push_back(agent("李雷", AgentState::available));
  std::vector<SiteFeed> third{live_site("tcp://a:1", "", s3, 2)};
  CHECK(g2.add_sites(third));  // 李 and 雷 are new
  CHECK(g2.code_points().contains(U'雷'));
  CHECK_FALSE(g2.add_sites(third));

  CHECK(matches_filter("销售热线", "售热"));
  CHECK_FALSE(matches_filter("销售热线", "客服"));
  History h;
  DesktopQuery q;
  q.queue_filter = "热线";  // matches the display name, not the queue name
  BoardOptions zh;
  zh.lang = Lang::zh;
  auto d = build_desktop(sites, 0, zh, h, q);
  REQUIRE(d.queues.size() == 1);
  CHECK(d.queues[0].title == "销售热线");
  REQUIRE(d.agents.size() == 1);
  CHECK(d.agents[0].state_text == "暂停");
  CHECK(d.agents[0].pause_reason == "午饭");
}

TEST_CASE("sparkline history samples every step and keeps one hour", "[wallboard][vm]") {
  History h(3600, 10);
  h.record("k", 0, 1, 0.9);
  h.record("k", 5, 2, 0.8);  // within the 10 s step: skipped
  h.record("k", 10, 3, std::nullopt);
  const auto* s = h.find("k");
  REQUIRE(s != nullptr);
  REQUIRE(s->size() == 2);
  CHECK(s->at(1).waiting == 3);
  CHECK(std::isnan(s->at(1).sl));  // no data breaks the line, it is not a zero
  // At t=3605 the span is [5, 3605]: the sample at 0 goes, the one at 10 stays.
  h.record("k", 3605, 4, 0.7);
  REQUIRE(s->size() == 2);
  CHECK(s->front().t == 10);
  CHECK(h.find("other") == nullptr);
}

TEST_CASE("an agent's AHT divides by the calls it completed, not the ones answered",
          "[wallboard][vm]") {
  // 3 answered, the third still on call; 2 completed: talk 300 + hold 60 + wrap 60 = 420 s over
  // 2 calls = 210 s = 3:30.
  auto a = agent("amy", AgentState::on_call);
  a.today.answered = 3;
  a.today.handled = 2;
  a.today.talk_seconds = 300;
  a.today.hold_seconds = 60;
  a.today.wrap_seconds = 60;
  metrics::Snapshot s;
  s.agents = {a};
  auto d = build_desktop({live_site("tcp://a", "", s, 0)}, 0, BoardOptions{}, History{},
                         DesktopQuery{});
  REQUIRE(d.agents.size() == 1);
  CHECK(*d.agents[0].aht == 210.0);
  CHECK(d.agents[0].aht_text == "3:30");
  auto b = agent("ben", AgentState::on_call);
  b.today.answered = 1;  // first call, in progress: nothing completed yet
  s.agents = {b};
  d = build_desktop({live_site("tcp://a", "", s, 0)}, 0, BoardOptions{}, History{}, DesktopQuery{});
  CHECK_FALSE(d.agents[0].aht.has_value());
  CHECK(d.agents[0].aht_text == "–");
}

TEST_CASE("the desktop shows the engine's staffed, gap, bounced, occupancy and estimated wait",
          "[wallboard][vm]") {
  // A real engine: 2 members of sales available, 1 paused; 4 calls arrive, 2 answered (one of
  // them after ringing 3 agents: bounced), 2 waiting. AHT fixed at 120 s.
  metrics::EngineSettings st;
  st.queue_defaults.erlang_aht = 120;
  metrics::Engine e(st);
  cwtest::Feed f(e);
  const double t0 = 1767600000;
  f.state(t0, "ana", AgentState::available, {"sales"});
  f.state(t0, "bo", AgentState::available, {"sales"});
  f.state(t0, "cy", AgentState::paused, {"sales"}, "lunch");
  for (int i = 0; i < 4; ++i) f.enqueue(t0 + 100 + i, "c" + std::to_string(i), "sales");
  f.ring_noanswer(t0 + 104, "c0", "sales", "cy");
  f.ring_noanswer(t0 + 106, "c0", "sales", "bo");
  f.answer(t0 + 110, "c0", "sales", "ana");  // offered to cy, bo, ana: bounced
  f.answer(t0 + 110, "c1", "sales", "bo");
  e.advance_to(t0 + 200);
  auto d = build_desktop({live_site("tcp://a", "", e.snapshot(), t0 + 200)}, t0 + 200,
                         BoardOptions{}, History{}, DesktopQuery{});
  REQUIRE(d.queues.size() == 1);
  const auto& r = d.queues[0];
  CHECK(r.staffed == 2);  // ana and bo on call, cy paused
  // 4 arrivals / 200 s x 120 s = 2.4 Erlangs: 3 agents give P_wait 0.6472 and SL
  // 1 - 0.6472 exp(-0.6 x 20 / 120) = 0.4144; 4 give P_wait 0.2870 and SL
  // 1 - 0.2870 exp(-1.6 x 20 / 120) = 0.7801; 5 give 0.1135 and 0.9264: 5 required, gap 3.
  CHECK(*r.required == 5);
  CHECK(*r.staffing_gap == 3);
  CHECK(same(r.required_color, palette::red));
  CHECK(r.bounced == 1);
  CHECK(r.bounced_text == "1");
  // Both staffed agents busy, 2 callers ahead: (2 + 1) x 120 / 2 = 180 s = 3:00.
  CHECK(*r.estimated_wait == Approx(180));
  CHECK(r.estimated_wait_text == "3:00");
  // Occupancy today: ana and bo each 110 s available then 90 s on call (a ring-no-answer
  // event is no ringing time); cy's pause is excluded: (90 + 90) / (90 + 90 + 110 + 110) = 45 %.
  CHECK(*r.occupancy == Approx(0.45));
  CHECK(r.occupancy_text == "45%");
}

TEST_CASE("alerts: firing and pending listed, worst first, the queue named once",
          "[wallboard][vm]") {
  metrics::Snapshot s;
  auto alert = [](std::string id, std::string queue, metrics::AlertSeverity sev,
                  metrics::AlertState st, double since, std::string msg) {
    metrics::AlertView a;
    a.id = std::move(id);
    a.rule = "rule";
    a.queue = std::move(queue);
    a.severity = sev;
    a.state = st;
    a.since = since;
    a.message = std::move(msg);
    return a;
  };
  using metrics::AlertSeverity;
  using metrics::AlertState;
  s.alerts = {alert("a", "sales", AlertSeverity::warning, AlertState::firing, 10, "SL 70% < 80%"),
              alert("b", "vip", AlertSeverity::critical, AlertState::firing, 20,
                    "vip: longest wait 95 s"),
              alert("c", "sales", AlertSeverity::critical, AlertState::inactive, 5, "off"),
              alert("d", "", AlertSeverity::info, AlertState::pending, 1, "")};
  auto k = build_kiosk({live_site("tcp://a:1", "", s, 0)}, 0, BoardOptions{}, 12);
  REQUIRE(k.alerts.size() == 3);  // the inactive one is not shown
  CHECK(k.alerts[0].text == "vip: longest wait 95 s");  // critical first, as the rule says it
  CHECK(same(k.alerts[0].color, palette::red));
  CHECK(k.alerts[1].text == "SL 70% < 80%");
  CHECK(same(k.alerts[1].color, palette::amber));
  CHECK(k.alerts[2].text == "rule");  // no message, no queue: the rule's name
  CHECK(same(k.alerts[2].color, palette::muted));  // pending: not yet firing
  CHECK_FALSE(k.alerts[0].ack_enabled);  // acks come with the alerts issue

  auto gone = live_site("tcp://a:1", "", s, 0);
  gone.connected = false;
  k = build_kiosk({gone}, 0, BoardOptions{}, 12);
  REQUIRE(k.alerts.size() == 3);  // still listed, in grey: last known, not current
  CHECK(same(k.alerts[0].color, greyed(palette::red)));
}

namespace {
// An agent's counters of one window: calls handled with talk + wrap seconds, and seconds in
// available, on call, wrap-up and paused.
metrics::AgentCounters worked(int handled, double talk, double wrap, double available,
                              double on_call, double wrap_up, double paused) {
  metrics::AgentCounters c;
  c.handled = handled;
  c.answered = handled;
  c.talk_seconds = talk;
  c.wrap_seconds = wrap;
  c.state_seconds[static_cast<int>(AgentState::available)] = available;
  c.state_seconds[static_cast<int>(AgentState::on_call)] = on_call;
  c.state_seconds[static_cast<int>(AgentState::wrap_up)] = wrap_up;
  c.state_seconds[static_cast<int>(AgentState::paused)] = paused;
  return c;
}
}  // namespace

TEST_CASE("the leaderboard ranks by handled calls then AHT, states its window, leaves out "
          "late starters",
          "[wallboard][vm][leaderboard]") {
  metrics::Snapshot s;
  s.now = 1767610800;           // 11:00 UTC
  s.day_start = 1767600000;     // 08:00 UTC
  s.interval_start = 1767610500;  // 10:55 (a 5-minute interval here)
  auto add = [&](std::string name, metrics::AgentCounters today, metrics::AgentCounters interval) {
    auto a = agent(std::move(name), AgentState::available);
    a.today = today;
    a.interval = interval;
    s.agents.push_back(a);
  };
  // Today (the minimum: 30 min logged in):
  //   ana  12 handled, talk 1800 + wrap 600 = AHT 200; on call 1800 + wrap-up 600 busy,
  //        available 3600: occupancy 2400 / 6000 = 40 %; logged in 7000 s
  //   bo   12 handled, talk 2160, AHT 180: beats ana on AHT; occupancy 2160 / (2160 + 2840) = 43 %
  //   cy   15 handled but logged in 1200 s only (< 1800): left out, counted
  //   di    5 handled, talk 1200, AHT 240; logged in 3600
  //   ed    5 handled, talk 1200, AHT 240: ties with di (same rank 3), after di by name
  //   fu   never logged in today: not on the board and not counted as left out
  add("ana", worked(12, 1800, 600, 3600, 1800, 600, 1000), worked(1, 150, 50, 100, 150, 50, 0));
  add("bo", worked(12, 2160, 0, 2840, 2160, 0, 0), worked(0, 0, 0, 300, 0, 0, 0));
  add("cy", worked(15, 4500, 0, 0, 1200, 0, 0), worked(2, 200, 0, 0, 300, 0, 0));
  add("di", worked(5, 1200, 0, 2400, 1200, 0, 0), worked(0, 0, 0, 200, 0, 0, 0));
  add("ed", worked(5, 1200, 0, 2400, 1200, 0, 0), worked(0, 0, 0, 100, 0, 0, 0));
  add("fu", metrics::AgentCounters{}, metrics::AgentCounters{});
  auto sites = std::vector<SiteFeed>{live_site("tcp://a:1", "", s, s.now)};

  BoardOptions o;
  auto v = build_leaderboard(sites, s.now, o);
  CHECK(v.title == "Leaderboard");
  CHECK(v.window_text == "today since 08:00");
  CHECK(v.rule_text == "ranked by handled calls, then AHT; agents logged in for 30 min or more");
  CHECK(v.left_out == 1);
  CHECK(v.left_out_text == "not ranked, logged in for less: 1");
  REQUIRE(v.rows.size() == 4);
  CHECK(v.rows[0].name == "bo");
  CHECK(v.rows[0].rank == 1);
  CHECK(v.rows[0].aht_text == format_duration(180));
  CHECK(v.rows[0].occupancy == Approx(2160.0 / 5000.0));
  CHECK(v.rows[1].name == "ana");
  CHECK(v.rows[1].rank == 2);
  CHECK(v.rows[1].handled_text == "12");
  CHECK(v.rows[1].aht == Approx(200));
  CHECK(v.rows[1].occupancy_text == "40%");
  CHECK(v.rows[2].name == "di");
  CHECK(v.rows[2].rank == 3);
  CHECK(v.rows[3].name == "ed");
  CHECK(v.rows[3].rank == 3);  // a tie shares the rank

  // The current interval, minimum 5 min: ana 300 s logged in (100 + 150 + 50), 1 handled, AHT
  // 200; bo 300 s, 0 handled; di 200 s and ed 100 s are left out; cy 300 s, 2 handled, AHT 100.
  o.leaders.window = LeaderWindow::interval;
  auto w = build_leaderboard(sites, s.now, o);
  CHECK(w.window_text == "this interval since 10:55");
  CHECK(w.rule_text == "ranked by handled calls, then AHT; agents logged in for 5 min or more");
  CHECK(w.left_out == 2);
  REQUIRE(w.rows.size() == 3);
  CHECK(w.rows[0].name == "cy");
  CHECK(w.rows[1].name == "ana");
  CHECK(w.rows[2].name == "bo");
  CHECK(w.rows[2].rank == 3);
  CHECK(w.rows[2].aht_text == "–");

  // max_rows cuts the list after ranking; Chinese text.
  o.leaders = LeaderboardOptions{};
  o.leaders.max_rows = 2;
  o.lang = Lang::zh;
  auto z = build_leaderboard(sites, s.now, o);
  REQUIRE(z.rows.size() == 2);
  CHECK(z.rows[1].name == "ana");
  CHECK(z.title == "座席排行");
  CHECK(z.window_text == "今日（自 08:00 起）");
  CHECK(z.left_out_text == "登录时长不足、未排名：1 人");
}

TEST_CASE("the kiosk's leaderboard page comes after the tiles' pages", "[wallboard][vm][leaderboard]") {
  metrics::Snapshot s;
  for (int i = 0; i < 30; ++i) {
    char name[8];
    std::snprintf(name, sizeof name, "q%02d", i);
    s.queues.push_back(queue(name, i));
  }
  auto sites = std::vector<SiteFeed>{live_site("tcp://a:1", "", s, 35)};
  BoardOptions o;
  o.leaderboard_page = true;
  // 30 tiles at 12 per page = 3 pages + the leaderboard = 4 pages of 10 s: 30-39 s is page 4.
  auto k = build_kiosk(sites, 35, o, 12);
  CHECK(k.page_count == 4);
  CHECK(k.page == 3);
  CHECK(k.page_text == "Page 4 / 4");
  CHECK(k.tiles.empty());
  REQUIRE(k.leaderboard.has_value());
  CHECK(k.leaderboard->rows.empty());
  auto k0 = build_kiosk(sites, 45, o, 12);  // 40-49 s: page 1 again
  CHECK(k0.page == 0);
  CHECK(k0.tiles.size() == 12);
  CHECK_FALSE(k0.leaderboard.has_value());
  // Off by default: 3 pages, as before.
  CHECK(build_kiosk(sites, 35, BoardOptions{}, 12).page_count == 3);
}

TEST_CASE("alerts are worded in the board's language with the board's numbers",
          "[wallboard][vm][alerts]") {
  metrics::AlertView a;
  a.id = "surge/sales";
  a.rule = "surge";
  a.queue = "sales";
  a.subject = "销售 Sales";
  a.metric = "surge_ratio";
  a.above = true;
  a.threshold = 2.5;
  a.value = 2.2222;
  a.agents_needed = 3;
  CHECK(*alert_text(Lang::en, a) ==
        "销售 Sales: calls arriving at 2.22× the expected rate (alert above 2.50×); 3 more agents needed");
  CHECK(*alert_text(Lang::zh, a) == "销售 Sales：来电速度为预期的 2.22×（告警线：高于 2.50×）；还需 3 名座席");
  a.agents_needed.reset();  // nobody missing (gap 0): not said
  CHECK(*alert_text(Lang::en, a) == "销售 Sales: calls arriving at 2.22× the expected rate (alert above 2.50×)");

  // Service level as the tiles show it (never rounded up: 79.9 % is 79 %), below its limit.
  a.metric = "service_level";
  a.above = false;
  a.threshold = 0.80;
  a.value = 0.799;
  CHECK(*alert_text(Lang::en, a) == "销售 Sales: service level " + format_percent(0.799) +
                                        " (alert below " + format_percent(0.80) + ")");
  CHECK(*alert_text(Lang::zh, a) == "销售 Sales：服务水平 " + format_percent(0.799) + "（告警线：低于 " +
                                        format_percent(0.80) + "）");
  a.value = metrics::kNoValue;
  CHECK(*alert_text(Lang::en, a) == "销售 Sales: no data yet (alert below 80%)");

  a.metric = "longest_wait";
  a.above = true;
  a.threshold = 60;
  a.value = 125;
  CHECK(*alert_text(Lang::en, a) == "销售 Sales: a caller has waited " + format_duration(125) +
                                        " (alert above " + format_duration(60) + ")");

  a.metric = "feed_stale";
  a.subject = "pbx1";
  a.threshold = 60;
  a.value = 300;
  CHECK(*alert_text(Lang::zh, a) == "数据源 pbx1：" + format_duration(300) + " 无事件（告警线：高于 " +
                                        format_duration(60) + "）");
  a.value = 1e9;  // never heard from
  CHECK(*alert_text(Lang::en, a) == "feed pbx1: no event yet");

  // A daemon before protocol 1.3 sends no metric: the board shows its message.
  metrics::AlertView old;
  old.message = "sales: surge_ratio 2.22x (above 2.50x)";
  CHECK_FALSE(alert_text(Lang::zh, old).has_value());
}
