#pragma once

// Market-data records as the engine carries them. Prices and sizes are
// doubles in the feed's own units (dollars; shares or round lots for stocks,
// coins for crypto), exactly as Alpaca sends them. Timestamps are int64
// nanoseconds since the Unix epoch (UTC).

#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"

namespace athanor {

/// Nanoseconds since the Unix epoch, UTC.
using timestamp_ns = int64_t;

/// A subscribable stream of one kind of record.
enum class channel : uint8_t {
  trades,
  quotes,
  bars,
  updated_bars,
  daily_bars,
  statuses,
  lulds,
  imbalances,
  /// Subscribed implicitly with trades.
  corrections,
  /// Subscribed implicitly with trades.
  cancel_errors,
  /// Crypto only.
  orderbooks,
};

/// Every channel, in declaration order.
inline constexpr channel all_channels[] = {
  channel::trades,        channel::quotes,     channel::bars,
  channel::updated_bars,  channel::daily_bars, channel::statuses,
  channel::lulds,         channel::imbalances, channel::corrections,
  channel::cancel_errors, channel::orderbooks,
};

/// Returns Alpaca's name of `x`, e.g. "updatedBars".
const char* wire_name(channel x);

/// Returns our name of `x`, e.g. "updated_bars".
std::string to_string(channel x);

/// Condition codes are single characters (CTA/UTP); a record keeps them as
/// one string, e.g. "@I" for ["@", "I"].
using condition_codes = std::string;

struct trade {
  std::string symbol;
  /// Unique per exchange and tape; above 2^53 for crypto.
  int64_t id = 0;
  char exchange = 0;
  double price = 0;
  /// Shares (stocks) or coins (crypto).
  double size = 0;
  timestamp_ns time = 0;
  condition_codes conditions;
  char tape = 0;
  /// Crypto only: 'B' or 'S'.
  char taker_side = 0;
};

struct quote {
  std::string symbol;
  char bid_exchange = 0;
  double bid_price = 0;
  double bid_size = 0;
  char ask_exchange = 0;
  double ask_price = 0;
  double ask_size = 0;
  timestamp_ns time = 0;
  condition_codes conditions;
  char tape = 0;
};

enum class bar_kind : uint8_t {
  /// "b": the minute that starts at `time`.
  minute,
  /// "u": a corrected minute bar; replaces the bar with the same time.
  updated,
  /// "d": the trading day so far.
  daily,
};

struct bar {
  std::string symbol;
  bar_kind kind = bar_kind::minute;
  double open = 0;
  double high = 0;
  double low = 0;
  double close = 0;
  double volume = 0;
  double vwap = 0;
  uint64_t trade_count = 0;
  /// The start of the bar's interval.
  timestamp_ns time = 0;
};

struct trading_status {
  std::string symbol;
  std::string status_code;
  std::string status_message;
  std::string reason_code;
  std::string reason_message;
  timestamp_ns time = 0;
  char tape = 0;
};

/// Limit up / limit down bands.
struct luld {
  std::string symbol;
  double limit_up = 0;
  double limit_down = 0;
  char indicator = 0;
  timestamp_ns time = 0;
  char tape = 0;
};

/// Replaces trade `original_id` with the corrected values.
struct correction {
  std::string symbol;
  char exchange = 0;
  int64_t original_id = 0;
  double original_price = 0;
  double original_size = 0;
  condition_codes original_conditions;
  int64_t corrected_id = 0;
  double corrected_price = 0;
  double corrected_size = 0;
  condition_codes corrected_conditions;
  timestamp_ns time = 0;
  char tape = 0;
};

/// Busts trade `id`: 'C' cancel or 'E' error.
struct cancel_error {
  std::string symbol;
  int64_t id = 0;
  char exchange = 0;
  double price = 0;
  double size = 0;
  char action = 0;
  timestamp_ns time = 0;
  char tape = 0;
};

struct imbalance {
  std::string symbol;
  double price = 0;
  timestamp_ns time = 0;
  char tape = 0;
};

struct price_level {
  double price = 0;
  /// Zero deletes the level.
  double size = 0;
};

/// Crypto order book: a full snapshot when `reset`, else level upserts.
struct orderbook {
  std::string symbol;
  timestamp_ns time = 0;
  std::vector<price_level> bids;
  std::vector<price_level> asks;
  bool reset = false;
};

/// The data records of one upstream frame. Records of one kind keep their
/// order; the interleaving of different kinds within a frame is not kept
/// (their timestamps order them).
struct batch {
  std::vector<trade> trades;
  std::vector<quote> quotes;
  std::vector<bar> bars;
  std::vector<trading_status> statuses;
  std::vector<luld> lulds;
  std::vector<correction> corrections;
  std::vector<cancel_error> cancel_errors;
  std::vector<imbalance> imbalances;
  std::vector<orderbook> orderbooks;
  /// When the transport received the frame (wall clock, for lag metrics).
  timestamp_ns received_at = 0;
  /// Counts the session's connections; a new epoch follows every reconnect.
  /// The high 32 bits count session restarts, so epochs never repeat.
  uint64_t epoch = 0;
  /// Records fetched from the REST API to repair a gap (backfill), not
  /// streamed; only subscribers that asked for backfill get such batches.
  bool backfill = false;

