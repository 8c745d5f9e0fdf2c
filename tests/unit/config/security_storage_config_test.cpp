// [storage], [security] and the access keys of [metrics]: what an operator writes is what the
// daemon runs on, and a setting that would leave a socket open or lock everyone out is an error
// on its line. Each test text ends its lines with "# N", the line number.
#include <catch2/catch.hpp>
#include <string>

#include "callwatch/config/config.hpp"
#include "config_test_util.hpp"

using namespace callwatch;
using cwtest::errors_of;
using cwtest::parse_ok;

namespace {

// A valid Z85 public key (40 characters of the Z85 alphabet).
constexpr const char* kKey = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7";

}  // namespace

TEST_CASE("storage and security settings are read as written", "[config][security]") {
  const auto cfg = parse_ok(R"([general]              # 1
storage_path = "/var/lib/callwatch/cw.db"  # 2
[storage]                                  # 3
checkpoint_seconds = 0.25                  # 4
gap_seconds = 10                           # 5
[security]                                 # 6
keys_dir = "/etc/callwatch/keys"           # 7
server_key = "server"                      # 8
[[security.client]]                        # 9
name = "floor-1"                           # 10
role = "kiosk"                             # 11
[[security.client]]                        # 12
name = "alice"                             # 13
role = "supervisor"                        # 14
public_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"  # 15
[[security.client]]                        # 16
name = "pbx"                               # 17
role = "feed"                              # 18
[metrics]                                  # 19
basic_auth_user = "prometheus"             # 20
basic_auth_password_file = "/etc/callwatch/metrics.pass"  # 21
agent_state_max_agents = 500               # 22
)");
  CHECK(cfg.storage_path == "/var/lib/callwatch/cw.db");
  CHECK(cfg.storage.checkpoint_seconds == 0.25);
  CHECK(cfg.storage.gap_seconds == 10);
  CHECK(cfg.security.curve());
  CHECK(cfg.security.keys_dir == "/etc/callwatch/keys");
  CHECK(cfg.security.server_key == "server");
  REQUIRE(cfg.security.clients.size() == 3);
  CHECK(cfg.security.clients[0].name == "floor-1");
  CHECK(cfg.security.clients[0].role == config::ClientRole::kiosk);
  CHECK(cfg.security.clients[0].public_key.empty());  // read from keys_dir/floor-1.pub
  CHECK(cfg.security.clients[0].line == 9);
  CHECK(cfg.security.clients[1].role == config::ClientRole::supervisor);
  CHECK(cfg.security.clients[1].public_key == kKey);
  CHECK(cfg.security.clients[2].role == config::ClientRole::feed);
  CHECK(cfg.metrics_http.basic_auth_user == "prometheus");
  CHECK(cfg.metrics_http.basic_auth_password_file == "/etc/callwatch/metrics.pass");
  CHECK(cfg.metrics_http.agent_state_max_agents == 500);
  CHECK(config::to_string(config::ClientRole::supervisor) == "supervisor");
}

TEST_CASE("without the sections: 1 s checkpoints, 5 s gaps, CURVE and auth off",
          "[config][security]") {
  const auto cfg = parse_ok("");
  CHECK(cfg.storage.checkpoint_seconds == 1.0);
  CHECK(cfg.storage.gap_seconds == 5.0);
  CHECK_FALSE(cfg.security.curve());
  CHECK(cfg.security.clients.empty());
  CHECK(cfg.metrics_http.basic_auth_user.empty());
}

TEST_CASE("storage values out of range are errors on their line", "[config][security]") {
  const auto errs = errors_of(R"([storage]  # 1
checkpoint_seconds = 0.01                # 2
gap_seconds = -1                         # 3
)");
  REQUIRE(errs.size() == 2);
  CHECK(errs[0].line == 2);
  CHECK(errs[0].message.find("checkpoint_seconds = 0.01 is out of range") != std::string::npos);
  CHECK(errs[1].line == 3);
}

TEST_CASE("a bad client is an error naming what to fix", "[config][security]") {
  const auto errs = errors_of(R"([security]  # 1
keys_dir = "/k"                           # 2
server_key = "server"                     # 3
[[security.client]]                       # 4
name = "../etc/passwd"                    # 5
role = "kiosk"                            # 6
[[security.client]]                       # 7
name = "bob"                              # 8
role = "admin"                            # 9
[[security.client]]                       # 10
name = "carol"                            # 11
role = "kiosk"                            # 12
public_key = "short"                      # 13
[[security.client]]                       # 14
name = "dave"                             # 15
role = "supervisor"                       # 16
[[security.client]]                       # 17
name = "dave"                             # 18
role = "kiosk"                            # 19
)");
  REQUIRE(errs.size() == 4);
  CHECK(errs[0].line == 5);
  CHECK(errs[0].message.find("must be 1 to 64 letters") != std::string::npos);
  CHECK(errs[1].line == 9);
  CHECK(errs[1].message.find("role \"admin\" is not one of") != std::string::npos);
  CHECK(errs[2].line == 13);
  CHECK(errs[2].message.find("Z85") != std::string::npos);
  CHECK(errs[3].line == 18);
  CHECK(errs[3].message.find("duplicate client \"dave\" (first defined on line 15)") !=
        std::string::npos);
}

