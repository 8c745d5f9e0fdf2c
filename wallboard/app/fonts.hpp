// System fonts for the wallboard: DejaVu Sans for Latin, Noto Sans CJK SC (or WenQuanYi Micro
// Hei) merged in for Chinese. The atlas holds only the glyphs in a GlyphSet, at five sizes
// scaled to the screen; rebuilt when new names bring new characters.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ui/ui.hpp"
#include "vm/glyphs.hpp"

namespace callwatch::wallboard::app {

class FontManager {
 public:
  // Reads the font files once (the CJK collection is ~20 MB: it is parsed from memory for
  // every size instead of being read again).
  void load();
  bool has_cjk() const { return !cjk_.empty(); }
  const std::string& cjk_path() const { return cjk_path_; }

  // Rebuilds io.Fonts; call outside a frame, then re-create the GPU texture.
  ui::Fonts build(const vm::GlyphSet& glyphs, float scale, bool kiosk, float tile_scale = 1.0f);

 private:
  std::vector<char> latin_, cjk_;
  std::string latin_path_, cjk_path_;
  int cjk_index_ = 0;
  std::vector<std::uint16_t> all_ranges_, number_ranges_;
};

}  // namespace callwatch::wallboard::app
