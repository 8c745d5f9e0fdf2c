// The broadcast ticker (protocol 1.4): supervisors' messages in the kiosk's alert strip and the
// desktop's editor. Pure: what is shown at `now`, in which words, and the requests the desktop
// sends (a kiosk never sends one).
#pragma once

#include <cstddef>
#include <string>
#include <tl/expected.hpp>
#include <vector>

#include "vm/site_feed.hpp"
#include "vm/strings.hpp"

namespace callwatch::wallboard::vm {

struct TickerItem {
  std::size_t site = 0;  // the daemon that holds it (withdraw goes there)
  std::string id;
  std::string text;   // "alice: Team meeting at 3 (until 06:38, 25 min left)"
  std::string until;  // "06:38", the board's local time
  std::string left;   // "25 min", "59 s": rounded up, so it never says 0 while shown
  double expires_at = 0;
};

// Time left in words: under a minute in seconds, else whole minutes, both rounded up.
std::string broadcast_left(Lang lang, double seconds);
// Every site's live broadcasts at `now` (the board's clock), oldest first. One whose expiry has
// come is not shown, even before the daemon's delta removes it.
std::vector<TickerItem> build_ticker(const std::vector<SiteFeed>& sites, double now, Lang lang,
                                     int utc_offset_seconds);

// The kiosk gives broadcasts a row each, at most `rows`; with more live, the rows show them
// `rows` at a time, a page every `period_seconds` (as the tiles rotate, so a room agrees).
inline constexpr int kTickerRows = 2;
std::vector<TickerItem> ticker_page(const std::vector<TickerItem>& all, double now,
                                    double period_seconds, int rows = kTickerRows);

struct BroadcastAsk {
  bool kiosk = false;  // --kiosk: refused, always
  std::string who;     // --user or $USER
  std::string text;
  double minutes = 30;
};
struct ControlPlan {
  std::size_t site = 0;
  std::string body;  // the request, for that site's control socket
};
// A broadcast goes to every site with data (each daemon's kiosks show it). Refused in kiosk
// mode, without a name, with an empty or too long text (the daemon's bounds), with a time
// outside 5 s to 24 h, or with no site to send it to.
tl::expected<std::vector<ControlPlan>, std::string> plan_broadcast(
    const std::vector<SiteFeed>& sites, const BroadcastAsk& ask);
tl::expected<ControlPlan, std::string> plan_withdraw(const std::vector<SiteFeed>& sites, bool kiosk,
                                                     std::size_t site, const std::string& id,
                                                     const std::string& who);

}  // namespace callwatch::wallboard::vm
