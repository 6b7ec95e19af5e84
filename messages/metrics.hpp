#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"

namespace athanor {

enum class metric_kind : uint8_t {
  counter,
  gauge,
  /// One series of a histogram: NAME_bucket (one per `le` label,
  /// cumulative), NAME_sum and NAME_count, all of this kind; Prometheus text
  /// shows them as the family NAME.
  histogram,
};

std::string to_string(metric_kind x);

/// One value an actor exposes; the admin endpoint renders these in
/// Prometheus text format. Names carry the `athanor_` prefix.
struct metric_sample {
  std::string name;
  metric_kind kind = metric_kind::counter;
  /// Label values never hold secrets: fingerprints only.
  std::map<std::string, std::string> labels;
  double value = 0;
};

using metric_samples = std::vector<metric_sample>;

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, metric_sample& x) {
  return f(caf::meta::type_name("athanor.metric_sample"), x.name, x.kind,
           x.labels, x.value);
}

} // namespace athanor
