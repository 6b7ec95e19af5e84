#pragma once

// What a plan would do to an account, checked before any money moves
// (`athanor execute --dry-run`). A pure function of what the broker said:
// the account, its positions, the assets and a price per symbol.

#include <map>
#include <string>
#include <vector>

#include "messages/config_problem.hpp"
#include "messages/execution.hpp"

namespace athanor {

/// One order the plan would send.
struct planned_order {
  uint32_t index = 0;
  order_request request;
  /// The price its value is estimated at (limit price, latest trade or
  /// position price); null when none was known.
  decimal price;
  /// qty x price, or the notional; for display and the buying-power check.
  double estimated_value = 0;
};

struct plan_check {
  std::vector<planned_order> orders;
  double buying_power = 0;
  /// Estimated cost of every buy and proceeds of every sell.
  double buys = 0;
  double sells = 0;
  /// Every reason the plan would fail, each naming the item field (e.g.
  /// "items[2].qty") or "account".
  std::vector<config_problem> problems;

  bool ok() const {
    return problems.empty();
  }
};

/// What the broker told about the account. A symbol missing from `assets`
/// is unknown to the broker; one missing from `prices` has no price.
struct account_view {
  account acct;
  std::vector<position> positions;
  std::map<std::string, asset> assets;
  std::map<std::string, decimal> prices;
};

/// Checks `spec` (already valid in shape and rules) against `view`: assets
/// known, active and tradable (fractionable for fractional or notional
/// orders), sells covered by positions held, buys covered by buying power
/// (plus the sells' proceeds when sells go first), trading not blocked.
plan_check check_plan(const plan& spec, const account_view& view);

} // namespace athanor
