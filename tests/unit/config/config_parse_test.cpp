// callwatch.toml parsing: a complete file gives the values written in it, and every kind of
// mistake is reported with the line (and column) an operator has to fix. The test texts end
// each line with "# N", its line number, so the expected lines can be checked by eye.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "callwatch/config/config.hpp"

using namespace callwatch;
using config::ConfigError;
using config::parse_config;

namespace {

std::vector<ConfigError> errors_of(std::string_view text) {
  auto r = parse_config(text, "test.toml");
  REQUIRE_FALSE(r.has_value());
  return r.error();
}

config::Config parse_ok(std::string_view text) {
  auto r = parse_config(text, "test.toml");
  if (!r) {
    for (const auto& e : r.error()) UNSCOPED_INFO(e.to_string());
  }
  REQUIRE(r.has_value());
  return *r;
}

// The one error of a text, which must sit on `line` and say `words`.
void require_single_error(std::string_view text, int line, const std::string& words) {
  const auto errs = errors_of(text);
  for (const auto& e : errs) INFO(e.to_string());
  REQUIRE(errs.size() == 1);
  CHECK(errs[0].file == "test.toml");
  CHECK(errs[0].line == line);
  INFO(errs[0].message);
  CHECK(errs[0].message.find(words) != std::string::npos);
}

class TempDir {
 public:
  TempDir() {
    static int n = 0;
    path_ = std::filesystem::temp_directory_path() /
            ("callwatch-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(++n));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string write(const std::string& name, std::string_view text) const {
    const auto p = path_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

}  // namespace

TEST_CASE("a complete file gives every value written in it", "[config]") {
  const auto cfg = parse_ok(R"([general]
timezone = "Asia/Kolkata"
day_start = "06:30"
site = "pune"
storage_path = "/var/lib/callwatch/cw.db"
log_rate_limit = 50

[listen]
feed = "tcp://*:17701"
publish = "tcp://10.0.0.5:17702"
control = "ipc:///run/callwatch/control"
metrics = ":19747"

[defaults]
sl_threshold = 30
sl_target = 0.9
short_abandon = 4.5
formula = "abandons_positive"

[[queue]]
name = "sales"
display_name = "销售 Sales"

[[queue]]
name = "support"
display_name = "技术支持"
sl_threshold = 45
sl_target = 0.75
short_abandon = 10
formula = "answered"
aht = 300
forecast_per_interval = 42.5
site = "mumbai"

[[feed]]
name = "pbx1"
type = "ami"
address = "pbx1.example.net"
credentials_file = "/etc/callwatch/pbx1.secret"
queues = ["support"]

[[feed]]
type = "queue_log"
path = "/var/log/asterisk/queue_log"

[[feed]]
name = "push"
type = "native"

[metrics]
agent_state = true

[engine]
wrap_up_after_call = true
max_name_bytes = 128
interval_minutes = 30

[[alert]]
name = "sl"
metric = "service_level"
window = "1h"
formula = "offered"
below = 0.7
clear = 0.75
for = "1m30s"
severity = "critical"
queues = ["sales", "support"]

[[alert]]
name = "wait"
metric = "longest_wait"
above = 60
)");
  CHECK(cfg.source == "test.toml");
  CHECK(cfg.timezone == "Asia/Kolkata");
  CHECK(cfg.engine.tz.name() == "Asia/Kolkata");
  CHECK(cfg.engine.tz.offset_at(1768435200) == 19800);  // IST is UTC+05:30 = 19800 s
  CHECK(cfg.day_start == "06:30");
  CHECK(cfg.engine.day_start_seconds == 6 * 3600 + 30 * 60);
  CHECK(cfg.site == "pune");
  CHECK(cfg.storage_path == "/var/lib/callwatch/cw.db");
  CHECK(cfg.log_rate_limit_per_second == 50);

  CHECK(cfg.listen.feed == "tcp://*:17701");
  CHECK(cfg.listen.publish == "tcp://10.0.0.5:17702");
  CHECK(cfg.listen.control == "ipc:///run/callwatch/control");
  CHECK(cfg.listen.metrics == ":19747");

  const auto& d = cfg.engine.queue_defaults;
  CHECK(d.sl_threshold == 30.0);
  CHECK(d.sl_target == 0.9);
  CHECK(d.short_abandon == 4.5);
  CHECK(d.formula == metrics::SlFormula::abandons_positive);

  REQUIRE(cfg.queue_names == std::vector<std::string>{"sales", "support"});
  REQUIRE(cfg.engine.queues.size() == 2);
  // sales sets only its display name: everything else comes from [defaults], site from [general].
  const auto& sales = cfg.engine.queues.at("sales");
  CHECK(sales.display_name == "销售 Sales");
  CHECK(sales.sl_threshold == 30.0);
  CHECK(sales.sl_target == 0.9);
  CHECK(sales.short_abandon == 4.5);
  CHECK(sales.formula == metrics::SlFormula::abandons_positive);
  CHECK(sales.erlang_aht == 0.0);
  CHECK(sales.site == "pune");
  const auto& support = cfg.engine.queues.at("support");
  CHECK(support.display_name == "技术支持");
  CHECK(support.sl_threshold == 45.0);
  CHECK(support.sl_target == 0.75);
  CHECK(support.short_abandon == 10.0);
  CHECK(support.formula == metrics::SlFormula::answered);
  CHECK(support.erlang_aht == 300.0);
  CHECK(support.forecast_per_interval == 42.5);
  CHECK(support.site == "mumbai");
  // A queue the file never names gets the defaults.
  CHECK(&cfg.engine.for_queue("unknown") == &cfg.engine.queue_defaults);

  REQUIRE(cfg.feeds.size() == 3);
  CHECK(cfg.feeds[0].name == "pbx1");
  CHECK(cfg.feeds[0].type == config::FeedType::ami);
  CHECK(cfg.feeds[0].address == "pbx1.example.net:5038");  // AMI's port filled in
  CHECK(cfg.feeds[0].credentials_file == "/etc/callwatch/pbx1.secret");
  CHECK(cfg.feeds[0].queues == std::vector<std::string>{"support"});
  CHECK(cfg.feeds[0].line == 35);
  CHECK(cfg.feeds[1].name == "queue_log");  // unnamed: named after its type
  CHECK(cfg.feeds[1].path == "/var/log/asterisk/queue_log");
  CHECK(cfg.feeds[1].address.empty());
  CHECK(cfg.feeds[2].name == "push");
  CHECK(cfg.feeds[2].address == "tcp://*:17701");  // a native feed without address: [listen] feed

  CHECK(cfg.export_agent_state);
  CHECK(cfg.engine.wrap_up_after_call);
  CHECK(cfg.engine.max_name_bytes == 128);
  CHECK(cfg.engine.interval_minutes == 30);

  REQUIRE(cfg.alerts.size() == 2);
  const auto& sl = cfg.alerts[0];
  CHECK(sl.name == "sl");
  CHECK(sl.metric == config::AlertMetric::service_level);
  CHECK(sl.window == config::AlertWindow::sliding_1h);
  REQUIRE(sl.formula.has_value());
  CHECK(*sl.formula == metrics::SlFormula::offered);
  CHECK_FALSE(sl.above);
  CHECK(sl.threshold == 0.7);
  CHECK(sl.clear == 0.75);
  CHECK(sl.for_seconds == 90.0);  // 1m30s = 60 + 30
  CHECK(sl.severity == config::AlertSeverity::critical);
  CHECK(sl.queues == std::vector<std::string>{"sales", "support"});
  CHECK(sl.line == 58);
  const auto& wait = cfg.alerts[1];
  CHECK(wait.metric == config::AlertMetric::longest_wait);
  CHECK(wait.window == config::AlertWindow::live);
  CHECK(wait.above);
  CHECK(wait.threshold == 60.0);
  CHECK(wait.clear == 60.0);  // no clear given: clears at the firing level
  CHECK(wait.for_seconds == 0.0);
  CHECK(wait.severity == config::AlertSeverity::warning);
  CHECK(wait.queues.empty());
  CHECK_FALSE(wait.formula.has_value());
}

TEST_CASE("an empty file and the built-in defaults agree with DESIGN.md", "[config]") {
  for (const auto& cfg : {parse_ok(""), config::default_config()}) {
    CHECK(cfg.timezone == "UTC");
    CHECK(cfg.engine.tz.offset_at(1774746000) == 0);
    CHECK(cfg.engine.day_start_seconds == 0);
    CHECK(cfg.engine.interval_minutes == 15);
    CHECK(cfg.engine.queue_defaults.sl_threshold == 20.0);
    CHECK(cfg.engine.queue_defaults.sl_target == 0.80);
    CHECK(cfg.engine.queue_defaults.short_abandon == 5.0);
    CHECK(cfg.engine.queue_defaults.formula == metrics::SlFormula::offered);
    CHECK(cfg.listen.feed == "tcp://127.0.0.1:7701");
    CHECK(cfg.listen.publish == "tcp://127.0.0.1:7702");
    CHECK(cfg.listen.control == "tcp://127.0.0.1:7703");
    CHECK(cfg.listen.metrics == "127.0.0.1:9747");
    CHECK_FALSE(cfg.export_agent_state);
    CHECK(cfg.queue_names.empty());
    CHECK(cfg.alerts.empty());
    // No [[feed]]: the daemon still takes native events on [listen] feed.
    REQUIRE(cfg.feeds.size() == 1);
    CHECK(cfg.feeds[0].name == "native");
    CHECK(cfg.feeds[0].type == config::FeedType::native);
    CHECK(cfg.feeds[0].address == "tcp://127.0.0.1:7701");
  }
  CHECK(config::default_config().source == "<defaults>");
}

TEST_CASE("an unknown key is an error naming the key and the nearest known key", "[config]") {
  const auto errs = errors_of(R"([general]         # 1
timezone = "UTC"           # 2
timzone = "Asia/Shanghai"  # 3
[[queue]]                  # 4
name = "sales"             # 5
sl_treshold = 30           # 6
colour = "red"             # 7
)");
  REQUIRE(errs.size() == 3);
  CHECK(errs[0].line == 3);
  CHECK(errs[0].column == 1);
  CHECK(errs[0].message == "[general]: unknown key 'timzone' (did you mean 'timezone'?)");
  CHECK(errs[1].line == 6);
  CHECK(errs[1].message ==
        "[[queue]] \"sales\": unknown key 'sl_treshold' (did you mean 'sl_threshold'?)");
  // Nothing near "colour": no suggestion at all rather than a silly one.
  CHECK(errs[2].line == 7);
  CHECK(errs[2].message == "[[queue]] \"sales\": unknown key 'colour'");
  CHECK(errs[0].to_string() ==
        "test.toml:3:1: [general]: unknown key 'timzone' (did you mean 'timezone'?)");
}

TEST_CASE("unknown tables and keys outside any table are errors", "[config]") {
  const auto errs = errors_of(R"(timezone = "UTC"  # 1
[genral]                   # 2
site = "x"                 # 3
[[queues]]                 # 4
name = "a"                 # 5
[secrets]                  # 6
keys_dir = "/etc/keys"     # 7
)");
  REQUIRE(errs.size() == 4);
  CHECK(errs[0].line == 1);
  CHECK(errs[0].message == "unknown top-level key 'timezone': it belongs under [general]");
  CHECK(errs[1].line == 2);
  CHECK(errs[1].message == "unknown table [genral] (did you mean [general]?)");
  CHECK(errs[2].line == 4);
  CHECK(errs[2].message == "unknown table [[queues]] (did you mean [[queue]]?)");
  CHECK(errs[3].line == 6);
  CHECK(errs[3].message.find("unknown table [secrets]") == 0);
}

TEST_CASE("a TOML syntax error names its line", "[config]") {
  require_single_error(R"([general]  # 1
site = "x"          # 2
day_start =         # 3
)",
                       3, "TOML syntax error");
  // A key written twice is a TOML error too.
  require_single_error(R"([general]  # 1
site = "a"          # 2
site = "b"          # 3
)",
                       3, "TOML syntax error");
}

TEST_CASE("wrong value types are errors on the value's line", "[config]") {
  const auto errs = errors_of(R"([defaults]  # 1
sl_threshold = "20"  # 2
[engine]             # 3
max_name_bytes = 1.5 # 4
wrap_up_after_call = "yes"  # 5
[[queue]]            # 6
name = 7             # 7
[[feed]]             # 8
type = "native"      # 9
queues = "sales"     # 10
)");
  REQUIRE(errs.size() == 5);
  CHECK(errs[0].line == 2);
  CHECK(errs[0].column == 16);  // the value, after `sl_threshold = `
  CHECK(errs[0].message == "[defaults]: sl_threshold must be a number, not a string");
  CHECK(errs[1].line == 4);
  CHECK(errs[1].message == "[engine]: max_name_bytes must be an integer, not a float");
  CHECK(errs[2].line == 5);
  CHECK(errs[2].message == "[engine]: wrap_up_after_call must be true or false, not a string");
  CHECK(errs[3].line == 7);
  CHECK(errs[3].message == "[[queue]]: name must be a string, not an integer");
  CHECK(errs[4].line == 10);
  CHECK(errs[4].message == "[[feed]] \"native\": queues must be an array of strings, not a string");
}

TEST_CASE("out-of-range service-level settings are errors", "[config]") {
  const auto errs = errors_of(R"([defaults]  # 1
sl_target = 1.0      # 2
[[queue]]            # 3
name = "a"           # 4
sl_threshold = 0     # 5
[[queue]]            # 6
name = "b"           # 7
sl_target = 0        # 8
short_abandon = -1   # 9
[[queue]]            # 10
name = "c"           # 11
sl_threshold = 3     # 12
[[queue]]            # 13
name = "d"           # 14
sl_threshold = 10    # 15
short_abandon = 12   # 16
[[queue]]            # 17
name = "e"           # 18
formula = "offerd"   # 19
)");
  REQUIRE(errs.size() == 7);
  CHECK(errs[0].line == 2);
  CHECK(errs[0].message.find("sl_target = 1 must be between 0 and 1") != std::string::npos);
  CHECK(errs[1].line == 5);
  CHECK(errs[1].message.find("sl_threshold = 0 must be greater than 0") != std::string::npos);
  CHECK(errs[2].line == 8);
  CHECK(errs[2].message.find("sl_target = 0 must be between 0 and 1") != std::string::npos);
  CHECK(errs[3].line == 9);
  CHECK(errs[3].message.find("short_abandon = -1 must be 0 or more") != std::string::npos);
  // c: T = 3 s against the default S = 5 s; S <= T is required (METRICS.md).
  CHECK(errs[4].line == 12);
  CHECK(errs[4].message ==
        "[[queue]] \"c\": short_abandon (5 s) must not exceed sl_threshold (3 s) "
        "(short_abandon from [defaults])");
  CHECK(errs[5].line == 16);
  CHECK(errs[5].message ==
        "[[queue]] \"d\": short_abandon (12 s) must not exceed sl_threshold (10 s)");
  CHECK(errs[6].line == 19);
  CHECK(errs[6].message.find("formula \"offerd\" is not one of") != std::string::npos);
  CHECK(errs[6].message.find("(did you mean \"offered\"?)") != std::string::npos);
}

TEST_CASE("short abandon equal to the threshold and zero are accepted", "[config]") {
  // S = T is the boundary METRICS.md allows (S <= T); S = 0 turns short abandons off.
  const auto cfg = parse_ok(R"([defaults]
sl_threshold = 10
short_abandon = 10
[[queue]]
name = "a"
short_abandon = 0
)");
  CHECK(cfg.engine.queue_defaults.short_abandon == 10.0);
  CHECK(cfg.engine.queues.at("a").short_abandon == 0.0);
}

TEST_CASE("duplicate and missing queue names are errors", "[config]") {
  const auto errs = errors_of(R"([[queue]]  # 1
name = "sales"      # 2
[[queue]]           # 3
display_name = "x"  # 4
[[queue]]           # 5
name = "sales"      # 6
[[queue]]           # 7
name = ""           # 8
)");
  REQUIRE(errs.size() == 3);
  // A missing key points at the header of its table.
  CHECK(errs[0].line == 3);
  CHECK(errs[0].message.find("name is required") != std::string::npos);
  CHECK(errs[1].line == 6);
  CHECK(errs[1].message ==
        "[[queue]] \"sales\": duplicate queue \"sales\" (first defined on line 2)");
  CHECK(errs[2].line == 8);
  CHECK(errs[2].message.find("name must not be empty") != std::string::npos);
}

TEST_CASE("a queue name longer than max_name_bytes is an error", "[config]") {
  // 6 CJK characters are 18 bytes in UTF-8, over a limit of 16.
  require_single_error(R"([engine]        # 1
max_name_bytes = 16           # 2
[[queue]]                     # 3
name = "销售销售销售"         # 4
)",
                       4, "18 bytes long");
}

