// The supervisor's desktop: header figures, a sortable and filterable queue table with
// sparklines, the agent table (clipped: 10,000 rows cost what the visible ones cost) and the
// alert list. Sorting is applied in vm/; here only the user's choice is read and returned.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ui/ui.hpp"

namespace callwatch::wallboard::ui {

namespace {

void colored(const vm::Figure& f) { ImGui::TextColored(to_imvec(f.color), "%s", f.text.c_str()); }

void right_text(const std::string& s, const vm::Color& c = vm::palette::text) {
  const float w = ImGui::CalcTextSize(s.c_str()).x;
  const float avail = ImGui::GetContentRegionAvail().x;
  if (avail > w) ImGui::SetCursorPosX(ImGui::GetCursorPosX() + avail - w);
  ImGui::TextColored(to_imvec(c), "%s", s.c_str());
}

void right_figure(const vm::Figure& f) { right_text(f.text, f.color); }

// Calls waiting (blue, scaled to the hour's maximum) and SL (green, 0-100 %) over the kept span;
// a sample without SL data breaks the green line instead of drawing a fake zero.
void sparkline(const std::deque<vm::History::Sample>* h, ImVec2 size, float scale) {
  const ImVec2 p = ImGui::GetCursorScreenPos();
  ImGui::Dummy(size);
  if (h == nullptr || h->size() < 2) return;
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const double t1 = h->back().t, t0 = t1 - 3600;
  float maxw = 1;
  for (const auto& smp : *h) maxw = std::max(maxw, smp.waiting);
  auto X = [&](double t) { return p.x + static_cast<float>((t - t0) / 3600.0) * size.x; };
  const ImU32 blue = ImGui::ColorConvertFloat4ToU32(to_imvec(vm::palette::info));
  const ImU32 green = ImGui::ColorConvertFloat4ToU32(to_imvec(vm::palette::green));
  const float thick = std::max(1.0f, 1.5f * scale);
  const vm::History::Sample* prev = nullptr;
  for (const auto& smp : *h) {
    if (prev != nullptr) {
      dl->AddLine(ImVec2(X(prev->t), p.y + size.y * (1 - prev->waiting / maxw)),
                  ImVec2(X(smp.t), p.y + size.y * (1 - smp.waiting / maxw)), blue, thick);
      if (!std::isnan(prev->sl) && !std::isnan(smp.sl)) {
        dl->AddLine(ImVec2(X(prev->t), p.y + size.y * (1 - prev->sl)),
                    ImVec2(X(smp.t), p.y + size.y * (1 - smp.sl)), green, thick);
      }
    }
    prev = &smp;
  }
}

void header(const vm::DesktopVM& d, const Fonts& f, vm::Lang lang) {
  const auto& h = d.header;
  struct Item {
    vm::Str label;
    const vm::Figure* fig;
  };
  const Item items[] = {{vm::Str::calls_waiting, &h.calls_waiting},
                        {vm::Str::longest_wait, &h.longest_wait},
                        {vm::Str::sl_today, &h.sl_today},
                        {vm::Str::available, &h.available},
                        {vm::Str::on_call, &h.on_call},
                        {vm::Str::paused, &h.paused}};
  if (ImGui::BeginTable("header", 7, ImGuiTableFlags_SizingStretchSame)) {
    for (const auto& it : items) {
      ImGui::TableNextColumn();
      ImGui::PushFont(f.small);
      ImGui::TextColored(to_imvec(vm::palette::muted), "%s", vm::text(lang, it.label).data());
      ImGui::PopFont();
      ImGui::PushFont(f.huge);
      colored(*it.fig);
      ImGui::PopFont();
    }
    ImGui::TableNextColumn();
    ImGui::PushFont(f.small);
    right_text(d.interval_text, vm::palette::muted);
    ImGui::PopFont();
    ImGui::PushFont(f.huge);
    right_text(h.clock);
    ImGui::PopFont();
    ImGui::EndTable();
  }
  for (const auto& b : d.banners) {
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float hgt = f.medium->FontSize + 12 * f.scale;
    ImGui::GetWindowDrawList()->AddRectFilled(
        p, ImVec2(p.x + ImGui::GetContentRegionAvail().x, p.y + hgt),
        ImGui::ColorConvertFloat4ToU32(to_imvec(b.color)), 4 * f.scale);
    ImGui::SetCursorScreenPos(ImVec2(p.x + 12 * f.scale, p.y + 6 * f.scale));
    ImGui::PushFont(f.medium);
    ImGui::TextUnformatted(b.text.c_str());
    ImGui::PopFont();
    ImGui::SetCursorScreenPos(ImVec2(p.x, p.y + hgt + 4 * f.scale));
  }
}

bool filter_box(const char* id, vm::Lang lang, char* buf, std::size_t n, float width) {
  ImGui::SetNextItemWidth(width);
  return ImGui::InputTextWithHint(id, vm::text(lang, vm::Str::filter).data(), buf, n);
}

void queue_table(const vm::DesktopVM& d, const Fonts& f, vm::Lang lang, float height,
                 Intents& out) {
  using vm::QueueColumn;
  struct Col {
    vm::Str label;
    QueueColumn id;
  };
  std::vector<Col> cols;
  if (d.multi_site) cols.push_back({vm::Str::site, QueueColumn::site});
  const Col rest[] = {{vm::Str::queue, QueueColumn::name},
                      {vm::Str::waiting, QueueColumn::waiting},
                      {vm::Str::longest_wait, QueueColumn::longest_wait},
                      {vm::Str::sl_interval, QueueColumn::sl_interval},
                      {vm::Str::sl_previous, QueueColumn::sl_previous},
                      {vm::Str::sl_today_short, QueueColumn::sl_today},
                      {vm::Str::offered, QueueColumn::offered},
                      {vm::Str::answered, QueueColumn::answered},
                      {vm::Str::abandoned, QueueColumn::abandoned},
                      {vm::Str::abandon_rate, QueueColumn::abandon_rate},
                      {vm::Str::asa, QueueColumn::asa},
                      {vm::Str::aht, QueueColumn::aht},
                      {vm::Str::required, QueueColumn::required},
                      {vm::Str::staffed, QueueColumn::staffed},
                      {vm::Str::bounced, QueueColumn::bounced},
                      {vm::Str::occupancy, QueueColumn::occupancy},
                      {vm::Str::estimated_wait, QueueColumn::estimated_wait}};
  cols.insert(cols.end(), std::begin(rest), std::end(rest));
  const int ncols = static_cast<int>(cols.size()) + 1;  // + sparkline
  const ImGuiTableFlags flags = ImGuiTableFlags_Sortable | ImGuiTableFlags_RowBg |
                                ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                                ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingFixedFit;
  if (!ImGui::BeginTable("queues", ncols, flags, ImVec2(0, height))) return;
  ImGui::TableSetupScrollFreeze(d.multi_site ? 2 : 1, 1);
  for (const auto& c : cols) {
    ImGuiTableColumnFlags cf = ImGuiTableColumnFlags_None;
    if (c.id == QueueColumn::name) cf |= ImGuiTableColumnFlags_DefaultSort;
    ImGui::TableSetupColumn(vm::text(lang, c.label).data(), cf, 0.0f,
                            static_cast<ImGuiID>(c.id));
  }
  const float spark_w = 180 * f.scale;
  ImGui::TableSetupColumn(vm::text(lang, vm::Str::last_hour).data(),
                          ImGuiTableColumnFlags_NoSort | ImGuiTableColumnFlags_WidthFixed, spark_w);
  ImGui::TableHeadersRow();
  if (ImGuiTableSortSpecs* specs = ImGui::TableGetSortSpecs(); specs && specs->SpecsDirty) {
    if (specs->SpecsCount > 0) {
      out.sort_changed = true;
      out.queue_sort = static_cast<QueueColumn>(specs->Specs[0].ColumnUserID);
      out.queue_ascending = specs->Specs[0].SortDirection == ImGuiSortDirection_Ascending;
    }
    specs->SpecsDirty = false;
  }
  const float row_h = std::max(ImGui::GetTextLineHeight(), 22 * f.scale);
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(d.queues.size()), row_h);
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const auto& r = d.queues[static_cast<std::size_t>(i)];
      ImGui::TableNextRow(ImGuiTableRowFlags_None, row_h);
      const vm::Color tc = r.greyed ? vm::palette::muted : vm::palette::text;
      if (d.multi_site) {
        ImGui::TableNextColumn();
        ImGui::TextColored(to_imvec(vm::palette::muted), "%s", r.site.c_str());
      }
      ImGui::TableNextColumn();
      // The whole row is the button that lists this queue's callers.
      ImGui::PushID(r.key.c_str());
      ImGui::PushStyleColor(ImGuiCol_Text, to_imvec(tc));
      if (ImGui::Selectable(r.title.c_str(), r.selected,
                            ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowItemOverlap,
                            ImVec2(0, row_h - ImGui::GetStyle().CellPadding.y * 2))) {
        out.select_queue = r.key;
      }
      ImGui::PopStyleColor();
      ImGui::PopID();
      if (r.data_gap) {
        ImGui::SameLine();
        ImGui::TextColored(to_imvec(vm::palette::amber), "(%s)",
                           vm::text(lang, vm::Str::data_gap).data());
      }
      ImGui::TableNextColumn();
      right_figure(r.f_waiting);
      ImGui::TableNextColumn();
      right_figure(r.f_longest_wait);
      ImGui::TableNextColumn();
      right_figure(r.f_sl_interval);
      ImGui::TableNextColumn();
      right_figure(r.f_sl_previous);
      ImGui::TableNextColumn();
      right_figure(r.f_sl_today);
      for (const std::string* s : {&r.offered_text, &r.answered_text, &r.abandoned_text,
                                   &r.abandon_rate_text, &r.asa_text, &r.aht_text}) {
        ImGui::TableNextColumn();
        right_text(*s, tc);
      }
      ImGui::TableNextColumn();
      right_text(r.required_text, r.required_color);
      for (const std::string* s : {&r.staffed_text, &r.bounced_text, &r.occupancy_text,
                                   &r.estimated_wait_text}) {
        ImGui::TableNextColumn();
        right_text(*s, tc);
      }
      ImGui::TableNextColumn();
      sparkline(r.history, ImVec2(spark_w, row_h - 4 * f.scale), f.scale);
      if (ImGui::IsItemHovered()) {
        ImGui::SetTooltip("%s", vm::text(lang, vm::Str::sparkline_hint).data());
      }
    }
  }
  ImGui::EndTable();
}

