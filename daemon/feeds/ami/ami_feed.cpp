#include "feeds/ami/ami_feed.hpp"

#include <fmt/format.h>

#include "feeds/ami/ami_framer.hpp"
#include "feeds/ami/ami_translator.hpp"
#include "runtime/logging.hpp"

namespace callwatch::daemon {

using namespace feed_thread;

void run_ami(FeedContext fc) {
  auto log = component_logger("feed." + fc.cfg.name);
  Output out(*fc.ctx, fc.opts.endpoint, fc.cfg.name, log);
  AmiTranslatorOptions to;
  to.queues = fc.cfg.queues;
  to.max_name_bytes = fc.opts.max_name_bytes;
  to.duplicates = fc.opts.duplicates;
  to.times = fc.opts.times;
  AmiTranslator tr(to, out.sink());
  AmiFramer framer;
  auto backoff = fc.opts.backoff_min;
  std::uint64_t conn = 0;
  std::vector<char> buf(64 * 1024);
  while (!*fc.stop) {
    Tcp tcp;
    if (!connect_or_back_off(tcp, fc, backoff, *log)) continue;
    ++conn;
    framer.reset();
    const std::string login_id = fmt::format("cw-login-{}", conn);
    const std::string qs_id = fmt::format("cw-qs-{}", conn);
    bool logged_in = false, failed = false;
    auto last_ping = Clock::now();
    auto last_answer = Clock::now();
    std::uint64_t pings = 0;
    auto on_msg = [&](const AmiMessage& msg) {
      const double now = fc.opts.clock->now();
      last_answer = Clock::now();
      if (msg.kind == AmiKind::banner) {
        tr.on_message(msg, now);
        // Never log this block: it holds the secret.
        const std::string login = fmt::format(
            "Action: Login\r\nActionID: {}\r\nUsername: {}\r\nSecret: {}\r\nEvents: {}\r\n\r\n",
            login_id, fc.cred.username, fc.cred.secret, fc.cred.events);
        if (!tcp.send_all(login)) failed = true;
        return;
      }
      if (msg.kind == AmiKind::response && msg.get("ActionID") == login_id) {
        if (iequals(msg.get("Response"), "Success")) {
          logged_in = true;
          fc.up->store(true);
          backoff = fc.opts.backoff_min;
          log->info("connected to {} (Asterisk Call Manager/{})", fc.cfg.address, tr.ami_version());
          tr.expect_queue_status(qs_id);
          if (!tcp.send_all(fmt::format("Action: QueueStatus\r\nActionID: {}\r\n\r\n", qs_id)))
            failed = true;
        } else {
          log->error("AMI login to {} as {} refused: {}", fc.cfg.address, fc.cred.username,
                     msg.get("Message"));
          failed = true;
        }
        return;
      }
      tr.on_message(msg, now);
    };
    while (!*fc.stop && !failed) {
      const long n = tcp.recv(buf.data(), buf.size(), 200);
      if (n < 0) break;
      if (n > 0) framer.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)), on_msg);
      tr.tick(fc.opts.clock->now());
      out.flush();  // what this read brought goes now, in batches of what was ready
      if (logged_in && Clock::now() - last_ping >= fc.opts.ping_interval) {
        last_ping = Clock::now();
        if (!tcp.send_all(fmt::format("Action: Ping\r\nActionID: cw-ping-{}\r\n\r\n", ++pings)))
          break;
      }
      if (Clock::now() - last_answer > 2 * fc.opts.ping_interval + fc.opts.connect_timeout) {
        log->warn(
            "no data from {} for {} s: reconnecting", fc.cfg.address,
            std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - last_answer).count());
        break;
      }
    }
    framer.reset();  // a block cut by the disconnect is dropped
    tr.on_disconnect(fc.opts.clock->now());
    out.flush();
    fc.up->store(false);
    tcp.close();
    if (*fc.stop) break;
    log->warn(
        "disconnected from {}; reconnecting in {} ms (events in between are lost; state "
        "is rebuilt from QueueStatus)",
        fc.cfg.address, backoff.count());
    back_off(fc, backoff);
  }
  tr.finish();
  out.flush();
}

}  // namespace callwatch::daemon
