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

// One transfer of every message; `consume` receives each message from the PULL socket. Timed from
// the first message received to the last, so connection set-up is not in the figure.
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
  consume(pull);
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t i = 1; i < msgs.size(); ++i) consume(pull);
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
    // As the daemon's engine loop does: each message received into one reused buffer with the
    // parser's padding after it, and parsed there.
    std::vector<char> rx(64 * 1024 + 1 + daemon::NativeParser::kPadding, 0);
    const std::size_t cap = rx.size() - daemon::NativeParser::kPadding;
    const double s = transfer(msgs, [&](zmq::socket_t& pull) {
      const auto got = pull.recv(zmq::mutable_buffer(rx.data(), cap), zmq::recv_flags::none);
      if (!got || got->truncated()) {
        ++bad;
        return;
      }
      auto r = parser.parse_in_place(std::string_view(rx.data(), got->size), rx.size());
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
    zmq::message_t in;
    const double s = transfer(msgs, [&](zmq::socket_t& pull) {
      (void)pull.recv(in, zmq::recv_flags::none);
      bytes += in.size();
    });
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
  f.goal = 0.8;  // PERF.md
  f.note = fmt::format("{} messages over tcp://127.0.0.1, HWM 10000, reader receives into a padded buffer, "
                       "parses in place + applies", msgs.size());
  return {f};
}

}  // namespace callwatch::bench
