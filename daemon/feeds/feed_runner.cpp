#include "feeds/feed_runner.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <thread>

#include "feeds/ami/ami_framer.hpp"
#include "feeds/ami/ami_translator.hpp"
#include "feeds/esl/esl_framer.hpp"
#include "feeds/esl/esl_translator.hpp"
#include "feeds/feed_common.hpp"
#include "feeds/native/native_parser.hpp"
#include "feeds/queue_log/queue_log_parser.hpp"
#include "feeds/queue_log/queue_log_tail.hpp"
#include "runtime/logging.hpp"

namespace callwatch::daemon {

namespace m = callwatch::metrics;
using Clock = std::chrono::steady_clock;

// ---- credentials ----------------------------------------------------------------------------

tl::expected<Credentials, std::string> load_credentials(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return tl::unexpected(fmt::format("credentials file {}: {}", path, std::strerror(errno)));
  }
  if (st.st_mode & S_IROTH) {
    return tl::unexpected(fmt::format(
        "credentials file {} is readable by every user (mode {:o}): refused; chmod o-r it", path,
        st.st_mode & 07777));
  }
  std::ifstream in(path);
  if (!in) return tl::unexpected(fmt::format("credentials file {}: cannot open", path));
  Credentials c;
  std::string line;
  std::vector<std::string> bare;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string_view l = trim(line);
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (l.empty() || l[0] == '#') continue;
    auto sep = l.find('=');
    const auto colon = l.find(':');
    if (sep == std::string_view::npos || (colon != std::string_view::npos && colon < sep))
      sep = colon;
    if (sep == std::string_view::npos) {
      bare.emplace_back(l);
      continue;
    }
    const std::string_view key = trim(l.substr(0, sep));
    const std::string_view value = trim(l.substr(sep + 1));
    if (iequals(key, "username") || iequals(key, "user"))
      c.username = std::string(value);
    else if (iequals(key, "secret") || iequals(key, "password"))
      c.secret = std::string(value);
    else if (iequals(key, "events"))
      c.events = std::string(value);
    else
      return tl::unexpected(fmt::format("credentials file {}:{}: unknown key '{}'", path, n, key));
  }
  if (c.secret.empty() && bare.size() == 1) c.secret = bare[0];
  if (c.secret.empty()) {
    return tl::unexpected(fmt::format("credentials file {}: no secret/password in it", path));
  }
  return c;
}

namespace {

double wall_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Sleeps up to `d`, waking early when `stop` is set.
void nap(std::chrono::milliseconds d, const std::atomic<bool>& stop) {
  const auto until = Clock::now() + d;
  while (!stop && Clock::now() < until) {
    std::this_thread::sleep_for(
        std::min<Clock::duration>(std::chrono::milliseconds(20), until - Clock::now()));
  }
}

// "host:port" or "[v6]:port".
bool split_address(const std::string& addr, std::string& host, std::string& port) {
  if (!addr.empty() && addr[0] == '[') {
    const auto close = addr.find(']');
    if (close == std::string::npos || close + 1 >= addr.size() || addr[close + 1] != ':')
      return false;
    host = addr.substr(1, close - 1);
    port = addr.substr(close + 2);
  } else {
    const auto colon = addr.rfind(':');
    if (colon == std::string::npos) return false;
    host = addr.substr(0, colon);
    port = addr.substr(colon + 1);
  }
  return !host.empty() && !port.empty();
}

class Tcp {
 public:
  ~Tcp() { close(); }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool open() const { return fd_ >= 0; }

