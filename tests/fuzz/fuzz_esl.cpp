// libFuzzer target: event-socket framing (Content-Length bodies), plain/JSON event bodies, URL
// decoding, api/response tables and the mod_callcenter translation.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "feeds/esl/esl_framer.hpp"
#include "feeds/esl/esl_translator.hpp"

namespace cd = callwatch::daemon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t chunk = 4096;
  if (!in.empty()) {
    chunk = static_cast<unsigned char>(in[0]) % 23 + 1;
    in.remove_prefix(1);
  }
  cd::FeedSink sink;
  sink.event = [](const callwatch::metrics::Event&) {};
  cd::EslTranslatorOptions opts;
  opts.max_tracked = 1000;
  cd::EslTranslator tr(opts, sink);
  cd::EslFramer framer(cd::EslFramer::Options{.max_header_bytes = 4096, .max_body_bytes = 65536});
  for (std::size_t i = 0; i < in.size(); i += chunk) {
    framer.feed(in.substr(i, chunk), [&](const cd::EslMessage& m) {
      tr.on_message(m, m.body.size() % 2 ? 1.0e9 : callwatch::metrics::kNoValue);
    });
  }
  tr.finish();
  return 0;
}
