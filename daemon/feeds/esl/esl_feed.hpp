// A live FreeSWITCH ESL feed: one thread, a TCP client that authenticates, reads the callcenter
// configuration, subscribes to its events and reconnects with backoff (EslTranslator).
#pragma once

#include "feeds/feed_thread.hpp"

namespace callwatch::daemon {

void run_esl(FeedContext fc);

}  // namespace callwatch::daemon
