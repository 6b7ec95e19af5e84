#pragma once

// How far behind events arrive: the event's own timestamp against when the
// transport received it (wall clock, stamped on the I/O thread), plus any
// time the engine held the data (actor clock). Keeps the latest figure and
// the largest within a window, and says when the lag crosses a threshold
// (both ways), so the owner logs once per change, not once per batch.
// Plain class: the owner passes the actor clock's readings.

#include <chrono>
#include <cstdint>

#include "messages/market.hpp"

namespace athanor {

/// Returns the largest (received_at - event time) over the quotes and
/// trades of `x`, in nanoseconds; 0 if none carries both times.
int64_t feed_lag_ns(const batch& x);

class lag_meter {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::nanoseconds;

  lag_meter(duration threshold, duration window = std::chrono::seconds{10})
    : threshold_(threshold), window_(window) {}

  enum class change : uint8_t { none, above, below };

  /// Records one lag; returns whether it crossed the threshold.
  change record(time_point now, duration lag);

  double last_seconds() const {
    return static_cast<double>(last_.count()) / 1e9;
  }

  /// The largest lag within the current window.
  double max_seconds() const {
    return static_cast<double>(max_.count()) / 1e9;
  }


  bool above() const {
    return above_;
  }

  uint64_t late() const {
    return late_;
  }

 private:
  duration threshold_;
  duration window_;
  duration last_{0};
  duration max_{0};
  time_point window_start_{};
  bool above_ = false;
  uint64_t late_ = 0;
};

} // namespace athanor
