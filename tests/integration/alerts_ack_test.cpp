// Alerts end to end on a live callwatchd: a rule fires from an event pushed to the native feed,
// two wallboard-protocol clients (SUB on the XPUB, DEALER on the ROUTER, cppzmq directly) hold
// the state, one acks, both see the ack in the next delta that carries the alert; a kiosk may
// not ack; the day's history is served on request; /metrics and the board agree.
#include <chrono>
#include <fstream>
#include <iterator>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "daemon_process.hpp"

using cwtest::Daemon;
using namespace std::chrono_literals;
namespace m = callwatch::metrics;
namespace wire = callwatch::metrics::wire;

namespace {

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The publish and control endpoints the helper wrote into the daemon's config.
std::string endpoint_of(const Daemon& d, const std::string& key) {
  std::ifstream in(d.config);
  const std::string text((std::istreambuf_iterator<char>(in)), {});
  std::smatch mt;
  if (!std::regex_search(text, mt, std::regex(key + " = \"(tcp://[^\"]+)\""))) throw std::runtime_error("no " + key);
  return mt[1];
}

// One wallboard as the protocol describes it: subscribe, ask for a snapshot, apply deltas above
// its sequence number. Records the deltas it applied so a test can look at "the next one".
class Board {
 public:
  Board(zmq::context_t& ctx, const std::string& pub, const std::string& ctl)
      : sub_(ctx, zmq::socket_type::sub), dealer_(ctx, zmq::socket_type::dealer) {
    sub_.set(zmq::sockopt::linger, 0);
    sub_.set(zmq::sockopt::subscribe, "");
    sub_.connect(pub);
    dealer_.set(zmq::sockopt::linger, 0);
    dealer_.connect(ctl);
  }

  // Subscription live (the publisher greets each new subscriber with a heartbeat), then the
  // snapshot; deltas already queued at or below its seq are skipped later.
  void sync() {
    REQUIRE(next_message(3s, wire::MessageType::heartbeat));
    auto snap = request(wire::encode_request("snapshot"));
    REQUIRE(snap);
    REQUIRE(snap->type == wire::MessageType::snapshot);
    state_ = snap->snapshot;
    seq_ = snap->seq;
  }

  // Applies deltas for up to `t`; true once `pred(state)` holds.
  template <typename Pred>
  bool until(Pred pred, std::chrono::milliseconds t) {
    const auto deadline = std::chrono::steady_clock::now() + t;
    while (!pred(state_)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      (void)pump(left);
    }
    return true;
  }

  // Receives one delta (applying it) within `t`; nullptr on timeout.
  std::optional<wire::SnapshotDelta> pump(std::chrono::milliseconds t) {
    auto msg = next_message(t, wire::MessageType::delta);
    if (!msg) return std::nullopt;
    if (msg->seq <= seq_) return pump(10ms);  // before our snapshot: already in it
    CHECK(msg->seq == seq_ + 1);               // no gap on a healthy local link
    seq_ = msg->seq;
    wire::apply(state_, msg->delta);
    deltas_.push_back(msg->delta);
    return msg->delta;
  }

  std::optional<wire::Message> request(const std::string& body, std::chrono::milliseconds t = 3s) {
    dealer_.send(zmq::buffer(body), zmq::send_flags::none);
    std::vector<zmq::pollitem_t> items{{dealer_.handle(), 0, ZMQ_POLLIN, 0}};
    if (zmq::poll(items, t) <= 0) return std::nullopt;
    zmq::message_t reply;
    if (!dealer_.recv(reply, zmq::recv_flags::none)) return std::nullopt;
    auto m = wire::decode(reply.to_string_view());
    REQUIRE(m);
    return *m;
  }

  const m::Snapshot& state() const { return state_; }

 private:
  std::optional<wire::Message> next_message(std::chrono::milliseconds t, wire::MessageType type) {
    const auto deadline = std::chrono::steady_clock::now() + t;
    for (;;) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return std::nullopt;
      std::vector<zmq::pollitem_t> items{{sub_.handle(), 0, ZMQ_POLLIN, 0}};
      if (zmq::poll(items, left) <= 0) continue;
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(sub_, std::back_inserter(frames))) continue;
      auto m = wire::decode(frames.back().to_string_view());
      REQUIRE(m);
      if (m->type == type) return *m;
    }
  }

  zmq::socket_t sub_, dealer_;
  m::Snapshot state_;
  std::uint64_t seq_ = 0;
  std::vector<wire::SnapshotDelta> deltas_;
};

const m::AlertView* alert(const m::Snapshot& s, const std::string& id) {
  for (const auto& a : s.alerts)
    if (a.id == id) return &a;
  return nullptr;
}

const m::AlertView* alert(const wire::SnapshotDelta& d, const std::string& id) {
  for (const auto& a : d.alerts)
    if (a.id == id) return &a;
  return nullptr;
}

// A rule that fires on one waiting call at once: the test controls it with a single event.
const char* kRules = R"(
[[alert]]
name = "queue-long"
metric = "calls_waiting"
above = 0
severity = "critical"
)";

}  // namespace

