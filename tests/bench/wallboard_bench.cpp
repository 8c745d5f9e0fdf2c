// event_to_wallboard_p50/_p99: one event PUSHed over tcp loopback into the daemon's real engine
// loop, published by the real Publisher, until its delta is decoded at a SUB socket; against the
// same bytes on the same transport (PUSH -> forwarder -> XPUB -> SUB) with nothing in between.
// wallboard_frame_build: one ImGui frame (NewFrame..Render, no GPU) of the desktop screen at the
// large size, against an empty frame (built only when the bench links the wallboard UI, i.e.
// CALLWATCH_BENCH_WALLBOARD is defined).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "bench.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"
#include "runtime/engine_loop.hpp"
#include "serve/publisher.hpp"

#ifdef CALLWATCH_BENCH_WALLBOARD
#include <imgui.h>

#include "ui/ui.hpp"
#include "vm/board.hpp"
#endif

namespace callwatch::bench {

namespace {

namespace wire = metrics::wire;
using Steady = std::chrono::steady_clock;

// The engine lives at the corpus's time: wall-clock time shifted to where the corpus ends, so
// warm-up events are "now" and not eleven months late.
class ShiftedClock final : public metrics::Clock {
 public:
  explicit ShiftedClock(double shift) : shift_(shift) {}
  double now() const override { return wall() + shift_; }
  static double wall() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

 private:
  double shift_;
};

std::string agent_event(double ts, bool paused) {
  return fmt::format(
      R"({{"type":"agent_state","ts":{:.3f},"agent":"bench-probe","state":"{}","reason":"{}","queues":["bench-probe-queue"]}})",
      ts, paused ? "paused" : "available", paused ? "bench" : "");
}

// Seconds from each PUSH to the delta that shows it, for `n` isolated events (spaced past the
// publisher's 100 ms batch and the engine's 50 ms publish gap, so no batching wait is in it).
std::vector<double> event_latencies(const Corpus& corpus, int n, std::size_t warm) {
  zmq::context_t ctx(1);
  const double corpus_end = 1767600000.0 + 3600;  // bench_data's fixed day, an hour in
  ShiftedClock clock(corpus_end - ShiftedClock::wall());
  daemon::SnapshotHub hub;
  // Named, not temporaries: GCC 12 at -O3 warns (falsely) about the temporaries' strings.
  metrics::EngineSettings settings = daemon::live_engine_settings({});  // as callwatchd runs
  daemon::EngineLoopOptions loop_options;
  daemon::EngineLoop loop(std::move(settings), loop_options, hub, clock);
  zmq::socket_t pull(ctx, zmq::socket_type::pull);
  pull.set(zmq::sockopt::rcvhwm, 100000);
  pull.bind("tcp://127.0.0.1:*");
  const std::string feed_ep = pull.get(zmq::sockopt::last_endpoint);
  loop.add_native_feed("bench", std::move(pull));
  std::atomic<bool> stop{false};
  std::thread engine([&] { loop.run(stop); });

  daemon::PublisherOptions po;
  po.publish_endpoint = "tcp://127.0.0.1:*";
  po.control_endpoint = "tcp://127.0.0.1:*";
  po.send_high_water_mark = 100000;
  daemon::Publisher pub(ctx, hub, po);
  pub.start();

  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "delta");
  sub.set(zmq::sockopt::rcvhwm, 100000);
  sub.connect(pub.publish_endpoint());
  zmq::socket_t push(ctx, zmq::socket_type::push);
  push.set(zmq::sockopt::sndhwm, 100000);
  push.connect(feed_ep);

  // Warm-up: the corpus's first messages make a center of its size (queues, agents, calls).
  for (std::size_t i = 0; i < std::min(warm, corpus.messages.size()); ++i) {
    push.send(zmq::buffer(corpus.messages[i]), zmq::send_flags::none);
  }
  // Let the warm-up go through: read deltas until 300 ms pass without one, or 5 s in all (time
  // alone makes deltas every second while calls wait, so "quiet" may never come).
  {
    sub.set(zmq::sockopt::rcvtimeo, 300);
    const auto until = Steady::now() + std::chrono::seconds(5);
    std::vector<zmq::message_t> frames;
    while (Steady::now() < until && zmq::recv_multipart(sub, std::back_inserter(frames))) {
      frames.clear();
    }
  }

  std::vector<double> out;
  sub.set(zmq::sockopt::rcvtimeo, 5000);
  for (int i = 0; i < n; ++i) {
    const bool paused = i % 2 == 0;
    const std::string ev = agent_event(clock.now(), paused);
    const auto t0 = Steady::now();
    push.send(zmq::buffer(ev), zmq::send_flags::none);
    bool seen = false;
    while (!seen) {
      std::vector<zmq::message_t> frames;
      if (!zmq::recv_multipart(sub, std::back_inserter(frames))) break;  // timed out
      auto m = wire::decode(frames.back().to_string_view());
      if (!m) continue;
      for (const auto& a : m->delta.agents) {
        if (a.name == "bench-probe" &&
            (a.state == metrics::AgentState::paused) == paused) {
          seen = true;
        }
      }
    }
    if (seen) out.push_back(seconds_since(t0));
    std::this_thread::sleep_for(std::chrono::milliseconds(120));
  }
  pub.stop();
  stop = true;
  engine.join();
  return out;
}

}  // namespace

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::min<double>(
      static_cast<double>(v.size() - 1), std::ceil(p * static_cast<double>(v.size())) - 1));
  return v[i];
}