void agent_table(const vm::DesktopVM& d, const Fonts& /*f*/, vm::Lang lang, ImVec2 size,
                 Intents& out) {
  using vm::AgentColumn;
  struct Col {
    vm::Str label;
    AgentColumn id;
  };
  std::vector<Col> cols;
  if (d.multi_site) cols.push_back({vm::Str::site, AgentColumn::site});
  const Col rest[] = {{vm::Str::agents, AgentColumn::name},
                      {vm::Str::state, AgentColumn::state},
                      {vm::Str::time_in_state, AgentColumn::time_in_state},
                      {vm::Str::pause_reason, AgentColumn::pause_reason},
                      {vm::Str::current_call, AgentColumn::current_call},
                      {vm::Str::answered, AgentColumn::answered},
                      {vm::Str::ring_no_answer, AgentColumn::ring_no_answer},
                      {vm::Str::aht, AgentColumn::aht},
                      {vm::Str::occupancy, AgentColumn::occupancy}};
  cols.insert(cols.end(), std::begin(rest), std::end(rest));
  const ImGuiTableFlags flags = ImGuiTableFlags_Sortable | ImGuiTableFlags_RowBg |
                                ImGuiTableFlags_BordersInnerV | ImGuiTableFlags_ScrollY |
                                ImGuiTableFlags_Resizable | ImGuiTableFlags_SizingStretchProp;
  if (!ImGui::BeginTable("agents", static_cast<int>(cols.size()), flags, size)) return;
  ImGui::TableSetupScrollFreeze(0, 1);
  for (const auto& c : cols) {
    // Stretch weights: the current call ("+8613800001234 · 技术支持 Tech Support  12:05") needs
    // about three ordinary columns.
    const float weight = c.id == AgentColumn::current_call ? 2.6f : 1.0f;
    ImGui::TableSetupColumn(vm::text(lang, c.label).data(),
                            (c.id == AgentColumn::name ? ImGuiTableColumnFlags_DefaultSort : 0) |
                                ImGuiTableColumnFlags_WidthStretch,
                            weight, static_cast<ImGuiID>(c.id));
  }
  ImGui::TableHeadersRow();
  if (ImGuiTableSortSpecs* specs = ImGui::TableGetSortSpecs(); specs && specs->SpecsDirty) {
    if (specs->SpecsCount > 0) {
      out.sort_changed = true;
      out.agent_sort = static_cast<AgentColumn>(specs->Specs[0].ColumnUserID);
      out.agent_ascending = specs->Specs[0].SortDirection == ImGuiSortDirection_Ascending;
    }
    specs->SpecsDirty = false;
  }
  ImGuiListClipper clipper;
  clipper.Begin(static_cast<int>(d.agents.size()));
  while (clipper.Step()) {
    for (int i = clipper.DisplayStart; i < clipper.DisplayEnd; ++i) {
      const auto& r = d.agents[static_cast<std::size_t>(i)];
      const vm::Color tc = r.greyed ? vm::palette::muted : vm::palette::text;
      ImGui::TableNextRow();
      if (d.multi_site) {
        ImGui::TableNextColumn();
        ImGui::TextColored(to_imvec(vm::palette::muted), "%s", r.site.c_str());
      }
      ImGui::TableNextColumn();
      ImGui::PushID(i);
      ImGui::PushStyleColor(ImGuiCol_Text, to_imvec(tc));
      if (ImGui::Selectable(r.name.c_str(), r.selected,
                            ImGuiSelectableFlags_SpanAllColumns | ImGuiSelectableFlags_AllowItemOverlap)) {
        out.select_agent = Intents::AgentPick{r.site_index, r.name};
      }
      ImGui::PopStyleColor();
      ImGui::PopID();
      ImGui::TableNextColumn();
      ImGui::TextColored(to_imvec(r.state_color), "%s", r.state_text.c_str());
      ImGui::TableNextColumn();
      right_text(r.time_text, tc);
      ImGui::TableNextColumn();
      ImGui::TextColored(to_imvec(tc), "%s", r.pause_reason.c_str());
      ImGui::TableNextColumn();
      ImGui::TextColored(to_imvec(r.greyed ? vm::palette::muted : vm::palette::info), "%s", r.call_text.c_str());
      ImGui::TableNextColumn();
      right_text(std::to_string(r.answered), tc);
      ImGui::TableNextColumn();
      right_text(std::to_string(r.ring_noanswer), tc);
      ImGui::TableNextColumn();
      right_text(r.aht_text, tc);
      ImGui::TableNextColumn();
      right_text(r.occupancy_text, tc);
    }
  }
  ImGui::EndTable();
}

