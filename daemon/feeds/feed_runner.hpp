// The PBX feeds of callwatchd, one thread each: Asterisk AMI and FreeSWITCH ESL TCP clients and
// the queue_log tailer. Each translates its protocol into native events (daemon/feeds/*) and
// PUSHes them with its message accounting, as binary batches (feeds/feed_wire.hpp), to the
// engine thread's internal inproc endpoint (feed name, batch, and for queue_log a third frame
// with the position after the batch; see engine_loop.hpp). Nothing here touches engine state.
//
// Credentials file (FeedConfig::credentials_file), refused when readable by others (mode o+r):
//   # comment
//   username = callwatch       (AMI)
//   secret = s3cret            (AMI; never logged)
//   events = agent,call,dialplan   (AMI, optional; the Events: mask sent at login; default "on")
//   password = ClueCon         (ESL; a file holding one bare line is the password too)
// `key: value` is accepted as well as `key = value`.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <tl/expected.hpp>
#include <vector>
#include <zmq.hpp>

#include "callwatch/config/config.hpp"
#include "callwatch/metrics/clock.hpp"
#include "callwatch/metrics/event.hpp"
#include "feeds/duplicate_filter.hpp"
#include "feeds/time_bounds.hpp"
#include "runtime/system_clock.hpp"

namespace callwatch::daemon {

struct Credentials {
  std::string username;
  std::string secret;  // AMI secret or ESL password
  std::string events = "on";
};
// Errors name the file and the problem, never a secret.
tl::expected<Credentials, std::string> load_credentials(const std::string& path);
// The credentials a feed of `f`'s type needs (none for native and queue_log), checked as the feed
// will use them (an AMI login needs a username). Errors name the feed and the file.
tl::expected<Credentials, std::string> feed_credentials(const config::FeedConfig& f);

struct FeedRunOptions {
  std::string endpoint = "inproc://callwatch-internal-feeds";  // engine's internal PULL
  std::size_t max_name_bytes = 256;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds backoff_min{1000};  // reconnect delay, doubled per failure
  std::chrono::milliseconds backoff_max{60000};
  std::chrono::milliseconds ping_interval{20000};  // AMI keepalive; no answer in 2x: reconnect
  std::chrono::milliseconds poll_interval{200};    // queue_log
  std::chrono::milliseconds idle_flush{1000};      // queue_log: held-back PAUSEALL released
  // Where each feed stood at the restored checkpoint (FeedPosition::position by feed name):
  // a queue_log feed resumes there ("<inode>:<offset>") instead of at the end of the file.
  std::map<std::string, std::string> positions;
  // Event and tick times of the PBX translators (the daemon's one clock; see runtime/system_clock).
  const metrics::Clock* clock = &system_clock();
  // The day of the duplicate rule (EngineSettings tz / day_start_seconds), every feed alike.
  DuplicateFilter::Options duplicates;
  // The window of times around `clock` a feed may state (feeds/time_bounds.hpp).
  TimeLimits times;
};

// Declares a feed to the engine (EngineLoop::add_internal_feed) and returns the flag the feed
// thread sets while connected (callwatch_feed_up).
using DeclareFeed = std::function<std::shared_ptr<std::atomic<bool>>(const std::string& name)>;

class FeedThreads {
 public:
  FeedThreads();
  ~FeedThreads();  // stops and joins
  FeedThreads(const FeedThreads&) = delete;
  FeedThreads& operator=(const FeedThreads&) = delete;
  void stop();
  std::size_t size() const;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Starts one thread per ami / esl / queue_log feed of `feeds` (native feeds are the engine's own
// sockets and are skipped). A feed whose credentials cannot be loaded is not started: its error is
// returned (start-up fails fast on bad configuration).
tl::expected<std::unique_ptr<FeedThreads>, std::string> start_feeds(
    zmq::context_t& ctx, const std::vector<config::FeedConfig>& feeds, const DeclareFeed& declare,
    const FeedRunOptions& opts = {});

}  // namespace callwatch::daemon
