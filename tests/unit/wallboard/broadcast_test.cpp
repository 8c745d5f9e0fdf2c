// The broadcast ticker without any UI: the words each language frames a supervisor's message
// with, the end time and time left worked out by hand, a message hidden once its expiry has come
// (even before the daemon's delta removes it), the rows the kiosk shows when more are live than
// fit, and the requests the desktop sends (a kiosk never builds one).
#include <catch2/catch.hpp>

#include <memory>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "vm/board.hpp"
#include "vm/broadcast.hpp"
#include "vm/site_feed.hpp"

using namespace callwatch;
using namespace callwatch::wallboard::vm;
namespace wire = callwatch::metrics::wire;

namespace {

// 1700000000 is 2023-11-14 22:13:20 UTC; at UTC+8 (Shanghai) the board's clock says 06:13:20.
constexpr double kNow = 1700000000;
constexpr int kShanghai = 8 * 3600;

metrics::BroadcastView message(std::string id, std::string from, std::string text, double expires_at) {
  return metrics::BroadcastView{std::move(id), std::move(text), std::move(from), kNow - 60, expires_at};
}

SiteFeed site(std::string name, std::vector<metrics::BroadcastView> live) {
  SiteFeed f;
  f.endpoint = "tcp://" + name + ":7702";
  f.site = std::move(name);
  auto s = std::make_shared<metrics::Snapshot>();
  s->now = kNow;
  s->broadcasts = std::move(live);
  f.state = std::move(s);
  f.last_message_at = kNow;
  f.engine_now = kNow;
  f.connected = true;
  return f;
}

}  // namespace

TEST_CASE("a broadcast reads with its sender, its end in local time and the time left",
          "[wallboard][broadcast]") {
  // Expires 1500 s from now: 06:13:20 + 25:00 = 06:38:20, shown as 06:38; 1500 s = 25 min.
  std::vector<SiteFeed> sites{site("floor", {message("b1", "alice", "Team meeting at 15:00", kNow + 1500)})};
  const auto en = build_ticker(sites, kNow, Lang::en, kShanghai);
  REQUIRE(en.size() == 1);
  CHECK(en[0].until == "06:38");
  CHECK(en[0].left == "25 min");
  CHECK(en[0].text == "alice: Team meeting at 15:00 (until 06:38, 25 min left)");
  const auto zh = build_ticker(sites, kNow, Lang::zh, kShanghai);
  REQUIRE(zh.size() == 1);
  CHECK(zh[0].text == "alice：Team meeting at 15:00（至 06:38，剩 25 分钟）");
}

TEST_CASE("the time left rounds up, so a message on screen never says 0", "[wallboard][broadcast]") {
  // 1501 s is 25 min 1 s: 26 min. Exactly 60 s is a minute: "1 min". 59.2 s is under a minute,
  // shown in seconds rounded up: ceil(59.2) = 60, "60 s". 0.4 s: "1 s".
  CHECK(broadcast_left(Lang::en, 1501) == "26 min");
  CHECK(broadcast_left(Lang::en, 60) == "1 min");
  CHECK(broadcast_left(Lang::en, 59.2) == "60 s");
  CHECK(broadcast_left(Lang::en, 0.4) == "1 s");
  CHECK(broadcast_left(Lang::zh, 120) == "2 分钟");
  CHECK(broadcast_left(Lang::zh, 30) == "30 秒");
}

TEST_CASE("a broadcast disappears when its expiry comes, by the board's own clock",
          "[wallboard][broadcast]") {
  std::vector<SiteFeed> sites{site("floor", {message("b1", "alice", "A", kNow + 10),
                                             message("b2", "bob", "B", kNow + 600)})};
  // 9 s before b1's end both show; at its end exactly only b2 (expires_at > now is "live").
  CHECK(build_ticker(sites, kNow + 1, Lang::en, 0).size() == 2);
  const auto at_end = build_ticker(sites, kNow + 10, Lang::en, 0);
  REQUIRE(at_end.size() == 1);
  CHECK(at_end[0].id == "b2");
  // 590 s after that, b2 (600 s) has ended too.
  CHECK(build_ticker(sites, kNow + 600, Lang::en, 0).empty());
  // The desktop list and the kiosk strip read the same list.
  BoardOptions opts;
  opts.utc_offset_seconds = 0;
  const auto k = build_kiosk(sites, kNow + 10, opts, 4);
  REQUIRE(k.ticker.size() == 1);
  CHECK(k.ticker[0].id == "b2");
}

