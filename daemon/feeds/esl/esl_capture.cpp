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
  for (const auto& in : inputs) {
    auto r = for_each_chunk(in, [&](std::string_view chunk) { replay_esl_bytes(chunk, framer, tr); });
    if (!r) return tl::unexpected(r.error());
  }
  if (framer.partial() && sink.warning) {
    sink.warning("truncated_capture", "the ESL capture ends in the middle of a message");
  }
  tr.finish();
  return tr.stats();
}

tl::expected<EslTranslatorStats, std::string> replay_esl_files(
    const std::vector<std::string>& files, const EslTranslatorOptions& opts, const FeedSink& sink) {
  return replay_esl_texts(capture_files(files), opts, sink);
}

}  // namespace callwatch::daemon
