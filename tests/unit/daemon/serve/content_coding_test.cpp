// Accept-Encoding as RFC 9110 12.5.3 reads it: case-insensitive codings, q-values, "*" only for
// codings not listed; and the gzip stream turns a body into something any gunzip reads back.
#include "serve/content_coding.hpp"

#include <zlib.h>

#include <catch2/catch.hpp>

using callwatch::daemon::accepts_gzip;
using callwatch::daemon::Gzipper;

TEST_CASE("gzip is accepted by any spelling and refused by a zero weight", "[http][gzip]") {
  CHECK(accepts_gzip("gzip"));
  CHECK(accepts_gzip("GZIP"));
  CHECK(accepts_gzip("deflate, GZip ; q=0.5"));
  CHECK(accepts_gzip("x-gzip"));
  CHECK(accepts_gzip("gzip;Q=1"));
  CHECK(accepts_gzip("gzip;q=0.001"));
  CHECK(accepts_gzip("*"));
  CHECK(accepts_gzip("br, *;q=0.1"));
  CHECK_FALSE(accepts_gzip(""));
  CHECK_FALSE(accepts_gzip("identity"));
  CHECK_FALSE(accepts_gzip("gzipped, ungzip"));
  CHECK_FALSE(accepts_gzip("gzip;q=0"));
  CHECK_FALSE(accepts_gzip("gzip;q=0.000"));
  CHECK_FALSE(accepts_gzip("GZIP;Q=0."));
  // A listed gzip decides over "*", whichever comes first.
  CHECK_FALSE(accepts_gzip("*, gzip;q=0"));
  CHECK_FALSE(accepts_gzip("gzip;q=0, *;q=1"));
  CHECK(accepts_gzip("*;q=0, gzip"));
  CHECK_FALSE(accepts_gzip("*;q=0"));
  // A malformed weight voids its item: nothing else offered, so no gzip.
  CHECK_FALSE(accepts_gzip("gzip;q=2"));
  CHECK_FALSE(accepts_gzip("gzip;q=0.0001"));
  CHECK_FALSE(accepts_gzip("gzip;q=1.5"));
  CHECK(accepts_gzip("gzip;q=1.5, *"));
}

TEST_CASE("the gzip stream is reused body after body", "[http][gzip]") {
  Gzipper g;
  std::string out;
  for (const std::string& in : {std::string(100000, 'a'), std::string("# HELP x y\n")}) {
    REQUIRE(g.compress(in, out));
    std::string back(in.size(), '\0');
    z_stream zs{};
    REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
    zs.next_in = reinterpret_cast<Bytef*>(out.data());
    zs.avail_in = static_cast<uInt>(out.size());
    zs.next_out = reinterpret_cast<Bytef*>(back.data());
    zs.avail_out = static_cast<uInt>(back.size());
    CHECK(inflate(&zs, Z_FINISH) == Z_STREAM_END);
    inflateEnd(&zs);
    CHECK(back == in);
  }
}
