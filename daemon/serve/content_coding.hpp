// Response compression of the HTTP side: whether a client's Accept-Encoding takes gzip, and a
// reusable gzip stream (one per thread) that compresses a /metrics body.
#pragma once

#include <zlib.h>

#include <string>
#include <string_view>

namespace callwatch::daemon {

// RFC 9110 12.5.3: codings are case-insensitive tokens, each with an optional weight; "gzip" (or
// its alias "x-gzip") with q > 0 accepts, q=0 refuses, and a listed gzip wins over "*".
bool accepts_gzip(std::string_view accept_encoding);

// A part of a body deflated once and reused by many bodies (the /metrics state of one published
// frame): raw deflate blocks that end byte-aligned and not final, with the CRC and size of what
// they hold.
struct DeflatedPart {
  std::string bytes;
  unsigned long crc = 0;
  std::size_t size = 0;
};

// Deflate streams with the gzip wrapper, reset for every body.
class Gzipper {
 public:
  Gzipper();
  ~Gzipper();
  Gzipper(const Gzipper&) = delete;
  Gzipper& operator=(const Gzipper&) = delete;

  // Replaces `out` with the gzip of `in`; false when zlib fails (send `in` as it is).
  bool compress(std::string_view in, std::string& out);
  // Deflates `in` as the first part of gzip bodies (ends with a sync flush: byte-aligned, not
  // final, no back-reference needed across it).
  bool deflate_part(std::string_view in, DeflatedPart& out);
  // Replaces `out` with one gzip member: `head` as it is, then `tail` deflated to the end, and the
  // trailer of both (one CRC and size): the same bytes a reader inflates as head + tail.
  bool finish_with(const DeflatedPart& head, std::string_view tail, std::string& out);

 private:
  bool deflate_raw(std::string_view in, int flush, std::string& out);
  z_stream zs_{};
  z_stream raw_{};
  bool ok_ = false;
  bool raw_ok_ = false;
};

}  // namespace callwatch::daemon
