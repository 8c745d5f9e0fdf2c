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

// A deflate stream with the gzip wrapper, reset for every body.
class Gzipper {
 public:
  Gzipper();
  ~Gzipper();
  Gzipper(const Gzipper&) = delete;
  Gzipper& operator=(const Gzipper&) = delete;

  // Replaces `out` with the gzip of `in`; false when zlib fails (send `in` as it is).
  bool compress(std::string_view in, std::string& out);

 private:
  z_stream zs_{};
  bool ok_ = false;
};

}  // namespace callwatch::daemon
