#include "feeds/esl/esl_feed.hpp"

#include <fmt/format.h>

#include <vector>

#include "feeds/esl/esl_framer.hpp"
#include "feeds/esl/esl_translator.hpp"
#include "runtime/logging.hpp"

namespace callwatch::daemon {

using namespace feed_thread;

void run_esl(FeedContext fc) {
  auto log = component_logger("feed." + fc.cfg.name);
  Output out(*fc.ctx, fc.opts.endpoint, fc.cfg.name, log);
  EslTranslatorOptions to;
  to.queues = fc.cfg.queues;
  to.max_name_bytes = fc.opts.max_name_bytes;
  to.duplicates = fc.opts.duplicates;
  to.times = fc.opts.times;
  EslTranslator tr(to, out.sink());
  EslFramer framer;
  auto backoff = fc.opts.backoff_min;
  std::vector<char> buf(64 * 1024);
  while (!*fc.stop) {
    Tcp tcp;
    if (!connect_or_back_off(tcp, fc, backoff, *log)) continue;
    framer.reset();
    bool failed = false, closed = false;
    // Snapshot commands first, the event subscription last (its reply ends the snapshot).
    std::vector<std::string> pending = {"api callcenter_config queue list"};
    bool authed = false;
    auto next = [&] {
      if (pending.empty()) return;
      const std::string cmd = pending.front() + "\n\n";
      pending.erase(pending.begin());
      if (!tcp.send_all(cmd)) failed = true;
    };
    auto on_msg = [&](const EslMessage& msg) {
      const double now = fc.opts.clock->now();
      const auto ct = msg.content_type();
      tr.on_message(msg, now);
      if (iequals(ct, "auth/request")) {
        if (!tcp.send_all("auth " + fc.cred.secret + "\n\n")) failed = true;  // never logged
      } else if (iequals(ct, "command/reply") && !authed) {
        if (msg.get("Reply-Text").rfind("+OK", 0) == 0) {
          authed = true;
          fc.up->store(true);
          backoff = fc.opts.backoff_min;
          log->info("connected to {}", fc.cfg.address);
          next();
        } else {
          log->error("ESL auth to {} refused: {}", fc.cfg.address, msg.get("Reply-Text"));
          failed = true;
        }
      } else if (iequals(ct, "api/response") || iequals(ct, "command/reply")) {
        EslTable t;
        if (parse_esl_table(msg.body, t) && t.column("name") == 0 && t.column("strategy") >= 0) {
          for (std::size_t r = 0; r < t.rows.size(); ++r) {
            const auto q = t.cell(r, "name");
            if (!q.empty() && q.find_first_of("\r\n") == std::string_view::npos) {
              pending.push_back("api callcenter_config queue list members " + std::string(q));
            }
          }
          pending.push_back("api callcenter_config tier list");
          pending.push_back("api callcenter_config agent list");
          pending.push_back("event plain CHANNEL_HANGUP CUSTOM callcenter::info");
        }
        next();
      } else if (iequals(ct, "text/disconnect-notice") || iequals(ct, "text/rude-rejection")) {
        closed = true;
      }
    };
    while (!*fc.stop && !failed && !closed) {
      const long n = tcp.recv(buf.data(), buf.size(), 200);
      if (n < 0) break;
      if (n > 0) framer.feed(std::string_view(buf.data(), static_cast<std::size_t>(n)), on_msg);
      out.flush();  // what this read brought goes now, in batches of what was ready
    }
    tr.on_disconnect(fc.opts.clock->now());  // the first sign of a restart: a feed_restart
    fc.up->store(false);
    tcp.close();
    if (*fc.stop) break;
    log->warn("disconnected from {}; reconnecting in {} ms", fc.cfg.address, backoff.count());
    back_off(fc, backoff);
  }
  tr.finish();
  out.flush();
}

}  // namespace callwatch::daemon
