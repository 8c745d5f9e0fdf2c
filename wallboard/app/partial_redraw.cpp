#include "partial_redraw.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

#define GL_GLEXT_PROTOTYPES
#include <GL/gl.h>
#include <GL/glext.h>
#include <backends/imgui_impl_opengl3.h>
#include <fmt/format.h>
#include <imgui.h>

namespace callwatch::wallboard::app {

namespace {

// A triangle's parts that decide its pixels, hashed together.
struct TriangleKey {
  float pos[6];
  float uv[6];
  ImU32 col[3];
  float clip[4];
  ImTextureID texture;
};

// Feeds every triangle of the frame to the grid, in drawing order. False if the frame holds a
// user callback (its pixels are not in the vertices: the frame is painted whole).
bool feed(vm::DamageGrid& grid, const ImDrawData* dd) {
  const ImVec2 off = dd->DisplayPos, scale = dd->FramebufferScale;
  for (int n = 0; n < dd->CmdListsCount; ++n) {
    const ImDrawList* list = dd->CmdLists[n];
    for (const ImDrawCmd& cmd : list->CmdBuffer) {
      if (cmd.UserCallback != nullptr) return false;
      const float cx0 = (cmd.ClipRect.x - off.x) * scale.x, cy0 = (cmd.ClipRect.y - off.y) * scale.y;
      const float cx1 = (cmd.ClipRect.z - off.x) * scale.x, cy1 = (cmd.ClipRect.w - off.y) * scale.y;
      TriangleKey key{};
      key.clip[0] = cx0;
      key.clip[1] = cy0;
      key.clip[2] = cx1;
      key.clip[3] = cy1;
      key.texture = cmd.TextureId;
      for (unsigned i = 0; i + 2 < cmd.ElemCount; i += 3) {
        float x0 = 1e30f, y0 = 1e30f, x1 = -1e30f, y1 = -1e30f;
        for (int k = 0; k < 3; ++k) {
          const ImDrawVert& v = list->VtxBuffer[static_cast<int>(cmd.VtxOffset + list->IdxBuffer[static_cast<int>(cmd.IdxOffset + i + k)])];
          const float x = (v.pos.x - off.x) * scale.x, y = (v.pos.y - off.y) * scale.y;
          key.pos[2 * k] = x;
          key.pos[2 * k + 1] = y;
          key.uv[2 * k] = v.uv.x;
          key.uv[2 * k + 1] = v.uv.y;
          key.col[k] = v.col;
          x0 = std::min(x0, x);
          y0 = std::min(y0, y);
          x1 = std::max(x1, x);
          y1 = std::max(y1, y);
        }
        // A pixel is painted when its centre is inside: one pixel of margin covers the rounding.
        grid.add(std::max(x0 - 1, cx0 - 1), std::max(y0 - 1, cy0 - 1), std::min(x1 + 1, cx1 + 1), std::min(y1 + 1, cy1 + 1),
                 vm::damage_hash(&key, sizeof key));
      }
    }
  }
  return true;
}

bool make_target(unsigned& fbo, unsigned& rb, int w, int h) {
  if (fbo == 0) glGenFramebuffers(1, &fbo);
  if (rb == 0) glGenRenderbuffers(1, &rb);
  glBindRenderbuffer(GL_RENDERBUFFER, rb);
  glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, w, h);
  glBindRenderbuffer(GL_RENDERBUFFER, 0);
  glBindFramebuffer(GL_FRAMEBUFFER, fbo);
  glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, rb);
  const bool ok = glCheckFramebufferStatus(GL_FRAMEBUFFER) == GL_FRAMEBUFFER_COMPLETE;
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  return ok;
}

void drop_target(unsigned& fbo, unsigned& rb) {
  if (fbo != 0) glDeleteFramebuffers(1, &fbo);
  if (rb != 0) glDeleteRenderbuffers(1, &rb);
  fbo = rb = 0;
}

}  // namespace

PartialRedraw::~PartialRedraw() { drop_target(check_fbo_, check_rb_); }

