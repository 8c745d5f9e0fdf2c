// The one duplicate rule of every feed (METRICS.md "Event time, order and repeats"): a message
// identical to one already accepted the same day is a duplicate. Live feeds and `callwatchd
// report` use this same filter, one per feed, so both drop exactly the same messages.
#pragma once

#include <cmath>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <string_view>
#include <vector>

#include "callwatch/metrics/timezone.hpp"

namespace callwatch::daemon {

// A 64-bit fingerprint of a message, built from its parts (a line, or an AMI block's header names
// and values) without copying them. 64 bits, not 128: at ~6M messages a day the chance that two
// different messages of one day share a fingerprint is ~n^2/2^65 = 1e-6 per day, far below any
// feed's own error rate, and the day's table stays at 8 bytes a slot.
class Fingerprinter {
 public:
  Fingerprinter& add(std::string_view s) {
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      mix(w);
    }
    std::uint64_t tail = 0;
    for (std::size_t k = 0; i < s.size(); ++i, ++k)
      tail |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[i])) << (8 * k);
    mix(tail ^ (static_cast<std::uint64_t>(s.size()) << 56));  // the length ends the part
    return *this;
  }
  Fingerprinter& add(double v) {
    std::uint64_t w = 0;
    if (!std::isnan(v)) std::memcpy(&w, &v, 8);  // every NaN is the same "no time"
    mix(w);
    mix(0x5a5a5a5a5a5a5a5aull);
    return *this;
  }
  // Never 0 (0 marks an empty slot of DuplicateFilter).
  std::uint64_t value() const {
    std::uint64_t h = h_;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h == 0 ? 1 : h;
  }

 private:
  void mix(std::uint64_t w) {
    h_ = (h_ ^ (w * 0x9e3779b97f4a7c15ull)) * 0xbf58476d1ce4e5b9ull;
    h_ ^= h_ >> 31;
  }
  std::uint64_t h_ = 0x243f6a8885a308d3ull;
};

inline std::uint64_t fingerprint(std::string_view s) { return Fingerprinter().add(s).value(); }

// Fingerprints of the messages accepted on the current day (by event time, in the configured time
// zone and day start), in a flat open-addressing table of 64-bit slots. The table is emptied
// when a message of a later day arrives; a message of an earlier day is looked up in (and added
// to) the current one. Bounded: once `max_entries` are held, further messages are still accepted
// but no longer remembered (counted in not_remembered()).
class DuplicateFilter {
 public:
  struct Options {
    metrics::TimeZone tz = metrics::TimeZone::utc();
    int day_start_seconds = 0;
    std::size_t max_entries = std::size_t{1} << 24;  // 16M messages a day: 256 MB at most
  };
  DuplicateFilter() = default;
  explicit DuplicateFilter(Options opts) : opts_(std::move(opts)) {}

  // True when `print` was accepted earlier on the day of `ts` (NaN: the current day).
  bool contains(std::uint64_t print, double ts) {
    roll(ts);
    if (slots_.empty()) return false;
    for (std::size_t i = print & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == 0) return false;
      if (slots_[i] == print) return true;
    }
  }
  // Remembers an accepted message (call after contains() said false for it).
  void insert(std::uint64_t print, double ts) {
    roll(ts);
    if ((size_ + 1) * 4 > slots_.size() * 3) {
      if (slots_.size() / 4 * 3 >= opts_.max_entries) {
        ++not_remembered_;
        return;
      }
      grow();
    }
    for (std::size_t i = print & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == print) return;
      if (slots_[i] == 0) {
        slots_[i] = print;
        ++size_;
        return;
      }
    }
  }
  std::size_t size() const { return size_; }
  std::size_t capacity() const { return slots_.size(); }
  std::uint64_t not_remembered() const { return not_remembered_; }

 private:
  void roll(double ts) {
    if (!std::isfinite(ts)) return;
    if (day_known_ && ts < next_day_) return;
    const double day = opts_.tz.day_start(ts, opts_.day_start_seconds);
    // 26 h after a day's start always lies in the next day (days last 23 to 25 h).
    const double next = opts_.tz.day_start(day + 26 * 3600.0, opts_.day_start_seconds);
    if (day_known_ && day < day_) return;  // an earlier day: the current table answers
    day_known_ = true;
    day_ = day;
    next_day_ = next;
    std::fill(slots_.begin(), slots_.end(), 0);
    size_ = 0;
  }
  void grow() {
    std::vector<std::uint64_t> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
    mask_ = slots_.size() - 1;
    for (std::uint64_t f : old) {
      if (f == 0) continue;
      std::size_t i = f & mask_;
      while (slots_[i] != 0) i = (i + 1) & mask_;
      slots_[i] = f;
    }
  }

  Options opts_;
  std::vector<std::uint64_t> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
  std::uint64_t not_remembered_ = 0;
  bool day_known_ = false;
  double day_ = 0;
  double next_day_ = 0;
};

}  // namespace callwatch::daemon
