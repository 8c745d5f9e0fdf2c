// The store thread and its SQLite connection. Everything submitted waits in one small mailbox (the
// newest checkpoint, feed positions by feed, a capped list of gaps) and is written in one short
// transaction; a failed write is counted, logged without flooding, and retried with the newest
// data, so a full or read-only disk costs persistence, never the live service.
#include "store/store.hpp"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <sqlite3.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "runtime/logging.hpp"

namespace callwatch::daemon {

namespace {

using metrics::QueueCounters;
using SteadyClock = std::chrono::steady_clock;

constexpr int kSchemaVersion = 1;

// ---- interval columns: the counter tables of metrics/ (stats.hpp) -------------------------------

using metrics::kQueueIntFields;
using metrics::kQueueRealFields;
constexpr std::size_t kCounterColumns = std::size(kQueueIntFields) + std::size(kQueueRealFields);

std::string interval_columns() {
  std::string out;
  for (const auto& c : kQueueIntFields) out += fmt::format(", {}", c.name);
  for (const auto& c : kQueueRealFields) out += fmt::format(", {}", c.name);
  return out;
}

// A counter added after a store was created becomes a column of its table (0 / NULL in the
// rows written before): the schema only grows, so its version stays.
// The columns queue_interval has in this file (a store of an older daemon may lack some).
std::vector<std::string> interval_table_columns(SQLite::Database& db) {
  std::vector<std::string> have;
  SQLite::Statement info(db, "PRAGMA table_info(queue_interval)");
  while (info.executeStep()) have.emplace_back(info.getColumn(1).getText());
  return have;
}

void add_missing_columns(SQLite::Database& db) {
  const std::vector<std::string> have = interval_table_columns(db);
  auto missing = [&](std::string_view name) {
    return std::find(have.begin(), have.end(), name) == have.end();
  };
  for (const auto& c : kQueueIntFields) {
    if (missing(c.name)) {
      db.exec(fmt::format("ALTER TABLE queue_interval ADD COLUMN {} INTEGER NOT NULL DEFAULT 0", c.name));
    }
  }
  for (const auto& c : kQueueRealFields) {
    if (missing(c.name)) {
      db.exec(fmt::format("ALTER TABLE queue_interval ADD COLUMN {} REAL{}", c.name,
                          c.merge == metrics::Merge::max ? "" : " NOT NULL DEFAULT 0"));
    }
  }
}

std::string schema_sql() {
  std::string interval_cols;
  for (const auto& c : kQueueIntFields)
    interval_cols += fmt::format("  {} INTEGER NOT NULL,\n", c.name);
  for (const auto& c : kQueueRealFields) interval_cols += fmt::format("  {} REAL,\n", c.name);
  return fmt::format(R"(
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoint(
  id INTEGER PRIMARY KEY CHECK (id = 1),
  taken_at REAL NOT NULL,
  final INTEGER NOT NULL,
  encoding TEXT NOT NULL,
  state_bytes INTEGER NOT NULL,
  state BLOB NOT NULL,
  alerts_bytes INTEGER NOT NULL,
  alerts BLOB NOT NULL,
  daemon_version TEXT NOT NULL,
  written_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS queue_interval(
  queue TEXT NOT NULL,
  start REAL NOT NULL,
  end REAL NOT NULL,
  offered INTEGER NOT NULL,
{}  PRIMARY KEY (queue, start));
CREATE INDEX IF NOT EXISTS queue_interval_start ON queue_interval(start);
CREATE TABLE IF NOT EXISTS alert_history(
  run TEXT NOT NULL,
  seq INTEGER NOT NULL,
  at REAL NOT NULL,
  alert_id TEXT NOT NULL,
  rule TEXT NOT NULL,
  queue TEXT NOT NULL,
  severity TEXT NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  value REAL,
  message TEXT NOT NULL,
  PRIMARY KEY (run, seq));
CREATE INDEX IF NOT EXISTS alert_history_at ON alert_history(at);
CREATE TABLE IF NOT EXISTS feed_position(
  feed TEXT PRIMARY KEY,
  position TEXT NOT NULL,
  last_event_ts REAL NOT NULL,
  updated_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS broadcast(
  id TEXT PRIMARY KEY,
  text TEXT NOT NULL,
  sender TEXT NOT NULL,
  posted_at REAL NOT NULL,
  expires_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS finished_call(
  day REAL NOT NULL,
  call_key INTEGER NOT NULL,
  queues TEXT NOT NULL,
  PRIMARY KEY (day, call_key));
CREATE TABLE IF NOT EXISTS gap(
  from_ts REAL NOT NULL,
  to_ts REAL NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (from_ts, to_ts));
)",
                     interval_cols);
}

// WAL: readers (callwatchd report) never block the writer. synchronous=NORMAL: a commit survives a
// crash of the process (kill -9); only a power cut can lose the last commits.
void prepare_schema(SQLite::Database& db) {
  db.exec("PRAGMA journal_mode=WAL");
  db.exec("PRAGMA synchronous=NORMAL");
  db.exec("PRAGMA journal_size_limit=16777216");
  db.exec(schema_sql());
  add_missing_columns(db);
  SQLite::Statement v(db, "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?)");
  v.bind(1, std::to_string(kSchemaVersion));
  v.exec();
}

// A failure the file's permissions (or a read-only mount) cause: worth a fresh connection.
bool read_only_failure(const std::exception& e) {
  const auto* sql = dynamic_cast<const SQLite::Exception*>(&e);
  if (sql == nullptr) return false;
  const int code = sql->getErrorCode() & 0xff;
  return code == SQLITE_READONLY || code == SQLITE_CANTOPEN || code == SQLITE_PERM;
}

// ---- small codecs -----------------------------------------------------------------------------

// zlib at level 1: the state text shrinks ~5-10x for a few ms of the store thread, which keeps the
// WAL small at one checkpoint a second.
bool deflate_text(std::string_view in, std::string& out) {
  uLongf bound = compressBound(static_cast<uLong>(in.size()));
  out.resize(bound);
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &bound,
                reinterpret_cast<const Bytef*>(in.data()), static_cast<uLong>(in.size()),
                1) != Z_OK) {
    return false;
  }
  out.resize(bound);
  return true;
}

}  // namespace

bool deflate_state(std::string_view raw, std::string& out) { return deflate_text(raw, out); }

namespace {

bool inflate_text(const void* in, std::size_t in_size, std::size_t raw_size, std::string& out) {
  // A corrupt size must not make us allocate gigabytes.
  if (raw_size > (std::size_t{1} << 31)) return false;
  out.resize(raw_size);
  if (raw_size == 0) return true;
  uLongf len = static_cast<uLongf>(raw_size);
  if (uncompress(reinterpret_cast<Bytef*>(out.data()), &len, static_cast<const Bytef*>(in),
                 static_cast<uLong>(in_size)) != Z_OK ||
      len != raw_size) {
    return false;
  }
  return true;
}

// Alerts as length-prefixed fields ("5:hello"): any byte may appear in a message or a comment.
void put_field(std::string& out, std::string_view s) {
  out += std::to_string(s.size());
  out.push_back(':');
  out.append(s);
}
void put_number(std::string& out, double v) {
  put_field(out, std::isnan(v) ? std::string("nan") : fmt::format("{}", v));
}

class FieldReader {
 public:
  explicit FieldReader(std::string_view s) : s_(s) {}
  bool done() const { return s_.empty(); }
  bool ok() const { return ok_; }
  std::string text() {
    const auto colon = s_.find(':');
    if (colon == std::string_view::npos || colon == 0 || colon > 12) return fail();
    std::size_t n = 0;
    for (std::size_t i = 0; i < colon; ++i) {
      if (s_[i] < '0' || s_[i] > '9') return fail();
      n = n * 10 + static_cast<std::size_t>(s_[i] - '0');
    }
    if (s_.size() - colon - 1 < n) return fail();
    std::string out(s_.substr(colon + 1, n));
    s_.remove_prefix(colon + 1 + n);
    return out;
  }
  double number() {
    const std::string t = text();
    if (!ok_ || t == "nan") return metrics::kNoValue;
    try {
      return std::stod(t);
    } catch (...) {
      fail();
      return 0;
    }
  }

