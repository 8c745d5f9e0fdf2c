// Copying parts of the window's back buffer to the screen without a swap (GLX_MESA_copy_sub_buffer),
// so the back buffer keeps the last frame and a frame paints only what changed (partial_redraw.hpp).
// Kept apart from main.cpp: X11's headers define macros (None, Bool, Status) that clash with
// everything else.
#pragma once

#include <vector>

#include "vm/damage.hpp"

struct GLFWwindow;

namespace callwatch::wallboard::app {

// The window's GL can copy parts of its back buffer to the screen (checked once).
bool can_copy_to_front(GLFWwindow* window);
// Copies the rectangles (top-left origin, pixels) of the back buffer to the screen.
void copy_to_front(GLFWwindow* window, const std::vector<vm::DamageRect>& rects, int fb_h);

}  // namespace callwatch::wallboard::app
