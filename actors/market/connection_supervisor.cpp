#include "actors/market/connection_supervisor.hpp"

#include <map>
#include <unordered_map>

#include "caf/actor_system.hpp"
#include "caf/send.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "actors/common/metrics_gather.hpp"
#include "actors/resilience/breaker.hpp"
#include "actors/resilience/restart_intensity.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"

namespace athanor {

namespace {

// A connection is known by its endpoint and its key's fingerprint, never by
// the key.
std::string key_of(const std::string& url, const std::string& fingerprint) {
  return url + " " + fingerprint;
}

struct connection {
  std::string key;
  std::vector<std::string> names;
  upstream_spec spec;
  session_actor session;
  registry_actor registry;
  /// Lease id -> lessee.
  std::map<uint64_t, caf::actor_addr> leases;
  uint32_t restarts = 0;
  std::unique_ptr<restart_intensity> intensity;
  std::unique_ptr<backoff_policy> backoff;
  caf::actor_clock::time_point started_at;
  uint64_t restart_generation = 0;
  bool restarting = false;
  /// Closing for good (last lease gone or shutdown).
  bool stopping = false;
  /// Beyond its restart intensity: no session runs; the registry keeps the
  /// subscriptions until the last lease goes; new leases are refused.
  caf::error failure;
  session_status status;
};

struct supervisor_state {
  connection_supervisor_config cfg;
  std::map<std::string, connection> connections;
  /// URL -> breaker.
  std::map<std::string, breaker_actor> breakers;
  /// Lease id -> connection key.
  std::unordered_map<uint64_t, std::string> lease_keys;
  /// Lessee -> number of leases it holds.
  std::map<caf::actor_addr, uint32_t> lessees;
  uint64_t next_lease = 1;
  std::vector<session_listener_actor> listeners;
  bool shutting_down = false;
  uint64_t shutdown_generation = 0;
  /// Every session and breaker we started, for the kill on our own death.
  std::shared_ptr<std::vector<caf::actor>> live
    = std::make_shared<std::vector<caf::actor>>();
  /// The registries: killed with us unless a market tree keeps them for
  /// our next incarnation (cfg.registries_outlive_crash).
  std::shared_ptr<std::vector<caf::actor>> registries
    = std::make_shared<std::vector<caf::actor>>();
  static inline const char* name = "athanor.connection_supervisor";
};

using supervisor_pointer
  = supervised_connections_actor::stateful_pointer<supervisor_state>;

class supervisor_logic {
 public:
  explicit supervisor_logic(supervisor_pointer self) : self_(self) {}

  supervisor_state& st() {
    return self_->state;
  }

  // -- leases -----------------------------------------------------------------

  caf::result<lease> on_lease(const std::string& name, caf::actor& lessee) {
    if (st().shutting_down)
      return make_error(engine_errc::not_ready, "shutting down");
    if (!lessee)
      return make_error(engine_errc::invalid_config, "lessee: invalid handle");
    auto* spec = find_spec(name);
    if (spec == nullptr)
      return make_error(engine_errc::not_found,
                        "upstream: no upstream named '" + name + "'");
    auto key = key_of(spec->session.url, spec->session.creds.fingerprint());
    auto i = st().connections.find(key);
    if (i == st().connections.end() || i->second.stopping) {
      if (i != st().connections.end())
        return make_error(engine_errc::not_ready,
                          "upstream '" + name + "' is closing; try again");
      i = start_connection(key, *spec);
    }
    if (i->second.failure)
      return i->second.failure;
    auto& conn = i->second;
    if (std::find(conn.names.begin(), conn.names.end(), name)
        == conn.names.end())
      conn.names.push_back(name);
    auto id = st().next_lease++;
    conn.leases.emplace(id, lessee.address());
    st().lease_keys.emplace(id, key);
    if (st().lessees[lessee.address()]++ == 0)
      self_->monitor(lessee);
    log::info("connection_supervisor", "lease",
              {{"upstream", name},
               {"endpoint", conn.spec.session.url},
               {"key", conn.spec.session.creds.fingerprint()},
               {"lease", id},
               {"leases", conn.leases.size()}});
    return lease{id, name, conn.registry, conn.spec.session.url,
                 conn.spec.session.creds.fingerprint()};
  }