 private:
  std::string fail() {
    ok_ = false;
    s_ = {};
    return {};
  }
  std::string_view s_;
  bool ok_ = true;
};

std::string encode_alerts(const std::vector<metrics::AlertView>& alerts) {
  std::string out;
  for (const auto& a : alerts) {
    put_field(out, a.id);
    put_field(out, a.rule);
    put_field(out, a.queue);
    put_field(out, metrics::to_string(a.severity));
    put_field(out, metrics::to_string(a.state));
    put_number(out, a.value);
    put_number(out, a.since);
    put_field(out, a.message);
    put_field(out, a.acked ? "1" : "0");
    put_field(out, a.acked_by);
    put_number(out, a.acked_at);
    put_field(out, a.ack_comment);
  }
  return out;
}

bool decode_alerts(std::string_view text, std::vector<metrics::AlertView>& out) {
  FieldReader r(text);
  while (!r.done() && r.ok()) {
    metrics::AlertView a;
    a.id = r.text();
    a.rule = r.text();
    a.queue = r.text();
    const std::string severity = r.text();
    const std::string state = r.text();
    a.value = r.number();
    a.since = r.number();
    a.message = r.text();
    a.acked = r.text() == "1";
    a.acked_by = r.text();
    a.acked_at = r.number();
    a.ack_comment = r.text();
    if (!r.ok() || !metrics::parse_alert_severity(severity, a.severity) ||
        !parse_alert_state(state, a.state)) {
      return false;
    }
    out.push_back(std::move(a));
  }
  return r.ok();
}

void bind_real_or_null(SQLite::Statement& st, int index, double v) {
  if (std::isfinite(v))
    st.bind(index, v);
  else
    st.bind(index);  // NULL: "no value" must not turn into 0 or a string "nan"
}

double column_real_or_nan(const SQLite::Column& c) {
  return c.isNull() ? metrics::kNoValue : c.getDouble();
}

std::string new_run_id(double now) {
  std::random_device rd;
  const std::uint64_t r = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  return fmt::format("{:x}-{:016x}", static_cast<std::int64_t>(now), r);
}

}  // namespace

// ---- the store ----------------------------------------------------------------------------------

struct Store::Impl {
  StoreOptions opts;
  std::unique_ptr<SQLite::Database> db;
  std::mutex db_mu;  // the connection: the store thread's writes and other threads' reads
  std::string run_id;  // new_run_id(), once opts.clock is set (Store::open)
  std::string lost_state;  // Store::lost_state()
  std::shared_ptr<spdlog::logger> log = component_logger("store");

