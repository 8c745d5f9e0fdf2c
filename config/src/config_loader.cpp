// callwatch.toml -> Config. Each section is read by one function that reports every problem it
// finds into the shared Diagnostics; parse_config fails when any was reported.
#include <fmt/format.h>
#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "callwatch/config/config.hpp"
#include "endpoints.hpp"
#include "suggest.hpp"
#include "toml_reader.hpp"

namespace callwatch::config {
namespace {

// Sections a file may hold; anything else at the top is an error naming the nearest of these.
constexpr std::string_view kTables[] = {"general", "listen",  "defaults", "metrics",
                                        "engine",  "storage", "security", "publisher"};
constexpr std::string_view kTableArrays[] = {"queue", "feed", "alert"};
// [[feed]] type values, from the one table of feed types.
constexpr auto kFeedTypeNames = [] {
  std::array<std::string_view, kFeedTypes.size()> out{};
  for (std::size_t i = 0; i < kFeedTypes.size(); ++i) out[i] = kFeedTypes[i].name;
  return out;
}();
constexpr std::string_view kFormulas[] = {"answered", "offered", "abandons_positive",
                                          "abandons_ignored"};

template <typename List>
std::vector<std::string> names(const List& list) {
  return {std::begin(list), std::end(list)};
}

template <typename List>
std::string one_of(const List& list) {
  const std::size_t n = std::size(list);
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += i + 1 == n ? " or " : ", ";
    out += fmt::format("\"{}\"", list[i]);
  }
  return out;
}

// "unknown X: did you mean Y?" for values drawn from a fixed list.
template <typename List>
std::string not_one_of(std::string_view what, std::string_view got, const List& list) {
  std::string msg = fmt::format("{} \"{}\" is not one of {}", what, got, one_of(list));
  if (auto s = closest_match(got, names(list))) msg += fmt::format(" (did you mean \"{}\"?)", *s);
  return msg;
}

bool has_control_chars(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// ---- [general] ------------------------------------------------------------------------------

std::optional<int> parse_hh_mm(std::string_view s) {
  if (s.size() != 5 || s[2] != ':') return std::nullopt;
  for (int i : {0, 1, 3, 4}) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  }
  const int h = (s[0] - '0') * 10 + (s[1] - '0');
  const int m = (s[3] - '0') * 10 + (s[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 3600 + m * 60;
}

void read_general(TableReader& r, Config& cfg) {
  if (auto f = r.string("timezone")) {
    auto tz = load_timezone(f->value);
    if (tz) {
      cfg.timezone = f->value;
      cfg.engine.tz = std::move(*tz);
    } else {
      r.error(*f->node, fmt::format("timezone: {}", tz.error()));
    }
  }
  if (auto f = r.string("day_start")) {
    if (auto secs = parse_hh_mm(f->value)) {
      cfg.day_start = f->value;
      cfg.engine.day_start_seconds = *secs;
    } else {
      r.error(*f->node,
              fmt::format("day_start \"{}\" must be a local time \"HH:MM\" (00:00 to 23:59)",
                          f->value));
    }
  }
  if (auto f = r.string("site")) {
    if (has_control_chars(f->value)) {
      r.error(*f->node, "site must not contain control characters");
    } else {
      cfg.site = f->value;
    }
  }
  if (auto f = r.string("storage_path")) {
    cfg.storage_path = f->value;
    cfg.storage_path_line = static_cast<int>(f->node->source().begin.line);
  }
  if (auto f = r.integer("log_rate_limit")) {
    if (f->value < 1 || f->value > 100000) {
      r.error(*f->node,
              fmt::format("log_rate_limit = {} is out of range: messages per second, 1 to 100000",
                          f->value));
    } else {
      cfg.log_rate_limit_per_second = static_cast<int>(f->value);
    }
  }
  r.finish();
}

// ---- [engine], [metrics] --------------------------------------------------------------------

void read_engine(TableReader& r, Config& cfg) {
  if (auto f = r.boolean("wrap_up_after_call")) cfg.engine.wrap_up_after_call = f->value;
  if (auto f = r.integer("max_queues")) {
    if (f->value < 1 || f->value > 1000000) {
      r.error(*f->node, fmt::format("max_queues = {} is out of range: 1 to 1000000", f->value));
    } else {
      cfg.max_queues = static_cast<std::size_t>(f->value);
    }
  }
  if (auto f = r.integer("max_agents")) {
    if (f->value < 1 || f->value > 10000000) {
      r.error(*f->node, fmt::format("max_agents = {} is out of range: 1 to 10000000", f->value));
    } else {
      cfg.max_agents = static_cast<std::size_t>(f->value);
    }
  }
  if (auto f = r.integer("max_name_bytes")) {
    if (f->value < 16 || f->value > 65536) {
      r.error(*f->node, fmt::format("max_name_bytes = {} is out of range: 16 to 65536", f->value));
    } else {
      cfg.engine.max_name_bytes = static_cast<std::size_t>(f->value);
    }
  }
  if (auto f = r.number("max_lateness_seconds")) {
    if (!(f->value >= 0 && f->value <= 3600)) {
      r.error(*f->node, fmt::format("max_lateness_seconds = {} is out of range: 0 to 3600 seconds",
                                    f->value));
    } else {
      cfg.engine.max_lateness_seconds = f->value;
    }
  }
  // The window of times feeds accept (daemon/feeds/time_bounds.hpp): at least an hour behind
  // (late events must fit) and a minute ahead; at most a year ahead, and 100 years behind (a
  // recording played into a live daemon: a test rig, a demo of last year's traffic).
  const auto window = [&](std::string_view key, double min, double max, double& out) {
    if (auto f = r.number(key)) {
      if (!(f->value >= min && f->value <= max)) {
        r.error(*f->node, fmt::format("{} = {} is out of range: {} to {} seconds", key, f->value, min, max));
      } else {
        out = f->value;
      }
    }
  };
  window("max_event_age_seconds", 3600, 100 * 365.25 * 86400, cfg.engine.max_event_age_seconds);
  window("max_event_ahead_seconds", 60, 366 * 86400.0, cfg.engine.max_event_ahead_seconds);
  if (auto f = r.integer("interval_minutes")) {
    // Intervals must tile the hour so that every interval starts on the same minutes each hour.
    if (f->value < 1 || f->value > 60 || 60 % f->value != 0) {
      r.error(*f->node,
              fmt::format("interval_minutes = {} must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, "
                          "15, 20, 30 or 60)",
                          f->value));
    } else {
      cfg.engine.interval_minutes = static_cast<int>(f->value);
    }
  }
  r.finish();
}

// An integer key that must lie in [lo, hi]; the message names the range and what it counts.
template <typename T>
void read_bounded(TableReader& r, std::string_view key, std::int64_t lo, std::int64_t hi,
                  std::string_view what, T& out) {
  if (auto f = r.integer(key)) {
    if (f->value < lo || f->value > hi) {
      r.error(*f->node, fmt::format("{} = {} is out of range: {} to {} {}", key, f->value, lo, hi, what));
    } else {
      out = static_cast<T>(f->value);
    }
  }
}

constexpr std::int64_t kMiB = 1 << 20;
constexpr std::int64_t kTiB = std::int64_t{1} << 40;

void read_http_limits(TableReader& r, MetricsHttpConfig& m) {
  read_bounded(r, "threads", 1, 64, "threads", m.threads);
  read_bounded(r, "max_connections", 1, 60000, "connections", m.max_connections);
  read_bounded(r, "idle_timeout_seconds", 1, 3600, "seconds", m.idle_timeout_seconds);
  read_bounded(r, "max_unsent_bytes", kMiB, kTiB, "bytes", m.max_unsent_bytes);
  if (auto f = r.number("auth_failure_delay_seconds")) {
    if (!(f->value >= 0 && f->value <= 10)) {
      r.error(*f->node, fmt::format("auth_failure_delay_seconds = {} is out of range: 0 to 10 seconds",
                                    f->value));
    } else {
      m.auth_failure_delay_seconds = f->value;
    }
  }
}

void read_publisher(TableReader& r, Config& cfg) {
  read_bounded(r, "max_queued_reply_bytes", kMiB, kTiB, "bytes", cfg.publisher.max_queued_reply_bytes);
  r.finish();
}

void read_metrics(TableReader& r, Config& cfg) {
  if (auto f = r.boolean("agent_state")) cfg.export_agent_state = f->value;
  read_http_limits(r, cfg.metrics_http);
  if (auto f = r.integer("agent_state_max_agents")) {
    if (f->value < 1 || f->value > 1000000) {
      r.error(*f->node,
              fmt::format("agent_state_max_agents = {} is out of range: 1 to 1000000", f->value));
    } else {
      cfg.metrics_http.agent_state_max_agents = static_cast<std::size_t>(f->value);
    }
  }
  auto user = r.string("basic_auth_user");
  auto password = r.string("basic_auth_password_file");
  if (user && (user->value.empty() || has_control_chars(user->value) ||
               user->value.find(':') != std::string::npos)) {
    r.error(*user->node, "basic_auth_user must be a non-empty name without ':' or control characters");
    user.reset();
  }
  if (password && password->value.empty()) {
    r.error(*password->node, "basic_auth_password_file must not be empty");
    password.reset();
  }
  // Half a credential would either lock everyone out or silently leave /metrics open.
  if (user && !password && r.table().get("basic_auth_password_file") == nullptr) {
    r.error(*user->node, "basic_auth_user needs basic_auth_password_file (the password, never "
                         "written in this file)");
  } else if (password && !user && r.table().get("basic_auth_user") == nullptr) {
    r.error(*password->node, "basic_auth_password_file needs basic_auth_user");
  } else if (user && password) {
    cfg.metrics_http.basic_auth_user = user->value;
    cfg.metrics_http.basic_auth_password_file = password->value;
    cfg.metrics_http.basic_auth_password_file_line = static_cast<int>(password->node->source().begin.line);
  }
  if (const toml::node* n = r.get("tls_certificate")) {
    // TLS is a reverse proxy's job (docs/operations.md); the key is known so the message can say
    // what to do.
    r.error(*n, "tls_certificate is not supported: /metrics speaks plain HTTP; put a TLS reverse proxy "
                "(nginx, stunnel) in front of it and keep [listen] metrics on 127.0.0.1 "
                "(docs/operations.md)");
  }
  r.finish();
}

// ---- [storage], [security] ------------------------------------------------------------------

void read_storage(TableReader& r, Config& cfg) {
  if (auto f = r.number("checkpoint_seconds")) {
    // Below 50 ms the store would rewrite the state faster than a disk can usefully sync it.
    if (f->value < 0.05 || f->value > 3600) {
      r.error(*f->node,
              fmt::format("checkpoint_seconds = {} is out of range: 0.05 to 3600 seconds (it is "
                          "the most a crash can lose)",
                          f->value));
    } else {
      cfg.storage.checkpoint_seconds = f->value;
    }
  }
  if (auto f = r.number("gap_seconds")) {
    if (f->value < 0 || f->value > 86400) {
      r.error(*f->node, fmt::format("gap_seconds = {} is out of range: 0 to 86400", f->value));
    } else {
      cfg.storage.gap_seconds = f->value;
    }
  }
  r.finish();
}

constexpr std::string_view kRoles[] = {"kiosk", "supervisor", "feed"};
constexpr std::string_view kZ85 =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

bool is_z85_key(std::string_view s) {
  return s.size() == 40 &&
         std::all_of(s.begin(), s.end(), [](char c) { return kZ85.find(c) != std::string_view::npos; });
}

// A key name becomes a file name in keys_dir: no path separators, nothing hidden.
bool is_key_name(std::string_view s) {
  return !s.empty() && s.size() <= 64 && s.front() != '.' &&
         std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
         });
}

void read_security_client(TableReader& r, Config& cfg, std::map<std::string, int>& seen) {
  ClientKeyConfig c;
  c.line = static_cast<int>(r.table().source().begin.line);
  bool ok = true;
  if (auto f = r.string("name")) {
    r.set_where(fmt::format("[[security.client]] \"{}\"", f->value));
    if (!is_key_name(f->value)) {
      r.error(*f->node, fmt::format("name \"{}\" must be 1 to 64 letters, digits, '-', '_' or '.' "
                                    "(it names the file <name>.pub in keys_dir)",
                                    f->value));
      ok = false;
    } else if (auto [it, fresh] = seen.emplace(f->value, static_cast<int>(f->node->source().begin.line));
               !fresh) {
      r.error(*f->node, fmt::format("duplicate client \"{}\" (first defined on line {})", f->value,
                                    it->second));
      ok = false;
    } else {
      c.name = f->value;
    }
  } else {
    if (r.table().get("name") == nullptr) r.error_here("name is required");
    ok = false;
  }
  if (auto f = r.string("role")) {
    const auto* it = std::find(std::begin(kRoles), std::end(kRoles), f->value);
    if (it == std::end(kRoles)) {
      r.error(*f->node, not_one_of("role", f->value, kRoles));
      ok = false;
    } else {
      c.role = static_cast<ClientRole>(it - std::begin(kRoles));
    }
  } else {
    if (r.table().get("role") == nullptr) r.error_here(fmt::format("role is required: {}", one_of(kRoles)));
    ok = false;
  }
  if (auto f = r.string("public_key")) {
    if (!is_z85_key(f->value)) {
      r.error(*f->node, "public_key must be the 40-character Z85 text of a CURVE public key "
                        "(the content of a .pub file written by `callwatchd keygen`)");
      ok = false;
    } else {
      c.public_key = f->value;
    }
  }
  r.finish();
  if (ok) cfg.security.clients.push_back(std::move(c));
}

std::vector<std::string> read_queue_refs(TableReader& r, const Config& cfg);

// One [[security.scope]]: its clients must be configured kiosk or supervisor keys, each in one
// scope only, and it must name at least one queue (an empty scope would show nothing at all).
void read_security_scope(TableReader& r, Config& cfg, std::map<std::string, std::string>& scope_of,
                         std::set<std::string>& scope_names) {
  ScopeConfig sc;
  sc.line = static_cast<int>(r.table().source().begin.line);
  bool ok = true;
  if (auto f = r.string("name")) {
    r.set_where(fmt::format("[[security.scope]] \"{}\"", f->value));
    if (f->value.empty() || f->value.size() > 64) {
      r.error(*f->node, "name must be 1 to 64 bytes");
      ok = false;
    } else if (!scope_names.insert(f->value).second) {
      r.error(*f->node, fmt::format("duplicate scope \"{}\"", f->value));
      ok = false;
    }
    sc.name = f->value;
  } else {
    if (r.table().get("name") == nullptr) r.error_here("name is required");
    ok = false;
  }
  if (auto f = r.string_array("clients")) {
    const toml::array& arr = *f->node->as_array();
    if (arr.empty()) {
      r.error(*f->node, "clients is empty: list the [[security.client]] names bound to this scope");
      ok = false;
    }
    for (const toml::node& e : arr) {
      const auto* v = e.as_string();
      if (v == nullptr) continue;  // reported by string_array
      const std::string& name = v->get();
      const auto it = std::find_if(cfg.security.clients.begin(), cfg.security.clients.end(),
                                   [&](const ClientKeyConfig& c) { return c.name == name; });
      if (it == cfg.security.clients.end()) {
        std::vector<std::string> known;
        for (const auto& c : cfg.security.clients) known.push_back(c.name);
        std::string msg = fmt::format("clients: \"{}\" is not a [[security.client]]", name);
        if (auto m = closest_match(name, known)) msg += fmt::format(" (did you mean \"{}\"?)", *m);
        r.error(e, msg);
        ok = false;
      } else if (it->role == ClientRole::feed) {
        r.error(e, fmt::format("clients: \"{}\" is a feed key; only kiosk and supervisor keys see "
                               "queues",
                               name));
        ok = false;
      } else if (auto [at, fresh] = scope_of.emplace(name, sc.name); !fresh) {
        r.error(e, fmt::format("clients: \"{}\" is already bound to scope \"{}\" (a key has one "
                               "scope)",
                               name, at->second));
        ok = false;
      } else {
        sc.clients.push_back(name);
      }
    }
  } else {
    if (r.table().get("clients") == nullptr) r.error_here("clients is required: the keys bound to the scope");
    ok = false;
  }
  const toml::node* queues_node = r.table().get("queues");
  sc.queues = read_queue_refs(r, cfg);
  if (queues_node == nullptr) {
    r.error_here("queues is required: the queues these clients see and acknowledge");
    ok = false;
  } else if (sc.queues.empty()) {
    if (const auto* arr = queues_node->as_array(); arr != nullptr && arr->empty()) {
      r.error(*queues_node, "queues is empty: an empty scope would show nothing; list its queues");
    }
    ok = false;
  }
  r.finish();
  if (ok) cfg.security.scopes.push_back(std::move(sc));
}

void read_security(TableReader& r, Config& cfg) {
  auto dir = r.string("keys_dir");
  auto server = r.string("server_key");
  const toml::node* clients = r.get("client");
  const toml::node* scopes = r.get("scope");
  r.finish();
  if (dir) {
    if (dir->value.empty()) {
      r.error(*dir->node, "keys_dir must not be empty");
    } else {
      cfg.security.keys_dir = dir->value;
    }
  }
  if (server) {
    if (!is_key_name(server->value)) {
      r.error(*server->node,
              fmt::format("server_key \"{}\" must be the name of a key pair in keys_dir (letters, "
                          "digits, '-', '_', '.'): <name>.key and <name>.pub",
                          server->value));
    } else if (!dir) {
      r.error(*server->node, "server_key needs keys_dir (the folder holding <name>.key)");
    } else {
      cfg.security.server_key = server->value;
      cfg.security.server_key_line = static_cast<int>(server->node->source().begin.line);
    }
  }
  std::map<std::string, int> seen;
  if (clients != nullptr) {
    const toml::array* arr = clients->as_array();
    if (arr == nullptr || !clients->is_array_of_tables()) {
      r.error(*clients, "write each client as a [[security.client]] table with name and role");
    } else {
      for (const toml::node& e : *arr) {
        TableReader cr(*e.as_table(), "[[security.client]]", r.diag());
        read_security_client(cr, cfg, seen);
      }
    }
  }
  if (scopes != nullptr) {
    if (!scopes->is_array_of_tables()) {
      r.error(*scopes, "write each scope as a [[security.scope]] table with name, clients and queues");
    } else {
      std::map<std::string, std::string> scope_of;
      std::set<std::string> scope_names;
      for (const toml::node& e : *scopes->as_array()) {
        TableReader sr(*e.as_table(), "[[security.scope]]", r.diag());
        read_security_scope(sr, cfg, scope_of, scope_names);
      }
    }
  }
  const bool any_client_file = std::any_of(cfg.security.clients.begin(), cfg.security.clients.end(),
                                           [](const ClientKeyConfig& c) { return c.public_key.empty(); });
  if (any_client_file && !dir) {
    r.error(*clients, "a client without public_key is read from <keys_dir>/<name>.pub: set keys_dir");
  }
  if (server && !cfg.security.server_key.empty() && cfg.security.clients.empty() && clients == nullptr) {
    r.error(*server->node, "server_key turns CURVE on, but no [[security.client]] may connect: add "
                           "one per wallboard, supervisor desk and feed");
  }
  if (clients != nullptr && !server && !cfg.security.clients.empty()) {
    r.error(*clients, "clients are listed but server_key is not set, so CURVE is off and anyone "
                      "may connect: set server_key");
  }
}

// ---- [defaults] and [[queue]] ---------------------------------------------------------------

// The service-level keys shared by [defaults] and [[queue]]; `q` starts from the inherited values.
void read_service_level(TableReader& r, metrics::QueueSettings& q, bool inherits) {
  auto threshold = r.number("sl_threshold");
  if (threshold) {
    if (threshold->value <= 0) {
      r.error(*threshold->node,
              fmt::format("sl_threshold = {} must be greater than 0 seconds", threshold->value));
      threshold.reset();
    } else {
      q.sl_threshold = threshold->value;
    }
  }
  if (auto f = r.number("sl_target")) {
    if (f->value <= 0 || f->value >= 1) {
      r.error(*f->node,
              fmt::format("sl_target = {} must be between 0 and 1, exclusive (0.80 is 80 %)",
                          f->value));
    } else {
      q.sl_target = f->value;
    }
  }
  auto short_abandon = r.number("short_abandon");
  if (short_abandon) {
    if (short_abandon->value < 0) {
      r.error(*short_abandon->node,
              fmt::format("short_abandon = {} must be 0 or more seconds", short_abandon->value));
      short_abandon.reset();
    } else {
      q.short_abandon = short_abandon->value;
    }
  }
  // METRICS.md needs S <= T: a short abandon must also be an abandon within the SL threshold.
  if (q.short_abandon > q.sl_threshold && (threshold || short_abandon)) {
    const toml::node& at = short_abandon ? *short_abandon->node : *threshold->node;
    std::string inherited;
    if (inherits && !threshold) inherited = " (sl_threshold from [defaults])";
    if (inherits && !short_abandon) inherited = " (short_abandon from [defaults])";
    r.error(at, fmt::format("short_abandon ({} s) must not exceed sl_threshold ({} s){}",
                            q.short_abandon, q.sl_threshold, inherited));
  }
  if (auto f = r.string("formula")) {
    metrics::SlFormula formula{};
    if (metrics::parse_sl_formula(f->value, formula)) {
      q.formula = formula;
    } else {
      r.error(*f->node, not_one_of("formula", f->value, kFormulas));
    }
  }
}

void read_defaults(TableReader& r, Config& cfg) {
  read_service_level(r, cfg.engine.queue_defaults, false);
  r.finish();
}

bool check_name(TableReader& r, const Field<std::string>& f, std::string_view what,
                std::size_t max_bytes) {
  if (f.value.empty()) {
    r.error(*f.node, fmt::format("{} must not be empty", what));
    return false;
  }
  if (has_control_chars(f.value)) {
    r.error(*f.node, fmt::format("{} must not contain control characters", what));
    return false;
  }
  if (f.value.size() > max_bytes) {
    r.error(*f.node, fmt::format("{} is {} bytes long; feeds reject names over max_name_bytes ({})",
                                 what, f.value.size(), max_bytes));
    return false;
  }
  return true;
}

void read_queue(TableReader& r, Config& cfg, std::map<std::string, int>& seen) {
  metrics::QueueSettings q = cfg.engine.queue_defaults;
  q.site = cfg.site;
  std::string name;
  if (auto f = r.string("name")) {
    r.set_where(fmt::format("[[queue]] \"{}\"", f->value));
    if (check_name(r, *f, "name", cfg.engine.max_name_bytes)) {
      const int line = static_cast<int>(f->node->source().begin.line);
      if (auto [it, fresh] = seen.emplace(f->value, line); !fresh) {
        r.error(*f->node, fmt::format("duplicate queue \"{}\" (first defined on line {})", f->value,
                                      it->second));
      } else {
        name = f->value;
      }
    }
  } else if (r.table().get("name") == nullptr) {
    r.error_here("name is required (the queue name exactly as the feeds write it)");
  }
  if (auto f = r.string("display_name")) {
    if (has_control_chars(f->value)) {
      r.error(*f->node, "display_name must not contain control characters");
    } else {
      q.display_name = f->value;
    }
  }
  read_service_level(r, q, true);
  if (auto f = r.number("aht")) {
    if (f->value < 0) {
      r.error(*f->node, fmt::format("aht = {} must be 0 (measured) or more seconds", f->value));
    } else {
      q.erlang_aht = f->value;
    }
  }
  if (auto f = r.number("forecast_per_interval")) {
    if (f->value < 0) {
      r.error(*f->node,
              fmt::format("forecast_per_interval = {} must be 0 or more calls", f->value));
    } else {
      q.forecast_per_interval = f->value;
    }
  }
  if (auto f = r.string("site")) {
    if (has_control_chars(f->value)) {
      r.error(*f->node, "site must not contain control characters");
    } else {
      q.site = f->value;
    }
  }
  r.finish();
  if (!name.empty()) {
    cfg.queue_names.push_back(name);
    cfg.engine.queues.emplace(name, std::move(q));
  }
}

// A queue list (feed filter, alert scope): each entry must be a configured queue, so a typo
// cannot quietly watch nothing.
std::vector<std::string> read_queue_refs(TableReader& r, const Config& cfg) {
  auto f = r.string_array("queues");
  if (!f) return {};
  std::vector<std::string> out;
  const toml::array& arr = *f->node->as_array();
  for (const toml::node& e : arr) {
    const auto* s = e.as_string();
    if (s == nullptr) continue;  // reported by string_array
    const std::string& q = s->get();
    if (!cfg.engine.queues.contains(q)) {
      std::string msg = fmt::format("queues: \"{}\" is not a configured queue", q);
      if (auto m = closest_match(q, cfg.queue_names)) {
        msg += fmt::format(" (did you mean \"{}\"?)", *m);
      } else {
        msg += " (add a [[queue]] with this name)";
      }
      r.error(e, msg);
    } else if (std::find(out.begin(), out.end(), q) != out.end()) {
      r.error(e, fmt::format("queues: \"{}\" is listed twice", q));
    } else {
      out.push_back(q);
    }
  }
  return out;
}

// ---- [listen] -------------------------------------------------------------------------------

struct Listener {
  std::string what;  // "[listen] feed"
  Endpoint endpoint;
  const toml::node* node;  // nullptr: a default
};

void read_listen(TableReader& r, Config& cfg, std::vector<Listener>& listeners) {
  auto zmq = [&](std::string_view key, std::string& out) {
    auto f = r.string(key);
    if (f) {
      auto e = parse_zmq_endpoint(f->value);
      if (!e) {
        r.error(*f->node, fmt::format("{} \"{}\": {}", key, f->value, e.error()));
        return;
      }
      out = f->value;
    }
    auto e = parse_zmq_endpoint(out);
    if (e) listeners.push_back({fmt::format("[listen] {}", key), *e, f ? f->node : nullptr});
  };
  zmq("feed", cfg.listen.feed);
  zmq("publish", cfg.listen.publish);
  zmq("control", cfg.listen.control);
  auto f = r.string("metrics");
  if (f) {
    auto e = parse_host_port(f->value, true, std::nullopt);
    if (e) {
      cfg.listen.metrics = f->value;
    } else {
      r.error(*f->node, fmt::format("metrics \"{}\": {}", f->value, e.error()));
    }
  }
  if (auto e = parse_host_port(cfg.listen.metrics, true, std::nullopt)) {
    listeners.push_back({"[listen] metrics", *e, f ? f->node : nullptr});
  }
  r.finish();
}

// ---- [[feed]] -------------------------------------------------------------------------------

void read_feed(TableReader& r, Config& cfg, std::set<std::string>& names_seen,
               std::vector<Listener>& listeners) {
  FeedConfig feed;
  feed.line = static_cast<int>(r.table().source().begin.line);
  auto type = r.string("type");
  auto name = r.string("name");
  if (name) {
    r.set_where(fmt::format("[[feed]] \"{}\"", name->value));
    if (check_name(r, *name, "name", 256)) feed.name = name->value;
  }
  bool type_ok = false;
  if (type) {
    if (const auto t = feed_type_from_string(type->value); !t) {
      r.error(*type->node, not_one_of("type", type->value, kFeedTypeNames));
    } else {
      feed.type = *t;
      type_ok = true;
      if (!name) {
        feed.name = to_string(feed.type);  // one feed of a kind needs no name
        r.set_where(fmt::format("[[feed]] \"{}\"", feed.name));
      }
    }
  } else if (r.table().get("type") == nullptr) {
    r.error_here(fmt::format("type is required: {}", one_of(kFeedTypeNames)));
  }
  if (!feed.name.empty() && !names_seen.insert(feed.name).second) {
    const toml::node* at = name ? name->node : (type ? type->node : nullptr);
    const std::string msg = fmt::format(
        "duplicate feed name \"{}\" (feed names label the callwatch_feed_* metrics; give each feed "
        "its own name)",
        feed.name);
    if (at != nullptr) {
      r.error(*at, msg);
    } else {
      r.error_here(msg);
    }
  }
  auto address = r.string("address");
  auto path = r.string("path");
  auto credentials = r.string("credentials_file");
  feed.queues = read_queue_refs(r, cfg);
  r.finish();
  if (!type_ok) return;

  // Which keys apply and which are required: the feed type's row (callwatch/config/feed_type.hpp).
  const FeedTypeInfo& kind = feed_type_info(feed.type);
  auto not_for = [&](const std::optional<Field<std::string>>& f, std::string_view key) {
    if (f) r.error(*f->node, fmt::format("{} does not apply to a {} feed", key, kind.name));
  };
  if (kind.address == FeedAddress::none) not_for(address, "address");
  if (!kind.needs_path) not_for(path, "path");
  if (!kind.needs_credentials) not_for(credentials, "credentials_file");
  if (kind.address == FeedAddress::zmq_endpoint) {
    feed.address = address ? address->value : cfg.listen.feed;
    auto e = parse_zmq_endpoint(feed.address);
    if (!e) {
      if (address)
        r.error(*address->node, fmt::format("address \"{}\": {}", address->value, e.error()));
    } else {
      // A feed without its own address shares [listen] feed; only a new endpoint binds anew.
      const bool own = address && feed.address != cfg.listen.feed;
      if (own)
        listeners.push_back({fmt::format("[[feed]] \"{}\" address", feed.name), *e, address->node});
    }
  } else if (kind.address == FeedAddress::host_port) {  // TCP clients of the PBX
    if (!address) {
      if (r.table().get("address") == nullptr) {
        r.error_here(
            fmt::format("address is required for an {} feed (e.g. \"pbx1.example.net:{}\")",
                        kind.name, kind.default_port));
      }
    } else if (auto e = parse_host_port(address->value, false, kind.default_port); !e) {
      r.error(*address->node, fmt::format("address \"{}\": {}", address->value, e.error()));
    } else {
      feed.address = to_host_port(*e);
    }
  }
  if (kind.needs_path) {
    if (!path) {
      if (r.table().get("path") == nullptr) {
        r.error_here(
            "path is required for a queue_log feed (e.g. \"/var/log/asterisk/queue_log\")");
      }
    } else if (path->value.empty()) {
      r.error(*path->node, "path must not be empty");
    } else {
      feed.path = path->value;
    }
  }
  if (kind.needs_credentials) {
    if (!credentials) {
      if (r.table().get("credentials_file") == nullptr) {
        r.error_here(fmt::format(
            "credentials_file is required for an {} feed ({} always asks for a "
            "login)",
            kind.name, kind.login_by));
      }
    } else if (credentials->value.empty()) {
      r.error(*credentials->node, "credentials_file must not be empty");
    } else {
      feed.credentials_file = credentials->value;
      feed.credentials_line = static_cast<int>(credentials->node->source().begin.line);
    }
  }
  cfg.feeds.push_back(std::move(feed));
}

// ---- [[alert]] ------------------------------------------------------------------------------

constexpr const auto& kAlertMetrics = metrics::kAlertMetricNames;
constexpr const auto& kSeverities = metrics::kAlertSeverityNames;
constexpr std::string_view kAlertWindows[] = {"15m", "1h", "today", "interval"};
// The enum indexes this list after its `live`: keep them in step.
static_assert(std::size(kAlertWindows) == static_cast<std::size_t>(AlertWindow::interval));

// "30s", "2m", "1h30m", "0s" -> seconds.
std::optional<double> parse_duration(std::string_view s) {
  if (s.empty()) return std::nullopt;
  double total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    double v = 0;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9' && j - i < 9) v = v * 10 + (s[j++] - '0');
    if (j == i || j >= s.size()) return std::nullopt;
    switch (s[j]) {
      case 's':
        total += v;
        break;
      case 'm':
        total += v * 60;
        break;
      case 'h':
        total += v * 3600;
        break;
      default:
        return std::nullopt;
    }
    i = j + 1;
  }
  return total;
}

