// The limits of the listeners ([metrics] for HTTP, [publisher] for the wallboard sockets), and the
// example config an operator copies as it is: every listener on 127.0.0.1. Test texts end their
// lines with "# N", the line number.
#include <catch2/catch.hpp>
#include <string>

#include "callwatch/config/config.hpp"
#include "config_test_util.hpp"

using namespace callwatch;
using cwtest::errors_of;
using cwtest::parse_ok;

namespace {

// "tcp://127.0.0.1:7702" -> "127.0.0.1"; "127.0.0.1:9747" -> "127.0.0.1".
std::string host_of(const std::string& endpoint) {
  std::string rest = endpoint;
  if (const auto scheme = rest.find("://"); scheme != std::string::npos)
    rest = rest.substr(scheme + 3);
  return rest.substr(0, rest.rfind(':'));
}

}  // namespace

TEST_CASE("the listeners' limits are read as written", "[config][limits]") {
  const auto cfg = parse_ok(R"([metrics]                # 1
threads = 2                                    # 2
max_connections = 100                          # 3
idle_timeout_seconds = 3                       # 4
max_unsent_bytes = 2_097_152                   # 5
auth_failure_delay_seconds = 0.25              # 6
[publisher]                                    # 7
max_queued_reply_bytes = 8_388_608             # 8
)");
  CHECK(cfg.metrics_http.threads == 2);
  CHECK(cfg.metrics_http.max_connections == 100);
  CHECK(cfg.metrics_http.idle_timeout_seconds == 3);
  CHECK(cfg.metrics_http.max_unsent_bytes == 2097152);
  CHECK(cfg.metrics_http.auth_failure_delay_seconds == 0.25);
  CHECK(cfg.publisher.max_queued_reply_bytes == 8388608);
}

TEST_CASE("without the keys: 4 threads, 512 connections, 10 s idle, 256 MiB, 1 s",
          "[config][limits]") {
  const auto cfg = parse_ok("");
  CHECK(cfg.metrics_http.threads == 4);
  CHECK(cfg.metrics_http.max_connections == 512);
  CHECK(cfg.metrics_http.idle_timeout_seconds == 10);
  CHECK(cfg.metrics_http.max_unsent_bytes == 268435456);  // 256 x 1,048,576
  CHECK(cfg.metrics_http.auth_failure_delay_seconds == 1.0);
  CHECK(cfg.publisher.max_queued_reply_bytes == 268435456);
}

TEST_CASE("listener limits out of range are errors on their line", "[config][limits]") {
  const auto errs = errors_of(R"([metrics]          # 1
threads = 0                              # 2
max_connections = 60001                  # 3
idle_timeout_seconds = 0                 # 4
max_unsent_bytes = 1048575               # 5
auth_failure_delay_seconds = 11          # 6
[publisher]                              # 7
max_queued_reply_bytes = 1000            # 8
)");
  REQUIRE(errs.size() == 6);
  CHECK(errs[0].line == 2);
  CHECK(errs[0].message == "[metrics]: threads = 0 is out of range: 1 to 64 threads");
  CHECK(errs[1].line == 3);
  CHECK(errs[1].message ==
        "[metrics]: max_connections = 60001 is out of range: 1 to 60000 connections");
  CHECK(errs[2].line == 4);
  CHECK(errs[3].line == 5);
  CHECK(errs[3].message ==
        "[metrics]: max_unsent_bytes = 1048575 is out of range: 1048576 to 1099511627776 bytes");
  CHECK(errs[4].line == 6);
  CHECK(errs[5].line == 8);
  CHECK(errs[5].message.find("[publisher]: max_queued_reply_bytes = 1000 is out of range") == 0);
}

TEST_CASE("a limit written at the top level says where it belongs", "[config][limits]") {
  const auto errs = errors_of("max_connections = 5  # 1\nmax_queued_reply_bytes = 5  # 2\n");
  REQUIRE(errs.size() == 2);
  CHECK(errs[0].message == "unknown top-level key 'max_connections': it belongs under [metrics]");
  CHECK(errs[1].message ==
        "unknown top-level key 'max_queued_reply_bytes': it belongs under [publisher]");
}

TEST_CASE("the example config listens on 127.0.0.1 only, as copied", "[config][security]") {
  auto r = config::load_config_file(CALLWATCH_SOURCE_DIR "/config/callwatch.toml");
  REQUIRE(r.has_value());
  CHECK(host_of(r->listen.feed) == "127.0.0.1");
  CHECK(host_of(r->listen.publish) == "127.0.0.1");
  CHECK(host_of(r->listen.control) == "127.0.0.1");
  CHECK(host_of(r->listen.metrics) == "127.0.0.1");
  for (const auto& f : r->feeds) {
    INFO(f.name);
    if (f.type == config::FeedType::native) CHECK(host_of(f.address) == "127.0.0.1");
  }
  // The example writes the built-in defaults of the limits, so copying it changes nothing.
  const auto defaults = config::default_config();
  CHECK(r->metrics_http.max_connections == defaults.metrics_http.max_connections);
  CHECK(r->metrics_http.idle_timeout_seconds == defaults.metrics_http.idle_timeout_seconds);
  CHECK(r->metrics_http.max_unsent_bytes == defaults.metrics_http.max_unsent_bytes);
  CHECK(r->publisher.max_queued_reply_bytes == defaults.publisher.max_queued_reply_bytes);
}
