// "Did you mean ...?": the closest known spelling of a mistyped key, value or zone name.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace callwatch::config {

// Edit distance (insert, delete, substitute, swap of neighbours), case-insensitive on ASCII.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word` when it is near enough to be a likely typo, else nullopt.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

}  // namespace callwatch::config
