// The set of characters the screen needs, so the font atlas holds only those: a full CJK atlas
// at kiosk sizes would need hundreds of MB of texture. Grows as new names arrive.
#pragma once

#include <cstdint>
#include <bitset>
#include <memory>
#include <set>
#include <string_view>
#include <vector>

#include "vm/site_feed.hpp"
#include "vm/strings.hpp"

namespace callwatch::wallboard::vm {

// Code points of a UTF-8 string; malformed bytes are skipped (they cannot be drawn anyway).
std::vector<char32_t> decode_utf8(std::string_view s);

class GlyphSet {
 public:
  // True when `text` brought a code point not seen before (the atlas must be rebuilt).
  bool add(std::string_view text);
  // Every UI string of `lang`, digits and printable ASCII.
  bool add_ui(Lang lang);
  // Names, display names, sites, pause reasons and alert messages of the sites' states.
  bool add_sites(const std::vector<SiteFeed>& sites);
  const std::set<char32_t>& code_points() const { return cps_; }
  // ImGui glyph ranges (pairs of first,last, zero-terminated) of the Basic Multilingual Plane.
  std::vector<std::uint16_t> ranges() const;

 private:
  std::set<char32_t> cps_;
  std::bitset<128> ascii_;  // the ASCII code points in cps_
  // Per site, the queue and agent entries the last add_sites looked at (held: see glyphs.cpp).
  struct Seen {
    std::vector<std::shared_ptr<metrics::QueueView>> queues;
    std::vector<std::shared_ptr<metrics::AgentView>> agents;
  };
  std::vector<Seen> seen_;
};

}  // namespace callwatch::wallboard::vm
