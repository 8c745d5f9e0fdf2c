// SIGTERM and SIGINT for the main thread of a long-running command (the daemon, the relay): blocked
// in every thread before any starts, then waited for with sigtimedwait; SIGPIPE ignored.
#pragma once

#include <csignal>
#include <pthread.h>

namespace callwatch::daemon {

// Call before any thread starts (libmicrohttpd's and ZeroMQ's included: threads inherit the mask).
inline sigset_t block_stop_signals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  return signals;
}

}  // namespace callwatch::daemon
