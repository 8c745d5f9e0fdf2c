// Open-addressing index from string keys to dense ids: one probe sequence in a flat array
// instead of a node per entry, so a lookup costs one hash and usually one cache line. The keys
// themselves live with the caller (looked up by id), which keeps the slots at 8 bytes.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

namespace callwatch::metrics::internal {

inline std::uint64_t hash_key(std::string_view s) {
  // FNV-1a over 8-byte words with a final mix: fast on the short ids and names feeds send.
  std::uint64_t h = 0xcbf29ce484222325ull ^ s.size();
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    __builtin_memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 29;
  }
  std::uint64_t tail = 0;
  for (std::size_t k = 0; i < s.size(); ++i, ++k)
    tail |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[i])) << (8 * k);
  h = (h ^ tail) * 0x100000001b3ull;
  h ^= h >> 32;
  h *= 0xd6e8feb86659fd93ull;
  h ^= h >> 32;
  return h;
}

class FlatIndex {
 public:
  static constexpr std::uint32_t kEmpty = 0xffffffffu;

  // KeyOf(id) -> std::string_view of the stored key.
  template <typename KeyOf>
  std::uint32_t find(std::string_view key, std::uint64_t h, KeyOf&& key_of) const {
    if (slots_.empty()) return kEmpty;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id == kEmpty) return kEmpty;
      if (s.hash == h && key_of(s.id) == key) return s.id;
    }
  }

  // The first entry stored under hash h (for holders of a 64-bit key without its text).
  template <typename Pred>
  std::uint32_t find_hash(std::uint64_t h, Pred&& ok) const {
    if (slots_.empty()) return kEmpty;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id == kEmpty) return kEmpty;
      if (s.hash == h && ok(s.id)) return s.id;
    }
  }

  // The key must not be present.
  void insert(std::uint64_t h, std::uint32_t id) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    place(Slot{h, id});
    ++size_;
  }

  template <typename KeyOf>
  bool erase(std::string_view key, std::uint64_t h, KeyOf&& key_of) {
    if (slots_.empty()) return false;
    std::size_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.id == kEmpty) return false;
      if (s.hash == h && key_of(s.id) == key) break;
    }
    // Backward-shift deletion keeps probe sequences intact without tombstones.
    std::size_t hole = i;
    for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      const Slot& s = slots_[j];
      if (s.id == kEmpty) break;
      const std::size_t home = s.hash & mask_;
      // s may move into the hole when its home does not lie cyclically in (hole, j].
      const bool home_in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!home_in_range) {
        slots_[hole] = s;
        hole = j;
      }
    }
    slots_[hole] = Slot{};
    --size_;
    return true;
  }

  // Gives an id a new value (after the caller moved an entry, e.g. swap-remove).
  void reassign(std::uint64_t h, std::uint32_t from, std::uint32_t to) {
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].id == kEmpty) return;
      if (slots_[i].id == from) {
        slots_[i].id = to;
        return;
      }
    }
  }

  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint32_t id = kEmpty;
  };
  void place(Slot slot) {
    for (std::size_t i = slot.hash & mask_;; i = (i + 1) & mask_) {
      if (slots_[i].id == kEmpty) {
        slots_[i] = slot;
        return;
      }
    }
  }
  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 16 : old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.id != kEmpty) place(s);
  }

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace callwatch::metrics::internal
