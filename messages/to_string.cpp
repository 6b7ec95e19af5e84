#include "messages/breaker.hpp"
#include "messages/metrics.hpp"
#include "messages/supervision.hpp"

namespace athanor {

std::string to_string(breaker_state x) {
  switch (x) {
    case breaker_state::closed: return "closed";
    case breaker_state::open: return "open";
    case breaker_state::half_open: return "half_open";
    case breaker_state::forced_open: return "forced_open";
    case breaker_state::disabled: return "disabled";
  }
  return "breaker_state(?)";
}

std::string to_string(call_outcome x) {
  switch (x) {
    case call_outcome::success: return "success";
    case call_outcome::failure: return "failure";
    case call_outcome::ignored: return "ignored";
  }
  return "call_outcome(?)";
}

call_outcome outcome_of(engine_errc x) {
  // A 406 (our old session still held) or a 429 is a healthy server asking
  // us to wait; the caller's own wait schedule covers it. Counted as
  // failures they opened a breaker on top (1 min doubling to 10): the soak
  // campaign saw 8-minute market-data silences with the upstream usable
  // most of the time.
  if (x == engine_errc::connection_limit || x == engine_errc::rate_limited)
    return call_outcome::ignored;
  return classify(x) == error_class::non_retryable ? call_outcome::ignored
                                                   : call_outcome::failure;
}

bool operator==(const permit& x, const permit& y) {
  return x.id == y.id && x.state == y.state;
}

bool operator==(const breaker_transition& x, const breaker_transition& y) {
  return x.endpoint == y.endpoint && x.from == y.from && x.to == y.to
         && x.reason == y.reason && x.open_for == y.open_for
         && x.cause == y.cause;
}

std::string to_string(restart_policy x) {
  switch (x) {
    case restart_policy::permanent: return "permanent";
    case restart_policy::transient: return "transient";
    case restart_policy::temporary: return "temporary";
  }
  return "restart_policy(?)";
}

std::string to_string(child_phase x) {
  switch (x) {
    case child_phase::running: return "running";
    case child_phase::restarting: return "restarting";
    case child_phase::stopped: return "stopped";
  }
  return "child_phase(?)";
}

std::string to_string(metric_kind x) {
  switch (x) {
    case metric_kind::counter:
      return "counter";
    case metric_kind::gauge:
      return "gauge";
    case metric_kind::histogram:
      return "histogram";
  }
  return "gauge";
}

} // namespace athanor
