#include "feeds/queue_log/queue_log_tail.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace callwatch::daemon {

QueueLogTail::QueueLogTail(Options opts) : opts_(std::move(opts)) {
  // "From the end" means the end at start-up: lines written before the first poll are new.
  if (open_file(true)) {
    opened_once_ = true;
  } else {
    missing_at_start_ = true;
  }
}

QueueLogTail::~QueueLogTail() {
  if (fd_ >= 0) ::close(fd_);
}

QueueLogTail::Position QueueLogTail::position() const { return Position{dev_, ino_, offset_}; }

bool QueueLogTail::open_file(bool first) {
  const int fd = ::open(opts_.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return false;
  }
  fd_ = fd;
  dev_ = static_cast<std::uint64_t>(st.st_dev);
  ino_ = static_cast<std::uint64_t>(st.st_ino);
  offset_ = 0;
  partial_.clear();
  skip_to_newline_ = false;
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (first) {
    if (opts_.start && (opts_.start->dev == 0 || opts_.start->dev == dev_) &&
        opts_.start->ino == ino_ && opts_.start->offset <= size) {
      offset_ = opts_.start->offset;
    } else if (!opts_.from_beginning) {
      offset_ = size;
      if (size > 0) {
        // Starting at the end of a line being written would hand its tail over as a line.
        char last = '\n';
        if (::pread(fd_, &last, 1, static_cast<off_t>(size - 1)) == 1 && last != '\n') {
          skip_to_newline_ = true;
        }
      }
    }
  }
  // After a rotation the new file is read from its first byte: nothing in it was seen.
  ::lseek(fd_, static_cast<off_t>(offset_), SEEK_SET);
  return true;
}

void QueueLogTail::emit_partial(const LineFn& on_line, long& n) {
  if (!partial_.empty() && !skip_to_newline_) {
    line_end_ = offset_;
    on_line(partial_);
    ++n;
  }
  partial_.clear();
  skip_to_newline_ = false;
}

long QueueLogTail::read_available(const LineFn& on_line) {
  long n = 0;
  std::array<char, 64 * 1024> buf{};
  for (;;) {
    const ssize_t got = ::read(fd_, buf.data(), buf.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    const std::uint64_t chunk_at = offset_;
    offset_ += static_cast<std::uint64_t>(got);
    std::string_view chunk(buf.data(), static_cast<std::size_t>(got));
    while (!chunk.empty()) {
      const auto nl = chunk.find('\n');
      if (nl == std::string_view::npos) {
        if (!skip_to_newline_ && partial_.size() < opts_.max_line_bytes) {
          partial_.append(chunk.substr(0, opts_.max_line_bytes - partial_.size()));
        }
        break;
      }
      line_end_ = chunk_at + static_cast<std::uint64_t>(chunk.data() - buf.data()) + nl + 1;
      if (skip_to_newline_) {
        skip_to_newline_ = false;
        partial_.clear();
      } else if (partial_.empty()) {
        on_line(chunk.substr(0, std::min(nl, opts_.max_line_bytes)));
        ++n;
      } else {
        if (partial_.size() < opts_.max_line_bytes) {
          partial_.append(chunk.substr(0, std::min(nl, opts_.max_line_bytes - partial_.size())));
        }
        on_line(partial_);
        ++n;
        partial_.clear();
      }
      chunk.remove_prefix(nl + 1);
    }
  }
  return n;
}

long QueueLogTail::poll(const LineFn& on_line) {
  if (fd_ < 0) {
    if (!open_file(!opened_once_ && !missing_at_start_)) {
      if (!opened_once_) missing_at_start_ = true;
      return -1;
    }
    opened_once_ = true;
  }
  long n = 0;
  struct stat st {};
  if (::fstat(fd_, &st) == 0 && static_cast<std::uint64_t>(st.st_size) < offset_) {
    // Truncated in place (logrotate copytruncate): what follows is new, from byte 0.
    ++truncations_;
    partial_.clear();
    skip_to_newline_ = false;
    offset_ = 0;
    ::lseek(fd_, 0, SEEK_SET);
  }
  n += read_available(on_line);
  // Rotation: the path now names another file. The old one was read to its end above; a last
  // line without a newline will never be completed, so it is handed over as it is.
  struct stat path_st {};
  if (::stat(opts_.path.c_str(), &path_st) == 0 &&
      (static_cast<std::uint64_t>(path_st.st_ino) != ino_ ||
       static_cast<std::uint64_t>(path_st.st_dev) != dev_)) {
    n += read_available(on_line);
    emit_partial(on_line, n);
    ::close(fd_);
    fd_ = -1;
    ++rotations_;
    if (open_file(false)) n += read_available(on_line);
  }
  return n;
}

std::string QueueLogTail::format(const Position& p) {
  return std::to_string(p.ino) + ":" + std::to_string(p.offset);
}

std::optional<QueueLogTail::Position> QueueLogTail::parse(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  Position p;
  const auto num = [](std::string_view s, std::uint64_t& out) {
    if (s.empty()) return false;
    std::uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    out = v;
    return true;
  };
  if (!num(text.substr(0, colon), p.ino) || !num(text.substr(colon + 1), p.offset))
    return std::nullopt;
  return p;
}

}  // namespace callwatch::daemon