  // Mailbox, guarded by mu.
  struct Pending {
    std::optional<Checkpoint> checkpoint;
    std::map<std::string, FeedPosition, std::less<>> positions;
    std::vector<StoredGap> gaps;
    std::optional<std::vector<metrics::BroadcastView>> broadcasts;  // the whole live list
    bool empty() const { return !checkpoint && positions.empty() && gaps.empty() && !broadcasts; }
  };
  mutable std::mutex mu;
  std::condition_variable cv;
  std::condition_variable done_cv;
  Pending pending;
  std::uint64_t submitted = 0;  // generation of the last submit
  std::uint64_t attempted = 0;  // generation covered by the last finished attempt
  bool last_attempt_ok = true;
  bool stopping = false;
  std::uint64_t gaps_dropped = 0;
  StoreStats stats;

  std::atomic<std::uint64_t> errors{0};
  std::atomic<bool> healthy{true};
  std::atomic<double> confirmed_interval_start{0};
  std::atomic<std::uint64_t> confirmed_alert_seq{0};
  std::atomic<std::uint64_t> confirmed_finished_seq{0};

  // Error logging without a flood: the first failure of a streak in full, then a reminder every
  // 30 s with the count, then one line when writes work again.
  std::uint64_t streak = 0;
  SteadyClock::time_point last_reminder{};

  std::thread writer;

  void note_failure(const std::string& what) {
    errors.fetch_add(1, std::memory_order_relaxed);
    healthy = false;
    {
      std::lock_guard lock(mu);
      ++stats.errors;
      stats.healthy = false;
      stats.last_error = what;
    }
    const auto now = SteadyClock::now();
    if (streak++ == 0) {
      log->error(
          "cannot write to {}: {}; the live service continues, unsaved data is kept in "
          "memory and written when the disk works again",
          opts.path, what);
      last_reminder = now;
    } else if (now - last_reminder >= std::chrono::seconds(30)) {
      log->warn("writes to {} still failing ({} failures so far): {}", opts.path, streak, what);
      last_reminder = now;
    }
  }

  void note_success() {
    if (streak > 0) log->info("writes to {} work again after {} failures", opts.path, streak);
    streak = 0;
    healthy = true;
  }

