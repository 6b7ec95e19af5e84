#pragma once

// Records per second over the last few whole seconds, for gauges that read
// as a rate without a query language (/metrics "records/s"). Counts go into
// one-second buckets by the owner's actor-clock readings; the rate is the
// mean of the complete buckets in the window, so the figure a scrape sees
// does not depend on when the scrape came. Plain class, no clock of its own.

#include <array>
#include <chrono>
#include <cstdint>

namespace athanor {

class rate_meter {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  /// Whole seconds averaged over (at most buckets - 1).
  static constexpr size_t window_seconds = 5;

  /// Adds `n` events at `now`.
  void record(time_point now, uint64_t n);

  /// Events per second over the complete seconds of the window before
  /// `now`; 0 before one whole second has passed since the first record.
  double per_second(time_point now) const;

 private:
  static constexpr size_t buckets = window_seconds + 1;

  static int64_t second_of(time_point t);

  /// Clears the buckets of the seconds that passed since the last record.
  void advance(int64_t second);

  std::array<uint64_t, buckets> counts_{};
  /// The second the newest bucket belongs to; -1: nothing recorded.
  int64_t current_ = -1;
  int64_t first_ = -1;
};

} // namespace athanor
