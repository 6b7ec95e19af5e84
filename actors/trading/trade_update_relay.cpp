#include "actors/trading/trade_update_relay.hpp"

#include <algorithm>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"

namespace athanor {

namespace {

struct relay_state {
  std::vector<order_listener_actor> listeners;
  session_status upstream;
  /// The trading session that sent `upstream` (monitored: a session that
  /// dies says nothing, and the desk's restart takes a while).
  caf::actor_addr upstream_source;
  uint64_t relayed = 0;
  static inline const char* name = "athanor.trade_update_relay";
};

using relay_pointer = trade_update_relay_actor::stateful_pointer<relay_state>;

void remove(relay_pointer self, const caf::actor_addr& who) {
  auto& xs = self->state.listeners;
  xs.erase(std::remove_if(xs.begin(), xs.end(),
                          [&](auto& x) { return x.address() == who; }),
           xs.end());
}

trade_update_relay_actor::behavior_type relay_impl(relay_pointer self) {
  self->set_exception_handler(exception_to_exit_reason);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source != st.upstream_source) {
      remove(self, msg.source);
      return;
    }
    st.upstream_source = nullptr;
    st.upstream.state = session_state::stopped;
    st.upstream.last_error = "the trading session ended";
    for (auto& listener : st.listeners)
      self->send(listener, st.upstream);
  });
  return {
    [self](order_update& x) {
      ++self->state.relayed;
      for (auto& listener : self->state.listeners)
        self->send(listener, x);
    },
    [self](session_status& x) {
      auto& st = self->state;
      auto source = self->current_sender();
      if (source && source != st.upstream_source) {
        if (st.upstream_source)
          self->demonitor(st.upstream_source);
        st.upstream_source = caf::actor_cast<caf::actor_addr>(source);
        self->monitor(caf::actor_cast<caf::actor>(source));
      }
      st.upstream = x;
      for (auto& listener : self->state.listeners)
        self->send(listener, x);
    },
    [self](listen_atom, order_listener_actor& x) {
      auto& xs = self->state.listeners;
      if (std::find(xs.begin(), xs.end(), x) != xs.end())
        return;
      self->monitor(x);
      self->send(x, self->state.upstream);
      xs.push_back(std::move(x));
    },
    [self](unsubscribe_atom, order_listener_actor& x) {
      self->demonitor(x.address());
      remove(self, x.address());
    },
    [self](metrics_atom) {
      auto& st = self->state;
      return metric_samples{
        {"athanor_gateway_trade_listeners", metric_kind::gauge, {},
         static_cast<double>(st.listeners.size())},
        {"athanor_gateway_trade_updates_total", metric_kind::counter, {},
         static_cast<double>(st.relayed)},
      };
    },
  };
}

} // namespace

trade_update_relay_actor spawn_trade_update_relay(caf::actor_system& sys) {
  return sys.spawn(relay_impl);
}

} // namespace athanor
