// One Subscriber per upstream (the board's own protocol client, wallboard/app) rebuilds each
// daemon's state into a FeedStore; a merge thread turns what they hold into one state on a
// SnapshotHub, and the daemon's Publisher serves that hub to the boards. With one upstream the
// state is passed on as the very object the subscriber made (no copy, names unchanged); with
// several, names are qualified by site (relay/site_merge).
#include "relay/relay.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <zmq_addon.hpp>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "feed_store.hpp"
#include "relay/site_merge.hpp"
#include "runtime/alerts_runtime.hpp"
#include "runtime/logging.hpp"
#include "runtime/snapshot_hub.hpp"
#include "subscriber.hpp"

namespace callwatch::daemon::relay {

namespace wire = metrics::wire;
namespace app = wallboard::app;
namespace vm = wallboard::vm;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::shared_ptr<spdlog::logger> log() { return component_logger("relay"); }

std::vector<vm::SiteFeed> initial_feeds(const std::vector<Upstream>& ups) {
  std::vector<vm::SiteFeed> feeds(ups.size());
  for (std::size_t i = 0; i < ups.size(); ++i) feeds[i].endpoint = ups[i].publish;
  return feeds;
}

}  // namespace

struct Relay::Impl {
  zmq::context_t& ctx;
  RelayOptions opts;
  app::FeedStore store;
  std::vector<std::unique_ptr<app::Subscriber>> subs;
  SnapshotHub hub;
  std::unique_ptr<Publisher> publisher;

  // An ack passed on to its daemon, waiting for the answer in that site's ack_replies.
  struct PendingAck {
    std::size_t site = 0;
    std::string upstream_id;
    PublisherOptions::AckDone done;
    SteadyClock::time_point deadline;
  };

  std::mutex mu;  // guards everything below
  std::condition_variable cv;
  bool dirty = true;
  bool running = false;
  std::vector<std::string> labels;  // unique, one per upstream, as of the last merge
  std::string site_name;            // what the envelopes say
  std::vector<PendingAck> pending;
  RelayStats counts;

  // Requests a daemon answers (alert_history, agent_history), sent by the forwarder thread on a
  // socket of its own per upstream, so a slow daemon never holds up the boards' stream.
  using ReplyDone = PublisherOptions::ReplyDone;
  struct Forward {
    std::size_t site = 0;
    std::string body;
    ReplyDone done;
    SteadyClock::time_point deadline;
  };
  static constexpr std::size_t kMaxForwards = 64;  // queued and in flight; more are refused
  std::mutex fwd_mu;
  std::deque<Forward> fwd_queue;    // fwd_mu
  std::size_t fwd_outstanding = 0;  // fwd_mu
  std::atomic<bool> fwd_running{false};
  std::thread forwarder;

  std::atomic<bool> live{false};
  std::atomic<double> engine_now{0};
  std::thread merger;
  std::vector<std::shared_ptr<const metrics::Snapshot>> merged_from;  // merge thread
  std::uint64_t merge_version = 0;                                   // merge thread

  Impl(zmq::context_t& c, RelayOptions o)
      : ctx(c), opts(std::move(o)), store(initial_feeds(opts.upstreams)) {}

  // ---- the merge thread ---------------------------------------------------------------------

  void run() {
    std::unique_lock lock(mu);
    while (running) {
      cv.wait_for(lock, std::chrono::milliseconds(250), [&] { return dirty || !running; });
      if (!running) break;
      dirty = false;
      lock.unlock();
      step();
      lock.lock();
      // Batches what arrives meanwhile into the next merge; stop() cuts the wait short.
      cv.wait_for(lock, opts.merge_interval, [&] { return !running; });
    }
  }

