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

// A tile's sparkline: calls per minute as bars, SL per minute as dots (0-100 %), the hour's
// busiest minute at full height; the legend sits over the bars' top left.
void draw_trend(ImDrawList* dl, const vm::TrendVM& t, const Fonts& f, ImVec2 a, ImVec2 b,
                bool grey) {
  text(dl, f.tile_small, a, vm::palette::muted, t.label, b.x);
  a.y += f.tile_small->FontSize * 1.2f;  // the bars start under the legend
  if (t.bars.empty() || b.y - a.y < 8) return;
  const float n = static_cast<float>(t.bars.size());
  const float bw = (b.x - a.x) / n;
  const float h = b.y - a.y;
  const float r = std::max(2.0f, 3.0f * f.scale * f.tile_scale);
  const vm::Color bar_c = grey ? vm::palette::grey : vm::palette::info;
  const vm::Color sl_c = grey ? vm::palette::grey : vm::palette::green;
  dl->AddLine(ImVec2(a.x, b.y), ImVec2(b.x, b.y), col(vm::palette::grey), 1.0f);
  for (std::size_t i = 0; i < t.bars.size(); ++i) {
    const float x = a.x + static_cast<float>(i) * bw;
    if (t.bars[i] > 0) {
      dl->AddRectFilled(ImVec2(x + bw * 0.15f, b.y - h * t.bars[i]), ImVec2(x + bw * 0.85f, b.y),
                        col(bar_c));
    }
  }
  // SL: a line through minutes that have one (a minute without outcomes breaks it), and a dot
  // on each, over the bars; a dot sits r inside the area so 100 % is not cut.
  const float hs = h - 2 * r;
  for (std::size_t i = 0; i < t.sl.size(); ++i) {
    if (std::isnan(t.sl[i])) continue;
    const ImVec2 pt(a.x + (static_cast<float>(i) + 0.5f) * bw, b.y - r - hs * t.sl[i]);
    if (i > 0 && !std::isnan(t.sl[i - 1])) {
      const ImVec2 prev(a.x + (static_cast<float>(i) - 0.5f) * bw, b.y - r - hs * t.sl[i - 1]);
      dl->AddLine(prev, pt, col(sl_c), std::max(1.0f, r * 0.6f));
    }
    dl->AddCircleFilled(pt, r, col(sl_c));
  }
}

void draw_tile(ImDrawList* dl, const vm::TileVM& t, const Fonts& f, vm::Lang lang, ImVec2 a,
               ImVec2 b) {
  const float s = f.scale * f.tile_scale, pad = 16 * s;
  ImFont* small = f.tile_small;
  ImFont* medium = f.tile_medium;
  ImFont* large = f.tile_large;
  dl->AddRectFilled(a, b, col(vm::palette::tile), 10 * s);
  // A strip on the left in today's SL color: the state of a queue at a glance from afar.
  dl->AddRectFilled(a, ImVec2(a.x + 10 * s, b.y), col(t.sl_today.color), 10 * s,
                    ImDrawFlags_RoundCornersLeft);
  const float x0 = a.x + 10 * s + pad, x1 = b.x - pad, w = x1 - x0;
  float y = a.y + 10 * s;
  const vm::Color title_c = t.greyed ? vm::palette::muted : vm::palette::text;
  float right = x1;
  if (!t.site.empty()) {
    const float sw = text_width(small, t.site);
    text(dl, small, ImVec2(x1 - sw, y + (medium->FontSize - small->FontSize) * 0.5f),
         vm::palette::muted, t.site);
    right = x1 - sw - 12 * s;
  }
  if (t.data_gap) {
    const auto gap = vm::text(lang, vm::Str::data_gap);
    const float gw = text_width(small, gap);
    text(dl, small, ImVec2(right - gw, y + (medium->FontSize - small->FontSize) * 0.5f),
         vm::palette::amber, gap);
    right -= gw + 12 * s;
  }
  text(dl, medium, ImVec2(x0, y), title_c, t.title, right);
  y += medium->FontSize + 8 * s;

  // A label or number wider than its column ("100%" in a third of a small tile, Chinese labels)
  // is drawn smaller to fit, bottom-aligned, never cut.
  auto fitted = [&](ImFont* font, float x, float yy, float cw, const vm::Color& c, std::string_view t) {
    const float tw = text_width(font, t);
    const float room = cw - 8 * s;
    const float size = tw > room && tw > 0 ? font->FontSize * room / tw : font->FontSize;
    dl->AddText(font, size, ImVec2(x, yy + (font->FontSize - size) * 0.8f), col(c), t.data(),
                t.data() + t.size());
  };
  auto fig = [&](float x, float yy, float cw, vm::Str label, const vm::Figure& v) {
    fitted(small, x, yy, cw, vm::palette::muted, vm::text(lang, label));
    fitted(large, x, yy + small->FontSize * 1.05f, cw, v.color, v.text);
  };
  const float row_h = small->FontSize * 1.05f + large->FontSize + 6 * s;
  const float c1 = w / 3.0f, c2 = w / 3.0f, c3 = w - c1 - c2;
  fig(x0, y, c1, vm::Str::waiting, t.waiting);
  fig(x0 + c1, y, c2, vm::Str::longest_wait, t.longest_wait);
  fig(x0 + c1 + c2, y, c3, vm::Str::available, t.available);
  y += row_h;
  // Percentages are wider than durations: the SL columns take more of the second row.
  const float d1 = w * 0.36f, d2 = w * 0.36f, d3 = w - d1 - d2;
  fig(x0, y, d1, vm::Str::sl_interval, t.sl_interval);
  fig(x0 + d1, y, d2, vm::Str::sl_today_short, t.sl_today);
  fig(x0 + d1 + d2, y, d3, vm::Str::estimated_wait, t.estimated_wait);
  y += row_h;
  text(dl, small, ImVec2(x0, y), vm::palette::muted, t.target, x1);
  y += small->FontSize * 1.3f;
  // The trend takes what is left, with its legend on top.
  const float spark_bottom = b.y - 10 * s;
  if (spark_bottom - y > small->FontSize * 1.2f + 16 * s) {
    draw_trend(dl, t.trend, f, ImVec2(x0, y), ImVec2(x1, spark_bottom), t.greyed);
  }
}

