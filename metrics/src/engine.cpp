// TEMPORARY STUB: the real engine lands next.
#include "callwatch/metrics/engine.hpp"

namespace callwatch::metrics {

struct Engine::Impl {
  EngineSettings settings;
  const Clock* clock;
  DataQuality dq;
  std::vector<ClosedInterval> closed;
  double now = 0;
  std::uint64_t version = 0;
};

Engine::Engine(EngineSettings s, const Clock* c) : impl_(std::make_unique<Impl>()) {
  impl_->settings = std::move(s);
  impl_->clock = c;
}
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;
ApplyResult Engine::apply(const Event&) { return ApplyResult::applied; }
void Engine::advance_to(double now) { impl_->now = now; }
void Engine::finish(double end) { impl_->now = end; }
double Engine::now() const { return impl_->now; }
Snapshot Engine::snapshot() const { return {}; }
const std::vector<ClosedInterval>& Engine::closed_intervals() const { return impl_->closed; }
DataQuality& Engine::data_quality() { return impl_->dq; }
const DataQuality& Engine::data_quality() const { return impl_->dq; }
const EngineSettings& Engine::settings() const { return impl_->settings; }
std::uint64_t Engine::version() const { return impl_->version; }
void Engine::warn(std::string_view kind, std::string message) {
  impl_->dq.warning_counts[std::string(kind)]++;
  impl_->dq.warnings.push_back(std::move(message));
}
std::string Engine::serialize() const { return {}; }
bool Engine::restore(std::string_view) { return false; }

void Histogram::observe(double v) {
  std::size_t i = 0;
  while (i < bounds.size() && v > bounds[i]) ++i;
  counts[i]++;
  sum += v;
  count++;
}
std::string_view window_label(WindowKind w) {
  switch (w) {
    case WindowKind::interval: return "interval";
    case WindowKind::sliding_15m: return "15m";
    case WindowKind::sliding_1h: return "1h";
    case WindowKind::today: return "today";
  }
  return "";
}

}  // namespace callwatch::metrics
