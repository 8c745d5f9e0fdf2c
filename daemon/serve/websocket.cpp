#include "serve/websocket.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>

namespace callwatch::daemon::ws {

std::string accept_key(std::string_view client_key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string text(client_key);
  text += kGuid;
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  std::array<unsigned char, 4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1> b64{};
  const int n = EVP_EncodeBlock(b64.data(), digest.data(), SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(b64.data()), static_cast<std::size_t>(n));
}

std::string frame_header(Opcode op, std::size_t n) {
  std::string h;
  h.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(op)));
  if (n < 126) {
    h.push_back(static_cast<char>(n));
  } else if (n <= 0xFFFF) {
    h.push_back(static_cast<char>(126));
    h.push_back(static_cast<char>((n >> 8) & 0xFF));
    h.push_back(static_cast<char>(n & 0xFF));
  } else {
    h.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8) {
      h.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF));
    }
  }
  return h;
}

std::string frame(Opcode op, std::string_view payload) {
  std::string f = frame_header(op, payload.size());
  f += payload;
  return f;
}

FrameReader::Status FrameReader::next(Frame& out) {
  const auto byte = [this](std::size_t i) { return static_cast<std::uint8_t>(buffer_[i]); };
  if (buffer_.size() < 2) return Status::need_more;
  const bool fin = (byte(0) & 0x80) != 0;
  const auto op = static_cast<Opcode>(byte(0) & 0x0F);
  const bool masked = (byte(1) & 0x80) != 0;
  std::uint64_t len = byte(1) & 0x7F;
  std::size_t at = 2;
  auto fail = [this](const char* why) {
    why_ = why;
    return Status::error;
  };
  if ((byte(0) & 0x70) != 0) return fail("reserved bits set (no extension was agreed)");
  if (!masked) return fail("client frame not masked");
  if (!fin || op == Opcode::continuation) return fail("fragmented message");
  if (op != Opcode::text && op != Opcode::binary && op != Opcode::close && op != Opcode::ping &&
      op != Opcode::pong) {
    return fail("unknown opcode");
  }
  if (len == 126) {
    if (buffer_.size() < 4) return Status::need_more;
    len = (std::uint64_t{byte(2)} << 8) | byte(3);
    at = 4;
  } else if (len == 127) {
    if (buffer_.size() < 10) return Status::need_more;
    len = 0;
    for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | byte(i);
    at = 10;
  }
  if (len > max_payload_) return fail("frame larger than the limit");
  if (buffer_.size() < at + 4 + len) return Status::need_more;
  const std::array<std::uint8_t, 4> mask{byte(at), byte(at + 1), byte(at + 2), byte(at + 3)};
  at += 4;
  out.op = op;
  out.payload.assign(buffer_, at, static_cast<std::size_t>(len));
  for (std::size_t i = 0; i < out.payload.size(); ++i) {
    out.payload[i] = static_cast<char>(static_cast<std::uint8_t>(out.payload[i]) ^ mask[i % 4]);
  }
  buffer_.erase(0, at + static_cast<std::size_t>(len));
  return Status::frame;
}

}  // namespace callwatch::daemon::ws
