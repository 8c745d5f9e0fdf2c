// Draws the wallboard's view models with Dear ImGui and returns what the user asked for. Reads
// view models only: every number, color and order was decided in vm/.
#pragma once

#include <optional>
#include <string>

#include <imgui.h>

#include "vm/board.hpp"

namespace callwatch::wallboard::ui {

struct Fonts {
  ImFont* small = nullptr;   // labels
  ImFont* body = nullptr;    // table text
  ImFont* medium = nullptr;  // titles, banners
  ImFont* large = nullptr;   // tile numbers
  ImFont* huge = nullptr;    // header numbers
  float scale = 1.0f;
  // Kiosk tiles: the same three sizes times tile_scale (the layout's content scale).
  ImFont* tile_small = nullptr;
  ImFont* tile_medium = nullptr;
  ImFont* tile_large = nullptr;
  float tile_scale = 1.0f;
};

// UI state that must outlive a frame (ImGui text inputs write into buffers).
struct DesktopState {
  char queue_filter[128] = {};
  char agent_filter[128] = {};
  char ack_comment[256] = {};  // optional note sent with the next ack
  int select_tab = 0;          // 1: agents, 2: leaderboard, selected on the next frame (then 0)
  char broadcast_text[512] = {};  // the broadcast editor's message (bounded again in vm/)
  int broadcast_minutes = 30;
};

struct BroadcastIntent {
  std::string text;
  double minutes = 30;
};
struct WithdrawIntent {
  std::size_t site = 0;
  std::string id;
};

struct AckIntent {
  std::size_t site = 0;  // the site (daemon) that owns the alert
  std::string alert_id;
  std::string comment;
};

struct Intents {
  bool sort_changed = false;
  bool filter_changed = false;
  vm::QueueColumn queue_sort = vm::QueueColumn::name;
  bool queue_ascending = true;
  vm::AgentColumn agent_sort = vm::AgentColumn::name;
  bool agent_ascending = true;
  std::optional<AckIntent> ack;  // desktop only: the ack button was pressed (kiosk: never)
  std::optional<BroadcastIntent> broadcast;  // desktop only: Send pressed
  std::optional<WithdrawIntent> withdraw;    // desktop only: Withdraw pressed
  std::optional<std::string> select_queue;  // a queue row was clicked: list its callers
  struct AgentPick {
    std::size_t site = 0;
    std::string name;
  };
  std::optional<AgentPick> select_agent;  // an agent row was clicked: show its day
};

ImVec4 to_imvec(const vm::Color& c);

// Both fill the whole display (io.DisplaySize); call between ImGui::NewFrame and ImGui::Render.
// The area between the kiosk's header and its alert strip (for vm::kiosk_layout).
struct KioskArea {
  float top = 0, bottom = 0;
};
KioskArea kiosk_area(const vm::KioskVM& k, const Fonts& f, ImVec2 size);
Intents draw_kiosk(const vm::KioskVM& k, const vm::KioskLayout& layout, const Fonts& f,
                   vm::Lang lang);
Intents draw_desktop(const vm::DesktopVM& d, const Fonts& f, vm::Lang lang, DesktopState& state);

}  // namespace callwatch::wallboard::ui