TEST_CASE("CURVE half configured is an error: it would be open or lock everyone out",
          "[config][security]") {
  SECTION("a server key and no client") {
    const auto errs = errors_of(R"([security]  # 1
keys_dir = "/k"                             # 2
server_key = "server"                       # 3
)");
    REQUIRE(errs.size() == 1);
    CHECK(errs[0].line == 3);
    CHECK(errs[0].message.find("no [[security.client]] may connect") != std::string::npos);
  }
  SECTION("clients and no server key") {
    const auto errs = errors_of(R"([security]  # 1
keys_dir = "/k"                             # 2
[[security.client]]                         # 3
name = "a"                                  # 4
role = "kiosk"                              # 5
)");
    REQUIRE(errs.size() == 1);
    CHECK(errs[0].message.find("server_key is not set") != std::string::npos);
  }
  SECTION("a server key without keys_dir") {
    const auto errs = errors_of(R"([security]  # 1
server_key = "server"                       # 2
[[security.client]]                         # 3
name = "a"                                  # 4
role = "kiosk"                              # 5
public_key = "rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7"  # 6
)");
    REQUIRE_FALSE(errs.empty());
    CHECK(errs[0].line == 2);
    CHECK(errs[0].message.find("server_key needs keys_dir") != std::string::npos);
  }
}

TEST_CASE("basic auth needs both the user and the password file", "[config][security]") {
  const auto errs = errors_of(R"([metrics]  # 1
basic_auth_user = "prometheus"             # 2
)");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].line == 2);
  CHECK(errs[0].message.find("needs basic_auth_password_file") != std::string::npos);
  const auto errs2 = errors_of(R"([metrics]  # 1
basic_auth_user = "a:b"                    # 2
basic_auth_password_file = "/p"            # 3
)");
  REQUIRE_FALSE(errs2.empty());
  CHECK(errs2[0].line == 2);
}

TEST_CASE("storage and security keys at the top level say where they belong",
          "[config][security]") {
  const auto errs = errors_of(R"(checkpoint_seconds = 1  # 1
server_key = "s"                                     # 2
)");
  REQUIRE(errs.size() == 2);
  CHECK(errs[0].message ==
        "unknown top-level key 'checkpoint_seconds': it belongs under [storage]");
  CHECK(errs[1].message == "unknown top-level key 'server_key': it belongs under [security]");
}

TEST_CASE("tls_certificate is refused with the way to get TLS", "[config][security]") {
  const auto errs = errors_of(R"([metrics]  # 1
tls_certificate = "/etc/callwatch/metrics.pem"  # 2
)");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].line == 2);
  CHECK(errs[0].message.find("reverse proxy") != std::string::npos);
}

TEST_CASE("the engine's cardinality caps are read and checked", "[config][limits]") {
  const auto cfg = parse_ok("[engine]\nmax_queues = 50\nmax_agents = 700\n");
  CHECK(cfg.max_queues == 50);
  CHECK(cfg.max_agents == 700);
  const auto defaults = parse_ok("");
  CHECK(defaults.max_queues == 2000);
  CHECK(defaults.max_agents == 50000);
  const auto errs = errors_of("[engine]  # 1\nmax_queues = 0  # 2\n");
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].line == 2);
}

TEST_CASE("the window of event times is read and checked", "[config][limits][time]") {
  const auto cfg = parse_ok("[engine]\nmax_event_age_seconds = 86400\nmax_event_ahead_seconds = 600\n");
  CHECK(cfg.engine.max_event_age_seconds == 86400);
  CHECK(cfg.engine.max_event_ahead_seconds == 600);
  const auto defaults = parse_ok("");
  CHECK(defaults.engine.max_event_age_seconds == 7 * 86400);  // a week behind
  CHECK(defaults.engine.max_event_ahead_seconds == 2 * 86400);  // two days ahead
  // Less than an hour behind would refuse events the engine still puts in their place.
  const auto errs = errors_of("[engine]  # 1\nmax_event_age_seconds = 60  # 2\nmax_event_ahead_seconds = 1e9\n");
  REQUIRE(errs.size() == 2);
  CHECK(errs[0].line == 2);
  CHECK(errs[1].line == 3);
}
