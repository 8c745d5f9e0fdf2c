// Boards the publisher serves that are not ZeroMQ subscribers (the browser board's WebSockets,
// serve/board_stream): they get every delta and heartbeat as it is published and, when one of
// them asks, the snapshot at the publisher's sequence, all from the publisher's own thread, so
// they see the same messages in the same order as a ZeroMQ board.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace callwatch::daemon {

class BoardTap {
 public:
  virtual ~BoardTap() = default;
  // A delta or a heartbeat, as the XPUB sends it. Must not block.
  virtual void published(std::string_view body) = 0;
  // True once for every round of snapshot requests: the clients that asked since the last call
  // are answered by the next answer_snapshot().
  virtual bool take_snapshot_requests() = 0;
  // The snapshot (or the "busy" error) for the requests taken. Must not block.
  virtual void answer_snapshot(std::shared_ptr<const std::string> body) = 0;
  // The publisher hands the tap a way to wake its thread when a client asks.
  virtual void set_wake(std::function<void()> wake) = 0;
};

}  // namespace callwatch::daemon
