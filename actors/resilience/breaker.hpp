#pragma once

#include "caf/expected.hpp"
#include "caf/fwd.hpp"

#include "actors/resilience/breaker_policy.hpp"
#include "messages/handles.hpp"

namespace athanor {

/// Spawns a breaker guarding `cfg.endpoint`. Returns an invalid_config error
/// naming every invalid option instead of a breaker with a bad config.
caf::expected<breaker_actor> spawn_breaker(caf::actor_system& sys,
                                           breaker_config cfg);

} // namespace athanor
