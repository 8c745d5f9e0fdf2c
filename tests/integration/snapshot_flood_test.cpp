// Issue 13, the wallboard control socket against a client that asks and never reads, on a real
// callwatchd with [security] off (anyone on the port): before the fix every "snapshot" request
// was encoded again and queued for it (120 of them, 8 bytes each, pinned 120 copies of the state
// and stopped heartbeats while they were encoded). The client here speaks ZMTP over a raw socket
// and stops reading at the TCP level, so nothing on its side drains what the daemon queues.
#include <netinet/tcp.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <thread>
#include <zmq_addon.hpp>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "store_test_util.hpp"

using namespace cwtest;
namespace wire = callwatch::metrics::wire;

namespace {

// A ZMTP 3.0 DEALER with the NULL mechanism (RFC 23) that sends and never reads a byte.
class SilentDealer {
 public:
  explicit SilentDealer(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int small = 4096;  // a tiny window: the daemon's replies stay on the daemon's side
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("connect");
    std::string greeting(64, '\0');
    greeting[0] = '\xff';
    greeting[9] = '\x7f';
    greeting[10] = 3;  // version 3.0
    greeting.replace(12, 4, "NULL");
    put(greeting);
    // READY with Socket-Type=DEALER: a command frame (flag 0x04) of 28 bytes.
    std::string ready =
        std::string("\x05READY", 6) + "\x0bSocket-Type" + std::string("\0\0\0\x06", 4) + "DEALER";
    put(std::string("\x04", 1) + static_cast<char>(ready.size()) + ready);
    // The daemon's greeting and READY: the last bytes this client reads. (libzmq drops a peer
    // whose first message comes before its own handshake is through.)
    std::string in;
    timeval tv{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (in.size() < 66 || in.size() < std::size_t{66} + static_cast<unsigned char>(in[65])) {
      char buf[256];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) throw std::runtime_error("no ZMTP handshake from the daemon");
      in.append(buf, static_cast<std::size_t>(n));
    }
  }
  ~SilentDealer() { close(); }
  SilentDealer(const SilentDealer&) = delete;
  SilentDealer& operator=(const SilentDealer&) = delete;

  // One single-frame message (short frame, flags 0).
  void send(const std::string& body) {
    put(std::string("\0", 1) + static_cast<char>(body.size()) + body);
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  void put(const std::string& bytes) {
    if (::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(bytes.size())) {
      throw std::runtime_error("send");
    }
  }
  int fd_ = -1;
};

long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// Heartbeats and deltas as a board sees them, on a thread of its own.
struct Board {
  std::atomic<bool> stop{false};
  std::atomic<long> max_heartbeat_gap_ms{0};
  std::atomic<std::uint64_t> seq{0};
  std::atomic<int> heartbeats{0};
  std::thread thread;

  Board(zmq::context_t& ctx, const std::string& endpoint) {
    thread = std::thread([this, &ctx, endpoint] {
      zmq::socket_t sub(ctx, zmq::socket_type::sub);
      sub.set(zmq::sockopt::linger, 0);
      sub.set(zmq::sockopt::subscribe, "");
      sub.set(zmq::sockopt::rcvtimeo, 100);
      sub.connect(endpoint);
      std::optional<std::chrono::steady_clock::time_point> last;
      while (!stop) {
        std::vector<zmq::message_t> frames;
        if (!zmq::recv_multipart(sub, std::back_inserter(frames)) || frames.size() != 2) continue;
        auto m = wire::decode(frames[1].to_string_view());
        if (!m) continue;
        seq = std::max<std::uint64_t>(seq, m->seq);
        if (m->type != wire::MessageType::heartbeat) continue;
        const auto now = std::chrono::steady_clock::now();
        if (last) {
          const long gap =
              std::chrono::duration_cast<std::chrono::milliseconds>(now - *last).count();
          max_heartbeat_gap_ms = std::max(max_heartbeat_gap_ms.load(), gap);
        }
        last = now;
        ++heartbeats;
      }
    });
  }
  ~Board() {
    stop = true;
    thread.join();
  }
};

// A board's request on a DEALER that reads: the decoded reply, or nullopt after 5 s.
std::optional<wire::Message> ask(zmq::context_t& ctx, const std::string& endpoint,
                                 const std::string& request) {
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::rcvtimeo, 5000);
  dealer.connect(endpoint);
  std::array<zmq::const_buffer, 2> frames{zmq::str_buffer(""), zmq::buffer(request)};
  (void)zmq::send_multipart(dealer, frames);
  std::vector<zmq::message_t> reply;
  if (!zmq::recv_multipart(dealer, std::back_inserter(reply))) return std::nullopt;
  auto m = wire::decode(reply.back().to_string_view());
  if (!m) return std::nullopt;
  return std::move(*m);
}

const std::string kRequests = "callwatch_wallboard_snapshot_requests_total{result=";

}  // namespace

