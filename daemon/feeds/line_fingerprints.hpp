// Memory of recently seen lines for duplicate detection, by 128-bit fingerprint: no copy of the
// line, no allocation per line. Two different lines share a fingerprint with probability ~2^-128
// per pair, far below any feed's error rate.
#pragma once

#include <cstdint>
#include <cstring>
#include <deque>
#include <string_view>
#include <vector>

namespace callwatch::daemon {

struct Fingerprint {
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  bool operator==(const Fingerprint&) const = default;
};

inline Fingerprint fingerprint(std::string_view s) {
  // Two independent multiply-xorshift streams over 8-byte words.
  std::uint64_t a = 0x9e3779b97f4a7c15ull ^ s.size(), b = 0xc2b2ae3d27d4eb4full + s.size();
  std::size_t i = 0;
  auto mix = [](std::uint64_t& h, std::uint64_t w, std::uint64_t k) {
    h = (h ^ w) * k;
    h ^= h >> 31;
  };
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    mix(a, w, 0xff51afd7ed558ccdull);
    mix(b, w, 0xc4ceb9fe1a85ec53ull);
  }
  std::uint64_t tail = 0;
  for (std::size_t k = 0; i < s.size(); ++i, ++k)
    tail |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[i])) << (8 * k);
  mix(a, tail, 0xff51afd7ed558ccdull);
  mix(b, tail, 0xc4ceb9fe1a85ec53ull);
  a ^= a >> 33;
  b ^= b >> 29;
  if (a == 0 && b == 0) a = 1;  // {0,0} marks an empty slot
  return {a, b};
}

// An open-addressing set of fingerprints with backward-shift deletion.
class FingerprintSet {
 public:
  bool contains(const Fingerprint& f) const {
    if (slots_.empty()) return false;
    for (std::size_t i = f.a & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == Fingerprint{}) return false;
      if (slots_[i] == f) return true;
    }
  }
  void insert(const Fingerprint& f) {
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    if (place(f)) ++size_;
  }
  void erase(const Fingerprint& f) {
    if (slots_.empty()) return;
    std::size_t i = f.a & mask_;
    for (;; i = (i + 1) & mask_) {
      if (slots_[i] == Fingerprint{}) return;
      if (slots_[i] == f) break;
    }
    std::size_t hole = i;
    for (std::size_t j = (i + 1) & mask_;; j = (j + 1) & mask_) {
      if (slots_[j] == Fingerprint{}) break;
      const std::size_t home = slots_[j].a & mask_;
      const bool home_in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!home_in_range) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole] = Fingerprint{};
    --size_;
  }
  std::size_t size() const { return size_; }

 private:
  bool place(const Fingerprint& f) {
    for (std::size_t i = f.a & mask_;; i = (i + 1) & mask_) {
      if (slots_[i] == f) return false;
      if (slots_[i] == Fingerprint{}) {
        slots_[i] = f;
        return true;
      }
    }
  }
  void grow() {
    std::vector<Fingerprint> old;
    old.swap(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Fingerprint{});
    mask_ = slots_.size() - 1;
    for (const auto& f : old)
      if (!(f == Fingerprint{})) place(f);
  }
  std::vector<Fingerprint> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace callwatch::daemon
