#include "board_screen.hpp"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <ctime>

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

namespace callwatch::wallboard::app {

namespace {

int local_utc_offset(double now) {
  const auto t = static_cast<std::time_t>(now);
  std::tm tm{};
  localtime_r(&t, &tm);
  return static_cast<int>(tm.tm_gmtoff);
}

float screen_scale(int height, bool kiosk) {
  const float s = static_cast<float>(height) / 1080.0f;
  return kiosk ? std::max(0.5f, s) : std::clamp(s, 1.0f, 3.0f);
}

}  // namespace

BoardScreen::BoardScreen(const Options& opts, int fb_height, bool can_ack) : opts_(opts) {
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;  // nothing to persist; a kiosk has a read-only home anyway
  ImGui::StyleColorsDark();
  ImGuiStyle& style = ImGui::GetStyle();
  style.Colors[ImGuiCol_WindowBg] = ui::to_imvec(vm::palette::background);
  style.Colors[ImGuiCol_ChildBg] = ui::to_imvec(vm::palette::tile);

  font_files_.load();
  glyphs_.add_ui(opts.lang);
  // Both languages' labels are cheap; having them avoids a rebuild if a name uses one of them.
  glyphs_.add_ui(opts.lang == vm::Lang::en ? vm::Lang::zh : vm::Lang::en);
  scale_ = screen_scale(fb_height, opts.kiosk);
  fonts_ = font_files_.build(glyphs_, scale_, opts.kiosk);

  board_.lang = opts.lang;
  board_.page_seconds = opts.page_seconds;
  board_.leaderboard_page = opts.leaderboard;
  board_.leaderboard_only = opts.leaderboard_only;
  board_.leaders.window =
      opts.leaderboard_window == "interval" ? vm::LeaderWindow::interval : vm::LeaderWindow::today;
  if (opts.leaderboard_min_minutes >= 0) {
    board_.leaders.min_logged_in_today = board_.leaders.min_logged_in_interval =
        opts.leaderboard_min_minutes * 60;
  }
  board_.acks = can_ack && !opts.kiosk;  // a kiosk is read-only
  board_.callers = opts.callers;
  board_.alarm = opts.kiosk && opts.alarm;
  board_.kiosk_waiters = opts.kiosk_waiters;
  if (!opts.agent.empty()) query_.selected_agent = opts.agent;  // --agent: its timeline at start
  desktop_state_.select_tab = opts.tab == "leaderboard" ? 2 : 0;
}

BoardScreen::Result BoardScreen::frame(const std::vector<vm::SiteFeed>& feeds, bool new_data,
                                       double now, int fb_w, int fb_h) {
  Result out;
  if (new_data) fonts_dirty_ |= glyphs_.add_sites(feeds);
  history_.record_sites(feeds, now);
  const float new_scale = screen_scale(fb_h, opts_.kiosk);
  if (std::fabs(new_scale - scale_) > 0.01f) {
    scale_ = new_scale;
    fonts_dirty_ = true;
  }
  if (fonts_dirty_) {
    fonts_ = font_files_.build(glyphs_, scale_, opts_.kiosk, tile_scale_);
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
    fonts_dirty_ = false;
    out.again = true;
    out.new_atlas = true;
  }
  board_.utc_offset_seconds = local_utc_offset(now);

  ImGui_ImplOpenGL3_NewFrame();
  ImGui_ImplGlfw_NewFrame();
  // A screenshot has no user: Xvfb's pointer in the middle of the screen must not hover a row.
  if (!opts_.screenshot.empty()) ImGui::GetIO().MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
  ImGui::NewFrame();
  if (opts_.kiosk) {
    const bool panel = board_.kiosk_waiters > 0 && !board_.leaderboard_only;
    const auto grid = vm::kiosk_grid(static_cast<float>(fb_w), static_cast<float>(fb_h), scale_, panel);
    const auto k = vm::build_kiosk(feeds, now, board_, grid.per_page());
    const ImVec2 size(static_cast<float>(fb_w), static_cast<float>(fb_h));
    const auto area = ui::kiosk_area(k, fonts_, size);
    const auto layout =
        vm::kiosk_layout(size.x, area.top, area.bottom, scale_, static_cast<int>(k.tiles.size()), panel);
    ui::draw_kiosk(k, layout, fonts_, opts_.lang);
    // Tiles of another size (queue count or screen changed): their fonts at the new size.
    if (!k.tiles.empty() && std::fabs(layout.content_scale - tile_scale_) > 0.05f) {
      tile_scale_ = layout.content_scale;
      fonts_dirty_ = true;
      out.again = true;
    }
    if (k.alarm_key != last_alarm_) {
      out.alarm_rang = k.alarm;
      last_alarm_ = k.alarm_key;
    }
  } else {
    const auto d = vm::build_desktop(feeds, now, board_, history_, query_);
    auto intents = ui::draw_desktop(d, fonts_, opts_.lang, desktop_state_);
    if (intents.select_queue) {
      query_.selected_queue = *intents.select_queue;
      out.again = true;
    }
    if (intents.select_agent && intents.select_agent->site < feeds.size()) {
      query_.selected_agent = intents.select_agent->name;
      query_.selected_site = intents.select_agent->site;
      next_history_ask_ = 0;
      out.again = true;
    }
    if (!query_.selected_agent.empty() && now >= next_history_ask_ && query_.selected_site < feeds.size()) {
      out.history_ask = Result::HistoryAsk{query_.selected_site, query_.selected_agent};
      next_history_ask_ = now + 30;
    }
    if (intents.sort_changed) {
      query_.queue_sort = intents.queue_sort;
      query_.queue_ascending = intents.queue_ascending;
      query_.agent_sort = intents.agent_sort;
      query_.agent_ascending = intents.agent_ascending;
      out.again = true;
    }
    if (intents.filter_changed) {
      query_.queue_filter = desktop_state_.queue_filter;
      query_.agent_filter = desktop_state_.agent_filter;
      out.again = true;
    }
    // What is typed may hold characters no name on screen had yet (Chinese): into the atlas.
    if (desktop_state_.broadcast_text[0] != '\0') fonts_dirty_ |= glyphs_.add(desktop_state_.broadcast_text);
    if (intents.ack || intents.broadcast || intents.withdraw) out.again = true;
    out.ack = std::move(intents.ack);
    out.broadcast = std::move(intents.broadcast);
    out.withdraw = std::move(intents.withdraw);
  }
  ImGui::Render();
  return out;
}

void BoardScreen::paint_whole(int fb_w, int fb_h) {
  glViewport(0, 0, fb_w, fb_h);
  const auto bg = vm::palette::background;
  glClearColor(bg.r, bg.g, bg.b, 1.0f);
  glClear(GL_COLOR_BUFFER_BIT);
  ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

}  // namespace callwatch::wallboard::app