// The broadcast editor: a message, how long it shows, Send; then the live broadcasts, each with
// Withdraw. Every kiosk of every site shows what is sent here.
void broadcast_editor(const vm::DesktopVM& d, const Fonts& f, vm::Lang lang, DesktopState& state,
                      Intents& out) {
  ImGui::PushFont(f.medium);
  ImGui::TextUnformatted(vm::text(lang, vm::Str::broadcast).data());
  ImGui::PopFont();
  if (d.can_broadcast) {
    const float send_w = ImGui::CalcTextSize(vm::text(lang, vm::Str::broadcast_send).data()).x +
                         ImGui::GetStyle().FramePadding.x * 2;
    const float for_w = ImGui::CalcTextSize(vm::text(lang, vm::Str::broadcast_for).data()).x;
    const float minutes_w = 90 * f.scale;
    const float unit_w = ImGui::CalcTextSize(vm::text(lang, vm::Str::minutes_suffix).data()).x;
    const float sp = ImGui::GetStyle().ItemSpacing.x;
    ImGui::SetNextItemWidth(std::max(100.0f, ImGui::GetContentRegionAvail().x - send_w - for_w - minutes_w -
                                                 unit_w - 4 * sp));
    ImGui::InputTextWithHint("##bt", vm::text(lang, vm::Str::broadcast_hint).data(), state.broadcast_text,
                             sizeof state.broadcast_text);
    ImGui::SameLine();
    ImGui::TextUnformatted(vm::text(lang, vm::Str::broadcast_for).data());
    ImGui::SameLine();
    ImGui::SetNextItemWidth(minutes_w);
    ImGui::InputInt("##bm", &state.broadcast_minutes, 5, 30);
    state.broadcast_minutes = std::clamp(state.broadcast_minutes, 1, 24 * 60);
    ImGui::SameLine();
    ImGui::TextUnformatted(vm::text(lang, vm::Str::minutes_suffix).data());
    ImGui::SameLine();
    if (ImGui::Button(vm::text(lang, vm::Str::broadcast_send).data()) && state.broadcast_text[0] != '\0') {
      out.broadcast = BroadcastIntent{state.broadcast_text, static_cast<double>(state.broadcast_minutes)};
      state.broadcast_text[0] = '\0';
    }
    if (!d.broadcast_status.empty()) {
      ImGui::TextColored(to_imvec(d.broadcast_status_color), "%s", d.broadcast_status.c_str());
    }
  }
  if (d.broadcasts.empty()) {
    ImGui::TextColored(to_imvec(vm::palette::muted), "%s", vm::text(lang, vm::Str::broadcast_none).data());
  }
  for (const auto& b : d.broadcasts) {
    ImGui::PushID(static_cast<int>(b.site));
    ImGui::PushID(b.id.c_str());
    if (d.can_broadcast) {
      if (ImGui::SmallButton(vm::text(lang, vm::Str::broadcast_withdraw).data())) {
        out.withdraw = WithdrawIntent{b.site, b.id};
      }
      ImGui::SameLine();
    }
    ImGui::PushStyleColor(ImGuiCol_Text, to_imvec(vm::palette::info));
    ImGui::TextWrapped("%s", b.text.c_str());
    ImGui::PopStyleColor();
    ImGui::PopID();
    ImGui::PopID();
  }
  ImGui::Separator();
}

