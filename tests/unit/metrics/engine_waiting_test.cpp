// Who is waiting (per queue, oldest first, capped on the wire) and each agent's current call:
// what the engine puts in the snapshot for the boards' waiting lists and agent table.
#include <catch2/catch.hpp>

#include "test_events.hpp"

using namespace callwatch::metrics;
using namespace cwtest;
using Catch::Detail::Approx;

namespace {
constexpr double t0 = 1767600000;  // 2026-01-05 08:00:00 UTC
}

TEST_CASE("the waiting list names callers oldest first with who is rung, and empties on answer",
          "[metrics][engine][waiting]") {
  Engine e(EngineSettings{});
  Feed f(e);
  for (auto a : {"A1", "A2"}) f.state(t0, a, AgentState::available, {"sales"});
  f.enqueue_from(t0 + 0, "c1", "sales", "5551001");
  f.enqueue_from(t0 + 5, "c2", "sales", "");  // caller ID withheld
  f.enqueue_from(t0 + 10, "c3", "sales", "+8613800001234");
  f.ring(t0 + 12, "A1", "c1", "sales");  // A1 rings for c1
  e.advance_to(t0 + 15);
  {
    const auto s = e.snapshot();
    const auto& q = queue(s, "sales");
    REQUIRE(q.calls_waiting == 3);
    REQUIRE(q.waiting_list.size() == 3);
    CHECK(q.waiting_unlisted == 0);
    // Positions by entry time: c1 (t0), c2 (t0+5), c3 (t0+10).
    CHECK(q.waiting_list[0].position == 1);
    CHECK(q.waiting_list[0].caller == "5551001");
    CHECK(q.waiting_list[0].entered == Approx(t0));
    CHECK(q.waiting_list[0].ringing == "A1");
    CHECK(q.waiting_list[1].position == 2);
    CHECK(q.waiting_list[1].caller.empty());
    CHECK(q.waiting_list[1].ringing.empty());
    CHECK(q.waiting_list[2].caller == "+8613800001234");
    // The longest wait is the head of the list: 15 - 0 = 15 s.
    CHECK(q.longest_wait == Approx(15));
  }
  f.answer(t0 + 20, "c1", "sales", "A1");  // c1 leaves the list; A1 talks to 5551001
  e.advance_to(t0 + 50);
  {
    const auto s = e.snapshot();
    const auto& q = queue(s, "sales");
    REQUIRE(q.waiting_list.size() == 2);
    CHECK(q.waiting_list[0].position == 1);
    CHECK(q.waiting_list[0].entered == Approx(t0 + 5));  // c2 is now first
    CHECK(q.waiting_list[0].ringing.empty());            // A1's ring ended with its answer
    const auto& a1 = agent(s, "A1");
    CHECK(a1.state == AgentState::on_call);
    CHECK(a1.call_caller == "5551001");
    CHECK(a1.call_known);
    CHECK(a1.call_queue == "sales");
    // Talk time = now - state_since = 50 - 20 = 30 s.
    CHECK(s.now - a1.state_since == Approx(30));
    CHECK(agent(s, "A2").call_caller.empty());  // available: no call
    CHECK_FALSE(agent(s, "A2").call_known);
  }
  f.end(t0 + 60, "c1", "A1");
  e.advance_to(t0 + 61);
  CHECK(agent(e.snapshot(), "A1").call_caller.empty());
  // On a call by a state event alone (no call named): the engine cannot say whom.
  f.state(t0 + 70, "A2", AgentState::on_call, {"sales"});
  const auto s3 = e.snapshot();
  CHECK(agent(s3, "A2").state == AgentState::on_call);
  CHECK_FALSE(agent(s3, "A2").call_known);
}

TEST_CASE("a queue of 25 callers lists the 20 longest waiting and counts the 5 cut",
          "[metrics][engine][waiting]") {
  Engine e(EngineSettings{});
  Feed f(e);
  // Callers enter 2 s apart, the last one first in the input: the list sorts by entry time.
  for (int i = 24; i >= 0; --i) {
    f.enqueue_from(t0 + 2.0 * i, "b" + std::to_string(i), "big", "caller" + std::to_string(i));
  }
  e.advance_to(t0 + 100);
  const auto snap = e.snapshot();
  const auto& q = queue(snap, "big");
  CHECK(q.calls_waiting == 25);
  REQUIRE(q.waiting_list.size() == static_cast<std::size_t>(kMaxWaitingListed));  // 20
  CHECK(q.waiting_unlisted == 5);  // 25 - 20
  CHECK(q.waiting_list.front().caller == "caller0");  // entered t0: the longest wait, 100 s
  CHECK(q.waiting_list.back().caller == "caller19");  // entered t0+38
  CHECK(q.waiting_list.back().position == 20);
}

