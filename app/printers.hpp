#pragma once

// How `athanor run` and `athanor attach` show records: JSON lines (one
// record per line in Alpaca's own shape, gap markers as their own lines) or
// a terminal view refreshed twice a second, and how the actors doing it
// hand the end of a run to the main thread.

#include <atomic>
#include <csignal>
#include <cstdint>
#include <mutex>
#include <string>

#include "caf/fwd.hpp"

#include "app/live_view.hpp"
#include "app/process.hpp"

namespace athanor {

// Actors report here; the main thread waits on signals and polls this. (The
// one lock of this file: a hand-off, no domain state.)
struct run_outcome {
  std::atomic<bool> done{false};
  std::atomic<int> exit_code{exit_status::ok};
  std::mutex mtx;
  std::string message;

  /// Waits (main thread) until finished or SIGINT/SIGTERM arrives.
  void wait(const sigset_t& signals);

  /// The exit code, after printing the closing message (if any).
  int report();

  void finish(int code, std::string text) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (done)
        return;
      message = std::move(text);
    }
    exit_code = code;
    done = true;
  }
};

/// Prints every record as a JSON line; finishes `outcome` after `limit`
/// records (0: never) or when a session fails for good.
caf::behavior json_printer(caf::event_based_actor* self, run_outcome* outcome,
                           uint64_t limit);

/// The live view (live_view.hpp), redrawn twice a second to fit the
/// terminal.
caf::behavior terminal_view(caf::event_based_actor* self,
                            run_outcome* outcome, uint64_t limit,
                            live_view_options opts);

} // namespace athanor
