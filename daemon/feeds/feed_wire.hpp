// The hand-over from a feed thread (AMI, ESL, queue_log tail, simulator) to the engine thread: a
// compact binary batch of records, so no JSON is written or parsed between a PBX feed and the
// engine. Records are events (every metrics::Event field, feed_restart an ordinary type) and the
// feed's message accounting (accepted, duplicate, rejected with the translator's reason, ignored
// with its result), in the order they happened.
//
// ZeroMQ message on the internal socket (runtime/engine_loop.hpp): [feed name][batch] and an
// optional third frame, the feed's position after the batch's last record (queue_log offset).
// Batch: the byte kWireVersion, then records; integers little-endian (the one machine's order,
// checked below), strings as u32 length + bytes. The reader checks every length against the
// frame: a malformed batch stops at the bad record and says so, never reads past the end.
#pragma once

#include <bit>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "callwatch/metrics/event.hpp"

namespace callwatch::daemon {

static_assert(std::endian::native == std::endian::little, "feed_wire writes host order");

inline constexpr std::uint8_t kWireVersion = 1;

enum class WireRecord : std::uint8_t {
  event = 1,      // one metrics::Event
  accepted = 2,   // n messages accepted (callwatch_feed_events_total, data_quality.events)
  duplicate = 3,  // n messages identical to one accepted the same day: dropped
  rejected = 4,   // one message refused: reason label + readable detail
  ignored = 5,    // n messages accepted that the translator deliberately skipped: result label
};

// Longest detail text a reject record carries (the engine logs an excerpt of it).
inline constexpr std::size_t kWireMaxDetail = 512;

// Appends records to a batch (the first append writes the version byte).
class WireWriter {
 public:
  void event(const metrics::Event& e);
  void accepted(std::uint32_t n = 1) { count(WireRecord::accepted, n); }
  void duplicate(std::uint32_t n = 1) { count(WireRecord::duplicate, n); }
  void rejected(std::string_view reason, std::string_view detail);
  void ignored(std::string_view result, std::uint32_t n = 1);

  const std::string& bytes() const { return buf_; }
  std::size_t records() const { return records_; }
  bool empty() const { return records_ == 0; }
  void clear() {
    buf_.clear();
    records_ = 0;
  }

 private:
  void begin(WireRecord r);
  void count(WireRecord r, std::uint32_t n);
  void str(std::string_view s);
  template <typename T>
  void raw(T v);
  std::string buf_;
  std::size_t records_ = 0;
};

// One decoded record. Views (the event's strings, reason, detail) point into the batch and into
// the reader: valid until the next call to next().
struct WireItem {
  WireRecord kind = WireRecord::event;
  metrics::Event event;       // kind event
  std::uint32_t count = 0;    // accepted, duplicate, ignored
  std::string_view label;     // rejected: reason; ignored: result
  std::string_view detail;    // rejected
};

class WireReader {
 public:
  explicit WireReader(std::string_view batch);
  // False at the end of the batch or at a malformed record (then error() says what).
  bool next(WireItem& out);
  std::string_view error() const { return error_; }

 private:
  bool str(std::string_view& out);
  template <typename T>
  bool raw(T& v);
  std::string_view in_;
  std::size_t at_ = 0;
  std::vector<std::string_view> queues_;
  std::string_view error_;
};

}  // namespace callwatch::daemon
