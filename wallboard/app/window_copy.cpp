#include "window_copy.hpp"

#include <cstring>

#include <GL/glx.h>
#include <GLFW/glfw3.h>

// GLFW's X11 and GLX native access (libglfw exports them); glfw3native.h would also want
// XRandR's development headers for its X11 part.
extern "C" {
Display* glfwGetX11Display(void);
GLXWindow glfwGetGLXWindow(GLFWwindow* window);
}

namespace callwatch::wallboard::app {

namespace {
using CopySubBuffer = void (*)(Display*, GLXDrawable, int, int, int, int);

CopySubBuffer copy_function(Display* dpy) {
  static const CopySubBuffer fn = [dpy]() -> CopySubBuffer {
    const char* ext = glXQueryExtensionsString(dpy, DefaultScreen(dpy));
    if (ext == nullptr || std::strstr(ext, "GLX_MESA_copy_sub_buffer") == nullptr) return nullptr;
    return reinterpret_cast<CopySubBuffer>(
        glXGetProcAddressARB(reinterpret_cast<const GLubyte*>("glXCopySubBufferMESA")));
  }();
  return fn;
}
}  // namespace

bool can_copy_to_front(GLFWwindow* window) {
  Display* dpy = glfwGetX11Display();
  return dpy != nullptr && glfwGetGLXWindow(window) != 0 && copy_function(dpy) != nullptr;
}

void copy_to_front(GLFWwindow* window, const std::vector<vm::DamageRect>& rects, int fb_h) {
  Display* dpy = glfwGetX11Display();
  const CopySubBuffer copy = copy_function(dpy);
  const GLXWindow drawable = glfwGetGLXWindow(window);
  // GLX's origin is bottom-left; each copy flushes GL first.
  for (const auto& r : rects) copy(dpy, drawable, r.x, fb_h - r.y - r.h, r.w, r.h);
}

}  // namespace callwatch::wallboard::app
