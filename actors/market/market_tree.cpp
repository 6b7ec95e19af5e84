#include "actors/market/market_tree.hpp"

#include <map>
#include <set>

#include "caf/actor_system.hpp"
#include "caf/send.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "actors/common/metrics_gather.hpp"
#include "actors/resilience/supervisor.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"

namespace athanor {

namespace {

constexpr auto call_timeout = std::chrono::seconds{10};
constexpr const char* child_id = "connections";

/// A lease the front saw granted and not yet released.
struct held {
  std::string upstream;
  registry_actor registry;
  caf::actor lessee;
  std::string endpoint;
  std::string fingerprint;
};

/// A lease asked for while no connection supervisor runs.
struct waiting_lease {
  std::string upstream;
  caf::actor lessee;
  caf::typed_response_promise<lease> promise;
};

struct front_state {
  supervisor_actor supervisor;
  supervised_connections_actor current;
  std::map<uint64_t, held> leases;
  std::set<caf::actor_addr> watched;
  /// The supervisor and every registry seen: none outlives the front.
  std::shared_ptr<std::vector<caf::actor>> owned
    = std::make_shared<std::vector<caf::actor>>();
  std::vector<session_listener_actor> listeners;
  std::vector<waiting_lease> waiting;
  /// Set once the tree has given up.
  caf::error failure;
  bool shutting_down = false;
  uint64_t incarnations = 0;
  uint64_t restarts = 0;
  uint64_t adopted = 0;
  static inline const char* name = "athanor.market_tree";
};

using front_actor = connections_front_actor;
using front_pointer = front_actor::stateful_pointer<front_state>;

class front_logic {
 public:
  explicit front_logic(front_pointer self) : self_(self) {}

  front_state& st() {
    return self_->state;
  }

  // -- leases -----------------------------------------------------------------

  caf::result<lease> on_lease(const std::string& upstream,
                              const caf::actor& lessee) {
    if (st().failure)
      return st().failure;
    if (st().shutting_down)
      return make_error(engine_errc::not_ready, "shutting down");
    auto promise = self_->make_response_promise<lease>();
    if (!st().current)
      st().waiting.push_back({upstream, lessee, promise});
    else
      forward_lease(upstream, lessee, promise);
    return promise;
  }

  void forward_lease(const std::string& upstream, const caf::actor& lessee,
                     caf::typed_response_promise<lease> promise) {
    self_->request(st().current, call_timeout, lease_atom::value, upstream,
                   lessee)
      .then(
        [this, lessee, promise](lease& granted) mutable {
          record(granted, lessee);
          promise.deliver(std::move(granted));
        },
        [promise](caf::error& err) mutable { promise.deliver(std::move(err)); });
  }

  void record(const lease& granted, const caf::actor& lessee) {
    st().leases[granted.id] = {granted.upstream, granted.registry, lessee,
                               granted.endpoint, granted.fingerprint};
    watch(lessee.address());
    if (watch(granted.registry.address()))
      st().owned->push_back(caf::actor_cast<caf::actor>(granted.registry));
  }

  bool watch(const caf::actor_addr& x) {
    if (!x || !st().watched.insert(x).second)
      return false;
    self_->monitor(x);
    return true;
  }

  void on_release(uint64_t id) {
    auto i = st().leases.find(id);
    if (i == st().leases.end())
      return;
    auto registry = i->second.registry;
    st().leases.erase(i);
    if (st().current)
      self_->send(st().current, release_atom::value, id);
    else if (st().failure && !leased(registry))
      // No connection supervisor will close it: the last release does.
      self_->send_exit(registry, caf::exit_reason::user_shutdown);
  }

  bool leased(const registry_actor& registry) const {
    for (auto& [id, x] : self_->state.leases)
      if (x.registry == registry)
        return true;
    return false;
  }

  // -- incarnations -----------------------------------------------------------

