// The live queue_log tailer on real files: start at the end, partial lines, rotation (rename +
// new file), copytruncate, a stored position, a file that appears later.
#include "feeds/queue_log/queue_log_tail.hpp"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace cd = callwatch::daemon;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path dir;
  TempDir() {
    char tmpl[] = "/tmp/callwatch-tail-XXXXXX";
    dir = ::mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(dir); }
};

void append(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::app | std::ios::binary);
  out << s;
}

std::vector<std::string> poll(cd::QueueLogTail& t) {
  std::vector<std::string> lines;
  t.poll([&](std::string_view l) { lines.emplace_back(l); });
  return lines;
}

cd::QueueLogTail::Options at(const fs::path& p) {
  cd::QueueLogTail::Options o;
  o.path = p.string();
  return o;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("the tail starts at the end and hands over only complete new lines",
          "[feed][queue_log][tail]") {
  TempDir d;
  const auto p = d.dir / "queue_log";
  append(p, "1|a|q|NONE|ENTERQUEUE||1|1\n2|b|q|NONE|ENTERQUEUE||2|1\n");
  cd::QueueLogTail t(at(p));
  CHECK(poll(t).empty());  // history before the start is not replayed
  append(p, "3|c|q|NONE|ENTERQUEUE||3|1\n");
  CHECK(poll(t) == V{"3|c|q|NONE|ENTERQUEUE||3|1"});
  append(p, "4|d|q|NO");  // the writer is mid-line
  CHECK(poll(t).empty());
  append(p, "NE|ENTERQUEUE||4|1\n");
  CHECK(poll(t) == V{"4|d|q|NONE|ENTERQUEUE||4|1"});
}

TEST_CASE("starting in the middle of a line drops its tail, not the next line",
          "[feed][queue_log][tail]") {
  TempDir d;
  const auto p = d.dir / "queue_log";
  append(p, "1|a\n2|b");
  cd::QueueLogTail t(at(p));
  CHECK(poll(t).empty());
  append(p, "-rest\n3|c\n");
  CHECK(poll(t) == V{"3|c"});
}

TEST_CASE("rotation: the old file is read to its end, then the new one from its start",
          "[feed][queue_log][tail]") {
  TempDir d;
  const auto p = d.dir / "queue_log";
  append(p, "");
  cd::QueueLogTail t(at(p));
  append(p, "1|a\n");
  CHECK(poll(t) == V{"1|a"});
  fs::rename(p, d.dir / "queue_log.1");
  append(d.dir / "queue_log.1", "2|b\n3|partial-never-finished");  // written before the reopen
  append(p, "4|d\n");
  CHECK(poll(t) == V{"2|b", "3|partial-never-finished", "4|d"});
  CHECK(t.rotations() == 1);
  append(p, "5|e\n");
  CHECK(poll(t) == V{"5|e"});
}

TEST_CASE("truncation in place (copytruncate) restarts at byte 0", "[feed][queue_log][tail]") {
  TempDir d;
  const auto p = d.dir / "queue_log";
  append(p, "");
  cd::QueueLogTail t(at(p));
  append(p, "1|aaaaaaaaaa\n2|bbbbbbbbbb\n");
  CHECK(poll(t).size() == 2);
  fs::resize_file(p, 0);
  append(p, "3|c\n");  // shorter than what was read: detected by size < offset
  CHECK(poll(t) == V{"3|c"});
  CHECK(t.truncations() == 1);
}

TEST_CASE("a stored position resumes exactly; a file created later is read from its start",
          "[feed][queue_log][tail]") {
  TempDir d;
  const auto p = d.dir / "queue_log";
  append(p, "");
  cd::QueueLogTail::Position pos;
  {
    cd::QueueLogTail t(at(p));
    append(p, "1|a\n");
    CHECK(poll(t) == V{"1|a"});
    pos = t.position();
  }
  append(p, "2|b\n");  // written while the daemon was stopped
  auto o = at(p);
  o.start = pos;
  cd::QueueLogTail resumed(o);
  CHECK(poll(resumed) == V{"2|b"});

  const auto later = d.dir / "later_log";
  cd::QueueLogTail waiting(at(later));
  std::vector<std::string> none;
  CHECK(waiting.poll([&](std::string_view l) { none.emplace_back(l); }) == -1);
  append(later, "1|x\n");
  CHECK(poll(waiting) == V{"1|x"});
}

TEST_CASE("each line comes with the offset just after it; positions round-trip as text",
          "[feed][queue_log][tail]") {
  TempDir d;
  const auto p = d.dir / "queue_log";
  append(p, "0123\n");  // 5 bytes before the start
  cd::QueueLogTail t(at(p));
  append(p, "ab\ncdef\n");
  std::vector<std::uint64_t> ends;
  t.poll([&](std::string_view) { ends.push_back(t.line_end()); });
  CHECK(ends == std::vector<std::uint64_t>{8, 13});  // 5 + "ab\n" = 8, + "cdef\n" = 13
  const auto text = cd::QueueLogTail::format({0, 42, 13});
  CHECK(text == "42:13");
  const auto back = cd::QueueLogTail::parse(text);
  REQUIRE(back.has_value());
  CHECK(back->ino == 42);
  CHECK(back->offset == 13);
  CHECK_FALSE(cd::QueueLogTail::parse("42").has_value());
  CHECK_FALSE(cd::QueueLogTail::parse("x:1").has_value());
}
