#define CAF_SUITE unit.rate_limiter
#include "actors/trading/rate_limiter.hpp"

#include "caf/test/unit_test.hpp"

using namespace athanor;
using namespace std::chrono_literals;

namespace {

using time_point = rate_limiter::time_point;

time_point at(std::chrono::nanoseconds x) {
  return time_point{} + x;
}

} // namespace

CAF_TEST(requests go until the minute is full then wait for the oldest) {
  rate_limiter limiter{3};
  CAF_CHECK_EQUAL(limiter.acquire(at(0s)).count(), 0);
  CAF_CHECK_EQUAL(limiter.acquire(at(10s)).count(), 0);
  CAF_CHECK_EQUAL(limiter.acquire(at(20s)).count(), 0);
  CAF_CHECK(limiter.acquire(at(30s)) == 30s);
  CAF_CHECK_EQUAL(limiter.in_window(at(30s)), 3u);
  CAF_CHECK_EQUAL(limiter.acquire(at(60s)).count(), 0);
  CAF_CHECK(limiter.acquire(at(61s)) == 9s);
}

CAF_TEST(zero per minute counts nothing but the server still rules) {
  rate_limiter limiter{0};
  for (int i = 0; i < 1000; ++i)
    CAF_REQUIRE_EQUAL(limiter.acquire(at(0s)).count(), 0);
  limiter.throttled(at(0s), 5s);
  CAF_CHECK(limiter.blocked(at(4s)));
  CAF_CHECK(limiter.acquire(at(1s)) == 4s);
  CAF_CHECK_EQUAL(limiter.acquire(at(5s)).count(), 0);
}

CAF_TEST(remaining zero blocks until the reset and is capped at a minute) {
  rate_limiter limiter{200};
  limiter.observe(at(0s), 5, 30s);
  CAF_CHECK(!limiter.blocked(at(0s)));
  limiter.observe(at(0s), 0, 30s);
  CAF_CHECK(limiter.acquire(at(10s)) == 20s);
  limiter.observe(at(40s), 0, 1h);
  CAF_CHECK(limiter.acquire(at(40s)) == 60s);
  // A reset in the past (clock skew) does not block.
  rate_limiter skewed{200};
  skewed.observe(at(0s), 0, -5s);
  CAF_CHECK_EQUAL(skewed.acquire(at(0s)).count(), 0);
}

CAF_TEST(a retry after of zero still waits a second) {
  rate_limiter limiter{200};
  limiter.throttled(at(0s), 0s);
  CAF_CHECK(limiter.acquire(at(0s)) == 1s);
}
