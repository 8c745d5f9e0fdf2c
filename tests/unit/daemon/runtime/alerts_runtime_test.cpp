// The daemon's alert step: config rules -> evaluator rules, the demo rule set and surge baseline,
// the evaluation cadence on the engine thread, acks handed over from the ROUTER thread, roles,
// and the day's history handed back.
#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "runtime/alerts_runtime.hpp"
#include "demo.hpp"
#include "callwatch/config/config.hpp"
#include "callwatch/metrics/engine.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"
#include "feeds/native/native_parser.hpp"
#include "feeds/sim/simulator.hpp"

namespace d = callwatch::daemon;
namespace m = callwatch::metrics;

namespace {

constexpr double kStart = 1767600000.0;  // 2026-01-05 08:00:00 UTC

m::QueueView queue(std::string name, double longest_wait, int waiting) {
  m::QueueView q;
  q.name = std::move(name);
  q.longest_wait = longest_wait;
  q.calls_waiting = waiting;
  return q;
}

const m::AlertView* find(const std::vector<m::AlertView>& alerts, std::string_view id) {
  for (const auto& a : alerts)
    if (a.id == id) return &a;
  return nullptr;
}

d::AckRequest ack(std::string id, std::string who, std::string role, double at, std::string comment = {}) {
  return d::AckRequest{.alert_id = std::move(id), .who = std::move(who), .comment = std::move(comment),
                       .role = std::move(role), .at = at};
}

}  // namespace

TEST_CASE("[[alert]] tables become evaluator rules field by field", "[daemon][alerts]") {
  const auto cfg = callwatch::config::parse_config(R"(
[[queue]]
name = "sales"

[[alert]]
name = "sl-1h"
metric = "service_level"
window = "1h"
formula = "answered"
below = 0.8
clear = 0.85
for = "5m"
severity = "critical"
queues = ["sales"]

[[alert]]
name = "wait"
metric = "longest_wait"
above = 90
)",
                                                   "test.toml");
  REQUIRE(cfg);
  const auto rules = d::to_alert_rules(cfg->alerts);
  REQUIRE(rules.size() == 2);
  const auto& sl = rules[0];
  CHECK(sl.name == "sl-1h");
  CHECK(sl.metric == m::AlertMetric::service_level);
  CHECK(sl.window == m::WindowKind::sliding_1h);
  REQUIRE(sl.formula);
  CHECK(*sl.formula == m::SlFormula::answered);
  CHECK_FALSE(sl.above);
  CHECK(sl.threshold == 0.8);
  CHECK(sl.clear == 0.85);
  CHECK(sl.for_seconds == 300);  // "5m"
  CHECK(sl.severity == m::AlertSeverity::critical);
  CHECK(sl.queues == std::vector<std::string>{"sales"});
  const auto& wait = rules[1];
  CHECK(wait.metric == m::AlertMetric::longest_wait);
  CHECK(wait.above);
  CHECK(wait.threshold == 90);
  CHECK(wait.clear == 90);  // no clear given: the firing level itself
  CHECK(wait.for_seconds == 0);
  CHECK(wait.severity == m::AlertSeverity::warning);
  CHECK(wait.queues.empty());
}

TEST_CASE("the demo rules cover wait, service level, surge, queue length and feed silence",
          "[daemon][alerts]") {
  const auto rules = d::demo_alert_rules();
  std::vector<std::string> names;
  for (const auto& r : rules) names.push_back(r.name);
  CHECK(names == std::vector<std::string>{"long-wait", "service-level-low", "surge", "queue-long", "feed-stale"});
  const auto& sl = rules[1];
  CHECK(sl.window == m::WindowKind::today);
  CHECK_FALSE(sl.above);
  CHECK(sl.threshold == 0.80);
  CHECK(sl.clear == 0.85);
  CHECK(sl.for_seconds == 60);
  const auto& surge = rules[2];
  CHECK(surge.metric == m::AlertMetric::surge_ratio);
  CHECK(surge.threshold == 2.5);
  CHECK(surge.clear == 1.5);
  CHECK(surge.for_seconds == 30);
  CHECK(surge.severity == m::AlertSeverity::critical);
}

