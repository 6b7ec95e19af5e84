#pragma once

#include <functional>
#include <string>
#include <vector>

#include "caf/expected.hpp"
#include "caf/fwd.hpp"
#include "caf/timestamp.hpp"

#include "actors/resilience/supervisor_config.hpp"
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

/// Spawns a one_for_one supervisor that starts `children` in order. Beyond
/// its restart intensity it stops the children in reverse order and exits
/// with `engine_errc::restart_intensity_exceeded`. An exit message (from its
/// own supervisor, linked to it) starts an ordered shutdown.
caf::expected<supervisor_actor>
spawn_supervisor(caf::actor_system& sys, supervisor_config cfg,
                 std::vector<child_spec> children);

} // namespace athanor
