#pragma once

// The supervisor's settings, apart from the actor so that configuration code
// need not pull in CAF's typed-actor headers.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/timestamp.hpp"

#include "actors/resilience/backoff.hpp"
#include "messages/config_problem.hpp"

namespace athanor {

struct supervisor_config {
  /// Names the supervisor in logs and status.
  std::string name = "supervisor";
  /// At most this many restarts within `period`; one more escalates.
  uint32_t max_restarts = 3;
  caf::timespan period = std::chrono::seconds{5};
  /// The delay before each restart of a child, per child.
  backoff_config restart_backoff{std::chrono::milliseconds{100},
                                 std::chrono::seconds{10},
                                 2.0,
                                 0.2,
                                 std::chrono::seconds{30},
                                 0x5eed};
  /// An ordered shutdown kills whatever is still running after this long.
  caf::timespan shutdown_deadline = std::chrono::seconds{10};
};

/// Returns every invalid value of `cfg`, each named `prefix` + option.
std::vector<config_problem>
validate(const supervisor_config& cfg,
         const std::string& prefix = "athanor.supervisor.");

} // namespace athanor
