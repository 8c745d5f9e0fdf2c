#include <catch2/catch.hpp>

#include "serve/websocket.hpp"

using namespace callwatch::daemon;

TEST_CASE("the handshake's accept key is RFC 6455's own example", "[serve][websocket]") {
  // RFC 6455 1.3: key "dGhlIHNhbXBsZSBub25jZQ==" is answered "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".
  CHECK(ws::accept_key("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("server frame headers use the 7-bit, 16-bit and 64-bit lengths", "[serve][websocket]") {
  // FIN + text = 0x81; then the length: < 126 in the byte itself, 126 + 2 bytes, 127 + 8 bytes.
  CHECK(ws::frame_header(ws::Opcode::text, 5) == std::string("\x81\x05", 2));
  CHECK(ws::frame_header(ws::Opcode::text, 300) == std::string("\x81\x7e\x01\x2c", 4));  // 300 = 0x012c
  CHECK(ws::frame_header(ws::Opcode::text, 70000) ==
        std::string("\x81\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10));  // 70000 = 0x011170
  CHECK(ws::frame(ws::Opcode::pong, "hi") == std::string("\x8a\x02hi", 4));
}

TEST_CASE("a masked client frame is read whole, in pieces or not at all", "[serve][websocket]") {
  // RFC 6455 5.7: a masked "Hello" is 81 85 37 fa 21 3d 7f 9f 4d 51 58.
  const std::string hello("\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
  ws::FrameReader r(4096);
  ws::FrameReader::Frame f;
  r.feed(hello.substr(0, 4));
  CHECK(r.next(f) == ws::FrameReader::Status::need_more);
  r.feed(hello.substr(4));
  REQUIRE(r.next(f) == ws::FrameReader::Status::frame);
  CHECK(f.op == ws::Opcode::text);
  CHECK(f.payload == "Hello");
  CHECK(r.next(f) == ws::FrameReader::Status::need_more);
}

TEST_CASE("unmasked, fragmented and oversized client frames are protocol errors",
          "[serve][websocket]") {
  ws::FrameReader::Frame f;
  {
    ws::FrameReader r(4096);
    r.feed(std::string("\x81\x05Hello", 7));  // the server's own framing: no mask
    CHECK(r.next(f) == ws::FrameReader::Status::error);
  }
  {
    ws::FrameReader r(4096);
    r.feed(std::string("\x01\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11));  // FIN clear
    CHECK(r.next(f) == ws::FrameReader::Status::error);
  }
  {
    ws::FrameReader r(100);
    r.feed(std::string("\x81\xfe\x01\x2c", 4));  // masked, 300 bytes announced, limit 100
    CHECK(r.next(f) == ws::FrameReader::Status::error);
  }
}
