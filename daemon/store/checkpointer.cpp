// Checkpoints on the engine thread. Each checkpoint carries what the store has not confirmed yet
// (intervals closed after its watermark, alert transitions above its sequence), so a checkpoint
// replaced by a newer one, or a failed write, loses nothing: the next one carries it again.
#include "store/checkpointer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <cmath>
#include <csignal>
#include <thread>

#include "runtime/logging.hpp"

namespace callwatch::daemon {

namespace {

std::string format_utc(double t) {
  const auto secs = static_cast<std::time_t>(std::floor(t));
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

// Rows that ride along with every checkpoint until the store confirms them: drops from the front
// those confirmed (numbered up to `confirmed`) or `stale`, then the oldest beyond `bound`, counted
// in `dropped` and said once.
template <typename Row, typename Stale>
void trim_unconfirmed(std::deque<Row>& rows, std::uint64_t confirmed, Stale&& stale,
                      std::size_t bound, std::uint64_t& dropped, const char* what) {
  while (!rows.empty() && (rows.front().seq <= confirmed || stale(rows.front()))) rows.pop_front();
  if (rows.size() <= bound) return;
  const std::size_t drop = rows.size() - bound;
  rows.erase(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(drop));
  if (dropped == 0) component_logger("store")->warn("the store is not keeping up: {}", what);
  dropped += drop;
}

}  // namespace

Checkpointer::~Checkpointer() { join_reader(); }

void Checkpointer::join_reader() {
  if (reader_.joinable()) reader_.join();
}

bool Checkpointer::wait_idle(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (in_flight_.load()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  join_reader();
  return true;
}

Checkpointer::Checkpointer(std::shared_ptr<Store> store, CheckpointerOptions opts)
    : store_(std::move(store)), opts_(opts) {
  store_alert_.id = kStoreAlertId;
  store_alert_.rule = kStoreAlertId;
  store_alert_.severity = metrics::AlertSeverity::critical;
  store_alert_.state = metrics::AlertState::inactive;
}

RestoreResult Checkpointer::restore(metrics::Engine& engine, double now) {
  RestoreResult r;
  // The day's finished calls reach the store as rows (Checkpoint::finished), not in the state.
  engine.set_finished_rows(true);
  auto log = component_logger("store");
  // The saved state is lost (unreadable, or the file found empty): today's figures start now,
  // flagged as a gap from the last checkpoint's time when the row still says it, else from the
  // start of today, in the engine (every queue, the configured ones declared later too), in the
  // store's gap table and in the log.
  auto lost = [&](std::string problem) {
    r.problem = std::move(problem);
    const auto& s = engine.settings();
    double from = s.tz.day_start(now, s.day_start_seconds);
    if (auto at = store_->checkpoint_taken_at(); at && *at && **at < now) from = **at;
    log->error("the saved figures of {} are lost ({}); starting with empty figures and flagging "
               "{} to {} as a gap",
               store_->path(), r.problem, format_utc(from), format_utc(now));
    engine.warn("store", fmt::format("the saved figures could not be read ({}); today's figures "
                                     "start at {}", r.problem, format_utc(now)));
    engine.note_gap(from, now);
    store_->record_gap({from, now, "saved state lost: " + r.problem});
    r.gap_noted = true;
    return r;
  };
  auto loaded = store_->load_checkpoint();
  if (!loaded) return lost(loaded.error());
  if (!loaded->has_value()) {
    if (!store_->lost_state().empty()) return lost(store_->lost_state());
    log->info("{} holds no checkpoint yet: starting with empty figures", store_->path());
    return r;
  }
  LoadedCheckpoint& c = **loaded;
  // Off while the state is read, then on again: the finished calls of a state written before
  // they were rows go out as rows with the next checkpoint.
  engine.set_finished_rows(false);
  const bool readable = engine.restore(c.engine_state);
  engine.set_finished_rows(true);
  if (!readable) {
    return lost(fmt::format("the checkpoint of {} (written by callwatchd {}) cannot be read by this version",
                            format_utc(c.taken_at), c.daemon_version));
  }
  const std::size_t finished = engine.restore_finished_rows(c.finished);
  r.restored = true;
  r.checkpoint_at = c.taken_at;
  r.clean_stop = c.final;
  r.alerts = std::move(c.alerts);
  r.feeds = std::move(c.feeds);
  const double down = now - c.taken_at;
  // A crash loses up to one checkpoint interval of events; a long downtime loses whatever live
  // feeds sent meanwhile. Either way the figures are incomplete and must say so.
  if (!c.final || down > opts_.gap_seconds) {
    engine.note_gap(c.taken_at, now);
    store_->record_gap(
        {c.taken_at, now, c.final ? "daemon stopped" : "daemon crashed (no clean stop)"});
    r.gap_noted = true;
  }
  log->info("restored the state of {} ({}, {:.1f} s ago; {} calls finished today){}",
            format_utc(c.taken_at), c.final ? "clean stop" : "after a crash", down, finished,
            r.gap_noted ? "; the downtime is flagged as a gap" : "");
  return r;
}

Checkpoint Checkpointer::build(metrics::Engine& engine,
                               const std::vector<metrics::AlertView>& alerts,
                               const std::vector<metrics::AlertTransition>& history,
                               std::uint64_t first_seq, const std::vector<FeedPosition>& feeds) {
  Checkpoint c;
  c.taken_at = engine.now();
  c.alerts = alerts;
  c.feeds = feeds;

  // Intervals closed after the store's watermark (all queues of one boundary share its start).
  const double watermark = store_->confirmed_interval_start();
  const auto& closed = engine.closed_intervals();
  std::size_t first = closed.size();
  while (first > 0 && closed[first - 1].start > watermark) --first;
  c.intervals.assign(closed.begin() + static_cast<std::ptrdiff_t>(first), closed.end());
  // Older ones that a late event corrected since the last checkpoint (METRICS.md: "the interval
  // it names is corrected, even a closed one") are written again.
  std::uint64_t newest = sent_revision_;
  for (std::size_t i = 0; i < first; ++i) {
    if (closed[i].revision > sent_revision_) c.intervals.push_back(closed[i]);
  }
  for (const auto& ci : closed) newest = std::max(newest, ci.revision);
  sent_revision_ = newest;

  // New alert transitions by their run-wide number; drop the ones the store confirmed.
  for (std::size_t i = 0; i < history.size(); ++i) {
    const std::uint64_t seq = first_seq + i;
    if (seq < next_seq_) continue;
    unconfirmed_events_.push_back(AlertEvent{seq, history[i]});
  }
  next_seq_ = std::max(next_seq_, first_seq + history.size());
  trim_unconfirmed(unconfirmed_events_, store_->confirmed_alert_seq(),
                   [](const AlertEvent&) { return false; }, opts_.max_pending_alert_events,
                   alert_events_dropped_,
                   "dropping the oldest alert history rows (live alerts are not affected)");
  c.alert_events.assign(unconfirmed_events_.begin(), unconfirmed_events_.end());

  // Calls finished since the last checkpoint, numbered; the ones the store confirmed go, and so
  // do those of a day that closed (the store deletes older days with this checkpoint).
  c.day_start = engine.day_start();
  for (auto& row : engine.take_finished_rows())
    unconfirmed_finished_.push_back(FinishedCallRow{next_finished_seq_++, std::move(row)});
  trim_unconfirmed(unconfirmed_finished_, store_->confirmed_finished_seq(),
                   [&](const FinishedCallRow& f) { return f.row.day < c.day_start; },
                   opts_.max_pending_finished_calls, finished_dropped_,
                   "the oldest finished calls are not saved (after a restart a repeat of one of "
                   "them counts as a new call; live figures are not affected)");
  c.finished.assign(unconfirmed_finished_.begin(), unconfirmed_finished_.end());
  return c;
}

std::chrono::steady_clock::duration Checkpointer::last_total_cost() const {
  using Secs = std::chrono::duration<double>;
  const double total = Secs(last_build_).count() + static_cast<double>(child_cpu_ns_.load()) * 1e-9 +
                       store_write_seconds_;
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(Secs(total));
}

std::chrono::steady_clock::duration Checkpointer::effective_interval() const {
  const auto stretched =
      std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(
          std::chrono::duration<double>(last_total_cost()).count() / opts_.max_core_share));
  return std::max<std::chrono::steady_clock::duration>(opts_.interval, stretched);
}

bool Checkpointer::due(std::chrono::steady_clock::time_point now) const {
  if (in_flight_.load()) return false;  // the previous child is still writing its state
  return taken_ == 0 || now - last_ >= effective_interval();
}

bool Checkpointer::take_forked(const metrics::Engine& engine, Checkpoint& c) {
  join_reader();
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  if (pid == 0) {
    // The child: only this thread exists here, and the engine's memory is a frozen copy. No
    // logging, no locks another thread may have held; _exit without destructors.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(3);
    ::close(fds[0]);
    // The child compresses too: the daemon receives (and holds) only the compressed state, a
    // fifth to a tenth of it. Sent as the raw size (8 bytes, native order), then the zlib bytes.
    std::string out(sizeof(std::uint64_t), '\0');
    {
      std::string deflated;
      const std::string state = engine.serialize();
      if (!deflate_state(state, deflated)) ::_exit(4);
      const std::uint64_t raw = state.size();
      std::memcpy(out.data(), &raw, sizeof raw);
      out += deflated;
    }
    std::string_view rest = out;
    while (!rest.empty()) {
      const ssize_t n = ::write(fds[1], rest.data(), rest.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        ::_exit(2);
      }
      rest.remove_prefix(static_cast<std::size_t>(n));
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  in_flight_ = true;
  reader_ = std::thread([this, fd = fds[0], pid, c = std::move(c)]() mutable {
    std::string state;
    std::array<char, 65536> buf{};
    for (;;) {
      const ssize_t n = ::read(fd, buf.data(), buf.size());
      if (n > 0) {
        state.append(buf.data(), static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        break;
      }
    }
    ::close(fd);
    int status = 0;
    rusage usage{};
    while (::wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
    }
    auto ns = [](const timeval& t) {
      return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 +
             static_cast<std::int64_t>(t.tv_usec) * 1000;
    };
    child_cpu_ns_ = ns(usage.ru_utime) + ns(usage.ru_stime);
    std::uint64_t raw = 0;
    if (state.size() > sizeof raw) std::memcpy(&raw, state.data(), sizeof raw);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && raw > 0) {
      state.erase(0, sizeof raw);
      state.shrink_to_fit();
      c.engine_state = std::move(state);
      c.engine_state_raw_bytes = static_cast<std::size_t>(raw);
      store_->submit(std::move(c));
    } else {
      // Nothing half-written reaches the store; the next checkpoint carries everything again.
      child_failures_.fetch_add(1);
      component_logger("store")->error(
          "the checkpoint process failed (status {}); the next checkpoint retries", status);
    }
    in_flight_ = false;
  });
  return true;
}

void Checkpointer::take(metrics::Engine& engine,
                        const std::vector<metrics::AlertView>& alerts,
                        const std::vector<metrics::AlertTransition>& history,
                        std::uint64_t first_seq, const std::vector<FeedPosition>& feeds,
                        std::chrono::steady_clock::time_point now) {
  last_ = now;
  ++taken_;
  const auto started = std::chrono::steady_clock::now();
  // The previous checkpoint's write (the store writes one at a time; a newer one replaces a
  // pending one, so this is the cost of the last one written).
  const StoreStats written = store_->stats();
  store_write_seconds_ = written.last_write_seconds;
  Checkpoint c = build(engine, alerts, history, first_seq, feeds);
  if (opts_.fork && take_forked(engine, c)) {
    last_build_ = std::chrono::steady_clock::now() - started;  // what the engine thread paid
  } else {
    child_cpu_ns_ = 0;
    c.engine_state = engine.serialize();
    last_build_ = std::chrono::steady_clock::now() - started;
    store_->submit(std::move(c));
  }
  const auto interval = effective_interval();
  if (interval > opts_.interval && started - last_stretch_log_ >= std::chrono::minutes(1)) {
    last_stretch_log_ = started;
    using Ms = std::chrono::duration<double, std::milli>;
    component_logger("store")->warn(
        "a checkpoint costs {:.0f} ms of CPU ({:.0f} ms on the engine thread, {:.0f} ms to "
        "serialize and compress in a child process, {:.0f} ms to write {} kB of state): "
        "checkpoints every {:.1f} s instead of {:.1f} s, which is the loss window of a crash for now",
        Ms(last_total_cost()).count(), Ms(last_build_).count(),
        static_cast<double>(child_cpu_ns_.load()) * 1e-6, store_write_seconds_ * 1000,
        written.last_state_bytes / 1024, std::chrono::duration<double>(interval).count(),
        std::chrono::duration<double>(opts_.interval).count());
  }
}

void Checkpointer::final_checkpoint(metrics::Engine& engine,
                                    const std::vector<metrics::AlertView>& alerts,
                                    const std::vector<metrics::AlertTransition>& history,
                                    std::uint64_t first_seq, const std::vector<FeedPosition>& feeds,
                                    std::chrono::milliseconds wait) {
  wait_idle(wait);  // a child's older state must not land after the final one
  Checkpoint c = build(engine, alerts, history, first_seq, feeds);
  c.engine_state = engine.serialize();  // stopping anyway: no child needed
  c.final = true;
  store_->submit(std::move(c));
  ++taken_;
  if (!store_->flush(wait)) {
    component_logger("store")->error(
        "the final checkpoint could not be written to {}; the next start flags "
        "the downtime as a gap",
        store_->path());
  }
}

void Checkpointer::decorate(metrics::Snapshot& snap, metrics::Engine& engine, double now) {
  const bool failing = !store_->healthy();
  const auto before = store_alert_.state;
  // The rules' state machine, on "is the store failing" (1 or 0): fires at once, resolves when
  // saving works again, shown resolved for 5 minutes like the rules' alerts.
  static const metrics::AlertRule kStoreRule = [] {
    metrics::AlertRule r;
    r.name = kStoreAlertId;
    r.above = true;
    r.threshold = 0.5;
    r.clear = 0.5;
    r.severity = metrics::AlertSeverity::critical;
    return r;
  }();
  metrics::step_alert(store_alert_, kStoreRule, failing ? 1.0 : 0.0, now, 300, {});
  store_alert_.value = static_cast<double>(store_->errors());
  if (store_alert_.state == metrics::AlertState::firing) {
    store_alert_.message = fmt::format(
        "cannot save to {}: {} failed writes; the live figures are fine but a "
        "restart now would lose today's totals",
        store_->path(), store_->errors());
  } else if (store_alert_.state == metrics::AlertState::resolved) {
    store_alert_.message = "saving works again";
  }
  if (before != store_alert_.state) {
    component_logger("alerts")->info("{} {} -> {}: {}", kStoreAlertId, metrics::to_string(before),
                                     metrics::to_string(store_alert_.state), store_alert_.message);
  }
  if (failing && !warned_) {
    // Once per failure streak: the data-quality list says from when the figures are not saved.
    engine.warn("store", fmt::format("from {} the figures could not be saved to {}",
                                     format_utc(now), store_->path()));
    warned_ = true;
  } else if (!failing) {
    warned_ = false;
  }
  if (store_alert_.state != metrics::AlertState::inactive) snap.alerts.push_back(store_alert_);
}

}  // namespace callwatch::daemon
