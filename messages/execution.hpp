#pragma once

// Plans, their results, and the data the executor, the REST client and the
// trading stream exchange (plain data: their handles are in
// messages/handles.hpp, so codecs and the journal need no actor headers).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"

#include "messages/orders.hpp"

namespace athanor {

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
  /// No order exists: the request never left, or the broker refused the
  /// request itself (credentials, permissions); `reason` says which.
  not_placed,
  /// An order with the item's client_order_id exists but differs from the
  /// item (an earlier, different plan under the same plan_id); it is not
  /// adopted and nothing more is placed for the item. `reason` names the
  /// fields.
  mismatch,
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
  /// An order for this item may exist at the broker: a POST left and no
  /// answer proved it was refused. A plan whose items all say false placed
  /// nothing and may run again.
  bool order_may_exist = false;
};

struct plan_result {
  std::string plan_id;
  std::string correlation_id;
  /// True when an earlier request executed (or is executing) this plan_id
  /// and this is its result; never for the request that executed it, however
  /// often that request asks again.
  bool replayed = false;
  /// True when an earlier execution of this plan_id placed nothing (it was
  /// refused before any order could exist) and this request executed it
  /// again.
  bool retried = false;
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
           x.filled_qty, x.filled_avg_price, x.reason, x.order_may_exist);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, plan_result& x) {
  return f(caf::meta::type_name("athanor.plan_result"), x.plan_id,
           x.correlation_id, x.replayed, x.retried, x.items);
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

} // namespace athanor