  void step() {
    const auto feeds = store.copy();
    const double now = opts.clock->now();
    std::vector<std::string> raw;
    raw.reserve(feeds.size());
    for (const auto& f : feeds) raw.push_back(vm::site_label(f));
    auto unique = unique_labels(std::move(raw));

    bool all_live = true;
    double newest = 0;
    for (const auto& f : feeds) {
      all_live = all_live && vm::link_state(f, now) == vm::LinkState::live;
      if (f.state) newest = std::max(newest, vm::engine_time(f, now));
    }
    live.store(all_live);
    if (newest > 0) engine_now.store(newest);

    bool changed = merged_from.size() != feeds.size();
    merged_from.resize(feeds.size());
    for (std::size_t i = 0; i < feeds.size(); ++i) {
      if (feeds[i].state != merged_from[i]) changed = true;
      merged_from[i] = feeds[i].state;
    }
    {
      std::lock_guard lock(mu);
      if (unique != labels) changed = true;
      labels = unique;
      site_name = !opts.site.empty() ? opts.site : feeds.size() == 1 ? feeds[0].site : std::string("relay");
    }
    if (changed) {
      if (feeds.size() == 1) {
        if (feeds[0].state) hub.publish(feeds[0].state);
      } else if (std::any_of(feeds.begin(), feeds.end(), [](const vm::SiteFeed& f) { return f.state != nullptr; })) {
        std::vector<SiteState> sites;
        sites.reserve(feeds.size());
        for (std::size_t i = 0; i < feeds.size(); ++i) sites.push_back(SiteState{unique[i], feeds[i].state});
        hub.publish(std::make_shared<const metrics::Snapshot>(merge_sites(sites, ++merge_version)));
      }
      std::lock_guard lock(mu);
      ++counts.merges;
    }
    settle_acks(feeds);
  }

  // Answers the acks whose daemon replied (or that waited too long), then forgets the reply so
  // a later ack of the same alert waits for its own.
  void settle_acks(const std::vector<vm::SiteFeed>& feeds) {
    const auto now = SteadyClock::now();
    std::vector<std::pair<PublisherOptions::AckDone, tl::expected<void, std::string>>> answers;
    std::vector<std::pair<std::size_t, std::string>> forget;
    {
      std::lock_guard lock(mu);
      std::vector<PendingAck> still;
      for (auto& p : pending) {
        const auto& replies = feeds[p.site].ack_replies;
        const auto it = replies.find(p.upstream_id);
        if (it != replies.end() && it->second.kind == vm::AckReply::Kind::accepted) {
          answers.emplace_back(std::move(p.done), tl::expected<void, std::string>{});
          forget.emplace_back(p.site, p.upstream_id);
          ++counts.acks_accepted;
        } else if (it != replies.end() && it->second.kind == vm::AckReply::Kind::refused) {
          answers.emplace_back(std::move(p.done), tl::unexpected(it->second.reason));
          forget.emplace_back(p.site, p.upstream_id);
          ++counts.acks_refused;
        } else if (now >= p.deadline) {
          answers.emplace_back(std::move(p.done),
                               tl::unexpected(fmt::format("no answer from the site's daemon in {} ms",
                                                          opts.ack_timeout.count())));
          forget.emplace_back(p.site, p.upstream_id);
          ++counts.acks_timed_out;
        } else {
          still.push_back(std::move(p));
        }
      }
      pending = std::move(still);
    }
    for (auto& [site, id] : forget) {
      store.update_quiet(site, [&id](vm::SiteFeed& f) { f.ack_replies.erase(id); });
    }
    for (auto& [done, result] : answers) done(std::move(result));
  }

  // ---- called by the publisher thread -------------------------------------------------------

