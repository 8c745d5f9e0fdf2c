#include "feeds/feed_wire.hpp"

#include <cstring>

namespace callwatch::daemon {

namespace {
// Bounds a reader accepts: names are capped far lower by the feeds (max_name_bytes).
constexpr std::uint32_t kMaxString = 1u << 20;
constexpr std::uint32_t kMaxQueues = 1024;
}  // namespace

template <typename T>
void WireWriter::raw(T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  buf_.append(b, sizeof(T));
}

void WireWriter::str(std::string_view s) {
  raw(static_cast<std::uint32_t>(s.size()));
  buf_.append(s);
}

void WireWriter::begin(WireRecord r) {
  if (buf_.empty()) buf_.push_back(static_cast<char>(kWireVersion));
  buf_.push_back(static_cast<char>(r));
  ++records_;
}

void WireWriter::count(WireRecord r, std::uint32_t n) {
  begin(r);
  raw(n);
}

void WireWriter::event(const metrics::Event& e) {
  begin(WireRecord::event);
  raw(static_cast<std::uint8_t>(e.type));
  raw(e.ts);
  for (std::string_view s : {e.call, e.queue, e.agent, e.caller, e.reason, e.to_queue, e.to}) str(s);
  for (double d : {e.wait, e.talk, e.hold, e.wrap, e.ring_ms}) raw(d);
  raw(static_cast<std::uint8_t>(e.exit_reason));
  raw(static_cast<std::uint8_t>(e.state));
  raw(static_cast<std::uint8_t>(e.by));
  raw(static_cast<std::int32_t>(e.priority));
  raw(static_cast<std::uint8_t>(e.inferred ? 1 : 0));
  raw(static_cast<std::uint32_t>(e.queues.size()));
  for (std::string_view q : e.queues) str(q);
}

void WireWriter::rejected(std::string_view reason, std::string_view detail) {
  begin(WireRecord::rejected);
  str(reason);
  str(detail.substr(0, kWireMaxDetail));
}

void WireWriter::ignored(std::string_view result, std::uint32_t n) {
  begin(WireRecord::ignored);
  raw(n);
  str(result);
}

WireReader::WireReader(std::string_view batch) : in_(batch) {
  if (in_.empty() || static_cast<std::uint8_t>(in_[0]) != kWireVersion) {
    error_ = in_.empty() ? "empty batch" : "unknown batch version";
    at_ = in_.size();
    return;
  }
  at_ = 1;
}

template <typename T>
bool WireReader::raw(T& v) {
  if (in_.size() - at_ < sizeof(T)) {
    error_ = "truncated record";
    at_ = in_.size();
    return false;
  }
  std::memcpy(&v, in_.data() + at_, sizeof(T));
  at_ += sizeof(T);
  return true;
}

bool WireReader::str(std::string_view& out) {
  std::uint32_t n = 0;
  if (!raw(n)) return false;
  if (n > kMaxString || in_.size() - at_ < n) {
    error_ = "string past the end of the batch";
    at_ = in_.size();
    return false;
  }
  out = in_.substr(at_, n);
  at_ += n;
  return true;
}

bool WireReader::next(WireItem& out) {
  if (at_ >= in_.size()) return false;
  const auto kind = static_cast<WireRecord>(static_cast<std::uint8_t>(in_[at_++]));
  out = WireItem{};
  out.kind = kind;
  switch (kind) {
    case WireRecord::accepted:
    case WireRecord::duplicate:
      return raw(out.count);
    case WireRecord::rejected:
      return str(out.label) && str(out.detail);
    case WireRecord::ignored:
      return raw(out.count) && str(out.label);
    case WireRecord::event: {
      metrics::Event& e = out.event;
      std::uint8_t type = 0, exit_reason = 0, state = 0, by = 0, inferred = 0;
      std::int32_t priority = 0;
      std::uint32_t nq = 0;
      if (!raw(type) || !raw(e.ts)) return false;
      for (std::string_view* s : {&e.call, &e.queue, &e.agent, &e.caller, &e.reason, &e.to_queue, &e.to}) {
        if (!str(*s)) return false;
      }
      for (double* d : {&e.wait, &e.talk, &e.hold, &e.wrap, &e.ring_ms}) {
        if (!raw(*d)) return false;
      }
      if (!raw(exit_reason) || !raw(state) || !raw(by) || !raw(priority) || !raw(inferred) || !raw(nq)) {
        return false;
      }
      if (type >= metrics::kEventTypeCount || exit_reason > 2 || state >= metrics::kAgentStateCount ||
          by > 3 || nq > kMaxQueues) {
        error_ = "value out of range";
        at_ = in_.size();
        return false;
      }
      e.type = static_cast<metrics::EventType>(type);
      e.exit_reason = static_cast<metrics::ExitReason>(exit_reason);
      e.state = static_cast<metrics::AgentState>(state);
      e.by = static_cast<metrics::EndedBy>(by);
      e.priority = priority;
      e.inferred = inferred != 0;
      queues_.clear();
      for (std::uint32_t i = 0; i < nq; ++i) {
        std::string_view q;
        if (!str(q)) return false;
        queues_.push_back(q);
      }
      e.queues = queues_;
      return true;
    }
  }
  error_ = "unknown record";
  at_ = in_.size();
  return false;
}

}  // namespace callwatch::daemon
