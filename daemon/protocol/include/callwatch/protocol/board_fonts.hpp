// The font files a board draws with, the first found of each list: the native board reads them
// from disk, and the daemon serves the same files to the browser board (GET /board/fonts.json),
// so both build one atlas from the same faces.
#pragma once

#include <string_view>

namespace callwatch::protocol {

struct FontFile {
  std::string_view path;
  int face;  // in a collection
};

// Face 2 of the Noto CJK collection is "Noto Sans CJK SC": Simplified Chinese glyph shapes.
inline constexpr FontFile kCjkFonts[] = {
    {"/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2},
    {"/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2},
    {"/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0},
    {"/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0},
};
inline constexpr FontFile kLatinFonts[] = {
    {"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 0},
    {"/usr/share/fonts/TTF/DejaVuSans.ttf", 0},
};

}  // namespace callwatch::protocol
