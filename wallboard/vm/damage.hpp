// Which parts of the screen a frame changes. A wallboard redraws once a second for its clock and
// ages, but most of the picture is the same as a second ago; under software GL (a kiosk PC with
// no GPU, Xvfb) painting the whole 1080p screen costs ~35 ms of CPU a frame. The screen is cut in
// square cells; every triangle of a frame adds its hash (vertices, texture, clip) to each cell its
// box touches, in drawing order; a cell whose sum differs from the last frame's is damaged, and
// only the damaged rectangles are painted again. No UI library here: the app feeds the triangles.
#pragma once

#include <cstdint>
#include <vector>

namespace callwatch::wallboard::vm {

struct DamageRect {
  int x = 0, y = 0, w = 0, h = 0;  // pixels, top-left origin
  friend bool operator==(const DamageRect&, const DamageRect&) = default;
};

class DamageGrid {
 public:
  explicit DamageGrid(int cell = 64) : cell_(cell) {}

  // A new frame of width x height pixels. A size other than the last frame's damages everything.
  void begin(int width, int height);
  // One triangle: its box (pixels, already cut to its clip rect) and a hash of what it paints.
  void add(float x0, float y0, float x1, float y1, std::uint64_t hash);
  // The damaged rectangles of this frame against the last one (whole cells, cut to the screen;
  // runs of cells merged across and down; at most max_rects: beyond that, one per row of cells
  // from its first damaged cell to its last, and beyond that one box around them all). `full`:
  // everything (a new font atlas, the first frame). This frame becomes the last.
  std::vector<DamageRect> end(bool full, std::size_t max_rects = 24);

  int cols() const { return cols_; }
  int rows() const { return rows_; }

 private:
  int cell_;
  int width_ = 0, height_ = 0, cols_ = 0, rows_ = 0;
  bool resized_ = true;
  std::vector<std::uint64_t> now_, last_;
};

// A triangle's hash from its parts (FNV-1a over the bytes given, in order).
std::uint64_t damage_hash(const void* data, std::size_t size, std::uint64_t seed = 14695981039346656037ull);

}  // namespace callwatch::wallboard::vm
