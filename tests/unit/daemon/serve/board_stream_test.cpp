#include <catch2/catch.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "serve/board_stream.hpp"

using namespace callwatch::daemon;
using namespace std::chrono_literals;

namespace {

template <typename F>
bool wait_for(F&& f, std::chrono::milliseconds limit = 5000ms) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < until) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return f();
}

// Reads what the stream wrote until `n` bytes are in.
std::string read_bytes(int fd, std::size_t n) {
  std::string out;
  char buf[4096];
  while (out.size() < n) {
    const ssize_t got = read(fd, buf, sizeof buf);
    if (got <= 0) break;
    out.append(buf, static_cast<std::size_t>(got));
  }
  return out;
}

}  // namespace

TEST_CASE("a browser board gets the snapshot it asked for, then every published message in order",
          "[serve][board_stream]") {
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  BoardStream stream;
  std::atomic<int> wakes{0}, released{0};
  stream.set_wake([&] { ++wakes; });
  stream.attach(sv[0], {}, [&] { ++released; close(sv[0]); });
  CHECK(wakes == 1);  // a new socket wants a snapshot: the publisher is woken
  REQUIRE(stream.take_snapshot_requests());
  CHECK_FALSE(stream.take_snapshot_requests());  // taken once
  stream.answer_snapshot(std::make_shared<const std::string>("snap"));
  stream.published("d1");
  // Two text frames: a 2-byte header and "snap", a 2-byte header and "d1": 6 + 4 bytes.
  CHECK(read_bytes(sv[1], 10) == std::string("\x81\x04snap\x81\x02" "d1", 10));
  stream.shutdown();
  CHECK(released == 1);
  close(sv[1]);
}

TEST_CASE("a board that stops reading is dropped at its budget; the others keep getting messages",
          "[serve][board_stream]") {
  int stuck[2], live[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, stuck) == 0);
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, live) == 0);
  // 1 MiB per client; the socket buffers take a few hundred KiB first, so 400 messages of
  // 16 KiB (6.4 MiB) go well past both for the client that reads nothing, while the one that
  // reads stays far below it.
  BoardStream stream(BoardStreamOptions{.max_queued_bytes = 1 << 20, .max_request_bytes = 4096});
  std::atomic<int> released{0};
  stream.attach(stuck[0], {}, [&] { ++released; close(stuck[0]); });
  stream.attach(live[0], {}, [&] { ++released; close(live[0]); });
  const std::string body(16 * 1024, 'x');
  std::atomic<std::size_t> received{0};
  std::thread reader([&] {
    char buf[65536];
    for (;;) {
      const ssize_t got = read(live[1], buf, sizeof buf);
      if (got <= 0) break;
      received += static_cast<std::size_t>(got);
    }
  });
  for (int i = 0; i < 400; ++i) {
    stream.published(body);
    std::this_thread::sleep_for(1ms);
  }
  CHECK(wait_for([&] { return stream.stats().dropped_slow == 1; }));
  CHECK(wait_for([&] { return released == 1; }));
  // Each message is 16384 bytes and a 4-byte header (126 + 16-bit length): 400 x 16388.
  CHECK(wait_for([&] { return received == 400u * 16388u; }));
  CHECK(stream.stats().clients == 1);
  stream.shutdown();
  CHECK(released == 2);
  close(live[1]);  // ends the reader
  reader.join();
  close(stuck[1]);
}
