// The live AMI and ESL clients (daemon/feeds/feed_runner) against real TCP servers in this
// process (loopback, ephemeral ports) that send recorded bytes split at awkward offsets, drop
// the connection mid-message and accept the reconnect. Events arrive over the real inproc
// ZeroMQ hand-off and are applied to a metrics::Engine; the numbers are the story's
// (tests/data/story/make_story.py) or worked out in the comments.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "callwatch/metrics/engine.hpp"
#include "feeds/ami/ami_capture.hpp"
#include "feeds/feed_runner.hpp"
#include "feeds/feed_wire.hpp"
#include "feeds/native/native_parser.hpp"

namespace cd = callwatch::daemon;
namespace m = callwatch::metrics;
namespace cf = callwatch::config;
using namespace std::chrono_literals;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A one-client-at-a-time TCP server; `script(fd, n)` runs for the n-th connection (from 1).
class TestServer {
 public:
  using Script = std::function<void(int fd, int n)>;
  explicit TestServer(Script script) : script_(std::move(script)) {
    lfd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;  // ephemeral
    REQUIRE(::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(lfd_, 4) == 0);
    socklen_t len = sizeof a;
    ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] {
      for (int n = 1; !stop_; ++n) {
        const int fd = ::accept(lfd_, nullptr, nullptr);
        if (fd < 0) return;
        int on = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
        connections_ = n;
        script_(fd, n);
        ::close(fd);
      }
    });
  }
  ~TestServer() {
    stop_ = true;
    ::shutdown(lfd_, SHUT_RDWR);
    ::close(lfd_);
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int connections() const { return connections_; }

 private:
  Script script_;
  int lfd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread thread_;
};

// Sends `bytes` in chunks of 1, 2, 13, 5, 101, 7 ... bytes with a pause between, so the client
// sees reads that end after one byte, between CR and LF and inside header names and values.
void send_split(int fd, std::string_view bytes) {
  static const std::size_t pattern[] = {1, 2, 13, 5, 101, 7, 1, 64, 3, 333};
  std::size_t i = 0, k = 0;
  while (i < bytes.size()) {
    const std::size_t n = std::min(pattern[k++ % std::size(pattern)], bytes.size() - i);
    ::send(fd, bytes.data() + i, n, MSG_NOSIGNAL);
    i += n;
    if (k % 3 == 0) std::this_thread::sleep_for(1ms);
  }
}

// Reads until `terminator` (the end of the client's block); returns what was read.
std::string read_block(int fd, std::string_view terminator) {
  std::string got;
  char c;
  while (got.size() < 65536 && ::recv(fd, &c, 1, 0) == 1) {
    got.push_back(c);
    if (got.size() >= terminator.size() &&
        got.compare(got.size() - terminator.size(), terminator.size(), terminator) == 0) {
      break;
    }
  }
  return got;
}

// Keeps the connection open until the test is done with it (client closes or `done` is set).
void hold_open(int fd, const std::atomic<bool>& done) {
  timeval tv{0, 50000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char buf[4096];
  while (!done) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n == 0) return;
  }
}

std::string credentials_file(const std::string& text, mode_t mode) {
  char path[] = "/tmp/callwatch-cred-XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  ::fchmod(fd, mode);
  ::close(fd);
  return path;
}

// Receives the feed's events from the engine side of the inproc hand-off and applies them.
struct EngineSide {
  zmq::socket_t pull;
  m::EngineSettings settings;
  m::Engine engine{settings, nullptr};
  cd::NativeParser parser;
  std::vector<std::string> json;
  std::uint64_t restarts = 0;
  double restart_ts = 0;  // the last feed_restart's time
  std::uint64_t accepted = 0, duplicates = 0, ignored = 0;
  std::vector<std::string> rejected;
  double last = 0;