// The same path with nothing on it: PUSH -> PULL, forwarded as is -> XPUB -> SUB.
std::vector<double> raw_zmq_latencies(int n, std::size_t bytes) {
  zmq::context_t ctx(1);
  zmq::socket_t pull(ctx, zmq::socket_type::pull);
  pull.bind("tcp://127.0.0.1:*");
  zmq::socket_t xpub(ctx, zmq::socket_type::xpub);
  xpub.bind("tcp://127.0.0.1:*");
  const std::string in_ep = pull.get(zmq::sockopt::last_endpoint);
  const std::string out_ep = xpub.get(zmq::sockopt::last_endpoint);
  std::atomic<bool> stop{false};
  std::thread fwd([&] {
    std::array<zmq::pollitem_t, 2> items{{{pull.handle(), 0, ZMQ_POLLIN, 0},
                                          {xpub.handle(), 0, ZMQ_POLLIN, 0}}};
    while (!stop.load()) {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(50));
      zmq::message_t m;
      while (xpub.recv(m, zmq::recv_flags::dontwait)) {
      }
      while (pull.recv(m, zmq::recv_flags::dontwait)) {
        (void)xpub.send(zmq::str_buffer("delta"), zmq::send_flags::sndmore);
        (void)xpub.send(m, zmq::send_flags::none);
      }
    }
  });
  zmq::socket_t sub(ctx, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "");
  sub.set(zmq::sockopt::rcvtimeo, 5000);
  sub.connect(out_ep);
  zmq::socket_t push(ctx, zmq::socket_type::push);
  push.connect(in_ep);
  const std::string payload(bytes, 'x');
  // Until the subscription is through, messages are dropped: send probes until one arrives.
  sub.set(zmq::sockopt::rcvtimeo, 50);
  for (int i = 0; i < 100; ++i) {
    push.send(zmq::buffer(payload), zmq::send_flags::none);
    std::vector<zmq::message_t> frames;
    if (zmq::recv_multipart(sub, std::back_inserter(frames))) break;
  }
  sub.set(zmq::sockopt::rcvtimeo, 300);
  for (std::vector<zmq::message_t> f; zmq::recv_multipart(sub, std::back_inserter(f)); f.clear()) {
  }
  sub.set(zmq::sockopt::rcvtimeo, 5000);
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    const auto t0 = Steady::now();
    push.send(zmq::buffer(payload), zmq::send_flags::none);
    std::vector<zmq::message_t> frames;
    if (zmq::recv_multipart(sub, std::back_inserter(frames))) out.push_back(seconds_since(t0));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // same idle gaps, no queueing
  }
  stop = true;
  fwd.join();
  return out;
}

