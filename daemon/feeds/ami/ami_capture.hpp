// Recorded AMI captures -> native events (`callwatchd report --format ami`, FEED-SPEC 4.1).
// A capture is the bytes the server sent (CRLF or LF), possibly several connections one after
// the other, each opening with its banner and handled exactly like a live reconnect; `####`
// annotation lines and the client's own `Action:` blocks are skipped. A file whose first
// non-blank byte is `[` is a JSON array of events, one flat object of header -> string each
// (the cacofonisk recorder's format; its `content` key is an artifact and dropped).
#pragma once

#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "feeds/ami/ami_framer.hpp"
#include "feeds/ami/ami_translator.hpp"
#include "feeds/feed_common.hpp"

namespace callwatch::daemon {

// Replays `files` as one stream, in order, through one translator (never double counting
// across a reconnect). Returns the translator's counters, or an error naming a file that
// cannot be read or a JSON capture that does not parse.
tl::expected<AmiTranslatorStats, std::string> replay_ami_files(
    const std::vector<std::string>& files, const AmiTranslatorOptions& opts, const FeedSink& sink);

// The same for captures already read (the report command reads its inputs itself).
tl::expected<AmiTranslatorStats, std::string> replay_ami_texts(
    const std::vector<CaptureText>& inputs, const AmiTranslatorOptions& opts, const FeedSink& sink);

// The pieces, for tests and the fuzzer: one text capture through a framer + translator, and
// one JSON-array capture (false + error when it is not a JSON array of objects).
void replay_ami_text(std::string_view bytes, AmiFramer& framer, AmiTranslator& tr);
bool replay_ami_json(std::string_view json, AmiTranslator& tr, std::string& error);

// True when the bytes look like a JSON-array capture.
bool is_ami_json_capture(std::string_view bytes);

}  // namespace callwatch::daemon
