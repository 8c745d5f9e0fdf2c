// A live Asterisk AMI feed: one thread, a TCP client that logs in, asks QueueStatus, keeps the
// connection alive with Ping and reconnects with backoff; messages go through AmiTranslator.
#pragma once

#include "feeds/feed_thread.hpp"

namespace callwatch::daemon {

void run_ami(FeedContext fc);

}  // namespace callwatch::daemon