  EngineSide(zmq::context_t& ctx, const std::string& endpoint) : pull(ctx, zmq::socket_type::pull) {
    pull.bind(endpoint);
  }
  // Receives until `until()` holds or the deadline passes.
  void receive(const std::function<bool()>& until, std::chrono::seconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    pull.set(zmq::sockopt::rcvtimeo, 100);
    while (!until() && std::chrono::steady_clock::now() < deadline) {
      zmq::message_t name, body;
      if (!pull.recv(name)) continue;
      REQUIRE(name.more());
      REQUIRE(pull.recv(body));
      // The binary batch of the feed thread (feeds/feed_wire.hpp): events and message counts.
      cd::WireReader reader(std::string_view(static_cast<const char*>(body.data()), body.size()));
      cd::WireItem item;
      while (reader.next(item)) {
        switch (item.kind) {
          case cd::WireRecord::accepted: accepted += item.count; continue;
          case cd::WireRecord::duplicate: duplicates += item.count; continue;
          case cd::WireRecord::rejected: rejected.emplace_back(item.label); continue;
          case cd::WireRecord::ignored: ignored += item.count; continue;
          case cd::WireRecord::event: break;
        }
        const m::Event& e = item.event;
        std::string j;
        cd::append_native_json(e, j);  // readable in a failure message
        json.push_back(j);
        if (e.type == m::EventType::feed_restart) ++restarts, restart_ts = e.ts;
        else last = std::max(last, e.ts);
        engine.apply(e);
      }
      REQUIRE(reader.error().empty());
    }
  }
  const m::QueueView* queue(const m::Snapshot& s, std::string_view name) {
    for (const auto& q : s.queues) {
      if (q.name == name) return &q;
    }
    return nullptr;
  }
  std::size_t count(std::string_view type) const {
    std::size_t n = 0;
    const std::string key = "\"type\":\"" + std::string(type) + "\"";
    for (const auto& j : json) n += j.find(key) != std::string::npos ? 1 : 0;
    return n;
  }
};

cf::FeedConfig feed(const char* name, const char* type, const std::string& address,
                    const std::string& cred) {
  cf::FeedConfig f;
  f.name = name;
  f.type = *cf::feed_type_from_string(type);
  f.address = address;
  f.credentials_file = cred;
  return f;
}

cd::FeedRunOptions fast_options(const std::string& endpoint) {
  cd::FeedRunOptions o;
  o.endpoint = endpoint;
  o.backoff_min = 50ms;
  o.backoff_max = 200ms;
  o.connect_timeout = 1000ms;
  // The captures are recordings (and made-up times from 1970) played as a live PBX: their
  // Timestamp headers are years behind this machine's clock, so the window of times is opened.
  o.times.max_age_seconds = 1e10;
  return o;
}

void check_story(const m::Snapshot& snap, EngineSide& side) {
  const auto* q = side.queue(snap, "sales");
  REQUIRE(q != nullptr);
  // Same numbers as feeds_story_test: offered 4 = answered 2 + abandoned 1 + timed out 1.
  CHECK(q->total.offered() == 4);
  CHECK(q->total.answered == 2);
  CHECK(q->total.abandoned == 1);
  CHECK(q->total.short_abandoned == 1);
  CHECK(q->total.timed_out == 1);
  CHECK(q->total.answered_within_sl == 1);
  CHECK(q->total.answer_wait_sum == Approx(60));
  CHECK(q->total.handle_sum == Approx(180));
  for (const auto& a : snap.agents) {
    if (a.name == "Bob") {
      CHECK(a.today.ring_noanswer == 1);
      CHECK(a.today.paused_seconds() == Approx(60));
    }
  }
}

}  // namespace

