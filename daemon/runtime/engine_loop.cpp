// The engine thread's loop. Sockets are drained in batches so a burst of 5,000 events/s costs one
// poll per batch; time advances and snapshots go out on their own cadence, independent of traffic.
#include "runtime/engine_loop.hpp"

#include "feeds/feed_runner.hpp"

#include <array>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "feeds/duplicate_filter.hpp"
#include "feeds/feed_wire.hpp"
#include "feeds/native/native_parser.hpp"
#include "feeds/time_bounds.hpp"
#include "runtime/logging.hpp"
#include "runtime/name_limits.hpp"
#include "runtime/thread_cpu.hpp"

namespace callwatch::daemon {

namespace {

using Steady = std::chrono::steady_clock;

constexpr int kBatch = 4096;           // messages drained per socket before looking at the time
constexpr std::size_t kExcerpt = 160;  // bytes of a rejected message shown in the log
// Distinct reason / result labels kept per feed (bounded cardinality); more count as "other".
constexpr std::size_t kMaxLabels = 64;

void count_label(std::map<std::string, std::uint64_t, std::less<>>& m, std::string_view label,
                 std::uint64_t n) {
  auto it = m.find(label);
  if (it == m.end()) {
    if (m.size() >= kMaxLabels) label = "other";
    it = m.try_emplace(std::string(label), 0).first;
  }
  it->second += n;
}

// A short, printable excerpt of an untrusted message: never the whole (up to 1 MB) body, no
// control characters, cut on a UTF-8 boundary; bytes of invalid UTF-8 shown as \xNN.
std::string excerpt(std::string_view msg, bool valid_utf8) {
  std::string out;
  std::size_t n = std::min(msg.size(), kExcerpt);
  if (valid_utf8) {
    while (n > 0 && n < msg.size() && (static_cast<unsigned char>(msg[n]) & 0xC0) == 0x80) --n;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(msg[i]);
    if ((c >= 0x20 && c < 0x7f) || (valid_utf8 && c >= 0x80)) out.push_back(static_cast<char>(c));
    else out += fmt::format("\\x{:02x}", c);
  }
  if (n < msg.size()) out += fmt::format("... ({} bytes more)", msg.size() - n);
  return out;
}

struct FeedCounters {
  std::string name;
  bool native_socket = false;                       // up while the loop owns its bound socket
  std::shared_ptr<std::atomic<bool>> internal_up;   // internal feeds: set by their producer
  double last_event_ts = 0;
  double last_event_time = 0;  // the event's own timestamp (the store saves it per feed)
  std::string position;        // internal feeds: position after the last message (third frame)
  std::uint64_t events = 0;      // messages accepted (not rejected, not duplicates)
  std::uint64_t duplicates = 0;  // messages identical to one accepted the same day: dropped
  // By the feed's own reason labels (native: RejectReason; PBX feeds: their translator's).
  std::map<std::string, std::uint64_t, std::less<>> rejected;
  // Accepted messages the feed's translator deliberately skipped, by its result label.
  std::map<std::string, std::uint64_t, std::less<>> skipped;
  std::unique_ptr<DuplicateFilter> native_duplicates;  // native feeds: the engine reads them
  std::uint64_t bad_batches = 0;  // internal batches that did not decode (a fault of ours)
  std::uint64_t ignored_duplicate = 0;
  std::uint64_t ignored_unknown = 0;
  std::uint64_t apply_errors = 0;
  std::uint64_t over_queue_limit = 0;  // not applied: a new queue over max_queues
  std::uint64_t over_agent_limit = 0;  // not applied: a new agent over max_agents
};

}  // namespace

struct EngineLoop::Impl {
  EngineLoopOptions opts;
  SnapshotHub& hub;
  const metrics::Clock& clock;
  metrics::Engine engine;
  AlertsRuntime alerts;
  NativeParser parser;
  // Native feeds' receive buffer: the largest message accepted plus one byte (a longer one shows
  // as truncated) plus the parser's padding, zeroed once; reused for every message.
  std::vector<char> rx;
  TimeBounds times;  // native events' times against the daemon's clock
  std::vector<FeedCounters> feeds;
  std::vector<zmq::socket_t> native_sockets;  // parallel to the first feeds (native ones)
  std::vector<std::size_t> native_feed_index;
  zmq::socket_t internal;
  std::map<std::string, std::size_t, std::less<>> by_name;
  std::uint64_t feed_changes = 0;  // bumps on every counted message
  std::shared_ptr<spdlog::logger> log = component_logger("engine");
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> feed_logs;