TEST_CASE("general settings are checked: time zone, day start, rate limit", "[config]") {
  const auto errs = errors_of(R"([general]  # 1
timezone = "Europe/Berln"  # 2
day_start = "6:00"         # 3
log_rate_limit = 0         # 4
)");
  REQUIRE(errs.size() == 3);
  CHECK(errs[0].line == 2);
  CHECK(errs[0].message.find("unknown time zone 'Europe/Berln'") != std::string::npos);
  CHECK(errs[0].message.find("did you mean 'Europe/Berlin'?") != std::string::npos);
  CHECK(errs[1].line == 3);
  CHECK(errs[1].message.find("\"HH:MM\"") != std::string::npos);
  CHECK(errs[2].line == 4);
  CHECK(errs[2].message.find("log_rate_limit = 0 is out of range") != std::string::npos);

  require_single_error("[general]\nday_start = \"24:00\"\n", 2, "HH:MM");
  require_single_error("[general]\ntimezone = \"../../etc/passwd\"\n", 2,
                       "is not a time zone name");
}

TEST_CASE("engine settings are checked: interval must divide the hour", "[config]") {
  require_single_error("[engine]\ninterval_minutes = 7\n", 2, "must divide 60");
  require_single_error("[engine]\ninterval_minutes = 0\n", 2, "must divide 60");
  require_single_error("[engine]\nmax_name_bytes = 8\n", 2, "16 to 65536");
  for (int m : {1, 5, 10, 15, 20, 30, 60}) {
    CHECK(parse_ok("[engine]\ninterval_minutes = " + std::to_string(m) + "\n")
              .engine.interval_minutes == m);
  }
}