TEST_CASE("broadcasts of two sites are shown oldest first, each tied to its site", "[wallboard][broadcast]") {
  // Ids sort by posting time: b1700000000000 was posted before b1700000005000 (5 s later).
  std::vector<SiteFeed> sites{site("paris", {message("b1700000005000-1", "marie", "P", kNow + 60)}),
                              site("lyon", {message("b1700000000000-1", "paul", "L", kNow + 60)})};
  const auto t = build_ticker(sites, kNow, Lang::en, 0);
  REQUIRE(t.size() == 2);
  CHECK(t[0].site == 1);
  CHECK(t[0].text.rfind("paul: L", 0) == 0);
  CHECK(t[1].site == 0);
}

TEST_CASE("with more broadcasts than rows the kiosk pages through them", "[wallboard][broadcast]") {
  std::vector<TickerItem> all(5);
  for (int i = 0; i < 5; ++i) all[static_cast<std::size_t>(i)].id = "b" + std::to_string(i);
  // 5 items, 2 rows: 3 pages (b0 b1 | b2 b3 | b4). A 10 s period: t = 0..9 page 0, 10..19 page
  // 1, 20..29 page 2, 30 page 0 again (floor(30 / 10) = 3, 3 mod 3 = 0).
  CHECK(ticker_page(all, 5, 10).size() == 2);
  CHECK(ticker_page(all, 5, 10)[0].id == "b0");
  CHECK(ticker_page(all, 15, 10)[0].id == "b2");
  const auto last = ticker_page(all, 25, 10);
  REQUIRE(last.size() == 1);
  CHECK(last[0].id == "b4");
  CHECK(ticker_page(all, 30, 10)[0].id == "b0");
  // Two fit: no paging.
  all.resize(2);
  CHECK(ticker_page(all, 15, 10).size() == 2);
}

TEST_CASE("the desktop sends a broadcast to every site; a kiosk never does", "[wallboard][broadcast]") {
  std::vector<SiteFeed> sites{site("paris", {}), site("lyon", {})};
  const auto plans = plan_broadcast(sites, BroadcastAsk{false, "marie", "  Meeting at 3  ", 30});
  REQUIRE(plans);
  REQUIRE(plans->size() == 2);
  CHECK((*plans)[0].site == 0);
  CHECK((*plans)[1].site == 1);
  const auto m = wire::decode((*plans)[1].body);
  REQUIRE(m);
  CHECK(m->request == "broadcast");
  CHECK(m->text == "Meeting at 3");  // trimmed
  CHECK(m->ttl == 1800);             // 30 min
  CHECK(m->who == "marie");
  CHECK(m->role == "supervisor");

  const auto kiosk = plan_broadcast(sites, BroadcastAsk{true, "marie", "Meeting", 30});
  REQUIRE_FALSE(kiosk);
  CHECK(kiosk.error() == "a kiosk is read-only: it never broadcasts");
  CHECK_FALSE(plan_broadcast(sites, BroadcastAsk{false, "marie", "   ", 30}));
  // 281 bytes: one past the daemon's bound.
  CHECK_FALSE(plan_broadcast(sites, BroadcastAsk{false, "marie", std::string(281, 'x'), 30}));
  CHECK(plan_broadcast(sites, BroadcastAsk{false, "marie", std::string(280, 'x'), 30}));
  // 24 h is the longest: 1440 min passes, 1441 does not.
  CHECK(plan_broadcast(sites, BroadcastAsk{false, "marie", "x", 1440}));
  CHECK_FALSE(plan_broadcast(sites, BroadcastAsk{false, "marie", "x", 1441}));
}

TEST_CASE("withdrawing goes to the site that holds the broadcast; a kiosk never does", "[wallboard][broadcast]") {
  std::vector<SiteFeed> sites{site("paris", {}), site("lyon", {message("b7", "paul", "L", kNow + 60)})};
  const auto plan = plan_withdraw(sites, false, 1, "b7", "marie");
  REQUIRE(plan);
  CHECK(plan->site == 1);
  const auto m = wire::decode(plan->body);
  REQUIRE(m);
  CHECK(m->request == "withdraw");
  CHECK(m->broadcast_id == "b7");
  CHECK_FALSE(plan_withdraw(sites, false, 0, "b7", "marie"));  // paris does not hold it
  CHECK_FALSE(plan_withdraw(sites, true, 1, "b7", "marie"));
}
