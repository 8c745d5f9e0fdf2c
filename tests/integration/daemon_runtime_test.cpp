// The real callwatchd on free ports: events pushed over a real ZeroMQ socket, /metrics scraped over
// real HTTP and checked by promtool and against numbers worked out by hand; bad input; signals.
#include <chrono>
#include <string>

#include <catch2/catch.hpp>
#include <zmq.hpp>

#include "daemon_process.hpp"

using cwtest::Daemon;
using cwtest::sample;
using cwtest::wait_for;
using namespace std::chrono_literals;

namespace {

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", v);
  return buf;
}

struct Pusher {
  zmq::context_t ctx{1};
  zmq::socket_t push{ctx, zmq::socket_type::push};
  explicit Pusher(const std::string& endpoint) {
    push.set(zmq::sockopt::linger, 5000);
    push.set(zmq::sockopt::sndhwm, 200000);
    push.connect(endpoint);
  }
  void send(const std::string& msg) { push.send(zmq::buffer(msg), zmq::send_flags::none); }
};

// Scrapes until `series` has `value` (the daemon publishes at most every 50 ms).
bool wait_value(const Daemon& d, const std::string& series, double value, std::chrono::milliseconds t = 10s) {
  return wait_for(
      [&] {
        const auto v = sample(d.scrape(), series);
        return v && *v == value;
      },
      t);
}

const std::string kRejected = "callwatch_feed_events_rejected_total{feed=\"native\",reason=";

}  // namespace

TEST_CASE("calls pushed to the native feed show in /metrics with hand-worked numbers", "[integration][daemon]") {
  Daemon d;
  Pusher p(d.feed_endpoint);
  // Three calls enter "support" 60, 50 and 40 s ago. c1 is answered after 10 s, c2 after 30 s,
  // c3 hangs up after 3 s (short abandon, S = 5 s). T = 20 s.
  //   offered = 2 answered + 1 abandoned = 3; short_abandoned = 1; A_T = 1 (only c1)
  //   SL offered (today) = A_T / (offered - short) = 1 / (3 - 1) = 0.5
  //   SL answered = A_T / answered = 1/2 = 0.5; abandons_ignored = 1 / (3 - 1) = 0.5
  //   answer wait histogram: le=10 -> 1, le=20 -> 1, le=30 -> 2, sum 40, count 2
  const double t0 = wall_now() - 60;
  auto ev = [&](const std::string& type, double ts, const std::string& rest) {
    p.send("{\"type\":\"" + type + "\",\"ts\":" + num(ts) + "," + rest + "}");
  };
  ev("call_enqueued", t0, R"("call":"c1","queue":"support")");
  ev("call_enqueued", t0 + 10, R"("call":"c2","queue":"support")");
  ev("call_enqueued", t0 + 20, R"("call":"c3","queue":"support")");
  ev("call_answered", t0 + 10, R"("call":"c1","queue":"support","agent":"a1")");
  ev("call_answered", t0 + 40, R"("call":"c2","queue":"support","agent":"a2")");
  ev("call_abandoned", t0 + 23, R"("call":"c3","queue":"support")");
  // A CJK queue with one caller still waiting, and an agent available in it.
  ev("call_enqueued", t0 + 50, R"("call":"c4","queue":"客服")");
  ev("agent_state", t0 + 1, R"("agent":"李雷","state":"available","queues":["客服"])");

  REQUIRE(wait_value(d, "callwatch_feed_events_total{feed=\"native\"}", 8));
  REQUIRE(wait_value(d, "callwatch_queue_calls_offered_total{queue=\"support\"}", 3));
  const std::string body = d.scrape();
  CHECK(cwtest::promtool_check(body, d.dir) == 0);
  const std::string q = "{queue=\"support\"}";
  CHECK(sample(body, "callwatch_queue_calls_answered_total" + q) == 2.0);
  CHECK(sample(body, "callwatch_queue_calls_abandoned_total" + q) == 1.0);
  CHECK(sample(body, "callwatch_queue_calls_short_abandoned_total" + q) == 1.0);
  CHECK(sample(body, "callwatch_queue_calls_timed_out_total" + q) == 0.0);
  CHECK(sample(body, "callwatch_queue_calls_waiting" + q) == 0.0);
  const std::string sl = "callwatch_queue_service_level_ratio{queue=\"support\",window=\"today\",formula=";
  CHECK(sample(body, sl + "\"offered\"}") == 0.5);
  CHECK(sample(body, sl + "\"answered\"}") == 0.5);
  CHECK(sample(body, sl + "\"abandons_ignored\"}") == 0.5);
  const std::string h = "callwatch_queue_answer_wait_seconds";
  CHECK(sample(body, h + "_bucket{queue=\"support\",le=\"10\"}") == 1.0);
  CHECK(sample(body, h + "_bucket{queue=\"support\",le=\"20\"}") == 1.0);
  CHECK(sample(body, h + "_bucket{queue=\"support\",le=\"30\"}") == 2.0);
  CHECK(sample(body, h + "_bucket{queue=\"support\",le=\"+Inf\"}") == 2.0);
  CHECK(sample(body, h + "_sum" + q) == 40.0);
  CHECK(sample(body, h + "_count" + q) == 2.0);
  CHECK(sample(body, "callwatch_queue_abandon_wait_seconds_bucket{queue=\"support\",le=\"5\"}") == 1.0);

  // 客服: nothing offered yet, so no service level at all (absent, never 0); one caller waits
  // since t0 + 50, i.e. about 10 s.
  CHECK(sample(body, "callwatch_queue_calls_waiting{queue=\"客服\"}") == 1.0);
  CHECK_FALSE(sample(body, "callwatch_queue_service_level_ratio{queue=\"客服\",window=\"today\",formula=\"offered\"}"));
  const auto longest = sample(body, "callwatch_queue_longest_wait_seconds{queue=\"客服\"}");
  REQUIRE(longest);
  CHECK(*longest >= 9.0);
  CHECK(*longest < 70.0);
  CHECK(sample(body, "callwatch_queue_agents{queue=\"客服\",state=\"available\"}") == 1.0);

  CHECK(sample(body, "callwatch_feed_up{feed=\"native\"}") == 1.0);
  const auto last = sample(body, "callwatch_feed_last_event_timestamp_seconds{feed=\"native\"}");
  REQUIRE(last);
  CHECK(std::abs(*last - wall_now()) < 30);
  CHECK(sample(body, kRejected + "\"not_json\"}") == 0.0);
  CHECK(sample(body, "callwatch_build_info{version=\"" CALLWATCH_VERSION "\"}") == 1.0);
}

