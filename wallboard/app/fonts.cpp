#include "fonts.hpp"

#include <cstdlib>
#include <fstream>
#include <iterator>

#include <spdlog/spdlog.h>

#include "callwatch/protocol/board_fonts.hpp"

namespace callwatch::wallboard::app {

namespace {

bool read_file(const std::string& path, std::vector<char>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !out.empty();
}

}  // namespace

void FontManager::load() {
  if (const char* env = std::getenv("CALLWATCH_CJK_FONT"); env != nullptr && *env != '\0') {
    if (read_file(env, cjk_)) cjk_path_ = env;
  }
  for (const auto& c : protocol::kCjkFonts) {
    if (!cjk_.empty()) break;
    if (read_file(std::string(c.path), cjk_)) {
      cjk_path_ = c.path;
      cjk_index_ = c.face;
    }
  }
  for (const auto& c : protocol::kLatinFonts) {
    if (read_file(std::string(c.path), latin_)) {
      latin_path_ = c.path;
      break;
    }
  }
  if (cjk_.empty()) {
    spdlog::warn("no CJK font found (install fonts-noto-cjk): Chinese text will show as '?'");
  }
  if (latin_.empty()) spdlog::warn("DejaVu Sans not found: using ImGui's built-in font");
}

ui::Fonts FontManager::build(const vm::GlyphSet& glyphs, float scale, bool kiosk,
                             float tile_scale) {
  ImGuiIO& io = ImGui::GetIO();
  io.Fonts->Clear();
  all_ranges_ = glyphs.ranges();
  // Numbers-only sizes: printable ASCII and the dash used for "no value".
  number_ranges_ = {0x20, 0x7E, 0x2013, 0x2013, 0};

  auto add = [&](float px, bool numbers_only) -> ImFont* {
    ImFont* font = nullptr;
    ImFontConfig cfg;
    cfg.FontDataOwnedByAtlas = false;
    // Oversampling triples the atlas width; big glyphs gain nothing from it.
    cfg.OversampleH = px >= 28 ? 1 : 2;
    cfg.OversampleV = 1;
    cfg.PixelSnapH = true;
    const auto* ranges = reinterpret_cast<const ImWchar*>(
        numbers_only ? number_ranges_.data() : all_ranges_.data());
    static_assert(sizeof(ImWchar) == sizeof(std::uint16_t), "ImGui built with 16-bit ImWchar");
    if (!latin_.empty()) {
      font = io.Fonts->AddFontFromMemoryTTF(latin_.data(), static_cast<int>(latin_.size()), px,
                                            &cfg, ranges);
    } else {
      ImFontConfig def;
      def.SizePixels = px;
      font = io.Fonts->AddFontDefault(&def);
    }
    if (!numbers_only && !cjk_.empty()) {
      ImFontConfig merge = cfg;
      merge.MergeMode = true;  // the first font keeps the glyphs it has; CJK fills the rest
      merge.FontNo = cjk_index_;
      // CJK ideographs fill their em square while Latin letters sit inside theirs: at the same
      // pixel size Chinese looks a size smaller. 1.12x evens them out (baseline is kept).
      io.Fonts->AddFontFromMemoryTTF(cjk_.data(), static_cast<int>(cjk_.size()), px * 1.12f,
                                     &merge, ranges);
    }
    return font;
  };

  ui::Fonts f;
  f.scale = scale;
  if (kiosk) {
    f.small = add(22 * scale, false);
    f.body = add(24 * scale, false);
    f.medium = add(34 * scale, false);
    f.large = add(58 * scale, true);
    f.huge = add(72 * scale, true);
    // Tile contents grow with the tiles (vm::kiosk_layout): their own sizes, so big type is
    // rasterized at its size, never a blurred enlargement.
    f.tile_scale = tile_scale;
    f.tile_small = add(22 * scale * tile_scale, false);
    f.tile_medium = add(34 * scale * tile_scale, false);
    f.tile_large = add(58 * scale * tile_scale, true);
  } else {
    f.body = add(17 * scale, false);  // first font added = ImGui's default
    f.small = add(14 * scale, false);
    f.medium = add(21 * scale, false);
    f.large = add(26 * scale, true);
    f.huge = add(30 * scale, true);
  }
  io.Fonts->Build();
  return f;
}

}  // namespace callwatch::wallboard::app