  void on_started(supervised_connections_actor& child) {
    if (st().failure || st().shutting_down)
      return;
    st().current = child;
    self_->monitor(child);
    ++st().incarnations;
    if (st().incarnations > 1)
      adopt_all();
    for (auto& listener : st().listeners)
      self_->send(child, listen_atom::value, listener);
    auto waiting = std::move(st().waiting);
    st().waiting.clear();
    for (auto& x : waiting)
      forward_lease(x.upstream, x.lessee, x.promise);
  }

  // Every registry goes to the new incarnation with its leases, once per
  // upstream name it was leased under.
  void adopt_all() {
    std::map<std::pair<std::string, caf::actor_addr>,
             std::pair<registry_actor, std::vector<held_lease>>>
      groups;
    for (auto& [id, x] : st().leases) {
      auto& group = groups[{x.upstream, x.registry.address()}];
      group.first = x.registry;
      group.second.push_back({id, x.lessee});
    }
    for (auto& [key, group] : groups) {
      st().adopted += group.second.size();
      self_->send(st().current, adopt_atom::value, key.first, group.first,
                  std::move(group.second));
    }
    log::info("market_tree", "connections_resumed",
              {{"incarnation", st().incarnations},
               {"registries", groups.size()},
               {"leases", st().leases.size()}});
  }

  // -- deaths -----------------------------------------------------------------

  void on_down(const caf::down_msg& msg) {
    if (st().current && msg.source == st().current.address()) {
      connections_down(msg.reason);
      return;
    }
    if (st().supervisor && msg.source == st().supervisor.address()) {
      supervisor_down(msg.reason);
      return;
    }
    auto& xs = st().listeners;
    auto n = xs.size();
    xs.erase(std::remove_if(xs.begin(), xs.end(),
                            [&](auto& x) { return x.address() == msg.source; }),
             xs.end());
    if (xs.size() != n)
      return;
    st().watched.erase(msg.source);
    // A lessee or a registry: its leases are gone (the connection
    // supervisor, if any, saw the same death).
    std::vector<registry_actor> orphans;
    for (auto i = st().leases.begin(); i != st().leases.end();) {
      if (i->second.lessee.address() == msg.source
          || i->second.registry.address() == msg.source) {
        orphans.push_back(i->second.registry);
        i = st().leases.erase(i);
      } else {
        ++i;
      }
    }
    if (st().failure)
      for (auto& registry : orphans)
        if (registry.address() != msg.source && !leased(registry))
          self_->send_exit(registry, caf::exit_reason::user_shutdown);
  }

  void connections_down(const caf::error& reason) {
    st().current = nullptr;
    if (st().shutting_down)
      return;
    ++st().restarts;
    log::error("market_tree", "connections_down",
               {{"reason", render(reason)},
                {"leases", st().leases.size()},
                {"restarts", st().restarts}});
    announce(session_state::backing_off,
             make_error(engine_errc::not_ready,
                        "the connection supervisor is restarting after: "
                          + render(reason)));
  }

  void supervisor_down(const caf::error& reason) {
    st().supervisor = nullptr;
    st().current = nullptr;
    if (st().shutting_down) {
      quit();
      return;
    }
    st().failure = make_error(engine_errc::restart_intensity_exceeded,
                              "market data gave up: the connection "
                              "supervisor kept failing ("
                                + render(reason) + ")");
    log::error("market_tree", "tree_failed",
               {{"error", render(st().failure)},
                {"leases", st().leases.size()}});
    std::set<caf::actor_addr> told;
    for (auto& [id, x] : st().leases) {
      if (!told.insert(x.registry.address()).second)
        continue;
      gap marker;
      marker.reason = gap_reason::restart;
      self_->send(x.registry, std::move(marker));
    }
    announce(session_state::failed, st().failure);
    auto waiting = std::move(st().waiting);
    st().waiting.clear();
    for (auto& x : waiting)
      x.promise.deliver(st().failure);
  }

  // -- health, status ---------------------------------------------------------

