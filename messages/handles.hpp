#pragma once

// Every actor's typed handle. Actors include this, never each other's
// headers; app/ wires them together.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "messages/atoms.hpp"
#include "messages/breaker.hpp"
#include "messages/execution.hpp"
#include "messages/history.hpp"
#include "messages/market.hpp"
#include "messages/metrics.hpp"
#include "messages/orders.hpp"
#include "messages/stream.hpp"
#include "messages/supervision.hpp"
#include "messages/trace.hpp"

namespace athanor {

/// Receives a breaker's state changes.
using breaker_listener_actor = caf::typed_actor<
  caf::reacts_to<breaker_transition>>;

/// One circuit breaker, guarding one endpoint.
using breaker_actor = caf::typed_actor<
  // Grants a permit or refuses with a retry error (see make_retry_error).
  caf::replies_to<permit_atom, trace>::with<permit>,
  // Records how the call of permit `id` ended.
  caf::reacts_to<outcome_atom, uint64_t, call_outcome, trace>,
  caf::replies_to<caf::get_atom>::with<breaker_snapshot>,
  caf::replies_to<metrics_atom>::with<metric_samples>,
  caf::replies_to<reset_atom, trace>::with<breaker_state>,
  caf::replies_to<force_open_atom, trace>::with<breaker_state>,
  caf::replies_to<disable_atom, trace>::with<breaker_state>,
  caf::reacts_to<listen_atom, breaker_listener_actor>,
  // Internal timers.
  caf::reacts_to<half_open_atom, uint64_t>,
  caf::reacts_to<expire_atom, uint64_t>>;

/// A one_for_one supervisor.
using supervisor_actor = caf::typed_actor<
  // Returns the current handle of a child; it changes on every restart.
  caf::replies_to<which_atom, std::string>::with<caf::actor>,
  caf::replies_to<caf::get_atom>::with<supervisor_status>,
  caf::replies_to<metrics_atom>::with<metric_samples>,
  // Stops the children in reverse start order, then the supervisor.
  caf::reacts_to<shutdown_atom>,
  // Internal timers.
  caf::reacts_to<restart_atom, std::string, uint64_t>,
  caf::reacts_to<deadline_atom, uint64_t>>;

/// Receives market data: batches holding only its records, and gap markers
/// before any data that follows a possible loss. A batch may be sent as a
/// request; its (empty) reply tells the sender the batch was handled.
using subscriber_actor = caf::typed_actor<caf::reacts_to<batch>,
                                          caf::reacts_to<gap>>;

/// Receives a stream session's state changes.
using session_listener_actor = caf::typed_actor<
  caf::reacts_to<session_status>>;

/// What a registry needs of the actor that feeds it: to be told the
/// subscription set its subscribers want. A stream session, or an
/// attachment to a remote engine (the registry then fans a remote feed out
/// in the consumer's process).
using desire_sink_actor = caf::typed_actor<
  caf::reacts_to<desire_atom, subscription_set, trace>>;

/// One upstream stream connection's lifecycle.
using session_actor = caf::typed_actor<
  // The subscription set consumers want (from the registry).
  caf::reacts_to<desire_atom, subscription_set, trace>,
  // Events of the transport link.
  caf::reacts_to<link_opened>, caf::reacts_to<link_frame>,
  caf::reacts_to<link_closed>,
  caf::replies_to<caf::get_atom>::with<session_snapshot>,
  caf::replies_to<metrics_atom>::with<metric_samples>,
  caf::reacts_to<listen_atom, session_listener_actor>,
  // Closes the connection (bounded by a timeout), then exits.
  caf::reacts_to<shutdown_atom>,
  // Internal timers.
  caf::reacts_to<retry_atom, uint64_t>, caf::reacts_to<timeout_atom, uint64_t>,
  caf::reacts_to<watchdog_atom, uint64_t>>;

/// Fans one session's data out to subscribers by topic.
using registry_actor = caf::typed_actor<
  // Adds topics; returns the subscriber's full topic list.
  caf::replies_to<subscribe_atom, subscriber_actor, std::vector<topic>,
                  trace>::with<std::vector<topic>>,
  // Names the subscriber in logs and the `subscriber` metric label (sent
  // before its subscribe; a name in use gets "#2", "#3", ...). Without one
  // it is "subscriber-N" ("remote-N@PID" from another node).
  caf::reacts_to<label_atom, subscriber_actor, std::string>,
  // Removes topics ("*" symbol entries included); returns what is left.
  caf::replies_to<unsubscribe_atom, subscriber_actor, std::vector<topic>,
                  trace>::with<std::vector<topic>>,
  // Repairs the subscriber's gaps on these channels (trades, bars) from the
  // market-data API's history: after a gap of reason reconnect, restart or
  // silent_stream it gets the missed records (batch::backfill set) and a
  // `backfilled` or `backfill_failed` marker. Sent before its subscribe,
  // as the label is; an empty list turns it off.
  caf::reacts_to<backfill_atom, subscriber_actor, std::vector<channel>>,
  // Data and gap markers from the session.
  caf::reacts_to<batch>, caf::reacts_to<gap>,
  // A repair, fetched (from its backfill_fetch).
  caf::reacts_to<backfill_result>,
  // The session feeding this registry (again after every restart).
  caf::reacts_to<attach_atom, desire_sink_actor>,
  // Its own next slice of a large change.
  caf::reacts_to<slice_atom>,
  caf::replies_to<caf::get_atom>::with<registry_stats>,
  caf::replies_to<metrics_atom>::with<metric_samples>>;

/// A share of one upstream connection: subscribe at `registry`. Release it
/// (or die) when done; the connection closes with its last lease.
struct lease {
  uint64_t id = 0;
  /// The configured upstream name.
  std::string upstream;
  registry_actor registry;
  std::string endpoint;
  std::string fingerprint;
};

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, lease& x) {
  return f(caf::meta::type_name("athanor.lease"), x.id, x.upstream, x.registry,
           x.endpoint, x.fingerprint);
}

