#pragma once

// `athanor execute --dry-run`: asks the broker about the account, its
// positions, every asset of the plan and a price for every market order,
// then checks the plan against that (runtime/plan_check.hpp). Places
// nothing, opens no trading stream, writes no journal.

#include <string>

#include "caf/expected.hpp"
#include "caf/fwd.hpp"

#include "runtime/plan_check.hpp"
#include "runtime/trading_desk.hpp"

namespace athanor {

struct dry_run_options {
  /// Base URL, credentials, CA file and REST settings, as for executing.
  trading_desk_options desk;
  /// The market-data API (latest trades) and its feed.
  std::string data_url;
  std::string feed = "iex";
};

/// Blocks; for the CLI and host code, never inside an actor. Errors: the
/// broker unreachable, the key refused, an answer that does not decode.
caf::expected<plan_check> dry_run(caf::actor_system& sys, const plan& spec,
                                  const dry_run_options& opts);

} // namespace athanor