// The longest waiting callers of every queue: queue and position, caller, wait, who is rung.
void draw_waiters(ImDrawList* dl, const vm::WaitingListVM& v, const Fonts& f, const vm::Rect& r) {
  const float s = f.scale, pad = 16 * s;
  dl->AddRectFilled(ImVec2(r.x, r.y), ImVec2(r.x + r.w, r.y + r.h), col(vm::palette::tile), 10 * s);
  const float x0 = r.x + pad, x1 = r.x + r.w - pad;
  float y = r.y + 10 * s;
  text(dl, f.medium, ImVec2(x0, y), vm::palette::text, v.title, x1);
  y += f.medium->FontSize * 1.4f;
  const float bottom = r.y + r.h - pad - (v.more_text.empty() ? 0.0f : f.small->FontSize * 1.4f);
  if (v.rows.empty()) {
    text(dl, f.body, ImVec2(x0, y), vm::palette::muted, v.empty_text, x1);
  }
  // Each caller: "position · queue" over the caller ID, the wait on the right in its color, and
  // who is rung on a third line when the feed says.
  int i = 0;
  for (const auto& w : v.rows) {
    const float row_h = f.small->FontSize * 1.15f + f.medium->FontSize * 1.15f +
                        (w.ringing.empty() ? 0.0f : f.small->FontSize * 1.2f) + 12 * s;
    if (y + row_h > bottom) break;
    if (i++ % 2 == 1) {
      dl->AddRectFilled(ImVec2(r.x + 6 * s, y - 4 * s), ImVec2(r.x + r.w - 6 * s, y + row_h - 8 * s),
                        col(vm::palette::background), 6 * s);
    }
    const std::string head = w.position + " · " + w.queue;
    const float ww = text_width(f.medium, w.wait_fig.text);
    text(dl, f.small, ImVec2(x0, y), vm::palette::muted, head, x1 - ww - 12 * s);
    text(dl, f.medium, ImVec2(x1 - ww, y + f.small->FontSize * 0.6f), w.wait_fig.color, w.wait_fig.text);
    text(dl, f.medium, ImVec2(x0, y + f.small->FontSize * 1.15f),
         w.greyed ? vm::palette::muted : vm::palette::text, w.caller, x1 - ww - 12 * s);
    if (!w.ringing.empty()) {
      text(dl, f.small, ImVec2(x0, y + f.small->FontSize * 1.15f + f.medium->FontSize * 1.15f),
           w.greyed ? vm::palette::grey : vm::palette::info, w.ringing, x1);
    }
    y += row_h;
  }
  if (!v.more_text.empty()) {
    text(dl, f.small, ImVec2(x0, r.y + r.h - pad - f.small->FontSize), vm::palette::muted, v.more_text, x1);
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

// Supervisors' broadcasts, a row each on top of the alert strip (vm/ picks the rows shown): the
// label in a blue box, then the message in bright text with its end and the time left.
void draw_ticker(ImDrawList* dl, const vm::KioskVM& k, const Fonts& f, vm::Lang lang, float top,
                 float width, float row_h) {
  const float s = f.scale, pad = 24 * s;
  const auto label = vm::text(lang, vm::Str::broadcast);
  const float lw = text_width(f.medium, label);
  for (const auto& item : k.ticker) {
    dl->AddRectFilled(ImVec2(0, top), ImVec2(width, top + row_h), col(vm::Color{0.10f, 0.17f, 0.32f, 1}));
    const float y = top + (row_h - f.medium->FontSize) * 0.5f;
    dl->AddRectFilled(ImVec2(pad * 0.5f, top + 6 * s), ImVec2(pad * 1.5f + lw, top + row_h - 6 * s),
                      col(vm::palette::info), 6 * s);
    text(dl, f.medium, ImVec2(pad, y), vm::Color{1, 1, 1, 1}, label);
    text(dl, f.medium, ImVec2(pad * 2 + lw, y), vm::palette::text, item.text, width - pad);
    top += row_h;
    dl->AddLine(ImVec2(0, top - 1), ImVec2(width, top - 1), col(vm::palette::background), 2 * s);
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

namespace {
float alarm_height(const vm::KioskVM& k, const Fonts& f) {
  return k.alarm ? f.medium->FontSize + 24 * f.scale : 0.0f;
}
float banners_height(const vm::KioskVM& k, const Fonts& f) {
  return static_cast<float>(k.banners.size()) * (f.medium->FontSize + 20 * f.scale);
}
float header_height(const Fonts& f) {
  return f.small->FontSize * 1.1f + f.huge->FontSize + 28 * f.scale;
}
float strip_height(const Fonts& f) { return f.medium->FontSize + 30 * f.scale; }
// The broadcast rows above the alert strip, each as tall as the strip.
float ticker_height(const vm::KioskVM& k, const Fonts& f) {
  return strip_height(f) * static_cast<float>(k.ticker.size());
}
}  // namespace

KioskArea kiosk_area(const vm::KioskVM& k, const Fonts& f, ImVec2 size) {
  const float pad = 16 * f.scale;
  KioskArea a;
  a.top = banners_height(k, f) + alarm_height(k, f) + header_height(f) + pad;
  a.bottom = size.y - strip_height(f) - ticker_height(k, f) - pad;
  return a;
}

Intents draw_kiosk(const vm::KioskVM& k, const vm::KioskLayout& layout, const Fonts& f,
                   vm::Lang lang) {
  ImDrawList* dl = ImGui::GetBackgroundDrawList();
  const ImVec2 size = ImGui::GetIO().DisplaySize;
  const float s = f.scale, pad = 16 * s;
  dl->AddRectFilled(ImVec2(0, 0), size, col(vm::palette::background));

  float y = draw_banners(dl, k, f, size.x);
  if (k.alarm) {
    // The visual alarm: a red band saying which alert, under the link banners.
    const float h = alarm_height(k, f);
    dl->AddRectFilled(ImVec2(0, y), ImVec2(size.x, y + h), col(vm::palette::banner_red));
    text(dl, f.medium, ImVec2(24 * s, y + 12 * s), vm::Color{1, 1, 1, 1}, k.alarm_text, size.x - 24 * s);
    y += h;
  }
  y = draw_header(dl, k, f, lang, y, size.x) + pad;
  const float strip_h = strip_height(f);
  const float ticker_h = ticker_height(k, f);
  const float bottom = size.y - strip_h - ticker_h - pad;
  draw_alert_strip(dl, k, f, lang, size.y - strip_h, size.x, strip_h);
  if (!k.ticker.empty()) draw_ticker(dl, k, f, lang, size.y - strip_h - ticker_h, size.x, strip_h);

  if (k.leaderboard) {
    draw_leaderboard(dl, *k.leaderboard, f, lang, y, bottom, size.x);
  } else {
    for (std::size_t i = 0; i < k.tiles.size() && i < layout.tiles.size(); ++i) {
      const vm::Rect& r = layout.tiles[i];
      draw_tile(dl, k.tiles[i], f, lang, ImVec2(r.x, r.y), ImVec2(r.x + r.w, r.y + r.h));
    }
    if (layout.waiters.w > 0) draw_waiters(dl, k.waiters, f, layout.waiters);
  }
  if (k.alarm) {
    // And a red frame round the whole screen: seen from across the floor.
    const float t = 10 * s;
    dl->AddRect(ImVec2(t * 0.5f, t * 0.5f), ImVec2(size.x - t * 0.5f, size.y - t * 0.5f),
                col(vm::palette::red), 0.0f, 0, t);
  }
  return Intents{};
}

}  // namespace callwatch::wallboard::ui