/// Owns the upstream connections: one session (with its registry) per
/// (endpoint, key fingerprint), shared by reference-counted leases.
using connection_supervisor_actor = caf::typed_actor<
  // Leases the named upstream for `lessee`, which is monitored: its death
  // releases the lease.
  caf::replies_to<lease_atom, std::string, caf::actor>::with<lease>,
  caf::reacts_to<release_atom, uint64_t>,
  caf::replies_to<caf::get_atom>::with<std::vector<upstream_health>>,
  caf::replies_to<metrics_atom>::with<metric_samples>,
  // Forwards every session's state changes.
  caf::reacts_to<listen_atom, session_listener_actor>,
  // Closes every connection, then exits (bounded by a deadline).
  caf::reacts_to<shutdown_atom>,
  // From the sessions; internal timers.
  caf::reacts_to<session_status>,
  caf::reacts_to<restart_atom, std::string, uint64_t>,
  caf::reacts_to<deadline_atom, uint64_t>>;

/// A lease that outlives the connection supervisor that granted it.
struct held_lease {
  uint64_t id = 0;
  caf::actor lessee;
};

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, held_lease& x) {
  return f(caf::meta::type_name("athanor.held_lease"), x.id, x.lessee);
}

/// The connection supervisor as its market tree runs it: it also adopts
/// the registry and leases of a crashed incarnation, under an upstream name.
using supervised_connections_actor = connection_supervisor_actor::extend<
  caf::reacts_to<adopt_atom, std::string, registry_actor,
                 std::vector<held_lease>>>;

/// The market tree's front (what everyone holds as the connection
/// supervisor): also told of each new incarnation and of its supervisor.
using connections_front_actor = connection_supervisor_actor::extend<
  caf::reacts_to<attach_atom, supervised_connections_actor>,
  caf::reacts_to<attach_atom, supervisor_actor>>;

/// Alpaca's trading REST API, rate-limited and retried where that is safe.
using rest_client_actor = caf::typed_actor<
  // POST /v2/orders, never repeated blindly: an ambiguous failure (timeout,
  // 5xx, a 422 duplicate) is resolved by looking the client_order_id up.
  caf::replies_to<place_atom, order_request, trace>::with<order>,
  // GET /v2/orders:by_client_order_id; not_found when there is none.
  caf::replies_to<lookup_atom, std::string, trace>::with<order>,
  caf::replies_to<open_orders_atom, trace>::with<std::vector<order>>,
  caf::replies_to<account_atom, trace>::with<account>,
  caf::replies_to<positions_atom, trace>::with<std::vector<position>>,
  // GET /v2/assets/{symbol}; not_found for a symbol the broker does not know.
  caf::replies_to<asset_atom, std::string, trace>::with<asset>,
  // GET /v2/stocks/{symbol}/trades/latest?feed=F (a client whose base URL is
  // the market-data API's).
  caf::replies_to<latest_atom, std::string, std::string, trace>::with<
    latest_trade>,
  // GET /v2/stocks/{trades,quotes,bars}: one page of history (a client
  // whose base URL is the market-data API's), retried like every GET.
  caf::replies_to<history_atom, history_request, trace>::with<history_page>,
  // DELETE /v2/orders/{id}; succeeds when the order is already final too.
  caf::replies_to<cancel_atom, std::string, trace>::with<bool>,
  caf::replies_to<metrics_atom>::with<metric_samples>,
  // From the transport, and the retry timer.
  caf::reacts_to<http_answer>, caf::reacts_to<retry_atom, uint64_t>>;

/// Receives order updates and the trading stream's state changes.
using order_listener_actor = caf::typed_actor<
  caf::reacts_to<order_update>, caf::reacts_to<session_status>>;

/// The trading stream (`/stream`, trade_updates).
using trading_session_actor = caf::typed_actor<
  caf::reacts_to<link_opened>, caf::reacts_to<trading_frame>,
  caf::reacts_to<link_closed>,
  // Adds a listener (monitored); it gets the current status at once.
  caf::reacts_to<listen_atom, order_listener_actor>,
  caf::replies_to<caf::get_atom>::with<session_status>,
  caf::replies_to<metrics_atom>::with<metric_samples>,
  caf::reacts_to<shutdown_atom>,
  // Internal timers.
  caf::reacts_to<retry_atom, uint64_t>, caf::reacts_to<timeout_atom, uint64_t>>;

/// Executes plans exactly once.
using executor_actor = caf::typed_actor<
  // Validates, journals and executes a plan; a plan_id seen before returns
  // its recorded (or, while running, eventual) result.
  caf::replies_to<execute_atom, plan, trace>::with<plan_result>,
  // The recorded result of a plan; not_found if unknown.
  caf::replies_to<caf::get_atom, std::string>::with<plan_result>,
  // The trading stream's last status as the executor saw it.
  caf::replies_to<caf::get_atom>::with<session_status>,
  caf::replies_to<metrics_atom>::with<metric_samples>,
  // From the trading session.
  caf::reacts_to<order_update>, caf::reacts_to<session_status>,
  // Internal timers.
  caf::reacts_to<timeout_atom, uint64_t>>;

} // namespace athanor