  std::string connect(const std::string& address, std::chrono::milliseconds timeout) {
    close();
    std::string host, port;
    if (!split_address(address, host, port)) return "bad address " + address;
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    if (int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res); rc != 0) {
      return fmt::format("cannot resolve {}: {}", host, gai_strerror(rc));
    }
    std::string err = "no address";
    for (addrinfo* ai = res; ai; ai = ai->ai_next) {
      const int fd =
          ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
      if (fd < 0) continue;
      int rc = ::connect(fd, ai->ai_addr, ai->ai_addrlen);
      if (rc != 0 && errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
        int so = 0;
        socklen_t len = sizeof so;
        if (rc == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len) == 0 && so == 0) {
          rc = 0;
        } else {
          err = rc == 0 ? "connect timed out" : std::strerror(so ? so : errno);
          rc = -1;
        }
      } else if (rc != 0) {
        err = std::strerror(errno);
      }
      if (rc == 0) {
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        fd_ = fd;
        ::freeaddrinfo(res);
        return {};
      }
      ::close(fd);
    }
    ::freeaddrinfo(res);
    return err;
  }

  bool send_all(std::string_view s) {
    while (!s.empty()) {
      const ssize_t n = ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
          pollfd p{fd_, POLLOUT, 0};
          if (::poll(&p, 1, 5000) <= 0) return false;
          continue;
        }
        return false;
      }
      s.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  // >0 bytes read, 0 timeout, -1 closed or error.
  long recv(char* buf, std::size_t cap, int timeout_ms) {
    pollfd p{fd_, POLLIN, 0};
    const int rc = ::poll(&p, 1, timeout_ms);
    if (rc == 0) return 0;
    if (rc < 0) return errno == EINTR ? 0 : -1;
    const ssize_t n = ::recv(fd_, buf, cap, 0);
    if (n > 0) return n;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    return -1;
  }

 private:
  int fd_ = -1;
};

// Hands events to the engine thread: [feed name][native JSON] on the internal PUSH socket.
class Output {
 public:
  Output(zmq::context_t& ctx, const std::string& endpoint, std::string name,
         std::shared_ptr<spdlog::logger> log)
      : sock_(ctx, zmq::socket_type::push), name_(std::move(name)), log_(std::move(log)) {
    sock_.set(zmq::sockopt::linger, 200);
    sock_.set(zmq::sockopt::sndtimeo, 1000);  // never hang a shutdown on a stopped engine
    sock_.connect(endpoint);
  }
  FeedSink sink() {
    FeedSink s;
    s.event = [this](const m::Event& e) { send(e); };
    s.reject = [this](std::string_view reason, const std::string& detail) {
      ++rejected_;
      log_->warn("rejected ({}): {}", reason, detail);
    };
    s.warning = [this](std::string_view kind, const std::string& msg) {
      log_->info("{}: {}", kind, msg);
    };
    return s;
  }
  void send(const m::Event& e, std::string_view position = {}) {
    json_.clear();
    append_native_json(e, json_);
    try {
      const bool third = !position.empty();
      if (!sock_.send(zmq::buffer(name_), zmq::send_flags::sndmore) ||
          !sock_.send(zmq::buffer(json_),
                      third ? zmq::send_flags::sndmore : zmq::send_flags::none) ||
          (third && !sock_.send(zmq::buffer(position), zmq::send_flags::none))) {
        ++dropped_;
      }
    } catch (const zmq::error_t& err) {
      ++dropped_;
      if (dropped_ == 1) log_->error("cannot hand events to the engine: {}", err.what());
    }
  }
  std::uint64_t rejected() const { return rejected_; }

 private:
  zmq::socket_t sock_;
  std::string name_;
  std::shared_ptr<spdlog::logger> log_;
  std::string json_;
  std::uint64_t rejected_ = 0;
  std::uint64_t dropped_ = 0;
};

struct FeedContext {
  zmq::context_t* ctx = nullptr;
  config::FeedConfig cfg;
  Credentials cred;
  FeedRunOptions opts;
  std::shared_ptr<std::atomic<bool>> up;
  const std::atomic<bool>* stop = nullptr;
};

// ---- AMI ------------------------------------------------------------------------------------

