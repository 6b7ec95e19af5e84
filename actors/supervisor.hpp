#pragma once

#include <functional>
#include <string>
#include <vector>

#include "caf/expected.hpp"
#include "caf/fwd.hpp"
#include "caf/timestamp.hpp"

#include "actors/backoff.hpp"
#include "messages/config_problem.hpp"
#include "messages/handles.hpp"

namespace athanor {

/// How to start one child and when to restart it.
struct child_spec {
  /// Unique among the supervisor's children; names it in logs and status.
  std::string id;
  /// Spawns the child. Called again on every restart; the supervisor
  /// monitors the handle it returns and takes it down when it dies itself.
  std::function<caf::actor(caf::actor_system&)> start;
  restart_policy restart = restart_policy::permanent;
  /// How long the child may take to stop before it is killed.
  caf::timespan shutdown_timeout = std::chrono::seconds{5};
};

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

/// Spawns a one_for_one supervisor that starts `children` in order. Beyond
/// its restart intensity it stops the children in reverse order and exits
/// with `engine_errc::restart_intensity_exceeded`. An exit message (from its
/// own supervisor, linked to it) starts an ordered shutdown.
caf::expected<supervisor_actor>
spawn_supervisor(caf::actor_system& sys, supervisor_config cfg,
                 std::vector<child_spec> children);

} // namespace athanor