// The selected queue's callers: position, caller, wait (colored against its SL threshold) and
// who is rung; the expected wait of a new caller on top.
void waiting_list(const vm::WaitingListVM& v, const Fonts& f, vm::Lang lang) {
  ImGui::PushFont(f.medium);
  ImGui::TextUnformatted(v.title.c_str());
  ImGui::PopFont();
  if (!v.estimated_wait_text.empty()) {
    ImGui::TextColored(to_imvec(vm::palette::muted), "%s", v.estimated_wait_text.c_str());
  }
  if (v.rows.empty()) {
    ImGui::TextColored(to_imvec(vm::palette::muted), "%s", v.empty_text.c_str());
  } else if (ImGui::BeginTable("waiting", 4, ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY,
                               ImVec2(0, ImGui::GetContentRegionAvail().y -
                                             (v.more_text.empty() ? 0.0f : ImGui::GetTextLineHeightWithSpacing())))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    ImGui::TableSetupColumn("#", ImGuiTableColumnFlags_WidthFixed, 28 * f.scale);
    ImGui::TableSetupColumn(vm::text(lang, vm::Str::caller).data(), ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableSetupColumn(vm::text(lang, vm::Str::wait_col).data(), ImGuiTableColumnFlags_WidthFixed,
                            70 * f.scale);
    ImGui::TableSetupColumn(vm::text(lang, vm::Str::ringing).data(), ImGuiTableColumnFlags_WidthStretch);
    ImGui::TableHeadersRow();
    for (const auto& w : v.rows) {
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      right_text(w.position, vm::palette::muted);
      ImGui::TableNextColumn();
      ImGui::TextColored(to_imvec(w.greyed ? vm::palette::muted : vm::palette::text), "%s", w.caller.c_str());
      ImGui::TableNextColumn();
      right_figure(w.wait_fig);
      ImGui::TableNextColumn();
      ImGui::TextColored(to_imvec(w.greyed ? vm::palette::grey : vm::palette::info), "%s", w.ringing.c_str());
    }
    ImGui::EndTable();
  }
  if (!v.more_text.empty()) ImGui::TextColored(to_imvec(vm::palette::muted), "%s", v.more_text.c_str());
}

// One agent's day as a bar: a segment per state in the state's color, hour marks under it.
void timeline(const vm::TimelineVM& t, const Fonts& f) {
  ImGui::TextUnformatted(t.title.c_str());
  if (!t.cut_text.empty()) {
    ImGui::SameLine();
    ImGui::TextColored(to_imvec(vm::palette::muted), "(%s)", t.cut_text.c_str());
  }
  for (const auto& [name, color] : t.legend) {
    ImGui::SameLine(0, 18 * f.scale);
    const ImVec2 p = ImGui::GetCursorScreenPos();
    const float sq = ImGui::GetTextLineHeight() * 0.7f;
    ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(p.x, p.y + sq * 0.25f), ImVec2(p.x + sq, p.y + sq * 1.25f),
                                              ImGui::ColorConvertFloat4ToU32(to_imvec(color)));
    ImGui::Dummy(ImVec2(sq, sq));
    ImGui::SameLine(0, 4 * f.scale);
    ImGui::TextColored(to_imvec(vm::palette::muted), "%s", name.c_str());
  }
  if (!t.status.empty()) {
    ImGui::TextColored(to_imvec(vm::palette::muted), "%s", t.status.c_str());
    return;
  }
  ImDrawList* dl = ImGui::GetWindowDrawList();
  const ImVec2 p = ImGui::GetCursorScreenPos();
  const float w = ImGui::GetContentRegionAvail().x, h = 22 * f.scale;
  ImGui::Dummy(ImVec2(w, h + ImGui::GetTextLineHeight() + 4 * f.scale));
  dl->AddRectFilled(p, ImVec2(p.x + w, p.y + h),
                    ImGui::ColorConvertFloat4ToU32(to_imvec(vm::palette::background)));
  for (const auto& s : t.segments) {
    dl->AddRectFilled(ImVec2(p.x + s.from * w, p.y), ImVec2(p.x + std::max(s.to * w, s.from * w + 1.0f), p.y + h),
                      ImGui::ColorConvertFloat4ToU32(to_imvec(s.color)));
  }
  const ImU32 tick = ImGui::ColorConvertFloat4ToU32(to_imvec(vm::palette::muted));
  for (std::size_t i = 0; i < t.ticks.size(); ++i) {
    const float x = p.x + t.tick_at[i] * w;
    dl->AddLine(ImVec2(x, p.y + h), ImVec2(x, p.y + h + 4 * f.scale), tick);
    const float tw = ImGui::CalcTextSize(t.ticks[i].c_str()).x;
    const float tx = std::clamp(x - tw * 0.5f, p.x, p.x + w - tw);
    dl->AddText(ImVec2(tx, p.y + h + 4 * f.scale), tick, t.ticks[i].c_str());
  }
}

