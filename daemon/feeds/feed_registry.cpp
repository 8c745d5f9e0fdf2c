#include "feeds/feed_registry.hpp"

#include <array>

#include "feeds/ami/ami_capture.hpp"
#include "feeds/ami/ami_feed.hpp"
#include "feeds/esl/esl_capture.hpp"
#include "feeds/esl/esl_feed.hpp"
#include "feeds/queue_log/queue_log_feed.hpp"

namespace callwatch::daemon {

namespace {

using config::FeedType;

constexpr std::string_view kTalkOnly = "talk only (queue_log logs no hold and no after-call work)";
constexpr std::string_view kAllParts =
    "talk + hold + after-call work, as far as the events state them";

tl::expected<void, std::string> replay_ami(const std::vector<CaptureText>& inputs,
                                           const CaptureOptions& opts, const FeedSink& sink) {
  AmiTranslatorOptions o;
  o.max_name_bytes = opts.max_name_bytes;
  o.duplicates = opts.duplicates;
  auto r = replay_ami_texts(inputs, o, sink);
  if (!r) return tl::make_unexpected(r.error());
  return {};
}

tl::expected<void, std::string> replay_esl(const std::vector<CaptureText>& inputs,
                                           const CaptureOptions& opts, const FeedSink& sink) {
  EslTranslatorOptions o;
  o.max_name_bytes = opts.max_name_bytes;
  o.duplicates = opts.duplicates;
  auto r = replay_esl_texts(inputs, o, sink);
  if (!r) return tl::make_unexpected(r.error());
  return {};
}

constexpr std::array<FeedKind, config::kFeedTypes.size()> kFeedKinds{{
    {FeedType::native, nullptr, false, ReplayReader::native_lines, nullptr, kAllParts},
    {FeedType::queue_log, run_queue_log, false, ReplayReader::queue_log_lines, nullptr, kTalkOnly},
    {FeedType::ami, run_ami, true, ReplayReader::capture, replay_ami, kAllParts},
    {FeedType::esl, run_esl, false, ReplayReader::capture, replay_esl, kAllParts},
}};
static_assert([] {
  for (std::size_t i = 0; i < kFeedKinds.size(); ++i) {
    if (static_cast<std::size_t>(kFeedKinds[i].type) != i) return false;
  }
  return true;
}(), "kFeedKinds rows in config::FeedType order");

}  // namespace

const FeedKind& feed_kind(config::FeedType type) {
  return kFeedKinds[static_cast<std::size_t>(type)];
}

std::vector<std::string> feed_type_names() {
  std::vector<std::string> out;
  for (const auto& row : config::kFeedTypes) out.emplace_back(row.name);
  return out;
}

}  // namespace callwatch::daemon
