// One thread owns the XPUB and ROUTER sockets and "published", the state every subscriber holds
// once it applied all deltas; snapshot replies come from it, so a reply at seq N plus deltas
// N+1.. always rebuild the same state. A second thread only turns SnapshotHub's condition
// variable into a ZeroMQ message, so the socket thread sleeps in one zmq::poll for everything.
// Snapshots are encoded on a third thread (serve/snapshot_encoder), once per sequence number for
// every client that asks at it, and go out as one shared buffer (serve/reply_ledger): a client
// that asks again before reading its reply is coalesced into it, and the bytes held for clients
// that do not read are bounded.
#include "serve/publisher.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <deque>
#include <cmath>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <zmq_addon.hpp>

#include "callwatch/metrics/scope.hpp"
#include "feeds/feed_common.hpp"
#include "runtime/log_limiter.hpp"
#include "runtime/logging.hpp"
#include "runtime/thread_cpu.hpp"
#include "serve/agent_timeline.hpp"
#include "serve/reply_ledger.hpp"
#include "serve/security.hpp"
#include "serve/snapshot_encoder.hpp"

namespace callwatch::daemon {

namespace wire = metrics::wire;
using Clock = std::chrono::steady_clock;

namespace {

std::shared_ptr<spdlog::logger> log() { return component_logger("publisher"); }

std::uint64_t new_stream_id() {
  std::random_device rd;
  std::uint64_t v = (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
  // Kept below 2^53 so JavaScript readers (Grafana plugins, a browser board) read it exactly.
  return (v & ((std::uint64_t{1} << 53) - 1)) | 1;
}

constexpr std::string_view kTopicDelta = "delta";
constexpr std::string_view kTopicHeartbeat = "heartbeat";
// Deltas of a scope go out on "scope/<name>": neither "delta" nor "heartbeat" is a prefix of it, so
// an unscoped board's subscriptions never match a scope's copy of a delta.
constexpr std::string_view kTopicScopePrefix = "scope/";
constexpr char kKick = 'k';
constexpr char kStop = 's';
constexpr char kEncoded = 'e';

// Every frame of a request before its body: where the reply goes.
std::vector<zmq::message_t> route_of(std::vector<zmq::message_t>& frames) {
  std::vector<zmq::message_t> route;
  for (std::size_t i = 0; i + 1 < frames.size(); ++i) route.push_back(std::move(frames[i]));
  return route;
}

// Broadcast text: valid UTF-8 (feeds' check) on one line, no control characters, so every board
// can draw it.
bool printable_utf8(std::string_view s) {
  return valid_utf8(s) && std::none_of(s.begin(), s.end(), [](char ch) {
           const auto c = static_cast<unsigned char>(ch);
           return c < 0x20 || c == 0x7f;
         });
}

}  // namespace

std::string_view to_string(ControlRequest r) {
  switch (r) {
    case ControlRequest::ack: return "ack";
    case ControlRequest::broadcast: return "broadcast";
    case ControlRequest::withdraw: return "withdraw";
    case ControlRequest::count_: break;
  }
  return "?";
}

std::string_view to_string(Refusal r) {
  switch (r) {
    case Refusal::role: return "role";
    case Refusal::scope: return "scope";
    case Refusal::invalid: return "invalid";
    case Refusal::limit: return "limit";
    case Refusal::unknown: return "unknown";
    case Refusal::count_: break;
  }
  return "?";
}

struct Publisher::Impl {
  zmq::context_t& ctx;
  SnapshotHub& hub;
  PublisherOptions opts;
  std::string kick_endpoint;
  std::uint64_t stream = new_stream_id();

  zmq::socket_t xpub;
  zmq::socket_t router;
  zmq::socket_t kick_pull;
  std::mutex tap_kick_mu;
  zmq::socket_t tap_kick;  // the tap's wake-up, from its own threads (under tap_kick_mu)
  std::string bound_publish, bound_control;

  std::thread worker, watcher;
  std::atomic<bool> running{false};

  mutable std::mutex stats_mu;
  PublisherStats stats;

  // Owned by the worker thread.
  metrics::Snapshot published;
  AgentTimeline timeline;  // today's states per agent, from the deltas (agent_history)
  std::uint64_t seq = 0;
  SnapshotHub::Ptr last_seen;
  bool pending = false;
  Clock::time_point last_delta{};
  CostPacer pacer{opts.batch_interval, opts.max_delta_share};  // spaces the deltas
  Clock::time_point next_heartbeat{};

  // Snapshot replies (worker thread). A client asking while its seq is being encoded waits here;
  // `asked_at` is the seq it asked at, so a body of that seq or later answers it.
  struct Waiter {
    std::vector<zmq::message_t> route;
    std::string client;  // routing id
    std::uint64_t asked_at = 0;
    Clock::time_point since{};
    bool tap = false;  // the tap's clients (opts.tap): no route, answered through the tap
  };
  std::shared_ptr<ReplyLedger> ledger = std::make_shared<ReplyLedger>();
  std::unique_ptr<SnapshotEncoder> encoder;
  zmq::socket_t encoder_kick;  // used on the encoder's thread only
  ReplyLedger::BodyPtr snapshot_body;
  std::size_t last_snapshot_size = 0;
  std::vector<Waiter> waiters;
  LogLimiter busy_log{1};

