#pragma once

// A deterministic market: seeded random walks of quotes and trades for any
// symbol, and minute bars made from the trades. The same seed and the same
// calls give the same records.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "messages/market.hpp"

namespace athanor::sim {

class tape {
 public:
  explicit tape(uint64_t seed) : state_(seed) {}

  /// Appends `count` records for `symbols` (round robin) stamped `now`:
  /// four quotes for every trade.
  void generate(const std::vector<std::string>& symbols, size_t count,
                timestamp_ns now, batch& out);

  /// Appends a minute bar for every symbol that traded since the last call,
  /// labelled with `bar_start`.
  void close_bars(timestamp_ns bar_start, batch& out);

  /// The last trade price of `symbol` (what market orders fill at).
  double last_price(const std::string& symbol);

 private:
  struct symbol_state {
    double price = 0;
    int64_t next_trade_id = 1;
    bool traded = false;
    bar minute;
  };

  uint64_t next();
  symbol_state& state_of(const std::string& symbol);

  uint64_t state_;
  size_t cursor_ = 0;
  uint64_t sequence_ = 0;
  std::map<std::string, symbol_state> symbols_;
};

} // namespace athanor::sim
