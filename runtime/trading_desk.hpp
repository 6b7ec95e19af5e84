#pragma once

// The execution side of the engine: the REST client, the trading stream,
// the breaker for orders and the executor, started as one group under a
// supervisor inside an actor system the caller owns. The executor links to
// the other three, so a crash of any takes the group down and the
// supervisor starts it again (with backoff, within its restart intensity);
// the new executor resumes unfinished plans from the journal. `athanor
// execute`, the integration tests and the benchmarks start it here.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "caf/expected.hpp"
#include "caf/fwd.hpp"

#include "actors/market/ws_link.hpp"
#include "actors/resilience/breaker_policy.hpp"
#include "actors/resilience/supervisor_config.hpp"
#include "actors/trading/executor.hpp"
#include "actors/trading/rest_client.hpp"
#include "actors/trading/trading_session.hpp"

namespace athanor {

struct engine_config;

struct trading_desk_options {
  /// The trading REST base (https:// or a local http://); the stream is
  /// its /stream.
  std::string base_url;
  credentials creds;
  /// Extra trusted CA certificates (PEM file) for REST and the stream.
  std::string ca_file;
  /// REST connections kept open at once.
  size_t max_connections = 4;
  /// For the REST client, the stream and the executor; their URL,
  /// credentials, ports and handles are filled in here.
  rest_client_config rest;
  trading_session_config stream;
  executor_config executor;
  ws_link_options link;
  /// The breaker consulted before every order; `endpoint` is set here.
  breaker_config breaker;
  /// The trading stream's own breaker (its endpoint is set here).
  breaker_config stream_breaker;
  /// Restarts of the group; `name` is set here.
  supervisor_config supervisor;
  /// Further listeners of the trading stream (the gateway's relay); every
  /// trading session the group starts gets them.
  std::vector<order_listener_actor> listeners;
};

/// A trading desk as the configuration asks for it, trading at `base_url`
/// with `creds` and journaling at `journal_path` (its directory created).
trading_desk_options desk_options_of(const engine_config& cfg,
                                     std::string base_url, credentials creds,
                                     std::string journal_path);

class trading_desk {
 public:
  /// Starts everything in `sys` (which must outlive the desk). Fails with
  /// a config or journal error; a journal another process (or desk) holds
  /// is refused (`journal_error`), so two executors never share one.
  static caf::expected<std::unique_ptr<trading_desk>>
  start(caf::actor_system& sys, trading_desk_options opts);

  ~trading_desk();

  trading_desk(const trading_desk&) = delete;
  trading_desk& operator=(const trading_desk&) = delete;

  /// The current executor (it changes when the group restarts). Blocks.
  caf::expected<executor_actor> executor();

  supervisor_actor supervisor() const {
    return supervisor_;
  }

  /// Executes a plan and waits for its result (at most `timeout`). When
  /// the group restarts meanwhile, asks the new executor again: a plan_id
  /// executes once, so asking twice is safe. Blocks; never call it from
  /// inside an actor.
  caf::expected<plan_result> execute(plan spec, caf::timespan timeout);

  /// The trading stream's last status, as the executor saw it. Blocks.
  caf::expected<session_status> stream_status();

  /// Stops the group (bounded by the supervisor's shutdown deadline).
  /// Idempotent.
  void stop();

 private:
  explicit trading_desk(caf::actor_system& sys);

  caf::actor_system& sys_;
  std::shared_ptr<transport::io_thread> io_;
  /// Holds `<journal>.lock` (flock) for the desk's lifetime; -1 if none.
  int journal_lock_ = -1;
  supervisor_actor supervisor_;
  /// Set by stop(): execute() no longer waits for a restart.
  std::atomic<bool> stopped_{false};
  caf::timespan shutdown_deadline_;
};

} // namespace athanor
