#pragma once

#include <cstdint>
#include <string>

#include "caf/meta/type_name.hpp"
#include "caf/timestamp.hpp"

#include "messages/engine_errc.hpp"
#include "messages/trace.hpp"

namespace athanor {

/// The breaker's state.
enum class breaker_state : uint8_t {
  /// Calls pass; outcomes are counted.
  closed,
  /// Calls are refused until the open duration has passed.
  open,
  /// A limited number of probe calls pass to test the endpoint.
  half_open,
  /// An operator opened the breaker; only a reset closes it.
  forced_open,
  /// An operator disabled the breaker; every call passes, nothing trips.
  disabled,
};

/// How one call ended, as far as the breaker is concerned.
enum class call_outcome : uint8_t {
  success,
  failure,
  /// Neither: e.g. a business rejection that says nothing about the
  /// endpoint's health. Releases a probe slot, changes no count.
  ignored,
};

std::string to_string(breaker_state x);
std::string to_string(call_outcome x);

/// Returns what an error means for the breaker: non-retryable errors are the
/// request's fault, not the endpoint's, and are ignored; so are 406 and 429,
/// a healthy server asking us to wait.
call_outcome outcome_of(engine_errc x);

/// Permission for one call; its id goes back with the outcome.
struct permit {
  uint64_t id = 0;
  /// The state in which it was granted (half_open: this call is a probe).
  breaker_state state = breaker_state::closed;
};

/// Monotonic counters, for metrics.
struct breaker_counters {
  uint64_t permits_granted = 0;
  uint64_t permits_refused = 0;
  uint64_t successes = 0;
  uint64_t failures = 0;
  uint64_t ignored = 0;
  uint64_t slow_calls = 0;
  uint64_t trips = 0;
  uint64_t transitions = 0;
  /// Permits whose outcome never came before they were evicted or expired.
  uint64_t abandoned_permits = 0;
  /// Outcomes for permits from an earlier state (after a reset, a trip...).
  uint64_t stale_outcomes = 0;
};

/// The answer to a state query.
struct breaker_snapshot {
  std::string endpoint;
  breaker_state state = breaker_state::closed;
  uint32_t consecutive_failures = 0;
  uint32_t window_calls = 0;
  uint32_t window_failures = 0;
  /// Failure rate in percent over the window; -1 while the window holds
  /// fewer calls than the configured minimum (or no rate rule is set).
  double failure_rate = -1;
  /// Time until OPEN turns HALF_OPEN; zero in every other state.
  caf::timespan until_half_open{0};
  /// Trips since the breaker last closed; drives the open-duration backoff.
  uint32_t consecutive_trips = 0;
  uint32_t probes_in_flight = 0;
  uint32_t half_open_successes = 0;
  breaker_counters counters;
};

/// Sent to listeners on every state change.
struct breaker_transition {
  std::string endpoint;
  breaker_state from = breaker_state::closed;
  breaker_state to = breaker_state::closed;
  /// Why, in a few words: "consecutive failures", "failure rate", "timer"...
  std::string reason;
  /// How long the breaker stays open (entering OPEN only).
  caf::timespan open_for{0};
  trace cause;
};

bool operator==(const permit& x, const permit& y);
bool operator==(const breaker_transition& x, const breaker_transition& y);

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, permit& x) {
  return f(caf::meta::type_name("athanor.permit"), x.id, x.state);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, breaker_counters& x) {
  return f(caf::meta::type_name("athanor.breaker_counters"), x.permits_granted,
           x.permits_refused, x.successes, x.failures, x.ignored, x.slow_calls,
           x.trips, x.transitions, x.abandoned_permits, x.stale_outcomes);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, breaker_snapshot& x) {
  return f(caf::meta::type_name("athanor.breaker_snapshot"), x.endpoint,
           x.state, x.consecutive_failures, x.window_calls, x.window_failures,
           x.failure_rate, x.until_half_open, x.consecutive_trips,
           x.probes_in_flight, x.half_open_successes, x.counters);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, breaker_transition& x) {
  return f(caf::meta::type_name("athanor.breaker_transition"), x.endpoint,
           x.from, x.to, x.reason, x.open_for, x.cause);
}

} // namespace athanor