void read_alert(TableReader& r, Config& cfg, std::map<std::string, int>& seen) {
  AlertRuleConfig a;
  a.line = static_cast<int>(r.table().source().begin.line);
  bool ok = true;
  if (auto f = r.string("name")) {
    r.set_where(fmt::format("[[alert]] \"{}\"", f->value));
    if (!check_name(r, *f, "name", 256)) {
      ok = false;
    } else if (auto [it, fresh] =
                   seen.emplace(f->value, static_cast<int>(f->node->source().begin.line));
               !fresh) {
      r.error(*f->node, fmt::format("duplicate alert \"{}\" (first defined on line {})", f->value,
                                    it->second));
      ok = false;
    } else {
      a.name = f->value;
    }
  } else {
    if (r.table().get("name") == nullptr) r.error_here("name is required");
    ok = false;
  }

  bool metric_ok = false;
  if (auto f = r.string("metric")) {
    const auto* it = std::find(std::begin(kAlertMetrics), std::end(kAlertMetrics), f->value);
    if (it == std::end(kAlertMetrics)) {
      r.error(*f->node, not_one_of("metric", f->value, kAlertMetrics));
    } else {
      a.metric = static_cast<AlertMetric>(it - std::begin(kAlertMetrics));
      metric_ok = true;
    }
  } else if (r.table().get("metric") == nullptr) {
    r.error_here(fmt::format("metric is required: {}", one_of(kAlertMetrics)));
  }
  ok = ok && metric_ok;

  auto window = r.string("window");
  auto formula = r.string("formula");
  auto above = r.number("above");
  auto below = r.number("below");
  auto clear = r.number("clear");
  auto duration = r.string("for");
  auto severity = r.string("severity");
  a.queues = read_queue_refs(r, cfg);
  const toml::node* queues_node = r.table().get("queues");
  r.finish();

  if (metric_ok) {
    const std::string_view metric = metrics::to_string(a.metric);
    if (window) {
      const auto* it = std::find(std::begin(kAlertWindows), std::end(kAlertWindows), window->value);
      if (!alert_metric_has_window(a.metric)) {
        r.error(*window->node,
                fmt::format("window does not apply to {} (a live value); windows apply "
                            "to service_level, abandon_rate and bounced_calls",
                            metric));
        ok = false;
      } else if (it == std::end(kAlertWindows)) {
        r.error(*window->node, not_one_of("window", window->value, kAlertWindows));
        ok = false;
      } else {
        a.window = static_cast<AlertWindow>(1 + (it - std::begin(kAlertWindows)));
      }
    } else {
      a.window = alert_metric_has_window(a.metric) ? AlertWindow::sliding_15m : AlertWindow::live;
    }
    if (formula) {
      metrics::SlFormula sf{};
      if (a.metric != AlertMetric::service_level) {
        r.error(*formula->node,
                fmt::format("formula applies to service_level only, not {}", metric));
        ok = false;
      } else if (!metrics::parse_sl_formula(formula->value, sf)) {
        r.error(*formula->node, not_one_of("formula", formula->value, kFormulas));
        ok = false;
      } else {
        a.formula = sf;
      }
    }
    if (a.metric == AlertMetric::feed_stale && !a.queues.empty()) {
      r.error(*queues_node, "queues does not apply to feed_stale (it watches every feed)");
      ok = false;
    }

    // Ranges follow the metric's unit: ratios lie in 0..1, counts and seconds are not negative.
    const bool ratio =
        a.metric == AlertMetric::service_level || a.metric == AlertMetric::abandon_rate;
    auto in_range = [&](const Field<double>& f, std::string_view key) {
      if (ratio && (f.value < 0 || f.value > 1)) {
        r.error(*f.node,
                fmt::format("{} = {} is out of range: {} is a ratio from 0 to 1 (0.7 is 70 %)", key,
                            f.value, metric));
        return false;
      }
      if (f.value < 0) {
        r.error(*f.node, fmt::format("{} = {} must not be negative", key, f.value));
        return false;
      }
      if (a.metric == AlertMetric::surge_ratio && f.value == 0) {
        r.error(*f.node, fmt::format("{} = 0: surge_ratio needs a level above 0 (1.5 = 50 % above "
                                     "expected)",
                                     key));
        return false;
      }
      return true;
    };
    if (above && below) {
      r.error(*below->node, "give either above or below, not both (make two rules for a band)");
      ok = false;
    } else if (!above && !below) {
      if (r.table().get("above") == nullptr && r.table().get("below") == nullptr) {
        r.error_here("needs a level: above = N (fires when the value rises past N) or below = N");
      }
      ok = false;
    } else {
      const Field<double>& level = above ? *above : *below;
      a.above = above.has_value();
      if (!in_range(level, a.above ? "above" : "below")) {
        ok = false;
      } else {
        a.threshold = level.value;
        a.clear = level.value;
        if (clear && in_range(*clear, "clear")) {
          // Hysteresis: the clear level must lie on the quiet side of the firing level.
          if (a.above && clear->value > a.threshold) {
            r.error(*clear->node,
                    fmt::format("clear = {} must not exceed above = {} (an alert above a "
                                "level clears at or below it)",
                                clear->value, a.threshold));
            ok = false;
          } else if (!a.above && clear->value < a.threshold) {
            r.error(*clear->node,
                    fmt::format("clear = {} must not be under below = {} (an alert below "
                                "a level clears at or above it)",
                                clear->value, a.threshold));
            ok = false;
          } else {
            a.clear = clear->value;
          }
        } else if (clear) {
          ok = false;
        }
      }
    }
  }
  if (duration) {
    if (auto secs = parse_duration(duration->value)) {
      a.for_seconds = *secs;
    } else {
      r.error(*duration->node, fmt::format("for = \"{}\" is not a duration: write it like \"30s\", "
                                           "\"5m\" or \"1h30m\"",
                                           duration->value));
      ok = false;
    }
  }
  if (severity) {
    const auto* it = std::find(std::begin(kSeverities), std::end(kSeverities), severity->value);
    if (it == std::end(kSeverities)) {
      r.error(*severity->node, not_one_of("severity", severity->value, kSeverities));
      ok = false;
    } else {
      a.severity = static_cast<AlertSeverity>(it - std::begin(kSeverities));
    }
  }
  if (ok) cfg.alerts.push_back(std::move(a));
}

