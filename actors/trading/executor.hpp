#pragma once

// Executes rebalance plans exactly once. A plan is validated, journaled with
// every item's client_order_id before any request leaves, and placed only
// while the trading stream is ready (bounded wait) and the breaker permits.
// Fills come from trade_updates; an overdue event triggers a REST lookup;
// every time the stream becomes ready, open orders are reconciled through
// REST. At start the journal's unfinished plans resume: an item whose order
// may have left is never posted blindly (the broker refuses a reused
// client_order_id, and the REST client resolves that by lookup).

#include <functional>
#include <string>
#include <vector>

#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "journal/journal.hpp"
#include "messages/config_problem.hpp"
#include "messages/handles.hpp"

namespace athanor {

struct executor_config {
  rest_client_actor rest;
  trading_session_actor trading;
  /// Consulted before every order; none = no breaker.
  breaker_actor breaker;
  journal_options journal;
  /// Names the account in logs and metrics (a key fingerprint).
  std::string account;
  /// How long orders wait for the trading stream to be ready before their
  /// items end as timed_out.
  caf::timespan ready_timeout = std::chrono::seconds{30};
  /// A plan without a deadline gets this one.
  caf::timespan default_deadline = std::chrono::minutes{5};
  /// An open order without news for this long is looked up through REST;
  /// the wait doubles per lookup up to 16x.
  caf::timespan event_timeout = std::chrono::seconds{10};
  /// After a deadline's cancels, how long to wait for their confirmation.
  caf::timespan cancel_grace = std::chrono::seconds{10};
  caf::timespan breaker_timeout = std::chrono::seconds{5};
  /// Item updates are committed to the journal together, this often (a
  /// plan and its end are committed at once).
  caf::timespan journal_flush_interval = std::chrono::milliseconds{10};
  /// Run on an own thread: journal writes block (fsync). Tests on the
  /// deterministic scheduler turn this off.
  bool detached = true;
  /// Milliseconds since the epoch. A plan's deadline counts from its
  /// acceptance across restarts, which the actor clock does not outlive, so
  /// the accepted-at time is journaled from this clock. Empty: the system
  /// clock; deterministic tests give one that follows the test clock.
  std::function<int64_t()> wall_clock_ms;
  /// Link to the REST client, the trading session and the breaker (and to
  /// `group`), so that the group lives and dies (and is restarted by its
  /// supervisor) as one.
  bool link_dependencies = false;
  /// Further members of the group, e.g. the trading stream's own breaker.
  std::vector<caf::actor> group;
};

std::vector<config_problem>
validate(const executor_config& cfg,
         const std::string& prefix = "athanor.executor.");

/// Opens the journal and spawns the executor, which registers with the
/// trading session and resumes the journal's unfinished plans.
caf::expected<executor_actor> spawn_executor(caf::actor_system& sys,
                                             executor_config cfg);

} // namespace athanor