  // One transaction with everything in `batch`. Throws SQLite::Exception (or runtime_error).
  void write(const Pending& batch) {
    std::lock_guard db_lock(db_mu);
    if (!db) throw std::runtime_error("the store file cannot be opened");
    const auto started = SteadyClock::now();
    std::size_t state_bytes = 0;
    std::size_t stored_bytes = 0;
    SQLite::Transaction tx(*db);
    if (batch.checkpoint) {
      const Checkpoint& c = *batch.checkpoint;
      std::string deflated;
      std::string alerts;
      const std::string alerts_text = encode_alerts(c.alerts);
      const bool compressed = c.engine_state_raw_bytes > 0;
      if ((!compressed && !deflate_text(c.engine_state, deflated)) ||
          !deflate_text(alerts_text, alerts)) {
        throw std::runtime_error("compressing the checkpoint failed");
      }
      const std::string& state = compressed ? c.engine_state : deflated;
      state_bytes = compressed ? c.engine_state_raw_bytes : c.engine_state.size();
      stored_bytes = state.size() + alerts.size();
      SQLite::Statement cp(
          *db,
          "INSERT OR REPLACE INTO checkpoint(id, taken_at, final, encoding, state_bytes, "
          "state, alerts_bytes, alerts, daemon_version, written_at) "
          "VALUES (1, ?, ?, 'zlib', ?, ?, ?, ?, ?, ?)");
      cp.bind(1, c.taken_at);
      cp.bind(2, c.final ? 1 : 0);
      cp.bind(3, static_cast<std::int64_t>(state_bytes));
      cp.bindNoCopy(4, state.data(), static_cast<int>(state.size()));  // lives until exec()
      cp.bind(5, static_cast<std::int64_t>(alerts_text.size()));
      cp.bind(6, alerts.data(), static_cast<int>(alerts.size()));
      cp.bind(7, CALLWATCH_VERSION);
      cp.bind(8, opts.clock->now());
      cp.exec();

      if (!c.intervals.empty()) {
        std::string placeholders = "?, ?, ?, ?";
        for (std::size_t i = 0; i < kCounterColumns; ++i) placeholders += ", ?";
        SQLite::Statement iv(*db,
                             fmt::format("INSERT OR REPLACE INTO queue_interval(queue, start, end, "
                                         "offered{}) VALUES ({})",
                                         interval_columns(), placeholders));
        for (const auto& ci : c.intervals) {
          int k = 1;
          iv.bind(k++, ci.queue);
          iv.bind(k++, ci.start);
          iv.bind(k++, ci.end);
          iv.bind(k++, static_cast<std::int64_t>(ci.counters.offered()));
          for (const auto& col : kQueueIntFields)
            iv.bind(k++, static_cast<std::int64_t>(ci.counters.*col.member));
          for (const auto& col : kQueueRealFields) bind_real_or_null(iv, k++, ci.counters.*col.member);
          iv.exec();
          iv.reset();
        }
      }
      if (!c.alert_events.empty()) {
        SQLite::Statement ah(
            *db,
            "INSERT OR IGNORE INTO alert_history(run, seq, at, alert_id, rule, queue, "
            "severity, from_state, to_state, value, message) VALUES (?,?,?,?,?,?,?,?,?,?,?)");
        for (const auto& e : c.alert_events) {
          const auto& t = e.transition;
          ah.bind(1, run_id);
          ah.bind(2, static_cast<std::int64_t>(e.seq));
          ah.bind(3, t.at);
          ah.bind(4, t.id);
          ah.bind(5, t.rule);
          ah.bind(6, t.queue);
          ah.bind(7, std::string(metrics::to_string(t.severity)));
          ah.bind(8, std::string(metrics::to_string(t.from)));
          ah.bind(9, std::string(metrics::to_string(t.to)));
          bind_real_or_null(ah, 10, t.value);
          ah.bind(11, t.message);
          ah.exec();
          ah.reset();
        }
      }
      // Repeats of a call are recognised within its day: older days' rows go.
      SQLite::Statement old_days(*db, "DELETE FROM finished_call WHERE day < ?");
      old_days.bind(1, c.day_start);
      old_days.exec();
      if (!c.finished.empty()) {
        SQLite::Statement fc(
            *db, "INSERT OR REPLACE INTO finished_call(day, call_key, queues) VALUES (?, ?, ?)");
        std::string queues;
        for (const auto& f : c.finished) {
          queues.clear();
          for (const std::uint32_t q : f.row.queues) {
            if (!queues.empty()) queues += ',';
            queues += std::to_string(q);
          }
          fc.bind(1, f.row.day);
          fc.bind(2, static_cast<std::int64_t>(f.row.key));
          fc.bind(3, queues);
          fc.exec();
          fc.reset();
        }
      }
    }
    std::vector<const FeedPosition*> positions;
    if (batch.checkpoint) {
      for (const auto& p : batch.checkpoint->feeds) positions.push_back(&p);
    }
    for (const auto& [name, p] : batch.positions) positions.push_back(&p);
    if (!positions.empty()) {
      SQLite::Statement fp(*db,
                           "INSERT OR REPLACE INTO feed_position(feed, position, last_event_ts, "
                           "updated_at) VALUES (?, ?, ?, ?)");
      for (const FeedPosition* p : positions) {
        fp.bind(1, p->feed);
        fp.bind(2, p->position);
        fp.bind(3, p->last_event_ts);
        fp.bind(4, p->updated_at > 0 ? p->updated_at : opts.clock->now());
        fp.exec();
        fp.reset();
      }
    }
    if (batch.broadcasts) {
      db->exec("DELETE FROM broadcast");
      SQLite::Statement b(*db,
                          "INSERT INTO broadcast(id, text, sender, posted_at, expires_at) "
                          "VALUES (?, ?, ?, ?, ?)");
      for (const auto& m : *batch.broadcasts) {
        b.bind(1, m.id);
        b.bind(2, m.text);
        b.bind(3, m.from);
        b.bind(4, m.posted_at);
        b.bind(5, m.expires_at);
        b.exec();
        b.reset();
      }
    }
    if (!batch.gaps.empty()) {
      SQLite::Statement g(*db,
                          "INSERT OR REPLACE INTO gap(from_ts, to_ts, reason) VALUES (?, ?, ?)");
      for (const auto& gap : batch.gaps) {
        g.bind(1, gap.from);
        g.bind(2, gap.to);
        g.bind(3, gap.reason);
        g.exec();
        g.reset();
      }
    }
    tx.commit();

    const double secs = std::chrono::duration<double>(SteadyClock::now() - started).count();
    double newest_interval = confirmed_interval_start.load();
    std::uint64_t newest_seq = confirmed_alert_seq.load();
    std::uint64_t newest_finished = confirmed_finished_seq.load();
    std::lock_guard lock(mu);
    if (batch.checkpoint) {
      const Checkpoint& c = *batch.checkpoint;
      ++stats.checkpoints_written;
      stats.last_checkpoint_at = c.taken_at;
      stats.last_state_bytes = state_bytes;
      stats.last_stored_bytes = stored_bytes;
      stats.intervals_written += c.intervals.size();
      stats.alert_events_written += c.alert_events.size();
      for (const auto& ci : c.intervals) newest_interval = std::max(newest_interval, ci.start);
      for (const auto& e : c.alert_events) newest_seq = std::max(newest_seq, e.seq);
      stats.finished_calls_written += c.finished.size();
      for (const auto& f : c.finished) newest_finished = std::max(newest_finished, f.seq);
    }
    stats.last_write_seconds = secs;
    stats.max_write_seconds = std::max(stats.max_write_seconds, secs);
    stats.healthy = true;
    confirmed_interval_start = newest_interval;
    confirmed_alert_seq = newest_seq;
    confirmed_finished_seq = newest_finished;
  }

