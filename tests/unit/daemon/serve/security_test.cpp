// Key files and the helpers of daemon/security: keygen writes a usable pair with the secret half
// closed to others, a secret others can read is refused, a public key reads back, roles map to
// sockets, and basic auth accepts exactly the configured user and password.
#include "callwatch/protocol/keys.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <tuple>
#include <zmq_addon.hpp>

#include "serve/security.hpp"

using namespace callwatch;
using namespace callwatch::daemon;
using namespace callwatch::protocol;

namespace {

struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int n = 0;
    path = std::filesystem::temp_directory_path() /
           ("callwatch-keys-test-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

mode_t mode_of(const std::string& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace

TEST_CASE("keygen writes a secret file only its owner can read and a public file that reads back",
          "[security][keys]") {
  TempDir dir;
  auto keys = generate_curve_keypair();
  REQUIRE(keys);
  CHECK(is_z85_key(keys->public_key));
  CHECK(is_z85_key(keys->secret_key));
  CHECK(keys->public_key != keys->secret_key);

  const mode_t old_umask = ::umask(0);  // even a permissive umask must not widen the secret file
  auto written = write_curve_keypair(dir.path.string(), "server", *keys);
  ::umask(old_umask);
  REQUIRE(written);
  CHECK(mode_of(dir.file("server.key")) == 0600);
  CHECK(mode_of(dir.file("server.pub")) == 0644);

  auto secret = load_curve_secret(dir.file("server.key"));
  REQUIRE(secret);
  CHECK(secret->secret_key == keys->secret_key);
  CHECK(secret->public_key == keys->public_key);  // derived from the secret half
  auto pub = load_curve_public(dir.file("server.pub"));
  REQUIRE(pub);
  CHECK(*pub == keys->public_key);

  // A second keygen with the same name keeps the first pair unless forced.
  auto again = write_curve_keypair(dir.path.string(), "server", *generate_curve_keypair());
  REQUIRE_FALSE(again);
  CHECK(again.error().find("already exists") != std::string::npos);
  CHECK(load_curve_secret(dir.file("server.key"))->secret_key == keys->secret_key);
  auto other = generate_curve_keypair();
  REQUIRE(write_curve_keypair(dir.path.string(), "server", *other, true));
  CHECK(load_curve_secret(dir.file("server.key"))->secret_key == other->secret_key);
}

TEST_CASE("a secret key or password file open to others is refused, naming the fix",
          "[security][keys]") {
  TempDir dir;
  auto keys = generate_curve_keypair();
  REQUIRE(write_curve_keypair(dir.path.string(), "server", *keys));
  REQUIRE(::chmod(dir.file("server.key").c_str(), 0644) == 0);
  auto loaded = load_curve_secret(dir.file("server.key"));
  REQUIRE_FALSE(loaded);
  CHECK(loaded.error().find("chmod 600") != std::string::npos);
  CHECK(loaded.error().find(keys->secret_key) == std::string::npos);  // never the secret itself
  REQUIRE(::chmod(dir.file("server.key").c_str(), 0604) == 0);        // others may read: refused
  CHECK_FALSE(load_curve_secret(dir.file("server.key")));
  REQUIRE(::chmod(dir.file("server.key").c_str(), 0660) == 0);  // the group may write: refused
  CHECK_FALSE(load_curve_secret(dir.file("server.key")));
  REQUIRE(::chmod(dir.file("server.key").c_str(), 0640) == 0);  // root:callwatch 0640: fine
  CHECK(load_curve_secret(dir.file("server.key")));
  REQUIRE(::chmod(dir.file("server.key").c_str(), 0400) == 0);
  CHECK(load_curve_secret(dir.file("server.key")));

  const std::string pass = dir.file("metrics.pass");
  std::ofstream(pass) << "s3cret\n";
  REQUIRE(::chmod(pass.c_str(), 0644) == 0);
  config::MetricsHttpConfig m;
  m.basic_auth_user = "prom";
  m.basic_auth_password_file = pass;
  auto refused = load_basic_auth(m);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().find("chmod 600") != std::string::npos);
  REQUIRE(::chmod(pass.c_str(), 0600) == 0);
  auto auth = load_basic_auth(m);
  REQUIRE(auth);
  CHECK(auth->password == "s3cret");  // the newline is not part of it
}

TEST_CASE("the server security loads client keys from the config or from keys_dir",
          "[security][keys]") {
  TempDir dir;
  REQUIRE(write_curve_keypair(dir.path.string(), "server", *generate_curve_keypair()));
  auto kiosk = generate_curve_keypair();
  REQUIRE(write_curve_keypair(dir.path.string(), "floor", *kiosk));
  auto sup = generate_curve_keypair();

  config::SecurityConfig cfg;
  cfg.keys_dir = dir.path.string();
  cfg.server_key = "server";
  cfg.clients.push_back({"floor", config::ClientRole::kiosk, "", 1});
  cfg.clients.push_back({"alice", config::ClientRole::supervisor, sup->public_key, 2});
  auto sec = load_server_security(cfg);
  REQUIRE(sec);
  REQUIRE(sec->clients.size() == 2);
  CHECK(sec->clients[0].public_key == kiosk->public_key);
  CHECK(sec->clients[1].public_key == sup->public_key);

  cfg.clients.push_back({"ghost", config::ClientRole::kiosk, "", 3});  // no ghost.pub
  auto missing = load_server_security(cfg);
  REQUIRE_FALSE(missing);
  CHECK(missing.error().find("client \"ghost\"") != std::string::npos);
}

TEST_CASE("roles map to sockets: feeds push, kiosks and supervisors watch", "[security]") {
  using config::ClientRole;
  CHECK(role_allowed(ClientRole::feed, kDomainFeed));
  CHECK_FALSE(role_allowed(ClientRole::feed, kDomainPublish));
  CHECK_FALSE(role_allowed(ClientRole::feed, kDomainControl));
  CHECK(role_allowed(ClientRole::kiosk, kDomainPublish));
  CHECK(role_allowed(ClientRole::kiosk, kDomainControl));  // snapshots; acks are refused by role
  CHECK_FALSE(role_allowed(ClientRole::kiosk, kDomainFeed));
  CHECK(role_allowed(ClientRole::supervisor, kDomainControl));
  CHECK_FALSE(role_allowed(ClientRole::supervisor, kDomainFeed));
  CHECK(role_of_user_id("supervisor:alice") == "supervisor");
  CHECK(role_of_user_id("kiosk:floor-1") == "kiosk");
  CHECK(role_of_user_id("").empty());
}

TEST_CASE("basic auth accepts exactly the configured user and password", "[security]") {
  BasicAuth auth{"prom", "s3cret"};
  // base64("prom:s3cret") = cHJvbTpzM2NyZXQ=
  CHECK(check_basic_auth("Basic cHJvbTpzM2NyZXQ=", auth));
  CHECK(check_basic_auth("basic   cHJvbTpzM2NyZXQ=  ", auth));  // scheme is case-insensitive
  CHECK_FALSE(check_basic_auth(nullptr, auth));
  CHECK_FALSE(check_basic_auth("", auth));
  CHECK_FALSE(check_basic_auth("Bearer cHJvbTpzM2NyZXQ=", auth));
  // base64("prom:s3cre") = cHJvbTpzM2NyZQ==
  CHECK_FALSE(check_basic_auth("Basic cHJvbTpzM2NyZQ==", auth));
  // base64("prom:s3cretX") = cHJvbTpzM2NyZXRY
  CHECK_FALSE(check_basic_auth("Basic cHJvbTpzM2NyZXRY", auth));
  // base64("Prom:s3cret") = UHJvbTpzM2NyZXQ=
  CHECK_FALSE(check_basic_auth("Basic UHJvbTpzM2NyZXQ=", auth));
  CHECK_FALSE(check_basic_auth("Basic !!!!", auth));
  CHECK(check_basic_auth(nullptr, BasicAuth{}));  // auth off: everything passes
}

TEST_CASE("basic auth reads only canonical padded base64, and says what it got", "[security]") {
  using Outcome = BasicAuthCheck::Outcome;
  BasicAuth auth{"prom", "s3cret"};
  // "prom:s3cret" is 11 bytes: 3 whole groups and 2 bytes, so 16 characters ending in one '='.
  CHECK(verify_basic_auth("Basic cHJvbTpzM2NyZXQ=", auth).outcome == Outcome::ok);
  CHECK(verify_basic_auth("Basic cHJvbTpzM2NyZXQ", auth).outcome == Outcome::malformed);    // unpadded
  CHECK(verify_basic_auth("Basic cHJvbTpzM2NyZXQ==", auth).outcome == Outcome::malformed);  // one '=' too many
  CHECK(verify_basic_auth("Basic cHJvbTpzM2NyZXR=", auth).outcome == Outcome::malformed);   // 'R': stray low bits
  CHECK(verify_basic_auth("Basic cHJvbT=zM2NyZXQ=", auth).outcome == Outcome::malformed);   // '=' inside
  CHECK(verify_basic_auth("Basic cHJv bTpzM2NyZXQ=", auth).outcome == Outcome::malformed);  // a space inside
  CHECK(verify_basic_auth(nullptr, auth).outcome == Outcome::missing);
  // base64("prom:guess") = cHJvbTpndWVzcw==: the user is named, the password is not kept.
  const auto wrong = verify_basic_auth("Basic cHJvbTpndWVzcw==", auth);
  CHECK(wrong.outcome == Outcome::wrong);
  CHECK(wrong.user == "prom");
}

TEST_CASE("the ZAP handler lets in configured keys only, tagged with their role",
          "[security][zap]") {
  auto server = generate_curve_keypair();
  auto alice = generate_curve_keypair();
  auto pbx = generate_curve_keypair();
  auto stranger = generate_curve_keypair();
  ServerSecurity sec;
  sec.server = *server;
  for (auto [name, role, keys] : {std::tuple{"alice", config::ClientRole::supervisor, *alice},
                                  std::tuple{"pbx", config::ClientRole::feed, *pbx}}) {
    CurveClient c;
    c.name = name;
    c.role = role;
    c.public_key = keys.public_key;
    zmq_z85_decode(c.key.data(), keys.public_key.c_str());
    sec.clients.push_back(c);
  }

  zmq::context_t ctx(1);
  ZapHandler zap(ctx, sec);
  zmq::socket_t router(ctx, zmq::socket_type::router);
  router.set(zmq::sockopt::linger, 0);
  apply_curve_server(router, sec, kDomainControl);
  router.bind("tcp://127.0.0.1:*");
  const std::string endpoint = router.get(zmq::sockopt::last_endpoint);

  auto send_from = [&](const CurveKeyPair& keys, const std::string& text) {
    zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
    dealer.set(zmq::sockopt::linger, 0);
    apply_curve_client(dealer, keys, server->public_key);
    dealer.connect(endpoint);
    (void)dealer.send(zmq::buffer(text), zmq::send_flags::dontwait);
    // Wait for one message at the router; 1.5 s is far above a loopback handshake.
    std::vector<zmq::message_t> frames;
    router.set(zmq::sockopt::rcvtimeo, 1500);
    std::string user;
    std::string body;
    if (zmq::recv_multipart(router, std::back_inserter(frames))) {
      body = frames.back().to_string();
      user = peer_user_id(frames.back());
    }
    return std::pair{body, user};
  };

  auto [body, user] = send_from(*alice, "from alice");
  CHECK(body == "from alice");
  CHECK(user == "supervisor:alice");
  CHECK(send_from(*stranger, "from a stranger").first.empty());
  CHECK(send_from(*pbx, "from the feed key").first.empty());  // a feed key may not use control
  const auto st = zap.stats();
  CHECK(st.accepted == 1);
  CHECK(st.denied_unknown_key >= 1);
  CHECK(st.denied_role >= 1);
}
