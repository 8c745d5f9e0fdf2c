// spdlog set-up for callwatchd: one logger per component ("daemon", "engine", "feed.native",
// "http", ...), all writing to one stderr sink so lines from threads never interleave.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace callwatch::daemon {

// Sets the level of every logger, existing and future. False for an unknown level name.
bool init_logging(std::string_view level);
// The logger of a component, created on first use.
std::shared_ptr<spdlog::logger> component_logger(const std::string& name);

}  // namespace callwatch::daemon