  // A connection that could not write keeps failing after the files are fixed: it opened the file
  // (or its -wal / -shm) read-only, and SQLite shares one -shm mapping per file among the
  // connections of a process, so a second connection opened beside it inherits the read-only
  // mapping ("attempt to write a readonly database" forever). After a failure of that kind the
  // old connection is closed first, then the file is opened afresh; the next write tells whether
  // it worked (note_success says so), so nothing claims success early.
  void reopen_after_read_only(bool read_only_error) {
    std::lock_guard db_lock(db_mu);
    if (!read_only_error && db && sqlite3_db_readonly(db->getHandle(), "main") != 1) return;
    db.reset();
    try {
      db = std::make_unique<SQLite::Database>(opts.path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE, 1000);
      if (sqlite3_db_readonly(db->getHandle(), "main") == 1) {
        log->debug("{} is still read-only", opts.path);
        return;
      }
      prepare_schema(*db);
      log->debug("{} reopened for writing", opts.path);
      std::lock_guard lock(mu);
      stats.read_only = false;
    } catch (const std::exception& e) {
      log->debug("{} is still not writable: {}", opts.path, e.what());  // the next failure tries again
      if (!db) {
        try {
          db = std::make_unique<SQLite::Database>(opts.path, SQLite::OPEN_READONLY, 1000);
        } catch (const std::exception&) {
          // Neither: reads and writes report the store unavailable until a later reopen works.
        }
      }
    }
  }

  // Puts back what a failed write held, unless newer data replaced it meanwhile.
  void requeue(Pending& failed) {
    std::lock_guard lock(mu);
    if (failed.checkpoint && !pending.checkpoint) pending.checkpoint = std::move(failed.checkpoint);
    for (auto& [name, p] : failed.positions) pending.positions.try_emplace(name, std::move(p));
    if (failed.broadcasts && !pending.broadcasts) pending.broadcasts = std::move(failed.broadcasts);
    for (auto& g : failed.gaps) {
      if (pending.gaps.size() < opts.max_pending_gaps)
        pending.gaps.push_back(std::move(g));
      else
        ++gaps_dropped;
    }
  }

