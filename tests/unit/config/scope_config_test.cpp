// [[security.scope]]: keys bound to a set of queues. What the operator writes is what the daemon
// enforces, and a scope that names a key or queue that is not there, or binds nothing, is an
// error on its line (the lines end in "# N", the line number, so the checks can be read off).
#include <catch2/catch.hpp>
#include <string>

#include "callwatch/config/config.hpp"
#include "config_test_util.hpp"

using namespace callwatch;
using cwtest::errors_of;
using cwtest::parse_ok;

namespace {

// Two queues and three keys; scopes are appended below line 16.
constexpr const char* kBase = R"([[queue]]          # 1
name = "sales"                             # 2
[[queue]]                                  # 3
name = "support"                           # 4
[security]                                 # 5
keys_dir = "/etc/callwatch/keys"           # 6
server_key = "server"                      # 7
[[security.client]]                        # 8
name = "bob"                               # 9
role = "supervisor"                        # 10
[[security.client]]                        # 11
name = "floor-2"                           # 12
role = "kiosk"                             # 13
[[security.client]]                        # 14
name = "pbx"                               # 15
role = "feed"                              # 16
)";

bool has_error(const std::vector<config::ConfigError>& errs, int line, const std::string& part) {
  for (const auto& e : errs) {
    if (e.line == line && e.message.find(part) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("a scope binds supervisor and kiosk keys to the queues it names", "[config][security][scope]") {
  const auto cfg = parse_ok(std::string(kBase) + R"([[security.scope]]   # 17
name = "north"                             # 18
clients = ["bob", "floor-2"]               # 19
queues = ["sales"]                         # 20
)");
  REQUIRE(cfg.security.scopes.size() == 1);
  const auto& sc = cfg.security.scopes[0];
  CHECK(sc.name == "north");
  CHECK(sc.clients == std::vector<std::string>{"bob", "floor-2"});
  CHECK(sc.queues == std::vector<std::string>{"sales"});
  CHECK(sc.line == 17);
}

TEST_CASE("a scope naming an unknown key, a feed key or a key twice fails on that line",
          "[config][security][scope]") {
  const auto errs = errors_of(std::string(kBase) + R"([[security.scope]]   # 17
name = "north"                             # 18
clients = ["bobb", "pbx"]                  # 19
queues = ["sales"]                         # 20
[[security.scope]]                         # 21
name = "south"                             # 22
clients = ["floor-2"]                      # 23
queues = ["support"]                       # 24
[[security.scope]]                         # 25
name = "west"                              # 26
clients = ["floor-2"]                      # 27
queues = ["sales"]                         # 28
)");
  CHECK(has_error(errs, 19, "\"bobb\" is not a [[security.client]] (did you mean \"bob\"?)"));
  CHECK(has_error(errs, 19, "\"pbx\" is a feed key"));
  CHECK(has_error(errs, 27, "\"floor-2\" is already bound to scope \"south\""));
  CHECK(errs.size() == 3);
}

TEST_CASE("an empty scope, or one without queues or with an unknown queue, fails on its line",
          "[config][security][scope]") {
  const auto errs = errors_of(std::string(kBase) + R"([[security.scope]]   # 17
name = "north"                             # 18
clients = ["bob"]                          # 19
queues = []                                # 20
[[security.scope]]                         # 21
name = "south"                             # 22
clients = []                               # 23
queues = ["suport"]                        # 24
[[security.scope]]                         # 25
name = "east"                              # 26
clients = ["floor-2"]                      # 27
)");
  CHECK(has_error(errs, 20, "queues is empty"));
  CHECK(has_error(errs, 23, "clients is empty"));
  CHECK(has_error(errs, 24, "\"suport\" is not a configured queue (did you mean \"support\"?)"));
  CHECK(has_error(errs, 25, "queues is required"));
  CHECK(errs.size() == 4);
}
