#include "sim/tape.hpp"

#include <algorithm>
#include <cmath>

namespace athanor::sim {

uint64_t tape::next() {
  // splitmix64: the same sequence on every platform.
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

tape::symbol_state& tape::state_of(const std::string& symbol) {
  auto i = symbols_.find(symbol);
  if (i != symbols_.end())
    return i->second;
  auto& st = symbols_[symbol];
  // A starting price between 10 and 500 that depends only on the symbol.
  uint64_t h = 1469598103934665603ULL;
  for (auto c : symbol)
    h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  st.price = 10.0 + static_cast<double>(h % 49000) / 100.0;
  return st;
}

double tape::last_price(const std::string& symbol) {
  return state_of(symbol).price;
}

void tape::generate(const std::vector<std::string>& symbols, size_t count,
                    timestamp_ns now, batch& out) {
  if (symbols.empty())
    return;
  for (size_t n = 0; n < count; ++n) {
    auto& symbol = symbols[cursor_++ % symbols.size()];
    auto& st = state_of(symbol);
    auto r = next();
    // A walk in cents, never below one dollar.
    auto step = (static_cast<double>(r % 5) - 2.0) / 100.0;
    st.price = std::max(1.0, std::round((st.price + step) * 100.0) / 100.0);
    auto time = now + static_cast<timestamp_ns>(sequence_++ % 1000);
    if ((r >> 8) % 5 == 0) {
      auto size = static_cast<double>((r >> 16) % 500 + 1);
      out.trades.push_back(
        {symbol, st.next_trade_id++, 'V', st.price, size, time, "@", 'C', 0});
      if (!st.traded) {
        st.traded = true;
        st.minute = bar{symbol,   bar_kind::minute,
                        st.price, st.price,
                        st.price, st.price,
                        0,        0,
                        0,        0};
      }
      auto& b = st.minute;
      b.high = std::max(b.high, st.price);
      b.low = std::min(b.low, st.price);
      b.close = st.price;
      b.vwap = (b.vwap * b.volume + st.price * size) / (b.volume + size);
      b.volume += size;
      ++b.trade_count;
    } else {
      auto bid_size = static_cast<double>((r >> 16) % 9 + 1);
      auto ask_size = static_cast<double>((r >> 24) % 9 + 1);
      // Whole cents, as a real feed quotes them.
      auto cents = [](double x) { return std::round(x * 100.0) / 100.0; };
      out.quotes.push_back({symbol, 'V', cents(st.price - 0.01), bid_size, 'V',
                            cents(st.price + 0.01), ask_size, time, "R", 'C'});
    }
  }
}

void tape::close_bars(timestamp_ns bar_start, batch& out) {
  for (auto& [symbol, st] : symbols_) {
    if (!st.traded)
      continue;
    st.minute.time = bar_start;
    st.minute.vwap = std::round(st.minute.vwap * 10000.0) / 10000.0;
    out.bars.push_back(st.minute);
    st.traded = false;
  }
}

} // namespace athanor::sim
