// libFuzzer target: native JSON events. Property: an accepted event written back with
// append_native_json parses again to the same type and names (the recording round trip).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "feeds/native/native_parser.hpp"

namespace cd = callwatch::daemon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static cd::NativeParser parser(64 * 1024, 256);
  static cd::NativeParser again(64 * 1024, 256);
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  auto r = parser.parse(in);
  if (!r) return 0;
  std::string out;
  cd::append_native_json(**r, out);
  auto r2 = again.parse(out);
  if (!r2) __builtin_trap();
  const auto& a = **r;
  const auto& b = **r2;
  if (a.type != b.type || a.call != b.call || a.queue != b.queue || a.agent != b.agent)
    __builtin_trap();
  return 0;
}