TEST_CASE("AMI client: logs in, replays the story split at awkward offsets, same KPIs",
          "[feed][ami][tcp]") {
  const std::string story = slurp(std::string(CALLWATCH_TEST_DATA) + "/story/story.ami");
  const auto banner_end = story.find("\r\n") + 2;
  std::string login_seen;
  std::atomic<bool> done{false};
  TestServer server([&](int fd, int) {
    send_split(fd, story.substr(0, banner_end));
    login_seen = read_block(fd, "\r\n\r\n");
    send_split(fd, story.substr(banner_end));
    hold_open(fd, done);
  });
  const std::string cred = credentials_file("# AMI\nusername = callwatch\nsecret = s3cr3t\n", 0600);
  zmq::context_t ctx;
  const std::string ep = "inproc://feeds-tcp-ami-story";
  EngineSide side(ctx, ep);
  std::shared_ptr<std::atomic<bool>> up;
  auto threads = cd::start_feeds(
      ctx, {feed("pbx", "ami", server.address(), cred)},
      [&](const std::string&) { return up = std::make_shared<std::atomic<bool>>(false); },
      fast_options(ep));
  REQUIRE(threads.has_value());
  // The story ends with Bob's unpause: the 8th agent_state (2 from QueueStatus, ringing x3,
  // on_call... are not counted here) -> wait for the last event, the unpause at t0+460.
  side.receive([&] {
    return !side.json.empty() && side.json.back().find("1767600460") != std::string::npos;
  });
  CHECK(up->load());
  done = true;
  (*threads)->stop();
  ::unlink(cred.c_str());
  CHECK(login_seen.find("Action: Login\r\n") != std::string::npos);
  CHECK(login_seen.find("Username: callwatch\r\n") != std::string::npos);
  CHECK(login_seen.find("Secret: s3cr3t\r\n") != std::string::npos);
  side.engine.finish(side.last);
  check_story(side.engine.snapshot(), side);
  CHECK(side.restarts == 0);
}