TEST_CASE(
    "a client that asks for snapshots and never reads pins one, and boards keep their heartbeats",
    "[integration][publisher][hostile]") {
  Site site;
  site.write_config("[publisher]\nmax_queued_reply_bytes = 1048576\n", false);
  site.start();
  zmq::context_t ctx;

  // 8,000 agents with 150-byte names: every snapshot spells each name once, so it is at least
  // 8,000 x 150 = 1,200,000 bytes, more than the 1,048,576-byte budget on its own.
  constexpr int kAgents = 8000;
  std::vector<std::string> lines;
  const double ts = wall_now();
  for (int i = 0; i < kAgents; ++i) {
    std::string name = "agent-" + std::to_string(100000 + i) + "-";
    name.resize(150, 'x');
    lines.push_back(R"({"type":"agent_state","ts":)" + std::to_string(ts) + R"(,"agent":")" + name +
                    R"(","state":"available","queues":["sales"]})");
  }
  send_lines(ctx, site.feed_endpoint(), lines);
  REQUIRE(wait_for(
      [&] { return site.value("callwatch_feed_events_total{feed=\"native\"}") == kAgents; }, 20s));

  Board board(ctx, site.publish_endpoint());
  REQUIRE(wait_for([&] { return board.heartbeats >= 1; }, 5s));
  const long rss_before = rss_kib(site.pid);

  // 120 requests, 8 bytes each, from one client that reads nothing.
  SilentDealer greedy(site.ctl_port);
  for (int i = 0; i < 120; ++i) greedy.send("snapshot");
  REQUIRE(wait_for(
      [&] {
        return site.value(kRequests + "\"served\"}") + site.value(kRequests + "\"coalesced\"}") ==
               120;
      },
      10s));
  std::this_thread::sleep_for(2s);  // time for the pre-fix daemon to pile replies up
  // One reply encoded and queued; the other 119 found it still on its way.
  std::string body = site.scrape();
  CHECK(sample(body, kRequests + "\"served\"}") == 1.0);
  CHECK(sample(body, kRequests + "\"coalesced\"}") == 119.0);
  CHECK(sample(body, "callwatch_wallboard_snapshot_encodes_total") == 1.0);
  CHECK(sample(body, "callwatch_wallboard_queued_reply_bytes").value_or(0) >= 1200000);
  // One body is about 2 MB; 120 of them would be 120 x 1.2 MB = 144 MB at the very least.
  const long grown_kib = rss_kib(site.pid) - rss_before;
  INFO("resident memory grew by " << grown_kib << " KiB");
  CHECK(grown_kib < 40 * 1024);

  // The state moves on (one agent pauses): a board asking now needs a new body, but the greedy
  // client's unread one already holds more than the budget, so the board is told to come back.
  send_lines(
      ctx, site.feed_endpoint(),
      {R"({"type":"agent_state","ts":)" + std::to_string(ts + 1) + R"(,"agent":"agent-100000-)" +
       std::string(150 - 13, 'x') + R"(","state":"paused","queues":["sales"]})"});
  const std::uint64_t seq_before = board.seq;
  REQUIRE(wait_for([&] { return board.seq > seq_before; }, 5s));
  auto refused = ask(ctx, site.control_endpoint(), wire::encode_request("snapshot"));
  REQUIRE(refused);
  CHECK(refused->type == wire::MessageType::error);
  CHECK(refused->error.find("busy") == 0);

  // Once the greedy client is gone its reply is freed and the next request is answered.
  greedy.close();
  REQUIRE(wait_for([&] { return site.value("callwatch_wallboard_queued_reply_bytes") == 0; }, 5s));
  auto snap = ask(ctx, site.control_endpoint(), wire::encode_request("snapshot"));
  REQUIRE(snap);
  REQUIRE(snap->type == wire::MessageType::snapshot);
  CHECK(snap->snapshot.agents.size() == static_cast<std::size_t>(kAgents));
  CHECK(snap->seq >= seq_before + 1);

  body = site.scrape();
  CHECK(sample(body, kRequests + "\"served\"}") == 2.0);
  CHECK(sample(body, kRequests + "\"coalesced\"}") == 119.0);
  CHECK(sample(body, kRequests + "\"refused\"}") == 1.0);
  CHECK(sample(body, "callwatch_wallboard_snapshot_encodes_total") == 2.0);
  // A heartbeat every second throughout (encoding never ran on the publishing thread).
  CHECK(board.max_heartbeat_gap_ms < 1500);
}
