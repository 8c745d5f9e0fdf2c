#include "feeds/feed_common.hpp"

#include <charconv>
#include <fstream>
#include <algorithm>
#include <cmath>

namespace callwatch::daemon {

namespace {
char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Length of the valid UTF-8 sequence starting at s[i], 0 when invalid (overlong forms,
// surrogates, code points above U+10FFFF and truncated sequences are invalid).
std::size_t utf8_len(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n = 0;
  unsigned cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1Fu;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0Fu;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07u;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0u) != 0x80u) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3Fu);
  }
  if (n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) return 0;
  if (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) return 0;
  return n;
}
}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool parse_decimal(std::string_view s, double& out) {
  if (s.empty()) return false;
  std::size_t i = 0;
  if (s[0] == '-') i = 1;
  std::size_t digits = 0;
  bool dot = false;
  for (std::size_t k = i; k < s.size(); ++k) {
    const char c = s[k];
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  if (digits == 0) return false;
  double v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::fixed);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size() || !std::isfinite(v)) return false;
  out = v;
  return true;
}

bool parse_int(std::string_view s, long long& out) {
  if (s.empty()) return false;
  long long v = 0;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return false;
  out = v;
  return true;
}

void assign_utf8(std::string& out, std::string_view in) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size();) {
    const std::size_t n = utf8_len(in, i);
    if (n == 0) {
      out.append("\xEF\xBF\xBD");
      ++i;
    } else {
      out.append(in.substr(i, n));
      i += n;
    }
  }
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_len(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

double uniqueid_epoch(std::string_view id) {
  const auto dash = id.rfind('-');
  if (dash != std::string_view::npos) id.remove_prefix(dash + 1);
  const auto dot = id.find('.');
  if (dot == std::string_view::npos || dot == 0) return metrics::kNoValue;
  long long v = 0;
  if (!parse_int(id.substr(0, dot), v) || v <= 0) return metrics::kNoValue;
  return static_cast<double>(v);
}

tl::expected<void, std::string> for_each_chunk(const CaptureText& in,
                                               const std::function<void(std::string_view)>& chunk) {
  if (in.path.empty()) {
    if (!in.text.empty()) chunk(in.text);
    return {};
  }
  const std::string path(in.path);
  std::ifstream f(path, std::ios::binary);
  if (!f) return tl::unexpected(path + ": cannot open");
  std::vector<char> buf(64 * 1024);
  while (f) {
    f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto n = static_cast<std::size_t>(f.gcount());
    if (n > 0) chunk(std::string_view(buf.data(), n));
  }
  if (f.bad()) return tl::unexpected(path + ": read error");
  return {};
}

tl::expected<void, std::string> for_each_line(const CaptureText& in,
                                              const std::function<void(std::string_view)>& line) {
  // A line cut by a chunk boundary. Bounded: past 1 MiB the rest of the line is not kept (the
  // line still arrives, over every parser's line limit, and is rejected as too long).
  constexpr std::size_t kMaxKept = 1 << 20;
  std::string partial;
  auto keep = [&](std::string_view part) {
    partial.append(part.substr(0, kMaxKept - std::min(kMaxKept, partial.size())));
  };
  auto emit = [&](std::string_view l) {
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    line(l);
  };
  auto r = for_each_chunk(in, [&](std::string_view chunk) {
    while (!chunk.empty()) {
      const auto nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        keep(chunk);
        return;
      }
      if (partial.empty()) {
        emit(chunk.substr(0, nl));
      } else {
        keep(chunk.substr(0, nl));
        emit(partial);
        partial.clear();
      }
      chunk.remove_prefix(nl + 1);
    }
  });
  if (!r) return r;
  if (!partial.empty()) emit(partial);
  return {};
}

tl::expected<std::string_view, std::string> whole_text(const CaptureText& in, std::string& storage) {
  if (in.path.empty()) return in.text;
  storage.clear();
  auto r = for_each_chunk(in, [&](std::string_view c) { storage.append(c); });
  if (!r) return tl::unexpected(r.error());
  return std::string_view(storage);
}

std::vector<CaptureText> capture_files(const std::vector<std::string>& files) {
  std::vector<CaptureText> inputs;
  inputs.reserve(files.size());
  for (const auto& f : files) inputs.push_back({f, {}, f});
  return inputs;
}

}  // namespace callwatch::daemon