// ---- the file -------------------------------------------------------------------------------

// Where a key written at the top level belongs, for "put it under [general]".
std::optional<std::string_view> home_table(std::string_view key) {
  static const std::map<std::string_view, std::string_view> kHome = {
      {"timezone", "[general]"},
      {"day_start", "[general]"},
      {"site", "[general]"},
      {"storage_path", "[general]"},
      {"log_rate_limit", "[general]"},
      {"publish", "[listen]"},
      {"control", "[listen]"},
      {"sl_threshold", "[defaults]"},
      {"sl_target", "[defaults]"},
      {"short_abandon", "[defaults]"},
      {"formula", "[defaults]"},
      {"agent_state", "[metrics]"},
      {"wrap_up_after_call", "[engine]"},
      {"max_name_bytes", "[engine]"},
      {"interval_minutes", "[engine]"},
      {"max_lateness_seconds", "[engine]"},
      {"max_event_age_seconds", "[engine]"},
      {"max_event_ahead_seconds", "[engine]"},
      {"max_queues", "[engine]"},
      {"max_agents", "[engine]"},
      {"checkpoint_seconds", "[storage]"},
      {"gap_seconds", "[storage]"},
      {"keys_dir", "[security]"},
      {"server_key", "[security]"},
      {"basic_auth_user", "[metrics]"},
      {"basic_auth_password_file", "[metrics]"},
      {"max_connections", "[metrics]"},
      {"idle_timeout_seconds", "[metrics]"},
      {"max_unsent_bytes", "[metrics]"},
      {"auth_failure_delay_seconds", "[metrics]"},
      {"max_queued_reply_bytes", "[publisher]"}};
  auto it = kHome.find(key);
  if (it == kHome.end()) return std::nullopt;
  return it->second;
}