  // Answers of forwarded acks, handed over by any thread; sent by the worker.
  struct Deferred {
    std::vector<zmq::message_t> route;
    std::string request;   // "ack", or a forwarded request's name
    std::string alert_id;  // ack
    // ack: "" when accepted; forwarded: the reply body, sent as is. Error: the text.
    tl::expected<std::string, std::string> result;
  };
  std::mutex deferred_mu;
  std::deque<Deferred> deferred;  // a deque: Deferred moves, never copies
  zmq::socket_t deferred_kick;  // under deferred_mu
  bool deferred_open = false;   // under deferred_mu
  std::string site_now;         // worker thread: opts.site or site_source()
  // Scopes (worker thread): the rule, the topic, and the last snapshot body encoded for it.
  struct Scope {
    std::string name;
    metrics::QueueScope queues;
    std::string topic;
    ReplyLedger::BodyPtr snapshot_body;
  };
  std::vector<Scope> scopes;
  std::map<std::string, std::size_t, std::less<>> scope_by_user;
  // Broadcasts (worker thread): the live list, sorted by id; published.broadcasts follows it.
  std::vector<metrics::BroadcastView> live;
  std::uint64_t broadcast_counter = 0;
  LogLimiter refusal_log{5};

  Impl(zmq::context_t& c, SnapshotHub& h, PublisherOptions o)
      : ctx(c), hub(h), opts(std::move(o)) {
    kick_endpoint = "inproc://callwatch-publisher-" + std::to_string(stream);
    for (const auto& sc : opts.scopes) {
      scopes.push_back(Scope{sc.name, metrics::QueueScope(sc.queues),
                             std::string(kTopicScopePrefix) + sc.name, nullptr});
      for (const auto& u : sc.users) scope_by_user.emplace(u, scopes.size() - 1);
    }
    const double now = opts.clock->now();
    for (const auto& b : opts.broadcasts) {
      if (b.expires_at > now && live.size() < wire::kMaxBroadcasts) live.push_back(b);
    }
    std::sort(live.begin(), live.end(), [](const auto& a, const auto& b) { return a.id < b.id; });
    published.broadcasts = live;
    stats.broadcasts_live = live.size();
    if (live.size() != opts.broadcasts.size() && opts.save_broadcasts) opts.save_broadcasts(live);
  }

  // The scope of the client that sent `m` (its ZAP user id), or none.
  const Scope* scope_of(zmq::message_t& m) {
    if (scopes.empty()) return nullptr;
    const auto it = scope_by_user.find(peer_user_id(m));
    return it == scope_by_user.end() ? nullptr : &scopes[it->second];
  }

  wire::Envelope envelope() const {
    return wire::Envelope{.seq = seq, .site = site_now, .sent_at = opts.clock->now(), .stream = stream};
  }

  void publish(std::string_view topic, const std::string& body) {
    // No NODROP: a full subscriber pipe drops for that subscriber only and never blocks us.
    // dontwait anyway so that no socket state can ever stall the loop.
    (void)xpub.send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    (void)xpub.send(zmq::buffer(body), zmq::send_flags::dontwait);
    if (opts.tap) opts.tap->published(body);
    std::lock_guard lock(stats_mu);
    stats.bytes_published += topic.size() + body.size();
  }

  void send_heartbeat() {
    if (opts.live && !opts.live()) {
      count(&PublisherStats::heartbeats_held);
      return;
    }
    const double now = opts.now_source ? std::max(published.now, opts.now_source()) : published.now;
    publish(kTopicHeartbeat, wire::encode_heartbeat(now, envelope()));
    std::lock_guard lock(stats_mu);
    ++stats.heartbeats;
  }

  // Diffs the hub's latest snapshot against what subscribers hold and sends the change.
  void process_latest() {
    pending = false;
    auto snap = hub.latest();
    if (!snap || snap == last_seen) return;
    // What the engine did not build again since the last one is as `published` has it.
    wire::SnapshotDelta d = wire::diff(published, *snap, opts.diff, last_seen.get());
    last_seen = snap;
    // The engine's snapshots never hold broadcasts: they are ours. A relay's hub holds its
    // upstreams' and passes them on.
    if (!opts.broadcasts_from_hub) d.broadcasts.reset();
    if (!opts.forward_request) note_agent_states(d);  // a relay asks the daemon for timelines
    if (d.has_changes()) {
      publish_delta(d);
    } else {
      wire::apply(published, d);
    }
    if (opts.require_state) encode_if_needed();  // requests that waited for a first state
  }

  // One delta at the next sequence number: to every unscoped board, and cut to each scope on its
  // topic (the same number, so a scoped board sees no gap where its queues did not change).
  void publish_delta(const wire::SnapshotDelta& d) {
    ++seq;
    publish(kTopicDelta, wire::encode_delta(d, envelope()));
    for (const auto& sc : scopes) {
      publish(sc.topic, wire::encode_delta(metrics::scoped(d, published, sc.queues), envelope()));
    }
    last_delta = Clock::now();
    wire::apply(published, d);
    std::lock_guard lock(stats_mu);
    ++stats.deltas;
    stats.seq = seq;
  }

  // Waiters for a first state that is slow to come: a board gives up after a few seconds and
  // asks again on a new connection, so older requests are answered "no state yet" and dropped;
  // the list stays as long as the number of boards.
  void expire_waiters(Clock::time_point now) {
    if (!opts.require_state || last_seen || waiters.empty()) return;
    std::vector<Waiter> keep;
    std::uint64_t dropped = 0;
    for (auto& w : waiters) {
      if (w.tap || now - w.since < std::chrono::seconds(5)) {  // the tap asks again itself
        keep.push_back(std::move(w));
        continue;
      }
      w.route.emplace_back(wire::encode_error("snapshot", "no state yet: the upstream daemon has not answered", envelope()));
      (void)zmq::send_multipart(router, w.route, zmq::send_flags::dontwait);
      ++dropped;
    }
    waiters = std::move(keep);
    count(&PublisherStats::snapshots_refused, dropped);
  }

