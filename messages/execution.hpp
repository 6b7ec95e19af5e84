#pragma once

// Plans, their results, and the messages between the executor, the REST
// client and the trading stream, with their typed handles.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "messages/atoms.hpp"
#include "messages/handles.hpp"
#include "messages/orders.hpp"

namespace athanor {

/// Places an order (REST client) or executes a plan (executor).
using place_atom = caf::atom_constant<caf::atom("place")>;
/// Looks an order up by its client_order_id.
using lookup_atom = caf::atom_constant<caf::atom("lookup")>;
/// Lists the account's open orders.
using open_orders_atom = caf::atom_constant<caf::atom("openorders")>;
/// Reads the account.
using account_atom = caf::atom_constant<caf::atom("account")>;
/// Executes a plan.
using execute_atom = caf::atom_constant<caf::atom("execute")>;
/// Cancels an order.
using cancel_atom = caf::atom_constant<caf::atom("cancel")>;

/// One line of a rebalance plan.
struct plan_item {
  std::string symbol;
  order_side side = order_side::buy;
  order_type type = order_type::market;
  time_in_force tif = time_in_force::day;
  /// Exactly one of qty and notional is set.
  decimal qty;
  decimal notional;
  /// Limit orders only.
  decimal limit_price;
};

/// In which order a plan's items are placed.
enum class plan_sequence : uint8_t {
  /// Every sell first; buys only once every sell is final (sells free the
  /// cash buys need).
  sells_first,
  /// Everything at once, in the order given.
  as_listed,
};

std::string to_string(plan_sequence x);

/// A rebalance plan (JSON format: see README, "Executing plans").
struct plan {
  /// Unique forever: the same plan_id never executes twice.
  std::string plan_id;
  /// Carried by every log line and event of the plan.
  std::string correlation_id;
  std::vector<plan_item> items;
  plan_sequence sequence = plan_sequence::sells_first;
  /// Milliseconds from acceptance until unfinished items end as timed_out
  /// (their open orders are canceled); 0 means the executor's default.
  int64_t deadline_ms = 0;
};

/// How one item of a plan ended (or stands).
enum class item_outcome : uint8_t {
  /// Not final yet.
  pending,
  filled,
  partially_filled,
  /// Refused by the broker (or never placed); `reason` says why.
  rejected,
  canceled,
  expired,
  /// The deadline passed first; open orders were canceled.
  timed_out,
};

std::string to_string(item_outcome x);

struct item_result {
  uint32_t index = 0;
  std::string symbol;
  order_side side = order_side::buy;
  std::string client_order_id;
  /// Alpaca's order id, once placed.
  std::string order_id;
  item_outcome outcome = item_outcome::pending;
  order_status status = order_status::unknown;
  decimal filled_qty;
  decimal filled_avg_price;
  std::string reason;
};

struct plan_result {
  std::string plan_id;
  std::string correlation_id;
  /// True when the plan had run before and this is its recorded result.
  bool replayed = false;
  std::vector<item_result> items;

  /// Returns whether every item filled completely.
  bool succeeded() const;
  /// Returns whether every item reached a final outcome.
  bool finished() const;
};

/// Why an HTTP request got no response.
enum class http_failure : uint8_t {
  /// A response came.
  none,
  bad_url,
  resolve_failed,
  /// No connection: the request never left.
  connect_failed,
  tls_failed,
  certificate_invalid,
  /// No complete response in time; the server may have carried it out.
  timeout,
  /// The connection broke after the request may have left.
  connection_lost,
  /// The transport was shut down first.
  canceled,
};

std::string to_string(http_failure x);

/// REST transport -> REST client: the answer to request `id`.
struct http_answer {
  uint64_t id = 0;
  /// 0 when no response came; `failure` then says why.
  int status = 0;
  http_failure failure = http_failure::none;
  /// The transport's words on a failure.
  std::string detail;
  /// Lower-case names.
  std::map<std::string, std::string> headers;
  std::string body;
  /// Wall clock of the arrival (ns), stamped by the transport.
  int64_t received_at = 0;
};

/// Trading-stream transport -> trading session: one raw frame (text or
/// binary; both carry JSON). Frames are few, so they are decoded in the
/// session.
struct trading_frame {
  uint64_t epoch = 0;
  std::string text;
};

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, plan_item& x) {
  return f(caf::meta::type_name("athanor.plan_item"), x.symbol, x.side, x.type,
           x.tif, x.qty, x.notional, x.limit_price);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, plan& x) {
  return f(caf::meta::type_name("athanor.plan"), x.plan_id, x.correlation_id,
           x.items, x.sequence, x.deadline_ms);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, item_result& x) {
  return f(caf::meta::type_name("athanor.item_result"), x.index, x.symbol,
           x.side, x.client_order_id, x.order_id, x.outcome, x.status,
           x.filled_qty, x.filled_avg_price, x.reason);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, plan_result& x) {
  return f(caf::meta::type_name("athanor.plan_result"), x.plan_id,
           x.correlation_id, x.replayed, x.items);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, http_answer& x) {
  return f(caf::meta::type_name("athanor.http_answer"), x.id, x.status,
           x.failure, x.detail, x.headers, x.body, x.received_at);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, trading_frame& x) {
  return f(caf::meta::type_name("athanor.trading_frame"), x.epoch, x.text);
}

/// Alpaca's trading REST API, rate-limited and retried where that is safe.
using rest_client_actor = caf::typed_actor<
  // POST /v2/orders, never repeated blindly: an ambiguous failure (timeout,
  // 5xx, a 422 duplicate) is resolved by looking the client_order_id up.
  caf::replies_to<place_atom, order_request, trace>::with<order>,
  // GET /v2/orders:by_client_order_id; not_found when there is none.
  caf::replies_to<lookup_atom, std::string, trace>::with<order>,
  caf::replies_to<open_orders_atom, trace>::with<std::vector<order>>,
  caf::replies_to<account_atom, trace>::with<account>,
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
