#include <catch2/catch.hpp>

#include "test_events.hpp"

using namespace callwatch::metrics;
using namespace cwtest;
using Catch::Detail::Approx;

namespace {
constexpr double t0 = 1767600000;

void first_half(Feed& f) {
  f.state(t0, "王芳", AgentState::available, {"销售", "billing"});
  f.state(t0, "Ana Prueba", AgentState::available, {"billing"});
  f.enqueue(t0 + 1, "1767600000.1", "销售");
  f.enqueue(t0 + 2, "1767600000.10", "billing");
  f.answer(t0 + 12, "1767600000.1", "销售", "王芳");
  f.state(t0 + 30, "Ana Prueba", AgentState::paused, {}, "培训 training");
  f.enqueue(t0 + 40, "c3", "销售");
}
void second_half(Feed& f) {
  f.end(t0 + 1100, "1767600000.1", "王芳");                        // talk 1088
  f.answer(t0 + 1150, "1767600000.10", "billing", "王芳");         // wait 1148 across intervals
  f.abandon(t0 + 1200, "c3", "销售");                              // wait 1160
  f.state(t0 + 1300, "Ana Prueba", AgentState::available, {});
}
}  // namespace

TEST_CASE("state survives serialize and restore: the stream continues as if uninterrupted",
          "[metrics][engine][state]") {
  Engine whole(EngineSettings{});
  Feed fw(whole);
  first_half(fw);
  second_half(fw);
  whole.finish(t0 + 1400);

  Engine before(EngineSettings{});
  Feed fb(before);
  first_half(fb);
  const std::string state = before.serialize();

  Engine after(EngineSettings{});
  REQUIRE(after.restore(state));
  CHECK(after.serialize() == state);  // exact round trip
  Feed fa(after);
  second_half(fa);
  after.finish(t0 + 1400);

  const auto a = after.snapshot();
  CHECK(agent(whole.snapshot(), "Ana Prueba").today.paused_by_reason.at("培训 training") == Approx(1270));
  const auto w = whole.snapshot();
  REQUIRE(a.queues.size() == w.queues.size());
  for (std::size_t i = 0; i < a.queues.size(); ++i) {
    const auto& qa = a.queues[i];
    const auto& qw = w.queues[i];
    CHECK(qa.name == qw.name);
    CHECK(today(qa).offered() == today(qw).offered());
    CHECK(today(qa).answered_within_sl == today(qw).answered_within_sl);
    CHECK(today(qa).answer_wait_sum == Approx(today(qw).answer_wait_sum));
    CHECK(today(qa).handle_sum == Approx(today(qw).handle_sum));
    CHECK(qa.total.offered() == qw.total.offered());
    CHECK(qa.calls_waiting == qw.calls_waiting);
    CHECK(qa.answer_wait.count == qw.answer_wait.count);
  }
  // Hand-worked: 销售 answered 1 (wait 11) + abandoned 1 (wait 1160) = offered 2.
  CHECK(today(queue(a, "销售")).offered() == 2);
  CHECK(today(queue(a, "billing")).answered == 1);
  CHECK(today(queue(a, "billing")).answer_wait_sum == Approx(1148));
  // Ana paused 30..1300 = 1270 s, all with the reason "培训 training".
  CHECK(agent(a, "Ana Prueba").today.paused_by_reason.at("培训 training") == Approx(1270));
  CHECK(agent(a, "王芳").today.talk_seconds == Approx(1088));
  CHECK(after.closed_intervals().size() == whole.closed_intervals().size());
}

TEST_CASE("a corrupt state is refused and leaves the engine as it was", "[metrics][engine][state]") {
  Engine e(EngineSettings{});
  Feed f(e);
  first_half(f);
  const std::string good = e.serialize();
  Engine other(EngineSettings{});
  CHECK_FALSE(other.restore("not a state"));
  CHECK_FALSE(other.restore(good.substr(0, good.size() / 2)));
  CHECK_FALSE(other.restore(""));
  CHECK(other.snapshot().queues.empty());
}

TEST_CASE("a recorded gap flags today's numbers", "[metrics][engine][state]") {
  Engine e(EngineSettings{});
  Feed f(e);
  first_half(f);
  e.note_gap(t0 + 50, t0 + 400);
  const auto s = e.snapshot();
  CHECK(s.data_quality.gap);
  CHECK(queue(s, "销售").data_gap);
  CHECK(s.data_quality.warning_counts.at("gap") == 1);
}
