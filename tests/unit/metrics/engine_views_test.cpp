// Snapshots share the agent views that did not change (issue 14: a publish costs what changed):
// the same address as in the snapshot before while only the clock moved an agent's times, by no
// more than view_refresh_seconds; a new view when anything else changed. Times worked by hand.
#include <catch2/catch.hpp>

#include "callwatch/metrics/clock.hpp"
#include "callwatch/metrics/snapshot_codec.hpp"
#include "test_events.hpp"

using namespace callwatch::metrics;
using namespace cwtest;
using Catch::Detail::Approx;

namespace {
constexpr double t0 = 1767600000;  // 2026-01-05 08:00:00 UTC

std::size_t index_of(const Snapshot& s, const std::string& name) {
  for (std::size_t i = 0; i < s.agents.size(); ++i) {
    if (s.agents[i].name == name) return i;
  }
  FAIL("no agent " << name);
  return 0;
}
bool same_view(const Snapshot& a, const Snapshot& b, const std::string& name) {
  return a.agents.address(index_of(a, name)) == b.agents.address(index_of(b, name));
}
}  // namespace

TEST_CASE("live snapshots reuse an agent's view until it changes or its times are a refresh "
          "behind",
          "[metrics][engine][views]") {
  ManualClock clock(t0);
  EngineSettings settings;
  settings.view_refresh_seconds = 1.0;
  Engine engine(settings, &clock);
  Feed f(engine);
  f.state(t0, "ann", AgentState::available, {"sales"});
  f.state(t0, "bob", AgentState::paused, {"sales"}, "lunch");
  f.state(t0, "cy", AgentState::logged_out, {});
  const Snapshot s1 = engine.snapshot();
  REQUIRE(s1.agents.size() == 3);

  // 0.5 s later, nothing happened: every view is the one of s1 (bob's pause shows 0 s, a
  // half second behind, within the refresh).
  clock.set(t0 + 0.5);
  engine.advance_to(t0 + 0.5);
  const Snapshot s2 = engine.snapshot();
  CHECK(same_view(s1, s2, "ann"));
  CHECK(same_view(s1, s2, "bob"));
  CHECK(same_view(s1, s2, "cy"));
  CHECK(agent(s2, "bob").today.paused_seconds() == 0.0);

  // ann answers a call at t0+0.8: her view is new, the others stay.
  f.enqueue(t0 + 0.6, "c1", "sales");
  f.answer(t0 + 0.8, "c1", "sales", "ann");
  clock.set(t0 + 0.9);
  engine.advance_to(t0 + 0.9);
  const Snapshot s3 = engine.snapshot();
  CHECK_FALSE(same_view(s2, s3, "ann"));
  CHECK(agent(s3, "ann").state == AgentState::on_call);
  CHECK(agent(s3, "ann").today.answered == 1);
  CHECK(same_view(s2, s3, "bob"));
  CHECK(same_view(s2, s3, "cy"));
  // The publisher's delta from s2 to s3 carries ann alone (bob's and cy's views are the same
  // objects: not even compared).
  const auto d = wire::diff(s2, s3);
  REQUIRE(d.agents.size() == 1);
  CHECK(d.agents[0].name == "ann");

  // At t0+1.5 bob's pause has grown 1.5 s since his view (built at t0): a new view, exact:
  // 1.5 s of lunch. cy, logged out, keeps the view of s1 (her times do not grow).
  clock.set(t0 + 1.5);
  engine.advance_to(t0 + 1.5);
  const Snapshot s4 = engine.snapshot();
  CHECK_FALSE(same_view(s3, s4, "bob"));
  CHECK(agent(s4, "bob").today.paused_seconds() == Approx(1.5));
  CHECK(agent(s4, "bob").today.paused_by_reason.at("lunch") == Approx(1.5));
  CHECK(same_view(s1, s4, "cy"));
  // ann's view of t0+0.9: on the call 0.1 s then; 0.7 s now, 0.6 s behind: kept.
  CHECK(same_view(s3, s4, "ann"));

  // A snapshot someone holds never changes when another copy is written to.
  Snapshot copy = s4;
  copy.agents[index_of(copy, "cy")].pause_reason = "edited";
  CHECK(agent(s4, "cy").pause_reason.empty());
  CHECK(agent(engine.snapshot(), "cy").pause_reason.empty());
}

TEST_CASE("with no refresh allowed every time is exact and only agents whose times stand still "
          "keep their view",
          "[metrics][engine][views]") {
  Engine engine(EngineSettings{});  // replay: view_refresh_seconds 0
  Feed f(engine);
  f.state(t0, "ann", AgentState::available, {"sales"});
  f.state(t0, "cy", AgentState::logged_out, {});
  engine.advance_to(t0 + 10);
  const Snapshot s1 = engine.snapshot();
  engine.advance_to(t0 + 10.25);
  const Snapshot s2 = engine.snapshot();
  CHECK_FALSE(same_view(s1, s2, "ann"));
  CHECK(agent(s2, "ann").today.state_seconds[static_cast<int>(AgentState::available)] ==
        Approx(10.25));
  CHECK(same_view(s1, s2, "cy"));
  // Same instant, nothing new: every view is shared.
  const Snapshot s3 = engine.snapshot();
  CHECK(same_view(s2, s3, "ann"));
}
