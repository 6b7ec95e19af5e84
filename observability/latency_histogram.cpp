#include "observability/latency_histogram.hpp"

#include <algorithm>
#include <cstdio>

namespace athanor {

void latency_histogram::observe(std::chrono::nanoseconds x) {
  auto seconds = std::max(0.0, static_cast<double>(x.count()) / 1e9);
  auto i = std::lower_bound(bounds.begin(), bounds.end(), seconds)
           - bounds.begin();
  ++in_bucket_[static_cast<size_t>(i)];
  ++count_;
  sum_ += seconds;
}

uint64_t latency_histogram::at_or_below(size_t i) const {
  uint64_t result = 0;
  for (size_t k = 0; k <= i && k < in_bucket_.size(); ++k)
    result += in_bucket_[k];
  return result;
}

void latency_histogram::append_to(
  metric_samples& out, const std::string& name,
  const std::map<std::string, std::string>& labels) const {
  uint64_t cumulative = 0;
  for (size_t i = 0; i < in_bucket_.size(); ++i) {
    cumulative += in_bucket_[i];
    auto with = labels;
    if (i < bounds.size()) {
      char le[32];
      std::snprintf(le, sizeof(le), "%g", bounds[i]);
      with["le"] = le;
    } else {
      with["le"] = "+Inf";
    }
    out.push_back({name + "_bucket", metric_kind::histogram, std::move(with),
                   static_cast<double>(cumulative)});
  }
  out.push_back({name + "_sum", metric_kind::histogram, labels, sum_});
  out.push_back({name + "_count", metric_kind::histogram, labels,
                 static_cast<double>(count_)});
}

} // namespace athanor