TEST_CASE("one wallboard acks an alert and every wallboard sees it in its next delta",
          "[integration][alerts][ack]") {
  Daemon daemon({}, kRules);
  zmq::context_t ctx(1);
  const std::string pub = endpoint_of(daemon, "publish");
  const std::string ctl = endpoint_of(daemon, "control");

  Board supervisor(ctx, pub, ctl);
  Board floor(ctx, pub, ctl);
  supervisor.sync();
  floor.sync();

  // One call waits in "sales": calls_waiting 1 > 0 fires queue-long/sales at the next evaluation.
  {
    zmq::socket_t push(ctx, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 2000);
    push.connect(daemon.feed_endpoint);
    const std::string ev = R"({"type":"call_enqueued","ts":)" + std::to_string(wall_now()) +
                           R"(,"call":"c-1","queue":"sales"})";
    push.send(zmq::buffer(ev), zmq::send_flags::none);
  }
  const std::string id = "queue-long/sales";
  auto is_firing = [&](const m::Snapshot& s) {
    const auto* a = alert(s, id);
    return a && a->state == m::AlertState::firing;
  };
  REQUIRE(supervisor.until(is_firing, 5s));
  REQUIRE(floor.until(is_firing, 5s));
  CHECK_FALSE(alert(floor.state(), id)->acked);
  CHECK(alert(floor.state(), id)->severity == m::AlertSeverity::critical);
  // Prometheus sees the same alert.
  CHECK(cwtest::wait_for(
      [&] {
        return cwtest::sample(daemon.scrape(),
                              R"(callwatch_alerts_firing{alert="queue-long",severity="critical",queue="sales"})") == 1.0;
      },
      3s));

  // The kiosk may not ack, nor may anyone ack an alert that does not exist or give no name.
  auto kiosk = floor.request(wire::encode_ack_request(id, "lobby", "", "kiosk"));
  REQUIRE(kiosk);
  CHECK(kiosk->type == wire::MessageType::error);
  CHECK(kiosk->request == "ack");
  CHECK_THAT(kiosk->error, Catch::Contains("read-only"));
  auto unknown = supervisor.request(wire::encode_ack_request("queue-long/nowhere", "Mei", "", "supervisor"));
  REQUIRE(unknown);
  CHECK(unknown->type == wire::MessageType::error);
  CHECK_THAT(unknown->error, Catch::Contains("no alert"));
  auto anonymous = supervisor.request(wire::encode_ack_request(id, "", "", "supervisor"));
  REQUIRE(anonymous);
  CHECK(anonymous->type == wire::MessageType::error);
  // None of these changed the alert: no delta carries it for a while (its value is constant).
  std::optional<wire::SnapshotDelta> d;
  while ((d = floor.pump(400ms))) CHECK_FALSE(alert(*d, id));
  CHECK_FALSE(alert(floor.state(), id)->acked);

  // The supervisor acks.
  const double before = wall_now();
  auto ok = supervisor.request(wire::encode_ack_request(id, "Mei 美", "calling in backup", "supervisor"));
  REQUIRE(ok);
  REQUIRE(ok->type == wire::MessageType::reply);
  CHECK(ok->request == "ack");
  CHECK(ok->alert_id == id);

  // Both boards: the next delta that carries the alert carries the ack.
  for (Board* b : {&supervisor, &floor}) {
    std::optional<wire::SnapshotDelta> next;
    const auto deadline = std::chrono::steady_clock::now() + 3s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto got = b->pump(500ms);
      if (got && alert(*got, id)) {
        next = got;
        break;
      }
    }
    REQUIRE(next);
    const auto* a = alert(*next, id);
    CHECK(a->acked);
    CHECK(a->acked_by == "Mei 美");
    CHECK(a->ack_comment == "calling in backup");
    CHECK(a->acked_at >= before - 1);  // stamped by the daemon on receipt
    CHECK(a->acked_at <= wall_now() + 1);
    CHECK(a->state == m::AlertState::firing);  // acked alerts stay listed until resolved
    CHECK(alert(b->state(), id)->acked);
  }

  // The day's history: fired, then acknowledged.
  auto hist = floor.request(wire::encode_request("alert_history"));
  REQUIRE(hist);
  REQUIRE(hist->type == wire::MessageType::reply);
  CHECK(hist->request == "alert_history");
  REQUIRE(hist->history.size() == 2);
  CHECK(hist->history[0].id == id);
  CHECK(hist->history[0].from == m::AlertState::inactive);
  CHECK(hist->history[0].to == m::AlertState::firing);
  CHECK_THAT(hist->history[1].message, Catch::Contains("acknowledged by Mei 美: calling in backup"));
  CHECK(hist->since > 0);
  CHECK(hist->since <= hist->history[0].at);

  // The caller is answered: the alert resolves, and the ack is no longer needed.
  {
    zmq::socket_t push(ctx, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 2000);
    push.connect(daemon.feed_endpoint);
    const std::string ev = R"({"type":"call_abandoned","ts":)" + std::to_string(wall_now()) +
                           R"(,"call":"c-1","queue":"sales"})";
    push.send(zmq::buffer(ev), zmq::send_flags::none);
  }
  auto resolved = [&](const m::Snapshot& s) {
    const auto* a = alert(s, id);
    return a && a->state == m::AlertState::resolved;
  };
  CHECK(supervisor.until(resolved, 5s));
  CHECK(floor.until(resolved, 5s));
  auto late = supervisor.request(wire::encode_ack_request(id, "Mei", "", "supervisor"));
  REQUIRE(late);
  CHECK(late->type == wire::MessageType::error);
  CHECK_THAT(late->error, Catch::Contains("resolved"));
}