const toml::table* table_section(const toml::table& root, std::string_view key, Diagnostics& diag) {
  const toml::node* n = root.get(key);
  if (n == nullptr) return nullptr;
  if (const auto* t = n->as_table()) return t;
  if (n->is_array_of_tables()) {
    diag.error(*n, fmt::format("[{}] is a single table: write [{}], not [[{}]]", key, key, key));
  } else {
    diag.error(*n, fmt::format("{} must be a table: write [{}] on a line of its own, then its keys",
                               key, key));
  }
  return nullptr;
}

// Each element of a [[name]] array, or an error when the section was written another way.
std::vector<const toml::table*> table_array(const toml::table& root, std::string_view key,
                                            Diagnostics& diag) {
  std::vector<const toml::table*> out;
  const toml::node* n = root.get(key);
  if (n == nullptr) return out;
  if (n->is_table()) {
    diag.error(*n, fmt::format("write [[{}]] (double brackets), one for each {}", key, key));
    return out;
  }
  const toml::array* arr = n->as_array();
  if (arr == nullptr) {
    diag.error(*n, fmt::format("{} must be written as [[{}]] tables", key, key));
    return out;
  }
  for (const toml::node& e : *arr) {
    if (const auto* t = e.as_table()) {
      out.push_back(t);
    } else {
      diag.error(
          e, fmt::format("{} must be written as [[{}]] tables, not {}", key, key, type_name(e)));
    }
  }
  return out;
}