  // ---- broadcasts -----------------------------------------------------------------------------

  void broadcasts_changed() {
    wire::SnapshotDelta d;
    d.now = published.now;
    d.interval_start = published.interval_start;
    d.day_start = published.day_start;
    d.events_applied = published.events_applied;
    d.version = published.version;
    d.broadcasts = live;
    publish_delta(d);
    if (opts.save_broadcasts) opts.save_broadcasts(live);
    std::lock_guard lock(stats_mu);
    stats.broadcasts_live = live.size();
  }

  void expire_broadcasts() {
    if (live.empty()) return;
    const double now = opts.clock->now();
    const auto n = std::erase_if(live, [now](const metrics::BroadcastView& b) { return b.expires_at <= now; });
    if (n == 0) return;
    log()->info("{} broadcast(s) expired", n);
    count(&PublisherStats::broadcasts_expired, n);
    broadcasts_changed();
  }

  // Milliseconds until the next broadcast expires (the loop wakes for it), or `cap`.
  std::chrono::milliseconds until_next_expiry(std::chrono::milliseconds cap) const {
    if (live.empty()) return cap;
    double first = live.front().expires_at;
    for (const auto& b : live) first = std::min(first, b.expires_at);
    const double ms = (first - opts.clock->now()) * 1000.0;
    if (!(ms < static_cast<double>(cap.count()))) return cap;
    return std::chrono::milliseconds(std::max<std::int64_t>(0, static_cast<std::int64_t>(std::ceil(ms))));
  }

  void refuse(std::vector<zmq::message_t>& frames, ControlRequest r, Refusal why, const std::string& text) {
    {
      std::lock_guard lock(stats_mu);
      ++stats.refused[static_cast<std::size_t>(r)][static_cast<std::size_t>(why)];
    }
    if (refusal_log.allow(Clock::now())) log()->info("{} refused ({}): {}", to_string(r), to_string(why), text);
    reply(frames, wire::encode_error(to_string(r), text, envelope()));
  }

  // Who sent a request: with keys, the role (and, when the request names nobody, the name) the
  // ZAP handler gave the key, never what the request claims.
  struct Requester {
    std::string role, who;
  };
  Requester requester(zmq::message_t& body, const wire::Message& m) {
    Requester r{m.role, m.who};
    if (opts.roles_from_keys) {
      const std::string user = peer_user_id(body);
      r.role = std::string(role_of_user_id(user));
      if (r.who.empty()) r.who = user.substr(r.role.size() + (r.role.empty() ? 0 : 1));
    }
    return r;
  }

  void handle_broadcast(std::vector<zmq::message_t>& frames, const wire::Message& m) {
    constexpr auto R = ControlRequest::broadcast;
    const Requester who = requester(frames.back(), m);
    if (who.role != "supervisor") {
      refuse(frames, R, Refusal::role,
             fmt::format("role '{}' is read-only: only a supervisor may broadcast", who.role));
      return;
    }
    if (who.who.empty() || who.who.size() > kMaxAckWhoBytes) {
      refuse(frames, R, Refusal::invalid, fmt::format("who is required, at most {} bytes", kMaxAckWhoBytes));
      return;
    }
    const std::string_view text = trim(m.text);
    if (text.empty()) {
      refuse(frames, R, Refusal::invalid, "the message is empty");
      return;
    }
    if (text.size() > wire::kMaxBroadcastBytes) {
      refuse(frames, R, Refusal::invalid,
             fmt::format("the message is {} bytes; at most {}", text.size(), wire::kMaxBroadcastBytes));
      return;
    }
    if (!printable_utf8(text)) {
      refuse(frames, R, Refusal::invalid, "the message must be UTF-8 text on one line");
      return;
    }
    if (!std::isfinite(m.ttl) || m.ttl < wire::kMinBroadcastSeconds || m.ttl > wire::kMaxBroadcastSeconds) {
      refuse(frames, R, Refusal::invalid,
             fmt::format("ttl must be {} to {} seconds", wire::kMinBroadcastSeconds, wire::kMaxBroadcastSeconds));
      return;
    }
    if (live.size() >= wire::kMaxBroadcasts) {
      refuse(frames, R, Refusal::limit,
             fmt::format("{} broadcasts are live already (the most): withdraw one first", live.size()));
      return;
    }
    const double now = opts.clock->now();
    metrics::BroadcastView b;
    // Ids sort by posting time (13 digits of milliseconds last until the year 2286).
    b.id = fmt::format("b{:013d}-{}", static_cast<std::int64_t>(std::llround(now * 1000)), ++broadcast_counter);
    b.text = std::string(text);
    b.from = who.who;
    b.posted_at = now;
    b.expires_at = now + m.ttl;
    log()->info("broadcast {} by {} for {} s: {}", b.id, b.from, m.ttl, b.text);
    const std::string id = b.id;
    live.push_back(std::move(b));
    std::sort(live.begin(), live.end(), [](const auto& x, const auto& y) { return x.id < y.id; });
    count(&PublisherStats::broadcasts_posted);
    broadcasts_changed();
    reply(frames, wire::encode_broadcast_reply("broadcast", id, envelope()));
  }