void alert_list(const vm::DesktopVM& d, const Fonts& f, vm::Lang lang, DesktopState& state,
                Intents& out) {
  ImGui::PushFont(f.medium);
  ImGui::TextUnformatted(vm::text(lang, vm::Str::alerts).data());
  ImGui::PopFont();
  if (d.alerts.empty()) {
    ImGui::TextColored(to_imvec(vm::palette::muted), "%s", vm::text(lang, vm::Str::no_alerts).data());
    return;
  }
  bool any_ack = false;
  for (const auto& a : d.alerts) any_ack |= a.ack_enabled;
  if (any_ack) {
    ImGui::SetNextItemWidth(-1);
    ImGui::InputTextWithHint("##ackc", vm::text(lang, vm::Str::ack_comment_hint).data(),
                             state.ack_comment, sizeof state.ack_comment);
  }
  // Firing, unacked alerts flash (1 s on, 1 s off, in step with the once-a-second redraw).
  const bool flash_off = static_cast<long long>(ImGui::GetTime()) % 2 == 1;
  for (const auto& a : d.alerts) {
    ImGui::PushID(static_cast<int>(a.site));
    ImGui::PushID(a.id.c_str());
    if (a.ack_enabled) {
      if (ImGui::SmallButton(vm::text(lang, vm::Str::ack).data())) {
        out.ack = AckIntent{a.site, a.id, state.ack_comment};
        state.ack_comment[0] = '\0';
      }
      ImGui::SameLine();
    }
    ImGui::TextColored(to_imvec(vm::palette::muted), "%s", a.since.c_str());
    ImGui::SameLine();
    vm::Color c = a.color;
    if (a.flashing && flash_off) c.a *= 0.55f;
    ImGui::PushStyleColor(ImGuiCol_Text, to_imvec(c));
    ImGui::TextWrapped("%s", a.text.c_str());
    ImGui::PopStyleColor();
    if (!a.acked_text.empty()) {
      ImGui::Indent();
      ImGui::TextColored(to_imvec(vm::palette::muted), "%s", a.acked_text.c_str());
      ImGui::Unindent();
    }
    if (!a.ack_status.empty()) {
      ImGui::Indent();
      ImGui::PushStyleColor(ImGuiCol_Text, to_imvec(a.ack_status_color));
      ImGui::TextWrapped("%s", a.ack_status.c_str());
      ImGui::PopStyleColor();
      ImGui::Unindent();
    }
    ImGui::PopID();
    ImGui::PopID();
  }
}

}  // namespace

