#pragma once

// The delay schedule between attempts: exponential, capped, with seeded
// jitter, reset after a stable period. A plain class; the supervisor and the
// stream session drive it with the actor clock's readings.

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "messages/config_problem.hpp"

namespace athanor {

struct backoff_config {
  /// The first delay; zero restarts at once (and so every time after).
  std::chrono::nanoseconds initial = std::chrono::milliseconds{500};
  /// No delay exceeds this.
  std::chrono::nanoseconds max = std::chrono::seconds{30};
  /// Each delay is the previous one times this (>= 1).
  double multiplier = 2.0;
  /// Each delay is scaled by a factor drawn from [1 - jitter, 1 + jitter]
  /// (then capped at `max`); 0 disables jitter. In [0, 1).
  double jitter = 0.0;
  /// A run at least this long resets the schedule to `initial`.
  std::chrono::nanoseconds stable_period = std::chrono::seconds{60};
  /// Seeds the jitter, so a schedule can be reproduced exactly.
  uint64_t seed = 0x5eed;
};

/// Returns every invalid value of `cfg`, each named `prefix` + option.
std::vector<config_problem> validate(const backoff_config& cfg,
                                     const std::string& prefix);

/// Draws uniform doubles in [0, 1) from a seed, identically on every
/// platform (std:: distributions are implementation-defined).
class seeded_random {
 public:
  explicit seeded_random(uint64_t seed) : state_(seed) {}

  double next_unit();

 private:
  uint64_t state_;
};

class backoff_policy {
 public:
  using duration = std::chrono::nanoseconds;

  /// Requires a valid config (see `validate`); throws std::invalid_argument
  /// listing every problem otherwise.
  explicit backoff_policy(backoff_config cfg);

  /// Returns the delay before the next attempt and advances the schedule.
  duration next_delay();

  /// Reports that the last attempt ran for `ran`; a stable run resets the
  /// schedule. Returns whether it did.
  bool note_run(duration ran);

  /// Starts the schedule over at `initial`.
  void reset() {
    attempts_ = 0;
  }

  /// Returns how many delays were handed out since the last reset.
  uint32_t attempts() const {
    return attempts_;
  }

  const backoff_config& config() const {
    return cfg_;
  }

 private:
  backoff_config cfg_;
  seeded_random random_;
  uint32_t attempts_ = 0;
};

/// Returns `base * multiplier^(step)` capped at `max`, then jittered by
/// `jitter` with `unit` drawn from [0, 1) and capped again. Shared by the
/// backoff and the breaker's open-duration growth.
std::chrono::nanoseconds grow_with_jitter(std::chrono::nanoseconds base,
                                          double multiplier, uint32_t step,
                                          std::chrono::nanoseconds max,
                                          double jitter, double unit);

} // namespace athanor
