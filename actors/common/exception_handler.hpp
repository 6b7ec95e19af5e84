#pragma once

#include <exception>

#include "caf/error.hpp"
#include "caf/fwd.hpp"

namespace athanor {

/// Turns an exception that escaped a handler into the actor's exit reason:
/// `engine_errc::unhandled_exception` with the exception's message, so the
/// supervisor can log it once and decide on a restart. Every Athanor actor
/// installs it with `self->set_exception_handler(exception_to_exit_reason)`.
caf::error exception_to_exit_reason(caf::scheduled_actor* self,
                                    std::exception_ptr& eptr);

} // namespace athanor
