// kill -9 in the middle of a stream: the restarted daemon continues from its last checkpoint and,
// once the rest of the stream arrived, shows exactly the totals of an uninterrupted replay of the
// same events (we wait past the checkpoint interval before the kill, so the loss window is empty);
// the downtime is flagged on every queue and recorded in the store for reports.
#include <simdjson.h>

#include <catch2/catch.hpp>
#include <cmath>

#include "store_test_util.hpp"

using namespace cwtest;

namespace {

struct Totals {
  double offered = 0, answered = 0, abandoned = 0, short_abandoned = 0, timed_out = 0,
         exited_empty = 0, exited_key = 0, answered_within_sl = 0, abandoned_within_sl = 0;
  double asa = std::nan("");
  double sl_offered = std::nan("");
};

// The uninterrupted reference: `callwatchd report --format native --json` over the whole file.
std::map<std::string, Totals> replay_totals(const std::filesystem::path& events,
                                            const std::filesystem::path& dir) {
  const auto out = dir / "replay.json";
  const std::string cmd = std::string(CALLWATCH_BIN_DIR) +
                          "/callwatchd report --format native --json '" + events.string() +
                          "' > '" + out.string() + "'";
  REQUIRE(run(cmd) == 0);
  simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.load(out.string());
  std::map<std::string, Totals> t;
  for (auto [name, q] : doc["queues"].get_object()) {
    Totals x;
    auto num = [&](const char* k) {
      simdjson::dom::element v = q[k];
      return v.is_null() ? std::nan("") : static_cast<double>(v.get_double().value());
    };
    x.offered = num("offered");
    x.answered = num("answered");
    x.abandoned = num("abandoned");
    x.short_abandoned = num("short_abandoned");
    x.timed_out = num("timed_out");
    x.exited_empty = num("exited_empty");
    x.exited_key = num("exited_key");
    x.answered_within_sl = num("answered_within_sl");
    x.abandoned_within_sl = num("abandoned_within_sl");
    x.asa = num("asa_seconds");
    simdjson::dom::element sl = q["service_level"]["offered"];
    x.sl_offered = sl.is_null() ? std::nan("") : static_cast<double>(sl.get_double().value());
    t[std::string(name)] = x;
  }
  return t;
}

std::map<std::string, Totals> live_totals(const std::string& body) {
  std::map<std::string, Totals> t;
  auto fill = [&](const std::string& family, double Totals::*field,
                  const std::string& labels = {}) {
    for (const auto& [q, v] : by_queue(body, family, labels)) t[q].*field = v;
  };
  fill("callwatch_queue_calls_offered_total", &Totals::offered);
  fill("callwatch_queue_calls_answered_total", &Totals::answered);
  fill("callwatch_queue_calls_abandoned_total", &Totals::abandoned);
  fill("callwatch_queue_calls_short_abandoned_total", &Totals::short_abandoned);
  fill("callwatch_queue_calls_timed_out_total", &Totals::timed_out);
  fill("callwatch_queue_calls_exited_empty_total", &Totals::exited_empty);
  fill("callwatch_queue_calls_exited_key_total", &Totals::exited_key);
  fill("callwatch_queue_calls_answered_within_sl_total", &Totals::answered_within_sl);
  fill("callwatch_queue_calls_abandoned_within_sl_total", &Totals::abandoned_within_sl);
  fill("callwatch_queue_asa_seconds", &Totals::asa, ",window=\"today\"");
  fill("callwatch_queue_service_level_ratio", &Totals::sl_offered,
       ",window=\"today\",formula=\"offered\"");
  return t;
}

bool same(double a, double b) {
  return (std::isnan(a) && std::isnan(b)) || std::fabs(a - b) <= 1e-9 * std::max(1.0, std::fabs(b));
}

}  // namespace

