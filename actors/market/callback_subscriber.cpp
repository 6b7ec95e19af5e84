#include "actors/market/callback_subscriber.hpp"

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "observability/log.hpp"

namespace athanor {

namespace {

struct callback_state {
  /// The subscriber's name in logs and metrics.
  std::string label;
  subscriber_callbacks cbs;
  uint64_t batches = 0;
  uint64_t gaps = 0;
  uint64_t failures = 0;
  static inline const char* name = "athanor.callback_subscriber";
};

using callback_pointer
  = callback_subscriber_actor::stateful_pointer<callback_state>;

// Runs host code. A std::exception stays here: logged with its text, counted,
// and the next batch is delivered as usual. Anything else is not ours to
// judge and ends this subscriber (the registry then drops it), never the
// stream.
template <class F, class T>
void guarded(callback_pointer self, const char* what, F& f, const T& x) {
  if (!f)
    return;
  try {
    f(x);
  } catch (const std::exception& e) {
    ++self->state.failures;
    log::error("callback_subscriber", "callback_failed",
               {{"subscriber", self->state.label},
                {"callback", what},
                {"error", e.what()},
                {"failures", self->state.failures}});
  }
}

callback_subscriber_actor::behavior_type
callback_impl(callback_pointer self, std::string name,
              subscriber_callbacks cbs) {
  self->set_exception_handler(exception_to_exit_reason);
  self->state.label = name.empty() ? "actor-" + std::to_string(self->id())
                                   : std::move(name);
  self->state.cbs = std::move(cbs);
  return {
    [self](const batch& x) {
      ++self->state.batches;
      guarded(self, "on_batch", self->state.cbs.on_batch, x);
    },
    [self](const gap& x) {
      ++self->state.gaps;
      guarded(self, "on_gap", self->state.cbs.on_gap, x);
    },
    [self](metrics_atom) {
      std::map<std::string, std::string> labels{
        {"subscriber", self->state.label}};
      auto& st = self->state;
      return metric_samples{
        {"athanor_callback_batches_total", metric_kind::counter, labels,
         static_cast<double>(st.batches)},
        {"athanor_callback_gaps_total", metric_kind::counter, labels,
         static_cast<double>(st.gaps)},
        {"athanor_callback_failures_total", metric_kind::counter, labels,
         static_cast<double>(st.failures)},
      };
    },
  };
}

} // namespace

callback_subscriber_actor spawn_callback_subscriber(caf::actor_system& sys,
                                                    std::string name,
                                                    subscriber_callbacks cbs) {
  return sys.spawn(callback_impl, std::move(name), std::move(cbs));
}

} // namespace athanor
