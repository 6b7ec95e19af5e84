#pragma once

// The process's own figures by Prometheus' conventions (process_*), read
// from /proc/self when /metrics is scraped, and athanor_build_info.

#include "messages/metrics.hpp"

namespace athanor {

/// process_resident_memory_bytes, process_cpu_seconds_total,
/// process_open_fds, process_start_time_seconds and athanor_build_info
/// {version, caf}; a figure /proc does not give is left out.
metric_samples process_metrics();

} // namespace athanor