  /// Returns the number of records.
  size_t size() const;

  bool empty() const {
    return size() == 0;
  }

  void clear();
};

/// What a client wants, or what the server confirmed: symbols per channel,
/// "*" meaning every symbol.
struct subscription_set {
  std::vector<std::string> symbols[std::size(all_channels)];

  std::vector<std::string>& operator[](channel x) {
    return symbols[static_cast<size_t>(x)];
  }

  const std::vector<std::string>& operator[](channel x) const {
    return symbols[static_cast<size_t>(x)];
  }

  bool empty() const;
};

bool operator==(const subscription_set& x, const subscription_set& y);
bool operator==(const trade& x, const trade& y);
bool operator==(const quote& x, const quote& y);
bool operator==(const bar& x, const bar& y);

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, trade& x) {
  return f(caf::meta::type_name("athanor.trade"), x.symbol, x.id, x.exchange,
           x.price, x.size, x.time, x.conditions, x.tape, x.taker_side);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, quote& x) {
  return f(caf::meta::type_name("athanor.quote"), x.symbol, x.bid_exchange,
           x.bid_price, x.bid_size, x.ask_exchange, x.ask_price, x.ask_size,
           x.time, x.conditions, x.tape);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, bar& x) {
  return f(caf::meta::type_name("athanor.bar"), x.symbol, x.kind, x.open,
           x.high, x.low, x.close, x.volume, x.vwap, x.trade_count, x.time);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, trading_status& x) {
  return f(caf::meta::type_name("athanor.trading_status"), x.symbol,
           x.status_code, x.status_message, x.reason_code, x.reason_message,
           x.time, x.tape);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, luld& x) {
  return f(caf::meta::type_name("athanor.luld"), x.symbol, x.limit_up,
           x.limit_down, x.indicator, x.time, x.tape);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, correction& x) {
  return f(caf::meta::type_name("athanor.correction"), x.symbol, x.exchange,
           x.original_id, x.original_price, x.original_size,
           x.original_conditions, x.corrected_id, x.corrected_price,
           x.corrected_size, x.corrected_conditions, x.time, x.tape);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, cancel_error& x) {
  return f(caf::meta::type_name("athanor.cancel_error"), x.symbol, x.id,
           x.exchange, x.price, x.size, x.action, x.time, x.tape);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, imbalance& x) {
  return f(caf::meta::type_name("athanor.imbalance"), x.symbol, x.price, x.time,
           x.tape);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, price_level& x) {
  return f(caf::meta::type_name("athanor.price_level"), x.price, x.size);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, orderbook& x) {
  return f(caf::meta::type_name("athanor.orderbook"), x.symbol, x.time, x.bids,
           x.asks, x.reset);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, batch& x) {
  return f(caf::meta::type_name("athanor.batch"), x.trades, x.quotes, x.bars,
           x.statuses, x.lulds, x.corrections, x.cancel_errors, x.imbalances,
           x.orderbooks, x.received_at, x.epoch, x.backfill);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, subscription_set& x) {
  return f(caf::meta::type_name("athanor.subscription_set"), x.symbols);
}

} // namespace athanor
