// libFuzzer target: queue_log lines (every verb, dedup, PAUSEALL hold-back), one line per '\n'.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "feeds/queue_log/queue_log_parser.hpp"

namespace cd = callwatch::daemon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  cd::QueueLogParser::Options o;
  o.duplicates.max_entries = 64;
  cd::QueueLogParser parser(o, [](const cd::QueueLogWarning&) {});
  std::uint64_t n = 0;
  while (!in.empty()) {
    const auto nl = in.find('\n');
    const auto line = in.substr(0, nl);
    const auto& r = parser.parse(line, ++n);
    for (const auto& e : r.events) {
      if (!e.call.empty() && e.call.data() == nullptr) __builtin_trap();
    }
    if (nl == std::string_view::npos) break;
    in.remove_prefix(nl + 1);
  }
  parser.flush();
  return 0;
}
