#pragma once

// How the `athanor` binary starts the runtime: from a configuration it has
// already loaded (and checked), instead of settings to parse.

#include <memory>

#include "caf/expected.hpp"

#include "athanor/runtime.hpp"
#include "runtime/config.hpp"

namespace athanor {

/// In an actor system of the runtime's own.
caf::expected<std::unique_ptr<runtime>>
start_runtime(const loaded_config& loaded, bool serve_admin);

/// In `sys` (configured with prepare()).
caf::expected<std::unique_ptr<runtime>>
start_runtime(caf::actor_system& sys, const loaded_config& loaded,
              bool serve_admin);

} // namespace athanor