  NameLimits limits;
  // One rate limit per cap: a queue-limit line must not hide the agent-limit line of that minute.
  std::array<Steady::time_point, 2> last_limit_log{};  // [queue, agent]
  Steady::time_point last_batch_log{};
  DuplicateFilter::Options duplicate_options;  // the day of the duplicate rule (settings' zone)
  std::unique_ptr<Checkpointer> checkpointer;  // null without a store
  // Positions restored from the store, by feed: a feed declared later starts from its own, and
  // one not running this time keeps its saved position in later checkpoints.
  std::map<std::string, FeedPosition, std::less<>> saved_positions;

  // Rate limit of reject logs: at most N lines per second, then one line with the count skipped.
  Steady::time_point reject_window{};
  int reject_logged = 0;
  std::uint64_t reject_suppressed = 0;

  Impl(metrics::EngineSettings settings, EngineLoopOptions o, SnapshotHub& h, const metrics::Clock& c)
      : opts(std::move(o)),
        hub(h),
        clock(c),
        engine(std::move(settings), &c),
        alerts(opts.alert_rules, opts.alert_control),
        parser(opts.max_message_bytes, engine.settings().max_name_bytes),
        rx(opts.max_message_bytes + 1 + NativeParser::kPadding, 0),
        times(TimeLimits::of(engine.settings())),
        limits(opts.max_queues, opts.max_agents) {
    for (const auto& [name, q] : engine.settings().queues) limits.know_queue(name);
    duplicate_options.tz = engine.settings().tz;
    duplicate_options.day_start_seconds = engine.settings().day_start_seconds;
    if (opts.store) checkpointer = std::make_unique<Checkpointer>(opts.store, opts.checkpoint);
  }

  // An event over a cardinality cap: counted per feed, logged at most once a minute.
  bool over_limit(FeedCounters& f, const metrics::Event& e) {
    const auto verdict = limits.admit(e);
    if (verdict == NameLimits::Verdict::ok) return false;
    const bool queue = verdict == NameLimits::Verdict::queue_limit;
    ++(queue ? f.over_queue_limit : f.over_agent_limit);
    const auto now = Steady::now();
    Steady::time_point& last = last_limit_log[queue ? 0 : 1];
    if (last == Steady::time_point{} || now - last >= std::chrono::minutes(1)) {
      last = now;
      log->warn("feed {}: an event names a new {} but {} {}s are known already (the [engine] max_{}s cap): "
                "not applied; such events are counted in callwatch_feed_events_ignored_total{{result=\"{}\"}}",
                f.name, queue ? "queue" : "agent", queue ? limits.queues() : limits.agents(),
                queue ? "queue" : "agent", queue ? "queue" : "agent", queue ? "queue_limit" : "agent_limit");
    }
    return true;
  }

  // ---- persistence (daemon/checkpointer) ----------------------------------------------------
  std::vector<FeedPosition> feed_positions() const {
    std::vector<FeedPosition> out;
    for (const FeedCounters& f : feeds) {
      if (f.last_event_time > 0 || !f.position.empty()) out.push_back({f.name, f.position, f.last_event_time, 0});
    }
    for (const auto& [name, p] : saved_positions) {
      if (!by_name.contains(name)) out.push_back(p);
    }
    return out;
  }
  void checkpoint_if_due() {
    const auto now = Steady::now();
    if (!checkpointer || !checkpointer->due(now)) return;
    const auto& ev = alerts.evaluator();
    checkpointer->take(engine, ev.alerts(), ev.history(), alerts.history_first_seq(), feed_positions(), now);
  }

