// `callwatchd report` without a process: replay_report + build_report_json on hand-written
// queue_log scenarios (tests/data/queue_log), the real asterisk2slack capture and native lines.
// Every expected figure is worked out by hand from the input in the comments; the JSON is parsed
// back so the DESIGN.md shape is what is checked.
#include <catch2/catch.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iterator>
#include <string>

#include <fmt/format.h>
#include <simdjson.h>

#include "report/report.hpp"

namespace cd = callwatch::daemon;
namespace m = callwatch::metrics;
using simdjson::dom::element;

namespace {

std::string slurp(const std::string& rel) {
  std::ifstream in(std::string(CALLWATCH_TEST_DATA) + "/" + rel, std::ios::binary);
  REQUIRE(in.good());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

cd::ReportResult replay(std::vector<cd::ReportInput> inputs, std::string format = "queue_log",
                        cd::ReportOptions opts = {}) {
  cd::ReportRequest req;
  req.format = *callwatch::config::feed_type_from_string(format);
  req.inputs = std::move(inputs);
  req.settings = cd::report_engine_settings(m::EngineSettings{}, opts);
  req.intervals = opts.interval_minutes.has_value();
  auto r = cd::replay_report(req);
  REQUIRE(r.has_value());
  return std::move(*r);
}

cd::ReportResult replay_file(const std::string& rel, cd::ReportOptions opts = {}) {
  return replay({cd::ReportInput{rel, slurp(rel)}}, "queue_log", opts);
}

struct Json {
  simdjson::dom::parser parser;
  element root;
  explicit Json(const std::string& text) { root = parser.parse(text); }
};

std::int64_t I(element e) { return int64_t(e); }
double D(element e) { return double(e); }
bool is_null(element e) { return e.is_null(); }

bool has_warning(const cd::ReportResult& r, std::string_view needle) {
  for (const auto& w : r.warnings) {
    if (w.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a day of two queues replays to the hand-worked KPIs", "[report][queue_log]") {
  const auto r = replay_file("queue_log/day_two_queues.log");
  Json j(cd::build_report_json(r, false));
  // Times below are 2026-01-05 UTC. T = 20 s, S = 5 s (defaults).
  //
  // sales (S1..S9), wait from the line (CONNECT holdtime, ABANDON waittime):
  //   S1 answered 20 (exactly T: within), S2 answered 8, S3 abandoned 5 (exactly S: not short,
  //   within T), S4 abandoned 2 (short), S5 answered 21 (beyond T), S6 abandoned 30, S7 answered
  //   45 then TRANSFER, S8 answered 3, S9 answered 10 (after the QUEUESTART).
  //   offered 9 = 6 answered + 3 abandoned; A_T = S1,S2,S8,S9 = 4; Ab_T = S3,S4 = 2; short 1.
  //   ASA = (20+8+21+45+3+10)/6 = 107/6 = 17.833; AHT = (180+240+300+60+120+90)/6 = 990/6 = 165
  //   max wait 45. SL: answered 4/6; offered 4/(9-1) = 0.5; positive (4+2-1)/8 = 0.625;
  //   ignored 4/(9-3) = 4/6.
  const element sales = j.root["queues"]["sales"];
  CHECK(I(sales["offered"]) == 9);
  CHECK(I(sales["answered"]) == 6);
  CHECK(I(sales["abandoned"]) == 3);
  CHECK(I(sales["short_abandoned"]) == 1);
  CHECK(I(sales["timed_out"]) == 0);
  CHECK(I(sales["exited_empty"]) == 0);
  CHECK(I(sales["exited_key"]) == 0);
  CHECK(I(sales["answered_within_sl"]) == 4);
  CHECK(I(sales["abandoned_within_sl"]) == 2);
  CHECK(D(sales["asa_seconds"]) == Approx(107.0 / 6).margin(0.001));
  CHECK(D(sales["aht_seconds"]) == Approx(165.0));
  CHECK(D(sales["max_wait_seconds"]) == Approx(45.0));
  CHECK(D(sales["service_level"]["answered"]) == Approx(4.0 / 6));
  CHECK(D(sales["service_level"]["offered"]) == Approx(0.5));
  CHECK(D(sales["service_level"]["abandons_positive"]) == Approx(0.625));
  CHECK(D(sales["service_level"]["abandons_ignored"]) == Approx(4.0 / 6));

  // support (P1..P9): P1 answered 12 and P2 answered 25 entered the same second with ids
  //   1767603720.1 and 1767603720.10 (two calls, not one); P3 abandoned 4 (short), P4 abandoned
  //   15, P5 EXITWITHTIMEOUT 300, P6 EXITWITHKEY 33 (data4), P7 answered 12, P9 EXITEMPTY 4, P8
  //   was waiting when QUEUESTART came: cut, not offered.
  //   offered = 3 + 2 + 1 + 1 + 1 = 8; A_T = P1,P7 = 2; Ab_T = P3,P4 = 2; short 1.
  //   ASA = (12+25+12)/3 = 16.333; AHT = (200+150+400)/3 = 250; max wait 300.
  //   SL: answered 2/3; offered 2/(8-1) = 2/7; positive (2+2-1)/7 = 3/7; ignored 2/(8-2) = 1/3.
  const element support = j.root["queues"]["support"];
  CHECK(I(support["offered"]) == 8);
  CHECK(I(support["answered"]) == 3);
  CHECK(I(support["abandoned"]) == 2);
  CHECK(I(support["short_abandoned"]) == 1);
  CHECK(I(support["timed_out"]) == 1);
  CHECK(I(support["exited_empty"]) == 1);
  CHECK(I(support["exited_key"]) == 1);
  CHECK(I(support["answered_within_sl"]) == 2);
  CHECK(I(support["abandoned_within_sl"]) == 2);
  CHECK(D(support["asa_seconds"]) == Approx(49.0 / 3).margin(0.001));
  CHECK(D(support["aht_seconds"]) == Approx(250.0));
  CHECK(D(support["max_wait_seconds"]) == Approx(300.0));
  CHECK(D(support["service_level"]["answered"]) == Approx(2.0 / 3));
  CHECK(D(support["service_level"]["offered"]) == Approx(2.0 / 7));
  CHECK(D(support["service_level"]["abandons_positive"]) == Approx(3.0 / 7));
  CHECK(D(support["service_level"]["abandons_ignored"]) == Approx(1.0 / 3));

  // Agents. Alice: S1 180 + S5 300 + S7 60 talk; lunch 11:00-11:30 = 1800 s, once although
  //   written as PAUSEALL (naming SIP/alice, Asterisk 11) + PAUSE in both queues; her
  //   RINGCANCELED on P7 is no ring-no-answer.
  // Bob: S2 240 + S8 120 + S9 90 = 450 talk; RINGNOANSWER 15000 ms on S1 = 1; break 09:30-09:40.
  // Chen Wei: P1 200 + P7 400; pause 12:00-12:20 = 1200 s although the reason changed at 12:10.
  // Dana: P2 150; joined paused at 09:00, unpaused 09:02 = 120 s; her 0 ms ring is refused.
  const element agents = j.root["agents"];
  CHECK(simdjson::dom::object(agents).size() == 4);  // no agent "SIP/alice"
  CHECK(I(agents["Alice"]["answered"]) == 3);
  CHECK(I(agents["Alice"]["ring_noanswer"]) == 0);
  CHECK(D(agents["Alice"]["talk_seconds"]) == Approx(540.0));
  CHECK(D(agents["Alice"]["paused_seconds"]) == Approx(1800.0));
  CHECK(I(agents["Bob"]["answered"]) == 3);
  CHECK(I(agents["Bob"]["ring_noanswer"]) == 1);
  CHECK(D(agents["Bob"]["talk_seconds"]) == Approx(450.0));
  CHECK(D(agents["Bob"]["paused_seconds"]) == Approx(600.0));
  CHECK(I(agents["Chen Wei"]["answered"]) == 2);
  CHECK(D(agents["Chen Wei"]["talk_seconds"]) == Approx(600.0));
  CHECK(D(agents["Chen Wei"]["paused_seconds"]) == Approx(1200.0));
  CHECK(I(agents["Dana"]["answered"]) == 1);
  CHECK(I(agents["Dana"]["ring_noanswer"]) == 0);
  CHECK(D(agents["Dana"]["talk_seconds"]) == Approx(150.0));
  CHECK(D(agents["Dana"]["paused_seconds"]) == Approx(120.0));

  // 67 lines, none blank, rejected or duplicated; the restart (line 64) is flagged.
  CHECK(I(j.root["data_quality"]["events"]) == 67);
  CHECK(I(j.root["data_quality"]["rejected"]) == 0);
  CHECK(has_warning(r, "line 64: PBX restart"));
  CHECK_FALSE(has_warning(r, "twice"));  // .1 and .10 never merged into one call
  CHECK(r.aht_parts.find("talk only") != std::string::npos);
  // No "intervals" key without --interval.
  CHECK(j.root["intervals"].error() == simdjson::NO_SUCH_FIELD);
}

TEST_CASE("--interval 15m lists the intervals in which outcomes happened", "[report][queue_log]") {
  cd::ReportOptions o;
  o.interval_minutes = 15;
  const auto r = replay_file("queue_log/day_two_queues.log", o);
  Json j(cd::build_report_json(r, true));
  simdjson::dom::array iv = j.root["intervals"];
  // sales: 09:00 (S1-S4), 09:15 (S5, S6), 09:30 (S7), 10:00 (S8), 13:00 (S9);
  // support: 09:00 (P1, P2), 09:15 (P3, P4), 09:30 (P5 entered 09:30, P6), 09:45 (P7),
  // 10:15 (P9), 12:45 (P8's arrival only). 11 in all, ordered by start then queue.
  REQUIRE(iv.size() == 11);
  std::vector<std::string> keys;
  for (element e : iv) {
    keys.push_back(std::string(std::string_view(e["start"])).substr(11, 5) + " " +
                   std::string(std::string_view(e["queue"])));
  }
  CHECK(keys == std::vector<std::string>{"09:00 sales", "09:00 support", "09:15 sales",
                                         "09:15 support", "09:30 sales", "09:30 support",
                                         "09:45 support", "10:00 sales", "10:15 support",
                                         "12:45 support", "13:00 sales"});
  // sales 09:00-09:15: S1 (20), S2 (8) answered, S3 (5), S4 (2, short) abandoned.
  //   offered 4, A_T 2, Ab_T 2, ASA 14, AHT (180+240)/2 = 210, max 20;
  //   SL answered 2/2, offered 2/(4-1), positive (2+2-1)/3 = 1, ignored 2/(4-2) = 1.
  element s0 = iv.at(0);
  CHECK(std::string_view(s0["start"]) == "2026-01-05T09:00:00Z");
  CHECK(I(s0["offered"]) == 4);
  CHECK(I(s0["answered_within_sl"]) == 2);
  CHECK(I(s0["abandoned_within_sl"]) == 2);
  CHECK(I(s0["short_abandoned"]) == 1);
  CHECK(D(s0["asa_seconds"]) == Approx(14.0));
  CHECK(D(s0["aht_seconds"]) == Approx(210.0));
  CHECK(D(s0["max_wait_seconds"]) == Approx(20.0));
  CHECK(D(s0["service_level"]["offered"]) == Approx(2.0 / 3));
  CHECK(D(s0["service_level"]["abandons_positive"]) == Approx(1.0));
  // support 09:15: P3 (4, short) and P4 (15) abandoned, nothing answered:
  //   SL answered 0/0 = null, offered 0/(2-1) = 0, positive (0+2-1)/1 = 1, ignored 0/(2-2) = null.
  element p1 = iv.at(3);
  CHECK(I(p1["offered"]) == 2);
  CHECK(is_null(p1["asa_seconds"]));
  CHECK(is_null(p1["aht_seconds"]));
  CHECK(D(p1["max_wait_seconds"]) == Approx(15.0));
  CHECK(is_null(p1["service_level"]["answered"]));
  CHECK(D(p1["service_level"]["offered"]) == Approx(0.0));
  CHECK(D(p1["service_level"]["abandons_positive"]) == Approx(1.0));
  CHECK(is_null(p1["service_level"]["abandons_ignored"]));
  // support 12:45: only P8's arrival; every ratio and the max wait are null.
  element p8 = iv.at(9);
  CHECK(I(p8["offered"]) == 0);
  CHECK(is_null(p8["max_wait_seconds"]));
  CHECK(is_null(p8["service_level"]["offered"]));
}

TEST_CASE("hourly intervals align to local time in a +05:45 zone", "[report][queue_log]") {
  cd::ReportRequest req;
  req.inputs = {{"day", slurp("queue_log/day_two_queues.log")}};
  cd::ReportOptions o;
  o.interval_minutes = 60;
  m::EngineSettings base;
  base.tz = m::TimeZone::fixed(5 * 3600 + 45 * 60, "Asia/Kathmandu");
  req.settings = cd::report_engine_settings(base, o);
  req.intervals = true;
  auto r = cd::replay_report(req);
  REQUIRE(r);
  // Local hours start at hh:15 UTC. sales 08:15-09:15Z (local 14:00): S1-S4, offered 4;
  // 09:15-10:15Z (local 15:00): S5 (21), S6 (ab 30), S7 (45), S8 (3): offered 4, answered 3, A_T 1;
  // 12:15-13:15Z (local 18:00): S9.
  std::vector<const cd::ReportInterval*> sales;
  for (const auto& i : r->intervals) {
    if (i.queue == "sales") sales.push_back(&i);
  }
  REQUIRE(sales.size() == 3);
  CHECK(cd::format_report_time(sales[0]->start, req.settings.tz) == "2026-01-05T14:00:00+05:45");
  CHECK(sales[0]->counters.offered() == 4);
  CHECK(cd::format_report_time(sales[1]->start, req.settings.tz) == "2026-01-05T15:00:00+05:45");
  CHECK(sales[1]->counters.offered() == 4);
  CHECK(sales[1]->counters.answered == 3);
  CHECK(sales[1]->counters.answered_within_sl == 1);
  CHECK(cd::format_report_time(sales[2]->start, req.settings.tz) == "2026-01-05T18:00:00+05:45");
}

TEST_CASE("--sl-threshold and --short-abandon apply to every queue", "[report][queue_log]") {
  cd::ReportOptions o;
  o.sl_threshold = 25;
  o.short_abandon = 6;
  m::EngineSettings base;
  base.queues["sales"].sl_threshold = 30;   // configured; the flag still wins
  base.queues["sales"].short_abandon = 1;
  const auto s = cd::report_engine_settings(base, o);
  CHECK(s.for_queue("sales").sl_threshold == 25);
  CHECK(s.for_queue("sales").short_abandon == 6);
  CHECK(s.for_queue("support").sl_threshold == 25);
  CHECK(s.for_queue("support").short_abandon == 6);

  cd::ReportRequest req;
  req.inputs = {{"day", slurp("queue_log/day_two_queues.log")}};
  req.settings = s;
  auto r = cd::replay_report(req);
  REQUIRE(r);
  Json j(cd::build_report_json(*r, false));
  // T = 25: sales answered waits 20, 8, 21, 45, 3, 10 -> within: all but 45 = 5; abandoned 5, 2
  // within (30 not). S = 6: abandons 5 and 2 are short = 2.
  // SL offered = 5/(9-2) = 5/7; positive (5+2-2)/7 = 5/7; ignored 5/(9-3) = 5/6; answered 5/6.
  const element sales = j.root["queues"]["sales"];
  CHECK(I(sales["answered_within_sl"]) == 5);
  CHECK(I(sales["abandoned_within_sl"]) == 2);
  CHECK(I(sales["short_abandoned"]) == 2);
  CHECK(D(sales["service_level"]["offered"]) == Approx(5.0 / 7));
  CHECK(D(sales["service_level"]["abandons_positive"]) == Approx(5.0 / 7));
  CHECK(D(sales["service_level"]["abandons_ignored"]) == Approx(5.0 / 6));
  // support with T = 25: 12, 25 (exactly T), 12 within = 3; S = 6: abandon 4 short, 15 not = 1.
  const element support = j.root["queues"]["support"];
  CHECK(I(support["answered_within_sl"]) == 3);
  CHECK(I(support["short_abandoned"]) == 1);
}

TEST_CASE("a file starting mid-day with CRLF, bad, blank and duplicate lines",
          "[report][queue_log]") {
  const auto r = replay_file("queue_log/midday_crlf_messy.log");
  Json j(cd::build_report_json(r, false));
  // 22 lines: blank 3 and 22; rejected 9 (3 fields), 10 (epoch 17676900x0), 11 (ABANDON with 5
  // data fields); duplicate 7. events = 22 - 2 - 3 - 1 = 16.
  CHECK(r.lines == 22);
  CHECK(r.blank == 2);
  CHECK(r.duplicates == 1);
  CHECK(I(j.root["data_quality"]["events"]) == 16);
  CHECK(I(j.root["data_quality"]["rejected"]) == 3);
  CHECK(has_warning(r, "line 9: rejected (too_few_fields)"));
  CHECK(has_warning(r, "line 10: rejected (bad_epoch)"));
  CHECK(has_warning(r, "line 11: rejected (too_many_fields)"));
  CHECK(has_warning(r, "line 7: duplicate"));
  CHECK(has_warning(r, "line 16: unknown queue_log verb 'MYVERB'"));
  CHECK_FALSE(has_warning(r, "line 17"));  // the unknown verb is warned once
  CHECK(has_warning(r, "line 19: call 1767690080.11: second completion"));
  CHECK(has_warning(r, "line 5: call 1767689000.5"));  // timeout without a known wait

  // sales: answered line 1 (35, entry before the file), line 14 (20 = T, within);
  //   abandoned line 4 (30, entry before the file), line 8 (6), line 12 (4: short, padded
  //   export); timed_out line 5 (1.4 style, no wait: in offered, in no wait figure).
  //   offered 6; A_T 1; Ab_T = 6, 4 = 2; short 1. ASA (35+20)/2 = 27.5.
  //   AHT: line 2 (answer before the file, talk 200) + line 15 (30) = 230/2 = 115; the second
  //   completion (line 19, 31) is ignored. max wait 35.
  //   SL answered 1/2; offered 1/(6-1) = 0.2; positive (1+2-1)/5 = 0.4; ignored 1/(6-3).
  const element sales = j.root["queues"]["sales"];
  CHECK(I(sales["offered"]) == 6);
  CHECK(I(sales["answered"]) == 2);
  CHECK(I(sales["abandoned"]) == 3);
  CHECK(I(sales["short_abandoned"]) == 1);
  CHECK(I(sales["timed_out"]) == 1);
  CHECK(I(sales["answered_within_sl"]) == 1);
  CHECK(I(sales["abandoned_within_sl"]) == 2);
  CHECK(D(sales["asa_seconds"]) == Approx(27.5));
  CHECK(D(sales["aht_seconds"]) == Approx(115.0));
  CHECK(D(sales["max_wait_seconds"]) == Approx(35.0));
  CHECK(D(sales["service_level"]["answered"]) == Approx(0.5));
  CHECK(D(sales["service_level"]["offered"]) == Approx(0.2));
  CHECK(D(sales["service_level"]["abandons_positive"]) == Approx(0.4));
  CHECK(D(sales["service_level"]["abandons_ignored"]) == Approx(1.0 / 3));

  // billing (only an arrival) and vip (only a PAUSE line) appear, with null ratios.
  for (const char* q : {"billing", "vip"}) {
    INFO(q);
    const element e = j.root["queues"][q];
    CHECK(I(e["offered"]) == 0);
    CHECK(is_null(e["asa_seconds"]));
    CHECK(is_null(e["aht_seconds"]));
    CHECK(is_null(e["max_wait_seconds"]));
    CHECK(is_null(e["service_level"]["answered"]));
    CHECK(is_null(e["service_level"]["offered"]));
    CHECK(is_null(e["service_level"]["abandons_positive"]));
    CHECK(is_null(e["service_level"]["abandons_ignored"]));
  }
  // Alice answered 2, talk 30 (line 1's call never completes); Bob talk 200 from a completion
  // whose answer precedes the file; Carol paused 1767690180 -> last line 1767690300 = 120 s.
  const element agents = j.root["agents"];
  CHECK(I(agents["Alice"]["answered"]) == 2);
  CHECK(D(agents["Alice"]["talk_seconds"]) == Approx(30.0));
  CHECK(I(agents["Bob"]["answered"]) == 0);
  CHECK(D(agents["Bob"]["talk_seconds"]) == Approx(200.0));
  CHECK(D(agents["Carol"]["paused_seconds"]) == Approx(120.0));
}

TEST_CASE("rotated files are one stream in the order given", "[report][queue_log]") {
  const auto r = replay({{"rotated.log.1", slurp("queue_log/rotated.log.1")},
                         {"rotated.log", slurp("queue_log/rotated.log")}});
  Json j(cd::build_report_json(r, false));
  // Call .1 enters in the older file and is answered (15) and completed (95) in the newer one;
  // call .2 abandons after 4 s (short); the newer file repeats .2's ENTERQUEUE (overlap).
  // offered 2, A_T 1, Ab_T 1, short 1, ASA 15, AHT 95; SL offered 1/(2-1) = 1.
  const element sales = j.root["queues"]["sales"];
  CHECK(I(sales["offered"]) == 2);
  CHECK(I(sales["answered"]) == 1);
  CHECK(I(sales["short_abandoned"]) == 1);
  CHECK(D(sales["asa_seconds"]) == Approx(15.0));
  CHECK(D(sales["aht_seconds"]) == Approx(95.0));
  CHECK(D(sales["service_level"]["offered"]) == Approx(1.0));
  CHECK(I(j.root["data_quality"]["events"]) == 5);  // 6 lines - 1 duplicate
  CHECK(has_warning(r, "rotated.log:2: duplicate"));
  CHECK(has_warning(r, "rotated.log:2: time 1767776395 is 10 s before"));
}

TEST_CASE("the asterisk2slack capture: data quality and KPIs counted by hand",
          "[report][queue_log][sample]") {
  const auto r = replay_file("samples/asterisk2slack/queue_log");
  Json j(cd::build_report_json(r, false));
  // 23 lines: 2 blank (19, 23); lines 8-13 repeat line 2 byte for byte (6 duplicates); nothing
  // rejected. events = 23 - 2 - 6 = 15 (DID and the three COMPLETEAGENT repeats differing in
  // origpos are events).
  CHECK(r.lines == 23);
  CHECK(r.blank == 2);
  CHECK(r.duplicates == 6);
  CHECK(I(j.root["data_quality"]["events"]) == 15);
  CHECK(I(j.root["data_quality"]["rejected"]) == 0);
  for (int line = 8; line <= 13; ++line) {
    CHECK(has_warning(r, "line " + std::to_string(line) + ": duplicate"));
  }
  CHECK(has_warning(r, "line 16: time 1546023976 is 3701 s before"));  // goes backwards
  for (int line = 20; line <= 22; ++line) {
    CHECK(has_warning(r, "line " + std::to_string(line) + ": call 1546023970.760296: second completion"));
  }
  // Queue 201: .757927 answered after 10 s (three RINGNOANSWER 0 ms are refusals, not
  // no-answers), .761192 after 14 s, .760296 after 6 s (its ENTERQUEUE precedes the file).
  // offered 3, all within 20 s; ASA (10+14+6)/3 = 10; max 14.
  // AHT: COMPLETECALLER 122 (.757927), COMPLETEAGENT 228 (.760296), and COMPLETECALLER 406 of
  // .760166 whose answer precedes the file: (122+228+406)/3 = 252. SL = 3/3 in every formula.
  const element q = j.root["queues"]["201"];
  CHECK(I(q["offered"]) == 3);
  CHECK(I(q["answered"]) == 3);
  CHECK(I(q["abandoned"]) == 0);
  CHECK(I(q["answered_within_sl"]) == 3);
  CHECK(D(q["asa_seconds"]) == Approx(10.0));
  CHECK(D(q["aht_seconds"]) == Approx(252.0));
  CHECK(D(q["max_wait_seconds"]) == Approx(14.0));
  CHECK(D(q["service_level"]["answered"]) == Approx(1.0));
  CHECK(D(q["service_level"]["offered"]) == Approx(1.0));
  CHECK(D(q["service_level"]["abandons_positive"]) == Approx(1.0));
  CHECK(D(q["service_level"]["abandons_ignored"]) == Approx(1.0));
  // Agents as written (names with spaces): Diego answered 3, talk 122 + 228 = 350 (the third
  // call is still on at the end); Elena talk 406; Ana, Bruno, Carla rang 0 ms: no no-answer.
  const element agents = j.root["agents"];
  CHECK(I(agents["Diego Demo"]["answered"]) == 3);
  CHECK(D(agents["Diego Demo"]["talk_seconds"]) == Approx(350.0));
  CHECK(I(agents["Elena Simulada"]["answered"]) == 0);
  CHECK(D(agents["Elena Simulada"]["talk_seconds"]) == Approx(406.0));
  for (const char* a : {"Ana Prueba", "Bruno Ejemplo Ficticio", "Carla Muestra"}) {
    INFO(a);
    CHECK(I(agents[a]["ring_noanswer"]) == 0);
  }
  const auto carla = std::find_if(r.agents.begin(), r.agents.end(),
                                  [](const auto& a) { return a.name == "Carla Muestra"; });
  REQUIRE(carla != r.agents.end());
  CHECK(carla->counters.ring_refused == 1);
}

TEST_CASE("agent figures add up across midnight", "[report][queue_log]") {
  // 2026-01-05 22:00Z Bob joins; a call at 22:10 (wait 5, talk 60); pause "Night" 23:00 ->
  // 2026-01-06 01:00 = 7200 s across the day boundary; a call at 01:10 (wait 10, talk 80).
  // Totals over the whole input: answered 2, talk 140, paused 7200.
  const std::string text =
      "1767650400|MANAGER|sales|Bob|ADDMEMBER|\n"
      "1767651000|1767651000.1|sales|NONE|ENTERQUEUE||5551|1\n"
      "1767651005|1767651000.1|sales|Bob|CONNECT|5|1767651001.2|2\n"
      "1767651065|1767651000.1|sales|Bob|COMPLETECALLER|5|60|1\n"
      "1767654000|NONE|sales|Bob|PAUSE|Night\n"
      "1767661200|NONE|sales|Bob|UNPAUSE|\n"
      "1767661800|1767661800.1|sales|NONE|ENTERQUEUE||5552|1\n"
      "1767661810|1767661800.1|sales|Bob|CONNECT|10|1767661801.2|2\n"
      "1767661890|1767661800.1|sales|Bob|COMPLETECALLER|10|80|1\n";
  const auto r = replay({{"night", text}});
  Json j(cd::build_report_json(r, false));
  const element bob = j.root["agents"]["Bob"];
  CHECK(I(bob["answered"]) == 2);
  CHECK(D(bob["talk_seconds"]) == Approx(140.0));
  CHECK(D(bob["paused_seconds"]) == 7200.0);  // printed to the ms: exact
  CHECK(I(j.root["queues"]["sales"]["offered"]) == 2);
}

TEST_CASE("native JSON lines replay with the same counting rules", "[report][native]") {
  // n1: entered 1767603600, answered 1767603612 (wait 12 from timestamps), ended 1767603700 with
  // hold 10: talk = (1767603700 - 1767603612) - 10 = 78, handle = 78 + 10 = 88.
  // n2: entered 1767603620, abandoned 1767603623 (wait 3: short).
  // Lines: 8; blank 1, rejected 1 (not JSON), duplicate 1 -> events 5.
  const std::string text =
      "{\"type\":\"call_enqueued\",\"ts\":1767603600,\"call\":\"n1\",\"queue\":\"sales\",\"caller\":\"555\"}\n"
      "{\"type\":\"call_answered\",\"ts\":1767603612,\"call\":\"n1\",\"queue\":\"sales\",\"agent\":\"Alice\"}\n"
      "{\"type\":\"call_ended\",\"ts\":1767603700,\"call\":\"n1\",\"agent\":\"Alice\",\"hold_seconds\":10}\n"
      "{\"type\":\"call_enqueued\",\"ts\":1767603620,\"call\":\"n2\",\"queue\":\"sales\"}\n"
      "{\"type\":\"call_abandoned\",\"ts\":1767603623,\"call\":\"n2\",\"queue\":\"sales\"}\n"
      "not json\n"
      "{\"type\":\"call_abandoned\",\"ts\":1767603623,\"call\":\"n2\",\"queue\":\"sales\"}\n"
      "\n";
  const auto r = replay({{"native", text}}, "native");
  Json j(cd::build_report_json(r, false));
  CHECK(I(j.root["data_quality"]["events"]) == 5);
  CHECK(I(j.root["data_quality"]["rejected"]) == 1);
  CHECK(r.duplicates == 1);
  CHECK(r.blank == 1);
  CHECK(has_warning(r, "line 6: rejected (not_json)"));
  CHECK(has_warning(r, "line 7: duplicate"));
  CHECK(has_warning(r, "line 4: time 1767603620 is 80 s before"));
  // offered 2: answered 1 (12, within), abandoned 1 (3: short, within).
  // SL offered = 1/(2-1) = 1; ASA 12; AHT 88 (talk + hold); max wait 12.
  const element sales = j.root["queues"]["sales"];
  CHECK(I(sales["offered"]) == 2);
  CHECK(I(sales["short_abandoned"]) == 1);
  CHECK(D(sales["asa_seconds"]) == Approx(12.0));
  CHECK(D(sales["aht_seconds"]) == Approx(88.0));
  CHECK(D(sales["max_wait_seconds"]) == Approx(12.0));
  CHECK(D(sales["service_level"]["offered"]) == Approx(1.0));
  CHECK(D(j.root["agents"]["Alice"]["talk_seconds"]) == Approx(78.0));
  CHECK(r.aht_parts.find("hold") != std::string::npos);
}

TEST_CASE("ami and esl reports replay captures; a broken JSON capture is an error", "[report]") {
  // The AMI/ESL translators are tested in ami_translator_test / esl_translator_test; here only
  // the dispatch: an AMI JSON-array capture that does not parse is an input error.
  cd::ReportRequest ami;
  ami.format = callwatch::config::FeedType::ami;
  ami.inputs.push_back({"broken.json", "[{\"Event\": \"Hangup\""});
  auto r = cd::replay_report(ami);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().find("broken.json") != std::string::npos);
  cd::ReportRequest esl;
  esl.format = callwatch::config::FeedType::esl;
  esl.inputs.push_back({"empty.esl", ""});
  auto e = cd::replay_report(esl);
  REQUIRE(e.has_value());
  CHECK(e->events == 0);
}

TEST_CASE("an empty input gives empty objects and no error", "[report]") {
  const auto r = replay({{"empty", "\n\n"}});
  Json j(cd::build_report_json(r, true));
  CHECK(simdjson::dom::object(j.root["queues"]).size() == 0);
  CHECK(simdjson::dom::object(j.root["agents"]).size() == 0);
  CHECK(I(j.root["data_quality"]["events"]) == 0);
  CHECK(simdjson::dom::array(j.root["intervals"]).size() == 0);
}

TEST_CASE("CSV has a header and one row per queue; names are quoted when needed", "[report]") {
  const auto r = replay({{"q", "1767603600|c1|Sales, \"East\"|NONE|ENTERQUEUE||5551|1\n"
                                "1767603608|c1|Sales, \"East\"|Ann|CONNECT|8|x|1\n"}});
  const std::string csv = cd::build_report_csv(r, false);
  // offered 1, answered 1 within (8 <= 20), ASA 8, no completion: AHT empty, max 8; SL 1 each;
  // not bounced; Ann is known from the last line only: no agent time, occupancy and
  // utilization empty (no data).
  CHECK(csv ==
        "queue,offered,answered,abandoned,short_abandoned,timed_out,exited_empty,exited_key,"
        "answered_within_sl,abandoned_within_sl,asa_seconds,aht_seconds,max_wait_seconds,"
        "sl_answered,sl_offered,sl_abandons_positive,sl_abandons_ignored,bounced,occupancy,"
        "utilization\n"
        "\"Sales, \"\"East\"\"\",1,1,0,0,0,0,0,1,0,8,,8,1,1,1,1,0,,\n");
}

TEST_CASE("text output says what AHT includes", "[report]") {
  const auto r = replay_file("queue_log/day_two_queues.log");
  const std::string text = cd::build_report_text(r, false);
  CHECK(text.find("AHT includes: talk only") != std::string::npos);
  CHECK(text.find("67 event(s), 0 rejected") != std::string::npos);
}

TEST_CASE("report times are ISO 8601 in the configured zone", "[report]") {
  // 1767603600 = 2026-01-05 09:00:00 UTC.
  CHECK(cd::format_report_time(1767603600, m::TimeZone::utc()) == "2026-01-05T09:00:00Z");
  CHECK(cd::format_report_time(1767603600, m::TimeZone::fixed(8 * 3600)) ==
        "2026-01-05T17:00:00+08:00");
  CHECK(cd::format_report_time(1767603600, m::TimeZone::fixed(-(3 * 3600 + 30 * 60))) ==
        "2026-01-05T05:30:00-03:30");
}

TEST_CASE("an interval the input starts inside is reported from its aligned start", "[report]") {
  // First line at 1763800000 = 2025-11-22 08:26:40 UTC: the interval is 08:15-08:30.
  cd::ReportOptions o;
  o.interval_minutes = 15;
  const auto r = replay({{"q", "1763800000|c1|sales|NONE|ENTERQUEUE||5551234|1\n"
                               "1763800012|c1|sales|Agent/1001|CONNECT|12|c2|3\n"}},
                        "queue_log", o);
  REQUIRE(r.intervals.size() == 1);
  CHECK(cd::format_report_time(r.intervals[0].start, r.settings.tz) == "2025-11-22T08:15:00Z");
  CHECK(r.intervals[0].counters.answered == 1);
}

TEST_CASE("a replay of last year's file counts; times out of the input's own window are rejected",
          "[report][native][time]") {
  // The daemon's clock says nothing about a recording: the window is the input's own newest time
  // (a week back) and this machine's clock (two days ahead). Times of a year ago all count.
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const double t = std::floor(now) - 365 * 86400.0;
  auto line = [](const std::string& type, double ts, const std::string& rest) {
    return fmt::format(R"({{"type":"{}","ts":{},{}}})", type, ts, rest) + "\n";
  };
  const std::string text =
      line("call_enqueued", t, R"("call":"a","queue":"sales")") +           // 1
      line("call_enqueued", 1.0, R"("call":"b","queue":"sales")") +         // 2: 1970, rejected
      line("call_enqueued", 1e300, R"("call":"c","queue":"sales")") +       // 3: the far future
      line("call_enqueued", t - 8 * 86400, R"("call":"d","queue":"sales")") +  // 4: 8 days back
      line("call_answered", t + 12, R"("call":"a","queue":"sales","agent":"ann","wait_seconds":1e300)") +  // 5
      line("call_answered", t + 12, R"("call":"a","queue":"sales","agent":"ann")") +  // 6
      line("call_enqueued", t + 20, R"("call":"e","queue":"sales")") +      // 7
      line("call_abandoned", t + 23, R"("call":"e","queue":"sales")");       // 8
  const auto r = replay({{"last-year", text}}, "native");
  // By hand: lines 2 to 5 rejected (4), events 1, 6, 7, 8 (4): a answered after 12 s, e
  // abandoned after 3 s (short); offered 2; nothing of b, c, d.
  CHECK(r.rejected == 4);
  CHECK(r.events == 4);
  CHECK(has_warning(r, "line 2: rejected (bad_value): ts 1 is"));
  CHECK(has_warning(r, "before the newest time of the input so far"));
  CHECK(has_warning(r, "line 3: rejected (bad_value): ts 1e+300 is"));
  CHECK(has_warning(r, "ahead of this machine's clock"));
  CHECK(has_warning(r, "line 5: rejected (bad_value): wait_seconds 1e+300"));
  REQUIRE(r.queues.size() == 1);
  const auto& c = r.queues[0].counters;
  CHECK(c.offered() == 2);
  CHECK(c.answered == 1);
  CHECK(c.short_abandoned == 1);
  CHECK(c.answer_wait_sum == Approx(12.0));
  CHECK(c.max_wait == Approx(12.0));
}

TEST_CASE("a queue_log replay rejects an epoch out of the input's window as bad_epoch",
          "[report][queue_log][time]") {
  const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  const long t = static_cast<long>(now) - 400 * 86400L;  // 13 months ago
  const std::string text = fmt::format(
      "{0}|c1|sales|NONE|ENTERQUEUE||555|1\n"
      "1|c2|sales|NONE|ENTERQUEUE||556|1\n"
      "{1}|c1|sales|Agent/1|CONNECT|7|1.2|3\n"
      "{2}|c1|sales|Agent/1|COMPLETECALLER|7|99999999999|1\n"
      "{3}|c1|sales|Agent/1|COMPLETECALLER|7|60|1\n",
      t, t + 7, t + 60, t + 67);
  const auto r = replay({{"queue_log", text}});
  // By hand: line 2 (epoch 1) and line 4 (a call time of 3,170 years) rejected; c1 answered
  // after 7 s and completed after 60 s of talk.
  CHECK(r.rejected == 2);
  CHECK(r.events == 3);
  CHECK(has_warning(r, "line 2: rejected (bad_epoch): epoch 1 is"));
  CHECK(has_warning(r, "line 4: rejected (bad_number): talk_seconds 99999999999 starts its span"));
  REQUIRE(r.queues.size() == 1);
  CHECK(r.queues[0].counters.answered == 1);
  CHECK(r.queues[0].counters.answer_wait_sum == Approx(7.0));
}
