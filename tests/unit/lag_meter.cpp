#define CAF_SUITE unit.lag_meter
#include "actors/market/lag_meter.hpp"

#include "observability/latency_histogram.hpp"

#include "caf/test/unit_test.hpp"

#include <cmath>

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
  CAF_CHECK_EQUAL(m.last_seconds(), 0.012);
  CAF_CHECK_EQUAL(m.max_seconds(), 0.040);
  // A new window forgets the old maximum.
  m.record(at(15s), 5ms);
  CAF_CHECK_EQUAL(m.max_seconds(), 0.005);
}

CAF_TEST(the histogram counts each lag in its bucket and cumulates) {
  latency_histogram h;
  h.observe(300us);   // <= 0.0005
  h.observe(1ms);     // <= 0.001 (a bound is inclusive)
  h.observe(70ms);    // <= 0.1
  h.observe(-5ms);    // clock skew: counted as zero
  h.observe(2min);    // above every bound
  CAF_CHECK_EQUAL(h.at_or_below(0), 2u);
  CAF_CHECK_EQUAL(h.at_or_below(1), 3u);
  CAF_CHECK_EQUAL(h.at_or_below(6), 3u); // <= 0.05
  CAF_CHECK_EQUAL(h.at_or_below(7), 4u); // <= 0.1
  CAF_CHECK_EQUAL(h.at_or_below(latency_histogram::bounds.size() - 1), 4u);
  CAF_CHECK_EQUAL(h.at_or_below(latency_histogram::bounds.size()), 5u);
  CAF_CHECK_EQUAL(h.count(), 5u);
  CAF_CHECK_LESS(std::abs(h.sum_seconds() - 120.0713), 1e-9);
  metric_samples xs;
  h.append_to(xs, "athanor_x_seconds", {{"k", "v"}});
  CAF_REQUIRE_EQUAL(xs.size(), latency_histogram::bounds.size() + 3);
  CAF_CHECK_EQUAL(xs[0].name, "athanor_x_seconds_bucket");
  CAF_CHECK_EQUAL(xs[0].labels.at("le"), "0.0005");
  CAF_CHECK_EQUAL(xs[0].labels.at("k"), "v");
  CAF_CHECK_EQUAL(xs[latency_histogram::bounds.size()].labels.at("le"),
                  "+Inf");
  CAF_CHECK_EQUAL(xs[latency_histogram::bounds.size()].value, 5.0);
  CAF_CHECK_EQUAL(xs.back().name, "athanor_x_seconds_count");
}
