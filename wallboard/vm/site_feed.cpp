#include "vm/site_feed.hpp"

#include <cmath>

namespace callwatch::wallboard::vm {

std::string site_label(const SiteFeed& f) {
  if (!f.site.empty()) return f.site;
  std::string_view ep = f.endpoint;
  if (auto p = ep.find("://"); p != std::string_view::npos) ep.remove_prefix(p + 3);
  return std::string(ep);
}

LinkState link_state(const SiteFeed& f, double now) {
  if (f.newer_protocol) return LinkState::incompatible;
  if (!f.state) return LinkState::waiting;
  if (!f.connected) return LinkState::disconnected;
  if (std::isnan(f.last_message_at) || now - f.last_message_at > kStaleAfterSeconds) {
    return LinkState::stale;
  }
  return LinkState::live;
}

double engine_time(const SiteFeed& f, double now) {
  if (std::isnan(f.engine_now)) return f.state ? f.state->now : now;
  if (link_state(f, now) != LinkState::live) return f.engine_now;
  return f.engine_now + std::max(0.0, now - f.last_message_at);
}

}  // namespace callwatch::wallboard::vm