  std::size_t feed_index(std::string_view name) {
    if (auto it = by_name.find(name); it != by_name.end()) return it->second;
    FeedCounters f;
    f.name = std::string(name);
    if (auto it = saved_positions.find(name); it != saved_positions.end()) {
      f.position = it->second.position;
      f.last_event_time = it->second.last_event_ts;
    }
    feeds.push_back(std::move(f));
    by_name.emplace(std::string(name), feeds.size() - 1);
    return feeds.size() - 1;
  }

  spdlog::logger& feed_log(const std::string& name) {
    auto it = feed_logs.find(name);
    if (it == feed_logs.end()) it = feed_logs.emplace(name, component_logger("feed." + name)).first;
    return *it->second;
  }

  // Ends the rate-limit window once it is a second old: says how many rejects it did not log.
  // Called with each reject and from the loop's timer, so the last second of a burst is
  // summarised too (`force` at shutdown).
  void end_reject_window(Steady::time_point now, bool force = false) {
    if (!force && now - reject_window < std::chrono::seconds(1)) return;
    if (reject_suppressed > 0) {
      log->warn("{} more rejected messages in the last second were counted but not logged",
                reject_suppressed);
    }
    reject_window = now;
    reject_logged = 0;
    reject_suppressed = 0;
  }

  void log_reject(FeedCounters& f, std::string_view reason, std::string_view detail,
                  std::string_view shown) {
    end_reject_window(Steady::now());
    if (reject_logged >= opts.reject_logs_per_second) {
      ++reject_suppressed;
      return;
    }
    ++reject_logged;
    if (shown.empty()) {
      feed_log(f.name).warn("rejected message ({}): {}", reason, detail);
    } else {
      feed_log(f.name).warn("rejected message ({}): {}; {} bytes: {}", reason, detail, shown.size(),
                            excerpt(shown, reason != to_string(RejectReason::invalid_utf8)));
    }
  }

  void count_rejected(FeedCounters& f, std::string_view reason, std::string_view detail,
                      std::string_view shown) {
    count_label(f.rejected, reason, 1);
    ++engine.data_quality().rejected;
    log_reject(f, reason, detail, shown);
  }
  void count_accepted(FeedCounters& f, std::uint64_t n) {
    f.events += n;
    engine.data_quality().events += n;
  }
  void count_duplicates(FeedCounters& f, std::uint64_t n) {
    f.duplicates += n;
    engine.data_quality().duplicates += n;
  }

  // One event of feed `f`, stamped with the feed's name (a feed_restart ends that feed's calls
  // and pauses only). `now`: the daemon's clock, read once per drained batch.
  void apply_event(FeedCounters& f, const metrics::Event& in, double now) {
    metrics::Event e = in;
    e.feed = f.name;
    f.last_event_ts = now;
    f.last_event_time = e.ts;
    if (over_limit(f, e)) return;
    try {
      switch (engine.apply(e)) {
        case metrics::ApplyResult::applied: break;
        case metrics::ApplyResult::ignored_duplicate: ++f.ignored_duplicate; break;
        case metrics::ApplyResult::ignored_unknown: ++f.ignored_unknown; break;
      }
    } catch (const std::exception& ex) {
      // A fault of ours, not of the input: keep running, count it, say it loudly.
      ++f.apply_errors;
      log->error("feed {}: applying an event failed: {}", f.name, ex.what());
    }
  }