  void run() {
    std::unique_lock lock(mu);
    for (;;) {
      cv.wait(lock, [&] { return stopping || !pending.empty(); });
      if (pending.empty() && stopping) break;
      Pending batch = std::move(pending);
      pending = Pending{};
      const std::uint64_t generation = submitted;
      const bool final_round = stopping;
      lock.unlock();

      bool ok = false;
      try {
        write(batch);
        ok = true;
        note_success();
      } catch (const std::exception& e) {
        note_failure(e.what());
        requeue(batch);
        reopen_after_read_only(read_only_failure(e));
      }

      lock.lock();
      attempted = generation;
      last_attempt_ok = ok;
      done_cv.notify_all();
      if (final_round) break;
      if (!ok) {
        // Back off; a stop request ends the wait (the destructor makes one last attempt).
        cv.wait_for(lock, opts.retry_after, [&] { return stopping; });
      }
    }
  }
};

tl::expected<void, std::string> Store::check_path(const std::string& path) {
  namespace fs = std::filesystem;
  if (path.empty()) return tl::unexpected(std::string("no storage path"));
  const fs::path file(path);
  const fs::path dir = file.has_parent_path() ? file.parent_path() : fs::path(".");
  auto refuse = [&](const std::string& why) {
    return tl::unexpected(fmt::format("cannot open the store {}: {}", path, why));
  };
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return refuse(fmt::format("the folder {} does not exist", dir.string()));
  if (!fs::exists(file, ec)) {
    if (::access(dir.c_str(), W_OK | X_OK) != 0) {
      return refuse(fmt::format("the file cannot be created in {}: {}", dir.string(), std::strerror(errno)));
    }
    return {};
  }
  if (!fs::is_regular_file(file, ec)) return refuse("not a regular file");
  // The header says whether it is a database, without opening it: a connection, even read-only,
  // may leave -wal and -shm files owned by whoever ran the check.
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return refuse(std::strerror(errno));
  char header[16] = {};
  const std::size_t n = std::fread(header, 1, sizeof header, f);
  std::fclose(f);
  // Empty: SQLite takes it for a new database; the daemon flags the lost state (lost_state()).
  if (n == 0) return {};
  if (n < sizeof header || std::memcmp(header, "SQLite format 3", sizeof header) != 0) {
    return refuse("file is not a database");
  }
  return {};
}

tl::expected<std::unique_ptr<Store>, std::string> Store::open(StoreOptions opts) {
  auto impl = std::make_unique<Impl>();
  impl->opts = std::move(opts);
  impl->run_id = new_run_id(impl->opts.clock->now());
  const std::string& path = impl->opts.path;
  if (!impl->opts.read_only) {
    if (auto ok = check_path(path); !ok) return tl::unexpected(ok.error());
  }
  {
    std::error_code ec;
    if (std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) == 0 && !ec) {
      // SQLite takes an empty file for a new database; a daemon that saved here had written one.
      impl->lost_state = "the database file was empty (0 bytes): the saved state is gone";
    }
  }
  try {
    const int flags = impl->opts.read_only ? SQLite::OPEN_READONLY
                                           : (SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    impl->db = std::make_unique<SQLite::Database>(path, flags, 1000);
    // Reading the schema proves the file is a database (a text file opens fine otherwise).
    impl->db->exec("SELECT count(*) FROM sqlite_master");
  } catch (const std::exception& e) {
    return tl::unexpected(fmt::format("cannot open the store {}: {}", path, e.what()));
  }
  const bool read_only =
      impl->opts.read_only || sqlite3_db_readonly(impl->db->getHandle(), "main") == 1;
  impl->stats.read_only = read_only;
  if (!impl->opts.read_only) {
    // A file-size limit (ulimit -f) or a quota must come back as an error the store counts, not as
    // SIGXFSZ killing the daemon.
    std::signal(SIGXFSZ, SIG_IGN);
    try {
      prepare_schema(*impl->db);
    } catch (const std::exception& e) {
      // A read-only file still serves its checkpoint; every later write is counted as an error.
      impl->note_failure(fmt::format("preparing the schema: {}", e.what()));
    }
    if (read_only) {
      impl->log->error(
          "{} is read-only: the state can be loaded but nothing will be saved until it "
          "is writable",
          path);
    }
  }
  try {
    SQLite::Statement v(*impl->db, "SELECT value FROM meta WHERE key = 'schema_version'");
    if (v.executeStep()) {
      const int found = std::atoi(v.getColumn(0).getText());
      if (found > kSchemaVersion) {
        return tl::unexpected(
            fmt::format("the store {} has schema version {}, newer than this "
                        "callwatchd understands ({}): use the newer callwatchd",
                        path, found, kSchemaVersion));
      }
    }
  } catch (const std::exception&) {
    // No meta table (an empty file opened read-only): the reads below find nothing.
  }
  auto store = std::make_unique<Store>(std::move(impl));
  if (!store->impl_->opts.read_only) {
    Impl* m = store->impl_.get();
    m->writer = std::thread([m] { m->run(); });
  }
  return store;
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Store::~Store() {
  if (!impl_) return;
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->writer.joinable()) impl_->writer.join();
}

const std::string& Store::path() const { return impl_->opts.path; }
const std::string& Store::lost_state() const { return impl_->lost_state; }

tl::expected<std::optional<double>, std::string> Store::checkpoint_taken_at() {
  std::lock_guard lock(impl_->db_mu);
  if (!impl_->db) return tl::unexpected(std::string("the store file cannot be opened"));
  try {
    if (!impl_->db->tableExists("checkpoint")) return std::optional<double>{};
    SQLite::Statement q(*impl_->db, "SELECT taken_at FROM checkpoint WHERE id = 1");
    if (!q.executeStep()) return std::optional<double>{};
    return std::optional<double>{q.getColumn(0).getDouble()};
  } catch (const std::exception& e) {
    return tl::unexpected(fmt::format("reading the checkpoint: {}", e.what()));
  }
}

tl::expected<std::optional<LoadedCheckpoint>, std::string> Store::load_checkpoint() {
  std::lock_guard lock(impl_->db_mu);
  if (!impl_->db) return tl::unexpected(std::string("the store file cannot be opened"));
  try {
    if (!impl_->db->tableExists("checkpoint")) return std::optional<LoadedCheckpoint>{};
    SQLite::Statement q(
        *impl_->db,
        "SELECT taken_at, final, encoding, state_bytes, state, alerts_bytes, alerts, "
        "daemon_version "
        "FROM checkpoint WHERE id = 1");
    if (!q.executeStep()) return std::optional<LoadedCheckpoint>{};
    LoadedCheckpoint c;
    c.taken_at = q.getColumn(0).getDouble();
    c.final = q.getColumn(1).getInt() != 0;
    const std::string encoding = q.getColumn(2).getText();
    const auto raw = static_cast<std::size_t>(q.getColumn(3).getInt64());
    if (encoding != "zlib")
      return tl::unexpected(fmt::format("checkpoint encoding \"{}\" unknown", encoding));
    const SQLite::Column state = q.getColumn(4);
    if (!inflate_text(state.getBlob(), static_cast<std::size_t>(state.getBytes()), raw,
                      c.engine_state)) {
      return tl::unexpected(std::string("the checkpoint's engine state is corrupt"));
    }
    const auto alerts_raw = static_cast<std::size_t>(q.getColumn(5).getInt64());
    const SQLite::Column alerts = q.getColumn(6);
    std::string alerts_text;
    if (!inflate_text(alerts.getBlob(), static_cast<std::size_t>(alerts.getBytes()), alerts_raw,
                      alerts_text)) {
      return tl::unexpected(std::string("the checkpoint's alert states are corrupt"));
    }
    if (!decode_alerts(alerts_text, c.alerts)) {
      return tl::unexpected(std::string("the checkpoint's alert states are corrupt"));
    }
    c.daemon_version = q.getColumn(7).getText();
    if (impl_->db->tableExists("feed_position")) {
      SQLite::Statement f(*impl_->db,
                          "SELECT feed, position, last_event_ts, updated_at FROM feed_position "
                          "ORDER BY feed");
      while (f.executeStep()) {
        c.feeds.push_back(FeedPosition{f.getColumn(0).getText(), f.getColumn(1).getText(),
                                       f.getColumn(2).getDouble(), f.getColumn(3).getDouble()});
      }
    }
    if (impl_->db->tableExists("finished_call")) {
      SQLite::Statement f(*impl_->db,
                          "SELECT day, call_key, queues FROM finished_call WHERE day = "
                          "(SELECT MAX(day) FROM finished_call)");
      while (f.executeStep()) {
        metrics::Engine::FinishedRow row;
        row.day = f.getColumn(0).getDouble();
        row.key = static_cast<std::uint64_t>(f.getColumn(1).getInt64());
        const std::string queues = f.getColumn(2).getText();
        for (std::size_t at = 0; at < queues.size();) {
          std::size_t comma = queues.find(',', at);
          if (comma == std::string::npos) comma = queues.size();
          std::uint32_t q = 0;
          const auto [ptr, ec] = std::from_chars(queues.data() + at, queues.data() + comma, q);
          if (ec != std::errc{} || ptr != queues.data() + comma)
            return tl::unexpected(std::string("the store's finished calls are corrupt"));
          row.queues.push_back(q);
          at = comma + 1;
        }
        c.finished.push_back(std::move(row));
      }
    }
    return std::optional<LoadedCheckpoint>{std::move(c)};
  } catch (const std::exception& e) {
    return tl::unexpected(fmt::format("reading the checkpoint: {}", e.what()));
  }
}

tl::expected<std::vector<metrics::ClosedInterval>, std::string> Store::intervals(double from,
                                                                                 double to) {
  std::lock_guard lock(impl_->db_mu);
  if (!impl_->db) return tl::unexpected(std::string("the store file cannot be opened"));
  std::vector<metrics::ClosedInterval> out;
  try {
    if (!impl_->db->tableExists("queue_interval")) return out;
    // A store of an older daemon opened read-only may lack newer counters: they read as their
    // initial value.
    std::string columns;
    {
      const std::vector<std::string> have = interval_table_columns(*impl_->db);
      auto column = [&](std::string_view name, std::string_view absent) {
        const bool present = std::find(have.begin(), have.end(), name) != have.end();
        columns += fmt::format(", {}", present ? name : absent);
      };
      for (const auto& c : kQueueIntFields) column(c.name, "0");
      for (const auto& c : kQueueRealFields) column(c.name, c.merge == metrics::Merge::max ? "NULL" : "0");
    }
    SQLite::Statement q(*impl_->db,
                        fmt::format("SELECT queue, start, end{} FROM queue_interval WHERE start "
                                    ">= ? AND start < ? ORDER BY start, queue",
                                    columns));
    q.bind(1, from);
    q.bind(2, to);
    while (q.executeStep()) {
      metrics::ClosedInterval ci;
      ci.queue = q.getColumn(0).getText();
      ci.start = q.getColumn(1).getDouble();
      ci.end = q.getColumn(2).getDouble();
      int k = 3;
      for (const auto& col : kQueueIntFields) ci.counters.*col.member = q.getColumn(k++).getInt64();
      for (const auto& col : kQueueRealFields)
        ci.counters.*col.member = column_real_or_nan(q.getColumn(k++));
      out.push_back(std::move(ci));
    }
  } catch (const std::exception& e) {
    return tl::unexpected(fmt::format("reading intervals: {}", e.what()));
  }
  return out;
}

tl::expected<std::vector<metrics::AlertTransition>, std::string> Store::alert_history(double from,
                                                                                      double to) {
  std::lock_guard lock(impl_->db_mu);
  if (!impl_->db) return tl::unexpected(std::string("the store file cannot be opened"));
  std::vector<metrics::AlertTransition> out;
  try {
    if (!impl_->db->tableExists("alert_history")) return out;
    SQLite::Statement q(
        *impl_->db,
        "SELECT at, alert_id, rule, queue, severity, from_state, to_state, value, message "
        "FROM alert_history WHERE at >= ? AND at < ? ORDER BY at, run, seq");
    q.bind(1, from);
    q.bind(2, to);
    while (q.executeStep()) {
      metrics::AlertTransition t;
      t.at = q.getColumn(0).getDouble();
      t.id = q.getColumn(1).getText();
      t.rule = q.getColumn(2).getText();
      t.queue = q.getColumn(3).getText();
      metrics::parse_alert_severity(q.getColumn(4).getText(), t.severity);
      parse_alert_state(q.getColumn(5).getText(), t.from);
      parse_alert_state(q.getColumn(6).getText(), t.to);
      t.value = column_real_or_nan(q.getColumn(7));
      t.message = q.getColumn(8).getText();
      out.push_back(std::move(t));
    }
  } catch (const std::exception& e) {
    return tl::unexpected(fmt::format("reading alert history: {}", e.what()));
  }
  return out;
}

tl::expected<std::vector<FeedPosition>, std::string> Store::feed_positions() {
  std::lock_guard lock(impl_->db_mu);
  if (!impl_->db) return tl::unexpected(std::string("the store file cannot be opened"));
  std::vector<FeedPosition> out;
  try {
    if (!impl_->db->tableExists("feed_position")) return out;
    SQLite::Statement f(
        *impl_->db,
        "SELECT feed, position, last_event_ts, updated_at FROM feed_position ORDER BY feed");
    while (f.executeStep()) {
      out.push_back(FeedPosition{f.getColumn(0).getText(), f.getColumn(1).getText(),
                                 f.getColumn(2).getDouble(), f.getColumn(3).getDouble()});
    }
  } catch (const std::exception& e) {
    return tl::unexpected(fmt::format("reading feed positions: {}", e.what()));
  }
  return out;
}

tl::expected<std::vector<metrics::BroadcastView>, std::string> Store::broadcasts() {
  std::lock_guard lock(impl_->db_mu);
  if (!impl_->db) return tl::unexpected(std::string("the store file cannot be opened"));
  std::vector<metrics::BroadcastView> out;
  try {
    if (!impl_->db->tableExists("broadcast")) return out;
    SQLite::Statement q(*impl_->db,
                        "SELECT id, text, sender, posted_at, expires_at FROM broadcast ORDER BY id");
    while (q.executeStep()) {
      out.push_back(metrics::BroadcastView{q.getColumn(0).getText(), q.getColumn(1).getText(),
                                           q.getColumn(2).getText(), q.getColumn(3).getDouble(),
                                           q.getColumn(4).getDouble()});
    }
  } catch (const std::exception& e) {
    return tl::unexpected(fmt::format("reading broadcasts: {}", e.what()));
  }
  return out;
}

void Store::save_broadcasts(std::vector<metrics::BroadcastView> live) {
  {
    std::lock_guard lock(impl_->mu);
    impl_->pending.broadcasts = std::move(live);
    ++impl_->submitted;
  }
  impl_->cv.notify_one();
}

tl::expected<std::vector<StoredGap>, std::string> Store::gaps(double from, double to) {
  std::lock_guard lock(impl_->db_mu);
  if (!impl_->db) return tl::unexpected(std::string("the store file cannot be opened"));
  std::vector<StoredGap> out;
  try {
    if (!impl_->db->tableExists("gap")) return out;
    SQLite::Statement q(*impl_->db,
                        "SELECT from_ts, to_ts, reason FROM gap WHERE to_ts > ? AND from_ts < ? "
                        "ORDER BY from_ts");
    q.bind(1, from);
    q.bind(2, to);
    while (q.executeStep()) {
      out.push_back(StoredGap{q.getColumn(0).getDouble(), q.getColumn(1).getDouble(),
                              q.getColumn(2).getText()});
    }
  } catch (const std::exception& e) {
    return tl::unexpected(fmt::format("reading gaps: {}", e.what()));
  }
  return out;
}

void Store::submit(Checkpoint c) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->pending.checkpoint) ++impl_->stats.checkpoints_superseded;
    impl_->pending.checkpoint = std::move(c);
    ++impl_->submitted;
  }
  impl_->cv.notify_one();
}

