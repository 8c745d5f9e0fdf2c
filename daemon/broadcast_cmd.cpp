// `callwatchd broadcast`: a supervisor's message for every board, from a shell (the desktop board
// sends the same request). A client of the control socket like any wallboard: with --key the
// daemon takes the role from the key (a kiosk key is refused), without CURVE the request says
// "supervisor". Exit 0 done, 1 refused (the daemon's reason is printed), 2 bad usage, 3 no answer.
#include <array>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "callwatch/protocol/keys.hpp"
#include "commands.hpp"

namespace callwatch::daemon {

namespace wire = metrics::wire;

namespace {

std::string local_time(double t) {
  const auto secs = static_cast<std::time_t>(t);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace

// "90", "90s", "30m", "2h" -> seconds; nullopt when it is not one of these.
std::optional<double> parse_duration_seconds(const std::string& s) {
  if (s.empty()) return std::nullopt;
  std::size_t pos = 0;
  double v = 0;
  try {
    v = std::stod(s, &pos);
  } catch (...) {
    return std::nullopt;
  }
  const std::string unit = s.substr(pos);
  if (unit.empty() || unit == "s") return v;
  if (unit == "m" || unit == "min") return v * 60;
  if (unit == "h") return v * 3600;
  return std::nullopt;
}

int run_broadcast(const BroadcastOptions& opts) {
  const int modes =
      (!opts.text.empty() ? 1 : 0) + (!opts.withdraw.empty() ? 1 : 0) + (opts.list ? 1 : 0);
  if (modes != 1) {
    std::fprintf(
        stderr,
        "callwatchd broadcast: give one of --text TEXT (with --for), --withdraw ID, --list\n");
    return 2;
  }
  std::string body;
  if (!opts.text.empty()) {
    const auto ttl = parse_duration_seconds(opts.for_duration);
    if (!ttl || *ttl < wire::kMinBroadcastSeconds || *ttl > wire::kMaxBroadcastSeconds) {
      std::fprintf(
          stderr, "callwatchd broadcast: --for %s: expected %g s to %g h, e.g. 90s, 30m, 2h\n",
          opts.for_duration.c_str(), wire::kMinBroadcastSeconds, wire::kMaxBroadcastSeconds / 3600);
      return 2;
    }
    if (opts.text.size() > wire::kMaxBroadcastBytes) {
      std::fprintf(stderr, "callwatchd broadcast: the message is %zu bytes; at most %zu\n",
                   opts.text.size(), wire::kMaxBroadcastBytes);
      return 2;
    }
    body = wire::encode_broadcast_request(opts.text, *ttl, opts.user, "supervisor");
  } else if (!opts.withdraw.empty()) {
    body = wire::encode_withdraw_request(opts.withdraw, opts.user, "supervisor");
  } else {
    body = wire::encode_request("snapshot");
  }

  zmq::context_t ctx(1);
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  dealer.set(zmq::sockopt::linger, 0);
  if (!opts.key_file.empty()) {
    auto pair = protocol::load_curve_secret(opts.key_file);
    if (!pair) {
      std::fprintf(stderr, "callwatchd broadcast: --key: %s\n", pair.error().c_str());
      return 2;
    }
    auto server = protocol::load_curve_public(opts.server_key);
    if (!server) {
      std::fprintf(stderr, "callwatchd broadcast: --server-key: %s\n", server.error().c_str());
      return 2;
    }
    protocol::apply_curve_client(dealer, *pair, *server);
  }
  try {
    dealer.connect(opts.control);
  } catch (const zmq::error_t& e) {
    std::fprintf(stderr, "callwatchd broadcast: --control %s: %s\n", opts.control.c_str(),
                 e.what());
    return 2;
  }
  std::array<zmq::const_buffer, 2> frames{zmq::str_buffer(""), zmq::buffer(body)};
  (void)zmq::send_multipart(dealer, frames, zmq::send_flags::dontwait);
  std::array<zmq::pollitem_t, 1> items{{{dealer.handle(), 0, ZMQ_POLLIN, 0}}};
  zmq::poll(items.data(), items.size(),
            std::chrono::milliseconds(static_cast<long>(opts.timeout_seconds * 1000)));
  std::vector<zmq::message_t> reply;
  if ((items[0].revents & ZMQ_POLLIN) == 0 ||
      !zmq::recv_multipart(dealer, std::back_inserter(reply), zmq::recv_flags::dontwait) ||
      reply.empty()) {
    std::fprintf(stderr,
                 "callwatchd broadcast: no answer from %s within %g s (a key the daemon does not "
                 "know gets none)\n",
                 opts.control.c_str(), opts.timeout_seconds);
    return 3;
  }
  auto m = wire::decode(reply.back().to_string_view());
  if (!m) {
    std::fprintf(stderr, "callwatchd broadcast: unreadable answer: %s\n", m.error().c_str());
    return 3;
  }
  if (m->type == wire::MessageType::error) {
    std::fprintf(stderr, "callwatchd broadcast: refused: %s\n", m->error.c_str());
    return 1;
  }
  if (opts.list) {
    if (m->snapshot.broadcasts.empty()) std::printf("no broadcasts live\n");
    for (const auto& b : m->snapshot.broadcasts) {
      std::printf("%s  from %s  until %s  %s\n", b.id.c_str(), b.from.c_str(),
                  local_time(b.expires_at).c_str(), b.text.c_str());
    }
    return 0;
  }
  std::printf("%s %s\n", opts.withdraw.empty() ? "broadcast" : "withdrawn",
              m->broadcast_id.c_str());
  return 0;
}

}  // namespace callwatch::daemon
