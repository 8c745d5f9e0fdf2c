// The RFC 6455 pieces the browser board needs: the handshake's accept key, server frame headers
// and a reader of client frames (masked, bounded). No I/O here, so it is tested byte for byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace callwatch::daemon::ws {

enum class Opcode : std::uint8_t { continuation = 0, text = 1, binary = 2, close = 8, ping = 9, pong = 10 };

// Sec-WebSocket-Accept for a client's Sec-WebSocket-Key (RFC 6455 4.2.2).
std::string accept_key(std::string_view client_key);

// The header of one unmasked, final server frame carrying `payload_size` bytes.
std::string frame_header(Opcode op, std::size_t payload_size);

// A whole frame (header and payload), for control frames and small messages.
std::string frame(Opcode op, std::string_view payload);

// Client frames as bytes arrive. A client frame must be masked and final (the board's requests
// are a few dozen bytes: fragmented messages are not needed and are refused), and no payload may
// exceed max_payload; anything else is a protocol error and the connection is closed.
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_payload) : max_payload_(max_payload) {}

  struct Frame {
    Opcode op = Opcode::text;
    std::string payload;  // unmasked
  };
  enum class Status : std::uint8_t { frame, need_more, error };

  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next whole frame in what was fed, need_more, or error (with why()).
  Status next(Frame& out);
  const std::string& why() const { return why_; }

 private:
  std::size_t max_payload_;
  std::string buffer_;
  std::string why_;
};

}  // namespace callwatch::daemon::ws
