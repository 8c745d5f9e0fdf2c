#include "feeds/esl/esl_framer.hpp"

#include "feeds/feed_common.hpp"

namespace callwatch::daemon {

namespace {

// Header lines of a block [0, end): appends (name, value) views; values raw.
void split_headers(std::string_view block, std::vector<EslHeader>& out) {
  out.clear();
  while (!block.empty()) {
    const auto nl = block.find('\n');
    std::string_view line = block.substr(0, nl);
    block.remove_prefix(nl == std::string_view::npos ? block.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    const auto colon = line.find(": ");
    if (colon != std::string_view::npos) {
      out.push_back({line.substr(0, colon), line.substr(colon + 2)});
    } else if (const auto c = line.find(':'); c != std::string_view::npos) {
      out.push_back({line.substr(0, c), trim(line.substr(c + 1))});
    }
  }
}

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view EslMessage::get(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

EslFramer::EslFramer() : EslFramer(Options{}) {}
EslFramer::EslFramer(Options opts) : opts_(opts) {}

void EslFramer::reset() {
  buf_.clear();
  header_end_ = 0;
  body_left_ = 0;
  skipping_body_ = skipping_headers_ = false;
}

void EslFramer::feed(std::string_view bytes, const Callback& cb) {
  while (!bytes.empty()) {
    if (header_end_ > 0) {
      // Body: exactly Content-Length bytes, whatever they contain.
      const std::size_t take = std::min(body_left_, bytes.size());
      if (!skipping_body_) buf_.append(bytes.substr(0, take));
      bytes.remove_prefix(take);
      body_left_ -= take;
      if (body_left_ == 0) {
        if (skipping_body_) {
          ++dropped_;
          reset();
        } else {
          deliver(cb);
        }
      }
      continue;
    }
    // Header block: up to an empty line. Lines may end in LF or CRLF.
    const auto nl = bytes.find('\n');
    const std::string_view piece =
        bytes.substr(0, nl == std::string_view::npos ? bytes.size() : nl + 1);
    bytes.remove_prefix(piece.size());
    if (skipping_headers_) {
      // Resynchronize on a blank line.
      buf_.append(piece);
      if (buf_ == "\n" || buf_ == "\r\n") {
        skipping_headers_ = false;
        buf_.clear();
      } else if (buf_.back() == '\n') {
        buf_.clear();
      }
      continue;
    }
    buf_.append(piece);
    if (buf_.size() > opts_.max_header_bytes) {
      ++dropped_;
      buf_.clear();
      skipping_headers_ = true;
      continue;
    }
    if (buf_.back() != '\n') continue;  // partial line
    // Did this line close the block? (a blank line, and not a blank line before any header)
    const std::size_t n = buf_.size();
    const bool lf_blank = n >= 2 && buf_[n - 2] == '\n';
    const bool crlf_blank = n >= 4 && buf_.compare(n - 4, 4, "\r\n\r\n") == 0;
    if (n == 1 || (n == 2 && buf_[0] == '\r')) {
      buf_.clear();  // stray blank line between messages
      continue;
    }
    if (!lf_blank && !crlf_blank) continue;
    header_end_ = n;
    split_headers(std::string_view(buf_).substr(0, header_end_), msg_.headers);
    const std::string_view cl = msg_.get("Content-Length");
    long long len = 0;
    if (!cl.empty() && (!parse_int(trim(cl), len) || len < 0)) {
      ++dropped_;  // unknown body size: the stream cannot be trusted up to the next blank line
      reset();
      skipping_headers_ = true;
      continue;
    }
    if (len == 0) {
      deliver(cb);
      continue;
    }
    body_left_ = static_cast<std::size_t>(len);
    if (body_left_ > opts_.max_body_bytes) skipping_body_ = true;
  }
}

void EslFramer::deliver(const Callback& cb) {
  // Headers were split before the body arrived; buf_ may have reallocated since.
  const std::string_view all(buf_);
  split_headers(all.substr(0, header_end_), msg_.headers);
  msg_.body = all.substr(header_end_);
  cb(msg_);
  reset();
}

std::string_view EslEventHeaders::get(std::string_view name) const {
  for (const auto& h : headers) {
    if (iequals(h.name, name)) return h.value;
  }
  return {};
}

void url_decode(std::string_view in, std::string& out) {
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      const int a = hex(in[i + 1]);
      const int b = hex(in[i + 2]);
      if (a >= 0 && b >= 0) {
        out.push_back(static_cast<char>(a * 16 + b));
        i += 2;
        continue;
      }
    }
    out.push_back(in[i]);
  }
}

void parse_event_plain(std::string_view body, EslEventHeaders& out) {
  out.headers.clear();
  out.body = {};
  out.storage.clear();
  out.storage.reserve(body.size());
  // Decoded values go to storage; record offsets first, make views after (no reallocation
  // worries).
  struct Off {
    std::string_view name;
    std::size_t at, len;
  };
  std::vector<Off> offs;
  std::size_t pos = 0;
  long long inner = -1;
  while (pos < body.size()) {
    auto nl = body.find('\n', pos);
    if (nl == std::string_view::npos) nl = body.size();
    std::string_view line = body.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) break;  // end of the event's headers
    auto colon = line.find(": ");
    std::size_t vfrom = colon + 2;
    if (colon == std::string_view::npos) {
      colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      vfrom = colon + 1;
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view raw = line.substr(std::min(vfrom, line.size()));
    const std::size_t at = out.storage.size();
    if (raw != "_undef_") url_decode(raw, out.storage);
    offs.push_back({name, at, out.storage.size() - at});
    if (iequals(name, "Content-Length")) {
      long long v = 0;
      if (parse_int(raw, v) && v >= 0) inner = v;
    }
  }
  for (const auto& o : offs) {
    out.headers.push_back({o.name, std::string_view(out.storage).substr(o.at, o.len)});
  }
  if (inner > 0 && pos < body.size()) {
    out.body = body.substr(pos, std::min(static_cast<std::size_t>(inner), body.size() - pos));
  }
}

int EslTable::column(std::string_view name) const {
  for (std::size_t i = 0; i < columns.size(); ++i) {
    if (columns[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::string_view EslTable::cell(std::size_t row, std::string_view name) const {
  const int c = column(name);
  if (c < 0 || row >= rows.size() || static_cast<std::size_t>(c) >= rows[row].size()) return {};
  return rows[row][static_cast<std::size_t>(c)];
}

bool parse_esl_table(std::string_view body, EslTable& out) {
  out.columns.clear();
  out.rows.clear();
  bool header = true;
  while (!body.empty()) {
    const auto nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body.remove_prefix(nl == std::string_view::npos ? body.size() : nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) continue;
    if (line == "+OK" || line.rfind("-ERR", 0) == 0) break;
    std::vector<std::string_view> cells;
    std::size_t from = 0;
    while (true) {
      const auto bar = line.find('|', from);
      cells.push_back(
          line.substr(from, bar == std::string_view::npos ? std::string_view::npos : bar - from));
      if (bar == std::string_view::npos) break;
      from = bar + 1;
    }
    if (header) {
      if (cells.size() < 2) return false;
      out.columns = std::move(cells);
      header = false;
    } else {
      out.rows.push_back(std::move(cells));
    }
  }
  return !out.columns.empty();
}

}  // namespace callwatch::daemon
