#pragma once

#include <functional>
#include <string>

#include "caf/fwd.hpp"

#include "messages/handles.hpp"

namespace athanor {

/// Host code that wants data as function calls. Both run on a CAF worker
/// thread, one call at a time.
struct subscriber_callbacks {
  std::function<void(const batch&)> on_batch;
  std::function<void(const gap&)> on_gap;
};

/// Subscriber that calls host code. A std::exception thrown by a callback is
/// caught, logged and counted, and the subscriber goes on; the stream never
/// notices.
using callback_subscriber_actor = caf::typed_actor<
  caf::reacts_to<batch>, caf::reacts_to<gap>,
  caf::replies_to<metrics_atom>::with<metric_samples>>;

/// `name` labels it in logs and metrics; empty: "actor-<id>", as the
/// subscriber registry labels its subscribers.
callback_subscriber_actor spawn_callback_subscriber(caf::actor_system& sys,
                                                    std::string name,
                                                    subscriber_callbacks cbs);

} // namespace athanor
