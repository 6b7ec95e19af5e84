#pragma once

// Knows a library host's callback subscribers so their counters (batches,
// gaps, callback failures) reach runtime::metrics() and the admin's
// /metrics like every other actor's. Each one joins when the runtime makes
// it and leaves when it ends (monitored).

#include "caf/fwd.hpp"
#include "caf/typed_actor.hpp"

#include "actors/market/callback_subscriber.hpp"
#include "messages/atoms.hpp"
#include "messages/metrics.hpp"

namespace athanor {

using callback_hub_actor = caf::typed_actor<
  caf::reacts_to<attach_atom, callback_subscriber_actor>,
  caf::replies_to<metrics_atom>::with<metric_samples>>;

callback_hub_actor spawn_callback_hub(caf::actor_system& sys);

} // namespace athanor
