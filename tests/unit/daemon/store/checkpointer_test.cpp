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
    // The child sends the state compressed; the store still records its size before compression.
    CHECK(store->stats().last_state_bytes == expected.size());
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

// A large state: what a checkpoint costs in all (the child's CPU time included, not only the
// engine thread's fork) decides the interval, so checkpoints never take more than 10 % of a core.
TEST_CASE("a costly checkpoint stretches the interval by its whole cost, the child's CPU included",
          "[store][checkpoint]") {
  TempDb db;
  auto store = db.open();
  metrics::ManualClock clock(t0 + 100);
  metrics::Engine engine(metrics::EngineSettings{}, &clock);
  cwtest::Feed f(engine);
  for (int a = 0; a < 4000; ++a) {
    const std::string agent = "agent-" + std::to_string(a);
    const std::string q = "q" + std::to_string(a % 40);
    const std::string call = "call-" + std::to_string(a);
    f.state(t0 + 1, agent, metrics::AgentState::available, {q});
    f.enqueue(t0 + 2, call, q);
    f.answer(t0 + 3, call, q, agent);
  }
  engine.advance_to(clock.now());
  // What serializing costs on this machine, measured here on this thread.
  const auto s0 = std::chrono::steady_clock::now();
  const std::size_t bytes = engine.serialize().size();
  const double serialize_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
  CAPTURE(bytes, serialize_s);
  REQUIRE(serialize_s > 0.005);  // large enough to see

  CheckpointerOptions o;
  o.fork = true;
  o.interval = 1ms;  // anything the cost exceeds
  o.max_core_share = 0.10;
  Checkpointer cp(store, o);
  const auto t = std::chrono::steady_clock::now();
  cp.take(engine, {}, {}, 1, {}, t);
  REQUIRE(cp.wait_idle(10s));
  REQUIRE(store->flush(10s));
  using Secs = std::chrono::duration<double>;
  // The child serialized the same state: its CPU time is about serialize_s, and the engine thread
  // paid only the fork, so nearly all of the cost is the child's.
  const double total = Secs(cp.last_total_cost()).count();
  const double engine_thread = Secs(cp.last_build_time()).count();
  CAPTURE(total, engine_thread);
  CHECK(total - engine_thread >= 0.5 * serialize_s);
  // 10 % of a core: the interval is ten times the cost.
  CHECK(Secs(cp.effective_interval()).count() == Approx(total / 0.10).margin(1e-6));
  CHECK_FALSE(cp.due(t + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                             Secs(0.9 * total / 0.10))));
  CHECK(cp.due(t + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                       Secs(1.01 * total / 0.10))));

  // The next checkpoint adds the store's compress and write of the first one.
  cp.take(engine, {}, {}, 1, {}, t + 10s);
  REQUIRE(cp.wait_idle(10s));
  const double write_s = store->stats().last_write_seconds;
  CAPTURE(write_s);
  REQUIRE(write_s > 0);
  CHECK(Secs(cp.last_total_cost()).count() >= Secs(cp.last_build_time()).count() + write_s);
}

