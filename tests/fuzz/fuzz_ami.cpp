// libFuzzer target: AMI framing + translation. The first byte picks the split size, so the
// fuzzer also explores reads that end anywhere; a leading '[' takes the JSON-array path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "feeds/ami/ami_capture.hpp"
#include "feeds/ami/ami_framer.hpp"
#include "feeds/ami/ami_translator.hpp"

namespace cd = callwatch::daemon;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  std::size_t chunk = 4096;
  if (!in.empty()) {
    chunk = static_cast<unsigned char>(in[0]) % 17 + 1;
    in.remove_prefix(1);
  }
  cd::FeedSink sink;
  std::size_t events = 0;
  sink.event = [&](const callwatch::metrics::Event& e) { events += e.call.size() + 1; };
  cd::AmiTranslatorOptions opts;
  opts.queue_timeout_seconds["sales"] = 30;
  opts.leave_when_empty.insert("sales");
  opts.max_tracked = 1000;
  cd::AmiTranslator tr(opts, sink);
  if (cd::is_ami_json_capture(in)) {
    std::string err;
    cd::replay_ami_json(in, tr, err);
  } else {
    cd::AmiFramer framer(cd::AmiFramer::Options{
        .max_line_bytes = 512, .max_headers = 64, .max_message_bytes = 4096});
    auto cb = [&](const cd::AmiMessage& m) {
      tr.on_message(m, m.headers.size() % 2 ? 1.0e9 : callwatch::metrics::kNoValue);
    };
    for (std::size_t i = 0; i < in.size(); i += chunk) framer.feed(in.substr(i, chunk), cb);
    framer.finish(cb);
  }
  tr.tick(2.0e9);
  tr.finish();
  return 0;
}
