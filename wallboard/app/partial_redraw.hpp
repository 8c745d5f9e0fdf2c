// The native board paints only what changed (vm/damage.hpp): the frame is kept in an offscreen
// framebuffer, the damaged rectangles are cleared and painted again from ImGui's draw data (each
// command's clip cut to the rectangle), and the kept frame is copied to the window. With `check`
// every frame is also painted whole into a second buffer and the two compared pixel by pixel
// (tests: a missed damage shows as a mismatch, not as a stale tile on somebody's wall).
#pragma once

#include <cstdint>
#include <string>

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

  // Paints `dd` into the kept frame (everything when `full`) and copies it to the bound window's
  // back buffer. False when the offscreen buffer cannot be made (then it painted the window whole).
  bool present(ImDrawData* dd, int fb_w, int fb_h, bool full, vm::Color background);

  struct Stats {
    std::uint64_t frames = 0;
    std::uint64_t painted_pixels = 0;  // summed over frames
    std::uint64_t screen_pixels = 0;   // summed over frames
    std::uint64_t checked_frames = 0;
    std::uint64_t mismatched_frames = 0;
    std::string first_mismatch;  // where the first mismatching frame differed
  };
  const Stats& stats() const { return stats_; }

 private:
  bool ensure(int w, int h);
  void paint(ImDrawData* dd, const vm::DamageRect* only, int fb_h, vm::Color bg);
  void compare(int w, int h);

  bool check_;
  vm::DamageGrid grid_;
  int w_ = 0, h_ = 0;
  unsigned fbo_ = 0, rb_ = 0;              // the kept frame
  unsigned check_fbo_ = 0, check_rb_ = 0;  // check: the whole frame
  bool broken_ = false;
  Stats stats_;
};

}  // namespace callwatch::wallboard::app
