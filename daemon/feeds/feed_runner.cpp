#include "feeds/feed_runner.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <thread>

#include "feeds/feed_common.hpp"
#include "feeds/feed_registry.hpp"
#include "feeds/feed_thread.hpp"

namespace callwatch::daemon {

namespace m = callwatch::metrics;

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

tl::expected<Credentials, std::string> feed_credentials(const config::FeedConfig& f) {
  if (!config::feed_type_info(f.type).needs_credentials) return Credentials{};
  auto cred = load_credentials(f.credentials_file);
  if (!cred) return tl::unexpected(fmt::format("feed \"{}\": {}", f.name, cred.error()));
  if (feed_kind(f.type).needs_username && cred->username.empty()) {
    return tl::unexpected(
        fmt::format("feed \"{}\": credentials file {} has no username", f.name, f.credentials_file));
  }
  return cred;
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
    const FeedKind& kind = feed_kind(f.type);
    if (kind.live == nullptr) continue;  // read by the engine itself (native)
    FeedContext fc;
    fc.ctx = &ctx;
    fc.cfg = f;
    fc.opts = opts;
    auto cred = feed_credentials(f);
    if (!cred) return tl::unexpected(cred.error());
    fc.cred = std::move(*cred);
    todo.push_back(std::move(fc));
  }
  auto threads = std::make_unique<FeedThreads>();
  for (auto& fc : todo) {
    fc.up = declare ? declare(fc.cfg.name) : std::make_shared<std::atomic<bool>>(false);
    fc.stop = &threads->impl_->stop;
    const LiveFeed live = feed_kind(fc.cfg.type).live;
    threads->impl_->threads.emplace_back(live, std::move(fc));
  }
  return threads;
}

}  // namespace callwatch::daemon