TEST_CASE("listen addresses must be well formed and distinct", "[config]") {
  const auto errs = errors_of(R"([listen]  # 1
feed = "127.0.0.1:7701"    # 2
publish = "tcp://127.0.0.1" # 3
control = "tcp://300.1.1.1:7703"  # 4
metrics = "127.0.0.1:70000" # 5
)");
  REQUIRE(errs.size() == 4);
  CHECK(errs[0].line == 2);
  CHECK(errs[0].message.find("expected a ZeroMQ endpoint") != std::string::npos);
  CHECK(errs[1].line == 3);
  CHECK(errs[1].message.find("port is missing") != std::string::npos);
  CHECK(errs[2].line == 4);
  CHECK(errs[2].message.find("'300.1.1.1' is neither a host name nor an IPv4 address") !=
        std::string::npos);
  CHECK(errs[3].line == 5);
  CHECK(errs[3].message.find("port 70000 is outside 1-65535") != std::string::npos);

  // "*" binds every interface, so it clashes with the default feed port on 127.0.0.1.
  require_single_error("[listen]\npublish = \"tcp://*:7701\"\n", 2,
                       "[listen] publish uses the same address as [listen] feed");
  require_single_error("[listen]\nmetrics = \"[::1\"\n", 2, "unclosed '['");

  const auto ok = parse_ok(R"([listen]
feed = "tcp://[::1]:17701"
publish = "tcp://eth0:7702"
metrics = "[::]:9100"
)");
  CHECK(ok.listen.feed == "tcp://[::1]:17701");
}

