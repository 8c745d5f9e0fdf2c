// Accept-Encoding as RFC 9110 12.5.3 reads it: case-insensitive codings, q-values, "*" only for
// codings not listed; and the gzip stream turns a body into something any gunzip reads back.
#include "serve/content_coding.hpp"

#include <zlib.h>

#include <optional>
#include <string>

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

namespace {
// What a gunzip reads back from `gz`; nullopt unless it is one whole gzip member (CRC and size
// checked by zlib) and nothing follows it.
std::optional<std::string> gunzip(const std::string& gz) {
  std::string back(1 << 20, '\0');
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) return std::nullopt;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  zs.next_out = reinterpret_cast<Bytef*>(back.data());
  zs.avail_out = static_cast<uInt>(back.size());
  const int rc = inflate(&zs, Z_FINISH);
  const bool whole = rc == Z_STREAM_END && zs.avail_in == 0;
  back.resize(zs.total_out);
  inflateEnd(&zs);
  if (!whole) return std::nullopt;
  return back;
}
}  // namespace

TEST_CASE("a part deflated once makes whole gzip bodies with any tail", "[http][gzip]") {
  Gzipper g;
  std::string head;
  for (int i = 0; i < 5000; ++i) head += "callwatch_queue_calls_waiting{queue=\"q" + std::to_string(i) + "\"} 3\n";
  callwatch::daemon::DeflatedPart part;
  REQUIRE(g.deflate_part(head, part));
  CHECK(part.size == head.size());
  CHECK(part.bytes.size() < head.size() / 4);
  std::string out;
  // Two bodies from the same part, with different tails (the per-scrape samples), and an empty one.
  for (const std::string& tail : {std::string("callwatch_http_connections 1\n"),
                                 std::string("callwatch_http_connections 27\ncallwatch_build_info 1\n"),
                                 std::string()}) {
    REQUIRE(g.finish_with(part, tail, out));
    const auto back = gunzip(out);
    REQUIRE(back.has_value());
    CHECK(*back == head + tail);
  }
  // An empty head works too.
  REQUIRE(g.deflate_part("", part));
  REQUIRE(g.finish_with(part, "x 1\n", out));
  CHECK(gunzip(out) == std::optional<std::string>("x 1\n"));
  // A corrupt trailer is refused by the reader (the CRC is really checked).
  REQUIRE(g.finish_with(part, "x 1\n", out));
  out[out.size() - 6] ^= 1;
  CHECK_FALSE(gunzip(out).has_value());
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
