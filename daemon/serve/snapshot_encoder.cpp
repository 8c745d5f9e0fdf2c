#include "serve/snapshot_encoder.hpp"

namespace callwatch::daemon {

SnapshotEncoder::SnapshotEncoder(std::function<void()> done)
    : done_(std::move(done)), thread_([this] { run(); }) {}

SnapshotEncoder::~SnapshotEncoder() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

bool SnapshotEncoder::idle() const {
  std::lock_guard lock(mu_);
  return !busy_;
}

void SnapshotEncoder::submit(std::shared_ptr<const metrics::Snapshot> state,
                             const metrics::wire::Envelope& env) {
  {
    std::lock_guard lock(mu_);
    job_ = std::move(state);
    site_ = std::string(env.site);
    env_ = env;
    env_.site = site_;
    busy_ = true;
  }
  cv_.notify_all();
}

std::optional<SnapshotEncoder::Result> SnapshotEncoder::take() {
  std::lock_guard lock(mu_);
  if (!result_) return std::nullopt;
  std::optional<Result> out = std::move(result_);
  result_.reset();
  busy_ = false;
  return out;
}

void SnapshotEncoder::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stop_ || job_ != nullptr; });
    if (job_ == nullptr) return;  // stopping with nothing to do
    const auto state = std::move(job_);
    job_.reset();
    const metrics::wire::Envelope env = env_;
    const std::string site = site_;
    lock.unlock();
    Result r{
        metrics::wire::encode_snapshot(
            *state, {.seq = env.seq, .site = site, .sent_at = env.sent_at, .stream = env.stream}),
        env.seq};
    lock.lock();
    result_ = std::move(r);
    lock.unlock();
    done_();
    lock.lock();
  }
}

}  // namespace callwatch::daemon
