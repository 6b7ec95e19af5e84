#pragma once

#include "caf/fwd.hpp"

namespace athanor {

/// Registers every message type and the error category with CAF. The binary,
/// the library and every test fixture call this one function, so a type
/// sent to another node is never missing there.
void add_message_types(caf::actor_system_config& cfg);

} // namespace athanor
