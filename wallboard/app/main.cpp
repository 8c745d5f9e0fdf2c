// callwatch-wallboard: GLFW window, one subscriber thread per site, and an event loop that
// sleeps in glfwWaitEventsTimeout until data changes, the user does something, or the next
// whole second (clock, ages, page rotation): an idle board costs about nothing.
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <memory>
#include <vector>

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <spdlog/spdlog.h>

#include "board_screen.hpp"
#include "callwatch/protocol/keys.hpp"
#include "feed_store.hpp"
#include "options.hpp"
#include "partial_redraw.hpp"
#include "window_copy.hpp"
#include "screenshot.hpp"
#include "subscriber.hpp"
#include "system_clock.hpp"
#include "alarm.hpp"
#include "vm/ack.hpp"
#include "vm/broadcast.hpp"

namespace cw = callwatch::wallboard;

namespace {

std::atomic<bool> g_input{false};

void on_input_cursor(GLFWwindow*, double, double) { g_input = true; }
void on_input_button(GLFWwindow*, int, int, int) { g_input = true; }
void on_input_scroll(GLFWwindow*, double, double) { g_input = true; }
void on_input_key(GLFWwindow*, int, int, int, int) { g_input = true; }
void on_input_char(GLFWwindow*, unsigned int) { g_input = true; }
void on_input_resize(GLFWwindow*, int, int) { g_input = true; }

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = cw::app::parse_options(args);
  if (!parsed) {
    std::fprintf(parsed.error().code == 0 ? stdout : stderr, "%s\n",
                 parsed.error().message.c_str());
    return parsed.error().code;
  }
  const cw::app::Options opts = *parsed;
  spdlog::set_level(spdlog::level::from_str(opts.log_level));
  const bool shot = !opts.screenshot.empty();
  cw::app::SubscriberOptions sub_opts;
  if (!opts.key_file.empty()) {
    auto pair = callwatch::protocol::load_curve_secret(opts.key_file);
    if (!pair) {
      std::fprintf(stderr, "callwatch-wallboard: --key: %s\n", pair.error().c_str());
      return 2;
    }
    auto server = callwatch::protocol::load_curve_public(opts.server_key);
    if (!server) {
      std::fprintf(stderr, "callwatch-wallboard: --server-key: %s\n", server.error().c_str());
      return 2;
    }
    sub_opts.curve_client = std::move(*pair);
    sub_opts.curve_server_public = std::move(*server);
  }

  if (glfwInit() == GLFW_FALSE) {
    std::fprintf(stderr, "callwatch-wallboard: cannot open a display (GLFW init failed)\n");
    return 1;
  }
  int width = opts.width, height = opts.height;
  GLFWmonitor* fullscreen = nullptr;
  if (width == 0) {
    if (shot) {
      width = 1920;
      height = 1080;
    } else if (opts.kiosk) {
      fullscreen = glfwGetPrimaryMonitor();
      const GLFWvidmode* mode = fullscreen ? glfwGetVideoMode(fullscreen) : nullptr;
      width = mode ? mode->width : 1920;
      height = mode ? mode->height : 1080;
    } else {
      width = 1600;
      height = 900;
    }
  }
  if (opts.kiosk) glfwWindowHint(GLFW_DECORATED, GLFW_FALSE);
  GLFWwindow* win = glfwCreateWindow(width, height, "callwatch wallboard", fullscreen, nullptr);
  if (win == nullptr) {
    std::fprintf(stderr, "callwatch-wallboard: cannot create a %dx%d OpenGL window\n", width,
                 height);
    glfwTerminate();
    return 1;
  }
  glfwMakeContextCurrent(win);
  glfwSwapInterval(shot ? 0 : 1);
  if (opts.kiosk && !shot) glfwSetInputMode(win, GLFW_CURSOR, GLFW_CURSOR_HIDDEN);
  // Ours first: ImGui's backend chains to them, so any input also wakes a redraw.
  glfwSetCursorPosCallback(win, on_input_cursor);
  glfwSetMouseButtonCallback(win, on_input_button);
  glfwSetScrollCallback(win, on_input_scroll);
  glfwSetKeyCallback(win, on_input_key);
  glfwSetCharCallback(win, on_input_char);
  glfwSetFramebufferSizeCallback(win, on_input_resize);

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui_ImplGlfw_InitForOpenGL(win, true);
  ImGui_ImplOpenGL3_Init("#version 130");

