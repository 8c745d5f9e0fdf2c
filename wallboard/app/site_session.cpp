#include "site_session.hpp"

#include <spdlog/spdlog.h>

namespace callwatch::wallboard::app {

namespace wire = metrics::wire;

namespace {

// Deltas that arrive while a snapshot is on its way; more than this and we simply ask again.
constexpr std::size_t kMaxBuffered = 2000;

}  // namespace

std::shared_ptr<spdlog::logger> protocol_log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    if (auto l = spdlog::get("wallboard.subscriber")) return l;
    auto l = spdlog::default_logger()->clone("wallboard.subscriber");
    spdlog::register_logger(l);
    return l;
  }();
  return logger;
}

SiteSession::SiteSession(FeedStore& store, std::size_t index, const metrics::Clock& clock,
                         std::string label, ProtocolCounters& counters,
                         std::function<void(const std::string&)> send)
    : store_(store),
      index_(index),
      clock_(clock),
      label_(std::move(label)),
      counters_(counters),
      send_(std::move(send)) {}

void SiteSession::start(bool ask) {
  if (ask) {
    request_snapshot();
    return;
  }
  requested_ = true;
  requested_at_ = Clock::now();
}

void SiteSession::set_connected(bool up) {
  store_.update(index_, [up](vm::SiteFeed& f) { f.connected = up; });
  if (!up) protocol_log()->warn("{}: disconnected", label_);
}

void SiteSession::request_snapshot() {
  if (requested_) return;
  send_(wire::encode_request("snapshot"));
  requested_ = true;
  requested_at_ = Clock::now();
}

void SiteSession::resync(const char* why) {
  if (requested_) return;
  protocol_log()->info("{}: resync ({})", label_, why);
  ++counters_.resyncs;
  store_.update(index_, [](vm::SiteFeed& f) { ++f.resyncs; });
  buffered_.clear();
  request_snapshot();
}

void SiteSession::flush() {
  if (!changed_) return;
  changed_ = false;
  const double engine_now = engine_now_;
  auto snap = std::make_shared<const metrics::Snapshot>(state_);
  const double now = clock_.now();
  store_.update(index_, [&](vm::SiteFeed& f) {
    f.state = std::move(snap);
    f.seq = seq_;
    f.last_message_at = now;
    f.engine_now = engine_now;
    f.connected = true;
    f.newer_protocol.reset();
  });
}

// Every message refreshes "last heard". It wakes the screen only when that changes what is shown
// (the link comes back, a stale banner goes, the site gets its name); otherwise the next
// whole-second redraw picks it up, so heartbeats cost no extra frames.
void SiteSession::touch(const wire::Message& m) {
  const double now = clock_.now();
  bool wake = false;
  store_.update_quiet(index_, [&](vm::SiteFeed& f) {
    wake = !f.connected || (!m.site.empty() && f.site != m.site) ||
           !(now - f.last_message_at <= vm::kStaleAfterSeconds);
  });
  auto set = [&](vm::SiteFeed& f) {
    f.last_message_at = now;
    if (m.now > 0) f.engine_now = m.now;
    if (!m.site.empty()) f.site = m.site;
    f.connected = true;
  };
  if (wake) {
    store_.update(index_, set);
  } else {
    store_.update_quiet(index_, set);
  }
}

// Applies one delta in order; false when it does not follow (the caller resyncs).
bool SiteSession::apply_delta(const wire::Message& m) {
  if (m.stream != stream_) return false;
  if (m.seq <= seq_) return true;  // already in the snapshot
  if (m.seq != seq_ + 1) return false;
  wire::apply(state_, m.delta);
  seq_ = m.seq;
  ++counters_.deltas;
  return true;
}

