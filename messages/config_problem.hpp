#pragma once

#include <string>
#include <vector>

namespace athanor {

/// One invalid configuration value. Validation collects every problem and
/// reports them together, each naming its option.
struct config_problem {
  /// The full option name, e.g. "athanor.breaker.failure-threshold".
  std::string option;
  /// What is wrong, e.g. "must be at least 1 (got 0)".
  std::string message;
};

inline std::string to_string(const config_problem& x) {
  return x.option + ": " + x.message;
}

/// Returns every problem on its own line.
inline std::string to_string(const std::vector<config_problem>& xs) {
  std::string result;
  for (auto& x : xs) {
    if (!result.empty())
      result += '\n';
    result += to_string(x);
  }
  return result;
}

} // namespace athanor
