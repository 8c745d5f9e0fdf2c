// Loggers share one sink; spdlog's registry makes component_logger() safe from any thread.
#include "runtime/logging.hpp"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace callwatch::daemon {

namespace {

std::mutex g_mu;
spdlog::sink_ptr& shared_sink() {
  static spdlog::sink_ptr sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  return sink;
}

}  // namespace

bool init_logging(std::string_view level) {
  const auto lvl = spdlog::level::from_str(std::string(level));
  if (lvl == spdlog::level::off && level != "off") return false;
  std::lock_guard lock(g_mu);
  spdlog::set_level(lvl);  // existing loggers and the default for new ones
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l [%n] %v");
  return true;
}

std::shared_ptr<spdlog::logger> component_logger(const std::string& name) {
  std::lock_guard lock(g_mu);
  if (auto existing = spdlog::get(name)) return existing;
  auto logger = std::make_shared<spdlog::logger>(name, shared_sink());
  logger->set_level(spdlog::get_level());
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l [%n] %v");
  spdlog::register_logger(logger);
  return logger;
}

}  // namespace callwatch::daemon