TEST_CASE(
    "AMI client: a disconnect mid-message and a reconnect rebuild from QueueStatus "
    "without double counting",
    "[feed][ami][tcp]") {
  auto ev = [](std::string_view name, int ts, std::string_view rest) {
    return "Event: " + std::string(name) +
           "\r\nPrivilege: agent,all\r\nTimestamp: " + std::to_string(ts) + ".000000\r\n" +
           std::string(rest) + "\r\n";
  };
  std::vector<std::string> logins;
  std::atomic<bool> done{false};
  TestServer server([&](int fd, int n) {
    send_split(fd, "Asterisk Call Manager/2.10.4\r\n");
    logins.push_back(read_block(fd, "\r\n\r\n"));
    const std::string id = std::to_string(n);
    send_split(fd, "Response: Success\r\nActionID: cw-login-" + id +
                       "\r\nMessage: Authentication accepted\r\n\r\n");
    read_block(fd, "\r\n\r\n");  // the QueueStatus action, sent after the login answer
    std::string s;
    if (n == 1) {
      s += "Event: QueueParams\r\nQueue: sales\r\nActionID: cw-qs-1\r\n\r\n";
      s += "Event: QueueStatusComplete\r\nTimestamp: 99.000000\r\nActionID: cw-qs-1\r\n\r\n";
      s += ev("QueueCallerJoin", 100, "Queue: sales\r\nUniqueid: 100.1\r\n");
      s += ev("QueueCallerJoin", 101, "Queue: sales\r\nUniqueid: 100.2\r\n");
      s += ev("QueueCallerJoin", 102, "Queue: sales\r\nUniqueid: 100.3\r\n");
      s += ev("AgentConnect", 110,
              "Queue: sales\r\nUniqueid: 100.1\r\nInterface: PJSIP/1\r\nMemberName: A\r\nHoldTime: "
              "10\r\n");
      s += "Event: QueueCallerAbandon\r\nQueue: sa";  // the connection drops mid-header
      send_split(fd, s);
      std::this_thread::sleep_for(50ms);
      return;  // close
    }
    // While down: 100.2 abandoned (unseen), 100.4 joined, 100.3 still waits.
    s += "Event: QueueParams\r\nQueue: sales\r\nActionID: cw-qs-2\r\n\r\n";
    s += "Event: QueueEntry\r\nQueue: sales\r\nUniqueid: 100.3\r\nWait: 98\r\nActionID: "
         "cw-qs-2\r\n\r\n";
    s += "Event: QueueEntry\r\nQueue: sales\r\nUniqueid: 100.4\r\nWait: 20\r\nActionID: "
         "cw-qs-2\r\n\r\n";
    s += "Event: QueueStatusComplete\r\nTimestamp: 200.000000\r\nActionID: cw-qs-2\r\n\r\n";
    s += ev("AgentComplete", 205,
            "Queue: sales\r\nUniqueid: 100.1\r\nInterface: PJSIP/1\r\nMemberName: A\r\nHoldTime: "
            "10\r\nTalkTime: 95\r\nReason: agent\r\n");
    s += ev("AgentConnect", 206,
            "Queue: sales\r\nUniqueid: 100.3\r\nInterface: PJSIP/2\r\nMemberName: B\r\nHoldTime: "
            "104\r\n");
    s += ev("AgentConnect", 207,
            "Queue: sales\r\nUniqueid: 100.4\r\nInterface: PJSIP/3\r\nMemberName: C\r\nHoldTime: "
            "26\r\n");
    send_split(fd, s);
    hold_open(fd, done);
  });
  const std::string cred = credentials_file("username: cw\nsecret: x\n", 0640);
  zmq::context_t ctx;
  const std::string ep = "inproc://feeds-tcp-ami-reconnect";
  EngineSide side(ctx, ep);
  auto threads =
      cd::start_feeds(ctx, {feed("pbx", "ami", server.address(), cred)}, {}, fast_options(ep));
  REQUIRE(threads.has_value());
  side.receive([&] { return side.json.size() >= 10; });
  done = true;
  (*threads)->stop();
  ::unlink(cred.c_str());
  INFO([&] {
    std::string s;
    for (auto& j : side.json) s += j + "\n";
    return s;
  }());
  CHECK(server.connections() == 2);
  REQUIRE(logins.size() == 2);
  CHECK(logins[1].find("ActionID: cw-login-2") != std::string::npos);
  CHECK(side.restarts == 1);  // at the drop; 100.2 vanished while down: closed, not counted
  // The drop is placed on the PBX's clock (Timestamp headers): just after its last event (110,
  // the partial block never completes), not at the local wall-clock time.
  CHECK(side.restart_ts >= 110);
  CHECK(side.restart_ts < 115);
  side.engine.finish(side.last);
  const auto snap = side.engine.snapshot();
  const auto* q = side.queue(snap, "sales");
  REQUIRE(q != nullptr);
  // 100.1, 100.3 and 100.4 answered, each once; 100.2 not offered; nobody left waiting.
  CHECK(q->total.answered == 3);
  CHECK(q->total.offered() == 3);
  CHECK(q->calls_waiting == 0);
  CHECK(q->total.answer_wait_sum == Approx(10 + 104 + 26));
  CHECK(side.count("call_enqueued") == 5);  // 3 joins, 100.3 entered again, 100.4 from the list
}

TEST_CASE("AMI credentials readable by everyone are refused before connecting",
          "[feed][ami][tcp]") {
  const std::string cred = credentials_file("username = a\nsecret = b\n", 0644);
  zmq::context_t ctx;
  auto threads = cd::start_feeds(ctx, {feed("pbx", "ami", "127.0.0.1:1", cred)}, {},
                                 fast_options("inproc://unused"));
  ::unlink(cred.c_str());
  REQUIRE_FALSE(threads.has_value());
  CHECK(threads.error().find("readable by every user") != std::string::npos);
  CHECK(threads.error().find("b\n") == std::string::npos);  // never the secret
}

