// One row per feed type (config::FeedType): how callwatchd runs a feed of that type live and how
// `callwatchd report --format` replays a recording of it. Which config keys a type takes is its
// row in callwatch/config/feed_type.hpp; a new feed type is one row in each table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <vector>

#include "callwatch/config/feed_type.hpp"
#include "feeds/duplicate_filter.hpp"
#include "feeds/feed_common.hpp"
#include "feeds/time_bounds.hpp"

namespace callwatch::daemon {

struct FeedContext;  // feeds/feed_thread.hpp

// The thread body of one live feed.
using LiveFeed = void (*)(FeedContext fc);

// How a recording is read for the report.
enum class ReplayReader : std::uint8_t {
  queue_log_lines,  // pipe-separated lines, each with its own time
  native_lines,     // one native JSON event per line
  capture,          // a raw capture of what the PBX sent (FeedKind::capture)
};

// What a capture replay needs of the report's settings.
struct CaptureOptions {
  std::size_t max_name_bytes = 256;
  DuplicateFilter::Options duplicates;  // the day of the duplicate rule, as live
  TimeLimits times;                     // the window of times, around the input's own (a replay)
};

// Durations a replayed capture cannot give because no event states them and the capture does
// not say when things happened (an AMI capture without Timestamp headers, METRICS.md "Counting
// rules"). A report shows the figures built on them as null (empty in CSV), never a guess.
struct UnstatedDurations {
  bool state_time = false;   // time in state: paused seconds, occupancy, utilization
  bool talk = false;         // a completion stated no talk time: talk seconds, AHT
  bool answer_wait = false;  // an answer stated no wait: ASA
  bool wait = false;         // an outcome stated no wait: max wait
  bool any() const { return state_time || talk || answer_wait || wait; }
};

// Replays captures (one stream, in order, streamed) into `sink`: what the capture left unstated,
// or the error naming what cannot be read.
using CaptureReplay = tl::expected<UnstatedDurations, std::string> (*)(
    const std::vector<CaptureText>& inputs, const CaptureOptions& opts, const FeedSink& sink);

struct FeedKind {
  config::FeedType type;
  // Its own thread (PBX clients, file tail), or nullptr when the engine reads the feed itself
  // (native: a PULL socket the wiring binds).
  LiveFeed live;
  bool needs_username;  // the credentials file must name a user (AMI login)
  ReplayReader replay;
  CaptureReplay capture;       // ReplayReader::capture only
  std::string_view aht_parts;  // what AHT includes in a report of this format
};

const FeedKind& feed_kind(config::FeedType type);

// The type names ("native", "queue_log", "ami", "esl"): the values of --format.
std::vector<std::string> feed_type_names();

}  // namespace callwatch::daemon
