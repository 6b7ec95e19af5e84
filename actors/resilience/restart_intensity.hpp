#pragma once

// OTP's restart intensity: at most `max_restarts` restarts within `period`.
// A plain class fed with the actor clock's readings.

#include <chrono>
#include <cstdint>
#include <deque>

namespace athanor {

class restart_intensity {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::nanoseconds;

  restart_intensity(uint32_t max_restarts, duration period)
      : max_restarts_(max_restarts), period_(period) {}

  /// Records a restart at `now`. Returns false if it is one too many: the
  /// (max_restarts + 1)-th restart within the period.
  bool record(time_point now);

  /// Returns the number of restarts within the period ending at `now`.
  uint32_t within_period(time_point now);

 private:
  void evict(time_point now);

  uint32_t max_restarts_;
  duration period_;
  std::deque<time_point> restarts_;
};

} // namespace athanor
