// Names -> dense integer ids, hashed once per event; ids index plain vectors afterwards.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>

namespace callwatch::metrics::internal {

using Id = std::uint32_t;
inline constexpr Id kNoId = static_cast<Id>(-1);

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class Interner {
 public:
  // Returns the id and whether the name is new.
  std::pair<Id, bool> intern(std::string_view name) {
    auto it = ids_.find(name);
    if (it != ids_.end()) return {it->second, false};
    const Id id = static_cast<Id>(ids_.size());
    ids_.emplace(std::string(name), id);
    return {id, true};
  }
  Id find(std::string_view name) const {
    auto it = ids_.find(name);
    return it == ids_.end() ? kNoId : it->second;
  }
  std::size_t size() const { return ids_.size(); }

 private:
  std::unordered_map<std::string, Id, StringHash, std::equal_to<>> ids_;
};

}  // namespace callwatch::metrics::internal
