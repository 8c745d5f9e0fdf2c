// The counting rules of one input message around its translation (METRICS.md "Counting rules"),
// shared by the AMI and ESL translators: a duplicate is dropped before translation, a message is
// rejected once at its first refused part, any other message is accepted and remembered.
#pragma once

#include <cstdint>

#include "feeds/duplicate_filter.hpp"
#include "feeds/feed_common.hpp"

namespace callwatch::daemon {

class MessageGate {
 public:
  explicit MessageGate(DuplicateFilter::Options opts) : seen_(std::move(opts)) {}

  // Before translating a message: false (counted, sink.duplicate) when it is identical to one
  // accepted the day of `ts`.
  bool begin(std::uint64_t print, double ts, const FeedSink& sink) {
    if (seen_.contains(print, ts)) {
      ++duplicates_;
      if (sink.duplicate) sink.duplicate();
      return false;
    }
    print_ = print;
    ts_ = ts;
    open_ = true;
    rejected_ = false;
    return true;
  }
  // A part of the message is refused: true when the reject is to be counted (the first of an
  // open message, or one outside any message).
  bool reject() {
    if (!open_) return true;
    if (rejected_) return false;
    rejected_ = true;
    return true;
  }
  // The message is translated: accepted (counted, remembered, sink.accepted) unless rejected.
  void end(const FeedSink& sink) {
    open_ = false;
    if (rejected_) return;
    seen_.insert(print_, ts_);
    ++accepted_;
    if (sink.accepted) sink.accepted();
  }
  std::uint64_t accepted() const { return accepted_; }
  std::uint64_t duplicates() const { return duplicates_; }

 private:
  DuplicateFilter seen_;
  std::uint64_t print_ = 0;
  double ts_ = 0;
  bool open_ = false;
  bool rejected_ = false;
  std::uint64_t accepted_ = 0;
  std::uint64_t duplicates_ = 0;
};

}  // namespace callwatch::daemon
