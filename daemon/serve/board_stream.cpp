#include "serve/board_stream.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "runtime/logging.hpp"

namespace callwatch::daemon {

namespace {

constexpr std::uint64_t kWakeId = 0;  // epoll data of the eventfd; clients count from 1

// What a board sends to ask for a state: the wallboard protocol's request, or the plain word as
// shell tools send it to the control socket.
bool is_snapshot_request(std::string_view payload) {
  if (payload == "snapshot") return true;
  auto m = metrics::wire::decode(payload);
  return m && m->type == metrics::wire::MessageType::request && m->request == "snapshot";
}

}  // namespace

BoardStream::BoardStream(BoardStreamOptions opts) : opts_(opts) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || event_fd_ < 0) {
    throw std::system_error(errno, std::generic_category(), "board stream: epoll/eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeId;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, event_fd_, &ev);
  thread_ = std::thread([this] { run(); });
}

BoardStream::~BoardStream() {
  shutdown();
  close(event_fd_);
  close(epoll_fd_);
}

void BoardStream::set_wake(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  wake_publisher_ = std::move(wake);
}

void BoardStream::wake_thread() {
  if (thread_woken_.exchange(true)) return;
  const std::uint64_t one = 1;
  (void)!write(event_fd_, &one, sizeof one);
}

void BoardStream::attach(int fd, std::string_view already_read, std::function<void()> release) {
  std::function<void()> wake;
  {
    std::unique_lock lock(mu_);
    if (stopping_ || stopped_) {
      lock.unlock();
      release();
      return;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    const std::uint64_t id = next_id_++;
    auto c = std::make_unique<Client>(opts_.max_request_bytes);
    c->fd = fd;
    c->release = std::move(release);
    c->reader.feed(already_read);
    handle_frames(*c);
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = id;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev);
    clients_.emplace(id, std::move(c));
    ++stats_.accepted;
    stats_.clients = clients_.size();
    wake = wake_publisher_;
  }
  wake_thread();
  if (wake) wake();
}

void BoardStream::shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  const std::uint64_t one = 1;
  (void)!write(event_fd_, &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  std::vector<std::function<void()>> releases;
  {
    std::lock_guard lock(mu_);
    for (auto& [id, c] : clients_) {
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
      releases.push_back(std::move(c->release));
    }
    clients_.clear();
    stats_.clients = 0;
    stopped_ = true;
  }
  for (auto& r : releases) r();
}

BoardStreamStats BoardStream::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

// ---- the publisher's side ---------------------------------------------------------------------

void BoardStream::published(std::string_view body) {
  {
    std::lock_guard lock(mu_);
    if (clients_.empty()) return;
  }
  // Framed once, shared by every client's queue.
  auto frame = std::make_shared<const std::string>(ws::frame(ws::Opcode::text, body));
  {
    std::lock_guard lock(mu_);
    for (auto& [id, c] : clients_) {
      if (!c->closing) enqueue(*c, Out{{}, frame});
    }
  }
  wake_thread();
}

bool BoardStream::take_snapshot_requests() {
  std::lock_guard lock(mu_);
  bool any = false;
  for (auto& [id, c] : clients_) {
    if (c->wants_snapshot && !c->closing) {
      c->wants_snapshot = false;
      c->asked = true;
      any = true;
    }
  }
  return any;
}

void BoardStream::answer_snapshot(std::shared_ptr<const std::string> body) {
  const std::string header = ws::frame_header(ws::Opcode::text, body->size());
  {
    std::lock_guard lock(mu_);
    for (auto& [id, c] : clients_) {
      if (!c->asked) continue;
      c->asked = false;
      if (!c->closing && enqueue(*c, Out{header, body})) ++stats_.snapshots_sent;
    }
  }
  wake_thread();
}

// ---- the socket thread ------------------------------------------------------------------------

bool BoardStream::enqueue(Client& c, Out o) {
  // With nothing queued one message always goes, however large (a snapshot of a huge floor).
  if (c.queued > 0 && c.queued + o.size() > opts_.max_queued_bytes) {
    c.closing = true;
    c.out.clear();
    c.queued = 0;
    ++stats_.dropped_slow;
    component_logger("http")->warn(
        "/board/ws: dropped a browser board that let {} bytes wait (it reconnects afresh)",
        opts_.max_queued_bytes);
    return false;
  }
  c.queued += o.size();
  c.out.push_back(std::move(o));
  return true;
}

bool BoardStream::handle_frames(Client& c) {
  bool asked = false;
  ws::FrameReader::Frame f;
  while (!c.closing && !c.close_after_flush) {
    const auto status = c.reader.next(f);
    if (status == ws::FrameReader::Status::need_more) break;
    if (status == ws::FrameReader::Status::error) {
      ++stats_.protocol_errors;
      component_logger("http")->info("/board/ws: closing a client: {}", c.reader.why());
      c.closing = true;
      break;
    }
    switch (f.op) {
      case ws::Opcode::text:
      case ws::Opcode::binary:
        // Read-only: a snapshot request is the one thing a browser board may ask.
        if (is_snapshot_request(f.payload) && !c.wants_snapshot) {
          c.wants_snapshot = true;
          asked = true;
        }
        break;
      case ws::Opcode::ping:
        enqueue(c, Out{{}, std::make_shared<const std::string>(ws::frame(ws::Opcode::pong, f.payload))});
        break;
      case ws::Opcode::close:
        // Echo the status code, then close once it is out (RFC 6455 5.5.1).
        enqueue(c, Out{{}, std::make_shared<const std::string>(
                               ws::frame(ws::Opcode::close, f.payload.substr(0, 2)))});
        c.close_after_flush = true;
        break;
      default:
        break;
    }
  }
  return asked;
}

bool BoardStream::read_from(Client& c) {
  std::array<char, 16384> buf{};
  bool asked = false;
  for (int i = 0; i < 8 && !c.closing; ++i) {  // bounded: level-triggered epoll brings us back
    const ssize_t n = recv(c.fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (n > 0) {
      c.reader.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)));
      asked |= handle_frames(c);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n < 0 && errno == EINTR) continue;
    c.closing = true;  // 0: the browser went away; <0: reset
  }
  return asked;
}