  cw::app::SystemClock clock;
  std::vector<cw::vm::SiteFeed> initial;
  for (const auto& s : opts.sites) {
    cw::vm::SiteFeed f;
    f.endpoint = s.publish;
    initial.push_back(f);
  }
  cw::app::FeedStore store(std::move(initial));
  store.set_on_change([] { glfwPostEmptyEvent(); });
  zmq::context_t ctx;
  std::vector<std::unique_ptr<cw::app::Subscriber>> subs;
  for (std::size_t i = 0; i < opts.sites.size(); ++i) {
    subs.push_back(
        std::make_unique<cw::app::Subscriber>(ctx, store, i, opts.sites[i], clock, sub_opts));
    subs.back()->start();
  }

  int fb_w = 0, fb_h = 0;
  glfwGetFramebufferSize(win, &fb_w, &fb_h);
  cw::app::BoardScreen screen(opts, fb_h, /*can_ack=*/true);

  // Only what changed is painted where the back buffer can be kept (software GL); --check-redraw
  // wants it even where it cannot.
  const bool partial = !opts.redraw_whole && cw::app::can_copy_to_front(win);
  if (!opts.redraw_whole && !partial) spdlog::info("this GL cannot copy parts of a frame: every frame is painted whole");
  if (opts.check_redraw && !partial) {
    std::fprintf(stderr, "callwatch-wallboard: --check-redraw: this GL cannot copy parts of a frame (no GLX_MESA_copy_sub_buffer)\n");
    return 3;
  }
  cw::app::PartialRedraw redraw(opts.check_redraw);
  std::uint64_t seen_generation = ~std::uint64_t{0};
  double next_tick = 0;
  double last_data_frame = 0;
  double next_shot_frame = 0;
  int extra_frames = 2;  // ImGui settles layout (table widths, fonts) over the first frames
  int frames = 0;
  int exit_code = 0;
  std::vector<cw::vm::SiteFeed> feeds;

