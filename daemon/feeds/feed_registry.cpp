#include "feeds/feed_registry.hpp"

#include <array>

#include <fmt/format.h>

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

tl::expected<UnstatedDurations, std::string> replay_ami(const std::vector<CaptureText>& inputs,
                                                        const CaptureOptions& opts,
                                                        const FeedSink& sink) {
  AmiTranslatorOptions o;
  o.max_name_bytes = opts.max_name_bytes;
  o.duplicates = opts.duplicates;
  o.times = opts.times;
  // Which durations the events left unstated (then the engine times them, from guessed times
  // when the capture has no Timestamp headers).
  UnstatedDurations unstated;
  FeedSink s = sink;
  s.event = [&](const metrics::Event& e) {
    using T = metrics::EventType;
    const bool no_wait = !metrics::has_value(e.wait);
    if (e.type == T::call_answered && no_wait) unstated.answer_wait = unstated.wait = true;
    if ((e.type == T::call_abandoned || e.type == T::call_exited) && no_wait) unstated.wait = true;
    if (e.type == T::call_ended && !metrics::has_value(e.talk)) unstated.talk = true;
    if (sink.event) sink.event(e);
  };
  auto r = replay_ami_texts(inputs, o, s);
  if (!r) return tl::make_unexpected(r.error());
  if (r->untimed_events == 0) return UnstatedDurations{};  // every event says when it happened
  unstated.state_time = true;
  if (sink.warning) {
    std::string also;
    if (unstated.talk) also += ", talk and AHT";
    if (unstated.answer_wait) also += ", ASA";
    if (unstated.wait) also += ", max wait";
    sink.warning(
        "untimed_capture",
        fmt::format("{} of {} AMI events carry no Timestamp header (manager.conf timestampevents "
                    "is off, Asterisk's default): the capture does not say when things happened, "
                    "so durations no event states (paused seconds, time in state, occupancy, "
                    "utilization{}) are null, never guessed from Uniqueid times; counts and the "
                    "waits and talk times the events state (HoldTime, TalkTime, Wait) are given "
                    "(with --interval, outcomes fall in the interval of that guessed time)",
                    r->untimed_events, r->untimed_events + r->timed_events, also));
  }
  return unstated;
}

tl::expected<UnstatedDurations, std::string> replay_esl(const std::vector<CaptureText>& inputs,
                                                        const CaptureOptions& opts,
                                                        const FeedSink& sink) {
  EslTranslatorOptions o;
  o.max_name_bytes = opts.max_name_bytes;
  o.duplicates = opts.duplicates;
  o.times = opts.times;
  auto r = replay_esl_texts(inputs, o, sink);
  if (!r) return tl::make_unexpected(r.error());
  return UnstatedDurations{};  // every FreeSWITCH event carries Event-Date-Timestamp
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
