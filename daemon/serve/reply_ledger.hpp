// The replies of the control socket that libzmq still holds. A body is handed to libzmq without a
// copy and shared by every client it goes to; the ledger counts, per client, the replies not yet
// written to its socket, and the bytes of the bodies alive, so a client that never reads can be
// told apart and the memory it pins can be bounded.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <zmq.hpp>

namespace callwatch::daemon {

// Always owned by a std::shared_ptr (std::make_shared): bodies and frames in flight keep it alive.
class ReplyLedger : public std::enable_shared_from_this<ReplyLedger> {
 public:
  // A reply body; its bytes count in queued_bytes() for as long as it lives.
  struct Body {
    Body(std::shared_ptr<ReplyLedger> owner, std::string text, std::uint64_t at_seq);
    ~Body();
    Body(const Body&) = delete;
    Body& operator=(const Body&) = delete;
    const std::string bytes;
    const std::uint64_t seq;  // the state it shows (snapshots)
   private:
    std::shared_ptr<ReplyLedger> ledger_;
  };
  using BodyPtr = std::shared_ptr<const Body>;

  BodyPtr make_body(std::string text, std::uint64_t seq = 0);
  // The frame carrying `body` to `client` (its routing id): outstanding for that client until
  // libzmq has written it out or dropped it, on whatever thread that happens.
  zmq::message_t message(const BodyPtr& body, const std::string& client);

  std::size_t outstanding(const std::string& client) const;
  std::uint64_t queued_bytes() const;

 private:
  struct InFlight;
  static void release(void* data, void* hint);

  mutable std::mutex mu_;
  std::unordered_map<std::string, std::size_t> outstanding_;
  std::uint64_t bytes_ = 0;
};

}  // namespace callwatch::daemon
