#include "serve/reply_ledger.hpp"

namespace callwatch::daemon {

// What libzmq hands back with the frame it no longer needs.
struct ReplyLedger::InFlight {
  BodyPtr body;
  std::shared_ptr<ReplyLedger> ledger;
  std::string client;
};

ReplyLedger::Body::Body(std::shared_ptr<ReplyLedger> owner, std::string text, std::uint64_t at_seq)
    : bytes(std::move(text)), seq(at_seq), ledger_(std::move(owner)) {
  std::lock_guard lock(ledger_->mu_);
  ledger_->bytes_ += bytes.size();
}

ReplyLedger::Body::~Body() {
  std::lock_guard lock(ledger_->mu_);
  ledger_->bytes_ -= bytes.size();
}

ReplyLedger::BodyPtr ReplyLedger::make_body(std::string text, std::uint64_t seq) {
  return std::make_shared<const Body>(shared_from_this(), std::move(text), seq);
}

zmq::message_t ReplyLedger::message(const BodyPtr& body, const std::string& client) {
  {
    std::lock_guard lock(mu_);
    ++outstanding_[client];
  }
  auto hold = std::make_unique<InFlight>(InFlight{body, shared_from_this(), client});
  // libzmq owns `hold` from here and returns it to release(); the bytes stay in `body`.
  auto* data = const_cast<char*>(body->bytes.data());
  return zmq::message_t(data, body->bytes.size(), &ReplyLedger::release, hold.release());
}

void ReplyLedger::release(void* /*data*/, void* hint) {
  const std::unique_ptr<InFlight> hold(static_cast<InFlight*>(hint));
  ReplyLedger& l = *hold->ledger;
  std::lock_guard lock(l.mu_);
  auto it = l.outstanding_.find(hold->client);
  if (it != l.outstanding_.end() && --it->second == 0) l.outstanding_.erase(it);
}

std::size_t ReplyLedger::outstanding(const std::string& client) const {
  std::lock_guard lock(mu_);
  auto it = outstanding_.find(client);
  return it == outstanding_.end() ? 0 : it->second;
}

std::uint64_t ReplyLedger::queued_bytes() const {
  std::lock_guard lock(mu_);
  return bytes_;
}

}  // namespace callwatch::daemon
