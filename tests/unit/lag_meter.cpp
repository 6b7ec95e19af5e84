#define CAF_SUITE unit.lag_meter
#include "actors/market/lag_meter.hpp"

#include "caf/test/unit_test.hpp"

using namespace athanor;
using namespace std::chrono_literals;

namespace {

lag_meter::time_point at(std::chrono::nanoseconds x) {
  return lag_meter::time_point{} + x;
}

} // namespace

CAF_TEST(feed lag is the largest receive minus event time) {
  batch b;
  b.received_at = 1'000'000'000;
  b.quotes.resize(2);
  b.quotes[0].time = 990'000'000;
  b.quotes[1].time = 950'000'000;
  b.trades.resize(1);
  b.trades[0].time = 0; // unknown: ignored
  CAF_CHECK_EQUAL(feed_lag_ns(b), 50'000'000);
  b.received_at = 0;
  CAF_CHECK_EQUAL(feed_lag_ns(b), 0);
}

CAF_TEST(crossings are reported once each way with hysteresis) {
  lag_meter m{25ms};
  using change = lag_meter::change;
  CAF_CHECK(m.record(at(0s), 10ms) == change::none);
  CAF_CHECK(m.record(at(1s), 30ms) == change::above);
  CAF_CHECK(m.record(at(2s), 40ms) == change::none);
  CAF_CHECK(m.record(at(3s), 20ms) == change::none); // not below half yet
  CAF_CHECK(m.record(at(4s), 12ms) == change::below);
  CAF_CHECK_EQUAL(m.late(), 2u);
  CAF_CHECK_EQUAL(m.last_ms(), 12.0);
  CAF_CHECK_EQUAL(m.max_ms(), 40.0);
  // A new window forgets the old maximum.
  m.record(at(15s), 5ms);
  CAF_CHECK_EQUAL(m.max_ms(), 5.0);
}