namespace {

#ifdef CALLWATCH_BENCH_WALLBOARD
metrics::Snapshot large_snapshot(int queues, int agents) {
  metrics::Snapshot s;
  s.now = 1767603600;
  s.interval_start = 1767603300;
  for (int q = 0; q < queues; ++q) {
    metrics::QueueView v;
    v.name = fmt::format("queue-{:04d}", q);
    v.calls_waiting = q % 7;
    v.longest_wait = q % 7 ? 3.0 * q : metrics::kNoValue;
    auto& c = v.windows[static_cast<int>(metrics::WindowKind::today)].counters;
    c.answered = 100 + q;
    c.answered_within_sl = 80 + q % 20;
    c.abandoned = q % 9;
    c.answer_wait_sum = 900.0 + q;
    c.answered_with_wait = c.answered;
    v.agents[static_cast<int>(metrics::AgentState::available)] = q % 5;
    v.agents_required = 10 + q % 4;
    s.queues.push_back(std::move(v));
  }
  for (int a = 0; a < agents; ++a) {
    metrics::AgentView v;
    v.name = fmt::format("agent-{:05d}", a);
    v.state = static_cast<metrics::AgentState>(a % metrics::kAgentStateCount);
    v.state_since = s.now - a % 600;
    v.today.answered = a % 40;
    v.today.talk_seconds = 150.0 * (a % 40);
    s.agents.push_back(std::move(v));
  }
  return s;
}

// Median seconds of one frame built by `draw` between NewFrame and Render.
template <typename Draw>
double frame_seconds(int frames, Draw&& draw) {
  std::vector<double> t;
  for (int i = 0; i < frames; ++i) {
    const auto t0 = Steady::now();
    ImGui::GetIO().DeltaTime = 1.0f / 60.0f;
    ImGui::NewFrame();
    draw();
    ImGui::Render();
    t.push_back(seconds_since(t0));
  }
  return median(t);
}

std::vector<Figure> frame_build(const BenchConfig& cfg) {
  const int nq = cfg.tiny ? 100 : 500, na = cfg.tiny ? 2000 : 10000;
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;
  io.DisplaySize = ImVec2(1920, 1080);
  wallboard::ui::Fonts fonts;
  auto font = [&](float px) {
    ImFontConfig c;
    c.SizePixels = px;
    return io.Fonts->AddFontDefault(&c);
  };
  fonts.body = font(17);
  fonts.small = font(14);
  fonts.medium = font(21);
  fonts.large = font(26);
  fonts.huge = font(30);
  fonts.tile_small = fonts.small;  // the kiosk tiles' fonts (built at the layout's scale by the app)
  fonts.tile_medium = fonts.medium;
  fonts.tile_large = fonts.large;
  unsigned char* px = nullptr;
  int w = 0, h = 0;
  io.Fonts->GetTexDataAsRGBA32(&px, &w, &h);

  wallboard::vm::SiteFeed site;
  site.endpoint = "tcp://127.0.0.1:7702";
  site.state = std::make_shared<const metrics::Snapshot>(large_snapshot(nq, na));
  site.connected = true;
  site.last_message_at = site.engine_now = site.state->now;
  const std::vector<wallboard::vm::SiteFeed> sites{site};
  wallboard::vm::History history;
  wallboard::vm::BoardOptions opts;
  const double now = site.state->now;

  const auto v0 = Steady::now();
  const int vm_reps = cfg.tiny ? 3 : 10;
  wallboard::vm::DesktopVM d;
  for (int i = 0; i < vm_reps; ++i) {
    d = wallboard::vm::build_desktop(sites, now, opts, history, wallboard::vm::DesktopQuery{});
  }
  const double vm_s = seconds_since(v0) / vm_reps;
  wallboard::ui::DesktopState st;
  const int frames = cfg.tiny ? 20 : 200;
  // A few frames first: ImGui sizes tables and windows over the first ones.
  frame_seconds(5, [&] { wallboard::ui::draw_desktop(d, fonts, opts.lang, st); });
  double subject = 0, baseline = 0;
  for (int r = 0; r < cfg.reps; ++r) {
    subject += frame_seconds(frames, [&] { wallboard::ui::draw_desktop(d, fonts, opts.lang, st); });
    baseline += frame_seconds(frames, [] {});
  }
  subject /= cfg.reps;
  baseline /= cfg.reps;
  const auto grid = wallboard::vm::kiosk_grid(1920, 1080, 1.0f, true);
  const auto k = wallboard::vm::build_kiosk(sites, now, opts, grid.per_page());
  const auto area = wallboard::ui::kiosk_area(k, fonts, ImVec2(1920, 1080));
  const auto layout = wallboard::vm::kiosk_layout(1920, area.top, area.bottom, 1.0f,
                                                  static_cast<int>(k.tiles.size()), true);
  const double kiosk = frame_seconds(frames, [&] { wallboard::ui::draw_kiosk(k, layout, fonts, opts.lang); });
  ImGui::DestroyContext();

  std::vector<Figure> figs;
  Figure f;
  f.name = "wallboard_frame_build";
  f.value = subject * 1e3;
  f.unit = "ms per frame (lower is better)";
  f.baseline = baseline * 1e3;
  f.higher_is_better = false;
  f.goal = 10;
  f.note = fmt::format(
      "desktop screen, {} queues, {} agents, 1920x1080, NewFrame..Render without GPU (absolute "
      "goal < 1 ms); baseline an empty frame; kiosk page {:.3f} ms; view model rebuild (on data "
      "change, not per frame) {:.2f} ms",
      nq, na, kiosk * 1e3, vm_s * 1e3);
  figs.push_back(f);
  return figs;
}
#endif

}  // namespace

std::vector<Figure> bench_wallboard(const BenchConfig& cfg, const Corpus& corpus) {
  const int n = cfg.tiny ? 20 : 200;
  const std::size_t warm = cfg.tiny ? 5000 : 100000;
  const auto ev = event_latencies(corpus, n, warm);
  const auto raw = raw_zmq_latencies(n, agent_event(0, true).size());
  std::vector<Figure> figs;
  for (const auto& [suffix, p, goal] : {std::tuple{"p50", 0.50, 2.0}, std::tuple{"p99", 0.99, 3.0}}) {
    Figure f;
    f.name = std::string("event_to_wallboard_") + suffix;
    f.value = percentile(ev, p) * 1e6;
    f.unit = "us from PUSH to decoded delta (lower is better)";
    f.baseline = percentile(raw, p) * 1e6;
    f.higher_is_better = false;
    f.goal = goal;
    f.note = fmt::format(
        "{} isolated agent_state events through EngineLoop (engine warmed with {} corpus messages: "
        "{} queues, {} agents) + SnapshotHub + Publisher over tcp; baseline PUSH -> forwarder -> "
        "XPUB -> SUB of the same bytes",
        ev.size(), warm, corpus.queues, corpus.agents);
    figs.push_back(f);
  }
#ifdef CALLWATCH_BENCH_WALLBOARD
  for (auto& f : frame_build(cfg)) figs.push_back(std::move(f));
#endif
  return figs;
}

}  // namespace callwatch::bench
