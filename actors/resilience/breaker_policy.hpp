#pragma once

// The circuit breaker's policy: a plain class with no mailbox and no clock of
// its own. The breaker actor feeds it the actor clock's readings and turns
// its transitions into logs, listener events and timers.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/resilience/backoff.hpp"
#include "messages/breaker.hpp"
#include "messages/config_problem.hpp"

namespace athanor {

enum class window_kind : uint8_t {
  /// The last `window_size` calls.
  count,
  /// The calls of the last `window_duration`.
  time,
};

struct breaker_config {
  /// Names the guarded endpoint in logs, events and metrics (no secrets).
  std::string endpoint = "default";
  /// This many consecutive failures trip the breaker.
  uint32_t failure_threshold = 5;
  /// When set, a failure rate at or above this percentage, over a window
  /// holding at least `minimum_calls`, trips the breaker. In (0, 100].
  std::optional<double> failure_rate_threshold;
  window_kind window = window_kind::count;
  /// Calls in a count window.
  uint32_t window_size = 100;
  /// Span of a time window.
  std::chrono::nanoseconds window_duration = std::chrono::seconds{60};
  /// The rate rule is silent until the window holds this many calls.
  uint32_t minimum_calls = 20;
  /// When positive, a call at least this slow counts as a failure.
  std::chrono::nanoseconds slow_call_duration{0};
  /// How long the first trip keeps the breaker open.
  std::chrono::nanoseconds open_duration = std::chrono::seconds{60};
  /// Consecutive trips grow the open duration up to this.
  std::chrono::nanoseconds max_open_duration = std::chrono::minutes{10};
  /// Each consecutive trip multiplies the open duration by this (>= 1).
  double open_backoff_multiplier = 2.0;
  /// Open durations are scaled by a factor from [1 - j, 1 + j]; in [0, 1).
  double open_jitter = 0.0;
  /// HALF_OPEN lets at most this many probes run at once.
  uint32_t half_open_max_probes = 1;
  /// This many successful probes close the breaker.
  uint32_t success_threshold = 1;
  /// Permits are at least this far apart (the seeds hard-coded 1 s).
  std::chrono::nanoseconds min_attempt_interval{0};
  /// A probe whose outcome does not arrive within this counts as failed.
  std::chrono::nanoseconds probe_timeout = std::chrono::seconds{30};
  /// Permits whose outcome never comes are forgotten beyond this many.
  uint32_t max_outstanding_permits = 4096;
  /// Seeds the open-duration jitter.
  uint64_t seed = 0xb4ea6e4;
};

/// Returns every invalid value of `cfg`, each named `prefix` + option.
std::vector<config_problem>
validate(const breaker_config& cfg,
         const std::string& prefix = "athanor.breaker.");

class breaker_policy {
 public:
  using time_point = std::chrono::steady_clock::time_point;
  using duration = std::chrono::nanoseconds;

  struct transition {
    breaker_state from;
    breaker_state to;
    std::string reason;
    /// How long the breaker stays open (entering OPEN only).
    duration open_for{0};
    /// Identifies the state entered; the open timer carries it back.
    uint64_t generation = 0;
  };

  struct decision {
    /// Set when the call may proceed.
    std::optional<permit> granted;
    /// Why not, when refused.
    engine_errc refusal = engine_errc::breaker_open;
    /// When to ask again, when refused (zero: unknown).
    duration retry_after{0};
    /// A state change that happened while deciding (OPEN → HALF_OPEN).
    std::optional<transition> change;
  };

  /// Requires a valid config; throws std::invalid_argument naming every
  /// invalid option otherwise.
  explicit breaker_policy(breaker_config cfg);

  /// Asks for permission to make one call at `now`.
  decision acquire(time_point now);

  /// Records how the call of `permit_id` ended at `now`; its duration counts
  /// from the grant.
  std::optional<transition> record(time_point now, uint64_t permit_id,
                                   call_outcome outcome);

  /// The open duration of `generation` has passed.
  std::optional<transition> on_open_timer(time_point now, uint64_t generation);

  /// The probe `permit_id` did not report within the probe timeout.
  std::optional<transition> expire(time_point now, uint64_t permit_id);

  /// Returns to CLOSED and clears every count.
  std::optional<transition> reset();

  /// Refuses every call until reset.
  std::optional<transition> force_open();

  /// Admits every call and never trips until reset.
  std::optional<transition> disable();

  breaker_snapshot snapshot(time_point now);

  breaker_state state() const {
    return state_;
  }

  uint64_t generation() const {
    return generation_;
  }

  const breaker_counters& counters() const {
    return counters_;
  }

  const breaker_config& config() const {
    return cfg_;
  }

 private:
  struct outstanding {
    time_point granted_at;
  };

  class outcome_window {
   public:
    outcome_window(window_kind kind, uint32_t size, duration span)
        : kind_(kind), size_(size), span_(span) {}
    void add(time_point now, bool failure);
    void evict(time_point now);
    void clear();
    uint32_t calls() const {
      return static_cast<uint32_t>(entries_.size());
    }
    uint32_t failures() const {
      return failures_;
    }

   private:
    struct entry {
      time_point at;
      bool failure;
    };
    window_kind kind_;
    uint32_t size_;
    duration span_;
    std::deque<entry> entries_;
    uint32_t failures_ = 0;
  };

  void clear_counts();
  transition enter(breaker_state to, std::string reason);
  transition trip(time_point now, std::string reason);
  std::optional<double> failure_rate(time_point now);
  decision refuse(engine_errc why, duration retry_after);

  breaker_config cfg_;
  seeded_random random_;
  breaker_state state_ = breaker_state::closed;
  uint64_t generation_ = 0;
  uint64_t next_permit_id_ = 1;
  std::map<uint64_t, outstanding> outstanding_;
  std::optional<time_point> last_grant_;
  time_point open_until_{};
  outcome_window window_;
  uint32_t consecutive_failures_ = 0;
  uint32_t consecutive_trips_ = 0;
  uint32_t half_open_successes_ = 0;
  breaker_counters counters_;
};

} // namespace athanor
