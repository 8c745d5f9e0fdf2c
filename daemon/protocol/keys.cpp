// Key files. The secret file is opened with O_CREAT|O_EXCL and mode 0600 so it never exists with
// wider permissions, even between open and chmod; reading checks the mode before the content.
#include "callwatch/protocol/keys.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace callwatch::protocol {

namespace {

constexpr std::string_view kZ85 =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 64 || s.front() == '.') return false;
  for (char c : s) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

// `key = "value"` -> value; anything else -> "".
std::string_view quoted_value(std::string_view line, std::string_view key) {
  line = trim(line);
  if (line.substr(0, key.size()) != key) return {};
  line = trim(line.substr(key.size()));
  if (line.empty() || line.front() != '=') return {};
  line = trim(line.substr(1));
  if (line.size() < 2 || line.front() != '"' || line.back() != '"') return {};
  return line.substr(1, line.size() - 2);
}

tl::expected<void, std::string> write_all(int fd, std::string_view text, const std::string& path) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return tl::unexpected(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
    }
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

tl::expected<void, std::string> write_file(const std::string& path, std::string_view text,
                                           mode_t mode, bool force) {
  if (force) ::unlink(path.c_str());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    if (errno == EEXIST) {
      return tl::unexpected(
          fmt::format("{} already exists: keep it, or pass --force to replace the pair", path));
    }
    return tl::unexpected(fmt::format("cannot create {}: {}", path, std::strerror(errno)));
  }
  auto ok = write_all(fd, text, path);
  // The umask may have narrowed the mode; a public key should stay readable by clients.
  if (ok && ::fchmod(fd, mode) != 0)
    ok = tl::unexpected(fmt::format("cannot chmod {}: {}", path, std::strerror(errno)));
  if (ok && ::fsync(fd) != 0)
    ok = tl::unexpected(fmt::format("cannot sync {}: {}", path, std::strerror(errno)));
  ::close(fd);
  if (!ok) ::unlink(path.c_str());
  return ok;
}

}  // namespace

bool is_z85_key(std::string_view text) {
  if (text.size() != 40) return false;
  for (char c : text) {
    if (kZ85.find(c) == std::string_view::npos) return false;
  }
  std::array<std::uint8_t, 32> bin{};
  const std::string copy(text);
  return zmq_z85_decode(bin.data(), copy.c_str()) != nullptr;
}

tl::expected<CurveKeyPair, std::string> generate_curve_keypair() {
  std::array<char, 41> pub{};
  std::array<char, 41> sec{};
  if (zmq_curve_keypair(pub.data(), sec.data()) != 0) {
    return tl::unexpected(
        fmt::format("cannot generate a CURVE key pair: {} (libzmq built without CURVE?)",
                    zmq_strerror(zmq_errno())));
  }
  CurveKeyPair k{std::string(pub.data(), 40), std::string(sec.data(), 40)};
  sec.fill(0);
  return k;
}

tl::expected<void, std::string> write_curve_keypair(const std::string& dir, const std::string& name,
                                                    const CurveKeyPair& keys, bool force) {
  if (!valid_name(name)) {
    return tl::unexpected(
        fmt::format("key name \"{}\" must be 1 to 64 letters, digits, '-', '_' or '.'", name));
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return tl::unexpected(fmt::format("cannot create {}: {}", dir, ec.message()));
  const std::string key_path = (std::filesystem::path(dir) / (name + ".key")).string();
  const std::string pub_path = (std::filesystem::path(dir) / (name + ".pub")).string();
  const std::string secret_text = fmt::format(
      "# callwatch CURVE key pair \"{}\": the SECRET half. Keep it on this machine, mode 0600.\n"
      "# Its public half is {}.pub; give that to the peers instead.\n"
      "public-key = \"{}\"\n"
      "secret-key = \"{}\"\n",
      name, name, keys.public_key, keys.secret_key);
  if (auto r = write_file(key_path, secret_text, 0600, force); !r) return r;
  if (auto r = write_file(pub_path, keys.public_key + "\n", 0644, force); !r) {
    ::unlink(key_path.c_str());
    return r;
  }
  return {};
}

tl::expected<void, std::string> check_secret_file_mode(const std::string& path,
                                                       std::string_view what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return tl::unexpected(fmt::format("{} {}: {}", what, path, std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode))
    return tl::unexpected(fmt::format("{} {} is not a regular file", what, path));
  // Others may not touch it at all; a group may read it (root:callwatch 0640 is the usual way to
  // hand a root-owned secret to the service user) but not change it.
  if ((st.st_mode & (S_IRWXO | S_IWGRP)) != 0) {
    return tl::unexpected(
        fmt::format("{} {} is open to other users (mode {:04o}); refusing to use it: "
                    "run chmod 600 {} (or 640 with a group only the service is in)",
                    what, path, st.st_mode & 07777, path));
  }
  return {};
}

tl::expected<CurveKeyPair, std::string> load_curve_secret(const std::string& path) {
  if (auto ok = check_secret_file_mode(path, "CURVE secret key"); !ok)
    return tl::unexpected(ok.error());
  std::ifstream in(path);
  if (!in) return tl::unexpected(fmt::format("cannot read CURVE secret key {}", path));
  CurveKeyPair k;
  std::string line;
  while (std::getline(in, line)) {
    if (auto v = quoted_value(line, "public-key"); !v.empty()) k.public_key = std::string(v);
    if (auto v = quoted_value(line, "secret-key"); !v.empty()) k.secret_key = std::string(v);
  }
  if (!is_z85_key(k.secret_key)) {
    return tl::unexpected(
        fmt::format("{} holds no valid secret-key line (write it with callwatchd keygen)", path));
  }
  // The public half follows from the secret one; derive it rather than trust a hand-edited line.
  std::array<char, 41> pub{};
  if (zmq_curve_public(pub.data(), k.secret_key.c_str()) != 0) {
    return tl::unexpected(fmt::format("{}: the secret key is not a valid CURVE key", path));
  }
  k.public_key.assign(pub.data(), 40);
  return k;
}

tl::expected<std::string, std::string> load_curve_public(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return tl::unexpected(
        fmt::format("cannot read CURVE public key {}: {}", path, std::strerror(errno)));
  std::string line;
  while (std::getline(in, line)) {
    const std::string_view t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    if (auto v = quoted_value(t, "public-key"); !v.empty()) {
      if (is_z85_key(v)) return std::string(v);
    }
    if (is_z85_key(t)) return std::string(t);
    break;
  }
  return tl::unexpected(
      fmt::format("{} does not hold a CURVE public key (one line of 40 Z85 characters)", path));
}

void apply_curve_client(zmq::socket_t& socket, const CurveKeyPair& client,
                        const std::string& server_public) {
  socket.set(zmq::sockopt::curve_serverkey, server_public);
  socket.set(zmq::sockopt::curve_publickey, client.public_key);
  socket.set(zmq::sockopt::curve_secretkey, client.secret_key);
}

}  // namespace callwatch::protocol