TEST_CASE("feeds are checked by type", "[config]") {
  const auto errs = errors_of(R"([[queue]]  # 1
name = "sales"                 # 2
[[feed]]                       # 3
type = "asterisk"              # 4
[[feed]]                       # 5
name = "pbx"                   # 6
type = "ami"                   # 7
address = "pbx1:99999"         # 8
[[feed]]                       # 9
type = "queue_log"             # 10
address = "pbx1:5038"          # 11
[[feed]]                       # 12
name = "fs"                    # 13
type = "esl"                   # 14
address = "fs1"                # 15
credentials_file = "/etc/fs"   # 16
queues = ["sale", "sales"]     # 17
[[feed]]                       # 18
name = "pbx"                   # 19
type = "native"                # 20
)");
  for (const auto& e : errs) INFO(e.to_string());
  REQUIRE(errs.size() == 7);
  CHECK(errs[0].line == 4);
  CHECK(
      errs[0].message.find("type \"asterisk\" is not one of \"native\", \"queue_log\", \"ami\" or "
                           "\"esl\"") != std::string::npos);
  CHECK(errs[1].line == 5);
  CHECK(errs[1].message.find("credentials_file is required for an ami feed") != std::string::npos);
  CHECK(errs[2].line == 8);
  CHECK(errs[2].message.find("port 99999 is outside 1-65535") != std::string::npos);
  CHECK(errs[3].line == 9);
  CHECK(errs[3].message.find("path is required for a queue_log feed") != std::string::npos);
  CHECK(errs[4].line == 11);
  CHECK(errs[4].message.find("address does not apply to a queue_log feed") != std::string::npos);
  CHECK(errs[5].line == 17);
  CHECK(errs[5].column == 11);
  CHECK(errs[5].message.find("\"sale\" is not a configured queue (did you mean \"sales\"?)") !=
        std::string::npos);
  CHECK(errs[6].line == 19);
  CHECK(errs[6].message.find("duplicate feed name \"pbx\"") != std::string::npos);
}

