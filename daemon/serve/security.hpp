// Access control of callwatchd. ZeroMQ CURVE on the feed, publish and control sockets with a ZAP
// handler that lets in only configured client keys and tags each connection with its role
// (ZeroMQ user id "role:name"), and basic auth for /metrics. Secrets are never logged.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>
#include <zmq.hpp>

#include "callwatch/config/config.hpp"
#include "callwatch/protocol/keys.hpp"

namespace callwatch::daemon {

// ZAP domains: which socket a connection is for, so a role can be let into one and not another.
inline constexpr std::string_view kDomainFeed = "feed";        // PULL: feed keys only
inline constexpr std::string_view kDomainPublish = "publish";  // XPUB: kiosk and supervisor keys
inline constexpr std::string_view kDomainControl = "control";  // ROUTER: kiosk and supervisor keys

struct CurveClient {
  std::string name;
  config::ClientRole role = config::ClientRole::kiosk;
  std::string public_key;              // Z85
  std::array<std::uint8_t, 32> key{};  // decoded: what ZAP hands over
};

// What the daemon needs to run CURVE, loaded once at start-up from [security].
struct ServerSecurity {
  protocol::CurveKeyPair server;
  std::vector<CurveClient> clients;
};

// Reads the server's secret key (refused when others may read it) and every client's public key
// (from the config, or <keys_dir>/<name>.pub). The error names the file and the fix.
tl::expected<ServerSecurity, std::string> load_server_security(const config::SecurityConfig& cfg);

// True when a key of `role` may connect to the socket of `domain`.
bool role_allowed(config::ClientRole role, std::string_view domain);

// Server side of CURVE on a socket, before bind(): our secret key and the ZAP domain.
void apply_curve_server(zmq::socket_t& socket, const ServerSecurity& sec, std::string_view domain);

struct ZapStats {
  std::uint64_t accepted = 0;
  std::uint64_t denied_unknown_key = 0;  // a key not in the config
  std::uint64_t denied_role = 0;         // a known key on a socket its role may not use
  std::uint64_t denied_other = 0;        // not CURVE (NULL/PLAIN) or a malformed request
};

// The ZAP handler (RFC 27) for one ZeroMQ context. It must run before any CURVE socket of that
// context binds: without a handler, libzmq lets every key in.
class ZapHandler {
 public:
  // Binds inproc://zeromq.zap.01 and starts its thread; throws zmq::error_t when another handler
  // already holds the endpoint in this context.
  ZapHandler(zmq::context_t& ctx, ServerSecurity sec);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  ZapStats stats() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// The ZAP user id of the peer that sent `m` ("supervisor:alice"), "" when CURVE is off.
std::string peer_user_id(zmq::message_t& m);
// "supervisor:alice" -> "supervisor"; "" -> "".
std::string_view role_of_user_id(std::string_view user_id);

// /metrics basic auth, loaded from [metrics]: the password file must not be readable by others.
struct BasicAuth {
  std::string user;
  std::string password;  // never logged
  bool enabled() const { return !user.empty(); }
};
tl::expected<BasicAuth, std::string> load_basic_auth(const config::MetricsHttpConfig& cfg);
// What an "Authorization: Basic ..." header value says, compared in time independent of where it
// differs. `user` is the name the client sent (for the log; never the password).
struct BasicAuthCheck {
  enum class Outcome : std::uint8_t { ok, missing, malformed, wrong };
  Outcome outcome = Outcome::missing;
  std::string user;
};
BasicAuthCheck verify_basic_auth(const char* header, const BasicAuth& auth);
bool check_basic_auth(const char* header, const BasicAuth& auth);  // outcome == ok

}  // namespace callwatch::daemon
