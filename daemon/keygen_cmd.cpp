// `callwatchd keygen --out DIR --name NAME`: writes a CURVE key pair (callwatch/protocol/keys.hpp)
// and prints the public key and where the files are.
#include <cstdio>
#include <filesystem>

#include "callwatch/protocol/keys.hpp"
#include "commands.hpp"

namespace callwatch::daemon {

int run_keygen(const KeygenOptions& opts) {
  auto keys = protocol::generate_curve_keypair();
  if (!keys) {
    std::fprintf(stderr, "callwatchd keygen: %s\n", keys.error().c_str());
    return 1;
  }
  if (auto ok = protocol::write_curve_keypair(opts.out_dir, opts.name, *keys, opts.force); !ok) {
    std::fprintf(stderr, "callwatchd keygen: %s\n", ok.error().c_str());
    return 1;
  }
  const auto dir = std::filesystem::path(opts.out_dir);
  std::printf("wrote %s (secret, mode 0600) and %s (public)\npublic key: %s\n",
              (dir / (opts.name + ".key")).c_str(), (dir / (opts.name + ".pub")).c_str(),
              keys->public_key.c_str());
  return 0;
}


}  // namespace callwatch::daemon