TEST_CASE("alert rules are checked", "[config]") {
  const auto errs = errors_of(R"([[queue]]  # 1
name = "sales"                 # 2
[[alert]]                      # 3
name = "a"                     # 4
metric = "longest_wiat"        # 5
above = 60                     # 6
[[alert]]                      # 7
name = "b"                     # 8
metric = "service_level"       # 9
above = 0.9                    # 10
below = 0.7                    # 11
[[alert]]                      # 12
name = "c"                     # 13
metric = "service_level"       # 14
below = 70                     # 15
for = "5 minutes"              # 16
[[alert]]                      # 17
name = "d"                     # 18
metric = "calls_waiting"       # 19
window = "15m"                 # 20
above = 10                     # 21
clear = 12                     # 22
severity = "urgent"            # 23
[[alert]]                      # 24
name = "a"                     # 25
metric = "abandon_rate"        # 26
formula = "offered"            # 27
[[alert]]                      # 28
name = "f"                     # 29
metric = "feed_stale"          # 30
above = 120                    # 31
queues = ["sales"]             # 32
)");
  for (const auto& e : errs) INFO(e.to_string());
  REQUIRE(errs.size() == 11);
  CHECK(errs[0].line == 5);
  CHECK(errs[0].message.find("(did you mean \"longest_wait\"?)") != std::string::npos);
  CHECK(errs[1].line == 11);
  CHECK(errs[1].message.find("either above or below, not both") != std::string::npos);
  CHECK(errs[2].line == 15);
  CHECK(errs[2].message.find("below = 70 is out of range: service_level is a ratio from 0 to 1") !=
        std::string::npos);
  CHECK(errs[3].line == 16);
  CHECK(errs[3].message.find("for = \"5 minutes\" is not a duration") != std::string::npos);
  CHECK(errs[4].line == 20);
  CHECK(errs[4].message.find("window does not apply to calls_waiting") != std::string::npos);
  CHECK(errs[5].line == 22);
  CHECK(errs[5].message.find("clear = 12 must not exceed above = 10") != std::string::npos);
  CHECK(errs[6].line == 23);
  CHECK(errs[6].message.find("severity \"urgent\" is not one of") != std::string::npos);
  CHECK(errs[7].line == 24);  // neither above nor below: points at the [[alert]] header
  CHECK(errs[7].message.find("needs a level") != std::string::npos);
  CHECK(errs[8].line == 25);
  CHECK(errs[8].message.find("duplicate alert \"a\" (first defined on line 4)") !=
        std::string::npos);
  CHECK(errs[9].line == 27);
  CHECK(errs[9].message.find("formula applies to service_level only") != std::string::npos);
  CHECK(errs[10].line == 32);
  CHECK(errs[10].message.find("queues does not apply to feed_stale") != std::string::npos);
}

