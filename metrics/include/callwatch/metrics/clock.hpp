// Injected time source: the engine never reads the system clock itself, so tests control time.
#pragma once

namespace callwatch::metrics {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual double now() const = 0;  // seconds since the Unix epoch, UTC
};

class ManualClock final : public Clock {
 public:
  explicit ManualClock(double t = 0) : t_(t) {}
  double now() const override { return t_; }
  void set(double t) { t_ = t; }
  void advance(double dt) { t_ += dt; }

 private:
  double t_;
};

}  // namespace callwatch::metrics
