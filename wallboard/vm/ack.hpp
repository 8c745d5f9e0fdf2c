// Acknowledging an alert from the desktop wallboard: which daemon gets the request (a board may
// merge several sites, each alert belongs to the one that raised it) and its body. Pure: the app
// hands the body to that site's control socket. A kiosk is read-only and never sends one.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <tl/expected.hpp>

#include "vm/site_feed.hpp"

namespace callwatch::wallboard::vm {

struct AckPlan {
  std::size_t site = 0;  // index into the sites (the --connect order)
  std::string alert_id;
  std::string body;  // wire::encode_ack_request(alert, who, comment, "supervisor")
};

struct AckAsk {
  bool kiosk = false;   // --kiosk: refused, always
  std::size_t site = 0;  // the site the alert was shown for (AlertVM::site)
  std::string alert_id;
  std::string who;      // --user or $USER
  std::string comment;  // optional
};

// Refuses in kiosk mode, without a name, for a site index out of range, an alert the site does
// not hold (or no longer firing), or one acked already; otherwise the request for that site.
tl::expected<AckPlan, std::string> plan_ack(const std::vector<SiteFeed>& sites, const AckAsk& ask);

}  // namespace callwatch::wallboard::vm