  void handle_withdraw(std::vector<zmq::message_t>& frames, const wire::Message& m) {
    constexpr auto R = ControlRequest::withdraw;
    const Requester who = requester(frames.back(), m);
    if (who.role != "supervisor") {
      refuse(frames, R, Refusal::role,
             fmt::format("role '{}' is read-only: only a supervisor may withdraw a broadcast", who.role));
      return;
    }
    const auto it = std::find_if(live.begin(), live.end(),
                                 [&](const metrics::BroadcastView& b) { return b.id == m.broadcast_id; });
    if (it == live.end()) {
      refuse(frames, R, Refusal::unknown,
             fmt::format("no live broadcast '{}' (it may have expired)", m.broadcast_id));
      return;
    }
    log()->info("broadcast {} withdrawn by {}", it->id, who.who);
    live.erase(it);
    count(&PublisherStats::broadcasts_withdrawn);
    broadcasts_changed();
    reply(frames, wire::encode_broadcast_reply("withdraw", m.broadcast_id, envelope()));

  }

  // Each changed agent whose state moved goes into today's timeline: a look-up per changed
  // agent, never a pass over all of them.
  void note_agent_states(const wire::SnapshotDelta& d) {
    timeline.set_day(d.day_start);
    for (const auto& a : d.agents) {
      timeline.note(a.name, a.state, a.state_since, a.state == metrics::AgentState::paused ? a.pause_reason : std::string());
    }
    std::lock_guard lock(stats_mu);
    stats.timeline_spans_cut = timeline.spans_cut_total();
    stats.timeline_spans = timeline.spans_held();
  }

  void handle_agent_history(std::vector<zmq::message_t>& frames, const wire::Message& m) {
    const std::string client = frames.front().to_string();
    if (m.agent.empty()) {
      note_bad_request();
      reply(frames, wire::encode_error("agent_history", "missing agent", envelope()));
      return;
    }
    if (const Scope* scope = scope_of(frames.back())) {
      // A scoped key sees the agents of its queues only (metrics::scoped): their timelines too.
      const auto it = std::find_if(published.agents.begin(), published.agents.end(),
                                   [&](const metrics::AgentView& a) { return a.name == m.agent; });
      const bool theirs = it != published.agents.end() &&
                          std::any_of(it->queues.begin(), it->queues.end(),
                                      [&](const std::string& q) { return scope->queues.contains(q); });
      if (!theirs) {
        reply(frames, wire::encode_error("agent_history",
                                         fmt::format("agent '{}' is not in your queues: scope \"{}\"", m.agent, scope->name),
                                         envelope()));
        return;
      }
    }
    if (ledger->outstanding(client) > 0) {
      reply(frames, wire::encode_error("agent_history", "busy: the previous reply to you is still unread", envelope()));
      return;
    }
    std::string body = wire::encode_agent_history(m.agent, timeline.day_start(),
                                                  timeline.spans(m.agent, published.now),
                                                  timeline.cut(m.agent), envelope());
    if (over_budget(body.size())) {
      reply(frames, wire::encode_error("agent_history", busy_text(), envelope()));
      return;
    }
    send_shared(route_of(frames), client, ledger->make_body(std::move(body)));
  }

  void reply(std::vector<zmq::message_t>& frames, std::string body) {
    // Everything before the request body is the routing envelope (identity, and the empty
    // delimiter a REQ client adds); echo it back in front of the reply.
    frames.back().rebuild(body.data(), body.size());
    (void)zmq::send_multipart(router, frames, zmq::send_flags::dontwait);
  }

  void handle_request(std::vector<zmq::message_t>& frames) {
    if (frames.size() < 2) return;  // identity only: nothing to answer
    const std::string_view body = frames.back().to_string_view();
    std::string request;
    wire::Message msg;
    if (!body.empty() && body.front() == '{') {
      auto m = wire::decode(body);
      if (!m || m->type != wire::MessageType::request) {
        note_bad_request();
        reply(frames, wire::encode_error("", m ? "not a request" : "bad request: " + m.error(),
                                         envelope()));
        return;
      }
      if (!m->compatible()) {
        note_bad_request();
        reply(frames, wire::encode_error(m->request,
                                         "protocol " + wire::to_string(m->proto) +
                                             " not supported; this daemon speaks " +
                                             wire::to_string(wire::ProtocolVersion{}),
                                         envelope()));
        return;
      }
      request = m->request;
      msg = std::move(*m);
    } else {
      request = std::string(body);  // plain-word requests ("snapshot") for shell tools
    }
    if (opts.forward_request && request != "snapshot" && request != "ack" && request != "broadcast" &&
        request != "withdraw") {
      msg.request = request;
      const std::string raw(body);
      auto route = std::make_shared<std::vector<zmq::message_t>>(route_of(frames));
      const bool taken = opts.forward_request(msg, raw, [this, route, request](tl::expected<std::string, std::string> r) {
        defer_reply(Deferred{std::move(*route), request, {}, std::move(r)});
      });
      if (taken) {
        count(&PublisherStats::requests_forwarded);
        return;
      }
      for (std::size_t i = 0; i < route->size(); ++i) frames[i] = std::move((*route)[i]);  // not taken: as it came
    }
    if (request == "snapshot") {
      request_snapshot(frames);
    } else if (request == "ack" || request == "alert_history") {
      handle_alert_request(frames, request, msg);
    } else if ((request == "broadcast" || request == "withdraw") && opts.broadcasts_from_hub) {
      refuse(frames, request == "broadcast" ? ControlRequest::broadcast : ControlRequest::withdraw,
             Refusal::invalid, "this is a relay: post and withdraw broadcasts at the daemon (callwatchd broadcast)");
    } else if (request == "broadcast") {
      handle_broadcast(frames, msg);
    } else if (request == "withdraw") {
      handle_withdraw(frames, msg);
    } else if (request == "agent_history") {
      handle_agent_history(frames, msg);
    } else {
      note_bad_request();
      reply(frames, wire::encode_error(request, "unknown request", envelope()));
    }
  }