  const upstream_spec* find_spec(const std::string& name) {
    for (auto& x : st().cfg.upstreams)
      if (x.name == name)
        return &x;
    return nullptr;
  }

  void on_release(uint64_t id) {
    auto i = st().lease_keys.find(id);
    if (i == st().lease_keys.end())
      return;
    auto key = i->second;
    st().lease_keys.erase(i);
    auto& conn = st().connections.at(key);
    auto lessee = conn.leases.at(id);
    conn.leases.erase(id);
    drop_lessee(lessee);
    log::info("connection_supervisor", "release",
              {{"endpoint", conn.spec.session.url},
               {"lease", id},
               {"leases", conn.leases.size()}});
    if (conn.leases.empty())
      stop_connection(conn);
  }

  void drop_lessee(const caf::actor_addr& lessee) {
    auto j = st().lessees.find(lessee);
    if (j == st().lessees.end())
      return;
    if (--j->second == 0) {
      self_->demonitor(lessee);
      st().lessees.erase(j);
    }
  }

  // -- connections ------------------------------------------------------------

  connection& new_connection(const std::string& key,
                             const upstream_spec& spec) {
    auto& conn = st().connections[key];
    conn.key = key;
    conn.spec = spec;
    conn.intensity = std::make_unique<restart_intensity>(st().cfg.max_restarts,
                                                         st().cfg.period);
    conn.backoff = std::make_unique<backoff_policy>(st().cfg.restart_backoff);
    conn.status.endpoint = spec.session.url;
    conn.status.fingerprint = spec.session.creds.fingerprint();
    return conn;
  }

  std::map<std::string, connection>::iterator
  start_connection(const std::string& key, const upstream_spec& spec) {
    auto& conn = new_connection(key, spec);
    auto reg_cfg = spec.registry;
    reg_cfg.family = protocol::family_of_endpoint(spec.session.url);
    auto registry = spawn_subscriber_registry(self_->system(), reg_cfg);
    // Validated with the config; a failure here is a bug worth a crash.
    if (!registry)
      throw std::logic_error("registry config: " + render(registry.error()));
    conn.registry = *registry;
    watch_registry(conn.registry);
    log::info("connection_supervisor", "connection_started",
              {{"endpoint", spec.session.url},
               {"key", spec.session.creds.fingerprint()}});
    start_session(conn);
    return st().connections.find(key);
  }

  breaker_actor breaker_for(const upstream_spec& spec) {
    auto& url = spec.session.url;
    auto i = st().breakers.find(url);
    if (i != st().breakers.end())
      return i->second;
    auto cfg = spec.breaker;
    cfg.endpoint = url;
    auto breaker = spawn_breaker(self_->system(), cfg);
    if (!breaker)
      throw std::logic_error("breaker config: " + render(breaker.error()));
    watch(caf::actor_cast<caf::actor>(*breaker));
    st().breakers.emplace(url, *breaker);
    return *breaker;
  }

  void start_session(connection& conn) {
    auto cfg = conn.spec.session;
    cfg.links = st().cfg.links;
    cfg.sink = conn.registry;
    cfg.breaker = breaker_for(conn.spec);
    cfg.incarnation = conn.restarts;
    auto session = spawn_stream_session(self_->system(), std::move(cfg));
    if (!session)
      throw std::logic_error("session config: " + render(session.error()));
    conn.session = *session;
    conn.restarting = false;
    conn.started_at = self_->clock().now();
    watch(caf::actor_cast<caf::actor>(conn.session));
    self_->send(conn.session, listen_atom::value,
                caf::actor_cast<session_listener_actor>(self_));
    self_->send(conn.registry, attach_atom::value,
                desire_sink_actor{conn.session});
  }

