// Hostile and broken input against a real callwatchd (issue 13), loopback only, bounded in time
// and count: invalid JSON in fields the event does not use, on the native feed and the control
// socket. Every number asserted is worked out by hand in the comments.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <zmq.hpp>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "store_test_util.hpp"

using namespace cwtest;
namespace wire = callwatch::metrics::wire;

namespace {

std::string num(double t) { return std::to_string(t); }

std::string enqueue(double t, const std::string& call, const std::string& extra = {}) {
  return R"({"type":"call_enqueued","ts":)" + num(t) + R"(,"call":")" + call + R"(","queue":"sales")" +
         extra + "}";
}

const std::string kWaiting = "callwatch_queue_calls_waiting{queue=\"sales\"}";
const std::string kAccepted = "callwatch_feed_events_total{feed=\"native\"}";

std::string rejected(const std::string& reason) {
  return "callwatch_feed_events_rejected_total{feed=\"native\",reason=\"" + reason + "\"}";
}

}  // namespace

TEST_CASE("messages that are not JSON in a field the event does not read are rejected as not_json",
          "[integration][hostile][json]") {
  Site site;
  zmq::context_t ctx(1);
  site.start();
  const double now = wall_now();
  // The probe of issue 13: each an otherwise valid call_enqueued with one broken value.
  const std::vector<std::string> broken = {
      R"(,"junk":tru)", R"(,"junk":[1,,2])", R"(,"junk":nul)", R"(,"junk":01)", R"(,"junk":"\q")",
      R"(,"junk":{"a" 1})", R"(,"junk":)" + std::string(20000, '[') + std::string(20000, ']'),
      R"(,"caller":nul)", R"(,"priority":01)"};
  std::vector<std::string> lines = {enqueue(now - 10, "ok-1")};
  for (std::size_t i = 0; i < broken.size(); ++i) lines.push_back(enqueue(now - 9, "bad-" + std::to_string(i), broken[i]));
  // Valid JSON in an unknown field still counts (forward compatible).
  lines.push_back(enqueue(now - 8, "ok-2", R"(,"future":{"a":[1,2.5e3,null,true,"\u00e9"]})"));
  send_lines(ctx, site.feed_endpoint(), lines);

  // By hand: 2 accepted (ok-1, ok-2), 9 rejected as not_json, 2 callers waiting, none of bad-*.
  REQUIRE(wait_for([&] { return site.value(kAccepted) == 2 && site.value(rejected("not_json")) == 9; }, 10s));
  const std::string body = site.scrape();
  CHECK(sample(body, kWaiting) == 2.0);
  CHECK(sample(body, rejected("bad_value")) == 0.0);
  CHECK(sample(body, "callwatch_queue_calls_offered_total{queue=\"sales\"}") == 0.0);
  CHECK(site.log().find("rejected message (not_json)") != std::string::npos);
}

TEST_CASE("a control request that is not JSON in a field it does not need gets an error, not a snapshot",
          "[integration][hostile][json]") {
  Site site;
  zmq::context_t ctx(1);
  site.start();
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  dealer.set(zmq::sockopt::rcvtimeo, 5000);
  dealer.connect(site.control_endpoint());
  auto ask = [&](const std::string& req) {
    REQUIRE(dealer.send(zmq::buffer(req), zmq::send_flags::none));
    zmq::message_t reply;
    REQUIRE(dealer.recv(reply));
    auto msg = wire::decode(reply.to_string_view());
    REQUIRE(msg.has_value());
    return msg->type;
  };
  std::string bad = wire::encode_request("snapshot");
  REQUIRE(bad.back() == '}');
  bad.insert(bad.size() - 1, R"(,"junk":tru)");
  CHECK(ask(bad) == wire::MessageType::error);
  CHECK(ask(wire::encode_request("snapshot")) == wire::MessageType::snapshot);
}

TEST_CASE("a burst of rejects is summarised to the last message, also when nothing follows it",
          "[integration][hostile][logging]") {
  Site site;
  site.write_config("[general]\nlog_rate_limit = 5\n", /*with_storage=*/false);
  zmq::context_t ctx(1);
  site.start();
  // 300 messages that are not JSON, sent at once, then silence: the daemon logs 5 a second and
  // must say how many it did not log, for the last second of the burst too (a timer, not the next
  // reject, ends the window).
  send_lines(ctx, site.feed_endpoint(), std::vector<std::string>(300, "not json"));
  REQUIRE(wait_for([&] { return site.value(rejected("not_json")) == 300; }, 10s));
  // By hand: lines logged one by one + the counts of the summaries = 300, within 1 s + one tick.
  auto accounted = [&] {
    const std::string log = site.log();
    std::size_t logged = 0;
    for (std::size_t at = 0; (at = log.find("rejected message (not_json)", at)) != std::string::npos; ++at) ++logged;
    std::size_t summarised = 0;
    std::istringstream in(log);
    for (std::string l; std::getline(in, l);) {
      const auto at = l.find(" more rejected messages in the last second");
      if (at == std::string::npos) continue;
      const auto start = l.find_last_of(' ', at - 1) + 1;
      summarised += std::stoul(l.substr(start, at - start));
    }
    return logged + summarised;
  };
  CHECK(wait_for([&] { return accounted() == 300; }, 3s));
  INFO(site.log());
  CHECK(accounted() == 300);
}

