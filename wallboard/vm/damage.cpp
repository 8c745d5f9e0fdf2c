#include "vm/damage.hpp"

#include <algorithm>
#include <cmath>

namespace callwatch::wallboard::vm {

namespace {
constexpr std::uint64_t kEmptyCell = 0x9e3779b97f4a7c15ull;
constexpr std::uint64_t kPrime = 1099511628211ull;
}  // namespace

std::uint64_t damage_hash(const void* data, std::size_t size, std::uint64_t seed) {
  const auto* p = static_cast<const unsigned char*>(data);
  std::uint64_t h = seed;
  for (std::size_t i = 0; i < size; ++i) h = (h ^ p[i]) * kPrime;
  return h;
}

void DamageGrid::begin(int width, int height) {
  width = std::max(width, 0);
  height = std::max(height, 0);
  if (width != width_ || height != height_) resized_ = true;
  width_ = width;
  height_ = height;
  cols_ = (width + cell_ - 1) / cell_;
  rows_ = (height + cell_ - 1) / cell_;
  now_.assign(static_cast<std::size_t>(cols_) * static_cast<std::size_t>(rows_), kEmptyCell);
}

void DamageGrid::add(float x0, float y0, float x1, float y1, std::uint64_t hash) {
  if (!(x1 > x0 && y1 > y0) || cols_ == 0 || rows_ == 0) return;  // empty, or NaN
  const auto cell_of = [&](float v, int n) {
    return std::clamp(static_cast<int>(std::floor(v / static_cast<float>(cell_))), 0, n - 1);
  };
  if (x1 <= 0 || y1 <= 0 || x0 >= static_cast<float>(width_) || y0 >= static_cast<float>(height_)) return;
  const int c0 = cell_of(x0, cols_), c1 = cell_of(std::nextafter(x1, x0), cols_);
  const int r0 = cell_of(y0, rows_), r1 = cell_of(std::nextafter(y1, y0), rows_);
  for (int r = r0; r <= r1; ++r) {
    std::uint64_t* row = now_.data() + static_cast<std::size_t>(r) * static_cast<std::size_t>(cols_);
    for (int c = c0; c <= c1; ++c) row[c] = (row[c] ^ hash) * kPrime;
  }
}

std::vector<DamageRect> DamageGrid::end(bool full, std::size_t max_rects) {
  const bool all = full || resized_ || last_.size() != now_.size();
  resized_ = false;
  std::vector<DamageRect> out;
  if (cols_ == 0 || rows_ == 0) {
    last_.swap(now_);
    return out;
  }
  // Runs of damaged cells in each row; a run with the same span as one ending in the row above
  // makes that rectangle taller. Cells here, pixels at the end.
  struct Open {
    int c0, c1, r0, r1;
  };
  std::vector<Open> done, open, next;
  for (int r = 0; r < rows_; ++r) {
    next.clear();
    const std::size_t base = static_cast<std::size_t>(r) * static_cast<std::size_t>(cols_);
    for (int c = 0; c < cols_;) {
      const auto dirty = [&](int k) { return all || now_[base + k] != last_[base + k]; };
      if (!dirty(c)) {
        ++c;
        continue;
      }
      int e = c;
      while (e + 1 < cols_ && dirty(e + 1)) ++e;
      auto it = std::find_if(open.begin(), open.end(), [&](const Open& o) { return o.c0 == c && o.c1 == e; });
      if (it != open.end()) {
        it->r1 = r;
        next.push_back(*it);
        open.erase(it);
      } else {
        next.push_back(Open{c, e, r, r});
      }
      c = e + 1;
    }
    done.insert(done.end(), open.begin(), open.end());
    open.swap(next);
  }
  done.insert(done.end(), open.begin(), open.end());
  last_.swap(now_);

  const auto to_pixels = [&](int c0, int c1, int r0, int r1) {
    DamageRect d;
    d.x = c0 * cell_;
    d.y = r0 * cell_;
    d.w = std::min((c1 + 1) * cell_, width_) - d.x;
    d.h = std::min((r1 + 1) * cell_, height_) - d.y;
    return d;
  };
  if (done.size() > max_rects) {
    // Too many: one rectangle per row of cells, from its first damaged cell to its last, rows
    // of the same span joined; still too many, one box around them all.
    std::vector<Open> bands;
    for (int r = 0; r < rows_; ++r) {
      int c0 = cols_, c1 = -1;
      for (const auto& o : done) {
        if (o.r0 <= r && r <= o.r1) {
          c0 = std::min(c0, o.c0);
          c1 = std::max(c1, o.c1);
        }
      }
      if (c1 < 0) continue;
      if (!bands.empty() && bands.back().r1 == r - 1 && bands.back().c0 == c0 && bands.back().c1 == c1) {
        bands.back().r1 = r;
      } else {
        bands.push_back(Open{c0, c1, r, r});
      }
    }
    if (bands.size() > max_rects) {
      Open box{cols_, 0, rows_, 0};
      for (const auto& o : bands) {
        box.c0 = std::min(box.c0, o.c0);
        box.c1 = std::max(box.c1, o.c1);
        box.r0 = std::min(box.r0, o.r0);
        box.r1 = std::max(box.r1, o.r1);
      }
      bands.assign(1, box);
    }
    done.swap(bands);
  }
  std::sort(done.begin(), done.end(), [](const Open& a, const Open& b) {
    return a.r0 != b.r0 ? a.r0 < b.r0 : a.c0 < b.c0;
  });
  for (const auto& o : done) out.push_back(to_pixels(o.c0, o.c1, o.r0, o.r1));
  return out;
}

}  // namespace callwatch::wallboard::vm
