// The wallboard protocol of one site without its transport: what a board does with each message
// a daemon sends (apply deltas above its sequence; a gap, another stream or a heartbeat ahead of
// it means a new snapshot; deltas racing a snapshot wait for it). The native board's subscriber
// (ZeroMQ) and the browser board (a WebSocket) differ only in how the bytes come and go.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "callwatch/metrics/clock.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"
#include "feed_store.hpp"

namespace spdlog {
class logger;
}

namespace callwatch::wallboard::app {

// The logger of the protocol client ("wallboard.subscriber").
std::shared_ptr<spdlog::logger> protocol_log();

// Counted over every connection of one site, read from any thread.
struct ProtocolCounters {
  std::atomic<std::uint64_t> snapshots{0};
  std::atomic<std::uint64_t> deltas{0};
  std::atomic<std::uint64_t> resyncs{0};
  std::atomic<std::uint64_t> bad_messages{0};
};

class SiteSession {
 public:
  using Clock = std::chrono::steady_clock;
  // `send` puts a request (a snapshot request) on the transport; `label` names the site in logs.
  SiteSession(FeedStore& store, std::size_t index, const metrics::Clock& clock, std::string label,
              ProtocolCounters& counters, std::function<void(const std::string&)> send);

  // Asks for the first snapshot (a subscription that is not live yet costs a gap and a second
  // request, never a wrong state); ask = false where the daemon sends one unasked on connect
  // (the browser board's WebSocket): it is then awaited the same way.
  void start(bool ask = true);
  // One message from the daemon, whatever it is: delta, heartbeat, snapshot, reply or error.
  void on_message(std::string_view body);
  // Hands the state rebuilt so far to the screen: once after a batch of messages, so a burst of
  // deltas costs one copy of the state, not one each.
  void flush();
  // An ack this board sent, in order (the daemon answers acks in order, and an error reply does
  // not name the alert).
  void ack_sent(const std::string& alert_id) { acks_in_flight_.push_back(alert_id); }
  // The transport's own view of the link (socket up or down).
  void set_connected(bool up);

  // A snapshot was asked and has not come for `timeout`: the daemon is gone or hung.
  bool snapshot_overdue(Clock::time_point now, std::chrono::milliseconds timeout) const {
    return requested_ && now - requested_at_ > timeout;
  }
  bool got_snapshot() const { return got_snapshot_; }

 private:
  void request_snapshot();
  void resync(const char* why);
  void touch(const metrics::wire::Message& m);
  bool apply_delta(const metrics::wire::Message& m);
  void on_snapshot(metrics::wire::Message& m);
  void on_ack_answer(const metrics::wire::Message& m);

  FeedStore& store_;
  std::size_t index_;
  const metrics::Clock& clock_;
  std::string label_;
  ProtocolCounters& counters_;
  std::function<void(const std::string&)> send_;

  metrics::Snapshot state_;
  bool have_state_ = false;
  std::uint64_t seq_ = 0, stream_ = 0;
  bool requested_ = false;
  Clock::time_point requested_at_{};
  std::deque<metrics::wire::Message> buffered_;
  bool got_snapshot_ = false;
  bool changed_ = false;  // since the last flush()
  double engine_now_ = 0;
  std::deque<std::string> acks_in_flight_;
};

}  // namespace callwatch::wallboard::app