// The day's finished calls are rows of the store, appended by each checkpoint (O(new calls)), not
// part of the state a checkpoint serializes (O(the day)); a restart gets them back, so a repeat of
// a finished call is still a duplicate after it; a new day drops them.
TEST_CASE("finished calls are stored as rows: only new ones per checkpoint, back after a restart",
          "[store][checkpoint]") {
  TempDb db;
  metrics::ManualClock clock(t0);
  CheckpointerOptions o;
  o.fork = false;
  // Time passes with the feed talking (bob's states move its lateness horizon on): a finished
  // call's record is made at the engine's once-a-minute tidy-up, after the horizon passed it.
  auto settle = [&](metrics::Engine& e, cwtest::Feed& f, double until) {
    for (double t = clock.now() + 61; t <= until; t += 61) {
      clock.set(t);
      f.state(t, "bob", metrics::AgentState::available, {"other"});
      e.advance_to(t);
    }
  };
  // Three calls of sales, each answered by ann and ended: c1 and c2 first, c3 later.
  // The clock follows the events, as a live feed's do.
  auto call = [&](cwtest::Feed& f, double at, const std::string& id) {
    clock.set(at);
    f.enqueue(at, id, "sales");
    clock.set(at + 5);
    f.answer(at + 5, id, "sales", "ann");
    clock.set(at + 20);
    f.end(at + 20, id, "ann");
  };
  {
    auto store = db.open();
    metrics::Engine engine(metrics::EngineSettings{}, &clock);
    Checkpointer cp(store, o);
    cp.restore(engine, clock.now());  // empty store: rows on from the start
    cwtest::Feed f(engine);
    f.state(t0 + 1, "ann", metrics::AgentState::available, {"sales"});
    call(f, t0 + 2, "c1");
    call(f, t0 + 30, "c2");
    settle(engine, f, t0 + 200);
    REQUIRE(engine.finished_calls() == 2);
    cp.take(engine, {}, {}, 1, {}, std::chrono::steady_clock::now());
    REQUIRE(store->flush(5s));
    CHECK(store->stats().finished_calls_written == 2);

    call(f, clock.now() + 1, "c3");
    settle(engine, f, clock.now() + 200);
    REQUIRE(engine.finished_calls() == 3);
    cp.take(engine, {}, {}, 1, {}, std::chrono::steady_clock::now() + 10s);
    REQUIRE(store->flush(5s));
    CHECK(store->stats().finished_calls_written == 3);  // the second checkpoint carried c3 alone

    auto loaded = store->load_checkpoint();
    REQUIRE(loaded);
    REQUIRE(loaded->has_value());
    CHECK((*loaded)->finished.size() == 3);
    for (const auto& row : (*loaded)->finished) {
      CHECK(row.day == t0 - 8 * 3600);  // 2026-01-05 00:00 UTC, the engine's day
      CHECK(row.queues.size() == 1);    // answered in sales: may not enter sales again
    }
    // The state alone holds none of them.
    metrics::Engine bare(metrics::EngineSettings{}, &clock);
    REQUIRE(bare.restore((*loaded)->engine_state));
    CHECK(bare.finished_calls() == 0);
  }
  {
    // A crash and a restart: the rows come back, and c1 entering sales again is a repeat.
    auto store = db.open();
    metrics::Engine engine(metrics::EngineSettings{}, &clock);
    Checkpointer cp(store, o);
    const RestoreResult r = cp.restore(engine, clock.now());
    REQUIRE(r.restored);
    CHECK(engine.finished_calls() == 3);
    cwtest::Feed f(engine);
    const auto offered = [&] { return today(queue(engine.snapshot(), "sales")).offered(); };
    CHECK(offered() == 3);
    CHECK(f.enqueue(clock.now(), "c1", "sales") == metrics::ApplyResult::ignored_duplicate);
    CHECK(offered() == 3);
    // The next day: yesterday's calls are forgotten, in the engine and in the store.
    settle(engine, f, t0 + 86400);
    CHECK(engine.finished_calls() == 0);
    cp.take(engine, {}, {}, 1, {}, std::chrono::steady_clock::now());
    REQUIRE(store->flush(5s));
    auto loaded = store->load_checkpoint();
    REQUIRE(loaded);
    REQUIRE(loaded->has_value());
    CHECK((*loaded)->finished.empty());
  }
}

// A store written before finished calls were rows: they are in its state; after the restart they
// are held, and the next checkpoint writes them as rows, so a second restart still has them.
TEST_CASE("finished calls of a state written before rows become rows after the restart",
          "[store][checkpoint]") {
  TempDb db;
  metrics::ManualClock clock(t0);
  CheckpointerOptions o;
  o.fork = false;
  {
    auto store = db.open();
    metrics::Engine engine(metrics::EngineSettings{}, &clock);
    Checkpointer cp(store, o);  // no restore(): rows stay off, as in the older daemon
    cwtest::Feed f(engine);
    f.state(t0 + 1, "ann", metrics::AgentState::available, {"sales"});
    for (const auto& [at, id] : {std::pair{t0 + 2, "c1"}, std::pair{t0 + 32, "c2"}}) {
      clock.set(at);  // the clock follows the events, as a live feed's do
      f.enqueue(at, id, "sales");  // one after the other: ann takes both
      clock.set(at + 3);
      f.answer(at + 3, id, "sales", "ann");
      clock.set(at + 18);
      f.end(at + 18, id, "ann");
    }
    for (double t = t0 + 61; t <= t0 + 200; t += 61) {
      clock.set(t);
      f.state(t, "bob", metrics::AgentState::available, {"other"});
      engine.advance_to(t);
    }
    REQUIRE(engine.finished_calls() == 2);
    cp.take(engine, {}, {}, 1, {}, std::chrono::steady_clock::now());
    REQUIRE(store->flush(5s));
    CHECK(store->stats().finished_calls_written == 0);  // in the state instead
  }
  for (int restart = 1; restart <= 2; ++restart) {
    CAPTURE(restart);
    auto store = db.open();
    metrics::Engine engine(metrics::EngineSettings{}, &clock);
    Checkpointer cp(store, o);
    REQUIRE(cp.restore(engine, clock.now()).restored);
    CHECK(engine.finished_calls() == 2);
    cp.take(engine, {}, {}, 1, {}, std::chrono::steady_clock::now());
    REQUIRE(store->flush(5s));
    // First restart: the two from the old state are written as rows; the second has them as
    // rows already and nothing new finished.
    CHECK(store->stats().finished_calls_written == (restart == 1 ? 2u : 0u));
  }
}
