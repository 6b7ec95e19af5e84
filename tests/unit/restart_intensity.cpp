#define CAF_SUITE unit.restart_intensity
#include "actors/resilience/restart_intensity.hpp"

#include "caf/test/unit_test.hpp"

using namespace athanor;
using namespace std::chrono_literals;

CAF_TEST(the restart after max_restarts within the period is refused) {
  restart_intensity intensity{3, 5s};
  std::chrono::steady_clock::time_point t0{};
  CAF_CHECK(intensity.record(t0));
  CAF_CHECK(intensity.record(t0 + 1s));
  CAF_CHECK(intensity.record(t0 + 2s));
  CAF_CHECK(!intensity.record(t0 + 3s));
}

CAF_TEST(restarts older than the period no longer count) {
  restart_intensity intensity{2, 5s};
  std::chrono::steady_clock::time_point t0{};
  CAF_CHECK(intensity.record(t0));
  CAF_CHECK(intensity.record(t0 + 1s));
  // Exactly one period later the first restart still counts...
  CAF_CHECK_EQUAL(intensity.within_period(t0 + 5s), 2u);
  // ...a nanosecond after that it has left the window.
  CAF_CHECK_EQUAL(intensity.within_period(t0 + 5s + 1ns), 1u);
  CAF_CHECK(intensity.record(t0 + 5s + 1ns));
  CAF_CHECK(!intensity.record(t0 + 5s + 2ns));
}
