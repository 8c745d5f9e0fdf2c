// What the config tests share: a text that must parse, and one that must not (with its errors
// shown when a check fails).
#pragma once

#include <catch2/catch.hpp>
#include <string_view>
#include <vector>

#include "callwatch/config/config.hpp"

namespace cwtest {

inline callwatch::config::Config parse_ok(std::string_view text) {
  auto r = callwatch::config::parse_config(text, "test.toml");
  if (!r) {
    for (const auto& e : r.error()) UNSCOPED_INFO(e.to_string());
  }
  REQUIRE(r.has_value());
  return *r;
}

inline std::vector<callwatch::config::ConfigError> errors_of(std::string_view text) {
  auto r = callwatch::config::parse_config(text, "test.toml");
  REQUIRE_FALSE(r.has_value());
  for (const auto& e : r.error()) UNSCOPED_INFO(e.to_string());
  return r.error();
}

}  // namespace cwtest
