// The kiosk's audible alarm: a shell command (--alarm-command) started once per new critical
// alarm, never waited for (a sound player must not stall the frame loop).
#pragma once

#include <string>

namespace callwatch::wallboard::app {

// Starts `/bin/sh -c command` detached; false when it could not be started (logged).
bool run_alarm_command(const std::string& command);

}  // namespace callwatch::wallboard::app