void Store::note_feed_position(FeedPosition p) {
  {
    std::lock_guard lock(impl_->mu);
    if (p.updated_at <= 0) p.updated_at = impl_->opts.clock->now();
    std::string name = p.feed;
    impl_->pending.positions.insert_or_assign(std::move(name), std::move(p));
    ++impl_->submitted;
  }
  impl_->cv.notify_one();
}

void Store::record_gap(StoredGap g) {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->pending.gaps.size() < impl_->opts.max_pending_gaps)
      impl_->pending.gaps.push_back(std::move(g));
    else
      ++impl_->gaps_dropped;
    ++impl_->submitted;
  }
  impl_->cv.notify_one();
}

bool Store::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->mu);
  if (!impl_->writer.joinable()) return impl_->pending.empty();
  const std::uint64_t target = impl_->submitted;
  if (!impl_->done_cv.wait_for(lock, timeout, [&] { return impl_->attempted >= target; }))
    return false;
  return impl_->last_attempt_ok && impl_->pending.empty();
}

StoreStats Store::stats() const {
  std::lock_guard lock(impl_->mu);
  StoreStats s = impl_->stats;
  s.errors = impl_->errors.load();
  s.healthy = impl_->healthy.load();
  return s;
}

std::uint64_t Store::errors() const { return impl_->errors.load(std::memory_order_relaxed); }
bool Store::healthy() const { return impl_->healthy.load(std::memory_order_relaxed); }
double Store::confirmed_interval_start() const { return impl_->confirmed_interval_start.load(); }
std::uint64_t Store::confirmed_alert_seq() const { return impl_->confirmed_alert_seq.load(); }
std::uint64_t Store::confirmed_finished_seq() const {
  return impl_->confirmed_finished_seq.load();
}

}  // namespace callwatch::daemon
