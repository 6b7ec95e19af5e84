#include "actors/market/rate_meter.hpp"

#include <algorithm>

namespace athanor {

int64_t rate_meter::second_of(time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch())
    .count();
}

void rate_meter::advance(int64_t second) {
  if (current_ < 0) {
    current_ = first_ = second;
    return;
  }
  if (second <= current_)
    return;
  auto passed = std::min<int64_t>(second - current_, buckets);
  for (int64_t i = 1; i <= passed; ++i)
    counts_[static_cast<size_t>((current_ + i) % buckets)] = 0;
  current_ = second;
}

void rate_meter::record(time_point now, uint64_t n) {
  advance(second_of(now));
  counts_[static_cast<size_t>(current_ % buckets)] += n;
}

double rate_meter::per_second(time_point now) const {
  if (current_ < 0)
    return 0;
  auto second = std::max(second_of(now), current_);
  // Complete seconds: before `second`, not before the first record's, at
  // most the window.
  auto complete = std::min<int64_t>(second - first_, window_seconds);
  if (complete <= 0)
    return 0;
  uint64_t sum = 0;
  for (int64_t s = second - complete; s < second; ++s)
    if (s <= current_ && current_ - s < static_cast<int64_t>(buckets))
      sum += counts_[static_cast<size_t>(s % buckets)];
  return static_cast<double>(sum) / static_cast<double>(complete);
}

} // namespace athanor