// One window of the leaderboard: its window and rule, then rank, agent, handled, AHT, occupancy.
void leader_table(const char* id, const vm::LeaderboardVM& v, const Fonts& f, vm::Lang lang,
                  ImVec2 size) {
  ImGui::BeginChild(id, size, false);
  ImGui::PushFont(f.medium);
  ImGui::TextUnformatted(v.window_text.c_str());
  ImGui::PopFont();
  ImGui::TextColored(to_imvec(vm::palette::muted), "%s", v.rule_text.c_str());
  const ImGuiTableFlags flags = ImGuiTableFlags_RowBg | ImGuiTableFlags_BordersInnerV |
                                ImGuiTableFlags_ScrollY;
  const float foot = v.left_out_text.empty() ? 0.0f : ImGui::GetTextLineHeightWithSpacing();
  if (ImGui::BeginTable(id, 5, flags, ImVec2(0, ImGui::GetContentRegionAvail().y - foot))) {
    ImGui::TableSetupScrollFreeze(0, 1);
    for (vm::Str s : {vm::Str::rank, vm::Str::agent, vm::Str::handled, vm::Str::aht,
                      vm::Str::occupancy}) {
      ImGui::TableSetupColumn(vm::text(lang, s).data(),
                              s == vm::Str::agent ? ImGuiTableColumnFlags_WidthStretch : 0);
    }
    ImGui::TableHeadersRow();
    for (const auto& r : v.rows) {
      const vm::Color c = r.greyed ? vm::palette::grey : vm::palette::text;
      ImGui::TableNextRow();
      ImGui::TableNextColumn();
      right_text(std::to_string(r.rank), r.rank <= 3 ? vm::palette::amber : c);
      ImGui::TableNextColumn();
      ImGui::TextColored(to_imvec(c), "%s", (r.site.empty() ? r.name : r.name + " · " + r.site).c_str());
      ImGui::TableNextColumn();
      right_text(r.handled_text, c);
      ImGui::TableNextColumn();
      right_text(r.aht_text, c);
      ImGui::TableNextColumn();
      right_text(r.occupancy_text, c);
    }
    if (v.rows.empty()) {
      ImGui::TableNextRow();
      ImGui::TableSetColumnIndex(1);
      ImGui::TextColored(to_imvec(vm::palette::muted), "%s",
                         vm::text(lang, vm::Str::leaderboard_empty).data());
    }
    ImGui::EndTable();
  }
  if (!v.left_out_text.empty())
    ImGui::TextColored(to_imvec(vm::palette::muted), "%s", v.left_out_text.c_str());
  ImGui::EndChild();
}