  // One message of a native feed (the engine's own PULL socket): parsed, the duplicate rule,
  // counted and applied. The same steps as `callwatchd report --format native`.
  // `readable`: bytes from msg.data() that may be read (the receive buffer's padding), so the
  // parser reads the message where it lies.
  void handle(std::size_t feed, std::string_view msg, std::size_t readable, double now) {
    FeedCounters& f = feeds[feed];
    ++feed_changes;
    auto parsed = parser.parse_in_place(msg, readable);
    if (!parsed) {
      count_rejected(f, to_string(parsed.error()), parser.last_error(), msg);
      return;
    }
    if (std::string why = times.check(**parsed, now); !why.empty()) {
      count_rejected(f, to_string(RejectReason::bad_value), why, msg);
      return;
    }
    if (!f.native_duplicates) f.native_duplicates = std::make_unique<DuplicateFilter>(duplicate_options);
    const std::uint64_t print = fingerprint(msg);
    if (f.native_duplicates->contains(print, (*parsed)->ts)) {
      count_duplicates(f, 1);
      return;
    }
    f.native_duplicates->insert(print, (*parsed)->ts);
    count_accepted(f, 1);
    apply_event(f, **parsed, now);
  }

  // One batch of an internal feed (feeds/feed_wire.hpp), records in the order the feed made them.
  void handle_batch(std::size_t feed, std::string_view batch) {
    FeedCounters& f = feeds[feed];
    ++feed_changes;
    WireReader reader(batch);
    WireItem item;
    const double now = clock.now();
    while (reader.next(item)) {
      switch (item.kind) {
        case WireRecord::event: apply_event(f, item.event, now); break;
        case WireRecord::accepted: count_accepted(f, item.count); break;
        case WireRecord::duplicate: count_duplicates(f, item.count); break;
        case WireRecord::rejected: count_rejected(f, item.label, item.detail, {}); break;
        case WireRecord::ignored: count_label(f.skipped, item.label, item.count); break;
      }
    }
    if (!reader.error().empty()) {
      // Only our own feed threads write here: a bad batch is a bug, counted and said once a minute.
      ++f.bad_batches;
      const auto now = Steady::now();
      if (now - last_batch_log >= std::chrono::minutes(1)) {
        last_batch_log = now;
        log->error("feed {}: a batch from the feed thread does not decode ({}); {} so far", f.name,
                   reader.error(), f.bad_batches);
      }
    }
  }

  // Up to kBatch messages, each received straight into `rx` (ZeroMQ copies the frame there, the
  // one copy of its bytes) and parsed in place; the clock is read once for the batch.
  void drain_native(std::size_t i) {
    const std::size_t cap = rx.size() - NativeParser::kPadding;  // max_message_bytes + 1
    const double now = clock.now();
    for (int n = 0; n < kBatch; ++n) {
      const auto got = native_sockets[i].recv(zmq::mutable_buffer(rx.data(), cap), zmq::recv_flags::dontwait);
      if (!got) return;
      if (got->truncated()) {
        // Over the cap: ZeroMQ kept only its first bytes; refused like the parser refuses it.
        FeedCounters& f = feeds[native_feed_index[i]];
        ++feed_changes;
        count_rejected(f, to_string(RejectReason::too_large),
                       fmt::format("message is {} bytes, the limit is {}", got->untruncated_size, opts.max_message_bytes),
                       std::string_view(rx.data(), got->size));
        continue;
      }
      handle(native_feed_index[i], std::string_view(rx.data(), got->size), rx.size(), now);
    }
  }

  void drain_internal() {
    zmq::message_t name;
    zmq::message_t body;
    for (int n = 0; n < kBatch; ++n) {
      if (!internal.recv(name, zmq::recv_flags::dontwait)) return;
      if (!name.more()) continue;  // malformed (one frame): internal producers always send two
      if (!internal.recv(body, zmq::recv_flags::none)) return;
      zmq::message_t position;
      bool has_position = false;
      if (body.more()) {  // third frame: the feed's position after this message
        if (!internal.recv(position, zmq::recv_flags::none)) return;
        has_position = true;
        while (position.more()) {  // more frames are a producer bug: drop them
          zmq::message_t extra;
          if (!internal.recv(extra, zmq::recv_flags::none)) return;
          if (!extra.more()) break;
        }
      }
      const std::size_t feed = feed_index(std::string_view(static_cast<const char*>(name.data()), name.size()));
      handle_batch(feed, std::string_view(static_cast<const char*>(body.data()), body.size()));
      // The position after the batch's last record (its lines consumed, rejected or not).
      if (has_position) feeds[feed].position.assign(static_cast<const char*>(position.data()), position.size());
    }
  }

