#include "actors/market/callback_hub.hpp"

#include <algorithm>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "actors/common/metrics_gather.hpp"

namespace athanor {

namespace {

struct hub_state {
  std::vector<callback_subscriber_actor> members;
  static inline const char* name = "athanor.callback_hub";
};

using hub_pointer = callback_hub_actor::stateful_pointer<hub_state>;

callback_hub_actor::behavior_type hub_impl(hub_pointer self) {
  self->set_exception_handler(exception_to_exit_reason);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& xs = self->state.members;
    xs.erase(std::remove_if(xs.begin(), xs.end(),
                            [&](const callback_subscriber_actor& x) {
                              return x.address() == msg.source;
                            }),
             xs.end());
  });
  return {
    [self](attach_atom, callback_subscriber_actor& member) {
      self->monitor(member);
      self->state.members.push_back(std::move(member));
    },
    [self](metrics_atom) -> caf::result<metric_samples> {
      std::vector<caf::actor> sources;
      for (auto& x : self->state.members)
        sources.push_back(caf::actor_cast<caf::actor>(x));
      metric_samples own{{"athanor_callback_subscribers", metric_kind::gauge,
                          {}, static_cast<double>(sources.size())}};
      auto promise = self->make_response_promise<metric_samples>();
      gather_metrics(self, sources, std::move(own), std::chrono::seconds{1},
                     [promise](metric_samples& xs) mutable {
                       promise.deliver(std::move(xs));
                     });
      return promise;
    },
  };
}

} // namespace

callback_hub_actor spawn_callback_hub(caf::actor_system& sys) {
  return sys.spawn(hub_impl);
}

} // namespace athanor
