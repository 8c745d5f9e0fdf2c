#include "feeds/esl_capture.hpp"

#include <fstream>
#include <sstream>

namespace callwatch::daemon {

void replay_esl_bytes(std::string_view bytes, EslFramer& framer, EslTranslator& tr) {
  framer.feed(bytes, [&](const EslMessage& msg) { tr.on_message(msg, metrics::kNoValue); });
}

tl::expected<EslTranslatorStats, std::string> replay_esl_texts(
    const std::vector<CaptureText>& inputs, const EslTranslatorOptions& opts,
    const FeedSink& sink) {
  EslTranslator tr(opts, sink);
  EslFramer framer;
  for (const auto& in : inputs) replay_esl_bytes(in.text, framer, tr);
  if (framer.partial() && sink.warning) {
    sink.warning("truncated_capture", "the ESL capture ends in the middle of a message");
  }
  tr.finish();
  return tr.stats();
}

tl::expected<EslTranslatorStats, std::string> replay_esl_files(
    const std::vector<std::string>& files, const EslTranslatorOptions& opts, const FeedSink& sink) {
  std::vector<std::string> texts;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) return tl::unexpected(f + ": cannot open");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad()) return tl::unexpected(f + ": read error");
    texts.push_back(ss.str());
  }
  std::vector<CaptureText> inputs;
  for (std::size_t i = 0; i < files.size(); ++i) inputs.push_back({files[i], texts[i]});
  return replay_esl_texts(inputs, opts, sink);
}

}  // namespace callwatch::daemon
