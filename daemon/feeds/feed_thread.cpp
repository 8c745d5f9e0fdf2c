#include "feeds/feed_thread.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include <fmt/format.h>

namespace callwatch::daemon::feed_thread {

void nap(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = Clock::now() + d;
  while (!stop && Clock::now() < until) {
    std::this_thread::sleep_for(
        std::min<Clock::duration>(std::chrono::milliseconds(20), until - Clock::now()));
  }
}

bool split_address(const std::string& addr, std::string& host, std::string& port) {
  if (!addr.empty() && addr[0] == '[') {
    const auto close = addr.find(']');
    if (close == std::string::npos || close + 1 >= addr.size() || addr[close + 1] != ':')
      return false;
    host = addr.substr(1, close - 1);
    port = addr.substr(close + 2);
  } else {
    const auto colon = addr.rfind(':');
    if (colon == std::string::npos) return false;
    host = addr.substr(0, colon);
    port = addr.substr(colon + 1);
  }
  return !host.empty() && !port.empty();
}

std::string Tcp::connect(const std::string& address, std::chrono::milliseconds timeout) {
  close();
  std::string host, port;
  if (!split_address(address, host, port)) return "bad address " + address;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return fmt::format("cannot resolve {}: {}", host, gai_strerror(rc));
  }
  std::string err = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    const int fd =
        ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
      int so = 0;
      socklen_t len = sizeof so;
      if (rc == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len) == 0 && so == 0) {
        rc = 0;
      } else {
        err = rc == 0 ? "connect timed out" : std::strerror(so ? so : errno);
        rc = -1;
      }
    } else if (rc != 0) {
      err = std::strerror(errno);
    }
    if (rc == 0) {
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      fd_ = fd;
      ::freeaddrinfo(res);
      return {};
    }
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return err;
}

void back_off(const FeedContext& fc, std::chrono::milliseconds& backoff) {
  nap(backoff, *fc.stop);
  backoff = std::min(backoff * 2, fc.opts.backoff_max);
}

bool connect_or_back_off(Tcp& tcp, const FeedContext& fc, std::chrono::milliseconds& backoff,
                         spdlog::logger& log) {
  const std::string err = tcp.connect(fc.cfg.address, fc.opts.connect_timeout);
  if (err.empty()) return true;
  log.warn("cannot connect to {}: {}; retry in {} ms", fc.cfg.address, err, backoff.count());
  back_off(fc, backoff);
  return false;
}

}  // namespace callwatch::daemon::feed_thread