TEST_CASE("alert durations and defaults are read as written", "[config]") {
  const auto cfg = parse_ok(R"([[alert]]
name = "slow"
metric = "abandon_rate"
above = 0.1
for = "2m"
[[alert]]
name = "hours"
metric = "bounced_calls"
window = "today"
above = 5
for = "1h2m3s"
)");
  REQUIRE(cfg.alerts.size() == 2);
  CHECK(cfg.alerts[0].window == config::AlertWindow::sliding_15m);  // windowed metric default
  CHECK(cfg.alerts[0].for_seconds == 120.0);                        // 2 * 60
  CHECK(cfg.alerts[1].window == config::AlertWindow::today);
  CHECK(cfg.alerts[1].for_seconds == 3723.0);  // 3600 + 2 * 60 + 3
  CHECK(config::to_string(cfg.alerts[1].window) == "today");
  CHECK(callwatch::metrics::to_string(cfg.alerts[1].metric) == "bounced_calls");
}

TEST_CASE("a section written the wrong way is an error", "[config]") {
  require_single_error("[queue]\nname = \"a\"\n", 1, "write [[queue]] (double brackets)");
  require_single_error("[[general]]\nsite = \"a\"\n", 1, "write [general], not [[general]]");
  require_single_error("general = 5\n", 1, "general must be a table");
}

