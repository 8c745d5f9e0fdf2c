// The large screen: read-only, no windows, drawn straight into the background draw list so a
// frame is a few hundred primitives. Sizes are multiples of Fonts::scale (1 at 1080 lines).
#include <algorithm>
#include <cmath>

#include "ui/ui.hpp"

namespace callwatch::wallboard::ui {

namespace {

ImU32 col(const vm::Color& c) { return ImGui::ColorConvertFloat4ToU32(to_imvec(c)); }

float text_width(ImFont* f, std::string_view s) {
  return f->CalcTextSizeA(f->FontSize, FLT_MAX, 0.0f, s.data(), s.data() + s.size()).x;
}

void text(ImDrawList* dl, ImFont* f, ImVec2 pos, const vm::Color& c, std::string_view s,
          float clip_right = FLT_MAX) {
  const ImVec4 clip(pos.x, pos.y, clip_right, pos.y + f->FontSize * 1.5f);
  dl->AddText(f, f->FontSize, pos, col(c), s.data(), s.data() + s.size(), 0.0f,
              clip_right < FLT_MAX ? &clip : nullptr);
}

// A label over a number, left-aligned in [x, x+w).
void figure(ImDrawList* dl, const Fonts& f, ImFont* value_font, float x, float y, float w,
            std::string_view label, const vm::Figure& v) {
  text(dl, f.small, ImVec2(x, y), vm::palette::muted, label, x + w);
  text(dl, value_font, ImVec2(x, y + f.small->FontSize * 1.05f), v.color, v.text, x + w);
}

float draw_banners(ImDrawList* dl, const vm::KioskVM& k, const Fonts& f, float width) {
  const float s = f.scale;
  float y = 0;
  for (const auto& b : k.banners) {
    const float h = f.medium->FontSize + 20 * s;
    dl->AddRectFilled(ImVec2(0, y), ImVec2(width, y + h), col(b.color));
    text(dl, f.medium, ImVec2(24 * s, y + 10 * s), vm::Color{1, 1, 1, 1}, b.text, width - 24 * s);
    y += h;
  }
  return y;
}

float draw_header(ImDrawList* dl, const vm::KioskVM& k, const Fonts& f, vm::Lang lang, float top,
                  float width) {
  const float s = f.scale, pad = 24 * s;
  const float h = f.small->FontSize * 1.1f + f.huge->FontSize + 28 * s;
  dl->AddRectFilled(ImVec2(0, top), ImVec2(width, top + h), col(vm::palette::tile));
  const auto& hd = k.header;
  struct Item {
    vm::Str label;
    const vm::Figure* fig;
  };
  const Item items[] = {{vm::Str::calls_waiting, &hd.calls_waiting},
                        {vm::Str::longest_wait, &hd.longest_wait},
                        {vm::Str::sl_today, &hd.sl_today},
                        {vm::Str::available, &hd.available},
                        {vm::Str::on_call, &hd.on_call},
                        {vm::Str::paused, &hd.paused}};
  // The clock takes the last column, right-aligned.
  const float clock_w = text_width(f.huge, "00:00:00") + pad;
  const float col_w = (width - 2 * pad - clock_w) / 6.0f;
  const float y = top + 12 * s;
  for (int i = 0; i < 6; ++i) {
    figure(dl, f, f.huge, pad + static_cast<float>(i) * col_w, y, col_w - 12 * s,
           vm::text(lang, items[i].label), *items[i].fig);
  }
  const float cx = width - pad - text_width(f.huge, hd.clock);
  text(dl, f.small, ImVec2(cx, y), vm::palette::muted, vm::text(lang, vm::Str::app_title));
  text(dl, f.huge, ImVec2(cx, y + f.small->FontSize * 1.05f), vm::palette::text, hd.clock);
  return top + h;
}

void draw_tile(ImDrawList* dl, const vm::TileVM& t, const Fonts& f, vm::Lang lang, ImVec2 a,
               ImVec2 b) {
  const float s = f.scale, pad = 16 * s;
  dl->AddRectFilled(a, b, col(vm::palette::tile), 10 * s);
  // A strip on the left in today's SL color: the state of a queue at a glance from afar.
  dl->AddRectFilled(a, ImVec2(a.x + 10 * s, b.y), col(t.sl_today.color), 10 * s,
                    ImDrawFlags_RoundCornersLeft);
  const float x0 = a.x + 10 * s + pad, x1 = b.x - pad, w = x1 - x0;
  float y = a.y + 10 * s;
  const vm::Color title_c = t.greyed ? vm::palette::muted : vm::palette::text;
  float right = x1;
  if (!t.site.empty()) {
    const float sw = text_width(f.small, t.site);
    text(dl, f.small, ImVec2(x1 - sw, y + (f.medium->FontSize - f.small->FontSize) * 0.5f),
         vm::palette::muted, t.site);
    right = x1 - sw - 12 * s;
  }
  if (t.data_gap) {
    const auto gap = vm::text(lang, vm::Str::data_gap);
    const float gw = text_width(f.small, gap);
    text(dl, f.small, ImVec2(right - gw, y + (f.medium->FontSize - f.small->FontSize) * 0.5f),
         vm::palette::amber, gap);
    right -= gw + 12 * s;
  }
  text(dl, f.medium, ImVec2(x0, y), title_c, t.title, right);
  y += f.medium->FontSize + 8 * s;

  const float row_h = f.small->FontSize * 1.05f + f.large->FontSize + 6 * s;
  const float c1 = w * 0.28f, c2 = w * 0.42f;
  figure(dl, f, f.large, x0, y, c1, vm::text(lang, vm::Str::waiting), t.waiting);
  figure(dl, f, f.large, x0 + c1, y, c2, vm::text(lang, vm::Str::longest_wait), t.longest_wait);
  figure(dl, f, f.large, x0 + c1 + c2, y, w - c1 - c2, vm::text(lang, vm::Str::available),
         t.available);
  y += row_h;
  const float h1 = w * 0.5f;
  figure(dl, f, f.large, x0, y, h1, vm::text(lang, vm::Str::sl_interval), t.sl_interval);
  figure(dl, f, f.large, x0 + h1, y, w - h1, vm::text(lang, vm::Str::sl_today), t.sl_today);
  // Target under the SL figures, small, when it fits.
  const float ty = y + row_h;
  if (ty + f.small->FontSize < b.y - 4 * s) {
    text(dl, f.small, ImVec2(x0, ty), vm::palette::muted, t.target, x1);
  }
}

void draw_alert_strip(ImDrawList* dl, const vm::KioskVM& k, const Fonts& f, vm::Lang lang,
                      float top, float width, float height) {
  const float s = f.scale, pad = 24 * s;
  dl->AddRectFilled(ImVec2(0, top), ImVec2(width, top + height), col(vm::palette::tile));
  const float y = top + (height - f.medium->FontSize) * 0.5f;
  float x = pad;
  float right = width - pad;
  if (!k.page_text.empty()) {
    const float pw = text_width(f.medium, k.page_text);
    text(dl, f.medium, ImVec2(right - pw, y), vm::palette::muted, k.page_text);
    right -= pw + pad;
  }
  const auto label = vm::text(lang, vm::Str::alerts);
  text(dl, f.medium, ImVec2(x, y), vm::palette::muted, label);
  x += text_width(f.medium, label) + pad;
  if (k.alerts.empty()) {
    text(dl, f.medium, ImVec2(x, y), vm::palette::muted, vm::text(lang, vm::Str::no_alerts), right);
    return;
  }
  for (const auto& a : k.alerts) {
    if (x >= right) break;
    const float r = f.medium->FontSize * 0.25f;
    dl->AddCircleFilled(ImVec2(x + r, y + f.medium->FontSize * 0.55f), r, col(a.color));
    x += 2 * r + 8 * s;
    text(dl, f.medium, ImVec2(x, y), a.color, a.text, right);
    x += text_width(f.medium, a.text) + 2 * pad;
  }
}

// The leaderboard page: a title line with its window, one row per ranked agent (rank, name,
// handled, AHT, occupancy) in large type, and the rule that says who is ranked and who is not.
void draw_leaderboard(ImDrawList* dl, const vm::LeaderboardVM& v, const Fonts& f, vm::Lang lang,
                      float top, float bottom, float width) {
  const float s = f.scale, pad = 40 * s;
  float y = top;
  // Words in the medium font (its atlas holds every glyph of the UI and the data; the large one
  // holds digits and Latin only), numbers in the large one.
  text(dl, f.medium, ImVec2(pad, y), vm::palette::text, v.title);
  const float tw = text_width(f.medium, v.title);
  text(dl, f.medium, ImVec2(pad + tw + pad, y), vm::palette::muted, v.window_text);
  y += f.medium->FontSize * 1.5f;
  text(dl, f.small, ImVec2(pad, y), vm::palette::muted, v.rule_text);
  y += f.small->FontSize * 1.8f;
  // Columns: rank | agent | handled | AHT | occupancy, the numbers right-aligned.
  const float c_rank = pad, c_name = pad + 140 * s, c_handled = width * 0.62f,
              c_aht = width * 0.78f, c_occ = width - pad;
  auto right = [&](ImFont* font, float x_right, float yy, const vm::Color& c, std::string_view t) {
    text(dl, font, ImVec2(x_right - text_width(font, t), yy), c, t);
  };
  text(dl, f.small, ImVec2(c_rank, y), vm::palette::muted, vm::text(lang, vm::Str::rank));
  text(dl, f.small, ImVec2(c_name, y), vm::palette::muted, vm::text(lang, vm::Str::agent));
  right(f.small, c_handled, y, vm::palette::muted, vm::text(lang, vm::Str::handled));
  right(f.small, c_aht, y, vm::palette::muted, vm::text(lang, vm::Str::aht));
  right(f.small, c_occ, y, vm::palette::muted, vm::text(lang, vm::Str::occupancy));
  y += f.small->FontSize * 1.4f;
  const float row_h = f.large->FontSize * 1.25f;
  if (v.rows.empty()) {
    text(dl, f.medium, ImVec2(c_name, y), vm::palette::muted, vm::text(lang, vm::Str::leaderboard_empty));
  }
  int i = 0;
  for (const auto& r : v.rows) {
    if (y + row_h > bottom - f.small->FontSize * 2) break;
    if (i++ % 2 == 0) {
      dl->AddRectFilled(ImVec2(pad * 0.5f, y - 4 * s), ImVec2(width - pad * 0.5f, y + row_h - 4 * s),
                        col(vm::palette::tile), 8 * s);
    }
    const vm::Color c = r.greyed ? vm::palette::grey : vm::palette::text;
    text(dl, f.large, ImVec2(c_rank, y), r.rank <= 3 ? vm::palette::amber : c, std::to_string(r.rank));
    const std::string name = r.site.empty() ? r.name : r.name + " · " + r.site;
    text(dl, f.medium, ImVec2(c_name, y + (f.large->FontSize - f.medium->FontSize) * 0.5f), c, name,
         c_handled - text_width(f.large, "0000"));
    right(f.large, c_handled, y, c, r.handled_text);
    right(f.large, c_aht, y, c, r.aht_text);
    right(f.large, c_occ, y, c, r.occupancy_text);
    y += row_h;
  }
  if (!v.left_out_text.empty()) {
    text(dl, f.small, ImVec2(pad, bottom - f.small->FontSize * 1.4f), vm::palette::muted, v.left_out_text);
  }
}

}  // namespace

ImVec4 to_imvec(const vm::Color& c) { return ImVec4(c.r, c.g, c.b, c.a); }

Intents draw_kiosk(const vm::KioskVM& k, const Fonts& f, vm::Lang lang) {
  ImDrawList* dl = ImGui::GetBackgroundDrawList();
  const ImVec2 size = ImGui::GetIO().DisplaySize;
  const float s = f.scale, pad = 16 * s;
  dl->AddRectFilled(ImVec2(0, 0), size, col(vm::palette::background));

  float y = draw_banners(dl, k, f, size.x);
  y = draw_header(dl, k, f, lang, y, size.x) + pad;
  const float strip_h = f.medium->FontSize + 30 * s;
  const float bottom = size.y - strip_h - pad;
  draw_alert_strip(dl, k, f, lang, size.y - strip_h, size.x, strip_h);

  if (k.leaderboard) {
    draw_leaderboard(dl, *k.leaderboard, f, lang, y, bottom, size.x);
    return Intents{};
  }
  const int n = static_cast<int>(k.tiles.size());
  if (n > 0 && bottom > y) {
    const auto grid = vm::kiosk_grid(size.x, size.y, s);
    const int cols = std::min(grid.cols, n);
    const int rows = (n + cols - 1) / cols;
    const float tw = (size.x - pad * static_cast<float>(cols + 1)) / static_cast<float>(cols);
    const float th = std::min((bottom - y - pad * static_cast<float>(rows - 1)) /
                                  static_cast<float>(rows),
                              300.0f * s);  // few tiles: do not stretch them to half a screen
    for (int i = 0; i < n; ++i) {
      const int r = i / cols, c = i % cols;
      const ImVec2 a(pad + static_cast<float>(c) * (tw + pad),
                     y + static_cast<float>(r) * (th + pad));
      draw_tile(dl, k.tiles[static_cast<std::size_t>(i)], f, lang, a, ImVec2(a.x + tw, a.y + th));
    }
  }
  return Intents{};
}

}  // namespace callwatch::wallboard::ui
