#pragma once

// Timed fault scenarios for athanor-sim. One step per line:
//
//   # at   fault       [duration]  [key=value...]
//   2s     reset
//   5s     stall
//   8s     storm406    3s
//   12s    rest500                 count=3 after=1
//
// Faults: close, reset, stall, malformed, delay, storm406, storm429,
// rest500, stream_reset, tls_refuse. Times and durations take ms, s or min.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace athanor::sim {

struct scenario_step {
  std::chrono::nanoseconds at{0};
  std::string fault;
  std::chrono::nanoseconds duration{0};
  std::map<std::string, std::string> args;
};

/// The faults a step may name.
bool is_known_fault(const std::string& name);

/// Parses "250ms", "2s", "1min" (a bare number is milliseconds).
std::optional<std::chrono::nanoseconds> parse_duration(const std::string& x);

/// Parses a scenario; on failure returns nullopt and sets `error` to
/// "line N: ...".
std::optional<std::vector<scenario_step>>
parse_scenario(const std::string& text, std::string& error);

} // namespace athanor::sim
