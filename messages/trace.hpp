#pragma once

#include <string>

#include "caf/meta/type_name.hpp"

namespace athanor {

/// Names one flow end to end: a plan, a subscription, a connection attempt.
struct correlation_id {
  std::string value;
};

/// Names the message that directly caused the one carrying it.
struct causation_id {
  std::string value;
};

/// Carried by every command and every event derived from it, so a log search
/// for one correlation id shows the whole flow and causation ids link it.
struct trace {
  /// This message's own id; it becomes the causation id of what it causes.
  std::string id;
  correlation_id correlation;
  causation_id causation;

  /// Returns the trace of a new flow, with fresh ids.
  static trace root();

  /// Returns the trace of a new flow whose correlation id is given (e.g. a
  /// plan's own correlation_id).
  static trace root(std::string correlation);

  /// Returns the trace of a message caused by this one.
  trace caused() const;
};

/// Returns a fresh random 16-hex-digit id.
std::string new_trace_id();

bool operator==(const correlation_id& x, const correlation_id& y);
bool operator==(const causation_id& x, const causation_id& y);
bool operator==(const trace& x, const trace& y);

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, correlation_id& x) {
  return f(caf::meta::type_name("athanor.correlation_id"), x.value);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, causation_id& x) {
  return f(caf::meta::type_name("athanor.causation_id"), x.value);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, trace& x) {
  return f(caf::meta::type_name("athanor.trace"), x.id, x.correlation,
           x.causation);
}

} // namespace athanor
