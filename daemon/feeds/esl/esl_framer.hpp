// FreeSWITCH event socket framing (FEED-SPEC 3.1): bytes split anywhere -> messages of a header
// block (`Name: value` lines, blank line) plus exactly `Content-Length` bytes of body. The body
// is never searched for a blank line. Also the plain event body parser (URL-decoding after the
// first ": ", `_undef_` = empty: P14) and the api/response table reader.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace callwatch::daemon {

struct EslHeader {
  std::string_view name;
  std::string_view value;
};

// Views are valid only during the callback.
struct EslMessage {
  std::vector<EslHeader> headers;
  std::string_view body;
  std::string_view get(std::string_view name) const;  // case-insensitive; "" when absent
  std::string_view content_type() const { return get("Content-Type"); }
};

class EslFramer {
 public:
  struct Options {
    std::size_t max_header_bytes = 64 * 1024;
    std::size_t max_body_bytes = 16 * 1024 * 1024;  // larger bodies are skipped, not buffered
  };
  using Callback = std::function<void(const EslMessage&)>;

  EslFramer();
  explicit EslFramer(Options opts);
  void feed(std::string_view bytes, const Callback& cb);
  void reset();
  // Messages dropped: a header block over the limit, a body over the limit, a bad
  // Content-Length (then the stream cannot be resynchronized: the framer resets at the next
  // blank line).
  std::uint64_t dropped() const { return dropped_; }
  // True while a message is partially received (end of a capture mid-message).
  bool partial() const { return !buf_.empty() || body_left_ > 0; }

 private:
  void deliver(const Callback& cb);
  Options opts_;
  std::string buf_;                // header bytes of the current message, then its body
  std::size_t header_end_ = 0;     // size of the header block in buf_ once complete
  std::size_t body_left_ = 0;      // body bytes still expected
  bool skipping_body_ = false;     // over-long body: count it down without keeping it
  bool skipping_headers_ = false;  // over-long header block: skip to its blank line
  EslMessage msg_;
  std::uint64_t dropped_ = 0;
};

// `Name: value` lines up to the first blank line; then an optional own Content-Length body.
// Values are URL-decoded into `storage` and `_undef_` becomes "".
struct EslEventHeaders {
  std::vector<EslHeader> headers;
  std::string_view body;
  std::string storage;
  std::string_view get(std::string_view name) const;  // case-insensitive, first occurrence
};
void parse_event_plain(std::string_view body, EslEventHeaders& out);
// %XX -> byte; anything else (including a broken %) unchanged.
void url_decode(std::string_view in, std::string& out);

// An api/response table (`callcenter_config ... list`): a header row and rows, pipe-separated,
// ending with `+OK`. Empty when the body is not such a table.
struct EslTable {
  std::vector<std::string_view> columns;
  std::vector<std::vector<std::string_view>> rows;
  int column(std::string_view name) const;  // index or -1
  std::string_view cell(std::size_t row, std::string_view name) const;
};
bool parse_esl_table(std::string_view body, EslTable& out);

}  // namespace callwatch::daemon