TEST_CASE("surge overrides parse as FACTOR@SECONDS and refuse anything else", "[daemon][alerts]") {
  d::sim::SimOptions o;
  REQUIRE(d::parse_surge("2.5@180", o));
  CHECK(o.surge_factor == 2.5);
  CHECK(o.surge_at == 180);
  REQUIRE(d::parse_surge("30@0", o));
  CHECK(o.surge_factor == 30);
  CHECK(o.surge_at == 0);
  for (const char* bad : {"", "3", "@5", "3@", "x@5", "3@-1", "-2@5", "3@5s", "3@5@6", "nan@1"}) {
    INFO(bad);
    d::sim::SimOptions keep;
    CHECK_FALSE(d::parse_surge(bad, keep));
    CHECK(keep.surge_factor == 1.0);  // untouched on error
  }
}

TEST_CASE("the demo forecast splits the simulator's rate like the simulator does", "[daemon][alerts]") {
  d::sim::SimOptions o;  // 6 queues, 0.2 calls/s
  const auto f = d::demo_forecast_per_interval(o, 15);
  REQUIRE(f.size() == 6);
  // Weights 1/(1+0.3i): 1 + 1/1.3 + 1/1.6 + 1/1.9 + 1/2.2 + 1/2.5 = 3.775092.
  // Queue 0: 0.2/s x 900 s x 1/3.775092 = 47.681; queue 5: 180 x 0.4/3.775092 = 19.072.
  CHECK(f[0] == Approx(47.681).epsilon(1e-4));
  CHECK(f[5] == Approx(19.072).epsilon(1e-4));
  double sum = 0;
  for (double x : f) sum += x;
  CHECK(sum == Approx(180.0));  // 0.2/s x 900 s

  // Against the simulator itself: 20,000 s at 0.2/s is 4,000 calls; queue 0 expects
  // 47.681 x 20000/900 = 1059.6 (Poisson sd 32.6), queue 5 expects 423.8 (sd 20.6): 4 sd bands.
  o.duration = 20000;
  o.agents = 400;  // nobody waits long: arrivals are what we count, not service
  o.transfer_probability = 0;
  d::sim::Simulator sim(o, kStart);
  d::NativeParser parser;
  std::vector<int> arrivals(6, 0);
  const auto names = sim.queue_names();
  sim.run_until(kStart + 20000, [&](std::string_view json) {
    auto e = parser.parse(json);
    REQUIRE(e);
    if ((*e)->type != m::EventType::call_enqueued) return;
    for (std::size_t i = 0; i < names.size(); ++i)
      if ((*e)->queue == names[i]) ++arrivals[i];
  });
  CHECK(std::abs(arrivals[0] - 1059.6) < 4 * 32.6);
  CHECK(std::abs(arrivals[5] - 423.8) < 4 * 20.6);
}

