#pragma once

#include "caf/test/dsl.hpp"

#include "messages/register.hpp"

/// Registers Athanor's types exactly as the binary does.
struct athanor_test_config : caf::actor_system_config {
  athanor_test_config() {
    athanor::add_message_types(*this);
  }
};

/// The deterministic scheduler: nothing runs until a test says so, and time
/// moves only with `sched.clock().advance_time`. Note that the base's `run()`
/// also fires every pending timer; timer tests use `sched.run()` instead.
struct fixture_base : test_coordinator_fixture<athanor_test_config> {
  /// Sends a request, runs the actors (no timers) and returns the reply.
  /// Replaces the DSL's `request<T>()`, which does not compile on CAF 0.17.6
  /// (it uses an undefined FAIL macro).
  template<class T, class Handle, class... Ts>
  T fetch(const Handle& hdl, Ts&&... xs) {
    T result{};
    auto response = self->request(hdl, caf::infinite, std::forward<Ts>(xs)...);
    sched.run();
    response.receive([&](T& x) { result = std::move(x); },
                     [&](caf::error& err) {
                       CAF_FAIL("request failed: " << sys.render(err));
                     });
    return result;
  }
};
