#include "messages/market.hpp"

namespace athanor {

const char* wire_name(channel x) {
  switch (x) {
    case channel::trades: return "trades";
    case channel::quotes: return "quotes";
    case channel::bars: return "bars";
    case channel::updated_bars: return "updatedBars";
    case channel::daily_bars: return "dailyBars";
    case channel::statuses: return "statuses";
    case channel::lulds: return "lulds";
    case channel::imbalances: return "imbalances";
    case channel::corrections: return "corrections";
    case channel::cancel_errors: return "cancelErrors";
    case channel::orderbooks: return "orderbooks";
  }
  return "?";
}

std::string to_string(channel x) {
  switch (x) {
    case channel::updated_bars: return "updated_bars";
    case channel::daily_bars: return "daily_bars";
    case channel::cancel_errors: return "cancel_errors";
    default: return wire_name(x);
  }
}

size_t batch::size() const {
  return trades.size() + quotes.size() + bars.size() + statuses.size()
         + lulds.size() + corrections.size() + cancel_errors.size()
         + imbalances.size() + orderbooks.size();
}

void batch::clear() {
  trades.clear();
  quotes.clear();
  bars.clear();
  statuses.clear();
  lulds.clear();
  corrections.clear();
  cancel_errors.clear();
  imbalances.clear();
  orderbooks.clear();
  received_at = 0;
  epoch = 0;
  backfill = false;
}

bool subscription_set::empty() const {
  for (auto& xs : symbols)
    if (!xs.empty())
      return false;
  return true;
}

bool operator==(const subscription_set& x, const subscription_set& y) {
  for (size_t i = 0; i < std::size(all_channels); ++i)
    if (x.symbols[i] != y.symbols[i])
      return false;
  return true;
}

bool operator==(const trade& x, const trade& y) {
  return x.symbol == y.symbol && x.id == y.id && x.exchange == y.exchange
         && x.price == y.price && x.size == y.size && x.time == y.time
         && x.conditions == y.conditions && x.tape == y.tape
         && x.taker_side == y.taker_side;
}

bool operator==(const quote& x, const quote& y) {
  return x.symbol == y.symbol && x.bid_exchange == y.bid_exchange
         && x.bid_price == y.bid_price && x.bid_size == y.bid_size
         && x.ask_exchange == y.ask_exchange && x.ask_price == y.ask_price
         && x.ask_size == y.ask_size && x.time == y.time
         && x.conditions == y.conditions && x.tape == y.tape;
}

bool operator==(const bar& x, const bar& y) {
  return x.symbol == y.symbol && x.kind == y.kind && x.open == y.open
         && x.high == y.high && x.low == y.low && x.close == y.close
         && x.volume == y.volume && x.vwap == y.vwap
         && x.trade_count == y.trade_count && x.time == y.time;
}

} // namespace athanor
