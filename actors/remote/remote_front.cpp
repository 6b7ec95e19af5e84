#include "actors/remote/remote_front.hpp"

#include <map>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"

namespace athanor {

namespace {

constexpr auto call_timeout = std::chrono::seconds{10};

struct remote_subscriber {
  lease granted;
  subscriber_actor handle;
  /// Where it lives, for logs.
  std::string node;
};

struct front_state {
  remote_front_config cfg;
  execute_gate gate{execute_gate_config{}};
  std::map<caf::actor_addr, remote_subscriber> subscribers;
  uint64_t attaches = 0;
  uint64_t releases = 0;
  uint64_t plans = 0;
  /// Plans refused: execute off, or no allow-listed certificate proof.
  uint64_t refused_plans = 0;
  static inline const char* name = "athanor.remote_front";
};

using front_pointer = remote_front_actor::stateful_pointer<front_state>;

void release(front_pointer self, const caf::actor_addr& who,
             const std::string& why) {
  auto& st = self->state;
  auto i = st.subscribers.find(who);
  if (i == st.subscribers.end())
    return;
  ++st.releases;
  self->send(st.cfg.connections, release_atom::value, i->second.granted.id);
  log::info("remote_front", "remote_released",
            {{"node", i->second.node},
             {"lease", i->second.granted.id},
             {"reason", why},
             {"subscribers", st.subscribers.size() - 1}});
  st.subscribers.erase(i);
}

// Subscribes at the registry of an existing lease and answers the caller.
caf::result<std::vector<topic>>
subscribe_at(front_pointer self, const remote_subscriber& sub,
             std::vector<topic> topics) {
  auto rp = self->make_response_promise<std::vector<topic>>();
  self
    ->request(sub.granted.registry, call_timeout, subscribe_atom::value,
              sub.handle, std::move(topics), trace::root())
    .then([rp](std::vector<topic>& all) mutable { rp.deliver(std::move(all)); },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

caf::result<std::vector<topic>> on_subscribe(front_pointer self,
                                             subscriber_actor who,
                                             std::vector<topic> topics) {
  auto& st = self->state;
  if (!who)
    return make_error(engine_errc::invalid_subscription,
                      "subscribe: no subscriber given");
  if (auto i = st.subscribers.find(who.address()); i != st.subscribers.end())
    return subscribe_at(self, i->second, std::move(topics));
  auto rp = self->make_response_promise<std::vector<topic>>();
  self
    ->request(st.cfg.connections, call_timeout, lease_atom::value,
              st.cfg.upstream, caf::actor_cast<caf::actor>(who))
    .then(
      [self, rp, who, topics](lease& granted) mutable {
        auto& st = self->state;
        auto& entry = st.subscribers[who.address()];
        if (entry.handle) {
          // A second request for the same subscriber got here first.
          self->send(st.cfg.connections, release_atom::value, granted.id);
        } else {
          entry.granted = std::move(granted);
          entry.handle = who;
          entry.node = to_string(who.node());
          self->monitor(who);
          ++st.attaches;
          log::info("remote_front", "remote_attached",
                    {{"node", entry.node},
                     {"lease", entry.granted.id},
                     {"topics", topics.size()},
                     {"subscribers", st.subscribers.size()}});
        }
        rp.delegate(entry.granted.registry, subscribe_atom::value, who,
                    std::move(topics), trace::root());
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

caf::result<plan_result> on_execute(front_pointer self, plan spec,
                                    trace cause,
                                    execute_gate::decision verdict) {
  auto& st = self->state;
  auto node = to_string(self->current_sender()->node());
  if (!verdict.permitted()) {
    ++st.refused_plans;
    log::write(log::level::warn, "remote_front", "remote_plan_refused",
               &cause,
               {{"plan_id", spec.plan_id},
                {"node", node},
                {"certificate", verdict.fingerprint},
                {"reason", verdict.refusal}});
    return make_error(engine_errc::not_permitted, verdict.refusal);
  }
  if (!st.cfg.trading_desk)
    return make_error(engine_errc::invalid_config,
                      "this engine runs no executor "
                      "(athanor.executor.in-run=false)");
  ++st.plans;
  log::write(log::level::info, "remote_front", "remote_plan", &cause,
             {{"plan_id", spec.plan_id},
              {"node", node},
              {"certificate", verdict.fingerprint}});
  auto rp = self->make_response_promise<plan_result>();
  self
    ->request(st.cfg.trading_desk, call_timeout, which_atom::value,
              std::string{"trading"})
    .then(
      [rp, spec, cause](caf::actor& exec) mutable {
        rp.delegate(caf::actor_cast<executor_actor>(exec), execute_atom::value,
                    std::move(spec), std::move(cause));
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

remote_front_actor::behavior_type front_impl(front_pointer self,
                                             remote_front_config cfg) {
  self->set_exception_handler(exception_to_exit_reason);
  self->state.gate = execute_gate{cfg.execute};
  self->state.cfg = std::move(cfg);
  self->set_down_handler([self](caf::down_msg& msg) {
    release(self, msg.source, to_string(msg.reason));
  });
  return {
    [self](subscribe_atom, subscriber_actor& who, std::vector<topic>& topics) {
      return on_subscribe(self, std::move(who), std::move(topics));
    },
    [self](unsubscribe_atom, subscriber_actor& who,
           std::vector<topic>& topics) -> caf::result<std::vector<topic>> {
      auto& st = self->state;
      auto i = st.subscribers.find(who.address());
      if (i == st.subscribers.end())
        return std::vector<topic>{};
      auto rp = self->make_response_promise<std::vector<topic>>();
      auto addr = who.address();
      self
        ->request(i->second.granted.registry, call_timeout,
                  unsubscribe_atom::value, who, std::move(topics),
                  trace::root())
        .then(
          [self, rp, addr](std::vector<topic>& left) mutable {
            if (left.empty())
              release(self, addr, "unsubscribed");
            rp.deliver(std::move(left));
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](execute_atom, plan& spec,
           trace& cause) -> caf::result<plan_result> {
      return on_execute(self, std::move(spec), std::move(cause),
                        self->state.gate.admit_unproven());
    },
    [self](challenge_atom) {
      auto node = to_string(self->current_sender()->node());
      return self->state.gate.challenge(node, self->clock().now());
    },
    [self](execute_atom, plan& spec, trace& cause, std::string& nonce,
           std::string& certificate,
           std::string& signature) -> caf::result<plan_result> {
      auto verdict = self->state.gate.admit(
        to_string(self->current_sender()->node()), spec.plan_id, nonce,
        certificate, signature, self->clock().now());
      return on_execute(self, std::move(spec), std::move(cause),
                        std::move(verdict));
    },
    [self](caf::get_atom) -> caf::result<std::vector<upstream_health>> {
      auto rp = self->make_response_promise<std::vector<upstream_health>>();
      self
        ->request(self->state.cfg.connections, call_timeout,
                  caf::get_atom::value)
        .then(
          [rp](std::vector<upstream_health>& xs) mutable {
            rp.deliver(std::move(xs));
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](metrics_atom) {
      auto& st = self->state;
      return metric_samples{
        {"athanor_remote_subscribers", metric_kind::gauge, {},
         static_cast<double>(st.subscribers.size())},
        {"athanor_remote_attaches_total", metric_kind::counter, {},
         static_cast<double>(st.attaches)},
        {"athanor_remote_releases_total", metric_kind::counter, {},
         static_cast<double>(st.releases)},
        {"athanor_remote_plans_total", metric_kind::counter, {},
         static_cast<double>(st.plans)},
        {"athanor_remote_plans_refused_total", metric_kind::counter, {},
         static_cast<double>(st.refused_plans)},
        {"athanor_remote_challenges_outstanding", metric_kind::gauge, {},
         static_cast<double>(st.gate.outstanding())},
      };
    },
  };
}

} // namespace

remote_front_actor spawn_remote_front(caf::actor_system& sys,
                                      remote_front_config cfg) {
  return sys.spawn(front_impl, std::move(cfg));
}

} // namespace athanor