  // A registry and its leases from an incarnation of ours that crashed
  // (see market_tree): the connection opens again behind the registry, whose
  // subscribers see a restart gap first, and the lessees keep their leases.
  void on_adopt(const std::string& name, registry_actor& registry,
                std::vector<held_lease>& held) {
    auto* spec = find_spec(name);
    if (spec == nullptr || !registry || st().shutting_down) {
      log::warn("connection_supervisor", "adoption_refused",
                {{"upstream", name}, {"leases", held.size()}});
      if (registry && spec == nullptr)
        self_->send_exit(registry, caf::exit_reason::user_shutdown);
      return;
    }
    auto key = key_of(spec->session.url, spec->session.creds.fingerprint());
    auto i = st().connections.find(key);
    if (i == st().connections.end()) {
      auto& conn = new_connection(key, *spec);
      conn.registry = registry;
      // Its first session is a restart: subscribers are told of the loss.
      conn.restarts = 1;
      watch_registry(conn.registry);
      log::info("connection_supervisor", "connection_adopted",
                {{"endpoint", spec->session.url},
                 {"key", spec->session.creds.fingerprint()},
                 {"leases", held.size()}});
      start_session(conn);
      i = st().connections.find(key);
    }
    auto& conn = i->second;
    if (std::find(conn.names.begin(), conn.names.end(), name)
        == conn.names.end())
      conn.names.push_back(name);
    for (auto& x : held) {
      if (!x.lessee)
        continue;
      conn.leases.emplace(x.id, x.lessee.address());
      st().lease_keys.emplace(x.id, key);
      if (st().lessees[x.lessee.address()]++ == 0)
        self_->monitor(x.lessee);
      st().next_lease = std::max(st().next_lease, x.id + 1);
    }
  }

  void watch(caf::actor x) {
    self_->monitor(x);
    st().live->push_back(std::move(x));
  }

  void watch_registry(const registry_actor& x) {
    self_->monitor(x);
    st().registries->push_back(caf::actor_cast<caf::actor>(x));
  }

  void unwatch(const caf::actor_addr& x) {
    for (auto* xs : {st().live.get(), st().registries.get()})
      xs->erase(std::remove_if(xs->begin(), xs->end(),
                               [&](auto& y) { return y.address() == x; }),
                xs->end());
  }

  void stop_connection(connection& conn) {
    if (conn.stopping)
      return;
    conn.stopping = true;
    log::info("connection_supervisor", "connection_stopping",
              {{"endpoint", conn.spec.session.url},
               {"key", conn.spec.session.creds.fingerprint()}});
    for (auto& [id, lessee] : conn.leases) {
      st().lease_keys.erase(id);
      drop_lessee(lessee);
    }
    conn.leases.clear();
    if (conn.session)
      self_->send(conn.session, shutdown_atom::value);
    else
      finish(conn.key);
  }

  // The session is gone for good: the registry goes too.
  void finish(const std::string& key) {
    auto i = st().connections.find(key);
    if (i == st().connections.end())
      return;
    auto& conn = i->second;
    if (conn.registry) {
      unwatch(conn.registry.address());
      self_->demonitor(conn.registry.address());
      self_->send_exit(conn.registry, caf::exit_reason::user_shutdown);
    }
    log::info("connection_supervisor", "connection_closed",
              {{"endpoint", conn.spec.session.url},
               {"key", conn.spec.session.creds.fingerprint()}});
    st().connections.erase(i);
    if (st().shutting_down && st().connections.empty())
      quit();
  }

  // -- failures ---------------------------------------------------------------

  void on_down(const caf::down_msg& msg) {
    unwatch(msg.source);
    if (st().lessees.count(msg.source) > 0) {
      lessee_down(msg.source);
      return;
    }
    for (auto& [key, conn] : st().connections) {
      if (conn.session && conn.session.address() == msg.source) {
        session_down(conn, msg.reason);
        return;
      }
      if (conn.registry && conn.registry.address() == msg.source) {
        registry_down(conn, msg.reason);
        return;
      }
    }
    for (auto i = st().breakers.begin(); i != st().breakers.end(); ++i) {
      if (i->second.address() == msg.source) {
        breaker_down(i->first, msg.reason);
        st().breakers.erase(i);
        return;
      }
    }
  }

