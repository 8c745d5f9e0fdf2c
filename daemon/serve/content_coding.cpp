#include "serve/content_coding.hpp"

#include <cstdint>
#include <optional>

namespace callwatch::daemon {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ); true when it is above zero.
// nullopt for a malformed weight, which makes the whole item void.
std::optional<bool> positive_qvalue(std::string_view q) {
  if (q.empty() || (q[0] != '0' && q[0] != '1')) return std::nullopt;
  if (q.size() > 1 && (q[1] != '.' || q.size() > 5)) return std::nullopt;
  bool nonzero = q[0] == '1';
  for (std::size_t i = 2; i < q.size(); ++i) {
    if (q[i] < '0' || q[i] > '9' || (q[0] == '1' && q[i] != '0')) return std::nullopt;
    if (q[i] != '0') nonzero = true;
  }
  return nonzero;
}

}  // namespace

bool accepts_gzip(std::string_view header) {
  std::optional<bool> gzip, any;  // the weight given to gzip and to "*", when listed
  while (!header.empty()) {
    const auto comma = header.find(',');
    const std::string_view item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    const auto semi = item.find(';');
    const std::string_view coding = trim(item.substr(0, semi));
    const bool is_gzip = iequals(coding, "gzip") || iequals(coding, "x-gzip");
    if (!is_gzip && coding != "*") continue;
    std::optional<bool> weight = true;
    // Parameters other than q are not defined for Accept-Encoding; a q among them decides.
    for (std::string_view params = semi == std::string_view::npos ? "" : item.substr(semi + 1);
         !params.empty();) {
      const auto next = params.find(';');
      const std::string_view p = trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
      if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
        weight = positive_qvalue(p.substr(2));
    }
    if (!weight) continue;
    (is_gzip ? gzip : any) = *weight;
  }
  if (gzip) return *gzip;
  return any.value_or(false);
}

Gzipper::Gzipper() {
  // Level 1: Prometheus text compresses ~10x even at the fastest level, and a scrape of 100k
  // series must stay cheap (PERF.md scrape_100k).
  ok_ = deflateInit2(&zs_, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  raw_ok_ = deflateInit2(&raw_, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
}

Gzipper::~Gzipper() {
  if (ok_) deflateEnd(&zs_);
  if (raw_ok_) deflateEnd(&raw_);
}

bool Gzipper::deflate_raw(std::string_view in, int flush, std::string& out) {
  if (!raw_ok_ || deflateReset(&raw_) != Z_OK) return false;
  // deflateBound covers a finished stream; a sync flush adds at most 5 bytes more.
  const std::size_t at = out.size();
  out.resize(at + deflateBound(&raw_, static_cast<uLong>(in.size())) + 16);
  raw_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  raw_.avail_in = static_cast<uInt>(in.size());
  raw_.next_out = reinterpret_cast<Bytef*>(out.data() + at);
  raw_.avail_out = static_cast<uInt>(out.size() - at);
  const int rc = deflate(&raw_, flush);
  if (flush == Z_FINISH ? rc != Z_STREAM_END : (rc != Z_OK || raw_.avail_in != 0)) return false;
  out.resize(at + raw_.total_out);
  return true;
}

bool Gzipper::deflate_part(std::string_view in, DeflatedPart& out) {
  out.bytes.clear();
  if (!deflate_raw(in, Z_SYNC_FLUSH, out.bytes)) return false;
  out.crc = crc32(0L, reinterpret_cast<const Bytef*>(in.data()), static_cast<uInt>(in.size()));
  out.size = in.size();
  return true;
}

bool Gzipper::finish_with(const DeflatedPart& head, std::string_view tail, std::string& out) {
  // RFC 1952: ID1 ID2, CM 8 (deflate), no flags, MTIME 0, XFL 0, OS 3 (Unix).
  static constexpr unsigned char kHeader[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
  out.assign(reinterpret_cast<const char*>(kHeader), sizeof kHeader);
  out.append(head.bytes);
  if (!deflate_raw(tail, Z_FINISH, out)) return false;
  const uLong tail_crc = crc32(0L, reinterpret_cast<const Bytef*>(tail.data()), static_cast<uInt>(tail.size()));
  const uLong crc = crc32_combine(head.crc, tail_crc, static_cast<z_off_t>(tail.size()));
  const auto size = static_cast<std::uint32_t>(head.size + tail.size());  // ISIZE: mod 2^32
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((size >> (8 * i)) & 0xff));
  return true;
}

bool Gzipper::compress(std::string_view in, std::string& out) {
  if (!ok_ || deflateReset(&zs_) != Z_OK) return false;
  out.resize(deflateBound(&zs_, static_cast<uLong>(in.size())));
  zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  zs_.avail_in = static_cast<uInt>(in.size());
  zs_.next_out = reinterpret_cast<Bytef*>(out.data());
  zs_.avail_out = static_cast<uInt>(out.size());
  if (deflate(&zs_, Z_FINISH) != Z_STREAM_END) return false;
  out.resize(zs_.total_out);
  return true;
}

}  // namespace callwatch::daemon