TEST_CASE("bad messages are counted by reason and valid events around them all count",
          "[integration][daemon][bad-input]") {
  Daemon d;
  Pusher p(d.feed_endpoint);
  const std::string ts = num(wall_now());
  auto valid = [&](int i) {
    return R"({"type":"call_enqueued","ts":)" + ts + R"(,"call":"ok)" + std::to_string(i) + R"(","queue":"q"})";
  };
  p.send(valid(0));
  p.send("this is not json");                                                    // not_json
  p.send("[1,2,3]");                                                             // not_object
  p.send(R"({"type":"call_enqueued","ts":)" + ts + R"(,"queue":"q"})");          // missing_field
  p.send(R"({"type":"call_vanished","ts":)" + ts + R"(,"call":"x"})");           // unknown_type
  p.send(R"({"type":"call_enqueued","ts":")" + ts + R"(","call":"x","queue":"q"})");  // wrong_type
  p.send(R"({"type":"call_enqueued","ts":-1,"call":"x","queue":"q"})");         // bad_value
  p.send(R"({"type":"call_enqueued","ts":)" + ts + R"(,"call":"x","queue":"q","caller":")" +
         std::string(1 << 20, 'x') + "\"}");                                     // too_large (1 MB)
  p.send(R"({"type":"call_enqueued","ts":)" + ts + R"(,"call":"x","queue":")" + std::string(300, 'q') +
         "\"}");                                                                 // name_too_long
  p.send("{\"type\":\"call_enqueued\",\"ts\":" + ts + ",\"call\":\"\xff\xfe\",\"queue\":\"q\"}");  // invalid_utf8
  // A flood: 100,000 more messages that are not JSON.
  for (int i = 0; i < 100000; ++i) p.send("{\"type\":");
  // 50 valid events after all of it.
  for (int i = 1; i <= 50; ++i) p.send(valid(i));

  // 1 + 50 accepted; not_json = 1 + 100,000.
  REQUIRE(wait_value(d, "callwatch_feed_events_total{feed=\"native\"}", 51, 60s));
  const std::string body = d.scrape();
  CHECK(cwtest::promtool_check(body, d.dir) == 0);
  CHECK(sample(body, kRejected + "\"not_json\"}") == 100001.0);
  CHECK(sample(body, kRejected + "\"not_object\"}") == 1.0);
  CHECK(sample(body, kRejected + "\"missing_field\"}") == 1.0);
  CHECK(sample(body, kRejected + "\"unknown_type\"}") == 1.0);
  CHECK(sample(body, kRejected + "\"wrong_type\"}") == 1.0);
  CHECK(sample(body, kRejected + "\"bad_value\"}") == 1.0);
  CHECK(sample(body, kRejected + "\"too_large\"}") == 1.0);
  CHECK(sample(body, kRejected + "\"name_too_long\"}") == 1.0);
  CHECK(sample(body, kRejected + "\"invalid_utf8\"}") == 1.0);
  // The 51 valid calls all wait in "q".
  CHECK(sample(body, "callwatch_queue_calls_waiting{queue=\"q\"}") == 51.0);
  CHECK(d.running());
  CHECK(cwtest::http_get(d.http_port, "/healthz").status == 200);
  // Rejects are logged rate-limited and cut: the log stays far smaller than the 1 MB message.
  const std::string log = d.log();
  CHECK(log.find("too_large") != std::string::npos);
  CHECK(log.size() < 200 * 1024);
}