  // Acks are checked against what the boards hold (`published`), then queued for the engine,
  // which owns alert state; the ack reaches every board in the next delta.
  void handle_alert_request(std::vector<zmq::message_t>& frames, const std::string& request,
                            const wire::Message& m) {
    if (!opts.alerts) {
      reply(frames, wire::encode_error(request, "this daemon runs no alert rules", envelope()));
      return;
    }
    const Scope* scope = scope_of(frames.back());
    if (request == "alert_history") {
      const std::string client = frames.front().to_string();
      if (ledger->outstanding(client) > 0) {
        reply(frames, wire::encode_error(request, "busy: the previous reply to you is still unread", envelope()));
        return;
      }
      const auto h = opts.alerts->history();
      std::string body = scope ? wire::encode_alert_history(metrics::scoped(*h, scope->queues),
                                                            opts.alerts->history_since(), envelope())
                               : wire::encode_alert_history(*h, opts.alerts->history_since(), envelope());
      if (over_budget(body.size())) {
        reply(frames, wire::encode_error(request, busy_text(), envelope()));
        return;
      }
      send_shared(route_of(frames), client, ledger->make_body(std::move(body)));
      return;
    }
    // The key decides (ZAP user id "role:name"); a kiosk cannot claim to be a supervisor.
    const Requester r = requester(frames.back(), m);
    constexpr auto A = ControlRequest::ack;
    if (r.role != "supervisor") {
      refuse(frames, A, Refusal::role,
             fmt::format("role '{}' is read-only: only a supervisor may acknowledge", r.role));
      return;
    }
    if (scope) {
      // Refused for an alert of another team's queue, and for a global one: it is not theirs to
      // silence for every screen.
      const auto it = std::find_if(published.alerts.begin(), published.alerts.end(),
                                   [&](const metrics::AlertView& a) { return a.id == m.alert_id; });
      if (it != published.alerts.end() && !scope->queues.contains(it->queue)) {
        refuse(frames, A, Refusal::scope,
               fmt::format("alert '{}' is not of your queues ({}): scope \"{}\"", m.alert_id,
                           fmt::join(scope->queues.queues(), ", "), scope->name));
        return;
      }
      if (it == published.alerts.end()) {
        refuse(frames, A, Refusal::unknown, fmt::format("no alert '{}'", m.alert_id));
        return;
      }
    }
    AckRequest req{.alert_id = m.alert_id, .who = r.who, .comment = m.comment, .role = r.role, .at = opts.clock->now()};
    if (opts.forward_ack) {
      if (auto checked = check_ack(req, published); !checked) {
        reply(frames, wire::encode_error("ack", checked.error(), envelope()));
        return;
      }
      auto route = std::make_shared<std::vector<zmq::message_t>>(route_of(frames));
      opts.forward_ack(std::move(req), [this, route, id = m.alert_id](tl::expected<void, std::string> result) {
        defer_reply(Deferred{std::move(*route), "ack", id,
                             result ? tl::expected<std::string, std::string>{} : tl::unexpected(result.error())});
      });
      count(&PublisherStats::acks_forwarded);
      return;
    }
    auto ok = opts.alerts->submit_ack(std::move(req), published);
    if (!ok) {
      const std::string& e = ok.error();
      const Refusal why = e.rfind("no alert", 0) == 0    ? Refusal::unknown
                          : e.rfind("too many", 0) == 0 ? Refusal::limit
                                                        : Refusal::invalid;
      refuse(frames, A, why, e);
      return;
    }
    reply(frames, wire::encode_reply("ack", m.alert_id, envelope()));
  }

  // ---- snapshots ------------------------------------------------------------------------------

  void send_shared(std::vector<zmq::message_t> route, const std::string& client,
                   const ReplyLedger::BodyPtr& body) {
    route.push_back(ledger->message(body, client));
    (void)zmq::send_multipart(router, route, zmq::send_flags::dontwait);
  }

  // True when a new body of `size` bytes would join replies already held past the budget. With
  // nothing held, one body always goes out, however large.
  bool over_budget(std::size_t size) const {
    const std::uint64_t held = ledger->queued_bytes();
    return held > 0 && held + size > opts.max_queued_reply_bytes;
  }

  std::string busy_text() const {
    return fmt::format("busy: {} bytes of replies wait for clients that do not read them; ask again later",
                       ledger->queued_bytes());
  }

  void count(std::uint64_t PublisherStats::*field, std::uint64_t n = 1) {
    std::lock_guard lock(stats_mu);
    stats.*field += n;
  }

  void defer_reply(Deferred d) {
    std::lock_guard lock(deferred_mu);
    if (!deferred_open) return;
    deferred.push_back(std::move(d));
    (void)deferred_kick.send(zmq::buffer(&kKick, 1), zmq::send_flags::dontwait);
  }