TEST_CASE("the demo's surge raises the surge alert with the extra agents Erlang C needs",
          "[daemon][alerts]") {
  // The demo set-up of callwatchd --demo: forecast = the simulator's own rate per queue, surge
  // 4x from 600 s. The engine counts "the last 5 minutes" in whole-minute buckets: the current
  // minute so far plus the 4 before it (kStart is on a minute), against 300 s of forecast
  // (all queues: 0.2/s x 300 s = 60 expected).
  d::sim::SimOptions o;
  o.surge_factor = 4;
  o.surge_at = 600;
  o.surge_duration = 600;
  m::EngineSettings settings;
  const auto names = d::sim::Simulator::make_queue_names(o.queues);
  const auto forecast = d::demo_forecast_per_interval(o, settings.interval_minutes);
  for (std::size_t i = 0; i < names.size(); ++i) {
    m::QueueSettings q;
    q.forecast_per_interval = forecast[i];
    settings.queues.emplace(names[i], q);
  }
  m::ManualClock clock(kStart);
  m::Engine engine(settings, &clock);
  d::sim::Simulator sim(o, kStart);
  d::NativeParser parser;
  auto control = std::make_shared<d::AlertControl>();
  d::AlertsRuntime runtime(d::demo_alert_rules(), control);
  std::vector<d::FeedHealth> feeds(1);
  feeds[0].name = "sim";

  auto total_ratio = [](const m::Snapshot& s) {
    double arrivals = 0, expected = 0;
    for (const auto& q : s.queues) {
      arrivals += static_cast<double>(q.arrivals_5m);
      expected += q.settings.forecast_per_interval / 3;  // 5 of 15 minutes
    }
    return arrivals / expected;
  };
  bool surge_fired_before = false;
  m::Snapshot snap;
  for (double t = 1; t <= 930; t += 1) {
    sim.run_until(kStart + t, [&](std::string_view json) {
      auto e = parser.parse(json);
      REQUIRE(e);
      engine.apply(**e);
      feeds[0].last_event_ts = (*e)->ts;
    });
    clock.set(kStart + t);
    engine.advance_to(kStart + t);
    snap = engine.snapshot();
    runtime.on_publish(snap, feeds, kStart + t);
    if (t == 600) {
      // 240 s of normal load in the window: 48 arrivals (Poisson sd 6.9) / 60 = 0.8 +- 0.46
      // (4 sd); transfers between queues add ~3 %.
      CHECK(total_ratio(snap) > 0.34);
      CHECK(total_ratio(snap) < 1.3);
    }
    for (const auto& a : snap.alerts)
      if (a.rule == "surge" && a.state == m::AlertState::firing && t <= 600) surge_fired_before = true;
  }
  // At 930 s the window is 08:11:00-08:15:30, 270 s all in the surge: 0.8/s x 270 = 216
  // arrivals (sd 14.7) over 60 forecast -> 3.6 +- 0.98 (4 sd).
  CHECK(total_ratio(snap) > 2.6);
  CHECK(total_ratio(snap) < 4.6);
  int firing = 0;
  for (const auto& a : snap.alerts) {
    if (a.rule != "surge" || a.state != m::AlertState::firing) continue;
    ++firing;
    CHECK(a.severity == m::AlertSeverity::critical);
    // In words; "N more agents needed" is the queue's staffing gap, said only when above 0.
    CHECK_THAT(a.message, Catch::Contains("calls arriving at") && !Catch::Contains("surge_ratio"));
    CHECK(a.metric == "surge_ratio");
    const auto q = std::find_if(snap.queues.begin(), snap.queues.end(),
                                [&](const m::QueueView& v) { return v.name == a.queue; });
    REQUIRE(q != snap.queues.end());
    if (q->staffing_gap && *q->staffing_gap > 0) {
      REQUIRE(a.agents_needed);
      CHECK(*a.agents_needed == *q->staffing_gap);
      CHECK_THAT(a.message, Catch::Contains("; " + std::to_string(*q->staffing_gap) + " more agents needed"));
    } else {
      CHECK_FALSE(a.agents_needed);
      CHECK_THAT(a.message, !Catch::Contains("more agents"));
    }
  }
  CHECK(firing >= 1);
  CHECK_FALSE(surge_fired_before);
  // The simulator kept talking: no feed-stale alert.
  const auto* stale = find(snap.alerts, "feed-stale/sim");
  REQUIRE(stale);
  CHECK(stale->state == m::AlertState::inactive);
}

