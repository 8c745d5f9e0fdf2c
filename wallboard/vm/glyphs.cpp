#include "vm/glyphs.hpp"

namespace callwatch::wallboard::vm {

std::vector<char32_t> decode_utf8(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    int len = 0;
    char32_t cp = 0;
    if (c < 0x80) {
      len = 1;
      cp = c;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      ++i;  // stray continuation or invalid lead byte
      continue;
    }
    if (i + static_cast<std::size_t>(len) > s.size()) break;
    bool ok = true;
    for (int k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((cc & 0xC0) != 0x80) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (!ok) {
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<std::size_t>(len);
  }
  return out;
}

bool GlyphSet::add(std::string_view text) {
  // Most text on a board is ASCII seen long ago (10,000 agent names on every new state): a
  // byte loop over a bitmap, no decoding and no tree.
  bool known = true;
  for (const char ch : text) {
    const auto b = static_cast<unsigned char>(ch);
    if (b >= 0x80 || (b >= 0x20 && !ascii_.test(b))) {
      known = false;
      break;
    }
  }
  if (known) return false;
  bool grew = false;
  for (char32_t cp : decode_utf8(text)) {
    if (cp < 0x20) continue;
    if (cps_.insert(cp).second) {
      grew = true;
      if (cp < 0x80) ascii_.set(cp);
    }
  }
  return grew;
}

bool GlyphSet::add_ui(Lang lang) {
  bool grew = false;
  for (char32_t c = 0x20; c < 0x7F; ++c) {
    grew |= cps_.insert(c).second;
    ascii_.set(c);
  }
  grew |= add("–—·…×•▲▼");
  for (int i = 0; i < static_cast<int>(Str::count_); ++i) grew |= add(text(lang, static_cast<Str>(i)));
  return grew;
}

namespace {
// Entries of a shared list not looked at since the last scan: a delta replaces only the entries it
// changed, so an entry still the same object at the same place as last time holds no new text. The
// last scan's pointers are kept alive in `seen`, so an address cannot come back as another entry.
template <typename T, typename F>
bool add_new_entries(const metrics::SharedList<T>& list, std::vector<std::shared_ptr<T>>& seen, F&& add_one) {
  bool grew = false;
  std::vector<std::shared_ptr<T>> now;
  now.reserve(list.size());
  for (std::size_t i = 0; i < list.size(); ++i) {
    const auto& p = list.shared(i);
    if (i >= seen.size() || seen[i] != p) grew |= add_one(*p);
    now.push_back(p);
  }
  seen.swap(now);
  return grew;
}
}  // namespace

bool GlyphSet::add_sites(const std::vector<SiteFeed>& sites) {
  bool grew = false;
  if (seen_.size() < sites.size()) seen_.resize(sites.size());
  for (std::size_t si = 0; si < sites.size(); ++si) {
    const auto& f = sites[si];
    grew |= add(f.site);
    grew |= add(f.endpoint);
    if (!f.state) continue;
    grew |= add_new_entries(f.state->queues, seen_[si].queues, [&](const metrics::QueueView& q) {
      bool g = add(q.name);
      g |= add(q.settings.display_name);
      // Caller IDs are mostly digits (in the atlas already); a caller *name* may bring a new
      // character once, after which the set holds it.
      for (const auto& c : q.waiting_list) g |= add(c.caller);
      return g;
    });
    grew |= add_new_entries(f.state->agents, seen_[si].agents, [&](const metrics::AgentView& a) {
      bool g = add(a.name);
      g |= add(a.pause_reason);
      g |= add(a.call_caller);
      return g;
    });
    for (const auto& al : f.state->alerts) {
      grew |= add(al.message);
      grew |= add(al.rule);
      grew |= add(al.queue);
      grew |= add(al.acked_by);
      grew |= add(al.ack_comment);
    }
    for (const auto& [id, r] : f.ack_replies) grew |= add(r.reason);
    for (const auto& b : f.state->broadcasts) {
      grew |= add(b.text);
      grew |= add(b.from);
    }
    if (f.broadcast_reply) grew |= add(f.broadcast_reply->reason);
  }
  return grew;
}

std::vector<std::uint16_t> GlyphSet::ranges() const {
  std::vector<std::uint16_t> r;
  for (char32_t cp : cps_) {
    if (cp > 0xFFFF) continue;  // ImGui's default ImWchar is 16-bit
    const auto c = static_cast<std::uint16_t>(cp);
    if (!r.empty() && r.back() + 1 == c) {
      r.back() = c;
    } else {
      r.push_back(c);
      r.push_back(c);
    }
  }
  r.push_back(0);
  return r;
}

}  // namespace callwatch::wallboard::vm
