#include "alarm.hpp"

#include <spawn.h>
#include <sys/wait.h>

#include <spdlog/spdlog.h>

extern char** environ;

namespace callwatch::wallboard::app {

bool run_alarm_command(const std::string& command) {
  // Children of earlier alarms that have finished: reaped here, so none lingers as a zombie.
  while (waitpid(-1, nullptr, WNOHANG) > 0) {
  }
  pid_t pid = 0;
  const char* argv[] = {"/bin/sh", "-c", command.c_str(), nullptr};
  const int rc = posix_spawn(&pid, "/bin/sh", nullptr, nullptr, const_cast<char* const*>(argv), environ);
  if (rc != 0) {
    spdlog::warn("alarm command could not start (error {})", rc);
    return false;
  }
  return true;
}

}  // namespace callwatch::wallboard::app
