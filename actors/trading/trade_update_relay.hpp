#pragma once

// One stable listener of the trading stream for the gateway: the trading
// desk's session changes when its group restarts, the relay does not. It
// passes every order update, in order, to every gateway /stream client that
// listens, and the trading stream's state changes with them; a new listener
// gets the current state at once. Order updates are never conflated or
// dropped here (a client that cannot keep up is the transport's concern).

#include "caf/fwd.hpp"

#include "messages/handles.hpp"
#include "messages/metrics.hpp"

namespace athanor {

using trade_update_relay_actor = caf::typed_actor<
  // From the trading session.
  caf::reacts_to<order_update>, caf::reacts_to<session_status>,
  // Adds a listener (monitored; removed when it goes away).
  caf::reacts_to<listen_atom, order_listener_actor>,
  caf::reacts_to<unsubscribe_atom, order_listener_actor>,
  caf::replies_to<metrics_atom>::with<metric_samples>>;

trade_update_relay_actor spawn_trade_update_relay(caf::actor_system& sys);

} // namespace athanor