TEST_CASE("ESL client: auth, snapshot commands, the story's plain events split anywhere",
          "[feed][esl][tcp]") {
  std::string story = slurp(std::string(CALLWATCH_TEST_DATA) + "/story/story.esl");
  const std::string first = "Content-Type: auth/request\n\n";
  REQUIRE(story.rfind(first, 0) == 0);
  // Live, the snapshot applies at the subscription reply, stamped with the local clock; the
  // story's events are stamped in January 2026. Without that reply the snapshot waits for the
  // first event and takes its time, as in a replay, so the agents' spans line up.
  const std::string listener =
      "Content-Type: command/reply\nReply-Text: +OK event listener enabled plain\n\n";
  REQUIRE(story.find(listener) != std::string::npos);
  story.erase(story.find(listener), listener.size());
  std::string auth;
  std::atomic<bool> done{false};
  TestServer server([&](int fd, int) {
    send_split(fd, first);
    auth = read_block(fd, "\n\n");
    send_split(fd, story.substr(first.size()));
    hold_open(fd, done);
  });
  const std::string cred = credentials_file("ClueCon\n", 0600);
  zmq::context_t ctx;
  const std::string ep = "inproc://feeds-tcp-esl-story";
  EngineSide side(ctx, ep);
  auto threads =
      cd::start_feeds(ctx, {feed("fs1", "esl", server.address(), cred)}, {}, fast_options(ep));
  REQUIRE(threads.has_value());
  side.receive([&] {
    return !side.json.empty() && side.json.back().find("1767600460") != std::string::npos;
  });
  done = true;
  (*threads)->stop();
  ::unlink(cred.c_str());
  CHECK(auth == "auth ClueCon\n\n");
  side.engine.finish(side.last);
  check_story(side.engine.snapshot(), side);
}

namespace {

// The event list without times (a live client stamps events without a Timestamp header on
// receipt; a replay uses the capture's own clock).
std::vector<std::string> without_ts(const std::vector<std::string>& json) {
  std::vector<std::string> out;
  for (std::string j : json) {
    const auto at = j.find("\"ts\":");
    const auto end = j.find(',', at);
    if (at != std::string::npos && end != std::string::npos) j.erase(at, end - at + 1);
    out.push_back(j);
  }
  return out;
}

// cacofonisk's JSON arrays as the AMI text they were recorded from: Event first, then every
// other header in the recorder's order, without its `content` artifact.
std::string json_capture_as_text(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::array arr;
  REQUIRE_FALSE(parser.parse(padded).get_array().get(arr));
  std::string out = "Asterisk Call Manager/2.10.4\r\n";
  for (simdjson::dom::element item : arr) {
    simdjson::dom::object obj = item.get_object();
    std::string_view ev;
    REQUIRE_FALSE(obj["Event"].get_string().get(ev));
    out += "Event: " + std::string(ev) + "\r\n";
    for (auto field : obj) {
      std::string_view v;
      if (field.key == "Event" || field.key == "content" || field.value.get_string().get(v))
        continue;
      out += std::string(field.key) + ": " + std::string(v) + "\r\n";
    }
    out += "\r\n";
  }
  return out;
}

// Sends `bytes` to the live AMI client over TCP and returns the events it handed on.
std::vector<std::string> live_events(const std::string& bytes, std::size_t expected) {
  std::atomic<bool> done{false}, sent{false};
  TestServer server([&](int fd, int n) {
    if (n > 1) return;  // the capture is sent once; a reconnect gets nothing
    send_split(fd, bytes);
    sent = true;
    hold_open(fd, done);
  });
  const std::string cred = credentials_file("username = u\nsecret = s\n", 0600);
  zmq::context_t ctx;
  static int serial = 0;
  const std::string ep = "inproc://feeds-tcp-capture-" + std::to_string(++serial);
  EngineSide side(ctx, ep);
  auto threads =
      cd::start_feeds(ctx, {feed("pbx", "ami", server.address(), cred)}, {}, fast_options(ep));
  REQUIRE(threads.has_value());
  side.receive([&] { return sent && side.json.size() >= expected; });
  side.receive([] { return false; }, 1s);  // anything extra would show here
  done = true;
  (*threads)->stop();
  ::unlink(cred.c_str());
  return side.json;
}

}  // namespace