  while (!glfwWindowShouldClose(win)) {
    double now = clock.now();
    if (shot) {
      // A steady 10 frames per second, so N frames take N/10 s whatever the data does.
      next_shot_frame = std::max(next_shot_frame + 0.1, now);
      while (now < next_shot_frame) {
        glfwWaitEventsTimeout(next_shot_frame - now);
        now = clock.now();
      }
    } else if (extra_frames > 0) {
      glfwPollEvents();
    } else {
      glfwWaitEventsTimeout(std::max(0.001, next_tick - now));
    }
    now = clock.now();
    const bool input = g_input.exchange(false);
    if (input) extra_frames = std::max(extra_frames, 3);
    const std::uint64_t gen = store.generation();
    // New data redraws at most 5 times a second: nobody reads a board faster, and under software
    // GL a 1080p frame costs ~25 ms of CPU.
    const bool data = gen != seen_generation && now - last_data_frame >= 0.2;
    if (gen != seen_generation && !data && !shot) {
      next_tick = std::min(next_tick, last_data_frame + 0.2);
    }
    const bool tick = now >= next_tick;
    if (!(shot || data || tick || extra_frames > 0)) continue;
    if (extra_frames > 0) --extra_frames;
    if (tick) next_tick = std::floor(now) + 1.0;

    if (data) {
      last_data_frame = now;
      seen_generation = gen;
      feeds = store.copy();
    }
    glfwGetFramebufferSize(win, &fb_w, &fb_h);
    if (fb_w <= 0 || fb_h <= 0) continue;  // minimized
    const auto drawn = screen.frame(feeds, data, now, fb_w, fb_h);
    std::vector<cw::vm::DamageRect> painted;
    if (partial) {
      // Every 60th frame whole, whatever the damage says: a missed change lives a minute at most
      // (and a window uncovered by another gets its whole picture back).
      painted = redraw.present(ImGui::GetDrawData(), fb_w, fb_h, drawn.new_atlas || input || frames % 60 == 0,
                               cw::vm::palette::background);
    } else {
      screen.paint_whole(fb_w, fb_h);
    }
    if (drawn.again) extra_frames = std::max(extra_frames, 1);
    if (drawn.ack) {
      // Routed to the daemon that owns the alert; plan_ack refuses again in kiosk mode.
      const auto plan = cw::vm::plan_ack(
          feeds, cw::vm::AckAsk{opts.kiosk, drawn.ack->site, drawn.ack->alert_id, opts.user,
                                drawn.ack->comment});
      if (plan) {
        subs.at(plan->site)->send_ack(plan->alert_id, plan->body);
      } else {
        spdlog::warn("ack of {} not sent: {}", drawn.ack->alert_id, plan.error());
      }
    }
    if (drawn.broadcast) {
      // To every site: each daemon's kiosks show it. plan_broadcast refuses in kiosk mode.
      const auto plans = cw::vm::plan_broadcast(
          feeds, cw::vm::BroadcastAsk{opts.kiosk, opts.user, drawn.broadcast->text, drawn.broadcast->minutes});
      if (plans) {
        for (const auto& p : *plans) subs.at(p.site)->send_control(p.body);
      } else {
        spdlog::warn("broadcast not sent: {}", plans.error());
      }
    }
    if (drawn.withdraw) {
      const auto plan = cw::vm::plan_withdraw(feeds, opts.kiosk, drawn.withdraw->site, drawn.withdraw->id, opts.user);
      if (plan) {
        subs.at(plan->site)->send_control(plan->body);
      } else {
        spdlog::warn("withdraw not sent: {}", plan.error());
      }
    }
    if (drawn.history_ask && drawn.history_ask->site < subs.size()) {
      subs.at(drawn.history_ask->site)->request_agent_history(drawn.history_ask->agent);
    }
    if (drawn.alarm_rang && !opts.alarm_command.empty()) cw::app::run_alarm_command(opts.alarm_command);
    ++frames;
    if (shot && frames >= opts.frames) {
      if (!cw::app::write_screenshot(opts.screenshot, fb_w, fb_h)) {
        std::fprintf(stderr, "callwatch-wallboard: cannot write %s\n", opts.screenshot.c_str());
        exit_code = 1;
      }
      break;
    }
    if (partial) {
      cw::app::copy_to_front(win, painted, fb_h);
    } else {
      glfwSwapBuffers(win);
    }
  }

  if (partial) {
    const auto& st = redraw.stats();
    spdlog::info("painted {:.1f}% of the screen over {} frames ({} of them whole)",
                 st.screen_pixels ? 100.0 * static_cast<double>(st.painted_pixels) / static_cast<double>(st.screen_pixels) : 0.0,
                 st.frames, st.whole_frames);
    if (opts.check_redraw) {
      std::fprintf(stderr, "callwatch-wallboard: --check-redraw: %llu of %llu frames differ from a whole repaint%s%s\n",
                   static_cast<unsigned long long>(st.mismatched_frames),
                   static_cast<unsigned long long>(st.checked_frames), st.first_mismatch.empty() ? "" : "; ",
                   st.first_mismatch.c_str());
      if (st.mismatched_frames > 0 && exit_code == 0) exit_code = 3;
    }
  }
  store.set_on_change(nullptr);
  for (auto& s : subs) s->stop();
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(win);
  glfwTerminate();
  return exit_code;
}