  void lessee_down(const caf::actor_addr& lessee) {
    std::vector<uint64_t> ids;
    for (auto& [id, key] : st().lease_keys)
      if (st().connections.at(key).leases.at(id) == lessee)
        ids.push_back(id);
    log::info("connection_supervisor", "lessee_down",
              {{"leases", ids.size()}});
    for (auto id : ids)
      on_release(id);
  }

  void session_down(connection& conn, const caf::error& reason) {
    conn.session = nullptr;
    if (conn.stopping || st().shutting_down) {
      finish(conn.key);
      return;
    }
    auto now = self_->clock().now();
    auto cause = trace::root();
    log::error("connection_supervisor", "session_down", cause,
               {{"endpoint", conn.spec.session.url},
                {"key", conn.spec.session.creds.fingerprint()},
                {"reason", render(reason)},
                {"restarts", conn.restarts}});
    if (!conn.intensity->record(now)) {
      fail_connection(conn,
                      make_error(engine_errc::restart_intensity_exceeded,
                                 "session for " + conn.spec.session.url
                                   + " died "
                                   + std::to_string(st().cfg.max_restarts + 1)
                                   + " times within the period; last: "
                                   + render(reason)),
                      cause);
      return;
    }
    conn.backoff->note_run(now - conn.started_at);
    conn.restarting = true;
    ++conn.restarts;
    self_->delayed_send(self_, conn.backoff->next_delay(), restart_atom::value,
                        conn.key, ++conn.restart_generation);
  }

  // Beyond the restart intensity the connection gives up, loudly and for
  // this connection only: listeners (athanor run, the admin) and health see
  // it failed, every subscriber gets a restart gap from the last record's
  // receive time (the registry knows it), new leases are refused with the
  // reason. The subscriptions stay until their lessees release them; the
  // next lease after that starts afresh.
  void fail_connection(connection& conn, caf::error err, const trace& cause) {
    log::error("connection_supervisor", "connection_failed", cause,
               {{"endpoint", conn.spec.session.url},
                {"key", conn.spec.session.creds.fingerprint()},
                {"error", render(err)}});
    conn.failure = err;
    conn.status.state = session_state::failed;
    conn.status.last_errc = to_string(engine_errc::restart_intensity_exceeded);
    conn.status.last_error = detail_of(err);
    if (conn.registry) {
      gap marker;
      marker.reason = gap_reason::restart;
      self_->send(conn.registry, std::move(marker));
    }
    for (auto& listener : st().listeners)
      self_->send(listener, conn.status);
  }

  void on_restart(const std::string& key, uint64_t generation) {
    auto i = st().connections.find(key);
    if (i == st().connections.end())
      return;
    auto& conn = i->second;
    if (!conn.restarting || conn.restart_generation != generation
        || conn.stopping)
      return;
    log::info("connection_supervisor", "session_restart",
              {{"endpoint", conn.spec.session.url},
               {"incarnation", conn.restarts}});
    start_session(conn);
  }

  // The registry holds every subscription of the connection; without it the
  // lessees must subscribe again, so the connection is closed and they see
  // the registry's death through their own monitors.
  void registry_down(connection& conn, const caf::error& reason) {
    log::error("connection_supervisor", "registry_down",
               {{"endpoint", conn.spec.session.url},
                {"reason", render(reason)}});
    conn.registry = nullptr;
    stop_connection(conn);
  }

  void breaker_down(const std::string& url, const caf::error& reason) {
    log::error("connection_supervisor", "breaker_down",
               {{"endpoint", url}, {"reason", render(reason)}});
    // Sessions hold the dead handle: restart them with a fresh breaker.
    for (auto& [key, conn] : st().connections)
      if (conn.spec.session.url == url && conn.session)
        self_->send_exit(conn.session, caf::exit_reason::kill);
  }

  // -- status, shutdown -------------------------------------------------------