void run_ami(FeedContext fc) {
  auto log = component_logger("feed." + fc.cfg.name);
  Output out(*fc.ctx, fc.opts.endpoint, fc.cfg.name, log);
  AmiTranslatorOptions to;
  to.queues = fc.cfg.queues;
  to.max_name_bytes = fc.opts.max_name_bytes;
  AmiTranslator tr(to, out.sink());
  AmiFramer framer;
  auto backoff = fc.opts.backoff_min;
  std::uint64_t conn = 0;
  std::vector<char> buf(64 * 1024);
  while (!*fc.stop) {
    Tcp tcp;
    if (const std::string err = tcp.connect(fc.cfg.address, fc.opts.connect_timeout);
        !err.empty()) {
      log->warn("cannot connect to {}: {}; retry in {} ms", fc.cfg.address, err, backoff.count());
      nap(backoff, *fc.stop);
      backoff = std::min(backoff * 2, fc.opts.backoff_max);
      continue;
    }
    ++conn;
    framer.reset();
    const std::string login_id = fmt::format("cw-login-{}", conn);
    const std::string qs_id = fmt::format("cw-qs-{}", conn);
    bool logged_in = false, failed = false;
    auto last_ping = Clock::now();
    auto last_answer = Clock::now();
    std::uint64_t pings = 0;
    auto on_msg = [&](const AmiMessage& msg) {
      const double now = wall_now();
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
      tr.tick(wall_now());
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
    tr.on_disconnect(wall_now());
    fc.up->store(false);
    tcp.close();
    if (*fc.stop) break;
    log->warn(
        "disconnected from {}; reconnecting in {} ms (events in between are lost; state "
        "is rebuilt from QueueStatus)",
        fc.cfg.address, backoff.count());
    nap(backoff, *fc.stop);
    backoff = std::min(backoff * 2, fc.opts.backoff_max);
  }
  tr.finish();
}

// ---- ESL ------------------------------------------------------------------------------------

void run_esl(FeedContext fc) {
  auto log = component_logger("feed." + fc.cfg.name);
  Output out(*fc.ctx, fc.opts.endpoint, fc.cfg.name, log);
  EslTranslatorOptions to;
  to.queues = fc.cfg.queues;
  to.max_name_bytes = fc.opts.max_name_bytes;
  EslTranslator tr(to, out.sink());
  EslFramer framer;
  auto backoff = fc.opts.backoff_min;
  std::vector<char> buf(64 * 1024);
  while (!*fc.stop) {
    Tcp tcp;
    if (const std::string err = tcp.connect(fc.cfg.address, fc.opts.connect_timeout);
        !err.empty()) {
      log->warn("cannot connect to {}: {}; retry in {} ms", fc.cfg.address, err, backoff.count());
      nap(backoff, *fc.stop);
      backoff = std::min(backoff * 2, fc.opts.backoff_max);
      continue;
    }
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
      const double now = wall_now();
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
    }
    fc.up->store(false);
    tcp.close();
    if (*fc.stop) break;
    log->warn("disconnected from {}; reconnecting in {} ms", fc.cfg.address, backoff.count());
    nap(backoff, *fc.stop);
    backoff = std::min(backoff * 2, fc.opts.backoff_max);
  }
  tr.finish();
}

// ---- queue_log ------------------------------------------------------------------------------

