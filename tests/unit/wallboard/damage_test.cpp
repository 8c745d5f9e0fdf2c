// The damage grid that lets the native board paint only what changed: which cells a triangle
// touches, which rectangles come out, and the cases that must repaint (first frame, resize, a
// triangle gone, the same triangles in another order). Rectangles worked out by hand on a
// 200 x 130 screen of 64-pixel cells: 4 columns (the last 8 px wide) and 3 rows (the last 2 px).
#include <catch2/catch.hpp>

#include "vm/damage.hpp"

using callwatch::wallboard::vm::DamageGrid;
using callwatch::wallboard::vm::DamageRect;

namespace {

struct Tri {
  float x0, y0, x1, y1;
  std::uint64_t hash;
};

std::vector<DamageRect> frame(DamageGrid& g, const std::vector<Tri>& tris, bool full = false,
                              std::size_t max_rects = 8, int w = 200, int h = 130) {
  g.begin(w, h);
  for (const auto& t : tris) g.add(t.x0, t.y0, t.x1, t.y1, t.hash);
  return g.end(full, max_rects);
}

const std::vector<Tri> kBase = {
    {0, 0, 200, 130, 1},   // the background, every cell
    {70, 10, 80, 20, 2},   // a glyph in cell (col 1, row 0)
    {150, 70, 160, 80, 3}, // a glyph in cell (2, 1)
};

// The base frame with more triangles after it.
std::vector<Tri> plus(std::initializer_list<Tri> extra) {
  auto t = kBase;
  t.insert(t.end(), extra);
  return t;
}

}  // namespace

TEST_CASE("damage: the first frame and a resize paint everything; the same frame paints nothing") {
  DamageGrid g(64);
  const auto first = frame(g, kBase);
  REQUIRE(first.size() == 1);
  CHECK(first[0] == DamageRect{0, 0, 200, 130});
  CHECK(g.cols() == 4);
  CHECK(g.rows() == 3);
  CHECK(frame(g, kBase).empty());
  const auto forced = frame(g, kBase, /*full=*/true);
  REQUIRE(forced.size() == 1);
  CHECK(forced[0] == DamageRect{0, 0, 200, 130});
  const auto resized = frame(g, kBase, false, 8, 256, 64);
  REQUIRE(resized.size() == 1);
  CHECK(resized[0] == DamageRect{0, 0, 256, 64});
}

TEST_CASE("damage: a changed triangle damages the cells its box touches") {
  DamageGrid g(64);
  frame(g, kBase);
  SECTION("inside one cell") {
    auto tris = kBase;
    tris[1].hash = 20;
    const auto r = frame(g, tris);
    REQUIRE(r.size() == 1);
    CHECK(r[0] == DamageRect{64, 0, 64, 64});
  }
  SECTION("across four cells: one rectangle two cells wide, two high") {
    const auto r = frame(g, plus({{60, 60, 70, 70, 9}}));
    REQUIRE(r.size() == 1);
    CHECK(r[0] == DamageRect{0, 0, 128, 128});
  }
  SECTION("a box ending on a cell's edge stays in the cell before it") {
    const auto r = frame(g, plus({{10, 10, 64, 64, 9}}));
    REQUIRE(r.size() == 1);
    CHECK(r[0] == DamageRect{0, 0, 64, 64});
  }
  SECTION("two changes far apart: two rectangles, the last cut to the screen") {
    const auto r = frame(g, plus({{5, 5, 6, 6, 9}, {195, 129, 199, 130, 9}}));
    REQUIRE(r.size() == 2);
    CHECK(r[0] == DamageRect{0, 0, 64, 64});
    CHECK(r[1] == DamageRect{192, 128, 8, 2});
  }
  SECTION("more rectangles than allowed: one per row of cells, then one box around them all") {
    // Damaged cells (0,0), (2,0) and (1,1): three rectangles, or rows 0..2 and 1..1 of cells.
    const auto tris = plus({{5, 5, 6, 6, 9}, {135, 5, 136, 6, 9}, {70, 100, 71, 101, 9}});
    CHECK(frame(g, tris, false, 8).size() == 3);
    frame(g, kBase);  // back
    const auto rows = frame(g, tris, false, 2);
    REQUIRE(rows.size() == 2);
    CHECK(rows[0] == DamageRect{0, 0, 192, 64});
    CHECK(rows[1] == DamageRect{64, 64, 64, 64});
    frame(g, kBase);
    const auto box = frame(g, tris, false, 1);
    REQUIRE(box.size() == 1);
    CHECK(box[0] == DamageRect{0, 0, 192, 128});
  }
}

TEST_CASE("damage: a triangle gone, or two in another order, repaints their cells") {
  DamageGrid g(64);
  frame(g, kBase);
  SECTION("gone") {
    const auto r = frame(g, {kBase[0], kBase[1]});
    REQUIRE(r.size() == 1);
    CHECK(r[0] == DamageRect{128, 64, 64, 64});
  }
  SECTION("order: the later one is painted over the earlier") {
    auto tris = plus({{70, 12, 78, 18, 7}});
    frame(g, tris);
    std::swap(tris[1], tris[3]);
    const auto r = frame(g, tris);
    REQUIRE(r.size() == 1);
    CHECK(r[0] == DamageRect{64, 0, 64, 64});
  }
  SECTION("off the screen or empty: nothing") {
    CHECK(frame(g, plus({{300, 10, 310, 20, 9}, {10, -30, 20, -20, 9}, {10, 10, 10, 20, 9}})).empty());
  }
}
