// Follows a live Asterisk queue_log file (FEED-SPEC 2.1): from its end (or a stored position),
// line by line, surviving rotation (the path names a new inode), truncation (copytruncate) and a
// partial last line (held until its newline arrives). Polling, no inotify: it works the same on
// every filesystem, and a 200 ms poll is far below any KPI's resolution.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace callwatch::daemon {

class QueueLogTail {
 public:
  // Where the reader is: persisted by the daemon so a restart resumes without loss or double
  // counting (a position whose inode no longer matches the path is ignored: start from the end).
  struct Position {
    std::uint64_t dev = 0;
    std::uint64_t ino = 0;
    std::uint64_t offset = 0;
  };
  struct Options {
    std::string path;
    std::optional<Position> start;           // resume here when the inode matches
    bool from_beginning = false;             // first open reads the whole file (tests, backfill)
    std::size_t max_line_bytes = 64 * 1024;  // longer lines are cut there (the parser rejects)
  };
  using LineFn = std::function<void(std::string_view line)>;

  // Opens the file now when it exists (the end, or the stored position, is taken now).
  explicit QueueLogTail(Options opts);
  ~QueueLogTail();
  QueueLogTail(const QueueLogTail&) = delete;
  QueueLogTail& operator=(const QueueLogTail&) = delete;

  // Reads everything new and hands over each complete line (without its newline). Returns the
  // number of lines; -1 while the file cannot be opened (absent: not an error, it may appear).
  long poll(const LineFn& on_line);

  bool is_open() const { return fd_ >= 0; }
  Position position() const;
  // During the poll callback: the offset just after the line being handed over (the position to
  // save with the event it produced; resuming there neither loses nor repeats a line).
  std::uint64_t line_end() const { return line_end_; }
  // "<inode>:<offset>" and back (the store keeps it as opaque text; dev is not kept: 0 = any).
  static std::string format(const Position& p);
  static std::optional<Position> parse(std::string_view text);
  std::uint64_t rotations() const { return rotations_; }
  std::uint64_t truncations() const { return truncations_; }

 private:
  bool open_file(bool first);
  long read_available(const LineFn& on_line);
  void emit_partial(const LineFn& on_line, long& n);

  Options opts_;
  int fd_ = -1;
  bool opened_once_ = false;
  bool missing_at_start_ = false;  // absent at the first poll: everything in it later is new
  std::uint64_t dev_ = 0, ino_ = 0;
  std::uint64_t offset_ = 0;  // bytes consumed from the current file
  std::uint64_t line_end_ = 0;
  std::string partial_;           // bytes after the last newline
  bool skip_to_newline_ = false;  // started mid-line (from the end): drop up to the next newline
  std::uint64_t rotations_ = 0, truncations_ = 0;
};

}  // namespace callwatch::daemon
