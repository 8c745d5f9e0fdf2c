// One board's screen, whatever drives it: the native window (app/main.cpp) and the browser page
// (web/main.cpp) both hand it the sites' feeds and draw a frame with it, through ImGui's GLFW and
// OpenGL3 backends. Fonts, scale, history, sorting and filters live here; the event loop, the
// transport and what an ack does are the caller's.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "fonts.hpp"
#include "options.hpp"
#include "ui/ui.hpp"
#include "vm/board.hpp"
#include "vm/glyphs.hpp"
#include "vm/history.hpp"
#include "vm/site_feed.hpp"

namespace callwatch::wallboard::app {

class BoardScreen {
 public:
  // After ImGui's context and both backends are set up: styles ImGui and builds the fonts for a
  // framebuffer `fb_height` pixels high. can_ack: the desktop offers acks (a kiosk never does).
  BoardScreen(const Options& opts, int fb_height, bool can_ack);

  struct Result {
    std::optional<ui::AckIntent> ack;              // desktop: the ack button was pressed
    std::optional<ui::BroadcastIntent> broadcast;  // desktop: Send pressed in the broadcast box
    std::optional<ui::WithdrawIntent> withdraw;    // desktop: Withdraw pressed
    struct HistoryAsk {
      std::size_t site = 0;
      std::string agent;
    };
    std::optional<HistoryAsk> history_ask;  // desktop: ask this site for the agent's day now
    bool alarm_rang = false;                // kiosk: a new critical alarm (--alarm-command)
    bool again = false;                     // the next frame differs (layout, fonts, a new sort)
    bool new_atlas = false;                 // the font texture was made again: paint it all
  };
  // One frame of `feeds` (new_data: they changed since the last frame) at wall time `now`, up to
  // ImGui::Render(): the caller paints ImGui's draw data (paint_whole, or only what changed).
  Result frame(const std::vector<vm::SiteFeed>& feeds, bool new_data, double now, int fb_w,
               int fb_h);
  // Clears the bound framebuffer and paints the last frame's draw data on it.
  void paint_whole(int fb_w, int fb_h);

 private:
  const Options& opts_;
  FontManager font_files_;
  vm::GlyphSet glyphs_;
  float scale_ = 1;
  ui::Fonts fonts_;
  bool fonts_dirty_ = false;
  vm::BoardOptions board_;
  vm::History history_;
  vm::DesktopQuery query_;
  ui::DesktopState desktop_state_;
  std::string last_alarm_;       // the alarm the command last rang for
  float tile_scale_ = 1.0f;      // kiosk: the content scale the tile fonts are built at
  double next_history_ask_ = 0;  // desktop: the selected agent's day is asked again every 30 s
};

}  // namespace callwatch::wallboard::app
