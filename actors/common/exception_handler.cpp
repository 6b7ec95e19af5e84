#include "actors/common/exception_handler.hpp"

#include <typeinfo>

#include "caf/scheduled_actor.hpp"

#include "messages/error.hpp"

namespace athanor {

caf::error exception_to_exit_reason(caf::scheduled_actor*,
                                    std::exception_ptr& eptr) {
  // Nothing is swallowed: every exception becomes the actor's exit reason.
  try {
    std::rethrow_exception(eptr);
  } catch (const std::exception& e) {
    return make_error(engine_errc::unhandled_exception,
                      std::string{typeid(e).name()} + ": " + e.what());
  } catch (...) {
    return make_error(engine_errc::unhandled_exception,
                      "exception of a type not derived from std::exception");
  }
}

} // namespace athanor
