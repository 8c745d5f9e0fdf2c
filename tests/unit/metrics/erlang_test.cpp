#include <catch2/catch.hpp>

#include "callwatch/metrics/erlang.hpp"

using namespace callwatch::metrics;
using Catch::Detail::Approx;

// Reference values computed with the factorial form of Erlang C (independent of the recurrence
// under test): 100 calls in 30 minutes, AHT 180 s -> A = 100 * 180 / 1800 = 10 Erlangs, T = 20 s.
//   m=11: C=0.6821 SL=0.3896 ASA=122.78   m=12: C=0.4494 SL=0.6402 ASA=40.44
//   m=13: C=0.2853 SL=0.7956 ASA=17.12    m=14: C=0.1741 SL=0.8884 ASA=7.84
TEST_CASE("Erlang C matches the factorial form", "[metrics][erlang]") {
  const double lambda = 100.0 / 1800.0;
  struct Row { int m; double c, sl, asa; };
  for (Row r : {Row{11, 0.6821, 0.3896, 122.78}, Row{12, 0.4494, 0.6402, 40.44},
                Row{13, 0.2853, 0.7956, 17.12}, Row{14, 0.1741, 0.8884, 7.84}}) {
    const auto p = erlang_c_point(r.m, lambda, 180, 20);
    CHECK(p.p_wait == Approx(r.c).margin(0.00005));
    CHECK(p.service_level == Approx(r.sl).margin(0.00005));
    CHECK(p.asa_seconds == Approx(r.asa).margin(0.005));
    CHECK(p.occupancy == Approx(10.0 / r.m));
  }
}

TEST_CASE("agents required is the smallest m reaching the target", "[metrics][erlang]") {
  // 13 agents give 79.56 % < 80 %, 14 give 88.84 %.
  CHECK(agents_required(100.0 / 1800.0, 180, 20, 0.80) == 14);
  // 12 agents already give 64.02 % >= 60 %.
  CHECK(agents_required(100.0 / 1800.0, 180, 20, 0.60) == 12);
  CHECK(agents_required(0, 180, 20, 0.8) == 0);
  CHECK_FALSE(agents_required(-1, 180, 20, 0.8));
  CHECK_FALSE(agents_required(1, 0, 20, 0.8));
  CHECK_FALSE(agents_required(1, 180, 20, 1.0));
}

TEST_CASE("no more agents than load means everyone waits", "[metrics][erlang]") {
  CHECK(erlang_c(10, 10.0) == 1.0);
  CHECK(erlang_c(5, 10.0) == 1.0);
  const auto p = erlang_c_point(10, 10.0 / 180.0, 180, 20);
  CHECK(p.service_level == 0.0);
}

TEST_CASE("the recurrence stays finite for very large centers", "[metrics][erlang]") {
  // 2000 Erlangs: factorials overflow long before; the recurrence must not.
  const double lambda = 2000.0 / 300.0;
  const auto m = agents_required(lambda, 300, 20, 0.8);
  REQUIRE(m);
  CHECK(*m > 2000);
  CHECK(*m < 2100);  // large pools are efficient: a few % above the load
  const auto p = erlang_c_point(*m, lambda, 300, 20);
  CHECK(std::isfinite(p.p_wait));
  CHECK(p.service_level >= 0.8);
}

TEST_CASE("Erlang B known value", "[metrics][erlang]") {
  // B(2, 1) = (1/2) / (1 + 1 + 1/2) = 0.2
  CHECK(erlang_b(2, 1.0) == Approx(0.2));
}

TEST_CASE("Erlang A with endless patience is Erlang C", "[metrics][erlang]") {
  // Patience 1e7 s: nobody abandons, so the figures of the Erlang C table above come back.
  const auto p = erlang_a_point(14, 100.0 / 1800.0, 180, 20, 1e7);
  CHECK(p.p_wait == Approx(0.1741).margin(0.0005));
  CHECK(p.service_level == Approx(0.8884).margin(0.0005));
  CHECK(p.asa_seconds == Approx(7.84).margin(0.02));
}

TEST_CASE("Erlang A needs no more agents than Erlang C and copes with overload",
          "[metrics][erlang]") {
  const double lambda = 100.0 / 1800.0;
  const auto c = agents_required(lambda, 180, 20, 0.8);
  const auto a = agents_required_erlang_a(lambda, 180, 20, 0.8, 60);
  REQUIRE(c);
  REQUIRE(a);
  CHECK(*a <= *c);
  // 8 agents for 10 Erlangs: Erlang C has no steady state, Erlang A does (callers give up).
  const auto over = erlang_a_point(8, lambda, 180, 20, 60);
  CHECK(over.service_level > 0.0);
  CHECK(over.service_level < 0.8);
  CHECK(over.p_wait > 0.5);
  CHECK(over.occupancy <= 1.0);
}
