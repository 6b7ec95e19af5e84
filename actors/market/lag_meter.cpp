#include "actors/market/lag_meter.hpp"

#include <algorithm>

namespace athanor {

int64_t feed_lag_ns(const batch& x) {
  if (x.received_at <= 0)
    return 0;
  int64_t result = 0;
  for (auto& q : x.quotes)
    if (q.time > 0)
      result = std::max(result, x.received_at - q.time);
  for (auto& t : x.trades)
    if (t.time > 0)
      result = std::max(result, x.received_at - t.time);
  return result;
}

lag_meter::change lag_meter::record(time_point now, duration lag) {
  if (now - window_start_ >= window_) {
    window_start_ = now;
    max_ = duration{0};
  }
  last_ = lag;
  max_ = std::max(max_, lag);
  if (lag > threshold_)
    ++late_;
  // Half the threshold to come back: a lag hovering around it must not
  // log a line per batch.
  if (!above_ && lag > threshold_) {
    above_ = true;
    return change::above;
  }
  if (above_ && lag < threshold_ / 2) {
    above_ = false;
    return change::below;
  }
  return change::none;
}

} // namespace athanor
