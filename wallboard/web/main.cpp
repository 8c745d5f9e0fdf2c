// callwatch-board, the browser board: the vm/ and ui/ of callwatch-wallboard (through
// app/board_screen, with ImGui's GLFW and OpenGL3 backends on a WebGL2 canvas) fed by one
// WebSocket, GET /board/ws of the daemon that serves the page, carrying the wallboard protocol
// messages unchanged (app/site_session applies them). Nothing spins: a frame is drawn when a
// message, an input or the next whole second asks for one, so an idle board costs next to
// nothing. Read-only: no acks from the browser.
#include <emscripten.h>
#include <emscripten/html5.h>
#include <emscripten/websocket.h>

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "board_screen.hpp"
#include "feed_store.hpp"
#include "options.hpp"
#include "site_session.hpp"
#include "system_clock.hpp"

namespace cw = callwatch::wallboard;
using SteadyClock = std::chrono::steady_clock;

namespace {

constexpr std::chrono::milliseconds kSnapshotTimeout{2000};
constexpr double kBackoffMin = 0.25, kBackoffMax = 10.0;  // seconds between reconnects

struct Page {
  cw::app::Options opts;
  cw::app::SystemClock clock;
  std::string url;  // ws://HOST/board/ws
  cw::app::FeedStore store{std::vector<cw::vm::SiteFeed>(1)};
  cw::app::ProtocolCounters counters;
  std::unique_ptr<cw::app::SiteSession> session;
  EMSCRIPTEN_WEBSOCKET_T socket = 0;
  double backoff = kBackoffMin;

