// The SQLite store: what goes in comes back after the file is closed and reopened (engine state,
// alert acks, intervals, alert history, feed positions, gaps), the newest checkpoint wins, and a
// disk that refuses writes costs only persistence: errors are counted and the data is written
// once the disk works again.
#include "store/store.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "../../metrics/test_events.hpp"

using namespace callwatch;
using namespace std::chrono_literals;
using daemon::Checkpoint;
using daemon::Store;
using daemon::StoreOptions;

namespace {

constexpr double t0 = 1767600000;  // 2026-01-05 08:00:00 UTC, an interval boundary

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    path =
        std::filesystem::temp_directory_path() /
        ("callwatch-store-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
  static int& counter() {
    static int n = 0;
    return n;
  }
};

std::unique_ptr<Store> open_store(const std::string& path, bool read_only = false) {
  StoreOptions o;
  o.path = path;
  o.read_only = read_only;
  o.retry_after = 50ms;
  auto s = Store::open(o);
  if (!s) FAIL(s.error());
  return std::move(*s);
}

metrics::ClosedInterval interval(const std::string& queue, double start, std::int64_t answered,
                                 std::int64_t abandoned, double max_wait) {
  metrics::ClosedInterval ci;
  ci.queue = queue;
  ci.start = start;
  ci.end = start + 900;
  ci.counters.answered = answered;
  ci.counters.abandoned = abandoned;
  ci.counters.answered_within_sl = answered;
  ci.counters.answer_wait_sum = 7.5 * static_cast<double>(answered);
  ci.counters.max_wait = max_wait;
  return ci;
}

}  // namespace

