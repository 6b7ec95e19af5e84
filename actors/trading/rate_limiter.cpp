#include "actors/trading/rate_limiter.hpp"

#include <algorithm>

namespace athanor {

namespace {

constexpr auto window = std::chrono::minutes{1};

} // namespace

void rate_limiter::prune(time_point now) {
  while (!sent_.empty() && now - sent_.front() >= window)
    sent_.pop_front();
}

rate_limiter::duration rate_limiter::acquire(time_point now) {
  if (now < blocked_until_)
    return blocked_until_ - now;
  if (per_minute_ > 0) {
    prune(now);
    if (sent_.size() >= per_minute_)
      return sent_.front() + window - now;
    sent_.push_back(now);
  }
  return duration{0};
}

void rate_limiter::observe(time_point now, std::optional<uint32_t> remaining,
                           std::optional<duration> until_reset) {
  if (!remaining || *remaining > 0 || !until_reset)
    return;
  // A reset time far off (clock skew, a bad header) is capped at a minute:
  // the window is a minute long.
  auto wait = std::clamp<duration>(*until_reset, duration{0}, window);
  blocked_until_ = std::max(blocked_until_, now + wait);
}

void rate_limiter::throttled(time_point now, duration retry_after) {
  auto wait = std::clamp<duration>(retry_after, std::chrono::seconds{1},
                                   window);
  blocked_until_ = std::max(blocked_until_, now + wait);
}

size_t rate_limiter::in_window(time_point now) {
  prune(now);
  return sent_.size();
}

} // namespace athanor
