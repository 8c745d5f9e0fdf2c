#include "vm/broadcast.hpp"

#include <algorithm>
#include <cmath>

#include "callwatch/metrics/snapshot_codec.hpp"
#include "vm/board.hpp"
#include "vm/style.hpp"

namespace callwatch::wallboard::vm {

namespace wire = metrics::wire;

std::string broadcast_left(Lang lang, double seconds) {
  if (!(seconds > 0)) seconds = 0;
  if (seconds < 60) {
    return std::to_string(static_cast<long long>(std::ceil(seconds))) + " " +
           std::string(text(lang, Str::seconds_suffix));
  }
  return std::to_string(static_cast<long long>(std::ceil(seconds / 60))) + " " +
         std::string(text(lang, Str::minutes_suffix));
}

std::vector<TickerItem> build_ticker(const std::vector<SiteFeed>& sites, double now, Lang lang,
                                     int utc_offset_seconds) {
  std::vector<TickerItem> out;
  for (std::size_t i = 0; i < sites.size(); ++i) {
    if (!sites[i].state) continue;
    for (const auto& b : sites[i].state->broadcasts) {
      if (!(b.expires_at > now)) continue;
      TickerItem t;
      t.site = i;
      t.id = b.id;
      t.expires_at = b.expires_at;
      t.until = format_clock(b.expires_at, utc_offset_seconds).substr(0, 5);
      t.left = broadcast_left(lang, b.expires_at - now);
      t.text = fill(text(lang, Str::broadcast_item), {b.from, b.text, t.until, t.left});
      out.push_back(std::move(t));
    }
  }
  // Ids sort by posting time; across sites, by site then id keeps the order stable.
  std::stable_sort(out.begin(), out.end(), [](const TickerItem& a, const TickerItem& b) {
    return a.id != b.id ? a.id < b.id : a.site < b.site;
  });
  return out;
}

std::vector<TickerItem> ticker_page(const std::vector<TickerItem>& all, double now,
                                    double period_seconds, int rows) {
  const int n = static_cast<int>(all.size());
  if (rows <= 0 || n <= rows) return all;
  const int page = page_at(now, n, rows, period_seconds);
  const auto first = all.begin() + static_cast<std::ptrdiff_t>(page) * rows;
  return std::vector<TickerItem>(first, first + std::min<std::ptrdiff_t>(rows, all.end() - first));
}

namespace {

std::string trimmed(const std::string& s) {
  const auto a = s.find_first_not_of(' ');
  if (a == std::string::npos) return {};
  const auto b = s.find_last_not_of(' ');
  return s.substr(a, b - a + 1);
}

}  // namespace

tl::expected<std::vector<ControlPlan>, std::string> plan_broadcast(
    const std::vector<SiteFeed>& sites, const BroadcastAsk& ask) {
  if (ask.kiosk) return tl::unexpected(std::string("a kiosk is read-only: it never broadcasts"));
  if (ask.who.empty()) return tl::unexpected(std::string("no user name (--user or $USER)"));
  const std::string t = trimmed(ask.text);
  if (t.empty()) return tl::unexpected(std::string("the message is empty"));
  if (t.size() > wire::kMaxBroadcastBytes) {
    return tl::unexpected("the message is " + std::to_string(t.size()) + " bytes; at most " +
                          std::to_string(wire::kMaxBroadcastBytes));
  }
  const double ttl = ask.minutes * 60;
  if (!(ttl >= wire::kMinBroadcastSeconds && ttl <= wire::kMaxBroadcastSeconds)) {
    return tl::unexpected(std::string("the time must be 5 s to 24 h"));
  }
  std::vector<ControlPlan> out;
  for (std::size_t i = 0; i < sites.size(); ++i) {
    if (!sites[i].state) continue;  // no data: maybe not a daemon at all yet
    out.push_back(ControlPlan{i, wire::encode_broadcast_request(t, ttl, ask.who, "supervisor")});
  }
  if (out.empty()) return tl::unexpected(std::string("no site has sent data yet"));
  return out;
}

tl::expected<ControlPlan, std::string> plan_withdraw(const std::vector<SiteFeed>& sites, bool kiosk,
                                                     std::size_t site, const std::string& id,
                                                     const std::string& who) {
  if (kiosk) return tl::unexpected(std::string("a kiosk is read-only: it never withdraws"));
  if (site >= sites.size() || !sites[site].state)
    return tl::unexpected(std::string("no such site"));
  const auto& live = sites[site].state->broadcasts;
  if (std::none_of(live.begin(), live.end(),
                   [&](const metrics::BroadcastView& b) { return b.id == id; })) {
    return tl::unexpected("no broadcast " + id + " on " + site_label(sites[site]));
  }
  return ControlPlan{site, wire::encode_withdraw_request(id, who, "supervisor")};
}

}  // namespace callwatch::wallboard::vm