TEST_CASE("a checkpoint comes back whole after the store is closed and reopened", "[store]") {
  TempDir dir;
  const std::string db = dir.file("cw.db");

  // An engine with a call waiting, one answered and an agent on the phone: state a restart must
  // keep.
  metrics::Engine engine(metrics::EngineSettings{});
  cwtest::Feed f(engine);
  f.state(t0, "王芳", metrics::AgentState::available, {"销售"});
  f.enqueue(t0 + 1, "c1", "销售");
  f.enqueue(t0 + 2, "c2", "销售");
  f.answer(t0 + 12, "c1", "销售", "王芳");
  const std::string state = engine.serialize();

  metrics::AlertView ack;
  ack.id = "long_wait/销售";
  ack.rule = "long_wait";
  ack.queue = "销售";
  ack.severity = metrics::AlertSeverity::critical;
  ack.state = metrics::AlertState::firing;
  ack.value = 61;
  ack.since = t0 + 70;
  ack.message = "longest wait 61 s > 60 s\nsecond line: \"quoted\" 5:x";  // framing characters
  ack.acked = true;
  ack.acked_by = "supervisor:alice";
  ack.acked_at = t0 + 75;
  ack.ack_comment = "calling in the back office";
  metrics::AlertView quiet;
  quiet.id = "sl/billing";
  quiet.rule = "sl";
  quiet.queue = "billing";  // value NaN: no data

  metrics::AlertTransition tr;
  tr.id = ack.id;
  tr.rule = ack.rule;
  tr.queue = ack.queue;
  tr.severity = ack.severity;
  tr.from = metrics::AlertState::pending;
  tr.to = metrics::AlertState::firing;
  tr.at = t0 + 70;
  tr.value = 61;
  tr.message = "fired";

  {
    auto store = open_store(db);
    Checkpoint c;
    c.taken_at = t0 + 80;
    c.engine_state = state;
    c.alerts = {ack, quiet};
    c.intervals = {interval("销售", t0 - 900, 4, 1, 33),
                   interval("billing", t0 - 900, 0, 0, metrics::kNoValue)};
    c.alert_events = {{1, tr}};
    c.feeds = {{"queue_log", "1234:98765", t0 + 12, 0}};
    store->submit(c);
    REQUIRE(store->flush(5s));
    store->record_gap({t0 - 3600, t0 - 1800, "daemon down"});
    REQUIRE(store->flush(5s));
    const auto st = store->stats();
    CHECK(st.errors == 0);
    CHECK(st.checkpoints_written == 1);
    CHECK(st.last_checkpoint_at == t0 + 80);
    CHECK(st.last_state_bytes == state.size());
    CHECK(store->confirmed_interval_start() == t0 - 900);
    CHECK(store->confirmed_alert_seq() == 1);
  }

  auto store = open_store(db, true);
  auto loaded = store->load_checkpoint();
  REQUIRE(loaded);
  REQUIRE(loaded->has_value());
  const auto& c = **loaded;
  CHECK(c.taken_at == t0 + 80);
  CHECK_FALSE(c.final);
  CHECK(c.engine_state == state);
  CHECK(c.daemon_version == CALLWATCH_VERSION);
  metrics::Engine restored(metrics::EngineSettings{});
  REQUIRE(restored.restore(c.engine_state));
  CHECK(restored.snapshot().queues.at(0).calls_waiting == 1);  // c2 still waits

  REQUIRE(c.alerts.size() == 2);
  const auto& a = c.alerts[0];
  CHECK(a.id == ack.id);
  CHECK(a.severity == metrics::AlertSeverity::critical);
  CHECK(a.state == metrics::AlertState::firing);
  CHECK(a.value == 61);
  CHECK(a.message == ack.message);
  CHECK(a.acked);
  CHECK(a.acked_by == "supervisor:alice");
  CHECK(a.acked_at == t0 + 75);
  CHECK(a.ack_comment == ack.ack_comment);
  CHECK(std::isnan(c.alerts[1].value));
  CHECK_FALSE(c.alerts[1].acked);

  REQUIRE(c.feeds.size() == 1);
  CHECK(c.feeds[0].feed == "queue_log");
  CHECK(c.feeds[0].position == "1234:98765");
  CHECK(c.feeds[0].last_event_ts == t0 + 12);

  auto ivs = store->intervals(t0 - 900, t0);
  REQUIRE(ivs);
  REQUIRE(ivs->size() == 2);
  CHECK((*ivs)[0].queue == "billing");  // ordered by start, then queue (bytes: 'b' < UTF-8 '销')
  CHECK(std::isnan((*ivs)[0].counters.max_wait));
  CHECK((*ivs)[1].queue == "销售");
  CHECK((*ivs)[1].counters.offered() == 5);         // 4 answered + 1 abandoned
  CHECK((*ivs)[1].counters.answer_wait_sum == 30);  // 4 x 7.5
  CHECK((*ivs)[1].counters.max_wait == 33);
  CHECK((*ivs)[1].end == t0);
  // The range is [from, to): the interval starting at t0 - 900 is outside [t0, t0 + 900).
  CHECK(store->intervals(t0, t0 + 900)->empty());

  auto hist = store->alert_history(t0, t0 + 3600);
  REQUIRE(hist);
  REQUIRE(hist->size() == 1);
  CHECK((*hist)[0].to == metrics::AlertState::firing);
  CHECK((*hist)[0].from == metrics::AlertState::pending);
  CHECK((*hist)[0].message == "fired");

  auto gaps = store->gaps(t0 - 2000, t0);
  REQUIRE(gaps);
  REQUIRE(gaps->size() == 1);
  CHECK((*gaps)[0].reason == "daemon down");
  CHECK(store->gaps(t0 - 1800, t0)->empty());  // the gap ended exactly at t0 - 1800
}

TEST_CASE("the newest checkpoint wins and resent rows are stored once", "[store]") {
  TempDir dir;
  const std::string db = dir.file("cw.db");
  {
    auto store = open_store(db);
    const auto iv = interval("q", t0, 2, 0, 5);
    metrics::AlertTransition tr;
    tr.id = "a/q";
    tr.rule = "a";
    tr.queue = "q";
    tr.at = t0 + 5;
    // 200 checkpoints as fast as the engine could hand them over; each resends the interval and
    // the transition because the engine thread sends whatever is not confirmed yet.
    for (int i = 1; i <= 200; ++i) {
      Checkpoint c;
      c.taken_at = t0 + i;
      c.engine_state = "state " + std::to_string(i);
      c.intervals = {iv};
      c.alert_events = {{7, tr}};
      store->submit(std::move(c));
    }
    REQUIRE(store->flush(5s));
    const auto st = store->stats();
    // Every submission was either written or replaced by a newer one before its turn.
    CHECK(st.checkpoints_written + st.checkpoints_superseded == 200);
    CHECK(st.last_checkpoint_at == t0 + 200);
  }
  auto store = open_store(db, true);
  auto c = store->load_checkpoint();
  REQUIRE(c);
  REQUIRE(c->has_value());
  CHECK((*c)->engine_state == "state 200");
  CHECK(store->intervals(0, 2 * t0)->size() == 1);
  CHECK(store->alert_history(0, 2 * t0)->size() == 1);
}

