#pragma once

// A Prometheus histogram of durations in seconds: fixed buckets from half a
// millisecond to 30 s (market data lag and delivery latency live there),
// cumulative counts, a sum. Plain class; the owning actor observes and
// writes it into its metrics.

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "messages/metrics.hpp"

namespace athanor {

class latency_histogram {
 public:
  /// Upper bounds in seconds; +Inf is implied.
  static constexpr std::array<double, 15> bounds{
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25,   0.5,   1,      2.5,   5,    10,    30};

  /// Counts one duration (a negative one, from clock skew, as zero).
  void observe(std::chrono::nanoseconds x);

  uint64_t count() const {
    return count_;
  }

  double sum_seconds() const {
    return sum_;
  }

  /// Observations at or below bounds[i] (cumulative); i == bounds.size()
  /// is +Inf, every observation.
  uint64_t at_or_below(size_t i) const;

  /// Appends the histogram as `name`_bucket (one per `le`), `name`_sum and
  /// `name`_count, labelled `labels`.
  void append_to(metric_samples& out, const std::string& name,
                 const std::map<std::string, std::string>& labels) const;

 private:
  /// Observations per bucket (not cumulative); the last is above every
  /// bound.
  std::array<uint64_t, bounds.size() + 1> in_bucket_{};
  uint64_t count_ = 0;
  double sum_ = 0;
};

} // namespace athanor
