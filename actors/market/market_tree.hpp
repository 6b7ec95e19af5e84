#pragma once

// The market-data tree: the connection supervisor runs as the permanent
// child of an OTP-style supervisor, behind a front whose handle never
// changes. Everyone (lessees, the admin, the gateway, hosts) talks to the
// front; the front forwards to the connection supervisor of the moment and
// keeps what a new one needs to carry on:
//
//   front ── lease, release, health, metrics, listen ──> connection supervisor
//     │                                                    (restarted by the
//     └── shutdown ──> supervisor ── starts/stops ────────> supervisor)
//
// When the connection supervisor dies abnormally, its sessions die with it
// but its registries live on (they hold every subscription). The supervisor
// starts a new one; the front hands it every registry with its leases, so it
// opens the connections again and each subscriber sees a `restart` gap
// whose `since` is its last record's receive time, then data, without
// subscribing again. Lease requests made meanwhile wait for the new one.
//
// Beyond the supervisor's restart intensity the tree has failed: listeners
// see every connection `failed` (restart_intensity_exceeded; `athanor run`
// ends with exit 70), health says `failed`, every subscriber gets a
// `restart` gap, and new leases are refused with the reason. The
// registries stay until their lessees release them.

#include "caf/expected.hpp"
#include "caf/fwd.hpp"

#include "actors/market/connection_supervisor.hpp"
#include "actors/resilience/supervisor_config.hpp"

namespace athanor {

struct market_tree_config {
  /// The connection supervisor's own settings (its `upstreams` and `links`
  /// included).
  connection_supervisor_config connections;
  /// Restart intensity and backoff of the connection supervisor itself;
  /// `name` names the supervisor in logs and metrics.
  supervisor_config supervisor;
};

struct market_tree {
  /// The stable handle: the same for the tree's whole life.
  connection_supervisor_actor front;
  supervisor_actor supervisor;
};

/// Starts the tree (validating `cfg` first). The front stops the tree on
/// `shutdown_atom` and exits once the supervisor is gone.
caf::expected<market_tree> spawn_market_tree(caf::actor_system& sys,
                                             market_tree_config cfg);

} // namespace athanor
