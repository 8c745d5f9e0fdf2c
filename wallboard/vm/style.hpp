// Colors, traffic lights and number formatting of the wallboard: the decisions a supervisor reads
// from across the room, kept here (no ImGui) so they are unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "callwatch/metrics/event.hpp"

namespace callwatch::wallboard::vm {

struct Color {
  float r = 0, g = 0, b = 0, a = 1;
  bool operator==(const Color&) const = default;
};

// Service level against the queue's target: met (green), within 5 percentage points below it
// (amber), further below (red); no data (a zero denominator) is grey, never a color.
enum class Light : std::uint8_t { none, green, amber, red };
inline constexpr double kAmberBandPoints = 5.0;
Light sl_light(std::optional<double> sl, double target);

namespace palette {
inline constexpr Color background{0.07f, 0.08f, 0.10f, 1};
inline constexpr Color tile{0.13f, 0.15f, 0.18f, 1};
inline constexpr Color text{0.93f, 0.94f, 0.96f, 1};
inline constexpr Color muted{0.60f, 0.63f, 0.68f, 1};
inline constexpr Color green{0.20f, 0.72f, 0.35f, 1};
inline constexpr Color amber{0.98f, 0.70f, 0.10f, 1};
inline constexpr Color red{0.90f, 0.20f, 0.20f, 1};
inline constexpr Color grey{0.45f, 0.47f, 0.50f, 1};
inline constexpr Color banner_red{0.75f, 0.08f, 0.08f, 1};
inline constexpr Color info{0.30f, 0.55f, 0.95f, 1};
}  // namespace palette

Color light_color(Light l);
Color agent_state_color(metrics::AgentState s);
// Values of a site that is disconnected are kept but drawn in grey: still readable, clearly old.
Color greyed(Color c);

// "0:42", "12:05", "1:02:03"; no value -> "–".
std::string format_duration(double seconds);
// Percent rounded down ("never look better than it is"): 0.7996 -> "79%"; no data -> "–".
std::string format_percent(std::optional<double> ratio);
// "HH:MM:SS" of a UTC instant shown at a fixed offset (seconds east of UTC).
std::string format_clock(double utc, int utc_offset_seconds);
// "12 s", "4 min", "2 h 5 min": an age for banners.
std::string format_age(double seconds, std::string_view seconds_suffix);
// Fills "{}" placeholders in order.
std::string fill(std::string_view pattern, std::initializer_list<std::string_view> args);

}  // namespace callwatch::wallboard::vm