void report_unknown_top_level(const toml::table& root, Diagnostics& diag) {
  std::vector<std::string> sections = names(kTables);
  for (auto a : kTableArrays) sections.emplace_back(a);
  for (auto&& [key, node] : root) {
    const std::string_view k = key.str();
    if (std::find(sections.begin(), sections.end(), k) != sections.end()) continue;
    std::string msg;
    if (node.is_table()) {
      msg = fmt::format("unknown table [{}]", k);
      if (auto s = closest_match(k, names(kTables)))
        msg += fmt::format(" (did you mean [{}]?)", *s);
    } else if (node.is_array_of_tables()) {
      msg = fmt::format("unknown table [[{}]]", k);
      if (auto s = closest_match(k, names(kTableArrays)))
        msg += fmt::format(" (did you mean [[{}]]?)", *s);
    } else if (auto home = home_table(k)) {
      msg = fmt::format("unknown top-level key '{}': it belongs under {}", k, *home);
    } else {
      msg = fmt::format("unknown top-level key '{}'", k);
      if (auto s = closest_match(k, sections)) msg += fmt::format(" (did you mean [{}]?)", *s);
    }
    diag.error(key.source().begin, std::move(msg));
  }
}

void check_listeners(const std::vector<Listener>& listeners, Diagnostics& diag) {
  for (std::size_t i = 0; i < listeners.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (!endpoints_clash(listeners[i].endpoint, listeners[j].endpoint)) continue;
      // Point at whichever of the two the file wrote (the later one when it wrote both).
      const Listener& at = listeners[i].node != nullptr ? listeners[i] : listeners[j];
      const Listener& other = &at == &listeners[i] ? listeners[j] : listeners[i];
      if (at.node == nullptr) continue;  // two defaults never clash
      diag.error(*at.node,
                 fmt::format("{} uses the same address as {}: each listener needs its own "
                             "port",
                             at.what, other.what));
    }
  }
}

}  // namespace