TEST_CASE("caller IDs are kept to 40 bytes, cut on a UTF-8 boundary, control bytes dropped",
          "[metrics][engine][waiting]") {
  Engine e(EngineSettings{});
  Feed f(e);
  f.enqueue_from(t0, "long", "q", std::string(50, '7'));  // 50 digits -> 40
  std::string han;
  for (int i = 0; i < 20; ++i) han += "张";  // 3 bytes each: 60 bytes
  f.enqueue_from(t0 + 1, "han", "q", han);
  f.enqueue_from(t0 + 2, "ctl", "q", "555\n\x01" "1234");
  const auto snap = e.snapshot();
  const auto& q = queue(snap, "q");
  REQUIRE(q.waiting_list.size() == 3);
  CHECK(q.waiting_list[0].caller == std::string(40, '7'));
  // 13 characters are 39 bytes; a 14th would make 42 > 40.
  CHECK(q.waiting_list[1].caller.size() == 39);
  CHECK(q.waiting_list[1].caller == han.substr(0, 39));
  CHECK(q.waiting_list[2].caller == "5551234");
}

TEST_CASE("callers, rings and current calls survive a restart of the engine state",
          "[metrics][engine][waiting][state]") {
  Engine e(EngineSettings{});
  Feed f(e);
  f.state(t0, "A1", AgentState::available, {"sales"});
  f.state(t0, "A2", AgentState::available, {"sales"});
  f.enqueue_from(t0, "c1", "sales", "5551001");
  f.answer(t0 + 4, "c1", "sales", "A1");
  f.enqueue_from(t0 + 6, "c2", "sales", "5551002");
  f.enqueue_from(t0 + 7, "c3", "sales", "5551003");
  f.ring(t0 + 8, "A2", "c3", "sales");
  e.advance_to(t0 + 10);
  Engine back(EngineSettings{});
  REQUIRE(back.restore(e.serialize()));
  const auto s = back.snapshot();
  const auto& q = queue(s, "sales");
  REQUIRE(q.waiting_list.size() == 2);
  CHECK(q.waiting_list[0].caller == "5551002");
  CHECK(q.waiting_list[0].ringing.empty());
  CHECK(q.waiting_list[1].caller == "5551003");
  CHECK(q.waiting_list[1].ringing == "A2");
  CHECK(agent(s, "A1").call_caller == "5551001");
  // The restored engine goes on: c2 answered leaves c3 alone in the list, found by its key.
  Feed g(back);
  g.answer(t0 + 12, "c2", "sales", "A1");
  const auto snap2 = back.snapshot();
  const auto& q2 = queue(snap2, "sales");
  REQUIRE(q2.waiting_list.size() == 1);
  CHECK(q2.waiting_list[0].caller == "5551003");
}

TEST_CASE("the trend holds the last hour per minute: arrivals and SL of each minute's outcomes",
          "[metrics][engine][trend]") {
  Engine e(EngineSettings{});
  Feed f(e);
  // t0 is a whole minute. Minute 0: 2 arrivals, one answered after 5 s (within 20 s), one after
  // 30 s (not within, its outcome in minute 0 too: 30 s < 60 s); minute 2: 1 arrival, no outcome.
  f.enqueue(t0 + 1, "a", "q");
  f.enqueue(t0 + 2, "b", "q");
  f.answer(t0 + 6, "a", "q", "A1");
  f.answer(t0 + 32, "b", "q", "A2");
  f.enqueue(t0 + 125, "c", "q");
  e.advance_to(t0 + 130);  // minute 2 is the current one
  const auto snap = e.snapshot();
  const auto& q = queue(snap, "q");
  REQUIRE(q.trend_arrivals.size() == 60);
  REQUIRE(q.trend_sl.size() == 60);
  // Oldest first, the last entry the current minute: start = t0 + 120 - 59 * 60.
  CHECK(q.trend_start == Approx(t0 + 120 - 59 * 60));
  CHECK(q.trend_arrivals[59] == 1);  // minute 2
  CHECK(q.trend_arrivals[58] == 0);  // minute 1
  CHECK(q.trend_arrivals[57] == 2);  // minute 0
  // SL (offered formula) of minute 0: 1 within / 2 offered = 50 %; minutes without an outcome
  // have none (NaN), never 0 %.
  CHECK(q.trend_sl[57] == Approx(0.5));
  CHECK(std::isnan(q.trend_sl[58]));
  CHECK(std::isnan(q.trend_sl[59]));
  CHECK(q.trend_arrivals[0] == 0);
  // Another arrival in the same minute shows at once (the kept trend is rebuilt), and the minute
  // turning with no event shifts it: minute 2 (2 arrivals) becomes the one before the current.
  f.enqueue(t0 + 128, "d", "q");
  CHECK(queue(e.snapshot(), "q").trend_arrivals[59] == 2);
  e.advance_to(t0 + 185);
  const auto later = e.snapshot();
  CHECK(queue(later, "q").trend_arrivals[58] == 2);
  CHECK(queue(later, "q").trend_arrivals[59] == 0);
  CHECK(queue(later, "q").trend_arrivals[56] == 2);  // minute 0
}