TEST_CASE("evaluation runs at most every 250 ms, at once after an ack, and hides inactive values",
          "[daemon][alerts]") {
  auto control = std::make_shared<d::AlertControl>();
  d::AlertsRuntime runtime(d::demo_alert_rules(), control);
  const std::vector<d::FeedHealth> no_feeds;
  m::Snapshot snap;
  snap.day_start = kStart - 8 * 3600;
  snap.queues = {queue("sales", 61, 3), queue("support", 12, 1)};

  runtime.on_publish(snap, no_feeds, kStart);  // first call: always evaluates
  CHECK(runtime.evaluations() == 1);
  const auto* lw = find(snap.alerts, "long-wait/sales");
  REQUIRE(lw);
  CHECK(lw->state == m::AlertState::pending);  // 61 > 60, `for` 10 s not yet over
  const auto* quiet = find(snap.alerts, "long-wait/support");
  REQUIRE(quiet);
  CHECK(quiet->state == m::AlertState::inactive);
  CHECK(std::isnan(quiet->value));  // not 12: an inactive alert carries nothing onto the wire
  CHECK(quiet->message.empty());

  runtime.on_publish(snap, no_feeds, kStart + 0.1);
  CHECK(runtime.evaluations() == 1);  // 100 ms later: the last view is reused
  CHECK(find(snap.alerts, "long-wait/sales"));  // ... but still put into the snapshot
  runtime.on_publish(snap, no_feeds, kStart + 0.25);
  CHECK(runtime.evaluations() == 2);

  snap.queues[0].longest_wait = 71;
  runtime.on_publish(snap, no_feeds, kStart + 10);  // 10 s after pending: fires
  CHECK(runtime.evaluations() == 3);
  lw = find(snap.alerts, "long-wait/sales");
  REQUIRE(lw);
  CHECK(lw->state == m::AlertState::firing);
  CHECK(lw->value == 71);
  CHECK_FALSE(lw->acked);

  // A supervisor acks through the control queue (as the ROUTER thread does).
  const m::Snapshot board = snap;
  REQUIRE(control->submit_ack(ack("long-wait/sales", "Mei 美", "supervisor", kStart + 11, "calling in backup"), board));
  CHECK(control->has_acks());
  CHECK(runtime.apply_acks(kStart + 11.05));
  CHECK_FALSE(control->has_acks());
  runtime.on_publish(snap, no_feeds, kStart + 11.1);  // within 250 ms of nothing: forced by the ack
  CHECK(runtime.evaluations() == 4);
  lw = find(snap.alerts, "long-wait/sales");
  REQUIRE(lw);
  CHECK(lw->state == m::AlertState::firing);  // acked alerts stay listed until resolved
  CHECK(lw->acked);
  CHECK(lw->acked_by == "Mei 美");
  CHECK(lw->acked_at == kStart + 11);  // the time the daemon received it
  CHECK(lw->ack_comment == "calling in backup");

  // The history handed back: pending at +0, firing at +10, the ack at +11.
  auto h = control->history();
  REQUIRE(h->size() == 3);
  CHECK((*h)[0].to == m::AlertState::pending);
  CHECK((*h)[0].at == kStart);
  CHECK((*h)[1].to == m::AlertState::firing);
  CHECK((*h)[1].at == kStart + 10);
  CHECK((*h)[2].at == kStart + 11);
  CHECK_THAT((*h)[2].message, Catch::Contains("acknowledged by Mei 美: calling in backup"));
  CHECK(control->history_since() == snap.day_start);

  // Resolved once at or under the clear level 45 (not merely under 60): 50 keeps it firing.
  snap.queues[0].longest_wait = 50;
  runtime.on_publish(snap, no_feeds, kStart + 20);
  CHECK(find(snap.alerts, "long-wait/sales")->state == m::AlertState::firing);
  snap.queues[0].longest_wait = 44;
  runtime.on_publish(snap, no_feeds, kStart + 21);
  CHECK(find(snap.alerts, "long-wait/sales")->state == m::AlertState::resolved);
  CHECK(control->history()->size() == 4);

  // A new day: yesterday's history is no longer "the day's".
  snap.day_start += 86400;
  snap.queues[0].longest_wait = 65;
  runtime.on_publish(snap, no_feeds, kStart + 86400);
  h = control->history();
  REQUIRE(h->size() == 1);
  CHECK((*h)[0].to == m::AlertState::pending);
  CHECK(control->history_since() == snap.day_start);
}

