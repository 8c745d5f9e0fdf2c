// Asterisk Manager Interface framing (FEED-SPEC 1.1): bytes as they come off a socket or out of a
// recorded capture, split anywhere, -> complete messages. No I/O and no interpretation here.
//
// Rules: the banner `Asterisk Call Manager/<version>` is one line with no blank line after it
// (it may appear again mid-stream: a capture of several connections); every other message is a
// block of `Name: value` lines closed by an empty line; CRLF or LF; a header splits at the first
// ": " (a line `Name:` has an empty value); `Response: Follows` switches to raw mode until
// `--END COMMAND--`; lines starting with `####` are capture annotations and skipped. A message is
// classified by its first header only (a UserEvent may carry an `Action:` header later).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace callwatch::daemon {

enum class AmiKind : std::uint8_t {
  banner,    // `Asterisk Call Manager/x.y`; version in AmiMessage::version
  response,  // first header Response (Follows included: see AmiMessage::output)
  event,     // first header Event
  action,    // first header Action: the client's own request, present only in captures
  other,     // anything else (a malformed block): callers count it and move on
};

struct AmiHeader {
  std::string_view name;
  std::string_view value;  // trimmed
};

// Views are valid only during the callback that delivers the message.
struct AmiMessage {
  AmiKind kind = AmiKind::other;
  std::string_view version;  // banner only
  std::vector<AmiHeader> headers;
  std::vector<std::string_view> output;  // raw lines of a `Response: Follows`
  std::size_t malformed_lines = 0;       // lines without a ':' (kept out of headers)

  // First header of that name, compared case-insensitively; "" when absent.
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;
  // The first header's name and value (the classifier): `Event`, `Response`, `Action`.
  std::string_view first_value() const {
    return headers.empty() ? std::string_view() : headers[0].value;
  }
};

class AmiFramer {
 public:
  struct Options {
    std::size_t max_line_bytes = 64 * 1024;   // a longer line drops its message (too_large)
    std::size_t max_headers = 4096;           // per message
    std::size_t max_message_bytes = 1 << 20;  // headers + raw output of one message
  };
  using Callback = std::function<void(const AmiMessage&)>;

  AmiFramer();
  explicit AmiFramer(Options opts);

  // Any split of the stream; complete messages go to `cb` in order.
  void feed(std::string_view bytes, const Callback& cb);
  // End of a recorded capture: a block without its closing blank line is delivered if it has
  // headers; a partial line is taken as a last line. (A live client calls reset() instead: a
  // block cut by a disconnect is dropped.)
  void finish(const Callback& cb);
  // A new connection: drop any partial state.
  void reset();

  std::uint64_t dropped_too_large() const { return dropped_too_large_; }
  std::uint64_t annotations() const { return annotations_; }
  std::uint64_t cut_blocks() const { return cut_blocks_; }  // dropped: a banner came mid-block

 private:
  void line(std::string_view l, const Callback& cb);
  void end_block(const Callback& cb);
  void add_header_line(std::string_view l);

  Options opts_;
  std::string pending_;           // bytes after the last complete line
  bool discarding_line_ = false;  // inside an over-long line: skip to its end
  // The block being built: its lines copied into block_, [begin,end) offsets per header.
  std::string block_;
  struct Span {
    std::size_t name_at, name_len, value_at, value_len;
  };
  std::vector<Span> spans_;
  std::vector<std::pair<std::size_t, std::size_t>> raw_;  // Follows output lines
  std::size_t malformed_ = 0;
  bool in_block_ = false;
  bool follows_ = false;    // block started with Response: Follows
  bool raw_mode_ = false;   // inside the raw output of a Follows block
  bool too_large_ = false;  // current block exceeded a limit: dropped at its end
  AmiMessage msg_;
  std::uint64_t dropped_too_large_ = 0;
  std::uint64_t annotations_ = 0;
  std::uint64_t cut_blocks_ = 0;
};

}  // namespace callwatch::daemon
