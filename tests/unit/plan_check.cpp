#define CAF_SUITE unit.plan_check
#include "runtime/plan_check.hpp"

#include "caf/test/unit_test.hpp"

using namespace athanor;

namespace {

decimal dec(const char* x) {
  return *decimal::parse(x);
}

plan_item item(const char* symbol, order_side side, const char* qty) {
  plan_item x;
  x.symbol = symbol;
  x.side = side;
  x.qty = dec(qty);
  return x;
}

asset tradable(const char* symbol, bool fractionable = true) {
  asset a;
  a.symbol = symbol;
  a.status = "active";
  a.tradable = true;
  a.fractionable = fractionable;
  return a;
}

struct fixture {
  plan p;
  account_view view;

  fixture() {
    p.plan_id = "pc";
    view.acct.buying_power = dec("1000");
    for (auto s : {"AAPL", "MSFT"})
      view.assets.emplace(s, tradable(s));
    view.prices.emplace("AAPL", dec("100"));
    position msft;
    msft.symbol = "MSFT";
    msft.qty = dec("4");
    msft.qty_available = dec("4");
    msft.current_price = dec("200");
    view.positions.push_back(msft);
  }

  std::vector<std::string> fields() {
    std::vector<std::string> result;
    for (auto& x : check_plan(p, view).problems)
      result.push_back(x.option);
    return result;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(plan_check_tests, fixture)

CAF_TEST(a plan within the account passes and lists what would be sent) {
  p.items = {item("AAPL", order_side::buy, "5"),
             item("MSFT", order_side::sell, "2")};
  auto x = check_plan(p, view);
  CAF_CHECK(x.ok());
  CAF_REQUIRE_EQUAL(x.orders.size(), 2u);
  CAF_CHECK_EQUAL(x.orders[0].request.client_order_id, "ath-pc-0");
  CAF_CHECK_EQUAL(x.orders[0].estimated_value, 500.0);
  // A sell is valued at its position's price.
  CAF_CHECK_EQUAL(x.orders[1].estimated_value, 400.0);
  CAF_CHECK_EQUAL(x.buys, 500.0);
  CAF_CHECK_EQUAL(x.sells, 400.0);
}

CAF_TEST(buys beyond the buying power fail and sells placed first count) {
  p.items = {item("AAPL", order_side::buy, "12"),
             item("MSFT", order_side::sell, "2")};
  // 1200 needed; 1000 + 400 from the sells placed first.
  CAF_CHECK(check_plan(p, view).ok());
  p.sequence = plan_sequence::as_listed;
  auto x = check_plan(p, view);
  CAF_REQUIRE_EQUAL(x.problems.size(), 1u);
  CAF_CHECK_EQUAL(x.problems[0].option, "account");
  CAF_CHECK_NOT_EQUAL(x.problems[0].message.find("1200.00"),
                      std::string::npos);
}

CAF_TEST(a sell beyond what is held names the item) {
  p.items = {item("MSFT", order_side::sell, "5"),
             item("AAPL", order_side::sell, "1")};
  CAF_CHECK_EQUAL(fields(),
                  (std::vector<std::string>{"items[0].qty", "items[1].qty"}));
  auto x = check_plan(p, view);
  CAF_CHECK_NOT_EQUAL(x.problems[0].message.find("only 4 are held"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(x.problems[1].message.find("none is held"),
                      std::string::npos);
}

CAF_TEST(unknown untradable and unfractionable assets are named) {
  view.assets.emplace("HALT", tradable("HALT"));
  view.assets.at("HALT").tradable = false;
  view.assets.at("HALT").status = "inactive";
  view.assets.emplace("BRK.A", tradable("BRK.A", false));
  view.prices.emplace("HALT", dec("1"));
  view.prices.emplace("BRK.A", dec("1"));
  view.prices.emplace("NOPE", dec("1"));
  p.items = {item("NOPE", order_side::buy, "1"),
             item("HALT", order_side::buy, "1"),
             item("BRK.A", order_side::buy, "0.5")};
  CAF_CHECK_EQUAL(fields(),
                  (std::vector<std::string>{"items[0].symbol",
                                            "items[1].symbol",
                                            "items[2].qty"}));
  // Whole shares of an unfractionable asset are fine.
  p.items = {item("BRK.A", order_side::buy, "2.00")};
  CAF_CHECK(check_plan(p, view).ok());
}

CAF_TEST(a blocked account and a missing price are problems) {
  view.acct.trading_blocked = true;
  view.assets.emplace("SPY", tradable("SPY"));
  p.items = {item("SPY", order_side::buy, "1")};
  CAF_CHECK_EQUAL(fields(),
                  (std::vector<std::string>{"account", "items[0].symbol"}));
}

CAF_TEST_FIXTURE_SCOPE_END()