  void on_status(session_status& status) {
    auto i = st().connections.find(key_of(status.endpoint, status.fingerprint));
    if (i == st().connections.end())
      return;
    auto sender = caf::actor_cast<caf::actor_addr>(self_->current_sender());
    if (!i->second.session || sender != i->second.session.address())
      return;
    i->second.status = status;
    for (auto& listener : st().listeners)
      self_->send(listener, status);
  }

  void on_listen(session_listener_actor& listener) {
    self_->monitor(listener);
    for (auto& [key, conn] : st().connections)
      self_->send(listener, conn.status);
    st().listeners.push_back(std::move(listener));
  }

  void on_shutdown() {
    if (st().shutting_down)
      return;
    st().shutting_down = true;
    log::info("connection_supervisor", "shutdown",
              {{"connections", st().connections.size()}});
    if (st().connections.empty()) {
      quit();
      return;
    }
    std::vector<std::string> keys;
    for (auto& [key, conn] : st().connections)
      keys.push_back(key);
    for (auto& key : keys)
      if (auto i = st().connections.find(key); i != st().connections.end())
        stop_connection(i->second);
    if (!st().connections.empty())
      self_->delayed_send(self_, st().cfg.shutdown_deadline,
                          deadline_atom::value, ++st().shutdown_generation);
  }

  void on_deadline(uint64_t generation) {
    if (!st().shutting_down || generation != st().shutdown_generation)
      return;
    log::warn("connection_supervisor", "shutdown_deadline",
              {{"connections", st().connections.size()}});
    quit(make_error(engine_errc::shutdown_timeout,
                    "connections still open at the shutdown deadline"));
  }

  void quit(caf::error reason = caf::error{}) {
    for (auto* xs : {st().live.get(), st().registries.get()}) {
      for (auto& x : *xs)
        caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
      xs->clear();
    }
    self_->quit(std::move(reason));
  }

  std::vector<upstream_health> health() {
    std::vector<upstream_health> result;
    for (auto& [key, conn] : st().connections) {
      upstream_health x;
      for (auto& name : conn.names)
        x.name += (x.name.empty() ? "" : ",") + name;
      x.endpoint = conn.spec.session.url;
      x.fingerprint = conn.spec.session.creds.fingerprint();
      x.state = conn.status.state;
      x.epoch = conn.status.epoch;
      x.leases = static_cast<uint32_t>(conn.leases.size());
      x.restarts = conn.restarts;
      x.last_error = conn.status.last_error;
      x.last_errc = conn.status.last_errc;
      result.push_back(std::move(x));
    }
    return result;
  }

  // Own samples plus those of every session, registry and breaker, gathered
  // asynchronously; an actor that does not answer within a second is left
  // out rather than holding up the whole answer.
  caf::result<metric_samples> metrics() {
    metric_samples own;
    for (auto& x : health()) {
      std::map<std::string, std::string> labels{{"endpoint", x.endpoint},
                                                {"key", x.fingerprint}};
      own.push_back({"athanor_connection_leases", metric_kind::gauge, labels,
                     static_cast<double>(x.leases)});
      own.push_back({"athanor_connection_restarts_total", metric_kind::counter,
                     labels, static_cast<double>(x.restarts)});
    }
    std::vector<caf::actor> sources;
    for (auto& [key, conn] : st().connections) {
      if (conn.session)
        sources.push_back(caf::actor_cast<caf::actor>(conn.session));
      if (conn.registry)
        sources.push_back(caf::actor_cast<caf::actor>(conn.registry));
    }
    for (auto& [url, breaker] : st().breakers)
      sources.push_back(caf::actor_cast<caf::actor>(breaker));
    auto promise = self_->make_response_promise<metric_samples>();
    gather_metrics(self_, sources, std::move(own), std::chrono::seconds{1},
                   [promise](metric_samples& xs) mutable {
                     promise.deliver(std::move(xs));
                   });
    return promise;
  }