  GLFWwindow* win = nullptr;
  std::unique_ptr<cw::app::BoardScreen> screen;
  std::vector<cw::vm::SiteFeed> feeds;
  std::uint64_t seen_generation = ~std::uint64_t{0};
  double last_data_frame = 0;
  int extra_frames = 2;  // ImGui settles layout over the first frames
  bool frame_pending = false;
  bool data_timer_pending = false;
};

Page* g = nullptr;

void request_frame();
void connect();

EM_BOOL on_frame(double /*time*/, void* /*user*/) {
  g->frame_pending = false;
  const double now = g->clock.now();
  const std::uint64_t gen = g->store.generation();
  bool data = gen != g->seen_generation;
  // New data redraws at most 5 times a second, as on the native board: nobody reads faster.
  if (data && now - g->last_data_frame < 0.2 && g->extra_frames == 0) {
    if (!g->data_timer_pending) {
      g->data_timer_pending = true;
      emscripten_set_timeout(
          [](void*) {
            g->data_timer_pending = false;
            request_frame();
          },
          (g->last_data_frame + 0.2 - now) * 1000.0, nullptr);
    }
    data = false;
  }
  if (data) {
    g->last_data_frame = now;
    g->seen_generation = gen;
    g->feeds = g->store.copy();
  }
  int fb_w = 0, fb_h = 0;
  glfwGetFramebufferSize(g->win, &fb_w, &fb_h);
  if (fb_w <= 0 || fb_h <= 0) return EM_FALSE;
  const auto drawn = g->screen->frame(g->feeds, data, now, fb_w, fb_h);
  g->screen->paint_whole(fb_w, fb_h);  // WebGL runs on the GPU: no partial redraw
  if (g->extra_frames > 0) --g->extra_frames;
  if (drawn.again) g->extra_frames = std::max(g->extra_frames, 1);
  if (g->extra_frames > 0) request_frame();
  return EM_FALSE;  // one frame; the next is asked for
}

void request_frame() {
  if (g->frame_pending) return;
  g->frame_pending = true;
  emscripten_request_animation_frame(on_frame, nullptr);
}

// Once a second, on the second: the clock, ages and page rotation move; an unanswered snapshot
// means the daemon is gone.
void tick(void*) {
  if (g->session && g->session->snapshot_overdue(SteadyClock::now(), kSnapshotTimeout)) {
    emscripten_websocket_close(g->socket, 4000, "no snapshot");
  }
  request_frame();
  const double now = g->clock.now();
  emscripten_set_timeout(tick, (std::floor(now) + 1.0 - now) * 1000.0 + 1.0, nullptr);
}

void drop_socket() {
  if (g->session) g->session->set_connected(false);
  g->session.reset();
  if (g->socket > 0) emscripten_websocket_delete(g->socket);
  g->socket = 0;
  request_frame();
  emscripten_set_timeout([](void*) { connect(); }, g->backoff * 1000.0, nullptr);
  g->backoff = std::min(g->backoff * 2, kBackoffMax);
}

EM_BOOL on_open(int, const EmscriptenWebSocketOpenEvent*, void*) {
  g->session = std::make_unique<cw::app::SiteSession>(
      g->store, 0, g->clock, g->url, g->counters, [](const std::string& body) {
        if (g->socket > 0) emscripten_websocket_send_utf8_text(g->socket, body.c_str());
      });
  g->session->set_connected(true);
  g->session->start(/*ask=*/false);  // the daemon sends a snapshot to every new socket
  return EM_TRUE;
}

EM_BOOL on_message(int, const EmscriptenWebSocketMessageEvent* e, void*) {
  if (!g->session || !e->isText || e->numBytes == 0) return EM_TRUE;
  // Text arrives NUL-terminated, the NUL counted in numBytes.
  g->session->on_message(std::string_view(reinterpret_cast<const char*>(e->data), e->numBytes - 1));
  g->session->flush();
  if (g->session->got_snapshot()) g->backoff = kBackoffMin;
  request_frame();
  return EM_TRUE;
}

EM_BOOL on_close(int, const EmscriptenWebSocketCloseEvent*, void*) {
  drop_socket();
  return EM_TRUE;
}

EM_BOOL on_error(int, const EmscriptenWebSocketErrorEvent*, void*) {
  return EM_TRUE;  // a close event follows
}

void connect() {
  EmscriptenWebSocketCreateAttributes attrs;
  emscripten_websocket_init_create_attributes(&attrs);
  attrs.url = g->url.c_str();
  const EMSCRIPTEN_WEBSOCKET_T s = emscripten_websocket_new(&attrs);
  if (s <= 0) {
    g->socket = 0;
    drop_socket();
    return;
  }
  g->socket = s;
  emscripten_websocket_set_onopen_callback(s, nullptr, on_open);
  emscripten_websocket_set_onmessage_callback(s, nullptr, on_message);
  emscripten_websocket_set_onclose_callback(s, nullptr, on_close);
  emscripten_websocket_set_onerror_callback(s, nullptr, on_error);
}

void on_input() {
  g->extra_frames = std::max(g->extra_frames, 3);
  request_frame();
}
void on_cursor(GLFWwindow*, double, double) { on_input(); }
void on_button(GLFWwindow*, int, int, int) { on_input(); }
void on_scroll(GLFWwindow*, double, double) { on_input(); }
void on_key(GLFWwindow*, int, int, int, int) { on_input(); }
void on_char(GLFWwindow*, unsigned int) { on_input(); }

// The canvas follows the browser window, in CSS pixels.
void fit_canvas() {
  const int w = EM_ASM_INT({ return window.innerWidth; });
  const int h = EM_ASM_INT({ return window.innerHeight; });
  glfwSetWindowSize(g->win, std::max(w, 320), std::max(h, 240));
}
EM_BOOL on_resize(int, const EmscriptenUiEvent*, void*) {
  fit_canvas();
  on_input();
  return EM_FALSE;
}

// The page shows what stopped the board (options it cannot read, no WebGL2).
void show_error(const std::string& text) {
  EM_ASM({ if (Module.cwError) Module.cwError(UTF8ToString($0)); }, text.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = cw::app::parse_options(args);
  if (!parsed) {
    show_error(parsed.error().message);
    return 0;
  }
  g = new Page;  // lives as long as the page
  g->opts = *parsed;
  spdlog::set_level(spdlog::level::from_str(g->opts.log_level));
  // ws(s)://HOST/PATH/ws beside the page, as index.html worked it out.
  const int n = EM_ASM_INT({ return lengthBytesUTF8(Module.cwSocketUrl) + 1; });
  g->url.assign(static_cast<std::size_t>(n), '\0');
  EM_ASM({ stringToUTF8(Module.cwSocketUrl, $0, $1); }, g->url.data(), n);
  g->url.resize(static_cast<std::size_t>(n - 1));
  g->store.update(0, [](cw::vm::SiteFeed& f) { f.endpoint = g->url; });

  if (glfwInit() == GLFW_FALSE) {
    show_error("GLFW could not start in this browser");
    return 0;
  }
  glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  g->win = glfwCreateWindow(1280, 720, "callwatch board", nullptr, nullptr);
  if (g->win == nullptr) {
    show_error("this browser has no WebGL 2");
    return 0;
  }
  glfwMakeContextCurrent(g->win);
  fit_canvas();
  glfwSetCursorPosCallback(g->win, on_cursor);
  glfwSetMouseButtonCallback(g->win, on_button);
  glfwSetScrollCallback(g->win, on_scroll);
  glfwSetKeyCallback(g->win, on_key);
  glfwSetCharCallback(g->win, on_char);
  emscripten_set_resize_callback(EMSCRIPTEN_EVENT_TARGET_WINDOW, nullptr, EM_FALSE, on_resize);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui_ImplGlfw_InitForOpenGL(g->win, true);
  ImGui_ImplOpenGL3_Init("#version 300 es");
  int fb_w = 0, fb_h = 0;
  glfwGetFramebufferSize(g->win, &fb_w, &fb_h);
  g->screen = std::make_unique<cw::app::BoardScreen>(g->opts, fb_h, /*can_ack=*/false);
  // The font files were put in the virtual file system for FontManager::load(); read now.
  EM_ASM({ if (Module.cwStarted) Module.cwStarted(); });

  connect();
  tick(nullptr);
  return 0;  // the page keeps running on its callbacks
}
