// ingest_zmq_e2e: the same messages PUSHed over tcp loopback into a PULL socket whose reader
// parses and applies each one, against the same PUSH/PULL carrying the same bytes, unread.
#include <thread>

#include <fmt/format.h>
#include <zmq.hpp>

#include "bench.hpp"
#include "callwatch/metrics/engine.hpp"
#include "feeds/native/native_parser.hpp"

namespace callwatch::bench {

namespace m = callwatch::metrics;

namespace {

// One transfer of every message; `consume` sees each received message. Timed from the first
// message received to the last, so connection set-up is not in the figure.
template <typename Consume>
double transfer(const std::vector<std::string_view>& msgs, Consume&& consume) {
  zmq::context_t ctx(1);
  zmq::socket_t pull(ctx, zmq::socket_type::pull);
  pull.set(zmq::sockopt::rcvhwm, 10000);
  pull.bind("tcp://127.0.0.1:*");  // an ephemeral port
  const std::string endpoint = pull.get(zmq::sockopt::last_endpoint);

  std::thread sender([&msgs, &ctx, endpoint]() {
    zmq::socket_t push(ctx, zmq::socket_type::push);
    push.set(zmq::sockopt::sndhwm, 10000);
    push.set(zmq::sockopt::linger, -1);
    push.connect(endpoint);
    for (const auto msg : msgs) push.send(zmq::buffer(msg.data(), msg.size()), zmq::send_flags::none);
  });
  zmq::message_t in;
  (void)pull.recv(in, zmq::recv_flags::none);
  consume(in);
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 1; i < msgs.size(); ++i) {
    (void)pull.recv(in, zmq::recv_flags::none);
    consume(in);
  }
  const double s = seconds_since(t0);
  sender.join();
  return s;
}

}  // namespace

std::vector<Figure> bench_zmq(const BenchConfig& cfg, const Corpus& corpus) {
  const auto& msgs = corpus.messages;
  volatile std::size_t sink = 0;
  std::size_t rejected = 0;
  const auto subject = [&]() {
    daemon::NativeParser parser;
    const m::EngineSettings settings;
    m::Engine engine(settings);
    std::size_t bad = 0;
    const double s = transfer(msgs, [&](const zmq::message_t& in) {
      auto r = parser.parse(std::string_view(static_cast<const char*>(in.data()), in.size()));
      if (r) {
        engine.apply(**r);
      } else {
        ++bad;
      }
    });
    rejected = bad;
    return s;
  };
  const auto baseline = [&]() {
    std::size_t bytes = 0;
    const double s = transfer(msgs, [&](const zmq::message_t& in) { bytes += in.size(); });
    sink = sink + bytes;
    return s;
  };
  const Timing t = measure(cfg.reps, subject, baseline);
  if (rejected > 0) fmt::print(stderr, "ingest_zmq_e2e: {} of {} messages rejected\n", rejected, msgs.size());
  // The first message is outside the timed span.
  const double n = static_cast<double>(msgs.size() - 1);
  Figure f;
  f.name = "ingest_zmq_e2e";
  f.unit = "events/s (higher is better)";
  f.value = n / t.subject;
  f.baseline = n / t.baseline;
  f.higher_is_better = true;
  f.goal = 0.7;
  f.note = fmt::format("{} messages over tcp://127.0.0.1, HWM 10000, reader parses + applies", msgs.size());
  return {f};
}

}  // namespace callwatch::bench