 private:
  supervisor_pointer self_;
};

supervised_connections_actor::behavior_type
supervisor_impl(supervisor_pointer self, connection_supervisor_config cfg) {
  self->set_exception_handler(exception_to_exit_reason);
  self->state.cfg = std::move(cfg);
  auto logic = std::make_shared<supervisor_logic>(self);
  self->set_down_handler([self, logic](caf::down_msg& msg) {
    auto& xs = self->state.listeners;
    auto n = xs.size();
    xs.erase(std::remove_if(xs.begin(), xs.end(),
                            [&](auto& x) { return x.address() == msg.source; }),
             xs.end());
    if (xs.size() == n)
      logic->on_down(msg);
  });
  // Our supervisor (a market tree's) stops us with user_shutdown: close the
  // connections cleanly, as on shutdown_atom. Any other reason is a crash.
  self->set_exit_handler([self, logic](caf::exit_msg& msg) {
    if (msg.reason == caf::exit_reason::user_shutdown
        || msg.reason == caf::exit_reason::normal)
      logic->on_shutdown();
    else
      self->quit(std::move(msg.reason));
  });
  // However we die, no session outlives us; the registries do when a
  // market tree hands them to our next incarnation.
  self->attach_functor([live = self->state.live,
                        registries = self->state.registries,
                        keep = self->state.cfg.registries_outlive_crash](
                         const caf::error&) {
    for (auto& x : *live)
      caf::anon_send_exit(x, caf::exit_reason::kill);
    if (!keep)
      for (auto& x : *registries)
        caf::anon_send_exit(x, caf::exit_reason::kill);
  });
  return {
    [logic](lease_atom, const std::string& name, caf::actor& lessee) {
      return logic->on_lease(name, lessee);
    },
    [logic](release_atom, uint64_t id) { logic->on_release(id); },
    [logic](caf::get_atom) { return logic->health(); },
    [logic](metrics_atom) { return logic->metrics(); },
    [logic](listen_atom, session_listener_actor& listener) {
      logic->on_listen(listener);
    },
    [logic](shutdown_atom) { logic->on_shutdown(); },
    [logic](session_status& status) { logic->on_status(status); },
    [logic](restart_atom, const std::string& key, uint64_t generation) {
      logic->on_restart(key, generation);
    },
    [logic](deadline_atom, uint64_t generation) {
      logic->on_deadline(generation);
    },
    [logic](adopt_atom, const std::string& upstream, registry_actor& registry,
            std::vector<held_lease>& held) {
      logic->on_adopt(upstream, registry, held);
    },
  };
}

} // namespace

std::vector<config_problem> validate(const connection_supervisor_config& cfg) {
  std::vector<config_problem> problems;
  auto merge = [&](std::vector<config_problem> xs) {
    problems.insert(problems.end(), xs.begin(), xs.end());
  };
  std::vector<std::string> names;
  for (auto& x : cfg.upstreams) {
    auto prefix = "athanor.upstreams." + x.name + ".";
    if (x.name.empty())
      problems.push_back({"athanor.upstreams.name", "must not be empty"});
    if (std::find(names.begin(), names.end(), x.name) != names.end())
      problems.push_back({prefix + "name", "is used twice"});
    names.push_back(x.name);
    merge(validate(x.session, prefix + "session."));
    merge(validate(x.registry, prefix + "registry."));
    merge(validate(x.breaker, prefix + "breaker."));
  }
  merge(validate(cfg.restart_backoff, "athanor.connections.restart-"));
  if (cfg.max_restarts == 0)
    problems.push_back({"athanor.connections.max-restarts",
                        "must be at least 1"});
  if (cfg.period.count() <= 0)
    problems.push_back({"athanor.connections.period", "must be positive"});
  if (cfg.shutdown_deadline.count() <= 0)
    problems.push_back({"athanor.connections.shutdown-deadline",
                        "must be positive"});
  if (!cfg.links)
    problems.push_back({"athanor.connections.links", "a link factory is required"});
  return problems;
}

caf::expected<supervised_connections_actor>
spawn_connection_supervisor(caf::actor_system& sys,
                            connection_supervisor_config cfg) {
  if (auto problems = validate(cfg); !problems.empty())
    return make_error(engine_errc::invalid_config, to_string(problems));
  return sys.spawn(supervisor_impl, std::move(cfg));
}

} // namespace athanor
