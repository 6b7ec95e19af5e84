#pragma once

// The execution side of the engine: the REST client, the trading stream,
// the breaker for orders and the executor, wired together inside an actor
// system the caller owns. `athanor execute`, the integration tests and the
// benchmarks start it through this class.

#include <memory>
#include <string>

#include "caf/expected.hpp"
#include "caf/fwd.hpp"

#include "actors/breaker_policy.hpp"
#include "actors/executor.hpp"
#include "actors/rest_client.hpp"
#include "actors/trading_session.hpp"
#include "actors/ws_link.hpp"

namespace athanor {

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
};

class trading_desk {
 public:
  /// Starts everything in `sys` (which must outlive the desk). Fails with
  /// the journal's or a config error.
  static caf::expected<std::unique_ptr<trading_desk>>
  start(caf::actor_system& sys, trading_desk_options opts);

  ~trading_desk();

  trading_desk(const trading_desk&) = delete;
  trading_desk& operator=(const trading_desk&) = delete;

  executor_actor executor() const {
    return executor_;
  }

  rest_client_actor rest() const {
    return rest_;
  }

  trading_session_actor stream() const {
    return stream_;
  }

  /// Executes a plan and waits for its result (at most `timeout`). Blocks;
  /// never call it from inside an actor.
  caf::expected<plan_result> execute(plan spec, caf::timespan timeout);

  /// Stops the executor, the stream (closing it cleanly) and the REST
  /// client. Idempotent.
  void stop();

 private:
  explicit trading_desk(caf::actor_system& sys);

  caf::actor_system& sys_;
  std::shared_ptr<transport::io_thread> io_;
  rest_client_actor rest_;
  trading_session_actor stream_;
  breaker_actor breaker_;
  executor_actor executor_;
};

} // namespace athanor
