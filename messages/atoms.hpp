#pragma once

// Athanor's atoms. They live in the athanor namespace so `using namespace
// caf` stays unambiguous; CAF's own get_atom and ok_atom are reused as is.

#include "caf/atom.hpp"

namespace athanor {

/// Asks a breaker for permission to make one call.
using permit_atom = caf::atom_constant<caf::atom("permit")>;
/// Reports how a permitted call ended.
using outcome_atom = caf::atom_constant<caf::atom("outcome")>;
/// Returns a breaker to CLOSED, clearing its counts.
using reset_atom = caf::atom_constant<caf::atom("reset")>;
/// Opens a breaker until reset.
using force_open_atom = caf::atom_constant<caf::atom("force_open")>;
/// Lets everything through a breaker until reset.
using disable_atom = caf::atom_constant<caf::atom("disable")>;
/// Subscribes to an actor's events.
using listen_atom = caf::atom_constant<caf::atom("listen")>;
/// Timer: the open duration has passed.
using half_open_atom = caf::atom_constant<caf::atom("half_open")>;
/// Timer: a permit's deadline has passed.
using expire_atom = caf::atom_constant<caf::atom("expire")>;
/// Asks an actor for its counters and gauges.
using metrics_atom = caf::atom_constant<caf::atom("metrics")>;
/// Asks a supervisor for the current handle of a child.
using which_atom = caf::atom_constant<caf::atom("which")>;
/// Timer: a child's restart delay has passed.
using restart_atom = caf::atom_constant<caf::atom("restart")>;
/// Starts an ordered shutdown.
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;
/// Timer: a shutdown step's deadline has passed.
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;

/// Tells a stream session the subscription set consumers want.
using desire_atom = caf::atom_constant<caf::atom("desire")>;
/// Timer: a backoff delay has passed; try again.
using retry_atom = caf::atom_constant<caf::atom("retry")>;
/// Timer: a stage (connect, auth, subscription ack) took too long.
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;
/// Timer: time to check that subscribed data still flows.
using watchdog_atom = caf::atom_constant<caf::atom("watchdog")>;
/// A registry's next slice of a large subscription change (to itself).
using slice_atom = caf::atom_constant<caf::atom("slice")>;
/// Adds topics for a subscriber.
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
/// Names a subscriber in a registry's logs and metrics.
using label_atom = caf::atom_constant<caf::atom("label")>;
/// Removes topics of a subscriber.
using unsubscribe_atom = caf::atom_constant<caf::atom("unsub")>;
/// Tells a registry which session feeds it.
using attach_atom = caf::atom_constant<caf::atom("attach")>;
/// Asks the connection supervisor for a share of an upstream connection.
using lease_atom = caf::atom_constant<caf::atom("lease")>;
/// Gives a lease back.
using release_atom = caf::atom_constant<caf::atom("release")>;
/// Timer: a tape recorder writes what it buffered; a tape player plays on.
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using play_atom = caf::atom_constant<caf::atom("play")>;
/// A replayed link's session sent a frame, gave credit back, or closed.
using link_sent_atom = caf::atom_constant<caf::atom("link_sent")>;
using link_ack_atom = caf::atom_constant<caf::atom("link_ack")>;
using link_close_atom = caf::atom_constant<caf::atom("link_close")>;
/// Hands a crashed connection supervisor's registry and leases to the next.
using adopt_atom = caf::atom_constant<caf::atom("adopt")>;

/// Places an order (REST client) or executes a plan (executor).
using place_atom = caf::atom_constant<caf::atom("place")>;
/// Looks an order up by its client_order_id.
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;
/// Lists the account's open orders.
using open_orders_atom = caf::atom_constant<caf::atom("openorders")>;
/// Reads the account.
using account_atom = caf::atom_constant<caf::atom("account")>;
using positions_atom = caf::atom_constant<caf::atom("positions")>;
using asset_atom = caf::atom_constant<caf::atom("asset")>;
using latest_atom = caf::atom_constant<caf::atom("latest")>;
/// A subscriber asks a registry to repair its gaps on these channels.
using backfill_atom = caf::atom_constant<caf::atom("backfill")>;
/// One page of the market-data API's history (backfill).
using history_atom = caf::atom_constant<caf::atom("history")>;
/// Executes a plan.
using execute_atom = caf::atom_constant<caf::atom("execute")>;
/// Asks the published front for a single-use challenge to sign.
using challenge_atom = caf::atom_constant<caf::atom("challenge")>;
/// Cancels an order.
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;

} // namespace athanor