  void forward_ack(AckRequest r, PublisherOptions::AckDone done) {
    std::size_t site = 0;
    std::string upstream_id = r.alert_id;
    bool send = true;
    {
      std::unique_lock lock(mu);
      if (subs.size() > 1) {
        auto owner = owner_of(labels, r.alert_id);
        if (!owner) {
          ++counts.acks_unrouted;
          lock.unlock();
          done(tl::unexpected(fmt::format("no site owns alert '{}'", r.alert_id)));
          return;
        }
        site = owner->first;
        upstream_id = std::move(owner->second);
      }
      if (pending.size() >= opts.max_pending_acks) {
        ++counts.acks_unrouted;
        lock.unlock();
        done(tl::unexpected(std::string("too many acks waiting for their daemon; try again")));
        return;
      }
      // A second ack of the same alert while the first is on its way gets the same answer.
      send = std::none_of(pending.begin(), pending.end(), [&](const PendingAck& p) {
        return p.site == site && p.upstream_id == upstream_id;
      });
      pending.push_back(PendingAck{site, upstream_id, std::move(done), SteadyClock::now() + opts.ack_timeout});
      if (send) ++counts.acks_forwarded;
    }
    if (send) {
      subs[site]->send_ack(upstream_id, wire::encode_ack_request(upstream_id, r.who, r.comment, r.role));
    }
  }

  std::string site() {
    std::lock_guard lock(mu);
    return site_name;
  }

  // ---- forwarded requests -------------------------------------------------------------------

  // Queues `body` for `site`'s daemon; false (and nothing queued) when the bound is reached.
  bool enqueue(std::size_t site, std::string body, ReplyDone done) {
    {
      std::lock_guard lock(fwd_mu);
      if (fwd_outstanding >= kMaxForwards) return false;
      ++fwd_outstanding;
      fwd_queue.push_back(Forward{site, std::move(body), std::move(done), SteadyClock::now() + opts.ack_timeout});
    }
    return true;
  }

  // Publisher thread. One upstream: the request goes on as it came and its reply comes back as
  // is. Several: alert_history asks every site and merges their days.
  bool forward_request(const wire::Message& m, std::string_view body, ReplyDone done) {
    const bool history = m.request == "alert_history";
    if (!history && m.request != "agent_history") return false;
    const std::size_t n = opts.upstreams.size();
    auto refuse_busy = [&] {
      {
        std::lock_guard lock(mu);
        ++counts.requests_refused;
      }
      done(tl::unexpected(std::string("busy: too many requests wait for the daemons; ask again later")));
      return true;
    };
    if (n == 1) {
      if (!enqueue(0, std::string(body), done)) return refuse_busy();
      return true;
    }
    if (!history) {
      // "north/ana": north's daemon is asked for ana's day; the answer names the agent as the
      // board asked for it.
      std::optional<std::pair<std::size_t, std::string>> owner;
      {
        std::lock_guard lock(mu);
        owner = owner_of(labels, m.agent);
      }
      if (!owner) {
        done(tl::unexpected(fmt::format("no site has agent '{}'", m.agent)));
        return true;
      }
      auto rename = [this, asked = m.agent, done](tl::expected<std::string, std::string> r) {
        if (!r) return done(std::move(r));
        auto msg = wire::decode(*r);
        if (!msg || msg->type != wire::MessageType::reply) return done(std::move(r));  // errors as they are
        const wire::Envelope env{.seq = 0, .site = {}, .sent_at = opts.clock->now(), .stream = 0};
        done(wire::encode_agent_history(asked, msg->since, msg->spans, msg->spans_cut, env));
      };
      if (!enqueue(owner->first, wire::encode_agent_history_request(owner->second), rename)) return refuse_busy();
      return true;
    }
    struct Gather {
      std::mutex mu;
      std::size_t left;
      std::vector<std::vector<metrics::AlertTransition>> days;
      double since = 0;
      std::string errors;
      ReplyDone done;
    };
    auto g = std::make_shared<Gather>();
    g->left = n;
    g->days.resize(n);
    g->done = std::move(done);
    std::vector<std::string> labels_now;
    {
      std::lock_guard lock(mu);
      labels_now = labels;
    }
    if (labels_now.size() != n) labels_now.resize(n);
    const std::string ask = wire::encode_request("alert_history");
    for (std::size_t i = 0; i < n; ++i) {
      auto one = [this, g, i, labels_now](tl::expected<std::string, std::string> r) {
        std::unique_lock lock(g->mu);
        if (r) {
          auto msg = wire::decode(*r);
          if (msg && msg->type == wire::MessageType::reply) {
            g->days[i] = std::move(msg->history);
            g->since = g->since == 0 ? msg->since : std::min(g->since, msg->since);
          } else {
            g->errors += fmt::format("{}{}: {}", g->errors.empty() ? "" : "; ", labels_now[i],
                                     msg ? msg->error : msg.error());
          }
        } else {
          g->errors += fmt::format("{}{}: {}", g->errors.empty() ? "" : "; ", labels_now[i], r.error());
        }
        if (--g->left > 0) return;
        auto merged = merge_histories(labels_now, g->days);
        const wire::Envelope env{.seq = 0, .site = {}, .sent_at = opts.clock->now(), .stream = 0};
        auto finish = std::move(g->done);
        const bool none = std::all_of(g->days.begin(), g->days.end(), [](const auto& d) { return d.empty(); });
        std::string errors = g->errors;
        const double since = g->since;
        lock.unlock();
        if (none && !errors.empty()) {
          finish(tl::unexpected(errors));
        } else {
          finish(wire::encode_alert_history(merged, since, env));
        }
      };
      if (!enqueue(i, ask, one)) one(tl::unexpected(std::string("busy")));
    }
    return true;
  }