  SnapshotHub::FeedsPtr feed_health() const {
    auto out = std::make_shared<std::vector<FeedHealth>>();
    out->reserve(feeds.size());
    for (const FeedCounters& f : feeds) {
      FeedHealth h;
      h.name = f.name;
      h.up = f.native_socket || (f.internal_up && f.internal_up->load());
      h.last_event_ts = f.last_event_ts;
      h.events = f.events;
      h.rejected.insert(f.rejected.begin(), f.rejected.end());
      if (f.native_socket) {
        // A native feed shows every reason of its parser from the start (zero series).
        for (int r = 0; r < kRejectReasonCount; ++r)
          h.rejected.try_emplace(std::string(to_string(static_cast<RejectReason>(r))), 0);
      }
      h.ignored.insert(f.skipped.begin(), f.skipped.end());
      h.ignored.emplace("duplicate_message", f.duplicates);
      if (f.bad_batches) h.ignored.emplace("bad_batch", f.bad_batches);
      h.ignored.emplace("duplicate", f.ignored_duplicate);
      h.ignored.emplace("unknown", f.ignored_unknown);
      if (f.apply_errors) h.ignored.emplace("error", f.apply_errors);
      if (f.over_queue_limit) h.ignored.emplace("queue_limit", f.over_queue_limit);
      if (f.over_agent_limit) h.ignored.emplace("agent_limit", f.over_agent_limit);
      out->push_back(std::move(h));
    }
    return out;
  }

  void publish() {
    const double now = clock.now();
    engine.advance_to(now);
    auto snap = std::make_shared<metrics::Snapshot>(engine.snapshot());
    auto health = feed_health();
    // Alerts (daemon/alerts_runtime): evaluated after advance_to, at most every 250 ms (at once
    // after an ack); feed ages for feed_stale come from the same feed health.
    alerts.on_publish(*snap, *health, now);
    if (checkpointer) checkpointer->decorate(*snap, engine, now);  // the store's own alert
    hub.publish(std::move(snap), std::move(health));
  }

