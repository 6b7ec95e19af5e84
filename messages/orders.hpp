#pragma once

// Orders as the executor, the REST client and the trading stream see them.
// Money and quantities are `decimal`; timestamps are nanoseconds since the
// epoch (0 when absent).

#include <cstdint>
#include <string>

#include "caf/meta/type_name.hpp"

#include "messages/decimal.hpp"
#include "messages/market.hpp"

namespace athanor {

enum class order_side : uint8_t { buy, sell };
enum class order_type : uint8_t {
  market,
  limit,
  stop,
  stop_limit,
  trailing_stop
};
enum class time_in_force : uint8_t { day, gtc, opg, cls, ioc, fok };

/// Alpaca's order statuses; `unknown` keeps the raw text in `order`.
enum class order_status : uint8_t {
  new_order,
  partially_filled,
  filled,
  done_for_day,
  canceled,
  expired,
  replaced,
  pending_cancel,
  pending_replace,
  accepted,
  pending_new,
  accepted_for_bidding,
  stopped,
  rejected,
  suspended,
  calculated,
  held,
  unknown,
};

/// The events of the `trade_updates` stream; `unknown` means "refresh this
/// order through REST".
enum class trade_event : uint8_t {
  new_order,
  fill,
  partial_fill,
  canceled,
  expired,
  done_for_day,
  replaced,
  rejected,
  pending_new,
  stopped,
  pending_cancel,
  pending_replace,
  calculated,
  suspended,
  order_replace_rejected,
  order_cancel_rejected,
  accepted,
  unknown,
};

std::string to_string(order_side x);
std::string to_string(order_type x);
std::string to_string(time_in_force x);
std::string to_string(order_status x);
std::string to_string(trade_event x);

/// Parse Alpaca's wire names; nullopt for anything else.
std::optional<order_side> parse_order_side(std::string_view x);
std::optional<order_type> parse_order_type(std::string_view x);
std::optional<time_in_force> parse_time_in_force(std::string_view x);
/// Unknown statuses and events map to `unknown`, never fail.
order_status parse_order_status(std::string_view x);
trade_event parse_trade_event(std::string_view x);

/// Returns whether no further fills can come for an order in `x`.
bool is_final(order_status x);

/// POST /v2/orders.
struct order_request {
  std::string symbol;
  order_side side = order_side::buy;
  order_type type = order_type::market;
  time_in_force tif = time_in_force::day;
  /// Exactly one of qty and notional is set.
  decimal qty;
  decimal notional;
  decimal limit_price;
  decimal stop_price;
  bool extended_hours = false;
  /// Unique forever per account; <= 128 characters.
  std::string client_order_id;
};

/// Alpaca's order object (REST responses and trade updates).
struct order {
  std::string id;
  std::string client_order_id;
  std::string symbol;
  std::string asset_class;
  order_side side = order_side::buy;
  order_type type = order_type::market;
  time_in_force tif = time_in_force::day;
  order_status status = order_status::unknown;
  /// The status as sent, kept when it is `unknown` to us.
  std::string status_text;
  decimal qty;
  decimal notional;
  decimal filled_qty;
  decimal filled_avg_price;
  decimal limit_price;
  decimal stop_price;
  bool extended_hours = false;
  timestamp_ns created_at = 0;
  timestamp_ns updated_at = 0;
  timestamp_ns submitted_at = 0;
  timestamp_ns filled_at = 0;
  timestamp_ns canceled_at = 0;
  timestamp_ns expired_at = 0;
  timestamp_ns failed_at = 0;
  std::string replaced_by;
  std::string replaces;
};

/// One `trade_updates` message.
struct order_update {
  trade_event event = trade_event::unknown;
  /// The event as sent, kept when it is `unknown` to us.
  std::string event_text;
  order subject;
  /// When the event happened (0 if the server did not say).
  timestamp_ns at = 0;
  /// Fills only: this execution's price and quantity, and the position after.
  decimal price;
  decimal qty;
  decimal position_qty;
  std::string execution_id;
  /// The message exactly as the trading stream sent it (JSON), so the
  /// gateway forwards every field, also those this engine does not read.
  /// Empty for updates made up elsewhere (tests).
  std::string wire_json;
};

/// GET /v2/account (the fields the engine uses).
struct account {
  std::string id;
  std::string account_number;
  std::string status;
  std::string currency;
  decimal cash;
  decimal equity;
  decimal buying_power;
  decimal portfolio_value;
  bool trading_blocked = false;
  bool account_blocked = false;
  bool pattern_day_trader = false;
};

/// GET /v2/positions (one element).
struct position {
  std::string symbol;
  std::string asset_class;
  /// Signed: negative for short positions.
  decimal qty;
  decimal qty_available;
  decimal avg_entry_price;
  decimal market_value;
  decimal current_price;
  decimal unrealized_pl;
  std::string side;
};

/// GET /v2/assets/{symbol} (the fields a plan check uses).
struct asset {
  std::string symbol;
  std::string asset_class;
  std::string exchange;
  /// "active" or "inactive".
  std::string status;
  bool tradable = false;
  bool fractionable = false;
  bool shortable = false;
};

/// GET /v2/stocks/{symbol}/trades/latest (market-data API): the price a
/// market order's cost is estimated with.
struct latest_trade {
  std::string symbol;
  decimal price;
  timestamp_ns at = 0;
};

/// An error body: {"code": 40010001, "message": "..."}.
struct api_error {
  int http_status = 0;
  int64_t code = 0;
  std::string message;
};

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_request& x) {
  return f(caf::meta::type_name("athanor.order_request"), x.symbol, x.side,
           x.type, x.tif, x.qty, x.notional, x.limit_price, x.stop_price,
           x.extended_hours, x.client_order_id);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, order& x) {
  return f(caf::meta::type_name("athanor.order"), x.id, x.client_order_id,
           x.symbol, x.asset_class, x.side, x.type, x.tif, x.status,
           x.status_text, x.qty, x.notional, x.filled_qty, x.filled_avg_price,
           x.limit_price, x.stop_price, x.extended_hours, x.created_at,
           x.updated_at, x.submitted_at, x.filled_at, x.canceled_at,
           x.expired_at, x.failed_at, x.replaced_by, x.replaces);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, order_update& x) {
  return f(caf::meta::type_name("athanor.order_update"), x.event, x.event_text,
           x.subject, x.at, x.price, x.qty, x.position_qty, x.execution_id,
           x.wire_json);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, account& x) {
  return f(caf::meta::type_name("athanor.account"), x.id, x.account_number,
           x.status, x.currency, x.cash, x.equity, x.buying_power,
           x.portfolio_value, x.trading_blocked, x.account_blocked,
           x.pattern_day_trader);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, position& x) {
  return f(caf::meta::type_name("athanor.position"), x.symbol, x.asset_class,
           x.qty, x.qty_available, x.avg_entry_price, x.market_value,
           x.current_price, x.unrealized_pl, x.side);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, asset& x) {
  return f(caf::meta::type_name("athanor.asset"), x.symbol, x.asset_class,
           x.exchange, x.status, x.tradable, x.fractionable, x.shortable);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, latest_trade& x) {
  return f(caf::meta::type_name("athanor.latest_trade"), x.symbol, x.price,
           x.at);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, api_error& x) {
  return f(caf::meta::type_name("athanor.api_error"), x.http_status, x.code,
           x.message);
}

} // namespace athanor
