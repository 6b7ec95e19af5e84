#include "actors/resilience/breaker.hpp"

#include <memory>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"

namespace athanor {

namespace {

struct breaker_actor_state {
  std::unique_ptr<breaker_policy> policy;
  std::vector<breaker_listener_actor> listeners;
  /// The event of the last transition: timers it armed are caused by it.
  trace last_event = trace::root();
  static inline const char* name = "athanor.breaker";
};

using breaker_pointer = breaker_actor::stateful_pointer<breaker_actor_state>;

double to_ms(std::chrono::nanoseconds x) {
  return static_cast<double>(x.count()) / 1e6;
}

// Logs a state change once, arms the open timer, and tells the listeners.
void announce(breaker_pointer self, const breaker_policy::transition& change,
              const trace& cause) {
  auto& endpoint = self->state.policy->config().endpoint;
  auto event = cause.caused();
  auto lvl = change.to == breaker_state::open ? log::level::warn
                                              : log::level::info;
  log::write(lvl, "breaker", "state_change", &event,
             {{"endpoint", endpoint},
              {"from", to_string(change.from)},
              {"to", to_string(change.to)},
              {"reason", change.reason},
              {"open_for_ms", to_ms(change.open_for)}});
  if (change.to == breaker_state::open)
    self->delayed_send(self, change.open_for, half_open_atom::value,
                       change.generation);
  self->state.last_event = event;
  breaker_transition msg{endpoint,      change.from,     change.to,
                         change.reason, change.open_for, std::move(event)};
  for (auto& listener : self->state.listeners)
    self->send(listener, msg);
}

void announce(breaker_pointer self,
              const std::optional<breaker_policy::transition>& change,
              const trace& cause) {
  if (change)
    announce(self, *change, cause);
}

metric_samples make_metrics(const breaker_snapshot& snap, size_t listeners) {
  metric_samples result;
  std::map<std::string, std::string> labels{{"endpoint", snap.endpoint}};
  auto counter = [&](const char* name, uint64_t value) {
    result.push_back(
      {name, metric_kind::counter, labels, static_cast<double>(value)});
  };
  auto gauge = [&](const char* name, double value) {
    result.push_back({name, metric_kind::gauge, labels, value});
  };
  for (auto x :
       {breaker_state::closed, breaker_state::open, breaker_state::half_open,
        breaker_state::forced_open, breaker_state::disabled}) {
    auto with_state = labels;
    with_state["state"] = to_string(x);
    result.push_back({"athanor_breaker_state", metric_kind::gauge,
                      std::move(with_state), snap.state == x ? 1.0 : 0.0});
  }
  auto& c = snap.counters;
  counter("athanor_breaker_permits_granted_total", c.permits_granted);
  counter("athanor_breaker_permits_refused_total", c.permits_refused);
  counter("athanor_breaker_successes_total", c.successes);
  counter("athanor_breaker_failures_total", c.failures);
  counter("athanor_breaker_ignored_total", c.ignored);
  counter("athanor_breaker_slow_calls_total", c.slow_calls);
  counter("athanor_breaker_trips_total", c.trips);
  counter("athanor_breaker_transitions_total", c.transitions);
  counter("athanor_breaker_abandoned_permits_total", c.abandoned_permits);
  counter("athanor_breaker_stale_outcomes_total", c.stale_outcomes);
  gauge("athanor_breaker_consecutive_failures",
        static_cast<double>(snap.consecutive_failures));
  gauge("athanor_breaker_failure_rate_percent", snap.failure_rate);
  gauge("athanor_breaker_probes_in_flight",
        static_cast<double>(snap.probes_in_flight));
  gauge("athanor_breaker_listeners", static_cast<double>(listeners));
  return result;
}

breaker_actor::behavior_type breaker_impl(breaker_pointer self,
                                          breaker_config cfg) {
  self->set_exception_handler(exception_to_exit_reason);
  self->state.policy = std::make_unique<breaker_policy>(std::move(cfg));
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& xs = self->state.listeners;
    xs.erase(std::remove_if(xs.begin(), xs.end(),
                            [&](auto& x) { return x.address() == msg.source; }),
             xs.end());
  });
  auto& policy = *self->state.policy;
  auto now = [self] { return self->clock().now(); };
  return {
    [self, &policy, now](permit_atom, trace& cause) -> caf::result<permit> {
      auto decision = policy.acquire(now());
      announce(self, decision.change, cause);
      if (!decision.granted) {
        log::debug("breaker", "permit_refused",
                   {{"endpoint", policy.config().endpoint},
                    {"reason", to_string(decision.refusal)},
                    {"retry_after_ms", to_ms(decision.retry_after)}});
        return make_retry_error(decision.refusal, decision.retry_after);
      }
      if (decision.granted->state == breaker_state::half_open)
        self->delayed_send(self, policy.config().probe_timeout,
                           expire_atom::value, decision.granted->id);
      return *decision.granted;
    },
    [self, &policy, now](outcome_atom, uint64_t id, call_outcome outcome,
                         trace& cause) {
      announce(self, policy.record(now(), id, outcome), cause);
    },
    [&policy, now](caf::get_atom) { return policy.snapshot(now()); },
    [self, &policy, now](metrics_atom) {
      return make_metrics(policy.snapshot(now()), self->state.listeners.size());
    },
    [self, &policy](reset_atom, trace& cause) {
      announce(self, policy.reset(), cause);
      return policy.state();
    },
    [self, &policy](force_open_atom, trace& cause) {
      announce(self, policy.force_open(), cause);
      return policy.state();
    },
    [self, &policy](disable_atom, trace& cause) {
      announce(self, policy.disable(), cause);
      return policy.state();
    },
    [self](listen_atom, breaker_listener_actor& listener) {
      self->monitor(listener);
      self->state.listeners.push_back(std::move(listener));
    },
    [self, &policy, now](half_open_atom, uint64_t generation) {
      announce(self, policy.on_open_timer(now(), generation),
               self->state.last_event);
    },
    [self, &policy, now](expire_atom, uint64_t id) {
      announce(self, policy.expire(now(), id), self->state.last_event);
    },
  };
}

} // namespace

caf::expected<breaker_actor> spawn_breaker(caf::actor_system& sys,
                                           breaker_config cfg) {
  if (auto problems = validate(cfg); !problems.empty())
    return make_error(engine_errc::invalid_config, to_string(problems));
  return sys.spawn(breaker_impl, std::move(cfg));
}

} // namespace athanor
