#include "options.hpp"

#include <algorithm>
#include <cstdlib>

#include <CLI/CLI.hpp>

namespace callwatch::wallboard::app {

std::string default_control_for(const std::string& publish) {
  const auto colon = publish.rfind(':');
  if (colon == std::string::npos) return publish;
  try {
    const int port = std::stoi(publish.substr(colon + 1));
    return publish.substr(0, colon + 1) + std::to_string(port + 1);
  } catch (const std::exception&) {
    return publish;  // not a tcp port (ipc://, inproc://): the caller must pass --control
  }
}

tl::expected<Options, OptionsExit> parse_options(const std::vector<std::string>& args) {
  CLI::App app{"callwatch-wallboard: live contact-center wallboard (kiosk and desktop)",
               "callwatch-wallboard"};
  Options o;
  std::vector<std::string> connects, controls;
  std::string lang = "en", size;
  app.add_option("--connect", connects,
                 "daemon publish endpoint (repeat to merge several sites; default "
                 "tcp://127.0.0.1:7702)");
  app.add_option("--control", controls,
                 "daemon control endpoint, one per --connect in the same order (default: the "
                 "--connect port + 1)");
  app.add_flag("--kiosk", o.kiosk, "large-screen mode: full screen, read-only, pages rotate");
  app.add_option("--lang", lang, "UI language: en or zh")->check(CLI::IsMember({"en", "zh"}));
  app.add_option("--screenshot", o.screenshot, "render, write this PNG and exit (headless use)");
  app.add_option("--frames", o.frames, "frames to render before the screenshot, 10 per second")
      ->check(CLI::PositiveNumber);
  std::string redraw = "changed";
  app.add_option("--redraw", redraw,
                 "what a frame paints: changed (only the parts of the screen that changed; cheap "
                 "under software GL) or whole")
      ->check(CLI::IsMember({"changed", "whole"}));
  app.add_flag("--check-redraw", o.check_redraw,
               "test: paint every frame whole as well and compare; exit 3 if they ever differ");
  app.add_option("--size", size, "window or screenshot size WIDTHxHEIGHT (e.g. 3840x2160)");
  app.add_option("--page-seconds", o.page_seconds, "kiosk page rotation period")
      ->check(CLI::PositiveNumber);
  app.add_option("--tab", o.tab, "desktop: the tab open at start: agents (default) or leaderboard")
      ->check(CLI::IsMember({"agents", "leaderboard"}));
  app.add_flag("--leaderboard", o.leaderboard,
               "kiosk: add the agents' leaderboard as the last page of the rotation");
  app.add_flag("--leaderboard-only", o.leaderboard_only, "kiosk: show the leaderboard alone");
  app.add_option("--leaderboard-window", o.leaderboard_window,
                 "leaderboard window: today (default) or interval")
      ->check(CLI::IsMember({"today", "interval"}));
  app.add_option("--leaderboard-min-minutes", o.leaderboard_min_minutes,
                 "rank only agents logged in this long in the window (default 30 today, 5 interval)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--log-level", o.log_level, "trace|debug|info|warn|error");
  app.add_option("--user", o.user, "name shown on the alerts this desktop acknowledges (default $USER)");
  app.add_option("--key", o.key_file,
                 "CURVE: this wallboard's secret key file NAME.key (callwatchd keygen)");
  app.add_option("--server-key", o.server_key, "CURVE: the daemon's public key file NAME.pub");
  std::string caller_id;
  app.add_option("--caller-id", caller_id,
                 "caller IDs in waiting lists and calls: show, mask (last 4 characters) or hide; "
                 "default mask on a kiosk, show on a desktop")
      ->check(CLI::IsMember({"show", "mask", "hide"}));
  app.add_flag("--alarm", o.alarm,
               "kiosk: a critical alert that fires unacknowledged frames the screen in red with a "
               "banner (off by default)");
  app.add_option("--alarm-command", o.alarm_command,
                 "kiosk: with --alarm, a shell command run once per new critical alarm (a sound, "
                 "e.g. \"aplay /usr/share/sounds/alarm.wav\"); none by default");
  app.add_option("--kiosk-waiters", o.kiosk_waiters,
                 "kiosk: rows of the longest-waiting panel (0: no panel; default 8)")
      ->check(CLI::Range(0, 50));
  app.add_option("--agent", o.agent, "desktop: show this agent's day (timeline) at start");
  app.set_version_flag("--version", std::string("callwatch-wallboard ") + CALLWATCH_VERSION);

  std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 wants them reversed
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return tl::unexpected(OptionsExit{app.help(), 0});
  } catch (const CLI::CallForVersion&) {
    return tl::unexpected(OptionsExit{std::string("callwatch-wallboard ") + CALLWATCH_VERSION, 0});
  } catch (const CLI::ParseError& e) {
    return tl::unexpected(OptionsExit{e.what(), 2});
  }
  if (connects.empty()) connects.push_back("tcp://127.0.0.1:7702");
  if (controls.size() > connects.size()) {
    return tl::unexpected(OptionsExit{"more --control than --connect", 2});
  }
  for (std::size_t i = 0; i < connects.size(); ++i) {
    o.sites.push_back(SiteEndpoints{
        connects[i], i < controls.size() ? controls[i] : default_control_for(connects[i])});
  }
  o.lang = *vm::parse_lang(lang);
  o.redraw_whole = redraw == "whole";
  if (o.redraw_whole && o.check_redraw) {
    return tl::unexpected(OptionsExit{"--check-redraw checks --redraw changed", 2});
  }
  // Personal data on a screen anyone on the floor can read: masked unless asked otherwise.
  if (caller_id.empty()) caller_id = o.kiosk ? "mask" : "show";
  o.callers = caller_id == "show"   ? vm::CallerDisplay::show
              : caller_id == "hide" ? vm::CallerDisplay::hide
                                    : vm::CallerDisplay::mask;
  if (o.key_file.empty() != o.server_key.empty()) {
    return tl::unexpected(OptionsExit{"--key and --server-key go together (CURVE)", 2});
  }
  if (o.user.empty()) {
    if (const char* u = std::getenv("USER")) o.user = u;
  }
  if (!size.empty()) {
    const auto x = size.find('x');
    try {
      if (x == std::string::npos) throw std::invalid_argument("no x");
      o.width = std::stoi(size.substr(0, x));
      o.height = std::stoi(size.substr(x + 1));
    } catch (const std::exception&) {
      return tl::unexpected(OptionsExit{"--size: expected WIDTHxHEIGHT, got " + size, 2});
    }
    if (o.width < 320 || o.height < 240 || o.width > 8192 || o.height > 8192) {
      return tl::unexpected(OptionsExit{"--size: between 320x240 and 8192x8192", 2});
    }
  }
  return o;
}

}  // namespace callwatch::wallboard::app
