// `callwatchd --demo` on free ports for the wallboard's live tests (acks, broadcasts), its surge
// pulled to the start so an alert fires at once; stopped (SIGTERM) when it goes out of scope.
#pragma once

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

#include "../../integration/daemon_process.hpp"

namespace cwtest {

struct DemoDaemon {
  pid_t pid = -1;
  std::string pub, ctl;
  // `extra_toml` is appended to the config after its [listen] table; the log is dir/daemon.log.
  DemoDaemon(const std::string& bin, const std::string& dir, const std::string& extra_toml = {}) {
    const int feed = free_tcp_port(), p = free_tcp_port(), c = free_tcp_port(), http = free_tcp_port();
    pub = "tcp://127.0.0.1:" + std::to_string(p);
    ctl = "tcp://127.0.0.1:" + std::to_string(c);
    const std::string cfg = dir + "/callwatch.toml";
    std::ofstream(cfg) << "[listen]\nfeed = \"tcp://127.0.0.1:" << feed << "\"\npublish = \"" << pub
                       << "\"\ncontrol = \"" << ctl << "\"\nmetrics = \"127.0.0.1:" << http << "\"\n"
                       << extra_toml;
    const std::string log = dir + "/daemon.log";
    pid = ::fork();
    if (pid == 0) {
      ::setenv("CALLWATCH_DEMO_SURGE", "60@0", 1);
      std::FILE* out = std::freopen(log.c_str(), "w", stdout);
      (void)out;
      ::dup2(::fileno(stdout), 2);
      ::execl(bin.c_str(), bin.c_str(), "--demo", "--config", cfg.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  DemoDaemon(const DemoDaemon&) = delete;
  DemoDaemon& operator=(const DemoDaemon&) = delete;
  ~DemoDaemon() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      int st = 0;
      ::waitpid(pid, &st, 0);
    }
  }
};

}  // namespace cwtest