  void flush_deferred() {
    std::deque<Deferred> out;
    {
      std::lock_guard lock(deferred_mu);
      out.swap(deferred);
    }
    for (auto& d : out) {
      std::string body = !d.result         ? wire::encode_error(d.request, d.result.error(), envelope())
                         : d.request == "ack" ? wire::encode_reply("ack", d.alert_id, envelope())
                                              : std::move(*d.result);
      d.route.emplace_back(body.data(), body.size());
      (void)zmq::send_multipart(router, d.route, zmq::send_flags::dontwait);
    }
  }

  void request_snapshot(std::vector<zmq::message_t>& frames) {
    const std::string client = frames.front().to_string();
    const bool waiting = std::any_of(waiters.begin(), waiters.end(), [&](const Waiter& w) { return w.client == client; });
    if (waiting || ledger->outstanding(client) > 0) {
      // Its earlier reply is on its way (or being encoded): that one answers this request too.
      count(&PublisherStats::snapshots_coalesced);
      return;
    }
    if (Scope* scope = const_cast<Scope*>(scope_of(frames.back()))) {
      serve_scoped_snapshot(frames, client, *scope);
      return;
    }
    if (snapshot_body && snapshot_body->seq == seq) {
      send_shared(route_of(frames), client, snapshot_body);
      count(&PublisherStats::snapshots_served);
      return;
    }
    waiters.push_back(Waiter{route_of(frames), client, seq, Clock::now()});
    encode_if_needed();
  }

  // The tap's clients that asked: answered like a ZeroMQ client, from the body at this seq or
  // the next one encoded. One tap waiter stands for all of them.
  void request_tap_snapshot() {
    for (auto& w : waiters) {
      if (w.tap) {
        w.asked_at = seq;  // those who asked now need this seq at least
        return;
      }
    }
    if (snapshot_body && snapshot_body->seq == seq) {
      answer_tap(snapshot_body);
      count(&PublisherStats::snapshots_served);
      return;
    }
    waiters.push_back(Waiter{{}, {}, seq, Clock::now(), true});
    encode_if_needed();
  }

  void answer_tap(const ReplyLedger::BodyPtr& body) {
    // Shares the body (and its place in the ledger's budget) for as long as a socket holds it.
    opts.tap->answer_snapshot(std::shared_ptr<const std::string>(body, &body->bytes));
  }

  // Starts an encode for the waiters, or refuses them while too much is held for non-readers.
  void encode_if_needed() {
    if (waiters.empty() || !encoder->idle()) return;
    // No state yet (a relay before its upstream's first snapshot): they wait for it.
    if (opts.require_state && !last_seen) return;
    if (snapshot_body && snapshot_body->seq == seq) {
      serve_waiters();
      return;
    }
    snapshot_body.reset();  // stale: clients still reading it keep their copy alive
    if (over_budget(last_snapshot_size)) {
      const std::string text = busy_text();
      if (busy_log.allow(Clock::now())) log()->warn("snapshot requests refused: {}", text);
      for (auto& w : waiters) {
        if (w.tap) {
          opts.tap->answer_snapshot(
              std::make_shared<const std::string>(wire::encode_error("snapshot", text, envelope())));
          continue;
        }
        w.route.emplace_back(wire::encode_error("snapshot", text, envelope()));
        (void)zmq::send_multipart(router, w.route, zmq::send_flags::dontwait);
      }
      count(&PublisherStats::snapshots_refused, waiters.size());
      waiters.clear();
      return;
    }
    encoder->submit(std::make_shared<const metrics::Snapshot>(published), envelope());
    count(&PublisherStats::snapshot_encodes);
  }

  // A scope's snapshot is a cut of `published` (a few of the floor's queues): encoded here, once
  // per sequence number for every client of the scope, within the same reply budget.
  void serve_scoped_snapshot(std::vector<zmq::message_t>& frames, const std::string& client, Scope& scope) {
    if (!scope.snapshot_body || scope.snapshot_body->seq != seq) {
      scope.snapshot_body.reset();
      std::string body = wire::encode_snapshot(metrics::scoped(published, scope.queues), envelope());
      if (over_budget(body.size())) {
        reply(frames, wire::encode_error("snapshot", busy_text(), envelope()));
        count(&PublisherStats::snapshots_refused);
        return;
      }
      scope.snapshot_body = ledger->make_body(std::move(body), seq);
      count(&PublisherStats::snapshot_encodes);
    }
    send_shared(route_of(frames), client, scope.snapshot_body);
    count(&PublisherStats::snapshots_served);
  }

  void serve_waiters() {
    std::vector<Waiter> later;
    std::uint64_t served = 0;
    for (auto& w : waiters) {
      if (w.asked_at <= snapshot_body->seq) {
        if (w.tap) {
          answer_tap(snapshot_body);
        } else {
          send_shared(std::move(w.route), w.client, snapshot_body);
        }
        ++served;
      } else {
        later.push_back(std::move(w));  // asked after the state was copied: needs a newer one
      }
    }
    waiters = std::move(later);
    count(&PublisherStats::snapshots_served, served);
  }

  void collect_encoded() {
    auto done = encoder->take();
    if (!done) return;
    last_snapshot_size = done->json.size();
    snapshot_body = ledger->make_body(std::move(done->json), done->seq);
    serve_waiters();
    encode_if_needed();
  }

  void wake_from_encoder() {
    (void)encoder_kick.send(zmq::buffer(&kEncoded, 1), zmq::send_flags::dontwait);
  }

  void note_bad_request() {
    std::lock_guard lock(stats_mu);
    ++stats.bad_requests;
  }

