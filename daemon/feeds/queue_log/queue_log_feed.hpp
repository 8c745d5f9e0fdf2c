// A live queue_log feed: one thread following the file (rotation included) from the stored
// position or its end, parsing each line (QueueLogParser) and sending events with their position.
#pragma once

#include "feeds/feed_thread.hpp"

namespace callwatch::daemon {

void run_queue_log(FeedContext fc);

}  // namespace callwatch::daemon
