#define CAF_SUITE unit.execution_rules
#include "actors/trading/execution_rules.hpp"

#include "caf/test/unit_test.hpp"

using namespace athanor;

namespace {

decimal dec(const char* x) {
  return *decimal::parse(x);
}

plan_item buy_three() {
  plan_item x;
  x.symbol = "AAPL";
  x.side = order_side::buy;
  x.qty = dec("3");
  return x;
}

order order_for(const plan_item& item) {
  order o;
  o.symbol = item.symbol;
  o.side = item.side;
  o.type = item.type;
  o.tif = item.tif;
  o.qty = item.qty;
  o.notional = item.notional;
  o.limit_price = item.limit_price;
  return o;
}

} // namespace

CAF_TEST(news never moves an item back) {
  item_result item;
  item.status = order_status::partially_filled;
  item.filled_qty = dec("2");
  order o;
  o.status = order_status::accepted; // a lookup answered before the fill
  CAF_CHECK(is_stale(item, o));
  o.status = order_status::partially_filled;
  o.filled_qty = dec("1");
  CAF_CHECK(is_stale(item, o)); // less filled
  o.filled_qty = dec("3");
  CAF_CHECK(!is_stale(item, o));
  o.status = order_status::canceled;
  o.filled_qty = dec("0");
  CAF_CHECK(!is_stale(item, o)); // final news always counts
  CAF_CHECK_LESS(progress_of(order_status::accepted),
                 progress_of(order_status::pending_cancel));
  CAF_CHECK_LESS(progress_of(order_status::partially_filled),
                 progress_of(order_status::filled));
}

CAF_TEST(an order differing in any traded field is not the items) {
  auto item = buy_three();
  CAF_CHECK(differences(item, order_for(item)).empty());
  auto o = order_for(item);
  o.qty = dec("2");
  o.side = order_side::sell;
  CAF_CHECK_EQUAL(joined(differences(item, o)),
                  "side sell (plan: buy), qty 2 (plan: 3)");
  o = order_for(item);
  o.tif = time_in_force::gtc;
  o.type = order_type::limit;
  CAF_CHECK_EQUAL(differences(item, o).size(), 2u);
  // A limit price counts for limit items only.
  auto limit = buy_three();
  limit.type = order_type::limit;
  limit.limit_price = dec("100.5");
  o = order_for(limit);
  o.limit_price = dec("100.25");
  CAF_CHECK_EQUAL(joined(differences(limit, o)),
                  "limit_price 100.25 (plan: 100.5)");
  // Fields the order does not carry are not compared.
  o = order_for(item);
  o.symbol.clear();
  o.qty = decimal{};
  CAF_CHECK(differences(item, o).empty());
}

CAF_TEST(a final order decides its items outcome) {
  order o;
  o.status = order_status::filled;
  CAF_CHECK(outcome_of_final(o, false) == item_outcome::filled);
  o.status = order_status::rejected;
  CAF_CHECK(outcome_of_final(o, false) == item_outcome::rejected);
  o.status = order_status::expired;
  CAF_CHECK(outcome_of_final(o, false) == item_outcome::expired);
  o.filled_qty = dec("1");
  CAF_CHECK(outcome_of_final(o, false) == item_outcome::partially_filled);
  o.status = order_status::canceled;
  o.filled_qty = decimal{};
  CAF_CHECK(outcome_of_final(o, false) == item_outcome::canceled);
  CAF_CHECK(outcome_of_final(o, true) == item_outcome::timed_out);
}

CAF_TEST(only the accepting request is not a replay) {
  acceptance accepted{"trace-1", 0};
  CAF_CHECK(!is_replay("trace-1", accepted));
  CAF_CHECK(is_replay("trace-2", accepted));
  CAF_CHECK(is_replay("", accepted));
}

CAF_TEST(a plan may run again only if nothing of it can exist) {
  plan_result r;
  item_result refused;
  refused.outcome = item_outcome::rejected;
  r.items = {refused, refused};
  CAF_CHECK(placed_nothing(r));
  r.items[1].order_may_exist = true;
  CAF_CHECK(!placed_nothing(r));
  r.items[1].order_may_exist = false;
  r.items[1].order_id = "o-1";
  CAF_CHECK(!placed_nothing(r));
  r.items[1].order_id.clear();
  r.items[1].outcome = item_outcome::pending;
  CAF_CHECK(!placed_nothing(r));
}

CAF_TEST(the content hash ignores who asked and how long it may take) {
  plan a;
  a.plan_id = "p";
  a.items = {buy_three()};
  auto b = a;
  b.correlation_id = "ops-1";
  b.deadline_ms = 5000;
  CAF_CHECK_EQUAL(content_hash(a), content_hash(b));
  b.items[0].qty = dec("4");
  CAF_CHECK_NOT_EQUAL(content_hash(a), content_hash(b));
}