  void run(const std::atomic<bool>& stop) {
    std::vector<zmq::pollitem_t> items;
    for (auto& s : native_sockets) items.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
    const bool has_internal = static_cast<bool>(internal);
    if (has_internal) items.push_back({internal.handle(), 0, ZMQ_POLLIN, 0});

    publish();
    auto last_advance = Steady::now();
    auto last_publish = last_advance;
    std::uint64_t published_version = engine.version();
    std::uint64_t published_feeds = feed_changes;
    bool acked = false;
    CostPacer pacer(opts.min_publish_gap, opts.max_publish_share);

    while (!stop.load(std::memory_order_relaxed)) {
      // Short poll: the stop flag, the advance and the publish cadence are all checked at 50 ms.
      if (!items.empty()) {
        zmq::poll(items, std::chrono::milliseconds(50));
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      for (std::size_t i = 0; i < native_sockets.size(); ++i) {
        if (items[i].revents & ZMQ_POLLIN) drain_native(i);
      }
      if (has_internal && (items.back().revents & ZMQ_POLLIN)) drain_internal();

      const auto now = Steady::now();
      if (reject_suppressed > 0) end_reject_window(now);
      if (now - last_advance >= opts.advance_every) {
        engine.advance_to(clock.now());
        last_advance = now;
      }
      // Acks queued by the ROUTER thread: an applied one changes the alert view, so publish it.
      if (alerts.apply_acks(clock.now())) acked = true;
      const bool changed =
          acked || engine.version() != published_version || feed_changes != published_feeds;
      const auto since = now - last_publish;
      if ((changed && since >= pacer.gap()) || since >= opts.max_publish_gap) {
        pacer.run([&] { publish(); });
        last_publish = last_advance = Steady::now();
        if (pacer.stretched_news(now)) {
          log->info("a publish costs {:.1f} ms of CPU at this size: changes are published every {:.0f} ms instead of {} ms",
                    pacer.cost_ms(), pacer.gap_ms(), pacer.floor_ms());
        }
        published_version = engine.version();
        published_feeds = feed_changes;
        acked = false;
      }
      checkpoint_if_due();
    }
    // Drain what already arrived so a clean stop does not lose queued events, then publish once.
    for (std::size_t i = 0; i < native_sockets.size(); ++i) drain_native(i);
    if (has_internal) drain_internal();
    end_reject_window(Steady::now(), /*force=*/true);
    publish();
    if (checkpointer) {
      // A clean stop loses nothing: the final checkpoint holds every event applied.
      const auto& ev = alerts.evaluator();
      checkpointer->final_checkpoint(engine, ev.alerts(), ev.history(), alerts.history_first_seq(),
                                     feed_positions(), std::chrono::seconds(5));
    }
  }
};

metrics::EngineSettings live_engine_settings(metrics::EngineSettings settings) {
  settings.view_refresh_seconds = 1.0;
  settings.agent_view_refresh_seconds = metrics::wire::DiffOptions{}.time_tolerance_seconds;
  return settings;
}

EngineLoop::EngineLoop(metrics::EngineSettings settings, EngineLoopOptions opts, SnapshotHub& hub,
                       const metrics::Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(settings), std::move(opts), hub, clock)) {}
EngineLoop::~EngineLoop() = default;

void EngineLoop::add_native_feed(std::string name, zmq::socket_t socket) {
  const std::size_t i = impl_->feed_index(name);
  impl_->feeds[i].native_socket = true;
  impl_->native_sockets.push_back(std::move(socket));
  impl_->native_feed_index.push_back(i);
}

void EngineLoop::set_internal_socket(zmq::socket_t socket) { impl_->internal = std::move(socket); }

std::shared_ptr<std::atomic<bool>> EngineLoop::add_internal_feed(const std::string& name) {
  const std::size_t i = impl_->feed_index(name);
  auto& f = impl_->feeds[i];
  if (!f.internal_up) f.internal_up = std::make_shared<std::atomic<bool>>(false);
  return f.internal_up;
}

RestoreResult EngineLoop::restore_from_store() {
  Impl& m = *impl_;
  if (!m.checkpointer) return {};
  RestoreResult r = m.checkpointer->restore(m.engine, m.clock.now());
  if (r.restored) {
    // The restored queues and agents exist: they never count against the caps.
    const metrics::Snapshot snap = m.engine.snapshot();
    for (const auto& q : snap.queues) m.limits.know_queue(q.name);
    for (const auto& a : snap.agents) m.limits.know_agent(a.name);
    // The day's alert history so far, so alert_history answers for the whole day.
    std::vector<metrics::AlertTransition> day;
    const double day_start = snap.day_start;
    if (auto h = m.opts.store->alert_history(day_start, m.clock.now() + 1)) day = std::move(*h);
    m.alerts.restore(r.alerts, std::move(day));
    for (const auto& p : r.feeds) {
      m.saved_positions.insert_or_assign(p.feed, p);
      if (auto it = m.by_name.find(p.feed); it != m.by_name.end()) {
        m.feeds[it->second].position = p.position;
        m.feeds[it->second].last_event_time = p.last_event_ts;
      }
    }
  }
  return r;
}

void EngineLoop::run(const std::atomic<bool>& stop) {
  // Configured queues are on the boards from the first frame, not from their first call (after
  // the restore, which replaces the engine's state).
  for (const auto& [name, settings] : impl_->engine.settings().queues) impl_->engine.declare_queue(name);
  impl_->run(stop);
}

}  // namespace callwatch::daemon
