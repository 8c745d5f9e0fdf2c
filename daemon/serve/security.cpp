// The ZAP handler thread and the helpers around it. A REP socket on inproc://zeromq.zap.01 answers
// libzmq's authentication requests: 200 with user id "role:name" for a configured key allowed on
// the socket's domain, 400 for anything else. Denials are counted and logged rate-limited with the
// client's public key (public, so safe to log) and its address.
#include "serve/security.hpp"

#include <fmt/format.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>
#include <zmq_addon.hpp>

#include "runtime/log_limiter.hpp"
#include "runtime/logging.hpp"

namespace callwatch::daemon {

namespace {

constexpr const char* kZapEndpoint = "inproc://zeromq.zap.01";

std::array<std::uint8_t, 32> decode_key(const std::string& z85) {
  std::array<std::uint8_t, 32> out{};
  zmq_z85_decode(out.data(), z85.c_str());
  return out;
}

std::string encode_key(const std::uint8_t* bin) {
  std::array<char, 41> out{};
  zmq_z85_encode(out.data(), bin, 32);
  return std::string(out.data(), 40);
}

// Base64 as RFC 7617 sends it (RFC 4648 section 4, padded): whole 4-character groups, '=' only
// as the last one or two characters, and no stray bits in the last group, so every credential
// has exactly one spelling. False for anything else.
bool base64_decode(std::string_view in, std::string& out) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  out.clear();
  if (in.empty() || in.size() % 4 != 0) return false;
  const std::size_t pad = in.back() != '=' ? 0 : in[in.size() - 2] == '=' ? 2 : 1;
  const std::size_t chars = in.size() - pad;
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < chars; ++i) {
    const int v = value(in[i]);
    if (v < 0) return false;  // also a '=' before the end
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  // 2 or 4 bits are left over before padding; they must be zero.
  return (acc & ((1U << bits) - 1)) == 0;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  // Length leaks, content does not: compare every byte of the longer one.
  const std::size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0U : 1U;
  for (std::size_t i = 0; i < n; ++i) {
    const unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    const unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

}  // namespace

tl::expected<ServerSecurity, std::string> load_server_security(const config::SecurityConfig& cfg) {
  ServerSecurity sec;
  const std::filesystem::path dir(cfg.keys_dir);
  auto server = protocol::load_curve_secret((dir / (cfg.server_key + ".key")).string());
  if (!server) return tl::unexpected(server.error());
  sec.server = std::move(*server);
  for (const auto& c : cfg.clients) {
    CurveClient client;
    client.name = c.name;
    client.role = c.role;
    if (!c.public_key.empty()) {
      client.public_key = c.public_key;
    } else {
      auto pub = protocol::load_curve_public((dir / (c.name + ".pub")).string());
      if (!pub) return tl::unexpected(fmt::format("client \"{}\": {}", c.name, pub.error()));
      client.public_key = std::move(*pub);
    }
    if (!protocol::is_z85_key(client.public_key)) {
      return tl::unexpected(fmt::format("client \"{}\": not a valid CURVE public key", c.name));
    }
    if (client.public_key == sec.server.public_key) {
      return tl::unexpected(
          fmt::format("client \"{}\" uses the server's own key: give every client its own "
                      "pair (callwatchd keygen)",
                      c.name));
    }
    client.key = decode_key(client.public_key);
    sec.clients.push_back(std::move(client));
  }
  return sec;
}

bool role_allowed(config::ClientRole role, std::string_view domain) {
  switch (role) {
    case config::ClientRole::feed:
      return domain == kDomainFeed;
    case config::ClientRole::kiosk:
    case config::ClientRole::supervisor:
      return domain == kDomainPublish || domain == kDomainControl;
  }
  return false;
}

void apply_curve_server(zmq::socket_t& socket, const ServerSecurity& sec, std::string_view domain) {
  socket.set(zmq::sockopt::curve_server, 1);
  socket.set(zmq::sockopt::curve_secretkey, sec.server.secret_key);
  socket.set(zmq::sockopt::zap_domain, std::string(domain));
}

struct ZapHandler::Impl {
  ServerSecurity sec;
  std::map<std::array<std::uint8_t, 32>, std::size_t> by_key;
  zmq::socket_t rep;
  std::thread thread;
  std::atomic<bool> stop{false};
  mutable std::mutex mu;
  ZapStats stats;
  std::shared_ptr<spdlog::logger> log = component_logger("auth");
  LogLimiter denials{5};

  void summarise_denials() {
    if (const auto n = denials.take_held(std::chrono::steady_clock::now())) {
      log->warn("{} more refused connections in the last second", n);
    }
  }

  void log_denial(const std::string& text) {
    summarise_denials();
    if (denials.allow(std::chrono::steady_clock::now())) log->warn("{}", text);
  }

  // One request -> status code, text and user id (RFC 27).
  void answer(std::vector<zmq::message_t>& req) {
    // version, request id, domain, address, identity, mechanism, credentials...
    std::string request_id = req.size() > 1 ? req[1].to_string() : std::string();
    auto reply = [&](const char* code, std::string_view text, std::string_view user) {
      std::array<zmq::const_buffer, 6> frames = {zmq::buffer(std::string_view("1.0")),
                                                 zmq::buffer(request_id),
                                                 zmq::buffer(std::string_view(code)),
                                                 zmq::buffer(text),
                                                 zmq::buffer(user),
                                                 zmq::buffer(std::string_view())};
      (void)zmq::send_multipart(rep, frames);
    };
    if (req.size() < 6 || req[0].to_string_view() != "1.0") {
      std::lock_guard lock(mu);
      ++stats.denied_other;
      reply("400", "malformed ZAP request", "");
      return;
    }
    const std::string domain = req[2].to_string();
    const std::string address = req[3].to_string();
    const std::string mechanism = req[5].to_string();
    if (mechanism != "CURVE" || req.size() < 7 || req[6].size() != 32) {
      {
        std::lock_guard lock(mu);
        ++stats.denied_other;
      }
      log_denial(fmt::format("refused a {} connection from {} to {}: only CURVE clients are let in",
                             mechanism, address, domain));
      reply("400", "CURVE required", "");
      return;
    }
    std::array<std::uint8_t, 32> key{};
    std::memcpy(key.data(), req[6].data(), 32);
    auto it = by_key.find(key);
    if (it == by_key.end()) {
      {
        std::lock_guard lock(mu);
        ++stats.denied_unknown_key;
      }
      log_denial(fmt::format("refused unknown client key {} from {} on {}", encode_key(key.data()),
                             address, domain));
      reply("400", "unknown key", "");
      return;
    }
    const CurveClient& c = sec.clients[it->second];
    if (!role_allowed(c.role, domain)) {
      {
        std::lock_guard lock(mu);
        ++stats.denied_role;
      }
      log_denial(fmt::format(
          "refused client \"{}\" ({}) from {} on the {} socket: its role may not use it", c.name,
          config::to_string(c.role), address, domain));
      reply("400", "role not allowed on this socket", "");
      return;
    }
    {
      std::lock_guard lock(mu);
      ++stats.accepted;
    }
    log->debug("client \"{}\" ({}) connected from {} to {}", c.name, config::to_string(c.role),
               address, domain);
    reply("200", "OK", fmt::format("{}:{}", config::to_string(c.role), c.name));
  }

  void run() {
    while (!stop.load()) {
      std::array<zmq::pollitem_t, 1> items{{{rep.handle(), 0, ZMQ_POLLIN, 0}}};
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(100));
      summarise_denials();
      if ((items[0].revents & ZMQ_POLLIN) == 0) continue;
      std::vector<zmq::message_t> req;
      if (!zmq::recv_multipart(rep, std::back_inserter(req), zmq::recv_flags::dontwait)) continue;
      answer(req);
    }
  }
};

ZapHandler::ZapHandler(zmq::context_t& ctx, ServerSecurity sec) : impl_(std::make_unique<Impl>()) {
  impl_->sec = std::move(sec);
  for (std::size_t i = 0; i < impl_->sec.clients.size(); ++i)
    impl_->by_key.emplace(impl_->sec.clients[i].key, i);
  impl_->rep = zmq::socket_t(ctx, zmq::socket_type::rep);
  impl_->rep.set(zmq::sockopt::linger, 0);
  impl_->rep.bind(kZapEndpoint);
  Impl* m = impl_.get();
  impl_->thread = std::thread([m] { m->run(); });
  impl_->log->info("CURVE on: {} client keys ({})", impl_->sec.clients.size(), [&] {
    std::string roles;
    for (const auto& c : impl_->sec.clients) {
      roles += roles.empty() ? "" : ", ";
      roles += fmt::format("{} {}", c.name, config::to_string(c.role));
    }
    return roles;
  }());
}

ZapHandler::~ZapHandler() {
  impl_->stop = true;
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->rep.close();
}

ZapStats ZapHandler::stats() const {
  std::lock_guard lock(impl_->mu);
  return impl_->stats;
}

std::string peer_user_id(zmq::message_t& m) {
  const char* v = zmq_msg_gets(m.handle(), "User-Id");
  return v ? std::string(v) : std::string();
}

std::string_view role_of_user_id(std::string_view user_id) {
  const auto colon = user_id.find(':');
  return colon == std::string_view::npos ? std::string_view{} : user_id.substr(0, colon);
}

tl::expected<BasicAuth, std::string> load_basic_auth(const config::MetricsHttpConfig& cfg) {
  BasicAuth a;
  if (cfg.basic_auth_user.empty()) return a;
  if (auto ok =
          protocol::check_secret_file_mode(cfg.basic_auth_password_file, "metrics password file");
      !ok) {
    return tl::unexpected(ok.error());
  }
  std::ifstream in(cfg.basic_auth_password_file);
  std::string line;
  if (!in || !std::getline(in, line)) {
    return tl::unexpected(
        fmt::format("cannot read the metrics password file {}", cfg.basic_auth_password_file));
  }
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  if (line.empty()) {
    return tl::unexpected(
        fmt::format("the metrics password file {} is empty", cfg.basic_auth_password_file));
  }
  a.user = cfg.basic_auth_user;
  a.password = std::move(line);
  return a;
}

BasicAuthCheck verify_basic_auth(const char* header, const BasicAuth& auth) {
  using Outcome = BasicAuthCheck::Outcome;
  if (!auth.enabled()) return {Outcome::ok, {}};
  if (header == nullptr) return {Outcome::missing, {}};
  std::string_view h(header);
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  constexpr std::string_view kScheme = "Basic ";
  if (h.size() <= kScheme.size()) return {Outcome::malformed, {}};
  for (std::size_t i = 0; i < kScheme.size() - 1; ++i) {  // the scheme name is case-insensitive
    if (std::tolower(static_cast<unsigned char>(h[i])) !=
        std::tolower(static_cast<unsigned char>(kScheme[i]))) {
      return {Outcome::malformed, {}};
    }
  }
  h.remove_prefix(kScheme.size());
  while (!h.empty() && h.front() == ' ') h.remove_prefix(1);
  while (!h.empty() && h.back() == ' ') h.remove_suffix(1);
  std::string decoded;
  if (h.size() > 1024 || !base64_decode(h, decoded)) return {Outcome::malformed, {}};
  const auto colon = decoded.find(':');
  if (colon == std::string::npos) return {Outcome::malformed, {}};
  std::string user = decoded.substr(0, colon);
  const bool user_ok = equal_constant_time(user, auth.user);
  const bool pass_ok =
      equal_constant_time(std::string_view(decoded).substr(colon + 1), auth.password);
  return {user_ok && pass_ok ? Outcome::ok : Outcome::wrong, std::move(user)};
}

bool check_basic_auth(const char* header, const BasicAuth& auth) {
  return verify_basic_auth(header, auth).outcome == BasicAuthCheck::Outcome::ok;
}

}  // namespace callwatch::daemon