TEST_CASE("the agent-limit log line is not hidden by the queue-limit line of the same minute",
          "[integration][hostile][limits]") {
  Site site("[engine]\nmax_queues = 1\nmax_agents = 1\n");
  zmq::context_t ctx(1);
  site.start();
  const double now = wall_now();
  auto state = [&](const std::string& agent) {
    return R"({"type":"agent_state","ts":)" + num(now - 5) + R"(,"agent":")" + agent +
           R"(","state":"available","queues":["sales"]})";
  };
  // sales and ann fit the caps; the queue "other" and the agent "bob" are one too many each.
  send_lines(ctx, site.feed_endpoint(),
             {enqueue(now - 6, "c1"),
              R"({"type":"call_enqueued","ts":)" + num(now - 6) + R"(,"call":"c2","queue":"other"})",
              state("ann"), state("bob")});
  const std::string ignored = "callwatch_feed_events_ignored_total{feed=\"native\",result=\"";
  REQUIRE(wait_for([&] { return site.value(ignored + "agent_limit\"}") == 1; }, 10s));
  CHECK(site.value(ignored + "queue_limit\"}") == 1);
  const std::string log = site.log();
  CHECK(log.find("max_queues cap") != std::string::npos);
  CHECK(log.find("max_agents cap") != std::string::npos);
}

TEST_CASE("times out of a week behind or two days ahead are rejected on every live feed, and counted",
          "[integration][hostile][time]") {
  Site site;
  const auto qlog = site.dir / "queue_log";
  std::ofstream(qlog).close();
  site.write_config("[[feed]]\nname = \"qlog\"\ntype = \"queue_log\"\npath = \"" + qlog.string() + "\"\n");
  zmq::context_t ctx(1);
  site.start();
  const double now = wall_now();
  auto answer = [&](double t, const std::string& call, const std::string& extra = {}) {
    return R"({"type":"call_answered","ts":)" + num(t) + R"(,"call":")" + call +
           R"(","queue":"sales","agent":"ann")" + extra + "}";
  };
  // Native: ts 1.0 (the probe's 1.8e9 s wait), 1e300 (never cut), 8 days back, 3 days ahead, and
  // an answer stating a wait of 1e300: 5 rejected as bad_value. ok-1 enters and is answered 4 s
  // later: 2 accepted.
  send_lines(ctx, site.feed_endpoint(),
             {enqueue(1.0, "old"), enqueue(1e300, "future"), enqueue(now - 8 * 86400, "week"),
              enqueue(now + 3 * 86400, "ahead"), enqueue(now - 10, "ok-1"),
              answer(now - 6, "ok-1", R"(,"wait_seconds":1e300)"), answer(now - 6, "ok-1")});
  // queue_log, a real file the daemon follows: epoch 1 (bad_epoch), a hold time of 31,700 years
  // (bad_number); q-1 enters and is answered after 7 s: 2 accepted lines.
  {
    std::ofstream out(qlog, std::ios::app);
    const long t = static_cast<long>(now);
    out << "1|q-0|support|NONE|ENTERQUEUE||555|1\n"
        << t - 20 << "|q-1|support|NONE|ENTERQUEUE||556|1\n"
        << t - 13 << "|q-1|support|Agent/1|CONNECT|999999999999|1.2|3\n"
        << t - 13 << "|q-1|support|Agent/1|CONNECT|7|1.2|3\n";
  }
  const std::string qrej = "callwatch_feed_events_rejected_total{feed=\"qlog\",reason=\"";
  REQUIRE(wait_for([&] {
    return site.value(rejected("bad_value")) == 5 && site.value(qrej + "bad_number\"}") == 1;
  }, 10s));
  const std::string body = site.scrape();
  CHECK(sample(body, kAccepted) == 2.0);
  CHECK(sample(body, qrej + "bad_epoch\"}") == 1.0);
  CHECK(sample(body, "callwatch_feed_events_total{feed=\"qlog\"}") == 2.0);
  // Nobody waits: no caller of 1970 or of the year 1e300 on the board, no absurd longest wait.
  CHECK(sample(body, kWaiting) == 0.0);
  CHECK(sample(body, "callwatch_queue_calls_waiting{queue=\"support\"}") == 0.0);
  CHECK(sample(body, "callwatch_queue_longest_wait_seconds{queue=\"sales\"}").value_or(0) < 60);
  CHECK(sample(body, "callwatch_queue_calls_answered_total{queue=\"sales\"}") == 1.0);
  CHECK(sample(body, "callwatch_queue_calls_answered_total{queue=\"support\"}") == 1.0);
  CHECK(sample(body, "callwatch_queue_answer_wait_seconds_sum{queue=\"sales\"}") == Approx(4.0).margin(0.01));
  CHECK(sample(body, "callwatch_queue_answer_wait_seconds_sum{queue=\"support\"}") == Approx(7.0));
  const std::string log = site.log();
  CHECK(log.find("max_event_age_seconds") != std::string::npos);
  CHECK(log.find("max_event_ahead_seconds") != std::string::npos);
}
