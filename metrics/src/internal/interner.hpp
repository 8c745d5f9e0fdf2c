// Names -> dense integer ids, hashed once per event; ids index plain vectors afterwards.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flat_index.hpp"

namespace callwatch::metrics::internal {

using Id = std::uint32_t;
inline constexpr Id kNoId = static_cast<Id>(-1);

class Interner {
 public:
  // Returns the id and whether the name is new.
  std::pair<Id, bool> intern(std::string_view name) {
    const std::uint64_t h = hash_key(name);
    const Id found = index_.find(name, h, [this](Id id) { return std::string_view(names_[id]); });
    if (found != FlatIndex::kEmpty) return {found, false};
    const Id id = static_cast<Id>(names_.size());
    names_.emplace_back(name);
    index_.insert(h, id);
    return {id, true};
  }
  Id find(std::string_view name) const {
    const Id found =
        index_.find(name, hash_key(name), [this](Id id) { return std::string_view(names_[id]); });
    return found == FlatIndex::kEmpty ? kNoId : found;
  }
  std::size_t size() const { return names_.size(); }
  const std::string& name(Id id) const { return names_[id]; }

 private:
  std::vector<std::string> names_;
  FlatIndex index_;
};

}  // namespace callwatch::metrics::internal
