// Every feed counted (METRICS.md "Event time, order and repeats"): the same input, with exact
// duplicates and malformed messages, sent into a real callwatchd (native over ZeroMQ, queue_log
// through a tailed file, AMI from a small AMI server over TCP) and replayed with `callwatchd
// report`, gives the counts worked out by hand below, and the same number of accepted messages
// live (callwatch_feed_events_total) as in the report (data_quality.events).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <simdjson.h>
#include <zmq.hpp>

#include "daemon_process.hpp"

using cwtest::Daemon;
using namespace std::chrono_literals;

namespace {

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string run(const std::string& cmd) { return cwtest::run_command(cmd); }

struct ReportCounts {
  std::int64_t events = -1, rejected = -1, duplicates = -1;
};

ReportCounts report(const std::string& format, const std::filesystem::path& file) {
  const std::string json = run(std::string(CALLWATCH_BIN_DIR) + "/callwatchd report --format " + format +
                               " --json " + file.string());
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  ReportCounts c;
  if (parser.parse(json).get(root) != simdjson::SUCCESS) return c;
  c.events = int64_t(root["data_quality"]["events"]);
  c.rejected = int64_t(root["data_quality"]["rejected"]);
  // The pinned JSON shape has no duplicates key: the report says the number in a warning.
  for (simdjson::dom::element w : root["data_quality"]["warnings"].get_array()) {
    const std::string_view text = w.get_string();
    const auto at = text.find(" duplicate line(s) dropped");
    if (at != std::string_view::npos && at + 26 == text.size()) c.duplicates = std::stoll(std::string(text.substr(0, at)));
  }
  if (c.duplicates < 0) c.duplicates = 0;
  return c;
}

// A one-connection AMI server on an ephemeral loopback port: banner, waits for the login block,
// answers it, then sends `events` and keeps the connection open until stopped. `sent` holds every
// byte the server wrote: the capture `callwatchd report --format ami` reads.
class FakeAmi {
 public:
  explicit FakeAmi(std::string events) : events_(std::move(events)) {
    lfd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(lfd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(lfd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(lfd_, 1) == 0);
    socklen_t len = sizeof a;
    ::getsockname(lfd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeAmi() {
    stop_ = true;
    ::shutdown(lfd_, SHUT_RDWR);
    ::close(lfd_);
    thread_.join();
  }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string sent;  // read after done()
  bool done() const { return done_; }

 private:
  void put(int fd, const std::string& s) {
    ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    sent += s;
  }
  void serve() {
    const int fd = ::accept(lfd_, nullptr, nullptr);
    if (fd < 0) return;
    put(fd, "Asterisk Call Manager/2.10.5\r\n");
    std::string got;
    char c;
    while (got.find("\r\n\r\n") == std::string::npos && ::recv(fd, &c, 1, 0) == 1) got.push_back(c);
    put(fd, "Response: Success\r\nActionID: cw-login-1\r\nMessage: Authentication accepted\r\n\r\n");
    // Written in small pieces, as a TCP stream may cut it anywhere.
    for (std::size_t i = 0; i < events_.size(); i += 97) put(fd, events_.substr(i, 97));
    done_ = true;
    timeval tv{0, 50000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[4096];
    while (!stop_) {
      if (::recv(fd, buf, sizeof buf, 0) == 0) break;
    }
    ::close(fd);
  }
  std::string events_;
  int lfd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace

TEST_CASE("every feed counts accepted, rejected and duplicate messages as the report does",
          "[integration][feed][dedupe]") {
  // Times a minute back, all in today (the duplicate rule is per day of the event's time).
  const long t = static_cast<long>(std::floor(wall_now())) - 60;

  // ---- native: 20 lines ------------------------------------------------------------------------
  // 15 distinct valid events (5 agent states, 5 enqueues, 5 abandons), 3 exact copies of earlier
  // lines, 2 malformed (not JSON; an enqueue without its queue):
  //   events 15, rejected{not_json} 1 + rejected{missing_field} 1, duplicates 3.
  std::vector<std::string> native;
  for (int i = 1; i <= 5; ++i)
    native.push_back(fmt::format(R"({{"type":"agent_state","ts":{},"agent":"n{}","state":"available","queues":["nq"]}})", t, i));
  for (int i = 1; i <= 5; ++i)
    native.push_back(fmt::format(R"({{"type":"call_enqueued","ts":{},"call":"nc{}","queue":"nq"}})", t + i, i));
  for (int i = 1; i <= 5; ++i)
    native.push_back(fmt::format(R"({{"type":"call_abandoned","ts":{},"call":"nc{}","queue":"nq"}})", t + 10 + i, i));
  native.insert(native.begin() + 7, native[0]);   // copy of line 1
  native.insert(native.begin() + 12, native[6]);  // copy of the 2nd enqueue
  native.push_back(native[12]);                   // copy of that copy: a third duplicate
  native.insert(native.begin() + 3, "this is not json");
  native.insert(native.begin() + 9, fmt::format(R"({{"type":"call_enqueued","ts":{},"call":"nc9"}})", t));
  REQUIRE(native.size() == 20);

  // ---- queue_log: 13 lines ---------------------------------------------------------------------
  // 8 distinct valid lines, 2 exact copies (of lines 2 and 5), 2 malformed (4 fields:
  // too_few_fields; epoch "abc": bad_epoch) and 1 blank line (not a record):
  //   events 8, rejected 2, duplicates 2.
  const std::vector<std::string> qlog = {
      fmt::format("{}|q1|support|NONE|ENTERQUEUE||100|1", t),
      fmt::format("{}|q2|support|NONE|ENTERQUEUE||101|1", t + 1),
      fmt::format("{}|q3|support|NONE|ENTERQUEUE||102|1", t + 2),
      fmt::format("{}|q1|support|Agent/1|CONNECT|5|q1.9|2", t + 5),
      fmt::format("{}|q2|support|NONE|ABANDON|1|1|5", t + 6),
      fmt::format("{}|q2|support|NONE|ENTERQUEUE||101|1", t + 1),  // copy of line 2
      "garbage|with|four",
      fmt::format("{}|q3|support|NONE|EXITWITHTIMEOUT|1|1|6", t + 8),
      "",
      fmt::format("{}|NONE|support|Agent/2|PAUSE|lunch", t + 9),
      fmt::format("abc|q4|support|NONE|ENTERQUEUE||103|1"),
      fmt::format("{}|q2|support|NONE|ABANDON|1|1|5", t + 6),  // copy of line 5
      fmt::format("{}|q1|support|Agent/1|COMPLETECALLER|5|40|1", t + 45),
  };

  // ---- AMI: 9 event blocks (all with Timestamp, as with timestampevents = yes) ------------------
  // 5 distinct valid blocks (2 joins, a connect, a Newchannel that carries nothing for queues, a
  // complete), 2 exact copies (the first join, the Newchannel), 2 malformed (AgentRingNoAnswer
  // without RingTime: missing_number; QueueMemberPause with Paused "x": bad_value):
  //   events 5, rejected{missing_number} 1 + rejected{bad_value} 1, duplicates 2,
  //   ignored{not_queue_event} 1. The banner and the login Response are not input messages.
  auto block = [](std::vector<std::pair<std::string, std::string>> h) {
    std::string s;
    for (const auto& [k, v] : h) s += k + ": " + v + "\r\n";
    return s + "\r\n";
  };
  auto ts = [&](int d) { return fmt::format("{}.000100", t + d); };
  const std::string join1 = block({{"Event", "QueueCallerJoin"}, {"Timestamp", ts(0)}, {"Queue", "sales"},
                                   {"Uniqueid", "1700000000.1"}, {"CallerIDNum", "100"}, {"Position", "1"}});
  const std::string join2 = block({{"Event", "QueueCallerJoin"}, {"Timestamp", ts(1)}, {"Queue", "sales"},
                                   {"Uniqueid", "1700000000.2"}, {"CallerIDNum", "101"}, {"Position", "2"}});
  const std::string chan = block({{"Event", "Newchannel"}, {"Timestamp", ts(2)}, {"Channel", "SIP/x-1"},
                                  {"Uniqueid", "1700000000.3"}});
  const std::string connect = block({{"Event", "AgentConnect"}, {"Timestamp", ts(4)}, {"Queue", "sales"},
                                     {"Uniqueid", "1700000000.1"}, {"MemberName", "Alice"},
                                     {"Interface", "SIP/alice"}, {"HoldTime", "4"}, {"RingTime", "1"}});
  const std::string noring = block({{"Event", "AgentRingNoAnswer"}, {"Timestamp", ts(5)}, {"Queue", "sales"},
                                    {"Uniqueid", "1700000000.2"}, {"MemberName", "Bob"}, {"Interface", "SIP/bob"}});
  const std::string pause = block({{"Event", "QueueMemberPause"}, {"Timestamp", ts(6)}, {"Queue", "sales"},
                                   {"MemberName", "Bob"}, {"Interface", "SIP/bob"}, {"Paused", "x"}});
  const std::string complete = block({{"Event", "AgentComplete"}, {"Timestamp", ts(34)}, {"Queue", "sales"},
                                      {"Uniqueid", "1700000000.1"}, {"MemberName", "Alice"},
                                      {"Interface", "SIP/alice"}, {"HoldTime", "4"}, {"TalkTime", "30"},
                                      {"Reason", "caller"}});
  const std::string ami_events = join1 + join2 + join1 + chan + noring + connect + chan + pause + complete;

  FakeAmi ami(ami_events);
  char tmpl[] = "/tmp/callwatch-counted-XXXXXX";
  REQUIRE(::mkdtemp(tmpl) != nullptr);
  const std::filesystem::path dir = tmpl;
  struct Cleanup {
    std::filesystem::path p;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(p, ec);
    }
  } cleanup{dir};
  const auto qlog_path = dir / "queue_log";
  std::ofstream(qlog_path).close();  // exists and empty: the tail follows it from offset 0
  const auto cred = dir / "ami.cred";
  std::ofstream(cred) << "username = callwatch\nsecret = s3cr3t\n";
  std::filesystem::permissions(cred, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  const std::string extra = fmt::format(
      "[[feed]]\nname = \"qlog\"\ntype = \"queue_log\"\npath = \"{}\"\n\n"
      "[[feed]]\nname = \"pbx\"\ntype = \"ami\"\naddress = \"{}\"\ncredentials_file = \"{}\"\n",
      qlog_path.string(), ami.address(), cred.string());
  Daemon live({}, extra);

  zmq::context_t ctx;
  zmq::socket_t push(ctx, zmq::socket_type::push);
  push.set(zmq::sockopt::linger, 2000);
  push.connect(live.feed_endpoint);
  for (const auto& l : native) push.send(zmq::buffer(l), zmq::send_flags::none);
  {
    std::ofstream out(qlog_path, std::ios::app);
    for (const auto& l : qlog) out << l << '\n';
  }

  std::string body;
  auto value = [&](const std::string& series) { return cwtest::sample(body, series).value_or(-1); };
  const bool settled = cwtest::wait_for(
      [&] {
        body = live.scrape();
        return value("callwatch_feed_events_total{feed=\"native\"}") == 15 &&
               value("callwatch_feed_events_total{feed=\"qlog\"}") == 8 &&
               value("callwatch_feed_events_total{feed=\"pbx\"}") == 5 && ami.done();
      },
      20s);
  INFO(live.log());
  INFO(body);
  REQUIRE(settled);
  std::this_thread::sleep_for(500ms);  // anything counted twice would show now
  body = live.scrape();

  // Live, by hand (see each input above).
  CHECK(value("callwatch_feed_events_total{feed=\"native\"}") == 15);
  CHECK(value("callwatch_feed_events_rejected_total{feed=\"native\",reason=\"not_json\"}") == 1);
  CHECK(value("callwatch_feed_events_rejected_total{feed=\"native\",reason=\"missing_field\"}") == 1);
  CHECK(value("callwatch_feed_events_ignored_total{feed=\"native\",result=\"duplicate_message\"}") == 3);

  CHECK(value("callwatch_feed_events_total{feed=\"qlog\"}") == 8);
  CHECK(value("callwatch_feed_events_rejected_total{feed=\"qlog\",reason=\"too_few_fields\"}") == 1);
  CHECK(value("callwatch_feed_events_rejected_total{feed=\"qlog\",reason=\"bad_epoch\"}") == 1);
  CHECK(value("callwatch_feed_events_ignored_total{feed=\"qlog\",result=\"duplicate_message\"}") == 2);

  CHECK(value("callwatch_feed_events_total{feed=\"pbx\"}") == 5);
  CHECK(value("callwatch_feed_events_rejected_total{feed=\"pbx\",reason=\"missing_number\"}") == 1);
  CHECK(value("callwatch_feed_events_rejected_total{feed=\"pbx\",reason=\"bad_value\"}") == 1);
  CHECK(value("callwatch_feed_events_rejected_total{feed=\"pbx\",reason=\"not_json\"}") == -1);  // not AMI's
  CHECK(value("callwatch_feed_events_ignored_total{feed=\"pbx\",result=\"duplicate_message\"}") == 2);
  CHECK(value("callwatch_feed_events_ignored_total{feed=\"pbx\",result=\"not_queue_event\"}") == 1);

  // The engine's data quality holds every feed's duplicates: 3 + 2 + 2.
  CHECK(value("callwatch_engine_data_quality_total{kind=\"duplicate\"}") == 7);
  // The AMI feed's figures: Alice answered 1700000000.1 after 4 s; .2 still waits.
  CHECK(value("callwatch_queue_calls_answered_total{queue=\"sales\"}") == 1);
  CHECK(value("callwatch_queue_calls_waiting{queue=\"sales\"}") == 1);
  // queue_log: q2 abandoned once although its ABANDON line came twice.
  CHECK(value("callwatch_queue_calls_abandoned_total{queue=\"support\"}") == 1);
  CHECK(value("callwatch_queue_calls_abandoned_total{queue=\"nq\"}") == 5);

  // The report on the same inputs: the same counts.
  const auto native_file = dir / "native.jsonl";
  {
    std::ofstream out(native_file);
    for (const auto& l : native) out << l << '\n';
  }
  const auto ami_file = dir / "capture.ami";
  std::ofstream(ami_file, std::ios::binary) << ami.sent;

  const ReportCounts rn = report("native", native_file);
  CHECK(rn.events == 15);
  CHECK(rn.rejected == 2);
  CHECK(rn.duplicates == 3);
  const ReportCounts rq = report("queue_log", qlog_path);
  CHECK(rq.events == 8);
  CHECK(rq.rejected == 2);
  CHECK(rq.duplicates == 2);
  const ReportCounts ra = report("ami", ami_file);
  CHECK(ra.events == 5);
  CHECK(ra.rejected == 2);
  CHECK(ra.duplicates == 2);
  // And equal to the live counters, feed by feed.
  CHECK(rn.events == value("callwatch_feed_events_total{feed=\"native\"}"));
  CHECK(rq.events == value("callwatch_feed_events_total{feed=\"qlog\"}"));
  CHECK(ra.events == value("callwatch_feed_events_total{feed=\"pbx\"}"));
}