TEST_CASE("acks from kiosks, for unknown or quiet alerts, or without a name are refused",
          "[daemon][alerts]") {
  d::AlertControl control(2);
  m::Snapshot board;
  m::AlertView firing;
  firing.id = "surge/sales";
  firing.state = m::AlertState::firing;
  m::AlertView resolved;
  resolved.id = "surge/support";
  resolved.state = m::AlertState::resolved;
  board.alerts = {firing, resolved};

  auto kiosk = control.submit_ack(ack("surge/sales", "lobby screen", "kiosk", 1), board);
  REQUIRE_FALSE(kiosk);
  CHECK_THAT(kiosk.error(), Catch::Contains("read-only"));
  CHECK_FALSE(control.submit_ack(ack("surge/sales", "lobby screen", "", 1), board));  // no role: read-only
  auto nobody = control.submit_ack(ack("surge/sales", "", "supervisor", 1), board);
  REQUIRE_FALSE(nobody);
  CHECK_THAT(nobody.error(), Catch::Contains("who"));
  CHECK_FALSE(control.submit_ack(ack("surge/sales", std::string(65, 'x'), "supervisor", 1), board));
  CHECK_FALSE(control.submit_ack(ack("surge/sales", "Ana", "supervisor", 1, std::string(281, 'c')), board));
  auto unknown = control.submit_ack(ack("surge/nowhere", "Ana", "supervisor", 1), board);
  REQUIRE_FALSE(unknown);
  CHECK_THAT(unknown.error(), Catch::Contains("no alert"));
  auto quiet = control.submit_ack(ack("surge/support", "Ana", "supervisor", 1), board);
  REQUIRE_FALSE(quiet);
  CHECK_THAT(quiet.error(), Catch::Contains("resolved"));
  CHECK_FALSE(control.has_acks());

  // Bounded: two waiting (the capacity given), the third is refused until the engine drains.
  CHECK(control.submit_ack(ack("surge/sales", "Ana", "supervisor", 1), board));
  CHECK(control.submit_ack(ack("surge/sales", "Bo", "supervisor", 2, std::string(280, 'c')), board));
  CHECK_FALSE(control.submit_ack(ack("surge/sales", "Cy", "supervisor", 3), board));
  const auto taken = control.take_acks();
  REQUIRE(taken.size() == 2);
  CHECK(taken[0].who == "Ana");
  CHECK(taken[1].who == "Bo");
  CHECK(control.submit_ack(ack("surge/sales", "Cy", "supervisor", 3), board));
}

TEST_CASE("acks from many threads all reach the engine thread", "[daemon][alerts]") {
  d::AlertControl control(100000);
  m::Snapshot board;
  m::AlertView a;
  a.id = "x/q";
  a.state = m::AlertState::firing;
  board.alerts = {a};
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < 500; ++i) {
        REQUIRE(control.submit_ack(ack("x/q", "p" + std::to_string(p), "supervisor", i), board));
      }
    });
  }
  std::size_t seen = 0;
  while (seen < 2000) {
    seen += control.take_acks().size();  // the consumer drains while producers still push
  }
  for (auto& t : producers) t.join();
  CHECK(seen == 2000);  // 4 x 500, none lost or doubled
  CHECK(control.take_acks().empty());
}

TEST_CASE("feed_stale takes its ages from the feed health", "[daemon][alerts]") {
  auto control = std::make_shared<d::AlertControl>();
  auto rules = d::demo_alert_rules();
  CHECK(rules[4].queues == std::vector<std::string>{"sim"});  // the demo watches its simulator only
  rules[4].queues.clear();                                     // here: every feed
  d::AlertsRuntime runtime(rules, control);
  std::vector<d::FeedHealth> feeds(3);
  feeds[0].name = "pbx1";
  feeds[0].last_event_ts = kStart - 100;  // 100 s > 60: fires (for 0)
  feeds[1].name = "pbx2";
  feeds[1].last_event_ts = kStart - 5;
  feeds[2].name = "never";  // last_event_ts 0: never heard from
  m::Snapshot snap;
  runtime.on_publish(snap, feeds, kStart);
  const auto* a = find(snap.alerts, "feed-stale/pbx1");
  REQUIRE(a);
  CHECK(a->state == m::AlertState::firing);
  CHECK(a->value == 100);
  CHECK_THAT(a->message, Catch::Contains("no event for 100 s"));
  CHECK(find(snap.alerts, "feed-stale/pbx2")->state == m::AlertState::inactive);
  // Never heard from: stale from the moment the runtime first saw it, not "forever" at start.
  const auto* never = find(snap.alerts, "feed-stale/never");
  REQUIRE(never);
  CHECK(never->state == m::AlertState::inactive);
  feeds[1].last_event_ts = kStart + 60;
  runtime.on_publish(snap, feeds, kStart + 61);
  never = find(snap.alerts, "feed-stale/never");
  CHECK(never->state == m::AlertState::firing);  // 61 s > 60
  CHECK(never->value == 61);
  CHECK_THAT(never->message, Catch::Contains("no event for 61 s"));
  CHECK(find(snap.alerts, "feed-stale/pbx2")->state == m::AlertState::inactive);
}

