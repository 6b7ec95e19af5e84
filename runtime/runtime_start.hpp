#pragma once

// How the `athanor` binary starts the runtime: from a configuration it has
// already loaded (and checked), instead of settings to parse.

#include <memory>

#include "caf/expected.hpp"

#include "athanor/runtime.hpp"
#include "runtime/config.hpp"

namespace athanor {

class link_factory;

/// What a command may change in how the runtime starts.
struct runtime_hooks {
  /// Opens the market-data links instead of WebSockets (athanor replay):
  /// no simulator, no trading desk then.
  std::shared_ptr<link_factory> market_links;
  /// The endpoint those links stand for, as logs and health name it.
  std::string market_url;
};

/// In an actor system of the runtime's own.
caf::expected<std::unique_ptr<runtime>>
start_runtime(const loaded_config& loaded, bool serve_admin,
              runtime_hooks hooks = {});

/// In `sys` (configured with prepare()).
caf::expected<std::unique_ptr<runtime>>
start_runtime(caf::actor_system& sys, const loaded_config& loaded,
              bool serve_admin, runtime_hooks hooks = {});

} // namespace athanor
