// The native board paints only what changed (vm/damage.hpp) where the window's back buffer is
// kept from frame to frame: with GLX_MESA_copy_sub_buffer (Mesa's software GL, the kiosk PC with no
// GPU, Xvfb) the back buffer is never swapped; the damaged rectangles are cleared and painted
// again from ImGui's draw data, each command's clip cut to the rectangle, and only they are
// copied to the screen. Elsewhere (a GPU, where painting is cheap) every frame is painted whole
// and swapped. Tried first and dropped: a kept offscreen frame copied whole to the window each
// frame: under llvmpipe that copy of 1080p cost as much as the painting it saved. With `check`
// every frame is also painted whole into an offscreen buffer and the two compared pixel by pixel
// (tests: a missed damage shows as a mismatch, not as a stale tile on somebody's wall).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "vm/damage.hpp"
#include "vm/style.hpp"

struct ImDrawData;

namespace callwatch::wallboard::app {

class PartialRedraw {
 public:
  explicit PartialRedraw(bool check) : check_(check) {}
  ~PartialRedraw();
  PartialRedraw(const PartialRedraw&) = delete;
  PartialRedraw& operator=(const PartialRedraw&) = delete;

  // Paints `dd` on the bound window's back buffer, which must still hold the last frame (it is
  // never swapped), and returns the rectangles painted: only what changed since the last frame,
  // or (when `full`) the whole screen as one rectangle.
  std::vector<vm::DamageRect> present(ImDrawData* dd, int fb_w, int fb_h, bool full, vm::Color background);

  struct Stats {
    std::uint64_t frames = 0;
    std::uint64_t painted_pixels = 0;  // summed over frames
    std::uint64_t screen_pixels = 0;   // summed over frames
    std::uint64_t whole_frames = 0;    // painted whole (full, a new size)
    std::uint64_t checked_frames = 0;
    std::uint64_t mismatched_frames = 0;
    std::string first_mismatch;  // where the first mismatching frame differed
  };
  const Stats& stats() const { return stats_; }

 private:
  void paint(ImDrawData* dd, const vm::DamageRect* only, int fb_h, vm::Color bg);
  void check_against_whole(ImDrawData* dd, int w, int h, vm::Color bg);

  bool check_;
  vm::DamageGrid grid_;
  int check_w_ = 0, check_h_ = 0;
  unsigned check_fbo_ = 0, check_rb_ = 0;  // check: the whole frame
  Stats stats_;
};

}  // namespace callwatch::wallboard::app
