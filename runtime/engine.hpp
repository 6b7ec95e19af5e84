#pragma once

// The running engine: the I/O thread, the link factory and the market-data
// tree (the connection supervisor under a supervisor, behind a stable
// front), wired together inside an actor system that the caller owns.
// The `athanor` binary, the integration tests and the benchmarks all start
// the engine through this class.

#include <memory>
#include <string>
#include <vector>

#include "caf/expected.hpp"
#include "caf/fwd.hpp"

#include "actors/market/connection_supervisor.hpp"
#include "actors/market/tape_recorder.hpp"
#include "actors/market/ws_link.hpp"
#include "actors/resilience/supervisor_config.hpp"

namespace athanor {

struct engine_options {
  /// The upstreams lessees can ask for.
  std::vector<upstream_spec> upstreams;
  ws_link_options link;
  /// Opens the market-data links instead of WebSockets (a tape replay).
  std::shared_ptr<link_factory> links;
  /// Records every market-data link to this tape; empty path: off.
  tape_file_options record;
  /// Restart intensity, restart backoff and shutdown deadline; `upstreams`
  /// and `links` are filled in by the engine.
  connection_supervisor_config connections;
  /// Restarts of the connection supervisor itself (beyond its intensity
  /// market data has failed).
  supervisor_config tree{"market"};
};

class engine {
 public:
  /// Starts the engine in `sys`, which must outlive it.
  static caf::expected<std::unique_ptr<engine>>
  start(caf::actor_system& sys, engine_options opts);

  /// Stops the engine (see stop()).
  ~engine();

  engine(const engine&) = delete;
  engine& operator=(const engine&) = delete;

  /// The market tree's front: the same handle for the engine's life,
  /// whichever connection supervisor runs behind it.
  connection_supervisor_actor connections() const {
    return connections_;
  }

  /// The supervisor of the connection supervisor (child "connections").
  supervisor_actor supervisor() const {
    return supervisor_;
  }

  /// The tape recorder (invalid when not recording), for metrics.
  tape_recorder_actor recorder() const {
    return recorder_;
  }

  /// Leases `upstream` for `subscriber` and subscribes it to `topics`,
  /// named `label` in the registry (empty: "subscriber-N"), its gaps on
  /// `backfill`'s channels repaired. The lease ends
  /// when the subscriber dies. Blocks; for host code and tests, never call
  /// it from inside an actor.
  caf::expected<lease> subscribe(const std::string& upstream,
                                 subscriber_actor subscriber,
                                 std::vector<topic> topics,
                                 std::string label = {},
                                 std::vector<channel> backfill = {});

  /// Returns every upstream's health. Blocks.
  caf::expected<std::vector<upstream_health>> health();

  /// Returns the counters and gauges of every engine actor. Blocks.
  caf::expected<metric_samples> metrics();

  /// Closes every connection cleanly and waits until the supervisor is
  /// gone (bounded by its shutdown deadline plus a second), then until the
  /// recorder has written its tape. Idempotent.
  void stop();

 private:
  engine(caf::actor_system& sys);

  caf::actor_system& sys_;
  std::shared_ptr<transport::io_thread> io_;
  connection_supervisor_actor connections_;
  supervisor_actor supervisor_;
  tape_recorder_actor recorder_;
  caf::timespan shutdown_deadline_;
};

} // namespace athanor