  void drain_router() {
    for (int i = 0; i < 64; ++i) {  // bounded so a request flood cannot starve deltas
      std::vector<zmq::message_t> frames;
      auto r = zmq::recv_multipart(router, std::back_inserter(frames), zmq::recv_flags::dontwait);
      if (!r) return;
      handle_request(frames);
    }
  }

  void drain_subscriptions() {
    bool subscribed = false;
    for (;;) {
      zmq::message_t m;
      auto r = xpub.recv(m, zmq::recv_flags::dontwait);
      if (!r) break;
      if (m.size() == 0) continue;
      const bool on = static_cast<const char*>(m.data())[0] == 1;
      if (on) subscribed = true;
      if (!scopes.empty()) apply_subscription(m, on);
    }
    if (subscribed) {
      // A new subscriber learns the current seq at once and knows its subscription is live
      // before it asks for a snapshot.
      send_heartbeat();
      std::lock_guard lock(stats_mu);
      ++stats.subscriptions;
    }
  }

  // XPUB_MANUAL (scopes configured): libzmq applies no subscription by itself; this decides, for
  // the pipe that sent `m`. A scoped client gets heartbeats and its scope's deltas, whatever it
  // asked for; an unscoped one what it asked for, except that "everything" means the unscoped
  // topics (the scopes' copies of each delta would look like duplicates to it).
  void apply_subscription(zmq::message_t& m, bool on) {
    const std::string_view topic(static_cast<const char*>(m.data()) + 1, m.size() - 1);
    std::vector<std::string_view> topics;
    if (const Scope* scope = scope_of(m)) {
      if (kTopicHeartbeat.starts_with(topic)) topics.push_back(kTopicHeartbeat);
      if (kTopicDelta.starts_with(topic)) topics.push_back(scope->topic);
      if (on) count(&PublisherStats::scoped_subscriptions);
    } else if (topic.empty()) {
      topics = {kTopicDelta, kTopicHeartbeat};
    } else {
      topics.push_back(topic);
    }
    for (const auto t : topics) {
      if (on) {
        xpub.set(zmq::sockopt::subscribe, t);
      } else {
        xpub.set(zmq::sockopt::unsubscribe, t);
      }
    }
  }

  bool drain_kicks() {
    bool stop = false;
    for (;;) {
      zmq::message_t m;
      auto r = kick_pull.recv(m, zmq::recv_flags::dontwait);
      if (!r) break;
      if (m.size() > 0 && static_cast<const char*>(m.data())[0] == kStop) stop = true;
      pending = true;
    }
    return stop;
  }

  void run() {
    site_now = opts.site_source ? opts.site_source() : opts.site;
    next_heartbeat = Clock::now() + opts.heartbeat_interval;
    pending = true;  // the hub may already hold a snapshot
    for (;;) {
      auto now = Clock::now();
      auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(next_heartbeat - now);
      if (pending) {
        auto due = std::chrono::duration_cast<std::chrono::milliseconds>(
            last_delta + pacer.gap() - now);
        timeout = std::min(timeout, due);
      }
      timeout = until_next_expiry(std::max(timeout, std::chrono::milliseconds(0)));
      std::array<zmq::pollitem_t, 3> items{{
          {router.handle(), 0, ZMQ_POLLIN, 0},
          {xpub.handle(), 0, ZMQ_POLLIN, 0},
          {kick_pull.handle(), 0, ZMQ_POLLIN, 0},
      }};
      zmq::poll(items.data(), items.size(), timeout);
      if ((items[2].revents & ZMQ_POLLIN) != 0 && drain_kicks()) break;
      if (opts.site_source) site_now = opts.site_source();
      flush_deferred();
      collect_encoded();
      if ((items[1].revents & ZMQ_POLLIN) != 0) drain_subscriptions();
      now = Clock::now();
      if (pending && now >= last_delta + pacer.gap()) {
        if (!opts.live || opts.live() || !last_seen) {
          pacer.run([&] { process_latest(); });
          if (pacer.stretched_news(now)) {
            log()->info("a delta costs {:.1f} ms of CPU at this size: deltas go out every {:.0f} ms instead of {} ms",
                        pacer.cost_ms(), pacer.gap_ms(), pacer.floor_ms());
          }
        } else {
          // Not known to be current (a relay's upstream is silent): boards keep what they have
          // and go stale for want of heartbeats; a delta now would look like fresh data. Looked
          // at again a batch interval later.
          last_delta = now;
          count(&PublisherStats::deltas_held);
        }
      }
      expire_broadcasts();
      if ((items[0].revents & ZMQ_POLLIN) != 0) drain_router();
      if (opts.tap && opts.tap->take_snapshot_requests()) request_tap_snapshot();
      if (now >= next_heartbeat) {
        expire_waiters(now);
        send_heartbeat();
        next_heartbeat = now + opts.heartbeat_interval;
      }
    }
  }

