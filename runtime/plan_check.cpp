#include "runtime/plan_check.hpp"

#include <cstdio>

#include "protocol/plan.hpp"

namespace athanor {

namespace {

const decimal zero = decimal::from_integer(0);

bool is_fractional(const decimal& x) {
  if (x.is_null())
    return false;
  auto m = x.mantissa();
  for (auto s = x.scale(); s > 0; --s) {
    if (m % 10 != 0)
      return true;
    m /= 10;
  }
  return false;
}

std::string money(double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.2f", x);
  return buf;
}

const position* held(const account_view& view, const std::string& symbol) {
  for (auto& p : view.positions)
    if (p.symbol == symbol)
      return &p;
  return nullptr;
}

} // namespace

plan_check check_plan(const plan& spec, const account_view& view) {
  plan_check result;
  auto add = [&](std::string field, std::string message) {
    result.problems.push_back({std::move(field), std::move(message)});
  };
  result.buying_power = view.acct.buying_power.is_null()
                          ? 0
                          : view.acct.buying_power.to_double();
  if (view.acct.trading_blocked || view.acct.account_blocked)
    add("account", "trading is blocked on this account");
  for (uint32_t i = 0; i < spec.items.size(); ++i) {
    auto& item = spec.items[i];
    auto at = [&](const char* field) {
      return "items[" + std::to_string(i) + "]." + field;
    };
    planned_order out;
    out.index = i;
    out.request.symbol = item.symbol;
    out.request.side = item.side;
    out.request.type = item.type;
    out.request.tif = item.tif;
    out.request.qty = item.qty;
    out.request.notional = item.notional;
    out.request.limit_price = item.limit_price;
    out.request.client_order_id = protocol::client_order_id_of(spec.plan_id, i);
    auto a = view.assets.find(item.symbol);
    if (a == view.assets.end()) {
      add(at("symbol"), "'" + item.symbol + "' is not an asset at the broker");
    } else {
      if (!a->second.tradable || a->second.status != "active")
        add(at("symbol"), "'" + item.symbol + "' is not tradable (status "
                            + a->second.status + ")");
      else if ((is_fractional(item.qty) || !item.notional.is_null())
               && !a->second.fractionable)
        add(at(item.notional.is_null() ? "qty" : "notional"),
            "'" + item.symbol
              + "' is not fractionable: whole shares only, no notional");
    }
    auto* pos = held(view, item.symbol);
    if (!item.limit_price.is_null())
      out.price = item.limit_price;
    else if (auto p = view.prices.find(item.symbol); p != view.prices.end())
      out.price = p->second;
    else if (pos != nullptr)
      out.price = pos->current_price;
    double price = out.price.is_null() ? 0 : out.price.to_double();
    if (!item.notional.is_null())
      out.estimated_value = item.notional.to_double();
    else if (!out.price.is_null())
      out.estimated_value = item.qty.to_double() * price;
    else
      add(at("symbol"), "no price for '" + item.symbol
                          + "' to estimate the order's value");
    if (item.side == order_side::sell) {
      result.sells += out.estimated_value;
      auto available = pos == nullptr ? zero
                       : pos->qty_available.is_null() ? pos->qty
                                                      : pos->qty_available;
      if (pos == nullptr || !(zero < available)) {
        add(at("qty"), "sells '" + item.symbol + "' but none is held");
      } else if (!item.qty.is_null() && available < item.qty) {
        add(at("qty"), "sells " + to_string(item.qty) + " '" + item.symbol
                         + "' but only " + to_string(available)
                         + " are held");
      } else if (item.qty.is_null() && price > 0
                 && out.estimated_value > available.to_double() * price) {
        add(at("notional"), "sells about " + money(out.estimated_value)
                              + " of '" + item.symbol + "' but only about "
                              + money(available.to_double() * price)
                              + " are held");
      }
    } else {
      result.buys += out.estimated_value;
    }
    result.orders.push_back(std::move(out));
  }
  auto freed = spec.sequence == plan_sequence::sells_first ? result.sells : 0;
  if (result.buys > result.buying_power + freed)
    add("account", "buys need about " + money(result.buys)
                     + " but the buying power is " + money(result.buying_power)
                     + (freed > 0 ? " (+ about " + money(freed)
                                      + " from the sells placed first)"
                                  : std::string{}));
  return result;
}

} // namespace athanor