TEST_CASE("a restart restores states, acks and the day's history", "[daemon][alerts]") {
  auto control = std::make_shared<d::AlertControl>();
  d::AlertsRuntime runtime(d::demo_alert_rules(), control);
  const double day = kStart - 8 * 3600;  // 00:00 UTC of kStart's day
  m::AlertView was;
  was.id = "long-wait/sales";
  was.rule = "long-wait";
  was.queue = "sales";
  was.severity = m::AlertSeverity::critical;
  was.state = m::AlertState::firing;
  was.since = kStart - 30;
  was.acked = true;
  was.acked_by = "Ana";
  was.acked_at = kStart - 20;
  m::AlertTransition yesterday{"surge/sales", "surge", "sales", m::AlertSeverity::critical,
                               m::AlertState::pending, m::AlertState::firing, day - 60, 3, "old"};
  m::AlertTransition today{"long-wait/sales", "long-wait", "sales", m::AlertSeverity::critical,
                           m::AlertState::pending, m::AlertState::firing, kStart - 30, 70, "fired"};
  runtime.restore({was}, {yesterday, today});

  m::Snapshot snap;
  snap.day_start = day;
  snap.queues = {queue("sales", 66, 2)};
  runtime.on_publish(snap, {}, kStart);
  const auto* a = find(snap.alerts, "long-wait/sales");
  REQUIRE(a);
  CHECK(a->state == m::AlertState::firing);  // still beyond 45: no new transition
  CHECK(a->acked);
  CHECK(a->acked_by == "Ana");
  const auto h = control->history();
  REQUIRE(h->size() == 1);  // today's restored transition; yesterday's is not "the day's"
  CHECK((*h)[0].message == "fired");
  CHECK(runtime.history_first_seq() == 1);
}

TEST_CASE("ack requests, replies and the alert history travel the wire intact", "[daemon][alerts][wire]") {
  namespace wire = m::wire;
  auto req = wire::decode(wire::encode_ack_request("surge/销售", "Mei \"M\" 美", "on it\nnow", "supervisor"));
  REQUIRE(req);
  CHECK(req->type == wire::MessageType::request);
  CHECK(req->request == "ack");
  CHECK(req->alert_id == "surge/销售");
  CHECK(req->who == "Mei \"M\" 美");
  CHECK(req->comment == "on it\nnow");
  CHECK(req->role == "supervisor");
  CHECK(req->proto.minor >= 1);  // these fields came in 1.1

  const wire::Envelope env{.seq = 7, .site = "hq", .sent_at = 1, .stream = 9};
  auto rep = wire::decode(wire::encode_reply("ack", "surge/销售", env));
  REQUIRE(rep);
  CHECK(rep->type == wire::MessageType::reply);
  CHECK(rep->request == "ack");
  CHECK(rep->alert_id == "surge/销售");
  CHECK(rep->seq == 7);

  std::vector<m::AlertTransition> h = {
      {"surge/sales", "surge", "sales", m::AlertSeverity::critical, m::AlertState::pending,
       m::AlertState::firing, 1000.5, 2.75, "sales: surge_ratio 2.75x"},
      {"feed-stale/pbx", "feed-stale", "pbx", m::AlertSeverity::warning, m::AlertState::inactive,
       m::AlertState::firing, 1001, m::kNoValue, "feed pbx: no event for ever"}};
  auto hist = wire::decode(wire::encode_alert_history(h, 900, env));
  REQUIRE(hist);
  CHECK(hist->type == wire::MessageType::reply);
  CHECK(hist->request == "alert_history");
  CHECK(hist->since == 900);
  REQUIRE(hist->history.size() == 2);
  CHECK(hist->history[0].id == "surge/sales");
  CHECK(hist->history[0].from == m::AlertState::pending);
  CHECK(hist->history[0].to == m::AlertState::firing);
  CHECK(hist->history[0].severity == m::AlertSeverity::critical);
  CHECK(hist->history[0].at == 1000.5);
  CHECK(hist->history[0].value == 2.75);
  CHECK(hist->history[0].message == "sales: surge_ratio 2.75x");
  CHECK(std::isnan(hist->history[1].value));  // NaN travels as null and back
  CHECK(hist->history[1].severity == m::AlertSeverity::warning);

  // Untrusted input: a bad state in a history entry is an error, not a crash.
  CHECK_FALSE(wire::decode(R"({"proto":"1.1","type":"reply","history":[{"id":"a","to":"exploded"}]})"));
}