void BoardStream::flush(std::uint64_t id, Client& c) {
  while (!c.out.empty()) {
    std::array<iovec, 32> iov{};
    std::size_t k = 0;
    for (auto it = c.out.begin(); it != c.out.end() && k + 2 <= iov.size(); ++it) {
      std::size_t skip = it->sent;
      if (skip < it->header.size()) {
        iov[k++] = {const_cast<char*>(it->header.data()) + skip, it->header.size() - skip};
        skip = 0;
      } else {
        skip -= it->header.size();
      }
      iov[k++] = {const_cast<char*>(it->body->data()) + skip, it->body->size() - skip};
    }
    msghdr msg{};
    msg.msg_iov = iov.data();
    msg.msg_iovlen = k;
    const ssize_t n = sendmsg(c.fd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) c.closing = true;
      break;
    }
    auto left = static_cast<std::size_t>(n);
    while (left > 0 && !c.out.empty()) {
      Out& o = c.out.front();
      const std::size_t rest = o.size() - o.sent;
      if (left < rest) {
        o.sent += left;
        left = 0;
      } else {
        left -= rest;
        c.queued -= o.size();
        c.out.pop_front();
      }
    }
  }
  if (c.out.empty() && c.close_after_flush) c.closing = true;
  if (c.closing) return;
  const bool want_out = !c.out.empty();
  if (want_out != c.watching_out) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0u);
    ev.data.u64 = id;
    epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c.fd, &ev);
    c.watching_out = want_out;
  }
}

void BoardStream::run() {
  std::array<epoll_event, 64> events{};
  for (;;) {
    const int n = epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), -1);
    if (n < 0 && errno != EINTR) {
      component_logger("http")->error("/board/ws: epoll_wait failed: {}", std::strerror(errno));
      return;
    }
    std::vector<std::function<void()>> releases;
    std::function<void()> wake;
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      bool asked = false;
      for (int i = 0; i < n; ++i) {
        const std::uint64_t id = events[static_cast<std::size_t>(i)].data.u64;
        if (id == kWakeId) {
          std::uint64_t count = 0;
          (void)!read(event_fd_, &count, sizeof count);
          thread_woken_ = false;
          continue;
        }
        const auto it = clients_.find(id);
        if (it == clients_.end()) continue;
        if ((events[static_cast<std::size_t>(i)].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
          asked |= read_from(*it->second);
        }
      }
      for (auto it = clients_.begin(); it != clients_.end();) {
        Client& c = *it->second;
        if (!c.closing) flush(it->first, c);
        if (c.closing) {
          epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c.fd, nullptr);
          releases.push_back(std::move(c.release));
          it = clients_.erase(it);
        } else {
          ++it;
        }
      }
      stats_.clients = clients_.size();
      if (asked) wake = wake_publisher_;
    }
    // Outside the lock: the HTTP server's release and the publisher's wake take their own locks.
    for (auto& r : releases) r();
    if (wake) wake();
  }
}

}  // namespace callwatch::daemon
