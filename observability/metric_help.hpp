#pragma once

// What each metric family means, for the HELP line Prometheus shows
// beside it. One table for every family the engine emits; a test checks
// that /metrics has no family without one.

#include <string>

namespace athanor {

/// The family's description, or nullptr if it has none.
const char* metric_help(const std::string& family);

} // namespace athanor
