#pragma once

#include <memory>
#include <string>
#include <vector>

#include "caf/fwd.hpp"
#include "caf/timestamp.hpp"

#include "actors/market/stream_session.hpp"
#include "actors/market/subscriber_registry.hpp"
#include "actors/resilience/breaker_policy.hpp"

namespace athanor {

/// One upstream a lessee can ask for by name.
struct upstream_spec {
  /// The name lessees use, e.g. "market".
  std::string name;
  /// URL, encoding, credentials, timeouts and backoff. The supervisor sets
  /// the link factory, sink, breaker and incarnation itself.
  stream_session_config session;
  registry_config registry;
  /// The breaker guarding the endpoint (one per URL); its endpoint label is
  /// set to the URL.
  breaker_config breaker;
};

struct connection_supervisor_config {
  std::vector<upstream_spec> upstreams;
  /// Opens every session's connections.
  std::shared_ptr<link_factory> links;
  /// Beyond this many session restarts within `period` (per connection)
  /// the supervisor gives up and exits with restart_intensity_exceeded.
  uint32_t max_restarts = 5;
  caf::timespan period = std::chrono::seconds{60};
  backoff_config restart_backoff{std::chrono::milliseconds{100},
                                 std::chrono::seconds{10},
                                 2.0,
                                 0.2,
                                 std::chrono::seconds{30},
                                 0x5eed};
  /// A shutdown kills whatever has not closed after this long.
  caf::timespan shutdown_deadline = std::chrono::seconds{5};
  /// When it dies abnormally, leave the registries running: a market tree
  /// hands them (and their leases) to the next incarnation.
  bool registries_outlive_crash = false;
};

/// Returns every invalid value of `cfg`, each named after its option.
std::vector<config_problem> validate(const connection_supervisor_config& cfg);

/// Spawns the connection supervisor. Connections open on their first lease
/// and close with their last. An exit message asks for a clean shutdown.
caf::expected<supervised_connections_actor>
spawn_connection_supervisor(caf::actor_system& sys,
                            connection_supervisor_config cfg);

} // namespace athanor
