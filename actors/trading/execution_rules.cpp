#include "actors/trading/execution_rules.hpp"

#include <algorithm>

#include "messages/secret.hpp"
#include "protocol/plan.hpp"

namespace athanor {

namespace {

const decimal zero = decimal::from_integer(0);

} // namespace

bool is_done(const item_result& x) {
  return x.outcome != item_outcome::pending;
}

bool has_fills(const item_result& x) {
  return !x.filled_qty.is_null() && zero < x.filled_qty;
}

int progress_of(order_status x) {
  if (is_final(x))
    return 2;
  switch (x) {
    case order_status::partially_filled:
    case order_status::pending_cancel:
    case order_status::pending_replace:
      return 1;
    default:
      return 0;
  }
}

bool is_stale(const item_result& item, const order& o) {
  if (is_final(o.status))
    return false;
  if (!o.filled_qty.is_null() && !item.filled_qty.is_null()
      && o.filled_qty < item.filled_qty)
    return true;
  return progress_of(o.status) < progress_of(item.status);
}

std::vector<std::string> differences(const plan_item& item, const order& o) {
  std::vector<std::string> result;
  auto differ = [&](const char* field, const std::string& got,
                    const std::string& want) {
    result.push_back(std::string{field} + " " + got + " (plan: " + want + ")");
  };
  auto text = [](const decimal& x) {
    return x.is_null() ? std::string{"none"} : to_string(x);
  };
  if (!o.symbol.empty() && o.symbol != item.symbol)
    differ("symbol", o.symbol, item.symbol);
  if (o.side != item.side)
    differ("side", to_string(o.side), to_string(item.side));
  if (!o.qty.is_null() || !o.notional.is_null()) {
    if (o.qty != item.qty)
      differ("qty", text(o.qty), text(item.qty));
    if (o.notional != item.notional)
      differ("notional", text(o.notional), text(item.notional));
  }
  if (o.type != item.type)
    differ("type", to_string(o.type), to_string(item.type));
  if (item.type == order_type::limit && o.limit_price != item.limit_price)
    differ("limit_price", text(o.limit_price), text(item.limit_price));
  if (o.tif != item.tif)
    differ("time_in_force", to_string(o.tif), to_string(item.tif));
  return result;
}

std::string joined(const std::vector<std::string>& xs) {
  std::string result;
  for (auto& x : xs)
    result += (result.empty() ? "" : ", ") + x;
  return result;
}

bool placed_nothing(const plan_result& r) {
  return std::all_of(r.items.begin(), r.items.end(), [](auto& x) {
    return is_done(x) && !x.order_may_exist && x.order_id.empty();
  });
}

bool is_replay(const std::string& caller, const acceptance& accepted) {
  return caller.empty() || caller != accepted.origin;
}

item_outcome outcome_of_final(const order& o, bool deadline_passed) {
  auto filled_some = !o.filled_qty.is_null() && zero < o.filled_qty;
  switch (o.status) {
    case order_status::filled: return item_outcome::filled;
    case order_status::rejected: return item_outcome::rejected;
    case order_status::expired:
    case order_status::done_for_day:
      return filled_some ? item_outcome::partially_filled
                         : item_outcome::expired;
    default:
      if (filled_some)
        return item_outcome::partially_filled;
      return deadline_passed ? item_outcome::timed_out
                             : item_outcome::canceled;
  }
}

std::string content_hash(plan spec) {
  spec.correlation_id.clear();
  spec.deadline_ms = 0;
  return sha256_hex(protocol::encode_plan(spec));
}

} // namespace athanor
