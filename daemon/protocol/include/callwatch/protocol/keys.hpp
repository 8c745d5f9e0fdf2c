// CURVE key files of callwatch: `callwatchd keygen` writes them, the daemon and its clients read
// them. NAME.key holds the secret (mode 0600; a key file others can read is refused), NAME.pub the
// public key as one line of Z85 text that can be copied into a config.
#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <zmq.hpp>

namespace callwatch::protocol {

struct CurveKeyPair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters; never logged
};

// A fresh pair from libzmq (libsodium's random source).
tl::expected<CurveKeyPair, std::string> generate_curve_keypair();

// Writes <dir>/<name>.key (0600, created that way: never readable by others even for a moment)
// and <dir>/<name>.pub (0644). Refuses to overwrite unless `force`.
tl::expected<void, std::string> write_curve_keypair(const std::string& dir, const std::string& name,
                                                    const CurveKeyPair& keys, bool force = false);

// Reads a secret key file; refuses one that others may read or write, or its group may write
// ("chmod 600 FILE"), and says which file, never what is in it.
tl::expected<CurveKeyPair, std::string> load_curve_secret(const std::string& path);
// Reads a .pub file (one line of Z85; comment lines starting with '#' are skipped).
tl::expected<std::string, std::string> load_curve_public(const std::string& path);

// True for 40 characters of the Z85 alphabet that decode to 32 bytes.
bool is_z85_key(std::string_view text);

// A secret file (key, password) must not be open to others (group read is allowed, group write
// is not): the error names the file and the fix. `what` is how the message calls it ("CURVE secret
// key", "metrics password file").
tl::expected<void, std::string> check_secret_file_mode(const std::string& path,
                                                       std::string_view what);

// Client side of CURVE on any socket (wallboard, simulator, tests): the client's pair and the
// server's public key. Call before connect().
void apply_curve_client(zmq::socket_t& socket, const CurveKeyPair& client,
                        const std::string& server_public);

}  // namespace callwatch::protocol
