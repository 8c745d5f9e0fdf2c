// The engine-thread side of persistence: a checkpoint taken, the process "dies", a new engine
// restores it and continues with the same totals; the downtime is flagged when the stop was not
// clean or lasted long; closed intervals reach the store once each.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "../../metrics/test_events.hpp"
#include "store/checkpointer.hpp"

using namespace callwatch;
using namespace callwatch::daemon;
using namespace std::chrono_literals;

namespace {

constexpr double t0 = 1767600000;  // 2026-01-05 08:00:00 UTC, an interval boundary

struct TempDb {
  std::filesystem::path dir;
  TempDb() {
    static int n = 0;
    dir = std::filesystem::temp_directory_path() /
          ("callwatch-ckpt-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
  }
  ~TempDb() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::shared_ptr<Store> open() const {
    StoreOptions o;
    o.path = (dir / "cw.db").string();
    o.retry_after = 50ms;
    auto s = Store::open(o);
    REQUIRE(s);
    return std::shared_ptr<Store>(std::move(*s));
  }
};

const metrics::QueueView& queue(const metrics::Snapshot& s, const std::string& name) {
  for (const auto& q : s.queues) {
    if (q.name == name) return q;
  }
  FAIL("no queue " << name);
  return s.queues.front();
}

const metrics::QueueCounters& today(const metrics::QueueView& q) {
  return q.windows[static_cast<std::size_t>(metrics::WindowKind::today)].counters;
}

// Three calls in "sales": c1 answered after 8 s, c2 abandoned after 30 s, c3 still waiting.
void first_part(cwtest::Feed& f) {
  f.state(t0 + 1, "ann", metrics::AgentState::available, {"sales"});
  f.enqueue(t0 + 2, "c1", "sales");
  f.enqueue(t0 + 3, "c2", "sales");
  f.answer(t0 + 10, "c1", "sales", "ann");
  f.abandon(t0 + 33, "c2", "sales");
  f.enqueue(t0 + 40, "c3", "sales");
}
// After the restart: c3 is answered after 20 s (the wait spans the restart), c1 ends.
void second_part(cwtest::Feed& f) {
  f.end(t0 + 55, "c1", "ann");
  f.answer(t0 + 60, "c3", "sales", "ann");
}

}  // namespace

TEST_CASE("a crash after a checkpoint: the restored engine ends with the uninterrupted totals",
          "[store][checkpoint]") {
  TempDb db;
  metrics::ManualClock clock(t0);
  {
    auto store = db.open();
    metrics::Engine engine(metrics::EngineSettings{}, &clock);
    cwtest::Feed f(engine);
    clock.set(t0 + 41);
    first_part(f);
    engine.advance_to(clock.now());  // the daemon lets time pass every 250 ms
    Checkpointer cp(store, CheckpointerOptions{});
    cp.take(engine, {}, {}, 1, {{"native", "", t0 + 40, 0}}, std::chrono::steady_clock::now());
    REQUIRE(cp.wait_idle(5s));  // a child process serialized the state
    REQUIRE(store->flush(5s));
    // No final checkpoint: the process dies here.
  }

  clock.set(t0 + 43);  // 2 s later, under gap_seconds, but the stop was not clean
  auto store = db.open();
  metrics::Engine engine(metrics::EngineSettings{}, &clock);
  Checkpointer cp(store, CheckpointerOptions{});
  const RestoreResult r = cp.restore(engine, clock.now());
  REQUIRE(r.restored);
  CHECK(r.checkpoint_at == t0 + 41);
  CHECK_FALSE(r.clean_stop);
  CHECK(r.gap_noted);
  REQUIRE(r.feeds.size() == 1);
  CHECK(r.feeds[0].last_event_ts == t0 + 40);
  CHECK(queue(engine.snapshot(), "sales").calls_waiting == 1);  // c3 survived the restart

  clock.set(t0 + 61);
  cwtest::Feed f(engine);
  second_part(f);
  engine.advance_to(t0 + 61);

  // The uninterrupted run of the same events.
  metrics::ManualClock wclock(t0 + 41);
  metrics::Engine whole(metrics::EngineSettings{}, &wclock);
  cwtest::Feed fw(whole);
  first_part(fw);
  wclock.set(t0 + 61);
  second_part(fw);
  whole.advance_to(t0 + 61);

  const auto a = today(queue(engine.snapshot(), "sales"));
  const auto w = today(queue(whole.snapshot(), "sales"));
  // By hand: offered 3 (c1, c3 answered; c2 abandoned); waits 8 and 20 -> ASA sum 28; within
  // 20 s: both answers (20 <= T = 20); handled 1 (c1, talk 45).
  CHECK(a.offered() == 3);
  CHECK(a.answered == 2);
  CHECK(a.abandoned == 1);
  CHECK(a.answered_within_sl == 2);
  CHECK(a.answer_wait_sum == Approx(28));
  CHECK(a.handled == 1);
  CHECK(a.offered() == w.offered());
  CHECK(a.answered_within_sl == w.answered_within_sl);
  CHECK(a.answer_wait_sum == Approx(w.answer_wait_sum));
  CHECK(a.handle_sum == Approx(w.handle_sum));
  // Only the restarted engine carries the flag.
  CHECK(engine.snapshot().data_quality.gap);
  CHECK_FALSE(whole.snapshot().data_quality.gap);
  CHECK(queue(engine.snapshot(), "sales").data_gap);
  auto gaps = store->gaps(t0, t0 + 100);
  REQUIRE(store->flush(5s));
  gaps = store->gaps(t0, t0 + 100);
  REQUIRE(gaps);
  REQUIRE(gaps->size() == 1);
  CHECK((*gaps)[0].from == t0 + 41);
  CHECK((*gaps)[0].to == t0 + 43);
}

TEST_CASE("a clean stop and a quick restart is not a gap; a long downtime is",
          "[store][checkpoint]") {
  TempDb db;
  metrics::ManualClock clock(t0 + 41);
  {
    auto store = db.open();
    metrics::Engine engine(metrics::EngineSettings{}, &clock);
    cwtest::Feed f(engine);
    first_part(f);
    engine.advance_to(clock.now());
    Checkpointer cp(store, CheckpointerOptions{});
    cp.final_checkpoint(engine, {}, {}, 1, {}, 5s);
  }
  {
    clock.set(t0 + 44);  // 3 s down, gap_seconds 5
    auto store = db.open();
    metrics::Engine engine(metrics::EngineSettings{}, &clock);
    Checkpointer cp(store, CheckpointerOptions{});
    const auto r = cp.restore(engine, clock.now());
    CHECK(r.restored);
    CHECK(r.clean_stop);
    CHECK_FALSE(r.gap_noted);
    CHECK_FALSE(engine.snapshot().data_quality.gap);
    // Stop cleanly again, at t0 + 44.
    engine.advance_to(clock.now());
    cp.final_checkpoint(engine, {}, {}, 1, {}, 5s);
  }
  clock.set(t0 + 44 + 5.5);  // 5.5 s down: more than gap_seconds
  auto store = db.open();
  metrics::Engine engine(metrics::EngineSettings{}, &clock);
  Checkpointer cp(store, CheckpointerOptions{});
  const auto r = cp.restore(engine, clock.now());
  CHECK(r.restored);
  CHECK(r.gap_noted);
  CHECK(engine.snapshot().data_quality.gap);
  CHECK(engine.snapshot().data_quality.warning_counts.at("gap") == 1);
}

TEST_CASE("closed intervals reach the store once, alert transitions once, across checkpoints",
          "[store][checkpoint]") {
  TempDb db;
  auto store = db.open();
  metrics::ManualClock clock(t0);
  metrics::Engine engine(metrics::EngineSettings{}, &clock);
  cwtest::Feed f(engine);
  clock.set(t0 + 41);
  first_part(f);
  CheckpointerOptions o;
  o.interval = std::chrono::milliseconds(0);
  Checkpointer cp(store, o);
  metrics::AlertTransition tr;
  tr.id = "wait/sales";
  tr.rule = "wait";
  tr.queue = "sales";
  tr.at = t0 + 30;
  std::vector<metrics::AlertTransition> history{tr};
  auto steady = std::chrono::steady_clock::now();
  cp.take(engine, {}, history, 1, {}, steady);
  REQUIRE(cp.wait_idle(5s));
  REQUIRE(store->flush(5s));
  CHECK(store->intervals(0, 4e9)->empty());  // the 08:00 interval is still open

  // 08:15 closes the first interval: it is stored with the next checkpoint, and only once.
  clock.set(t0 + 900 + 1);
  engine.advance_to(clock.now());
  history.push_back(tr);
  history.back().at = t0 + 901;
  cp.take(engine, {}, history, 1, {}, steady + 1s);
  REQUIRE(cp.wait_idle(5s));
  REQUIRE(store->flush(5s));
  // A new day cleared the evaluator's list: the same transition number 2 is not stored again.
  cp.take(engine, {}, {history.back()}, 2, {}, steady + 2s);
  REQUIRE(cp.wait_idle(5s));
  REQUIRE(store->flush(5s));
  auto ivs = store->intervals(t0, t0 + 900);
  REQUIRE(ivs);
  REQUIRE(ivs->size() == 1);
  CHECK((*ivs)[0].queue == "sales");
  CHECK((*ivs)[0].start == t0);
  CHECK((*ivs)[0].counters.offered() == 2);  // c1 answered, c2 abandoned; c3 still waits
  CHECK(store->stats().intervals_written == 1);
  CHECK(store->alert_history(0, 4e9)->size() == 2);
  CHECK(store->stats().alert_events_written == 2);
}

TEST_CASE("the checkpoint interval spaces checkpoints out", "[store][checkpoint]") {
  TempDb db;
  auto store = db.open();
  metrics::Engine engine(metrics::EngineSettings{});
  CheckpointerOptions o;
  o.fork = false;  // serialized here: no child in flight to wait for
  Checkpointer cp(store, o);
  const auto t = std::chrono::steady_clock::now();
  CHECK(cp.due(t));  // the first one at once
  cp.take(engine, {}, {}, 1, {}, t);
  CHECK_FALSE(cp.due(t + 999ms));
  CHECK(cp.due(t + 1000ms));
  CHECK(cp.checkpoints_taken() == 1);
}

TEST_CASE("a checkpoint serialized by a child process stores the engine state exactly",
          "[store][checkpoint]") {
  TempDb db;
  metrics::ManualClock clock(t0 + 41);
  metrics::Engine engine(metrics::EngineSettings{}, &clock);
  cwtest::Feed f(engine);
  first_part(f);
  engine.advance_to(clock.now());
  const std::string expected = engine.serialize();
  for (const bool fork : {true, false}) {
    CAPTURE(fork);
    auto store = db.open();
    CheckpointerOptions o;
    o.fork = fork;
    Checkpointer cp(store, o);
    cp.take(engine, {}, {}, 1, {}, std::chrono::steady_clock::now());
    REQUIRE(cp.wait_idle(5s));
    REQUIRE(store->flush(5s));
    auto loaded = store->load_checkpoint();
    REQUIRE(loaded);
    REQUIRE(loaded->has_value());
    CHECK((*loaded)->engine_state == expected);
    CHECK((*loaded)->taken_at == t0 + 41);
  }
}

TEST_CASE("a late event corrects a stored closed interval and the store gets the corrected row",
          "[store][checkpoint][order]") {
  TempDb db;
  auto store = db.open();
  metrics::ManualClock clock(t0 + 890);
  metrics::Engine engine(metrics::EngineSettings{}, &clock);
  cwtest::Feed f(engine);
  CheckpointerOptions o;
  o.interval = std::chrono::milliseconds(0);
  Checkpointer cp(store, o);
  auto steady = std::chrono::steady_clock::now();
  f.enqueue(t0 + 880, "c1", "sales");   // 08:14:40
  f.enqueue(t0 + 885, "c2", "sales");
  f.abandon(t0 + 889, "c1", "sales");  // wait 9: offered 1 in 08:00-08:15
  clock.set(t0 + 902);                  // 08:15:02: the interval closes and is stored
  engine.advance_to(clock.now());
  cp.take(engine, {}, {}, 1, {}, steady);
  REQUIRE(cp.wait_idle(5s));
  REQUIRE(store->flush(5s));
  auto ivs = store->intervals(t0, t0 + 900);
  REQUIRE(ivs);
  REQUIRE(ivs->size() == 1);
  CHECK((*ivs)[0].counters.offered() == 1);
  CHECK(store->stats().intervals_written == 1);

  // c2's answer stamped 08:14:58 arrives at 08:15:04 (6 s late, within the bound): it counts in
  // the closed 08:00 interval (wait 13 s, within 20), which the next checkpoint writes again.
  clock.set(t0 + 904);
  f.answer(t0 + 898, "c2", "sales", "ann");
  cp.take(engine, {}, {}, 1, {}, steady + 1s);
  REQUIRE(cp.wait_idle(5s));
  REQUIRE(store->flush(5s));
  ivs = store->intervals(t0, t0 + 900);
  REQUIRE(ivs);
  REQUIRE(ivs->size() == 1);
  CHECK((*ivs)[0].counters.offered() == 2);
  CHECK((*ivs)[0].counters.answered == 1);
  CHECK((*ivs)[0].counters.answered_within_sl == 1);
  CHECK((*ivs)[0].counters.answer_wait_sum == Approx(13));
  CHECK(store->stats().intervals_written == 2);
  // A checkpoint with nothing new writes no interval again.
  cp.take(engine, {}, {}, 1, {}, steady + 2s);
  REQUIRE(cp.wait_idle(5s));
  REQUIRE(store->flush(5s));
  CHECK(store->stats().intervals_written == 2);
}