TEST_CASE("every error of a file is reported, in file order", "[config]") {
  const auto errs = errors_of(R"([[alert]]  # 1
name = "x"                # 2
metric = "nope"           # 3
[general]                 # 4
day_start = "noon"        # 5
[defaults]                # 6
sl_target = 2             # 7
)");
  REQUIRE(errs.size() == 3);
  CHECK(errs[0].line == 3);
  CHECK(errs[1].line == 5);
  CHECK(errs[2].line == 7);
}

TEST_CASE("a missing config file is an error naming the file", "[config]") {
  TempDir dir;
  const std::string path = dir.file("absent.toml");
  auto r = config::load_config_file(path);
  REQUIRE_FALSE(r.has_value());
  REQUIRE(r.error().size() == 1);
  CHECK(r.error()[0].file == path);
  CHECK(r.error()[0].line == 0);
  CHECK(r.error()[0].to_string() == path + ": cannot open config file: No such file or directory");

  auto d = config::load_config_file(dir.file(""));
  REQUIRE_FALSE(d.has_value());
  CHECK(d.error()[0].message.find("is a directory") != std::string::npos);
}

TEST_CASE("errors in a loaded file carry the file's path", "[config]") {
  TempDir dir;
  const std::string path = dir.write("bad.toml", "[general]\nsite = 1\n");
  auto r = config::load_config_file(path);
  REQUIRE_FALSE(r.has_value());
  REQUIRE(r.error().size() == 1);
  CHECK(r.error()[0].to_string() ==
        path + ":2:8: [general]: site must be a string, not an integer");
}

TEST_CASE("the effective config is the given file, else the default file, else the defaults",
          "[config]") {
  TempDir dir;
  const std::string given = dir.write("given.toml", "[general]\nsite = \"given\"\n");
  const std::string fallback = dir.write("default.toml", "[general]\nsite = \"default\"\n");
  const std::string absent = dir.file("absent.toml");

  auto a = config::load_effective_config(given, fallback);
  REQUIRE(a.has_value());
  CHECK(a->site == "given");

  auto b = config::load_effective_config("", fallback);
  REQUIRE(b.has_value());
  CHECK(b->site == "default");
  CHECK(b->source == fallback);

  auto c = config::load_effective_config("", absent);
  REQUIRE(c.has_value());
  CHECK(c->source == "<defaults>");

  // A file asked for by name must exist: silently running on defaults would hide a typo.
  auto d = config::load_effective_config(absent, fallback);
  REQUIRE_FALSE(d.has_value());
  CHECK(d.error()[0].file == absent);
}

TEST_CASE("the good test data file loads", "[config]") {
  auto r = config::load_config_file(CALLWATCH_TEST_DATA "/config/good.toml");
  if (!r) {
    for (const auto& e : r.error()) UNSCOPED_INFO(e.to_string());
  }
  REQUIRE(r.has_value());
  CHECK(r->queue_names == std::vector<std::string>{"销售", "support"});
  CHECK(r->engine.queues.at("销售").display_name == "销售 Sales");
  CHECK(r->engine.tz.offset_at(1784073600) == 7200);  // Berlin, 2026-07-15: CEST
}

TEST_CASE("the shipped example config/callwatch.toml parses with no errors", "[config]") {
  auto r = config::load_config_file(CALLWATCH_SOURCE_DIR "/config/callwatch.toml");
  if (!r) {
    for (const auto& e : r.error()) UNSCOPED_INFO(e.to_string());
  }
  REQUIRE(r.has_value());
  CHECK(r->timezone == "Asia/Shanghai");
  CHECK(r->engine.tz.offset_at(1768435200) == 28800);
  CHECK(r->queue_names.size() == 5);
  CHECK(r->engine.queues.at("sales").display_name == "销售 Sales");
  CHECK(r->engine.queues.at("support").display_name == "技术支持");
  CHECK(r->feeds.size() == 1);
  CHECK(r->feeds[0].type == config::FeedType::native);
  CHECK(r->alerts.size() >= 3);
}