std::string ConfigError::to_string() const {
  if (line <= 0) return fmt::format("{}: {}", file, message);
  if (column <= 0) return fmt::format("{}:{}: {}", file, line, message);
  return fmt::format("{}:{}:{}: {}", file, line, column, message);
}

std::string_view to_string(AlertWindow w) {
  return w == AlertWindow::live ? "live" : kAlertWindows[static_cast<int>(w) - 1];
}

std::string_view to_string(ClientRole r) { return kRoles[static_cast<int>(r)]; }

bool alert_metric_has_window(AlertMetric m) {
  return m == AlertMetric::service_level || m == AlertMetric::abandon_rate ||
         m == AlertMetric::bounced_calls;
}

Config default_config() {
  Config c;
  c.source = "<defaults>";
  FeedConfig native;
  native.name = "native";
  native.type = FeedType::native;
  native.address = c.listen.feed;
  c.feeds.push_back(native);
  return c;
}

ConfigResult parse_config(std::string_view toml_text, const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view{source_name});
  } catch (const toml::parse_error& e) {
    const auto& at = e.source().begin;
    return tl::unexpected(std::vector<ConfigError>{
        ConfigError{source_name, static_cast<int>(at.line), static_cast<int>(at.column),
                    fmt::format("TOML syntax error: {}", e.description())}});
  }

  Config cfg;
  cfg.source = source_name;
  Diagnostics diag(source_name);
  report_unknown_top_level(root, diag);

  // Order matters: queues inherit [defaults] and [general] site, and check names against
  // [engine] max_name_bytes; feeds and alerts refer to queues.
  if (const auto* t = table_section(root, "general", diag)) {
    TableReader r(*t, "[general]", diag);
    read_general(r, cfg);
  }
  if (const auto* t = table_section(root, "engine", diag)) {
    TableReader r(*t, "[engine]", diag);
    read_engine(r, cfg);
  }
  if (const auto* t = table_section(root, "defaults", diag)) {
    TableReader r(*t, "[defaults]", diag);
    read_defaults(r, cfg);
  }
  std::map<std::string, int> queue_lines;
  for (const toml::table* t : table_array(root, "queue", diag)) {
    TableReader r(*t, "[[queue]]", diag);
    read_queue(r, cfg, queue_lines);
  }
  std::vector<Listener> listeners;
  {
    static const toml::table kEmpty;
    const toml::table* t = table_section(root, "listen", diag);
    TableReader r(t != nullptr ? *t : kEmpty, "[listen]", diag);
    read_listen(r, cfg, listeners);
  }
  if (const auto* t = table_section(root, "metrics", diag)) {
    TableReader r(*t, "[metrics]", diag);
    read_metrics(r, cfg);
  }
  if (const auto* t = table_section(root, "storage", diag)) {
    TableReader r(*t, "[storage]", diag);
    read_storage(r, cfg);
  }
  if (const auto* t = table_section(root, "publisher", diag)) {
    TableReader r(*t, "[publisher]", diag);
    read_publisher(r, cfg);
  }
  if (const auto* t = table_section(root, "security", diag)) {
    TableReader r(*t, "[security]", diag);
    read_security(r, cfg);
  }
  std::set<std::string> feed_names;
  const auto feed_tables = table_array(root, "feed", diag);
  for (const toml::table* t : feed_tables) {
    TableReader r(*t, "[[feed]]", diag);
    read_feed(r, cfg, feed_names, listeners);
  }
  if (feed_tables.empty() && root.get("feed") == nullptr) {
    // No [[feed]]: one native feed on [listen].feed (which may have been configured above).
    cfg.feeds = default_config().feeds;
    for (auto& f : cfg.feeds) f.address.clear();
  }
  for (auto& f : cfg.feeds) {
    if (f.type == FeedType::native && f.address.empty()) f.address = cfg.listen.feed;
  }
  check_listeners(listeners, diag);
  std::map<std::string, int> alert_lines;
  for (const toml::table* t : table_array(root, "alert", diag)) {
    TableReader r(*t, "[[alert]]", diag);
    read_alert(r, cfg, alert_lines);
  }

  if (!diag.empty()) return tl::unexpected(diag.take_sorted());
  return cfg;
}

ConfigResult load_config_file(const std::string& path) {
  auto fail = [&](std::string why) {
    return tl::unexpected(std::vector<ConfigError>{ConfigError{path, 0, 0, std::move(why)}});
  };
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return fail("is a directory, not a config file");
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(fmt::format("cannot open config file: {}", std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return fail(fmt::format("cannot read config file: {}", std::strerror(errno)));
  return parse_config(text.str(), path);
}

ConfigResult load_effective_config(const std::string& path, const std::string& default_path) {
  if (!path.empty()) return load_config_file(path);
  std::error_code ec;
  if (!default_path.empty() && std::filesystem::exists(default_path, ec)) {
    return load_config_file(default_path);
  }
  return default_config();
}

}  // namespace callwatch::config
