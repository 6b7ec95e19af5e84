#pragma once

// `athanor run`: stream market data to stdout, from Alpaca with credentials
// or from an in-process simulator without.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/fwd.hpp"

#include "messages/market.hpp"
#include "runtime/config.hpp"

namespace athanor {

struct run_request {
  std::vector<std::string> symbols{"AAPL", "MSFT", "SPY"};
  std::vector<channel> channels{channel::quotes, channel::trades};
  /// Stop after this many records; 0: run until a signal.
  uint64_t limit = 0;
  /// JSON lines even on a terminal.
  bool json = false;
  /// run: --publish HOST:PORT (athanor.remote.publish).
  std::string publish;
  /// run: --record FILE (athanor.record.file).
  std::string record;
  /// run: --backfill trades,bars: gaps on these channels are repaired.
  std::vector<channel> backfill;
  /// --symbols or --channels was given (replay takes the tape's otherwise).
  bool symbols_given = false;
  bool channels_given = false;
};

/// Takes `run`'s (and `attach`'s and `replay`'s) own options (--symbols,
/// --channels, --limit, --json, --publish, --record, with "=VALUE" or the value as the next
/// argument) out of `args`. Every bad one is reported, naming it.
std::vector<config_problem> take_run_options(std::vector<std::string>& args,
                                             run_request& out);

/// Says why the output could not subscribe; returns the exit code (78 for
/// a topic the feed does not offer, else 70).
int subscribe_failed(const caf::error& err);

/// Runs the command; returns the process exit code.
int run_command(const loaded_config& loaded, const run_request& request);

/// `athanor attach HOST:PORT`: prints the records of an engine published
/// elsewhere (`athanor run --publish`), like `run`, re-attaching after the
/// engine restarts (a gap line marks the loss).
int attach_command(const loaded_config& loaded, const run_request& request);

} // namespace athanor
