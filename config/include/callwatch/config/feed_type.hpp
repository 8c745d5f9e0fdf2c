// The feed types of `[[feed]] type = "..."` (and of `callwatchd report --format`): one enum and one
// row per type saying which config keys it takes. How the daemon starts or replays each type is
// the daemon's feed registry (daemon/feeds/feed_registry.hpp), one row per type as well.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace callwatch::config {

enum class FeedType : std::uint8_t { native, queue_log, ami, esl };

// What `address` of a feed is.
enum class FeedAddress : std::uint8_t {
  zmq_endpoint,  // the daemon binds it (native; default [listen] feed)
  host_port,     // the daemon connects to the PBX (AMI, ESL; default_port when none given)
  none,          // the key does not apply
};

struct FeedTypeInfo {
  FeedType type;
  std::string_view name;       // the config and --format value (fixed: DESIGN.md)
  FeedAddress address;
  bool needs_path;             // a file to follow (queue_log)
  bool needs_credentials;      // credentials_file: the PBX asks for a login
  int default_port;            // host_port feeds
  std::string_view login_by;   // who asks for the login, for the error naming a missing file
};

// In the order error messages list them ("native", "queue_log", "ami" or "esl").
inline constexpr std::array<FeedTypeInfo, 4> kFeedTypes{{
    {FeedType::native, "native", FeedAddress::zmq_endpoint, false, false, 0, ""},
    {FeedType::queue_log, "queue_log", FeedAddress::none, true, false, 0, ""},
    {FeedType::ami, "ami", FeedAddress::host_port, false, true, 5038, "the Asterisk manager"},
    {FeedType::esl, "esl", FeedAddress::host_port, false, true, 8021, "the event socket"},
}};
static_assert(kFeedTypes.size() == static_cast<std::size_t>(FeedType::esl) + 1,
              "one kFeedTypes row per FeedType");
static_assert([] {
  for (std::size_t i = 0; i < kFeedTypes.size(); ++i) {
    if (static_cast<std::size_t>(kFeedTypes[i].type) != i) return false;
  }
  return true;
}(), "kFeedTypes rows in FeedType order");

constexpr const FeedTypeInfo& feed_type_info(FeedType t) {
  return kFeedTypes[static_cast<std::size_t>(t)];
}
constexpr std::string_view to_string(FeedType t) { return feed_type_info(t).name; }
constexpr std::optional<FeedType> feed_type_from_string(std::string_view name) {
  for (const auto& row : kFeedTypes) {
    if (row.name == name) return row.type;
  }
  return std::nullopt;
}

}  // namespace callwatch::config