void run_queue_log(FeedContext fc) {
  auto log = component_logger("feed." + fc.cfg.name);
  Output out(*fc.ctx, fc.opts.endpoint, fc.cfg.name, log);
  QueueLogParser parser(QueueLogParser::Options{.max_name_bytes = fc.opts.max_name_bytes},
                        [&](const QueueLogWarning& w) { log->info("{}: {}", w.kind, w.message); });
  QueueLogTail::Options topts;
  topts.path = fc.cfg.path;
  if (auto it = fc.opts.positions.find(fc.cfg.name); it != fc.opts.positions.end()) {
    topts.start = QueueLogTail::parse(it->second);
    if (!topts.start)
      log->warn("stored position '{}' not understood: following from the end", it->second);
  }
  QueueLogTail tail(topts);
  std::string position;
  const auto& queues = fc.cfg.queues;
  auto wanted = [&](const m::Event& e) {
    if (queues.empty() || e.queue.empty()) return true;
    return std::find(queues.begin(), queues.end(), e.queue) != queues.end();
  };
  std::uint64_t line_no = 0;
  auto last_line = Clock::now();
  bool flushed = true;
  bool warned_missing = false;
  while (!*fc.stop) {
    const long n = tail.poll([&](std::string_view line) {
      const QueueLogLine& l = parser.parse(line, ++line_no);
      if (l.status == QueueLogLineStatus::rejected) {
        log->warn("rejected line ({}): {}", l.reject_reason, l.reject_detail);
        return;
      }
      position = QueueLogTail::format({0, tail.position().ino, tail.line_end()});
      for (const auto& e : l.events) {
        if (wanted(e)) out.send(e, position);
      }
    });
    fc.up->store(tail.is_open());
    if (n < 0 && !warned_missing) {
      warned_missing = true;
      log->warn("{} cannot be opened yet: waiting for it", fc.cfg.path);
    }
    if (n > 0) {
      last_line = Clock::now();
      flushed = false;
      warned_missing = false;
    } else if (!flushed && Clock::now() - last_line >= fc.opts.idle_flush) {
      position = QueueLogTail::format(tail.position());
      for (const auto& e : parser.flush()) {
        if (wanted(e)) out.send(e, position);
      }
      flushed = true;
    }
    nap(fc.opts.poll_interval, *fc.stop);
  }
  fc.up->store(false);
}

}  // namespace

bool parse_feed_restart(std::string_view json, m::Event& out) {
  constexpr std::string_view head = "{\"type\":\"feed_restart\",\"ts\":";
  if (json.size() < head.size() + 2 || json.substr(0, head.size()) != head || json.back() != '}') {
    return false;
  }
  double ts = 0;
  if (!parse_decimal(json.substr(head.size(), json.size() - head.size() - 1), ts) || ts <= 0)
    return false;
  out = m::Event{};
  out.type = m::EventType::feed_restart;
  out.ts = ts;
  return true;
}

struct FeedThreads::Impl {
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
};

FeedThreads::FeedThreads() : impl_(std::make_unique<Impl>()) {}
FeedThreads::~FeedThreads() { stop(); }
void FeedThreads::stop() {
  impl_->stop = true;
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->threads.clear();
}
std::size_t FeedThreads::size() const { return impl_->threads.size(); }

tl::expected<std::unique_ptr<FeedThreads>, std::string> start_feeds(
    zmq::context_t& ctx, const std::vector<config::FeedConfig>& feeds, const DeclareFeed& declare,
    const FeedRunOptions& opts) {
  std::vector<FeedContext> todo;
  for (const auto& f : feeds) {
    if (f.type != "ami" && f.type != "esl" && f.type != "queue_log") continue;
    FeedContext fc;
    fc.ctx = &ctx;
    fc.cfg = f;
    fc.opts = opts;
    if (f.type != "queue_log") {
      auto cred = load_credentials(f.credentials_file);
      if (!cred) return tl::unexpected(fmt::format("feed \"{}\": {}", f.name, cred.error()));
      if (f.type == "ami" && cred->username.empty()) {
        return tl::unexpected(fmt::format("feed \"{}\": credentials file {} has no username",
                                          f.name, f.credentials_file));
      }
      fc.cred = std::move(*cred);
    }
    todo.push_back(std::move(fc));
  }
  auto threads = std::make_unique<FeedThreads>();
  for (auto& fc : todo) {
    fc.up = declare ? declare(fc.cfg.name) : std::make_shared<std::atomic<bool>>(false);
    fc.stop = &threads->impl_->stop;
    const std::string type = fc.cfg.type;
    if (type == "ami")
      threads->impl_->threads.emplace_back(run_ami, std::move(fc));
    else if (type == "esl")
      threads->impl_->threads.emplace_back(run_esl, std::move(fc));
    else
      threads->impl_->threads.emplace_back(run_queue_log, std::move(fc));
  }
  return threads;
}

}  // namespace callwatch::daemon