TEST_CASE("every real AMI capture sent by a TCP server gives the live client the replay's events",
          "[feed][ami][tcp][samples]") {
  const std::string dir = std::string(CALLWATCH_TEST_DATA) + "/samples/";
  for (const char* f : {"panoramisk/queue_status.ami", "panoramisk/agent_loggued_in.ami",
                        "panoramisk/agent_not_in_pause.ami", "panoramisk/login_ok.ami",
                        "panoramisk/login_failed.ami", "panoramisk/login_md5.ami",
                        "panoramisk/logoff.ami", "panoramisk/ping.ami", "panoramisk/queue_add.ami",
                        "panoramisk/command_core_show_version.ami",
                        "panoramisk/rasterisk_command.ami", "cacofonisk/queue_a_cancel.json",
                        "cacofonisk/queue_simple.json", "cacofonisk/queue_group.json",
                        "cacofonisk/queue_blind_xfer.json", "cacofonisk/queue_attn_xfer.json"}) {
    INFO(f);
    const std::string raw = slurp(dir + f);
    REQUIRE(!raw.empty());
    const bool json = raw[0] == '[';
    // A capture that starts mid-connection gets the banner the live server would have sent.
    std::string bytes = json ? json_capture_as_text(raw) : raw;
    if (bytes.rfind("Asterisk Call Manager/", 0) != 0)
      bytes = "Asterisk Call Manager/1.3\r\n" + bytes;
    std::vector<std::string> offline;
    cd::FeedSink sink;
    sink.event = [&](const m::Event& e) {
      std::string j;
      cd::append_native_json(e, j);
      offline.push_back(j);
    };
    // The replay reads the original file (the JSON path for cacofonisk), the live client the
    // bytes on the wire: both must agree.
    auto st = cd::replay_ami_texts({{f, json ? std::string_view(raw) : std::string_view(bytes)}},
                                   {}, sink);
    REQUIRE(st.has_value());
    const auto live = live_events(bytes, offline.size());
    CHECK(without_ts(live) == without_ts(offline));
  }
}

TEST_CASE("AMI client: pings after login and reconnects when the server goes silent",
          "[feed][ami][tcp]") {
  std::atomic<bool> done{false};
  std::atomic<bool> pinged{false};
  std::atomic<int> second{0};
  TestServer server([&](int fd, int n) {
    send_split(fd, "Asterisk Call Manager/2.10.4\r\n");
    read_block(fd, "\r\n\r\n");  // Login
    send_split(fd, "Response: Success\r\nActionID: cw-login-" + std::to_string(n) +
                       "\r\nMessage: Authentication accepted\r\n\r\n");
    if (n >= 2) {
      second = n;
      hold_open(fd, done);
      return;
    }
    read_block(fd, "\r\n\r\n");  // QueueStatus
    // Never answer again: the Ping must come, then the client must give up on this connection.
    if (read_block(fd, "\r\n\r\n").find("Action: Ping") != std::string::npos) pinged = true;
    timeval tv{3, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    while (::recv(fd, &c, 1, 0) > 0) {
    }
  });
  const std::string cred = credentials_file("username = u\nsecret = s\n", 0600);
  zmq::context_t ctx;
  const std::string ep = "inproc://feeds-tcp-ami-silent";
  EngineSide side(ctx, ep);
  auto o = fast_options(ep);
  o.ping_interval = 100ms;
  o.connect_timeout = 200ms;  // silence limit: 2 x 100 ms + 200 ms
  std::shared_ptr<std::atomic<bool>> up;
  auto threads = cd::start_feeds(
      ctx, {feed("pbx", "ami", server.address(), cred)},
      [&](const std::string&) { return up = std::make_shared<std::atomic<bool>>(false); }, o);
  REQUIRE(threads.has_value());
  side.receive([&] { return second.load() >= 2 && up->load(); }, 10s);
  done = true;
  (*threads)->stop();
  ::unlink(cred.c_str());
  CHECK(pinged);
  CHECK(second == 2);
  CHECK_FALSE(up->load());  // stopped: the feed says it is down
}