  /// One entry per connection the front knows of (by its leases).
  std::vector<upstream_health> known(session_state state,
                                     const caf::error& why) {
    std::map<std::string, upstream_health> by_key;
    for (auto& [id, x] : st().leases) {
      auto& h = by_key[x.endpoint + " " + x.fingerprint];
      if (h.endpoint.empty()) {
        h.endpoint = x.endpoint;
        h.fingerprint = x.fingerprint;
        h.state = state;
        h.restarts = static_cast<uint32_t>(st().restarts);
        h.last_error = detail_of(why);
        if (auto code = errc_of(why))
          h.last_errc = to_string(*code);
      }
      if (h.name.find(x.upstream) == std::string::npos)
        h.name += (h.name.empty() ? "" : ",") + x.upstream;
      ++h.leases;
    }
    std::vector<upstream_health> result;
    for (auto& [key, h] : by_key)
      result.push_back(std::move(h));
    return result;
  }

  void announce(session_state state, const caf::error& why) {
    for (auto& h : known(state, why)) {
      session_status status;
      status.endpoint = h.endpoint;
      status.fingerprint = h.fingerprint;
      status.state = state;
      status.last_error = h.last_error;
      status.last_errc = h.last_errc;
      for (auto& listener : st().listeners)
        self_->send(listener, status);
    }
  }

  caf::result<std::vector<upstream_health>> health() {
    if (!st().current) {
      if (st().failure)
        return known(session_state::failed, st().failure);
      return known(session_state::backing_off,
                   make_error(engine_errc::not_ready,
                              "the connection supervisor is restarting"));
    }
    auto promise = self_->make_response_promise<std::vector<upstream_health>>();
    promise.delegate(st().current, caf::get_atom::value);
    return promise;
  }

  void on_listen(session_listener_actor& listener) {
    self_->monitor(listener);
    st().listeners.push_back(listener);
    if (st().current)
      self_->send(st().current, listen_atom::value, listener);
    else if (st().failure)
      for (auto& h : known(session_state::failed, st().failure)) {
        session_status status;
        status.endpoint = h.endpoint;
        status.fingerprint = h.fingerprint;
        status.state = session_state::failed;
        status.last_error = h.last_error;
        status.last_errc = h.last_errc;
        self_->send(listener, status);
      }
  }

  // The tree's own figures, then the supervisor's (which asks the running
  // connection supervisor for everything below it).
  caf::result<metric_samples> metrics() {
    metric_samples own{
      {"athanor_market_tree_up", metric_kind::gauge, {},
       st().current ? 1.0 : 0.0},
      {"athanor_market_tree_failed", metric_kind::gauge, {},
       st().failure ? 1.0 : 0.0},
      {"athanor_market_tree_restarts_total", metric_kind::counter, {},
       static_cast<double>(st().restarts)},
      {"athanor_market_tree_adopted_leases_total", metric_kind::counter, {},
       static_cast<double>(st().adopted)},
      {"athanor_market_tree_held_leases", metric_kind::gauge, {},
       static_cast<double>(st().leases.size())},
      {"athanor_market_tree_waiting_leases", metric_kind::gauge, {},
       static_cast<double>(st().waiting.size())},
    };
    std::vector<caf::actor> sources;
    if (st().supervisor)
      sources.push_back(caf::actor_cast<caf::actor>(st().supervisor));
    auto promise = self_->make_response_promise<metric_samples>();
    gather_metrics(self_, sources, std::move(own), std::chrono::seconds{2},
                   [promise](metric_samples& xs) mutable {
                     promise.deliver(std::move(xs));
                   });
    return promise;
  }

  // -- shutdown ---------------------------------------------------------------

  void on_shutdown() {
    if (st().shutting_down)
      return;
    st().shutting_down = true;
    log::info("market_tree", "shutdown", {{"leases", st().leases.size()}});
    auto waiting = std::move(st().waiting);
    st().waiting.clear();
    for (auto& x : waiting)
      x.promise.deliver(make_error(engine_errc::not_ready, "shutting down"));
    if (st().supervisor)
      self_->send(st().supervisor, shutdown_atom::value);
    else
      quit();
  }

