#define CAF_SUITE unit.live_view
#include "app/live_view.hpp"

#include "caf/test/unit_test.hpp"

#include <sstream>

using namespace athanor;
using namespace std::chrono_literals;

namespace {

using time_point = live_view::time_point;

time_point at(std::chrono::nanoseconds x) {
  return time_point{} + x;
}

quote quote_of(std::string symbol, double bid, double ask) {
  quote q;
  q.symbol = std::move(symbol);
  q.bid_price = bid;
  q.ask_price = ask;
  q.bid_size = 100;
  q.ask_size = 0.0125;
  return q;
}

trade trade_of(std::string symbol, double price) {
  trade t;
  t.symbol = std::move(symbol);
  t.price = price;
  t.size = 7;
  return t;
}

std::vector<std::string> lines_of(const std::string& screen) {
  std::vector<std::string> result;
  std::istringstream in{screen};
  for (std::string line; std::getline(in, line);)
    result.push_back(line);
  return result;
}

bool shows(const std::string& screen, const std::string& what) {
  return screen.find(what) != std::string::npos;
}

} // namespace

CAF_TEST(prices carry the precision they need) {
  CAF_CHECK_EQUAL(price_text(189.1234), "189.12");
  CAF_CHECK_EQUAL(price_text(0.3412), "0.3412");
  CAF_CHECK_EQUAL(price_text(0.00001234), "0.00001234");
  CAF_CHECK_EQUAL(price_text(0), "-");
  CAF_CHECK_EQUAL(price_text(0.02, 189.12), "0.02");
  CAF_CHECK_EQUAL(price_text(0, 189.12), "0.00");
  CAF_CHECK_EQUAL(size_text(100), "100");
  CAF_CHECK_EQUAL(size_text(0.0125), "0.0125");
  CAF_CHECK_EQUAL(age_text(300ms), "0.3 s");
  CAF_CHECK_EQUAL(age_text(42s), "42 s");
  CAF_CHECK_EQUAL(age_text(3min), "3 min");
}

CAF_TEST(a trades only run shows a trades pane) {
  live_view view{{{channel::trades}, {}, 5s}};
  CAF_CHECK(shows(view.render(at(0s), 40, 120), "(none yet)"));
  batch b;
  b.trades.push_back(trade_of("AAPL", 189.5));
  view.on_batch(b, at(1s));
  auto screen = view.render(at(1s), 40, 120);
  CAF_CHECK(shows(screen, "TRADES"));
  CAF_CHECK(!shows(screen, "QUOTES"));
  CAF_CHECK(shows(screen, "AAPL"));
  CAF_CHECK(shows(screen, "189.50"));
}

CAF_TEST(quotes show the spread and a frozen row is marked stale) {
  live_view view{{{channel::quotes, channel::trades, channel::bars}, {}, 5s}};
  batch b;
  b.quotes.push_back(quote_of("AAPL", 189.12, 189.15));
  b.quotes.push_back(quote_of("BTC/USD", 0.00001234, 0.00001240));
  view.on_batch(b, at(0s));
  batch later;
  later.quotes.push_back(quote_of("AAPL", 189.13, 189.16));
  view.on_batch(later, at(7s));
  auto screen = view.render(at(8s), 40, 140);
  CAF_CHECK(shows(screen, "QUOTES"));
  CAF_CHECK(shows(screen, "TRADES"));
  CAF_CHECK(shows(screen, "BARS"));
  std::string aapl, btc;
  for (auto& line : lines_of(screen)) {
    if (shows(line, "AAPL"))
      aapl = line;
    if (shows(line, "BTC/USD"))
      btc = line;
  }
  CAF_CHECK(shows(aapl, " 0.03 ")); // the spread, at the price's precision
  CAF_CHECK(shows(aapl, "1.0 s"));  // fresh
  CAF_CHECK(!shows(aapl, "STALE"));
  CAF_CHECK(shows(btc, "0.00001234"));
  CAF_CHECK(shows(btc, "0.0125"));  // a fractional size
  CAF_CHECK(shows(btc, "8.0 s STALE"));
}

CAF_TEST(the screen fits the terminal and says what it left out) {
  live_view view{{{channel::quotes, channel::trades}, {"status page x"}, 5s}};
  batch b;
  for (int i = 0; i < 500; ++i) {
    b.quotes.push_back(quote_of("S" + std::to_string(1000 + i), 10, 10.01));
    b.trades.push_back(trade_of("S" + std::to_string(1000 + i), 10));
  }
  view.on_batch(b, at(0s));
  for (auto [rows, cols] : {std::pair{24, 80}, std::pair{50, 200},
                            std::pair{8, 40}}) {
    auto lines = lines_of(view.render(at(0s), rows, cols));
    CAF_CHECK_LESS_OR_EQUAL(lines.size(), static_cast<size_t>(rows));
    for (auto& line : lines)
      CAF_CHECK_LESS_OR_EQUAL(line.size(), static_cast<size_t>(cols));
    CAF_CHECK_EQUAL(lines.back(), "Ctrl-C to stop");
  }
  auto screen = view.render(at(0s), 24, 120);
  CAF_CHECK(shows(screen, "more (a taller terminal"));
  // The notices stay on screen.
  CAF_CHECK(shows(screen, "* status page x"));
  // A taller terminal shows more rows.
  auto count_rows = [](const std::string& s) {
    size_t n = 0;
    for (auto& line : lines_of(s))
      n += line.find("         S1") == 0;
    return n;
  };
  CAF_CHECK_LESS(count_rows(view.render(at(0s), 24, 120)),
                 count_rows(view.render(at(0s), 60, 120)));
}

CAF_TEST(records per second come from the ticks) {
  live_view view{{{channel::quotes}, {}, 5s}};
  view.tick(at(0s));
  batch b;
  for (int i = 0; i < 10; ++i)
    b.quotes.push_back(quote_of("AAPL", 1, 2));
  view.on_batch(b, at(100ms));
  view.tick(at(500ms));
  CAF_CHECK(shows(view.render(at(500ms), 24, 80), "records 10  20/s"));
}
