#pragma once

// `athanor execute PLAN.json`: execute a rebalance plan exactly once and
// print a per-item result table (or JSON with --json). Against Alpaca with
// credentials; against an in-process simulator without.

#include <string>
#include <vector>

#include "runtime/config.hpp"
#include "runtime/trading_desk.hpp"

namespace athanor {

struct execute_request {
  std::string plan_file;
  /// One JSON object instead of the table.
  bool json = false;
  /// --engine HOST:PORT: execute on a running engine (`athanor run
  /// --publish`) instead of in this process.
  std::string engine;
  /// --dry-run: check against the account, print what would be sent, place
  /// nothing.
  bool dry_run = false;
};

/// Takes `execute`'s own options (--json, --engine HOST:PORT) out of
/// `args`.
std::vector<config_problem> take_execute_options(std::vector<std::string>& args,
                                                 execute_request& out);

/// Takes the plan file from the loaded command line's positionals.
std::vector<config_problem> take_plan_file(const loaded_config& loaded,
                                           execute_request& out);

/// Runs the command; returns the process exit code: 0 when every item
/// filled, 2 when the plan ended otherwise, 65 for an invalid plan, 66 for
/// an unreadable file, 69 when the broker could not be reached, 77 when it
/// refused the key, 74 for a
/// journal failure, 130 when interrupted (the plan resumes at the next
/// start).
int execute_command(const loaded_config& loaded, const execute_request& req);

} // namespace athanor
