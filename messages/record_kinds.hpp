#pragma once

// Visiting the record vectors of batches kind by kind, so code that merges,
// trims or prints batches does not list the kinds again.

#include "messages/market.hpp"

namespace athanor {

/// Calls `f(x.trades, y.trades)`, `f(x.quotes, y.quotes)`, ... for every
/// record kind of two batches, in declaration order.
template <class X, class Y, class F>
void for_each_kind(X& x, Y& y, F&& f) {
  f(x.trades, y.trades);
  f(x.quotes, y.quotes);
  f(x.bars, y.bars);
  f(x.statuses, y.statuses);
  f(x.lulds, y.lulds);
  f(x.corrections, y.corrections);
  f(x.cancel_errors, y.cancel_errors);
  f(x.imbalances, y.imbalances);
  f(x.orderbooks, y.orderbooks);
}

} // namespace athanor
