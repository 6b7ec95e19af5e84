#pragma once

// What the market-data and trading sessions do alike for their
// connection_lifecycle: the actor clock, timers to themselves, the breaker,
// the listeners. A CRTP base of their logic classes (both are event-based
// actors with the same state fields), included by those two files only.
//
// `Derived` provides `connection_lifecycle& lifecycle()`; `Self` is its
// stateful actor pointer, whose state has `cfg.breaker`,
// `cfg.breaker_timeout`, `listeners` and `counters.breaker_refusals`.

#include <memory>

#include "caf/typed_event_based_actor.hpp"

#include "actors/market/connection_lifecycle.hpp"
#include "messages/atoms.hpp"

namespace athanor {

/// The lifecycle settings both sessions' configs carry alike (`url`,
/// `creds`, `backoff`, `limit_backoff(_max)`, `connect_timeout`, `breaker`).
template <class SessionConfig>
lifecycle_config lifecycle_basics(const char* component,
                                  const SessionConfig& cfg) {
  lifecycle_config result;
  result.component = component;
  result.url = cfg.url;
  result.fingerprint = cfg.creds.fingerprint();
  result.backoff = cfg.backoff;
  result.limit_backoff = cfg.limit_backoff;
  result.limit_backoff_max = cfg.limit_backoff_max;
  result.connect_timeout = cfg.connect_timeout;
  result.guarded = static_cast<bool>(cfg.breaker);
  return result;
}

template <class Derived, class Self>
class session_host : public lifecycle_host,
                     public std::enable_shared_from_this<Derived> {
 public:
  explicit session_host(Self self) : self_(self) {}

  caf::actor_clock::time_point now() override {
    return self_->clock().now();
  }

  void announce(const session_status& status) override {
    for (auto& listener : self_->state.listeners)
      self_->send(listener, status);
  }

  void ask_permit(uint64_t generation, const trace& cause) override {
    // Held by the answer: the logic lives as long as the behavior anyway.
    auto keep = this->shared_from_this();
    auto& cfg = self_->state.cfg;
    self_->request(cfg.breaker, cfg.breaker_timeout, permit_atom::value, cause)
      .then(
        [this, keep, generation](permit& granted) {
          keep->lifecycle().on_permit(generation, granted.id);
        },
        [this, keep, generation](caf::error& err) {
          if (keep->lifecycle().on_permit_refused(generation, err))
            ++self_->state.counters.breaker_refusals;
        });
  }

  void give_outcome(uint64_t permit, call_outcome outcome,
                    const trace& cause) override {
    self_->send(self_->state.cfg.breaker, outcome_atom::value, permit, outcome,
                cause);
  }

  void arm_timeout(caf::timespan after, uint64_t generation) override {
    self_->delayed_send(self_, after, timeout_atom::value, generation);
  }

  void arm_retry(caf::timespan after, uint64_t generation) override {
    self_->delayed_send(self_, after, retry_atom::value, generation);
  }

 protected:
  Self self_;
};

} // namespace athanor
