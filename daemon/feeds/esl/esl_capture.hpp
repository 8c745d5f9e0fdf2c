// Recorded FreeSWITCH event-socket captures -> native events (`callwatchd report --format esl`,
// FEED-SPEC 4.1): the bytes the server sent from `Content-Type: auth/request` on, several
// connections one after the other (each auth/request starts one, handled like a reconnect).
#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "feeds/esl/esl_framer.hpp"
#include "feeds/esl/esl_translator.hpp"
#include "feeds/feed_common.hpp"

namespace callwatch::daemon {

tl::expected<EslTranslatorStats, std::string> replay_esl_files(
    const std::vector<std::string>& files, const EslTranslatorOptions& opts, const FeedSink& sink);

tl::expected<EslTranslatorStats, std::string> replay_esl_texts(
    const std::vector<CaptureText>& inputs, const EslTranslatorOptions& opts, const FeedSink& sink);

void replay_esl_bytes(std::string_view bytes, EslFramer& framer, EslTranslator& tr);

}  // namespace callwatch::daemon