TEST_CASE("/metrics is gzipped on request; / and /healthz answer; other methods do not",
          "[integration][daemon][http]") {
  Daemon d;
  const auto plain = cwtest::http_get(d.http_port, "/metrics");
  REQUIRE(plain.status == 200);
  CHECK(plain.has_header("Content-Type: text/plain; version=0.0.4"));
  CHECK_FALSE(plain.has_header("Content-Encoding: gzip"));

  const auto gz = cwtest::http_get(d.http_port, "/metrics", "Accept-Encoding: gzip, deflate\r\n");
  REQUIRE(gz.status == 200);
  CHECK(gz.has_header("Content-Encoding: gzip"));
  const std::string body = cwtest::gunzip(gz.body);
  CHECK(body.rfind("# HELP ", 0) == 0);
  CHECK(cwtest::promtool_check(body, d.dir) == 0);
  // q=0 refuses gzip.
  CHECK_FALSE(cwtest::http_get(d.http_port, "/metrics", "Accept-Encoding: gzip;q=0\r\n").has_header("Content-Encoding: gzip"));

  const auto index = cwtest::http_get(d.http_port, "/");
  CHECK(index.status == 200);
  CHECK(index.body.find("href=\"/metrics\"") != std::string::npos);
  const auto health = cwtest::http_get(d.http_port, "/healthz");
  CHECK(health.status == 200);
  CHECK(health.body == "ok\n");
  CHECK(cwtest::http_request(d.http_port, "POST", "/metrics").status == 405);
  CHECK(cwtest::http_get(d.http_port, "/nothing-here").status == 404);
}

TEST_CASE("SIGTERM and SIGINT stop the daemon quickly with exit status 0", "[integration][daemon][signals]") {
  for (int sig : {SIGTERM, SIGINT}) {
    Daemon d({"--demo"});
    const auto start = std::chrono::steady_clock::now();
    ::kill(d.pid, sig);
    REQUIRE(d.wait_exit(5s));
    CHECK(std::chrono::steady_clock::now() - start < 3s);
    CHECK(WIFEXITED(d.status));
    CHECK(WEXITSTATUS(d.status) == 0);
  }
}

TEST_CASE("a taken /metrics address is a fatal error that names it", "[integration][daemon]") {
  // Hold a port, then ask the daemon to listen on it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  const std::string taken = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));

  Daemon d({"--web.listen-address=" + taken}, {}, /*wait_ready=*/false);
  REQUIRE(d.wait_exit(10s));
  ::close(fd);
  CHECK(WIFEXITED(d.status));
  CHECK(WEXITSTATUS(d.status) == 1);
  CHECK(d.log().find(taken) != std::string::npos);
}

TEST_CASE("a taken feed address is a fatal error that names it", "[integration][daemon]") {
  Daemon first;
  Daemon second({}, {}, /*wait_ready=*/false, true, /*use_feed_port=*/first.feed_port);
  REQUIRE(second.wait_exit(10s));
  CHECK(WIFEXITED(second.status));
  CHECK(WEXITSTATUS(second.status) == 1);
  CHECK(second.log().find(first.feed_endpoint) != std::string::npos);
  CHECK(first.running());
}

TEST_CASE("[listen] feed alone configures the native feed", "[integration][daemon][config]") {
  // No [[feed]] table: DESIGN.md says the native feed listens on [listen] feed.
  Daemon d({}, {}, true, /*explicit_feed=*/false);
  Pusher p(d.feed_endpoint);
  p.send(R"({"type":"call_enqueued","ts":)" + num(wall_now()) + R"(,"call":"c","queue":"q"})");
  CHECK(wait_value(d, "callwatch_feed_events_total{feed=\"native\"}", 1, 5s));
}

TEST_CASE("--demo runs the embedded simulator as the feed \"sim\"", "[integration][daemon][demo]") {
  Daemon d({"--demo"});
  REQUIRE(wait_for(
      [&] {
        const auto v = sample(d.scrape(), "callwatch_feed_events_total{feed=\"sim\"}");
        return v && *v > 0;
      },
      15s));
  const std::string body = d.scrape();
  CHECK(sample(body, "callwatch_feed_up{feed=\"sim\"}") == 1.0);
  CHECK(sample(body, kRejected + "\"not_json\"}") == 0.0);
  // The simulator hands events over without JSON: nothing rejected, no parser labels at all.
  CHECK(body.find("callwatch_feed_events_rejected_total{feed=\"sim\"") == std::string::npos);
  CHECK(cwtest::promtool_check(body, d.dir) == 0);
}

TEST_CASE("--web.listen-address overrides the config's metrics address", "[integration][daemon]") {
  const int port = cwtest::free_tcp_port();
  Daemon d({"--web.listen-address=127.0.0.1:" + std::to_string(port)}, {}, false);
  REQUIRE(wait_for([&] { return cwtest::http_get(port, "/healthz").status == 200; }, 15s));
  CHECK(cwtest::http_get(d.http_port, "/healthz").status == 0);  // the config's port stays closed
}