  void watch() {
    zmq::socket_t push(ctx, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 0);
    push.connect(kick_endpoint);
    std::uint64_t gen = 0;
    while (running.load()) {
      if (hub.wait_newer(gen, std::chrono::milliseconds(100))) {
        // A full kick queue already means "look at the hub": dropping this one loses nothing.
        (void)push.send(zmq::buffer(&kKick, 1), zmq::send_flags::dontwait);
      }
    }
  }
};

void secure_publisher(PublisherOptions& opts, const ServerSecurity& curve, const config::SecurityConfig& cfg) {
  opts.secure_socket = [&curve](zmq::socket_t& sock, std::string_view domain) { apply_curve_server(sock, curve, domain); };
  opts.roles_from_keys = true;
  // [[security.scope]]: the ZAP user id of each bound key ("supervisor:bob") names its scope.
  for (const auto& sc : cfg.scopes) {
    PublisherScope ps{.name = sc.name, .queues = sc.queues, .users = {}};
    for (const auto& name : sc.clients) {
      const auto it = std::find_if(curve.clients.begin(), curve.clients.end(),
                                   [&](const CurveClient& c) { return c.name == name; });
      if (it != curve.clients.end()) ps.users.push_back(fmt::format("{}:{}", config::to_string(it->role), name));
    }
    opts.scopes.push_back(std::move(ps));
  }
}

Publisher::Publisher(zmq::context_t& ctx, SnapshotHub& hub, PublisherOptions opts)
    : impl_(std::make_unique<Impl>(ctx, hub, std::move(opts))) {}

Publisher::~Publisher() { stop(); }

void Publisher::start() {
  Impl& m = *impl_;
  if (m.running.load()) return;
  m.xpub = zmq::socket_t(m.ctx, zmq::socket_type::xpub);
  m.xpub.set(zmq::sockopt::sndhwm, m.opts.send_high_water_mark);
  m.xpub.set(zmq::sockopt::linger, 0);
  if (!m.scopes.empty()) m.xpub.set(zmq::sockopt::xpub_manual, 1);
  if (m.opts.secure_socket) m.opts.secure_socket(m.xpub, "publish");
  m.xpub.bind(m.opts.publish_endpoint);
  m.bound_publish = m.xpub.get(zmq::sockopt::last_endpoint);
  m.router = zmq::socket_t(m.ctx, zmq::socket_type::router);
  m.router.set(zmq::sockopt::linger, 0);
  m.router.set(zmq::sockopt::sndhwm, 100);
  // Requests are a few hundred bytes (an ack's comment is capped at 280); a peer sending more is
  // cut off by libzmq before the message takes memory.
  m.router.set(zmq::sockopt::maxmsgsize, std::int64_t{64} * 1024);
  if (m.opts.secure_socket) m.opts.secure_socket(m.router, "control");
  m.router.bind(m.opts.control_endpoint);
  m.bound_control = m.router.get(zmq::sockopt::last_endpoint);
  m.kick_pull = zmq::socket_t(m.ctx, zmq::socket_type::pull);
  m.kick_pull.set(zmq::sockopt::rcvhwm, 16);
  m.kick_pull.bind(m.kick_endpoint);
  m.encoder_kick = zmq::socket_t(m.ctx, zmq::socket_type::push);
  m.encoder_kick.set(zmq::sockopt::linger, 0);
  m.encoder_kick.connect(m.kick_endpoint);
  m.encoder = std::make_unique<SnapshotEncoder>([&m] { m.wake_from_encoder(); });
  {
    std::lock_guard lock(m.deferred_mu);
    m.deferred_kick = zmq::socket_t(m.ctx, zmq::socket_type::push);
    m.deferred_kick.set(zmq::sockopt::linger, 0);
    m.deferred_kick.connect(m.kick_endpoint);
    m.deferred_open = true;
  }
  if (m.opts.tap) {
    m.tap_kick = zmq::socket_t(m.ctx, zmq::socket_type::push);
    m.tap_kick.set(zmq::sockopt::linger, 0);
    m.tap_kick.connect(m.kick_endpoint);
    m.opts.tap->set_wake([&m] {
      std::lock_guard lock(m.tap_kick_mu);
      // A full kick queue already wakes the loop, which asks the tap: nothing is lost.
      if (m.tap_kick) (void)m.tap_kick.send(zmq::buffer(&kKick, 1), zmq::send_flags::dontwait);
    });
  }
  m.running = true;
  m.worker = std::thread([&m] { m.run(); });
  m.watcher = std::thread([&m] { m.watch(); });
  log()->info("wallboard protocol {}: deltas on {}, snapshots on {}",
              wire::to_string(wire::ProtocolVersion{}), m.bound_publish, m.bound_control);
}

void Publisher::stop() {
  Impl& m = *impl_;
  if (!m.running.exchange(false)) return;
  {
    zmq::socket_t push(m.ctx, zmq::socket_type::push);
    push.set(zmq::sockopt::linger, 1000);
    push.connect(m.kick_endpoint);
    (void)push.send(zmq::buffer(&kStop, 1), zmq::send_flags::none);
  }
  m.worker.join();
  m.watcher.join();
  {
    std::lock_guard lock(m.deferred_mu);
    m.deferred_open = false;
    m.deferred.clear();
    m.deferred_kick.close();
  }
  if (m.opts.tap) {
    m.opts.tap->set_wake(nullptr);
    std::lock_guard lock(m.tap_kick_mu);
    m.tap_kick.close();
  }
  m.encoder.reset();  // finishes a running encode first
  m.encoder_kick.close();
  m.waiters.clear();
  m.snapshot_body.reset();
  m.xpub.close();
  m.router.close();
  m.kick_pull.close();
}

std::string Publisher::publish_endpoint() const { return impl_->bound_publish; }
std::string Publisher::control_endpoint() const { return impl_->bound_control; }

PublisherStats Publisher::stats() const {
  PublisherStats s;
  {
    std::lock_guard lock(impl_->stats_mu);
    s = impl_->stats;
  }
  s.queued_reply_bytes = impl_->ledger->queued_bytes();
  return s;
}

}  // namespace callwatch::daemon
