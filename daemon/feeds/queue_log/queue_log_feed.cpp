#include "feeds/queue_log/queue_log_feed.hpp"

#include <algorithm>

#include "feeds/queue_log/queue_log_parser.hpp"
#include "feeds/queue_log/queue_log_tail.hpp"
#include "runtime/logging.hpp"

namespace callwatch::daemon {

namespace m = callwatch::metrics;
using namespace feed_thread;

void run_queue_log(FeedContext fc) {
  auto log = component_logger("feed." + fc.cfg.name);
  Output out(*fc.ctx, fc.opts.endpoint, fc.cfg.name, log);
  QueueLogParser parser(QueueLogParser::Options{.max_name_bytes = fc.opts.max_name_bytes,
                                                .duplicates = fc.opts.duplicates,
                                                .times = fc.opts.times,
                                                .live_clock = fc.opts.clock},
                        [&](const QueueLogWarning& w) { log->info("{}: {}", w.kind, w.message); });
  FeedSink sink = out.sink();
  QueueLogTail::Options topts;
  topts.path = fc.cfg.path;
  if (auto it = fc.opts.positions.find(fc.cfg.name); it != fc.opts.positions.end()) {
    topts.start = QueueLogTail::parse(it->second);
    if (!topts.start)
      log->warn("stored position '{}' not understood: following from the end", it->second);
  }
  QueueLogTail tail(topts);
  const auto& queues = fc.cfg.queues;
  auto wanted = [&](const m::Event& e) {
    if (queues.empty() || e.queue.empty()) return true;
    return std::find(queues.begin(), queues.end(), e.queue) != queues.end();
  };
  std::uint64_t line_no = 0;
  auto last_line = Clock::now();
  bool flushed = true;
  bool warned_missing = false;
  while (!*fc.stop) {
    const long n = tail.poll([&](std::string_view line) {
      const QueueLogLine& l = parser.parse(line, ++line_no);
      // Rejected or not, the line is consumed: the position moves past it either way.
      out.set_position(QueueLogTail::format({0, tail.position().ino, tail.line_end()}));
      switch (l.status) {
        case QueueLogLineStatus::blank: return;
        case QueueLogLineStatus::rejected: sink.reject(l.reject_reason, l.reject_detail); return;
        case QueueLogLineStatus::duplicate: sink.duplicate(); return;
        case QueueLogLineStatus::accepted: break;
      }
      sink.accepted();
      for (const auto& e : l.events) {
        if (wanted(e)) sink.event(e);
      }
    });
    out.flush();  // what this poll read goes now, in batches of what was ready
    fc.up->store(tail.is_open());
    if (n < 0 && !warned_missing) {
      warned_missing = true;
      log->warn("{} cannot be opened yet: waiting for it", fc.cfg.path);
    }
    if (n > 0) {
      last_line = Clock::now();
      flushed = false;
      warned_missing = false;
    } else if (!flushed && Clock::now() - last_line >= fc.opts.idle_flush) {
      out.set_position(QueueLogTail::format(tail.position()));
      for (const auto& e : parser.flush()) {
        if (wanted(e)) sink.event(e);
      }
      out.flush();
      flushed = true;
    }
    nap(fc.opts.poll_interval, *fc.stop);
  }
  fc.up->store(false);
}

}  // namespace callwatch::daemon
