// What the feed threads (feeds/<type>/<type>_feed.cpp) share: the context a thread is started
// with, the TCP client of the PBX feeds, and the PUSH output of events to the engine thread's
// internal socket ([feed name][native JSON][position], see runtime/engine_loop.hpp).
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
#include "feeds/native/native_parser.hpp"

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

// Hands events to the engine thread: [feed name][native JSON] on the internal PUSH socket.
class Output {
 public:
  Output(zmq::context_t& ctx, const std::string& endpoint, std::string name,
         std::shared_ptr<spdlog::logger> log)
      : sock_(ctx, zmq::socket_type::push), name_(std::move(name)), log_(std::move(log)) {
    sock_.set(zmq::sockopt::linger, 200);
    sock_.set(zmq::sockopt::sndtimeo, 1000);  // never hang a shutdown on a stopped engine
    sock_.connect(endpoint);
  }
  FeedSink sink() {
    FeedSink s;
    s.event = [this](const metrics::Event& e) { send(e); };
    s.reject = [this](std::string_view reason, const std::string& detail) {
      ++rejected_;
      log_->warn("rejected ({}): {}", reason, detail);
    };
    s.warning = [this](std::string_view kind, const std::string& msg) {
      log_->info("{}: {}", kind, msg);
    };
    return s;
  }
  void send(const metrics::Event& e, std::string_view position = {}) {
    json_.clear();
    append_native_json(e, json_);
    try {
      const bool third = !position.empty();
      if (!sock_.send(zmq::buffer(name_), zmq::send_flags::sndmore) ||
          !sock_.send(zmq::buffer(json_),
                      third ? zmq::send_flags::sndmore : zmq::send_flags::none) ||
          (third && !sock_.send(zmq::buffer(position), zmq::send_flags::none))) {
        ++dropped_;
      }
    } catch (const zmq::error_t& err) {
      ++dropped_;
      if (dropped_ == 1) log_->error("cannot hand events to the engine: {}", err.what());
    }
  }
  std::uint64_t rejected() const { return rejected_; }

 private:
  zmq::socket_t sock_;
  std::string name_;
  std::shared_ptr<spdlog::logger> log_;
  std::string json_;
  std::uint64_t rejected_ = 0;
  std::uint64_t dropped_ = 0;
};

// The PBX clients' reconnect delay: naps `backoff` (waking on stop), then doubles it up to
// FeedRunOptions::backoff_max.
void back_off(const FeedContext& fc, std::chrono::milliseconds& backoff);
// Connects `tcp` to the feed's address; on failure logs why, backs off and returns false.
bool connect_or_back_off(Tcp& tcp, const FeedContext& fc, std::chrono::milliseconds& backoff,
                         spdlog::logger& log);

}  // namespace feed_thread
}  // namespace callwatch::daemon
