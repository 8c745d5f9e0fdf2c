// PBX restarts and reconnects (METRICS.md "Counting rules": the restart and timestamp-less
// rules) through `callwatchd report` (replay_report + the JSON/CSV builders) and through the
// engine the feeds drive. Fixtures in tests/data/restart; every expected figure is worked out by
// hand in the comments. T0 = 1767690000 = 2026-01-06 09:00:00 UTC.
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <string>

#include <simdjson.h>

#include "../feeds/feed_test_util.hpp"
#include "callwatch/metrics/engine.hpp"
#include "feeds/ami/ami_capture.hpp"
#include "feeds/queue_log/queue_log_parser.hpp"
#include "report/report.hpp"

namespace cd = callwatch::daemon;
namespace m = callwatch::metrics;
using simdjson::dom::element;

namespace {

constexpr double T0 = 1767690000;

std::string slurp(const std::string& rel) {
  std::ifstream in(std::string(CALLWATCH_TEST_DATA) + "/" + rel, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

cd::ReportResult replay(const std::string& name, std::string text, const std::string& format) {
  cd::ReportRequest req;
  req.format = *callwatch::config::feed_type_from_string(format);
  req.inputs.push_back(cd::ReportInput{name, std::move(text)});
  req.settings = cd::report_engine_settings(m::EngineSettings{}, cd::ReportOptions{});
  auto r = cd::replay_report(req);
  REQUIRE(r.has_value());
  return std::move(*r);
}

struct Json {
  simdjson::dom::parser parser;
  element root;
  explicit Json(const std::string& text) { root = parser.parse(text); }
};
std::int64_t I(element e) { return int64_t(e); }
double D(element e) { return double(e); }

std::size_t warnings_with(const cd::ReportResult& r, std::string_view needle) {
  std::size_t n = 0;
  for (const auto& w : r.warnings) n += w.find(needle) != std::string::npos ? 1 : 0;
  return n;
}

const m::AgentView* agent(const m::Snapshot& s, std::string_view name) {
  for (const auto& a : s.agents) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

// The capture without its Timestamp headers (Asterisk's default, timestampevents=no).
std::string without_timestamps(const std::string& capture) {
  std::string out;
  std::size_t at = 0;
  while (at < capture.size()) {
    std::size_t nl = capture.find('\n', at);
    nl = nl == std::string::npos ? capture.size() : nl + 1;
    const std::string_view line(capture.data() + at, nl - at);
    if (line.rfind("Timestamp:", 0) != 0) out.append(line);
    at = nl;
  }
  return out;
}

}  // namespace

TEST_CASE("queue_log QUEUESTART: pauses and calls end there, shutdown ABANDONs count",
          "[report][restart][queue_log]") {
  const auto r = replay("shutdown.queue_log", slurp("restart/shutdown.queue_log"), "queue_log");
  Json j(cd::build_report_json(r, false));
  // sales. Before the restart: c1 answered by Ben (wait 10) and still in talk at the restart (no
  // completion: as after a crash); c2, c3 waiting, written ABANDON by the shutdown (waits 200,
  // 180); c5 answered by Cai (wait 5), COMPLETECALLER at the shutdown (talk 165). QUEUESTART at
  // T0+400 finds no visit open. After: c11 answered by Ann (wait 10, talk 100), c13 abandoned 20.
  //   offered 6 = answered 3 (c1, c5, c11) + abandoned 3 (c2, c3, c13); short 0 (all >= 5 s).
  //   A_T = 3 (10, 5, 10 <= 20); Ab_T = 1 (c13: 20 <= 20). ASA = (10+5+10)/3 = 8.333.
  //   AHT = (165 + 100) / 2 = 132.5 (c1 never completed). max wait 200. SL offered 3/6 = 0.5.
  const element q = j.root["queues"]["sales"];
  CHECK(I(q["offered"]) == 6);
  CHECK(I(q["answered"]) == 3);
  CHECK(I(q["abandoned"]) == 3);
  CHECK(I(q["short_abandoned"]) == 0);
  CHECK(I(q["answered_within_sl"]) == 3);
  CHECK(I(q["abandoned_within_sl"]) == 1);
  CHECK(D(q["asa_seconds"]) == Approx(25.0 / 3).margin(0.001));  // printed to the ms
  CHECK(D(q["aht_seconds"]) == Approx(132.5));
  CHECK(D(q["max_wait_seconds"]) == Approx(200.0));
  CHECK(D(q["service_level"]["offered"]) == Approx(0.5));

  const element a = j.root["agents"];
  // Ann: PAUSE lunch at T0, no UNPAUSE (queues.conf members come back unpaused): paused T0 ..
  //   T0+400 = 400 s. Were the pause carried over the restart it would be 510 s up to her
  //   CONNECT, and 210 s more after the call: 720 s. Then available 400..510 (110 s), on the
  //   call 510..610 (100 s), available 610..820 (210 s): occupancy 100 / (100+110+210) = 0.2381.
  CHECK(D(a["Ann"]["paused_seconds"]) == Approx(400.0));
  CHECK(D(a["Ann"]["talk_seconds"]) == Approx(100.0));
  CHECK(D(a["Ann"]["occupancy"]) == Approx(100.0 / 420).epsilon(1e-6));
  // Ben: on c1 from T0+70; the restart at T0+400 ends it (330 s on the call). Available
  //   400..700 (300 s), PAUSE break 700..760 = 60 s, available 760..820 (60 s).
  //   occupancy 330 / (330 + 360) = 0.4783. Were c1 kept up, Ben would be on_call to the end:
  //   the PAUSE at 700 would not count (a pause during a call counts from its end) and his
  //   occupancy would be 1.
  CHECK(D(a["Ben"]["paused_seconds"]) == Approx(60.0));
  CHECK(I(a["Ben"]["answered"]) == 1);
  CHECK(I(a["Ben"]["handled"]) == 0);
  CHECK(D(a["Ben"]["talk_seconds"]) == Approx(0.0));
  CHECK(D(a["Ben"]["occupancy"]) == Approx(330.0 / 690).epsilon(1e-6));
  // Cai: on c5 135..300 (165 s), available 300..820 (520 s): 165 / 685.
  CHECK(D(a["Cai"]["talk_seconds"]) == Approx(165.0));
  CHECK(D(a["Cai"]["occupancy"]) == Approx(165.0 / 685).epsilon(1e-6));

  CHECK(I(j.root["data_quality"]["events"]) == 18);
  CHECK(warnings_with(r, "line 11: PBX restart") == 1);
  CHECK(warnings_with(r, "0 visits still open") == 1);

  // Through the engine: the board just after the QUEUESTART line (lines 1-11).
  m::Engine engine(m::EngineSettings{}, nullptr);
  cd::QueueLogParser parser;
  const std::string text = slurp("restart/shutdown.queue_log");
  std::size_t at = 0;
  for (std::uint64_t n = 1; n <= 11; ++n) {
    const std::size_t nl = text.find('\n', at);
    const auto& l = parser.parse(std::string_view(text).substr(at, nl - at), n);
    REQUIRE(l.status == cd::QueueLogLineStatus::accepted);
    for (const auto& e : l.events) engine.apply(e);
    at = nl + 1;
  }
  const auto snap = engine.snapshot();
  REQUIRE(agent(snap, "Ann") != nullptr);
  REQUIRE(agent(snap, "Ben") != nullptr);
  CHECK(agent(snap, "Ann")->state == m::AgentState::available);  // no longer paused
  CHECK(agent(snap, "Ann")->pause_reason.empty());
  CHECK(agent(snap, "Ben")->state == m::AgentState::available);  // no longer on_call
  CHECK(agent(snap, "Ann")->state_since == T0 + 400);
  CHECK(agent(snap, "Ben")->state_since == T0 + 400);
}

TEST_CASE("AMI reconnect: QueueStatus sets each member's paused state and reason",
          "[report][restart][ami]") {
  const std::string capture = slurp("restart/reconnect_paused.ami");
  // The board as the rebuild of connection 2 leaves it (the capture up to "#### REBUILT").
  {
    callwatch::test::Recorder rec;
    cd::AmiTranslator tr({}, rec.sink());
    cd::AmiFramer framer;
    const auto cut = capture.find("#### REBUILT");
    REQUIRE(cut != std::string::npos);
    cd::replay_ami_text(std::string_view(capture).substr(0, cut), framer, tr);
    INFO(rec.all());
    m::Engine engine(m::EngineSettings{}, nullptr);
    for (const auto& ev : rec.events) {
      cd::OwnedEvent copy = ev;
      engine.apply(copy.view());
    }
    CHECK(rec.count(m::EventType::feed_restart) == 1);  // at the drop (T0+200), once
    const auto snap = engine.snapshot();
    for (const char* n : {"Ann", "Ben", "Cai", "Dan"}) REQUIRE(agent(snap, n) != nullptr);
    // Ann stayed paused across the drop, Ben paused while the feed was down: both paused with
    // the PBX's reason. Cai's call (c1) goes on: on_call from the row's InCall 1 / Status 2.
    // Dan's coffee pause ended while down: available.
    CHECK(agent(snap, "Ann")->state == m::AgentState::paused);
    CHECK(agent(snap, "Ann")->pause_reason == "lunch");
    CHECK(agent(snap, "Ben")->state == m::AgentState::paused);
    CHECK(agent(snap, "Ben")->pause_reason == "meeting");
    CHECK(agent(snap, "Cai")->state == m::AgentState::on_call);
    CHECK(agent(snap, "Dan")->state == m::AgentState::available);
    CHECK(agent(snap, "Ann")->state_since == T0 + 300);  // the gap 200..300 is no pause time
    REQUIRE(!snap.queues.empty());
    // c2 (waiting since T0+100, listed again) and c3 (joined unseen at 300 - 50 = T0+250).
    CHECK(snap.queues[0].calls_waiting == 2);
    // The queue's members by state: Ann and Ben paused in sales, Cai on a call, Dan available.
    CHECK(snap.queues[0].agents[static_cast<int>(m::AgentState::paused)] == 2);
    CHECK(snap.queues[0].agents[static_cast<int>(m::AgentState::on_call)] == 1);
    CHECK(snap.queues[0].agents[static_cast<int>(m::AgentState::available)] == 1);
  }

  const auto r = replay("reconnect_paused.ami", capture, "ami");
  Json j(cd::build_report_json(r, false));
  // sales: c1 answered by Cai (HoldTime 10, TalkTime 270); c2 waited over the drop, answered
  // by Dan at T0+330 (HoldTime 230, TalkTime 90), offered once; c3 joined while down, abandoned
  // (HoldTime 100). offered 3, answered 2, abandoned 1. ASA (10+230)/2 = 120;
  // AHT (270+90)/2 = 180; max wait 230.
  const element q = j.root["queues"]["sales"];
  CHECK(I(q["offered"]) == 3);
  CHECK(I(q["answered"]) == 2);
  CHECK(I(q["abandoned"]) == 1);
  CHECK(D(q["asa_seconds"]) == Approx(120.0));
  CHECK(D(q["aht_seconds"]) == Approx(180.0));
  CHECK(D(q["max_wait_seconds"]) == Approx(230.0));
  const element a = j.root["agents"];
  // Ann: paused T0 (first rebuild) .. T0+200 (drop) = 200 s, again T0+300 (rebuild) .. T0+400
  //   (unpause) = 100 s: 300 s, not 400 (the gap is no pause time).
  // Ben: paused from the rebuild T0+300 to T0+500 = 200 s. Dan: coffee T0+150 .. drop = 50 s.
  CHECK(D(a["Ann"]["paused_seconds"]) == Approx(300.0));
  CHECK(D(a["Ben"]["paused_seconds"]) == Approx(200.0));
  CHECK(D(a["Dan"]["paused_seconds"]) == Approx(50.0));
  CHECK(D(a["Cai"]["paused_seconds"]) == Approx(0.0));
  CHECK(D(a["Cai"]["talk_seconds"]) == Approx(270.0));
  CHECK(D(a["Dan"]["talk_seconds"]) == Approx(90.0));
}

TEST_CASE("an AMI capture without Timestamp headers: durations null, counts the same",
          "[report][restart][ami]") {
  const std::string timed = slurp("restart/reconnect_paused.ami");
  const std::string untimed = without_timestamps(timed);
  REQUIRE(untimed.find("Timestamp:") == std::string::npos);
  REQUIRE(untimed.size() < timed.size());

  const auto rt = replay("timed.ami", timed, "ami");
  const auto ru = replay("untimed.ami", untimed, "ami");
  Json jt(cd::build_report_json(rt, false));
  Json ju(cd::build_report_json(ru, false));

  // With Timestamp headers: the figures of the test above, durations are numbers.
  CHECK(warnings_with(rt, "Timestamp") == 0);
  CHECK(D(jt.root["agents"]["Ann"]["paused_seconds"]) == Approx(300.0));
  CHECK(jt.root["agents"]["Ann"]["occupancy"].is_double());
  CHECK(jt.root["queues"]["sales"]["occupancy"].is_double());

  // Without: the same counts, and the waits and talk the events state (HoldTime, TalkTime).
  const element qt = jt.root["queues"]["sales"];
  const element qu = ju.root["queues"]["sales"];
  for (const char* k : {"offered", "answered", "abandoned", "short_abandoned", "timed_out",
                        "exited_empty", "exited_key", "answered_within_sl", "abandoned_within_sl",
                        "bounced"}) {
    INFO(k);
    CHECK(I(qu[k]) == I(qt[k]));
  }
  CHECK(I(qu["offered"]) == 3);
  CHECK(D(qu["asa_seconds"]) == Approx(120.0));     // (10 + 230) / 2, stated HoldTimes
  CHECK(D(qu["aht_seconds"]) == Approx(180.0));     // (270 + 90) / 2, stated TalkTimes
  CHECK(D(qu["max_wait_seconds"]) == Approx(230.0));
  CHECK(D(qu["service_level"]["offered"]) == D(qt["service_level"]["offered"]));
  // Time in state no event states: null, never a number guessed from Uniqueid clocks.
  CHECK(qu["occupancy"].is_null());
  CHECK(qu["utilization"].is_null());
  for (const char* n : {"Ann", "Ben", "Cai", "Dan"}) {
    INFO(n);
    const element au = ju.root["agents"][n];
    const element at = jt.root["agents"][n];
    CHECK(au["paused_seconds"].is_null());
    CHECK(au["occupancy"].is_null());
    CHECK(I(au["answered"]) == I(at["answered"]));
    CHECK(I(au["handled"]) == I(at["handled"]));
    CHECK(I(au["ring_noanswer"]) == I(at["ring_noanswer"]));
  }
  CHECK(D(ju.root["agents"]["Cai"]["talk_seconds"]) == Approx(270.0));  // TalkTime stated
  CHECK(D(ju.root["agents"]["Dan"]["aht_seconds"]) == Approx(90.0));
  CHECK(I(ju.root["data_quality"]["events"]) == I(jt.root["data_quality"]["events"]));
  // One warning says why.
  CHECK(warnings_with(ru, "Timestamp") == 1);

  // CSV: the same cells empty, the stated ones given.
  const std::string csv = cd::build_report_csv(ru, false);
  const auto nl = csv.find('\n');
  const std::string header = csv.substr(0, nl);
  const std::string row = csv.substr(nl + 1, csv.find('\n', nl + 1) - nl - 1);
  auto cell = [](const std::string& line, std::size_t i) {
    std::size_t at = 0;
    for (std::size_t k = 0; k < i; ++k) at = line.find(',', at) + 1;
    return line.substr(at, line.find(',', at) - at);
  };
  auto column = [&](std::string_view name) {
    std::size_t i = 0, at = 0;
    while (cell(header, i) != name) {
      at = header.find(',', at);
      REQUIRE(at != std::string::npos);
      ++at;
      ++i;
    }
    return i;
  };
  CHECK(cell(row, column("occupancy")).empty());
  CHECK(cell(row, column("utilization")).empty());
  CHECK(cell(row, column("asa_seconds")) == "120");
  CHECK(cell(row, column("offered")) == "3");
}