// Clears and paints the frame, or only the rectangle `only`, into the bound framebuffer.
void PartialRedraw::paint(ImDrawData* dd, const vm::DamageRect* only, int fb_h, vm::Color bg) {
  glClearColor(bg.r, bg.g, bg.b, 1.0f);
  if (only == nullptr) {
    glDisable(GL_SCISSOR_TEST);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(dd);
    return;
  }
  glEnable(GL_SCISSOR_TEST);
  glScissor(only->x, fb_h - only->y - only->h, only->w, only->h);
  glClear(GL_COLOR_BUFFER_BIT);
  glDisable(GL_SCISSOR_TEST);
  // Each command's scissor box as the backend makes it (truncated to whole pixels), cut to the
  // rectangle and given back as a clip of whole pixels, so the pixels inside are exactly those a
  // whole frame paints; put back after.
  const ImVec2 off = dd->DisplayPos, scale = dd->FramebufferScale;
  const auto fh = static_cast<float>(fb_h);
  std::vector<ImVec4> saved;
  for (int n = 0; n < dd->CmdListsCount; ++n) {
    for (ImDrawCmd& cmd : dd->CmdLists[n]->CmdBuffer) {
      saved.push_back(cmd.ClipRect);
      const float mx0 = (cmd.ClipRect.x - off.x) * scale.x, my0 = (cmd.ClipRect.y - off.y) * scale.y;
      const float mx1 = (cmd.ClipRect.z - off.x) * scale.x, my1 = (cmd.ClipRect.w - off.y) * scale.y;
      // GL box (bottom-left origin) as the backend computes it, then in top-left rows.
      const int gx = static_cast<int>(mx0), gw = static_cast<int>(mx1 - mx0);
      const int gy = static_cast<int>(fh - my1), gh = static_cast<int>(my1 - my0);
      const int top = fb_h - gy - gh;
      const int x0 = std::max(gx, only->x), x1 = std::min(gx + gw, only->x + only->w);
      const int y0 = std::max(top, only->y), y1 = std::min(top + gh, only->y + only->h);
      if (x1 <= x0 || y1 <= y0 || gw <= 0 || gh <= 0) {
        cmd.ClipRect = ImVec4(0, 0, 0, 0);  // nothing of it in the rectangle: skipped
        continue;
      }
      cmd.ClipRect = ImVec4(static_cast<float>(x0) / scale.x + off.x, static_cast<float>(y0) / scale.y + off.y,
                            static_cast<float>(x1) / scale.x + off.x, static_cast<float>(y1) / scale.y + off.y);
    }
  }
  ImGui_ImplOpenGL3_RenderDrawData(dd);
  std::size_t k = 0;
  for (int n = 0; n < dd->CmdListsCount; ++n) {
    for (ImDrawCmd& cmd : dd->CmdLists[n]->CmdBuffer) cmd.ClipRect = saved[k++];
  }
}

std::vector<vm::DamageRect> PartialRedraw::present(ImDrawData* dd, int fb_w, int fb_h, bool full, vm::Color bg) {
  glViewport(0, 0, fb_w, fb_h);
  grid_.begin(fb_w, fb_h);
  const bool fed = feed(grid_, dd);
  auto rects = grid_.end(full || !fed);
  const vm::DamageRect screen{0, 0, fb_w, fb_h};
  ++stats_.frames;
  stats_.screen_pixels += static_cast<std::uint64_t>(fb_w) * static_cast<std::uint64_t>(fb_h);
  if (rects.size() == 1 && rects[0] == screen) {
    paint(dd, nullptr, fb_h, bg);
    ++stats_.whole_frames;
  } else {
    for (const auto& r : rects) paint(dd, &r, fb_h, bg);
  }
  for (const auto& r : rects) stats_.painted_pixels += static_cast<std::uint64_t>(r.w) * static_cast<std::uint64_t>(r.h);
  glDisable(GL_SCISSOR_TEST);
  if (check_) check_against_whole(dd, fb_w, fb_h, bg);
  return rects;
}

void PartialRedraw::check_against_whole(ImDrawData* dd, int w, int h, vm::Color bg) {
  if (w != check_w_ || h != check_h_ || check_fbo_ == 0) {
    if (!make_target(check_fbo_, check_rb_, w, h)) return;
    check_w_ = w;
    check_h_ = h;
  }
  glBindFramebuffer(GL_FRAMEBUFFER, check_fbo_);
  paint(dd, nullptr, h, bg);
  glBindFramebuffer(GL_FRAMEBUFFER, 0);
  const std::size_t n = static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 4;
  std::vector<unsigned char> kept(n), whole(n);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, kept.data());
  glBindFramebuffer(GL_READ_FRAMEBUFFER, check_fbo_);
  glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE, whole.data());
  glBindFramebuffer(GL_READ_FRAMEBUFFER, 0);
  glReadBuffer(GL_BACK);
  ++stats_.checked_frames;
  // Colour only (the window's buffer may have no alpha channel: it reads as 255), and a step of
  // rounding allowed: llvmpipe blends into the window's BGRX and the check's RGBA a little apart.
  // A missed change differs by far more (a stale number, a tile of another colour).
  const auto apart = [&](std::size_t i) {
    for (std::size_t c = 0; c < 3; ++c) {
      if (std::abs(static_cast<int>(kept[i + c]) - static_cast<int>(whole[i + c])) > 2) return true;
    }
    return false;
  };
  std::size_t count = 0, first = n;
  for (std::size_t i = 0; i < n; i += 4) {
    if (apart(i)) {
      if (first == n) first = i / 4;
      ++count;
    }
  }
  if (count == 0) return;
  ++stats_.mismatched_frames;
  if (!stats_.first_mismatch.empty()) return;
  const auto x = static_cast<int>(first % static_cast<std::size_t>(w));
  const auto y = h - 1 - static_cast<int>(first / static_cast<std::size_t>(w));  // top-left origin
  stats_.first_mismatch = fmt::format("frame {}: {} pixels differ, the first at ({}, {})", stats_.frames, count, x, y);
}

}  // namespace callwatch::wallboard::app
