// What the feed threads (feeds/<type>/<type>_feed.cpp) share: the context a thread is started
// with, the TCP client of the PBX feeds, and the PUSH output of events to the engine thread's
// internal socket ([feed name][binary batch][position], see feeds/feed_wire.hpp).
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/logger.h>
#include <zmq.hpp>

#include "callwatch/config/config.hpp"
#include "feeds/feed_common.hpp"
#include "feeds/feed_runner.hpp"
#include "feeds/feed_wire.hpp"

namespace callwatch::daemon {

struct FeedContext {
  zmq::context_t* ctx = nullptr;
  config::FeedConfig cfg;
  Credentials cred;
  FeedRunOptions opts;
  std::shared_ptr<std::atomic<bool>> up;
  const std::atomic<bool>* stop = nullptr;
};

namespace feed_thread {

using Clock = std::chrono::steady_clock;

// Sleeps up to `d`, waking early when `stop` is set.
void nap(std::chrono::milliseconds d, const std::atomic<bool>& stop);
// "host:port" or "[v6]:port".
bool split_address(const std::string& addr, std::string& host, std::string& port);

class Tcp {
 public:
  ~Tcp() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool open() const { return fd_ >= 0; }

  // "" when connected, else why not.
  std::string connect(const std::string& address, std::chrono::milliseconds timeout);

  bool send_all(std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          pollfd p{fd_, POLLOUT, 0};
          if (::poll(&p, 1, 5000) <= 0) return false;
          continue;
        }
        return false;
      }
      s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // >0 bytes read, 0 timeout, -1 closed or error.
  long recv(char* buf, std::size_t cap, int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    const int rc = ::poll(&p, 1, timeout_ms);
    if (rc == 0) return 0;
    if (rc < 0) return errno == EINTR ? 0 : -1;
    const ssize_t n = ::recv(fd_, buf, cap, 0);
    if (n > 0) return n;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    return -1;
  }

 private:
  int fd_ = -1;
};

// Hands a feed's records (events and message accounting, feeds/feed_wire.hpp) to the engine
// thread: [feed name][batch][position] on the internal PUSH socket. Records collect in one batch
// while the feed has input ready; flush() sends it (the feed threads call it after each read or
// poll, so a single event waits for nothing), and a batch that reaches kMaxRecords or kMaxBytes
// goes at once. A batch the engine cannot take within the send timeout is dropped and counted.
class Output {
 public:
  static constexpr std::size_t kMaxRecords = 256;
  static constexpr std::size_t kMaxBytes = 64 * 1024;

  Output(zmq::context_t& ctx, const std::string& endpoint, std::string name,
         std::shared_ptr<spdlog::logger> log)
      : sock_(ctx, zmq::socket_type::push), name_(std::move(name)), log_(std::move(log)) {
    sock_.set(zmq::sockopt::linger, 200);
    sock_.set(zmq::sockopt::sndtimeo, 1000);  // never hang a shutdown on a stopped engine
    sock_.connect(endpoint);
  }
  ~Output() { flush(); }
  Output(const Output&) = delete;
  Output& operator=(const Output&) = delete;

  // The translator's sink: every callback becomes a record of the current batch.
  FeedSink sink() {
    FeedSink s;
    s.event = [this](const metrics::Event& e) {
      batch_.event(e);
      full();
    };
    s.reject = [this](std::string_view reason, const std::string& detail) {
      ++rejected_;
      batch_.rejected(reason, detail);
      full();
    };
    s.accepted = [this] {
      batch_.accepted();
      full();
    };
    s.duplicate = [this] {
      batch_.duplicate();
      full();
    };
    s.ignored = [this](std::string_view result) {
      batch_.ignored(result);
      full();
    };
    s.warning = [this](std::string_view kind, const std::string& msg) {
      log_->info("{}: {}", kind, msg);
    };
    return s;
  }
  // The feed's position after the records added so far (sent with the batch that holds them).
  void set_position(std::string position) { position_ = std::move(position); }
  // Sends what was collected (nothing when empty).
  void flush() {
    if (batch_.empty()) return;
    try {
      const bool third = !position_.empty();
      if (!sock_.send(zmq::buffer(name_), zmq::send_flags::sndmore) ||
          !sock_.send(zmq::buffer(batch_.bytes()),
                      third ? zmq::send_flags::sndmore : zmq::send_flags::none) ||
          (third && !sock_.send(zmq::buffer(position_), zmq::send_flags::none))) {
        dropped(batch_.records(), "the engine's queue stayed full");
      }
    } catch (const zmq::error_t& err) {
      dropped(batch_.records(), err.what());
    }
    batch_.clear();
  }
  std::uint64_t rejected() const { return rejected_; }
  std::uint64_t dropped_records() const { return dropped_; }

 private:
  void full() {
    if (batch_.records() >= kMaxRecords || batch_.bytes().size() >= kMaxBytes) flush();
  }
  void dropped(std::size_t n, std::string_view why) {
    // Logged on the first loss and then every 1000th batch: a stuck engine must not flood the log.
    if (dropped_batches_++ % 1000 == 0) {
      log_->error("cannot hand {} record(s) to the engine ({}); {} batch(es) lost so far", n, why,
                  dropped_batches_);
    }
    dropped_ += n;
  }
  zmq::socket_t sock_;
  std::string name_;
  std::shared_ptr<spdlog::logger> log_;
  WireWriter batch_;
  std::string position_;
  std::uint64_t rejected_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t dropped_batches_ = 0;
};

// The PBX clients' reconnect delay: naps `backoff` (waking on stop), then doubles it up to
// FeedRunOptions::backoff_max.
void back_off(const FeedContext& fc, std::chrono::milliseconds& backoff);
// Connects `tcp` to the feed's address; on failure logs why, backs off and returns false.
bool connect_or_back_off(Tcp& tcp, const FeedContext& fc, std::chrono::milliseconds& backoff,
                         spdlog::logger& log);

}  // namespace feed_thread
}  // namespace callwatch::daemon
