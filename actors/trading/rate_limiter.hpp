#pragma once

// How fast requests may go to one REST API: a sliding minute of our own
// count (Alpaca allows 200 per minute per account), overruled by what the
// server says: `X-Ratelimit-Remaining: 0` until `X-Ratelimit-Reset`, and a
// 429's `Retry-After`. A plain class driven with the actor clock's readings.

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>

namespace athanor {

class rate_limiter {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;
  using duration = std::chrono::nanoseconds;

  /// `per_minute` 0 turns our own count off; the server's word still holds.
  explicit rate_limiter(uint32_t per_minute) : per_minute_(per_minute) {}

  /// Returns zero and counts a request if one may go at `now`; otherwise
  /// how long to wait before asking again.
  duration acquire(time_point now);

  /// The server's headers of one response: requests left in its window and
  /// the time until that window resets.
  void observe(time_point now, std::optional<uint32_t> remaining,
               std::optional<duration> until_reset);

  /// The server answered 429: nothing goes for `retry_after`.
  void throttled(time_point now, duration retry_after);

  /// Requests counted in the current minute.
  size_t in_window(time_point now);

  /// Whether the server's word holds requests back at `now`.
  bool blocked(time_point now) const {
    return now < blocked_until_;
  }

 private:
  void prune(time_point now);

  uint32_t per_minute_;
  std::deque<time_point> sent_;
  time_point blocked_until_{};
};

} // namespace athanor