Intents draw_desktop(const vm::DesktopVM& d, const Fonts& f, vm::Lang lang, DesktopState& state) {
  Intents out;
  const ImGuiIO& io = ImGui::GetIO();
  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(io.DisplaySize);
  const ImGuiWindowFlags wf = ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove |
                              ImGuiWindowFlags_NoSavedSettings |
                              ImGuiWindowFlags_NoBringToFrontOnFocus;
  ImGui::Begin("callwatch", nullptr, wf);
  ImGui::PushFont(f.body);
  header(d, f, lang);
  ImGui::Spacing();

  ImGui::PushFont(f.medium);
  ImGui::TextUnformatted(vm::text(lang, vm::Str::queues).data());
  ImGui::PopFont();
  ImGui::SameLine();
  out.filter_changed |= filter_box("##qf", lang, state.queue_filter, sizeof state.queue_filter,
                                   260 * f.scale);
  const float avail_h = ImGui::GetContentRegionAvail().y;
  const float row_h = std::max(ImGui::GetTextLineHeight(), 22 * f.scale) +
                      ImGui::GetStyle().CellPadding.y * 2;
  const float wanted = row_h * (static_cast<float>(d.queues.size()) + 1.5f);
  queue_table(d, f, lang, std::min(wanted, avail_h * 0.5f), out);
  ImGui::Spacing();

  const float left_w = ImGui::GetContentRegionAvail().x * 0.64f;
  ImGui::BeginGroup();
  ImGui::PushFont(f.medium);
  ImGuiTabItemFlags agents_flags = 0, leaders_flags = 0;
  if (state.select_tab == 1) agents_flags = ImGuiTabItemFlags_SetSelected;
  if (state.select_tab == 2) leaders_flags = ImGuiTabItemFlags_SetSelected;
  state.select_tab = 0;
  if (ImGui::BeginTabBar("agent_tabs")) {
    if (ImGui::BeginTabItem(vm::text(lang, vm::Str::agents).data(), nullptr, agents_flags)) {
      ImGui::PopFont();
      out.filter_changed |= filter_box("##af", lang, state.agent_filter, sizeof state.agent_filter,
                                       260 * f.scale);
      const float tl_h = ImGui::GetTextLineHeightWithSpacing() * 2 + 30 * f.scale;
      agent_table(d, f, lang, ImVec2(left_w, ImGui::GetContentRegionAvail().y - tl_h), out);
      ImGui::BeginChild("timeline", ImVec2(left_w, tl_h), false);
      timeline(d.timeline, f);
      ImGui::EndChild();
      ImGui::PushFont(f.medium);
      ImGui::EndTabItem();
    }
    if (ImGui::BeginTabItem(vm::text(lang, vm::Str::leaderboard).data(), nullptr, leaders_flags)) {
      ImGui::PopFont();
      const float h = ImGui::GetContentRegionAvail().y;
      const float half = (left_w - ImGui::GetStyle().ItemSpacing.x) * 0.5f;
      leader_table("leaders_today", d.leaders_today, f, lang, ImVec2(half, h));
      ImGui::SameLine();
      leader_table("leaders_interval", d.leaders_interval, f, lang, ImVec2(half, h));
      ImGui::PushFont(f.medium);
      ImGui::EndTabItem();
    }
    ImGui::EndTabBar();
  }
  ImGui::PopFont();
  ImGui::EndGroup();
  ImGui::SameLine();
  ImGui::BeginGroup();
  ImGui::BeginChild("waiting", ImVec2(0, ImGui::GetContentRegionAvail().y * 0.45f), true);
  waiting_list(d.waiting, f, lang);
  ImGui::EndChild();
  ImGui::BeginChild("alerts", ImVec2(0, 0), true);
  broadcast_editor(d, f, lang, state, out);
  alert_list(d, f, lang, state, out);
  ImGui::EndChild();
  ImGui::EndGroup();
  ImGui::PopFont();
  ImGui::End();
  return out;
}

}  // namespace callwatch::wallboard::ui