TEST_CASE(
    "kill -9 mid-stream: after the restart today's totals equal an uninterrupted replay, gap "
    "flagged",
    "[integration][store][restart]") {
  Site site("[storage]\ncheckpoint_seconds = 0.2\n");
  // A fixed event file: 10 simulated minutes that ended 10 minutes ago, so every event is in the
  // past for the live daemon (nothing clamped as clock skew) and the replay sees the same times.
  const auto events = site.dir / "events.jsonl";
  const long start = static_cast<long>(wall_now()) - 1200;
  REQUIRE(run(std::string(CALLWATCH_BIN_DIR) + "/callwatch-sim --dump '" + events.string() +
              "' --speed 0 --seed 11 --queues 3 --agents 12 --rate 0.8 --duration 600 --start " +
              std::to_string(start) + " --log-level warn > /dev/null 2>&1") == 0);
  const auto lines = read_lines(events);
  REQUIRE(lines.size() > 500);
  const std::size_t half = lines.size() / 2;
  const auto reference = replay_totals(events, site.dir);
  REQUIRE(reference.size() == 3);

  zmq::context_t ctx(1);
  site.start();
  send_lines(ctx, site.feed_endpoint(), lines, 0, half);
  const std::string events_series = "callwatch_feed_events_total{feed=\"native\"}";
  REQUIRE(wait_for([&] { return site.value(events_series) == static_cast<double>(half); }, 20s));
  // Past the loss window: a checkpoint taken after the last event was applied is on disk.
  const double applied_at = wall_now();
  REQUIRE(wait_for(
      [&] { return site.value("callwatch_store_last_checkpoint_timestamp_seconds") >= applied_at; },
      10s));
  const auto before_kill = live_totals(site.scrape());

  site.kill9();
  site.start();
  INFO(site.log());
  // The restored state is there before any new event: the first half's totals, now flagged.
  const std::string body = site.scrape();
  const auto restored = live_totals(body);
  for (const auto& [q, t] : before_kill) {
    CAPTURE(q);
    CHECK(restored.at(q).offered == t.offered);
    CHECK(restored.at(q).answered == t.answered);
    CHECK(sample(body, "callwatch_queue_data_gap{queue=\"" + q + "\"}") == 1.0);
  }
  CHECK(sample(body, "callwatch_engine_warnings_total{kind=\"gap\"}") == 1.0);
  CHECK(site.log().find("after a crash") != std::string::npos);

  send_lines(ctx, site.feed_endpoint(), lines, half);
  REQUIRE(wait_for(
      [&] { return site.value(events_series) == static_cast<double>(lines.size() - half); }, 20s));
  // One more publish after the last event (at most 50 ms; the scrape reads the newest snapshot).
  std::this_thread::sleep_for(300ms);
  const auto live = live_totals(site.scrape());

  REQUIRE(live.size() == reference.size());
  double offered_all = 0;
  for (const auto& [q, ref] : reference) {
    CAPTURE(q);
    const Totals& got = live.at(q);
    CHECK(got.offered == ref.offered);
    CHECK(got.answered == ref.answered);
    CHECK(got.abandoned == ref.abandoned);
    CHECK(got.short_abandoned == ref.short_abandoned);
    CHECK(got.timed_out == ref.timed_out);
    CHECK(got.exited_empty == ref.exited_empty);
    CHECK(got.exited_key == ref.exited_key);
    CHECK(got.answered_within_sl == ref.answered_within_sl);
    CHECK(got.abandoned_within_sl == ref.abandoned_within_sl);
    // The report prints seconds rounded to the millisecond; /metrics prints every digit.
    CHECK(std::fabs(got.asa - ref.asa) <= 0.0005 + 1e-9);
    CHECK(same(got.sl_offered, ref.sl_offered));
    offered_all += got.offered;
  }
  CHECK(offered_all > 100);  // the stream really carried calls through both halves

  // The downtime is in the store: a stored-history report names it.
  REQUIRE(site.stop() == 0);
  const auto report = site.dir / "stored.json";
  REQUIRE(run(std::string(CALLWATCH_BIN_DIR) + "/callwatchd report --config '" +
              site.config.string() + "' --from 2000-01-01 --json > '" + report.string() + "'") ==
          0);
  std::ifstream in(report);
  const std::string json((std::istreambuf_iterator<char>(in)), {});
  CHECK(json.find("\"intervals\": [") != std::string::npos);
  CHECK(json.find("daemon crashed (no clean stop)") != std::string::npos);
}

TEST_CASE("a clean stop and start loses nothing and flags no gap",
          "[integration][store][restart]") {
  // A long interval: only the final checkpoint counts; a long gap_seconds: a slow restart is no
  // gap.
  Site site("[storage]\ncheckpoint_seconds = 5\ngap_seconds = 60\n");
  zmq::context_t ctx(1);
  site.start();
  const double now = wall_now();
  // Two calls in "sales": one answered after 4 s, one abandoned after 30 s (by hand: offered 2,
  // answered 1, abandoned 1, within 20 s: the answer only).
  const std::vector<std::string> ev = {
      R"({"type":"call_enqueued","ts":)" + std::to_string(now - 60) +
          R"(,"call":"a","queue":"sales"})",
      R"({"type":"call_enqueued","ts":)" + std::to_string(now - 59) +
          R"(,"call":"b","queue":"sales"})",
      R"({"type":"call_answered","ts":)" + std::to_string(now - 56) +
          R"(,"call":"a","queue":"sales","agent":"ann"})",
      R"({"type":"call_abandoned","ts":)" + std::to_string(now - 29) +
          R"(,"call":"b","queue":"sales"})"};
  send_lines(ctx, site.feed_endpoint(), ev);
  REQUIRE(wait_for(
      [&] { return site.value("callwatch_queue_calls_offered_total{queue=\"sales\"}") == 2; },
      10s));
  REQUIRE(site.stop() == 0);  // the final checkpoint is written on the way out
  site.start();
  const std::string body = site.scrape();
  CHECK(sample(body, "callwatch_queue_calls_offered_total{queue=\"sales\"}") == 2.0);
  CHECK(sample(body, "callwatch_queue_calls_answered_within_sl_total{queue=\"sales\"}") == 1.0);
  CHECK(sample(body, "callwatch_queue_calls_abandoned_total{queue=\"sales\"}") == 1.0);
  CHECK(sample(body, "callwatch_queue_data_gap{queue=\"sales\"}") == 0.0);
  CHECK(site.log().find("clean stop") != std::string::npos);
}
