#pragma once

// The CAF side of engine_errc: errors cross actors as caf::error, never as
// strings. Only caf/error.hpp is pulled in here.

#include <chrono>
#include <optional>
#include <string>

#include "caf/error.hpp"
#include "caf/fwd.hpp"

#include "messages/engine_errc.hpp"

namespace athanor {

/// The CAF error category of engine_errc.
caf::atom_value error_category();

/// Makes an error without context; found by ADL, so `caf::error{x}` works.
caf::error make_error(engine_errc x);

/// Makes an error whose context is a human-readable detail (a field name, a
/// byte offset, an exception text).
caf::error make_error(engine_errc x, std::string detail);

/// Makes an error that tells the caller when to try again.
caf::error make_retry_error(engine_errc x,
                            std::chrono::nanoseconds retry_after);

/// Returns the engine_errc of `err`, if it belongs to Athanor's category.
std::optional<engine_errc> errc_of(const caf::error& err);

/// Returns the `retry_after` carried by an error from `make_retry_error`.
std::optional<std::chrono::nanoseconds> retry_after(const caf::error& err);

/// Returns the detail string carried by an error from `make_error(x, detail)`.
std::string detail_of(const caf::error& err);

/// Returns the class of any error: Athanor's by its code; CAF's own
/// request timeouts are retryable; everything else is treated as retryable.
error_class classify(const caf::error& err);

/// Renders `err` readably without an actor system ("athanor.auth_failed: …").
std::string render(const caf::error& err);

/// Registers the category renderer with CAF so `sys.render(err)` is readable.
void add_error_category(caf::actor_system_config& cfg);

} // namespace athanor
