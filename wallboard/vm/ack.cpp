#include "vm/ack.hpp"

#include "callwatch/metrics/snapshot_codec.hpp"

namespace callwatch::wallboard::vm {

tl::expected<AckPlan, std::string> plan_ack(const std::vector<SiteFeed>& sites, const AckAsk& ask) {
  if (ask.kiosk) return tl::unexpected(std::string("a kiosk is read-only: it never acknowledges"));
  if (ask.who.empty()) return tl::unexpected(std::string("no user name (--user or $USER)"));
  if (ask.site >= sites.size()) return tl::unexpected(std::string("no such site"));
  const auto& feed = sites[ask.site];
  if (!feed.state) return tl::unexpected("no data from " + site_label(feed) + " yet");
  for (const auto& a : feed.state->alerts) {
    if (a.id != ask.alert_id) continue;
    if (a.state != metrics::AlertState::firing) {
      return tl::unexpected("alert " + a.id + " is not firing");
    }
    if (a.acked) return tl::unexpected("alert " + a.id + " is acked already by " + a.acked_by);
    return AckPlan{ask.site, a.id,
                   metrics::wire::encode_ack_request(a.id, ask.who, ask.comment, "supervisor")};
  }
  return tl::unexpected("alert " + ask.alert_id + " is not on " + site_label(feed));
}

}  // namespace callwatch::wallboard::vm