TEST_CASE("a full disk is counted, the data waits in memory and is written when space is back",
          "[store]") {
  TempDir dir;
  const std::string db = dir.file("cw.db");
  auto store = open_store(db);
  Checkpoint first;
  first.taken_at = t0;
  first.engine_state = "small";
  store->submit(first);
  REQUIRE(store->flush(5s));
  REQUIRE(store->stats().errors == 0);

  // "Disk full": a file-size limit of 1 byte for this process. Writes past it fail with EFBIG (the
  // store ignores SIGXFSZ), which SQLite reports as an I/O error or a full disk.
  rlimit before{};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &before) == 0);
  rlimit tiny = before;
  tiny.rlim_cur = 1;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &tiny) == 0);

  Checkpoint big;
  big.taken_at = t0 + 10;
  big.engine_state = std::string(256 * 1024, 'x') + "end";  // several pages even compressed
  for (int i = 0; i < 2000; ++i) big.engine_state += std::to_string(i * 7919 % 10007);
  big.intervals = {interval("q", t0, 3, 1, 12)};
  store->submit(big);
  const bool written = store->flush(5s);
  const auto failing = store->stats();
  REQUIRE(setrlimit(RLIMIT_FSIZE, &before) == 0);  // give the space back before any REQUIRE fails
  CHECK_FALSE(written);
  CHECK(failing.errors >= 1);
  CHECK_FALSE(failing.healthy);
  CHECK_FALSE(store->healthy());
  CHECK(store->confirmed_interval_start() == 0);  // the interval is not on disk yet
  CHECK_FALSE(failing.last_error.empty());

  // Space is back: the retry (50 ms later) writes the pending checkpoint; nothing else was sent.
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (!store->healthy() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(20ms);
  CHECK(store->healthy());
  CHECK(store->confirmed_interval_start() == t0);
  CHECK(store->stats().last_checkpoint_at == t0 + 10);
  auto c = store->load_checkpoint();
  REQUIRE(c);
  REQUIRE(c->has_value());
  CHECK((*c)->engine_state == big.engine_state);
}

TEST_CASE("a file that is not a database, or a folder that does not exist, is a clear error",
          "[store]") {
  TempDir dir;
  const std::string text = dir.file("notes.txt");
  std::ofstream(text)
      << "this is not a database, just text long enough to have a header page......"
         "................................................................................";
  StoreOptions o;
  o.path = text;
  auto s = Store::open(o);
  REQUIRE_FALSE(s);
  CHECK(s.error().find(text) != std::string::npos);

  o.path = dir.file("missing/sub/cw.db");
  auto m = Store::open(o);
  REQUIRE_FALSE(m);
  CHECK(m.error().find("cannot open the store") != std::string::npos);
}

TEST_CASE("an empty store has no checkpoint, no intervals and no history", "[store]") {
  TempDir dir;
  auto store = open_store(dir.file("cw.db"));
  auto c = store->load_checkpoint();
  REQUIRE(c);
  CHECK_FALSE(c->has_value());
  CHECK(store->intervals(0, 4e9)->empty());
  CHECK(store->alert_history(0, 4e9)->empty());
  CHECK(store->feed_positions()->empty());
}

TEST_CASE("feed positions noted directly are kept per feed, newest wins", "[store]") {
  TempDir dir;
  auto store = open_store(dir.file("cw.db"));
  store->note_feed_position({"ami", "", t0 + 1, t0 + 1});
  store->note_feed_position({"ami", "", t0 + 9, t0 + 9});
  store->note_feed_position({"esl", "", t0 + 4, t0 + 4});
  REQUIRE(store->flush(5s));
  auto p = store->feed_positions();
  REQUIRE(p);
  REQUIRE(p->size() == 2);
  CHECK((*p)[0].feed == "ami");
  CHECK((*p)[0].last_event_ts == t0 + 9);
  CHECK((*p)[1].feed == "esl");
}
