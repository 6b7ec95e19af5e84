#pragma once

// The actor system of the in-process integration suites: Athanor's types,
// two scheduler threads (the machine's cores).

#include "caf/actor_system_config.hpp"

#include "messages/register.hpp"

namespace athanor::testing {

struct system_config : caf::actor_system_config {
  system_config() {
    athanor::add_message_types(*this);
    set("scheduler.max-threads", 2);
  }
};

} // namespace athanor::testing
