// Per-minute buckets of the last hour, for the sliding 15 m and 1 h windows. A window of w
// minutes covers the current (partial) minute and the w-1 before it.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>

namespace callwatch::metrics::internal {

template <typename T>
class MinuteRing {
 public:
  static constexpr int kMinutes = 61;

  // The bucket for an event at time t counted at engine time now; an event too old for the
  // ring is counted in the current minute.
  T& at(double t, double now) {
    std::int64_t m = minute(t);
    const std::int64_t cur = minute(now);
    if (m < cur - (kMinutes - 2) || m > cur) m = cur;
    auto& b = buckets_[static_cast<std::size_t>(index(m))];
    if (b.minute != m) {
      b.minute = m;
      b.value = T{};
    }
    return b.value;
  }

  // The bucket of time t if the ring still holds it (t no older than the hour before now, at most
  // one minute ahead), else nullptr: a late count lands in its own minute or in none.
  T* find(double t, double now) {
    const std::int64_t m = minute(t);
    const std::int64_t cur = minute(now);
    if (m < cur - (kMinutes - 2) || m > cur + 1) return nullptr;
    auto& b = buckets_[static_cast<std::size_t>(index(m))];
    if (b.minute != m) {
      if (b.minute > m) return nullptr;  // reused by a later minute
      b.minute = m;
      b.value = T{};
    }
    return &b.value;
  }

  T sum(double now, int minutes) const {
    T out{};
    const std::int64_t cur = minute(now);
    for (const auto& b : buckets_) {
      if (b.minute <= cur && b.minute > cur - minutes) out.add(b.value);
    }
    return out;
  }

  // The bucket of minute m (floor(t / 60)) when the ring still holds it.
  const T* minute_bucket(std::int64_t m) const {
    const auto& b = buckets_[static_cast<std::size_t>(index(m))];
    return b.minute == m ? &b.value : nullptr;
  }
  static std::int64_t minute_of(double t) { return minute(t); }

  // Raw access for the state codec.
  std::int64_t bucket_minute(int i) const { return buckets_[static_cast<std::size_t>(i)].minute; }
  const T& bucket_value(int i) const { return buckets_[static_cast<std::size_t>(i)].value; }
  void set_bucket(int i, std::int64_t minute, const T& v) {
    buckets_[static_cast<std::size_t>(i)] = Bucket{minute, v};
  }

  static double window_start(double now, int minutes) {
    return static_cast<double>(minute(now) - minutes + 1) * 60.0;
  }

 private:
  struct Bucket {
    std::int64_t minute = INT64_MIN;
    T value{};
  };
  static std::int64_t minute(double t) { return static_cast<std::int64_t>(std::floor(t / 60.0)); }
  static std::int64_t index(std::int64_t m) { return ((m % kMinutes) + kMinutes) % kMinutes; }
  std::array<Bucket, kMinutes> buckets_{};
};

}  // namespace callwatch::metrics::internal