  void forward_loop() {
    const std::size_t n = opts.upstreams.size();
    std::vector<zmq::socket_t> dealers(n);
    std::vector<std::deque<Forward>> flight(n);
    auto open = [&](std::size_t i) {
      dealers[i] = zmq::socket_t(ctx, zmq::socket_type::dealer);
      dealers[i].set(zmq::sockopt::linger, 0);
      dealers[i].set(zmq::sockopt::maxmsgsize, std::int64_t{64} << 20);
      if (opts.upstream_key) protocol::apply_curve_client(dealers[i], *opts.upstream_key, opts.upstream_server_public);
      dealers[i].connect(opts.upstreams[i].control);
    };
    for (std::size_t i = 0; i < n; ++i) open(i);
    std::vector<std::pair<ReplyDone, tl::expected<std::string, std::string>>> answers;
    auto finish = [&] {
      if (answers.empty()) return;
      {
        std::lock_guard lock(fwd_mu);
        fwd_outstanding -= std::min(fwd_outstanding, answers.size());
      }
      for (auto& [done, r] : answers) done(std::move(r));
      answers.clear();
    };
    while (fwd_running.load()) {
      std::deque<Forward> fresh;
      {
        std::lock_guard lock(fwd_mu);
        fresh.swap(fwd_queue);
      }
      for (auto& f : fresh) {
        std::array<zmq::const_buffer, 2> frames{zmq::str_buffer(""), zmq::buffer(f.body)};
        if (zmq::send_multipart(dealers[f.site], frames, zmq::send_flags::dontwait)) {
          flight[f.site].push_back(std::move(f));
        } else {
          answers.emplace_back(std::move(f.done), tl::unexpected(std::string("the daemon's control socket is busy")));
        }
      }
      std::vector<zmq::pollitem_t> items;
      for (auto& d : dealers) items.push_back({d.handle(), 0, ZMQ_POLLIN, 0});
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(50));
      for (std::size_t i = 0; i < n; ++i) {
        if ((items[i].revents & ZMQ_POLLIN) == 0) continue;
        for (;;) {
          std::vector<zmq::message_t> frames;
          if (!zmq::recv_multipart(dealers[i], std::back_inserter(frames), zmq::recv_flags::dontwait)) break;
          if (flight[i].empty()) continue;  // a reply to a request given up on: its socket is gone
          answers.emplace_back(std::move(flight[i].front().done), frames.back().to_string());
          flight[i].pop_front();
        }
      }
      const auto now = SteadyClock::now();
      for (std::size_t i = 0; i < n; ++i) {
        if (flight[i].empty() || now < flight[i].front().deadline) continue;
        // Replies come in order: once the oldest is overdue, a late one could answer the wrong
        // request. A new socket drops whatever is still on its way.
        for (auto& f : flight[i]) {
          answers.emplace_back(std::move(f.done), tl::unexpected(fmt::format(
                                                      "no answer from the site's daemon in {} ms", opts.ack_timeout.count())));
        }
        flight[i].clear();
        open(i);
      }
      finish();
    }
    for (auto& q : flight) {
      for (auto& f : q) answers.emplace_back(std::move(f.done), tl::unexpected(std::string("the relay is stopping")));
    }
    finish();
  }
};

