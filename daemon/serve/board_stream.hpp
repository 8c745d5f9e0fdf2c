// The browser board's WebSockets (GET /board/ws, upgraded by serve/http_server): one thread
// reads and writes every socket without blocking; the publisher's messages are framed once and
// queued to each client as a shared buffer. A client that falls too far behind is dropped (its
// page reconnects and starts again from a snapshot), so a slow or stopped browser never holds up
// the publisher, the engine or another board.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "serve/board_tap.hpp"
#include "serve/websocket.hpp"

namespace callwatch::daemon {

struct BoardStreamOptions {
  // Bytes queued for one client, not yet taken by its socket; past this it is dropped. A few
  // snapshots of a large floor, and minutes of deltas.
  std::size_t max_queued_bytes = std::size_t{32} << 20;
  // A client sends only snapshot requests (a few dozen bytes).
  std::size_t max_request_bytes = 4096;
};

struct BoardStreamStats {
  std::uint64_t clients = 0;        // open now
  std::uint64_t accepted = 0;       // since start
  std::uint64_t dropped_slow = 0;   // closed for falling max_queued_bytes behind
  std::uint64_t protocol_errors = 0;
  std::uint64_t snapshots_sent = 0;
};

class BoardStream final : public BoardTap {
 public:
  explicit BoardStream(BoardStreamOptions opts = {});
  ~BoardStream() override;  // shutdown()
  BoardStream(const BoardStream&) = delete;
  BoardStream& operator=(const BoardStream&) = delete;

  // A connection the HTTP server upgraded: `fd` is read and written here from now on, starting
  // with `already_read`; `release` runs exactly once, on this object's thread or in shutdown(),
  // when the connection ends (it closes the socket). The client gets a snapshot unasked.
  void attach(int fd, std::string_view already_read, std::function<void()> release);
  // Closes every connection and stops the thread; attach() releases at once from then on.
  void shutdown();
  BoardStreamStats stats() const;

  // BoardTap (the publisher's thread)
  void published(std::string_view body) override;
  bool take_snapshot_requests() override;
  void answer_snapshot(std::shared_ptr<const std::string> body) override;
  void set_wake(std::function<void()> wake) override;

 private:
  struct Out {
    std::string header;                       // may be empty
    std::shared_ptr<const std::string> body;  // shared by every client it goes to
    std::size_t sent = 0;                     // of header + body
    std::size_t size() const { return header.size() + body->size(); }
  };
  struct Client {
    int fd = -1;
    std::function<void()> release;
    std::deque<Out> out;
    std::size_t queued = 0;
    bool wants_snapshot = true;  // asked, not yet taken by the publisher
    bool asked = false;          // taken: the next answer_snapshot() is for it
    bool closing = false;        // drop at the next turn of the thread
    bool close_after_flush = false;
    bool watching_out = false;   // EPOLLOUT registered
    ws::FrameReader reader;
    explicit Client(std::size_t max_request) : reader(max_request) {}
  };

  void run();
  void wake_thread();
  // With mu_ held; false when the client is over its budget (it is then marked closing).
  bool enqueue(Client& c, Out o);
  // With mu_ held: writes what the socket takes.
  void flush(std::uint64_t id, Client& c);
  // With mu_ held: reads what arrived and answers control frames; true when it asked for a
  // snapshot.
  bool read_from(Client& c);
  bool handle_frames(Client& c);

  BoardStreamOptions opts_;
  int epoll_fd_ = -1;
  int event_fd_ = -1;
  std::thread thread_;

  mutable std::mutex mu_;
  std::unordered_map<std::uint64_t, std::unique_ptr<Client>> clients_;
  std::uint64_t next_id_ = 1;
  bool stopping_ = false;
  bool stopped_ = false;
  std::function<void()> wake_publisher_;
  BoardStreamStats stats_;
  std::atomic<bool> thread_woken_{false};
};

}  // namespace callwatch::daemon