void SiteSession::on_message(std::string_view body) {
  auto m = wire::decode(body);
  if (!m) {
    ++counters_.bad_messages;
    protocol_log()->warn("{}: bad message: {}", label_, m.error());
    return;
  }
  if (!m->compatible()) {
    const auto v = m->proto;
    store_.update(index_, [v](vm::SiteFeed& f) { f.newer_protocol = v; });
    if (m->type != wire::MessageType::delta && m->type != wire::MessageType::heartbeat) {
      requested_ = false;  // an answer, though not one we can read
    }
    return;
  }
  switch (m->type) {
    case wire::MessageType::delta:
      touch(*m);
      if (!have_state_ || requested_) {
        if (buffered_.size() >= kMaxBuffered) buffered_.pop_front();
        buffered_.push_back(std::move(*m));
        return;
      }
      if (!apply_delta(*m)) {
        resync(m->stream != stream_ ? "new stream" : "sequence gap");
        return;
      }
      changed_ = true;
      engine_now_ = m->delta.now;
      return;
    case wire::MessageType::heartbeat:
      touch(*m);
      if (have_state_ && !requested_) {
        if (m->stream != stream_) {
          resync("new stream");
        } else if (m->seq > seq_) {
          resync("heartbeat ahead of us");  // the delta(s) before it were lost
        }
      }
      return;
    case wire::MessageType::snapshot:
      on_snapshot(*m);
      return;
    default:
      break;
  }
  if (m->request == "ack" &&
      (m->type == wire::MessageType::reply || m->type == wire::MessageType::error)) {
    on_ack_answer(*m);
    return;
  }
  const bool answer = m->type == wire::MessageType::reply || m->type == wire::MessageType::error;
  if (answer && (m->request == "broadcast" || m->request == "withdraw")) {
    vm::AckReply r;
    r.kind = m->type == wire::MessageType::reply ? vm::AckReply::Kind::accepted : vm::AckReply::Kind::refused;
    r.reason = m->error;
    protocol_log()->info("{}: {} {}: {}", label_, m->request, m->broadcast_id,
                         r.kind == vm::AckReply::Kind::accepted ? "accepted" : m->error);
    store_.update(index_, [&](vm::SiteFeed& f) { f.broadcast_reply = r; });
    return;
  }
  if (answer && m->request == "agent_history") {
    store_.update(index_, [&](vm::SiteFeed& f) {
      vm::AgentHistory& h = f.agent_history;
      if (m->type == wire::MessageType::error) {
        h.kind = vm::AgentHistory::Kind::unavailable;
        h.reason = m->error;
        h.spans.clear();
        return;
      }
      if (!m->agent.empty() && m->agent != h.agent) return;  // an older ask's answer
      h.kind = vm::AgentHistory::Kind::ready;
      h.spans = std::move(m->spans);
      h.since = m->since;
      h.cut = m->spans_cut;
    });
    return;
  }
  protocol_log()->warn("{}: the daemon answered {}: {}", label_, wire::to_string(m->type), m->error);
}

void SiteSession::on_snapshot(wire::Message& m) {
  requested_ = false;
  got_snapshot_ = true;
  state_ = std::move(m.snapshot);
  seq_ = m.seq;
  stream_ = m.stream;
  have_state_ = true;
  ++counters_.snapshots;
  if (!m.site.empty()) {
    store_.update(index_, [site = m.site](vm::SiteFeed& f) { f.site = site; });
  }
  // Deltas that raced the reply: those above its seq follow on, in order.
  bool ok = true;
  while (!buffered_.empty()) {
    ok = apply_delta(buffered_.front());
    buffered_.pop_front();
    if (!ok) break;
  }
  changed_ = true;
  engine_now_ = state_.now;
  if (!ok) resync("gap after snapshot");
}

void SiteSession::on_ack_answer(const wire::Message& m) {
  std::string alert = m.alert_id;
  if (!acks_in_flight_.empty()) {
    if (alert.empty()) alert = acks_in_flight_.front();
    acks_in_flight_.pop_front();
  }
  vm::AckReply r;
  r.kind = m.type == wire::MessageType::reply ? vm::AckReply::Kind::accepted
                                              : vm::AckReply::Kind::refused;
  r.reason = m.error;
  protocol_log()->info("{}: ack of {}: {}", label_, alert,
              r.kind == vm::AckReply::Kind::accepted ? "accepted" : m.error);
  if (!alert.empty()) {
    store_.update(index_, [&](vm::SiteFeed& f) { f.ack_replies[alert] = r; });
  }
}

}  // namespace callwatch::wallboard::app
