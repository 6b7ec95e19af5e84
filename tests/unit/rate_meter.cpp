#define CAF_SUITE unit.rate_meter
#include "actors/market/rate_meter.hpp"

#include "caf/test/unit_test.hpp"

using namespace athanor;
using namespace std::chrono_literals;

namespace {

rate_meter::time_point at(std::chrono::milliseconds x) {
  return rate_meter::time_point{} + x;
}

} // namespace

CAF_TEST(nothing recorded is zero and a partial first second is not a rate) {
  rate_meter m;
  CAF_CHECK_EQUAL(m.per_second(at(5000ms)), 0.0);
  m.record(at(200ms), 100);
  m.record(at(700ms), 100);
  CAF_CHECK_EQUAL(m.per_second(at(900ms)), 0.0);
  CAF_CHECK_EQUAL(m.per_second(at(1000ms)), 200.0);
  m.record(at(1500ms), 50);
  // The running second does not count until it is over.
  CAF_CHECK_EQUAL(m.per_second(at(1900ms)), 200.0);
  CAF_CHECK_EQUAL(m.per_second(at(2000ms)), 125.0);
}

CAF_TEST(a steady stream reads as its rate over the window) {
  rate_meter m;
  for (int ms = 0; ms < 10'000; ms += 10)
    m.record(at(std::chrono::milliseconds{ms}), 10);
  CAF_CHECK_EQUAL(m.per_second(at(10'000ms)), 1000.0);
  // Twice as fast for the last two seconds: (3 * 1000 + 2 * 2000) / 5.
  for (int ms = 10'000; ms < 12'000; ms += 10)
    m.record(at(std::chrono::milliseconds{ms}), 20);
  CAF_CHECK_EQUAL(m.per_second(at(12'000ms)), 1400.0);
}

CAF_TEST(silence drains the rate to zero within the window) {
  rate_meter m;
  for (int ms = 0; ms < 6000; ms += 100)
    m.record(at(std::chrono::milliseconds{ms}), 100);
  CAF_CHECK_EQUAL(m.per_second(at(6000ms)), 1000.0);
  // No records since second 5: two silent seconds out of five.
  CAF_CHECK_EQUAL(m.per_second(at(8000ms)), 600.0);
  CAF_CHECK_EQUAL(m.per_second(at(11'000ms)), 0.0);
  CAF_CHECK_EQUAL(m.per_second(at(60'000ms)), 0.0);
  // A burst after a long silence counts once its second is over.
  m.record(at(60'500ms), 30);
  CAF_CHECK_EQUAL(m.per_second(at(61'000ms)), 6.0);
}