Relay::Relay(zmq::context_t& ctx, RelayOptions opts)
    : impl_(std::make_unique<Impl>(ctx, std::move(opts))) {}

Relay::~Relay() { stop(); }

void Relay::start() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (m.running) return;
    m.running = true;
  }
  PublisherOptions p = m.opts.serve;
  p.publish_endpoint = m.opts.publish_endpoint;
  p.control_endpoint = m.opts.control_endpoint;
  p.clock = m.opts.clock;
  // History of the day stays with the daemons; acks take the forward path below.
  if (!p.alerts) p.alerts = std::make_shared<AlertControl>();
  p.forward_ack = [&m](AckRequest r, PublisherOptions::AckDone done) { m.forward_ack(std::move(r), std::move(done)); };
  p.forward_request = [&m](const wire::Message& msg, std::string_view body, PublisherOptions::ReplyDone done) {
    return m.forward_request(msg, body, std::move(done));
  };
  p.live = [&m] { return m.live.load(); };
  p.site_source = [&m] { return m.site(); };
  p.now_source = [&m] { return m.engine_now.load(); };
  p.require_state = true;
  p.broadcasts_from_hub = true;
  m.publisher = std::make_unique<Publisher>(m.ctx, m.hub, std::move(p));
  m.publisher->start();  // binds: a taken port throws before any upstream is contacted

  app::SubscriberOptions so;
  so.curve_client = m.opts.upstream_key;
  so.curve_server_public = m.opts.upstream_server_public;
  for (std::size_t i = 0; i < m.opts.upstreams.size(); ++i) {
    m.subs.push_back(std::make_unique<app::Subscriber>(
        m.ctx, m.store, i, app::SiteEndpoints{m.opts.upstreams[i].publish, m.opts.upstreams[i].control},
        *m.opts.clock, so));
  }
  m.store.set_on_change([&m] {
    {
      std::lock_guard lock(m.mu);
      m.dirty = true;
    }
    m.cv.notify_all();
  });
  m.merger = std::thread([&m] { m.run(); });
  m.fwd_running = true;
  m.forwarder = std::thread([&m] { m.forward_loop(); });
  for (auto& s : m.subs) s->start();
  log()->info("relay of {} upstream(s) serving deltas on {}, snapshots on {}", m.opts.upstreams.size(),
              m.publisher->publish_endpoint(), m.publisher->control_endpoint());
}

void Relay::stop() {
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.mu);
    if (!m.running) return;
    m.running = false;
  }
  m.cv.notify_all();
  // The publisher first: after it stopped nobody forwards, and answers still due are dropped.
  if (m.publisher) m.publisher->stop();
  if (m.merger.joinable()) m.merger.join();
  m.fwd_running = false;
  if (m.forwarder.joinable()) m.forwarder.join();
  for (auto& s : m.subs) s->stop();
  m.store.set_on_change(nullptr);
  std::lock_guard lock(m.mu);
  m.pending.clear();
}

std::string Relay::publish_endpoint() const { return impl_->publisher ? impl_->publisher->publish_endpoint() : ""; }
std::string Relay::control_endpoint() const { return impl_->publisher ? impl_->publisher->control_endpoint() : ""; }

RelayStats Relay::stats() const {
  RelayStats s;
  {
    std::lock_guard lock(impl_->mu);
    s = impl_->counts;
  }
  for (const auto& sub : impl_->subs) {
    const auto st = sub->stats();
    s.upstream_resyncs += st.resyncs;
    s.upstream_reconnects += st.reconnects;
  }
  s.live = impl_->live.load();
  if (impl_->publisher) s.publisher = impl_->publisher->stats();
  return s;
}

}  // namespace callwatch::daemon::relay
