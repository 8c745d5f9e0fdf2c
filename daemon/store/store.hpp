// Persistence of callwatchd (SQLite in WAL mode): the engine checkpoint, closed intervals, alert
// states and history, feed positions and recorded gaps. Writes go through one store thread so the
// engine thread only hands over data and never waits on a disk.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <tl/expected.hpp>
#include <vector>

#include "callwatch/metrics/alerts.hpp"
#include "callwatch/metrics/engine.hpp"
#include "callwatch/metrics/clock.hpp"
#include "callwatch/metrics/snapshot.hpp"
#include "runtime/system_clock.hpp"

namespace callwatch::daemon {

// Where a feed stands, saved with the engine state it belongs to so that a restart resumes the
// feed exactly where the restored state ends.
struct FeedPosition {
  std::string feed;
  std::string position;      // opaque to the store (queue_log: "<inode>:<offset>"); "" = none
  double last_event_ts = 0;  // event time of the last event the engine applied from the feed
  double updated_at = 0;     // wall time of the update
};

// One alert transition with its place in this run's sequence (history rows are keyed by run + seq,
// so a checkpoint written twice never stores a transition twice).
struct AlertEvent {
  std::uint64_t seq = 0;
  metrics::AlertTransition transition;
};

// A call finished today (metrics::Engine::FinishedRow), numbered so the store can confirm it.
struct FinishedCallRow {
  std::uint64_t seq = 0;
  metrics::Engine::FinishedRow row;
};

// The checkpoint's compression of an engine state (zlib, level 1), as the store writes it; false
// if zlib fails. Safe in a forked child (no locks, no logging).
bool deflate_state(std::string_view raw, std::string& out);

// What the engine thread hands over at each checkpoint: the whole state plus everything not yet
// known to be on disk (the store confirms through confirmed_interval_start, confirmed_alert_seq and
// confirmed_finished_seq).
struct Checkpoint {
  double taken_at = 0;                     // engine time (UTC) when the state was serialized
  bool final = false;                      // written by a clean shutdown: nothing after it was lost
  std::string engine_state;                // metrics::Engine::serialize(), or its deflate_state()
  // engine_state is already compressed by deflate_state() (the checkpoint's child process does it,
  // so the daemon never holds the state uncompressed): the size it had before, else 0.
  std::size_t engine_state_raw_bytes = 0;
  std::vector<metrics::AlertView> alerts;  // current states and acks
  std::vector<metrics::ClosedInterval> intervals;  // closed, not yet confirmed stored
  std::vector<AlertEvent> alert_events;            // transitions not yet confirmed stored
  std::vector<FeedPosition> feeds;
  // Today's finished calls not yet confirmed stored (kept out of engine_state: appended as rows,
  // so a checkpoint costs O(new calls), not O(the day's calls)); rows of days before `day_start`
  // are deleted with it.
  std::vector<FinishedCallRow> finished;
  double day_start = 0;
};

// The last checkpoint on disk, as start-up reads it.
struct LoadedCheckpoint {
  double taken_at = 0;
  bool final = false;
  std::string engine_state;
  std::vector<metrics::AlertView> alerts;
  std::vector<FeedPosition> feeds;
  std::string daemon_version;
  std::vector<metrics::Engine::FinishedRow> finished;  // the newest day's finished calls
};

struct StoredGap {
  double from = 0;
  double to = 0;
  std::string reason;
};

struct StoreStats {
  std::uint64_t errors = 0;  // failed transactions (callwatch_store_errors_total)
  std::uint64_t checkpoints_written = 0;
  std::uint64_t checkpoints_superseded = 0;  // replaced by a newer one before being written
  std::uint64_t intervals_written = 0;
  std::uint64_t alert_events_written = 0;
  std::uint64_t finished_calls_written = 0;
  double last_checkpoint_at = 0;  // engine time of the newest checkpoint on disk (0 = none yet)
  double last_write_seconds = 0;  // duration of the last successful transaction
  double max_write_seconds = 0;
  std::size_t last_state_bytes = 0;   // engine state before compression
  std::size_t last_stored_bytes = 0;  // as stored
  bool healthy = true;                // false from a failed write until the next good one
  bool read_only = false;             // opened read-only (file or folder not writable)
  std::string last_error;             // never holds data, only SQLite's message
};

struct StoreOptions {
  std::string path;
  bool read_only = false;  // reports: never write, never create
  // After a failed write the store waits this long before it tries again, so a full disk is not
  // hammered; new checkpoints keep replacing the pending one meanwhile (nothing piles up).
  std::chrono::milliseconds retry_after{1000};
  std::size_t max_pending_gaps = 1000;
  // Wall time of the run id, of written checkpoints and of feed positions.
  const metrics::Clock* clock = &system_clock();
};

class Store {
 public:
  // Opens (creating the file and schema unless read_only) and starts the store thread. A file
  // that cannot be written is opened read-only: reads work, writes fail and are counted. An error
  // means the file cannot even be read (missing folder, not a database).
  static tl::expected<std::unique_ptr<Store>, std::string> open(StoreOptions opts);
  // What open() refuses without writing anything: a missing folder, a folder the file cannot be
  // created in, a file that is not a database. `--check-config` runs it; open() runs it first,
  // so both say the same words.
  static tl::expected<void, std::string> check_path(const std::string& path);
  ~Store();  // writes what is pending (bounded by one attempt), then stops
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const;
  // Why the saved state is gone although the file was there ("" when the file was new, or held
  // what it holds): a database file found empty (0 bytes) is a loss to flag, not a first start.
  const std::string& lost_state() const;

