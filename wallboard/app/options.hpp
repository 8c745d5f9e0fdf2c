// callwatch-wallboard's command line (DESIGN.md flags), parsed from an argv vector so tests can
// check it without starting a window.
#pragma once

#include <string>
#include <vector>

#include <tl/expected.hpp>

#include "vm/board.hpp"
#include "vm/strings.hpp"

namespace callwatch::wallboard::app {

struct SiteEndpoints {
  std::string publish;  // XPUB of the daemon (--connect)
  std::string control;  // ROUTER of the daemon (--control)
};

struct Options {
  std::vector<SiteEndpoints> sites;  // one per --connect, in order
  bool kiosk = false;
  vm::Lang lang = vm::Lang::en;
  std::string screenshot;  // PNG path: render, write, exit
  int frames = 30;         // frames rendered before the screenshot (10 per second)
  int width = 0;           // 0: 1920x1080 for screenshots, the monitor for kiosk, 1600x900 else
  int height = 0;
  double page_seconds = 10;
  std::string tab = "agents";     // desktop: the tab open at start (agents | leaderboard)
  bool leaderboard = false;       // kiosk: the leaderboard page joins the rotation
  bool leaderboard_only = false;  // kiosk: a screen for the leaderboard alone
  std::string leaderboard_window = "today";  // today | interval
  double leaderboard_min_minutes = -1;       // logged in at least this long; <0: the default
  std::string log_level = "warn";
  std::string user;        // who acks (desktop): --user, else $USER
  std::string key_file;    // --key: this wallboard's CURVE secret key file (NAME.key)
  std::string server_key;  // --server-key: the daemon's public key file (NAME.pub)
  vm::CallerDisplay callers = vm::CallerDisplay::show;  // --caller-id (kiosk default: mask)
  bool alarm = false;         // --alarm (kiosk)
  std::string alarm_command;  // --alarm-command: run once per new critical alarm
  int kiosk_waiters = 8;      // --kiosk-waiters
  std::string agent;          // --agent: desktop, the agent whose day is shown at start
  bool redraw_whole = false;  // --redraw whole: every frame paints the whole screen
  bool check_redraw = false;  // --check-redraw: compare each changed-parts frame with a whole one
};

struct OptionsExit {
  std::string message;  // help text or the error
  int code = 2;         // 0 for --help / --version
};

tl::expected<Options, OptionsExit> parse_options(const std::vector<std::string>& args);
// The control endpoint paired with a publish endpoint by default: same host, next port
// (7702 -> 7703), as the daemon's defaults are.
std::string default_control_for(const std::string& publish);

}  // namespace callwatch::wallboard::app
