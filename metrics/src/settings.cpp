#include "callwatch/metrics/settings.hpp"

namespace callwatch::metrics {

const QueueSettings& EngineSettings::for_queue(std::string_view name) const {
  auto it = queues.find(name);
  return it == queues.end() ? queue_defaults : it->second;
}

}  // namespace callwatch::metrics