  // ---- reads (any thread; a short lock on the connection) ---------------------------------
  tl::expected<std::optional<LoadedCheckpoint>, std::string> load_checkpoint();
  // The time of the checkpoint row alone (readable when its state is not), if there is one.
  tl::expected<std::optional<double>, std::string> checkpoint_taken_at();
  // Closed intervals with from <= start < to, ordered by start then queue.
  tl::expected<std::vector<metrics::ClosedInterval>, std::string> intervals(double from, double to);
  tl::expected<std::vector<metrics::AlertTransition>, std::string> alert_history(double from,
                                                                                 double to);
  tl::expected<std::vector<FeedPosition>, std::string> feed_positions();
  // Gaps overlapping [from, to).
  tl::expected<std::vector<StoredGap>, std::string> gaps(double from, double to);
  // The supervisors' broadcasts live at the last save (expired ones included: the reader drops
  // them by its clock), ordered by id.
  tl::expected<std::vector<metrics::BroadcastView>, std::string> broadcasts();

  // ---- writes (any thread; never block on the disk) -----------------------------------------
  // Replaces a checkpoint not yet written: the newest state always wins, nothing queues up.
  void submit(Checkpoint c);
  // For feeds whose position may safely run ahead of the engine (AMI/ESL last event time): kept
  // per feed, newest wins, written with the next transaction. Positions that must match the
  // engine state travel inside the Checkpoint instead.
  void note_feed_position(FeedPosition p);
  void record_gap(StoredGap g);
  // Replaces the stored broadcasts with `live` (the publisher's whole list; newest wins).
  void save_broadcasts(std::vector<metrics::BroadcastView> live);
  // Waits until everything submitted so far was written (true) or a write failed / timeout.
  bool flush(std::chrono::milliseconds timeout);

  StoreStats stats() const;
  std::uint64_t errors() const;
  bool healthy() const;
  // Watermarks of what is on disk: intervals starting at or before this time, alert events up to
  // this sequence number. The engine thread resends only what lies beyond them.
  double confirmed_interval_start() const;
  std::uint64_t confirmed_alert_seq() const;
  std::uint64_t confirmed_finished_seq() const;

  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);  // use open()

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace callwatch::daemon
