#include "feeds/esl/esl_capture.hpp"


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
  const auto texts = read_capture_files(files);
  if (!texts) return tl::unexpected(texts.error());
  return replay_esl_texts(capture_views(files, *texts), opts, sink);
}

}  // namespace callwatch::daemon