  void quit() {
    // A failed tree leaves the registries to the front.
    for (auto& [id, x] : st().leases)
      caf::anon_send_exit(x.registry, caf::exit_reason::user_shutdown);
    st().leases.clear();
    self_->quit();
  }

 private:
  front_pointer self_;
};

front_actor::behavior_type front_impl(front_pointer self) {
  self->set_exception_handler(exception_to_exit_reason);
  auto logic = std::make_shared<front_logic>(self);
  self->set_down_handler([logic](caf::down_msg& msg) { logic->on_down(msg); });
  // Nothing of the tree outlives its front.
  self->attach_functor([owned = self->state.owned] {
    for (auto& x : *owned)
      caf::anon_send_exit(x, caf::exit_reason::kill);
  });
  return {
    [logic](lease_atom, const std::string& upstream, caf::actor& lessee) {
      return logic->on_lease(upstream, lessee);
    },
    [logic](release_atom, uint64_t id) { logic->on_release(id); },
    [logic](caf::get_atom) { return logic->health(); },
    [logic](metrics_atom) { return logic->metrics(); },
    [logic](listen_atom, session_listener_actor& listener) {
      logic->on_listen(listener);
    },
    [logic](shutdown_atom) { logic->on_shutdown(); },
    [logic](attach_atom, supervised_connections_actor& child) {
      logic->on_started(child);
    },
    [self](attach_atom, supervisor_actor& supervisor) {
      self->state.supervisor = supervisor;
      self->state.owned->push_back(caf::actor_cast<caf::actor>(supervisor));
      self->monitor(supervisor);
    },
    // Only the connection supervisor itself gets these.
    [](session_status&) {},
    [](restart_atom, const std::string&, uint64_t) {},
    [](deadline_atom, uint64_t) {},
  };
}

} // namespace

caf::expected<market_tree> spawn_market_tree(caf::actor_system& sys,
                                             market_tree_config cfg) {
  if (auto problems = validate(cfg.connections); !problems.empty())
    return make_error(engine_errc::invalid_config, to_string(problems));
  if (auto problems = validate(cfg.supervisor); !problems.empty())
    return make_error(engine_errc::invalid_config, to_string(problems));
  auto front = sys.spawn(front_impl);
  auto connections = std::move(cfg.connections);
  // The registries are the front's to hand over when an incarnation dies.
  connections.registries_outlive_crash = true;
  child_spec spec;
  spec.id = child_id;
  spec.restart = restart_policy::permanent;
  // The connections close cleanly within their own deadline.
  spec.shutdown_timeout = connections.shutdown_deadline
                          + std::chrono::milliseconds{500};
  spec.start = [front, connections](caf::actor_system& sys) -> caf::actor {
    auto child = spawn_connection_supervisor(sys, connections);
    // Validated above: a failure here is a bug worth a crash.
    if (!child)
      throw std::logic_error("connection supervisor: "
                             + render(child.error()));
    caf::anon_send(front, attach_atom::value, *child);
    return caf::actor_cast<caf::actor>(*child);
  };
  auto sup_cfg = std::move(cfg.supervisor);
  if (sup_cfg.shutdown_deadline < spec.shutdown_timeout)
    sup_cfg.shutdown_deadline = spec.shutdown_timeout
                                + std::chrono::milliseconds{500};
  auto supervisor = spawn_supervisor(sys, std::move(sup_cfg), {std::move(spec)});
  if (!supervisor) {
    caf::anon_send_exit(front, caf::exit_reason::user_shutdown);
    return std::move(supervisor.error());
  }
  caf::anon_send(front, attach_atom::value, *supervisor);
  return market_tree{front, *supervisor};
}

} // namespace athanor
