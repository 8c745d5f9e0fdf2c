// Acknowledging from the wallboard without any UI: a request goes to the daemon that owns the
// alert (two sites can hold alerts with the same id), with role "supervisor" and the user's name;
// a kiosk never builds one; the alert list shows who acked and the daemon's answer.
#include <catch2/catch.hpp>

#include <memory>

#include <cstdlib>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "options.hpp"
#include "vm/ack.hpp"
#include "vm/board.hpp"
#include "vm/history.hpp"
#include "vm/site_feed.hpp"

using namespace callwatch;
using namespace callwatch::wallboard::vm;
namespace wire = callwatch::metrics::wire;

namespace {

metrics::AlertView firing(std::string id, bool acked = false, std::string by = {},
                          std::string comment = {}) {
  metrics::AlertView a;
  a.id = std::move(id);
  a.rule = "surge";
  a.queue = "sales";
  a.state = metrics::AlertState::firing;
  a.severity = metrics::AlertSeverity::critical;
  a.since = 1000;
  a.acked = acked;
  a.acked_by = std::move(by);
  a.ack_comment = std::move(comment);
  return a;
}

SiteFeed site(std::string name, std::vector<metrics::AlertView> alerts, double heard = 5000) {
  SiteFeed f;
  f.endpoint = "tcp://" + name + ":7702";
  f.site = std::move(name);
  auto s = std::make_shared<metrics::Snapshot>();
  s->now = heard;
  s->alerts = std::move(alerts);
  f.state = std::move(s);
  f.last_message_at = heard;
  f.engine_now = heard;
  f.connected = true;
  return f;
}

}  // namespace

TEST_CASE("an ack goes to the site that owns the alert, as a supervisor, with the user's name",
          "[wallboard][ack]") {
  // Both sites run the same rule on a queue of the same name: the id alone does not say where.
  std::vector<SiteFeed> sites{site("paris", {firing("surge/sales")}),
                              site("lyon", {firing("surge/sales")})};
  const auto plan = plan_ack(sites, AckAsk{false, 1, "surge/sales", "marie", "on it"});
  REQUIRE(plan);
  CHECK(plan->site == 1);
  CHECK(plan->alert_id == "surge/sales");
  const auto m = wire::decode(plan->body);
  REQUIRE(m);
  CHECK(m->type == wire::MessageType::request);
  CHECK(m->request == "ack");
  CHECK(m->alert_id == "surge/sales");
  CHECK(m->who == "marie");
  CHECK(m->comment == "on it");
  CHECK(m->role == "supervisor");
}

TEST_CASE("a kiosk never builds an ack request", "[wallboard][ack]") {
  std::vector<SiteFeed> sites{site("paris", {firing("surge/sales")})};
  const auto plan = plan_ack(sites, AckAsk{true, 0, "surge/sales", "marie", ""});
  REQUIRE_FALSE(plan);
  CHECK(plan.error().find("read-only") != std::string::npos);
}

TEST_CASE("acks that cannot make sense are refused before they leave", "[wallboard][ack]") {
  std::vector<SiteFeed> sites{site("paris", {firing("surge/sales"), firing("long/vip", true, "li")})};
  CHECK_FALSE(plan_ack(sites, AckAsk{false, 0, "surge/sales", "", ""}));  // nobody to name
  CHECK_FALSE(plan_ack(sites, AckAsk{false, 3, "surge/sales", "marie", ""}));  // no such site
  CHECK_FALSE(plan_ack(sites, AckAsk{false, 0, "gone/sales", "marie", ""}));   // not on the site
  const auto again = plan_ack(sites, AckAsk{false, 0, "long/vip", "marie", ""});
  REQUIRE_FALSE(again);
  CHECK(again.error().find("li") != std::string::npos);  // says who acked it
}

TEST_CASE("the alert list: button only on a desktop, who acked, the daemon's answer",
          "[wallboard][ack]") {
  auto paris = site("paris", {firing("surge/sales"), firing("long/vip", true, "李娜", "backup called")});
  paris.ack_replies["surge/sales"] = AckReply{AckReply::Kind::refused, "only a supervisor may ack"};
  std::vector<SiteFeed> sites{paris, site("lyon", {firing("surge/sales")})};
  const double now = 5001;  // 1 s after the last message: live
  History history;

  BoardOptions kiosk;  // acks off
  const auto k = build_kiosk(sites, now, kiosk, 12);
  REQUIRE(k.alerts.size() == 3);
  for (const auto& a : k.alerts) {
    CHECK_FALSE(a.ack_enabled);
    CHECK(a.ack_status.empty());  // a kiosk shows no ack answers
  }

  BoardOptions desk;
  desk.acks = true;
  const auto d = build_desktop(sites, now, desk, history, DesktopQuery{});
  REQUIRE(d.alerts.size() == 3);
  int acked = 0, open = 0;
  for (const auto& a : d.alerts) {
    if (a.id == "long/vip") {
      ++acked;
      CHECK(a.acked);
      CHECK_FALSE(a.ack_enabled);  // acked already: no second ack
      CHECK_FALSE(a.flashing);     // acked alerts stop flashing but stay listed
      CHECK(a.acked_text == "acked by 李娜 · backup called");
      CHECK(a.site == 0);
    } else {
      ++open;
      CHECK(a.ack_enabled);
      CHECK(a.flashing);
      CHECK(a.acked_text.empty());
      if (a.site == 0) {
        CHECK(a.ack_status == "ack refused: only a supervisor may ack");
      } else {
        CHECK(a.site == 1);
        CHECK(a.ack_status.empty());  // the reply was for paris's alert, not lyon's
      }
    }
  }
  CHECK(acked == 1);
  CHECK(open == 2);

  // Silent for 10 s: stale; no ack button on a board that is not live.
  const auto stale = build_desktop(sites, now + 10, desk, history, DesktopQuery{});
  for (const auto& a : stale.alerts) CHECK_FALSE(a.ack_enabled);
}

TEST_CASE("wallboard flags: --user, else $USER; --key and --server-key go together",
          "[wallboard][ack][options]") {
  using callwatch::wallboard::app::parse_options;
  const auto named = parse_options({"--user", "marie"});
  REQUIRE(named);
  CHECK(named->user == "marie");
  const char* was = std::getenv("USER");
  const std::string saved = was ? was : "";
  ::setenv("USER", "li", 1);
  const auto from_env = parse_options({});
  if (was) ::setenv("USER", saved.c_str(), 1); else ::unsetenv("USER");
  REQUIRE(from_env);
  CHECK(from_env->user == "li");

  CHECK_FALSE(parse_options({"--key", "/k/wb.key"}));          // no server key: CURVE half set
  CHECK_FALSE(parse_options({"--server-key", "/k/server.pub"}));
  const auto both = parse_options({"--key", "/k/wb.key", "--server-key", "/k/server.pub"});
  REQUIRE(both);
  CHECK(both->key_file == "/k/wb.key");
  CHECK(both->server_key == "/k/server.pub");
}
