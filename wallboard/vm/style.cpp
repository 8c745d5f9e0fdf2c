#include "vm/style.hpp"

#include <cmath>
#include <cstdio>

namespace callwatch::wallboard::vm {

namespace {
// Ratios arrive as doubles (0.75 is not exact); a hair of tolerance keeps "exactly at the
// threshold" on the side a person computing by hand would put it.
constexpr double kEpsilonPoints = 1e-7;
}  // namespace

Light sl_light(std::optional<double> sl, double target) {
  if (!sl || std::isnan(*sl) || std::isnan(target)) return Light::none;
  const double gap_points = (*sl - target) * 100.0;
  if (gap_points >= -kEpsilonPoints) return Light::green;
  if (gap_points >= -kAmberBandPoints - kEpsilonPoints) return Light::amber;
  return Light::red;
}

Color light_color(Light l) {
  switch (l) {
    case Light::green: return palette::green;
    case Light::amber: return palette::amber;
    case Light::red: return palette::red;
    case Light::none: return palette::grey;
  }
  return palette::grey;
}

Color agent_state_color(metrics::AgentState s) {
  using metrics::AgentState;
  switch (s) {
    case AgentState::available: return palette::green;
    case AgentState::ringing: return palette::amber;
    case AgentState::on_call: return palette::info;
    case AgentState::wrap_up: return Color{0.55f, 0.45f, 0.85f, 1};
    case AgentState::paused: return palette::red;
    case AgentState::logged_out: return palette::grey;
  }
  return palette::grey;
}

Color greyed(Color c) {
  const float y = 0.3f * c.r + 0.59f * c.g + 0.11f * c.b;
  const float v = 0.35f + 0.3f * y;
  return Color{v, v, v, c.a};
}

std::string format_duration(double seconds) {
  if (std::isnan(seconds)) return "–";
  if (seconds < 0) seconds = 0;
  const auto total = static_cast<long long>(std::floor(seconds));
  const long long h = total / 3600, m = (total / 60) % 60, s = total % 60;
  char buf[32];
  if (h > 0) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", h, m, s);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", m, s);
  }
  return buf;
}

std::string format_percent(std::optional<double> ratio) {
  if (!ratio || std::isnan(*ratio)) return "–";
  const double pct = std::floor(*ratio * 100.0 + 1e-9);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%.0f%%", pct);
  return buf;
}

std::string format_clock(double utc, int utc_offset_seconds) {
  const auto t = static_cast<long long>(std::floor(utc)) + utc_offset_seconds;
  const long long day = ((t % 86400) + 86400) % 86400;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", day / 3600, (day / 60) % 60, day % 60);
  return buf;
}

std::string format_age(double seconds, std::string_view seconds_suffix) {
  const auto s = static_cast<long long>(std::floor(std::max(0.0, seconds)));
  char buf[48];
  if (s < 120) {
    std::snprintf(buf, sizeof buf, "%lld %.*s", s, static_cast<int>(seconds_suffix.size()),
                  seconds_suffix.data());
  } else if (s < 7200) {
    std::snprintf(buf, sizeof buf, "%lld min", s / 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lld h %lld min", s / 3600, (s / 60) % 60);
  }
  return buf;
}

std::string fill(std::string_view pattern, std::initializer_list<std::string_view> args) {
  std::string out;
  out.reserve(pattern.size() + 32);
  auto it = args.begin();
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{' && i + 1 < pattern.size() && pattern[i + 1] == '}') {
      if (it != args.end()) out.append(*it++);
      ++i;
    } else {
      out.push_back(pattern[i]);
    }
  }
  return out;
}

}  // namespace callwatch::wallboard::vm
