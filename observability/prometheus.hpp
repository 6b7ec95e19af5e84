#pragma once

// Metric samples in Prometheus' text exposition format (version 0.0.4).

#include <string>

#include "messages/metrics.hpp"

namespace athanor {

/// Renders `xs`: one `# TYPE` line per metric name (samples of a name are
/// grouped, in first-seen order), label values escaped, names and label
/// names sanitized to [a-zA-Z0-9_:].
std::string to_prometheus(const metric_samples& xs);

} // namespace athanor
