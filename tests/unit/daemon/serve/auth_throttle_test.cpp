// The wait before a wrong password's 401: it doubles with each failure in a row from an address,
// stops at 8 times the first, is per address, and a right password or a quiet minute ends it.
#include "serve/auth_throttle.hpp"

#include <catch2/catch.hpp>

using callwatch::daemon::AuthThrottle;
using namespace std::chrono_literals;

TEST_CASE("failures in a row from one address wait 1, 2, 4, 8, 8 times the first delay",
          "[http][auth]") {
  AuthThrottle t(250ms);
  const auto t0 = AuthThrottle::Clock::time_point{} + 1h;
  CHECK(t.failed("10.0.0.5", t0) == 250ms);
  CHECK(t.failed("10.0.0.5", t0 + 1s) == 500ms);
  CHECK(t.failed("10.0.0.5", t0 + 2s) == 1000ms);
  CHECK(t.failed("10.0.0.5", t0 + 3s) == 2000ms);
  CHECK(t.failed("10.0.0.5", t0 + 4s) == 2000ms);
  // Another address has its own streak.
  CHECK(t.failed("10.0.0.6", t0 + 4s) == 250ms);
  // 61 s after its last failure the streak is over.
  CHECK(t.failed("10.0.0.5", t0 + 65s) == 250ms);
  // A right password ends it at once.
  CHECK(t.failed("10.0.0.5", t0 + 66s) == 500ms);
  t.succeeded("10.0.0.5");
  CHECK(t.failed("10.0.0.5", t0 + 67s) == 250ms);
}

TEST_CASE("with every slot taken by recent streaks, a new address waits the longest delay",
          "[http][auth]") {
  AuthThrottle t(100ms);
  const auto t0 = AuthThrottle::Clock::time_point{} + 1h;
  for (std::size_t i = 0; i < AuthThrottle::kMaxPeers; ++i)
    t.failed("peer-" + std::to_string(i), t0);
  CHECK(t.failed("newcomer", t0 + 1s) == 800ms);
  // Once the old streaks are a minute old they make room.
  CHECK(t.failed("newcomer", t0 + 62s) == 100ms);
}

TEST_CASE("a zero delay answers at once", "[http][auth]") {
  AuthThrottle t(0ms);
  const auto t0 = AuthThrottle::Clock::time_point{} + 1h;
  CHECK(t.failed("10.0.0.5", t0) == 0ms);
  CHECK(t.failed("10.0.0.5", t0 + 1s) == 0ms);
}
