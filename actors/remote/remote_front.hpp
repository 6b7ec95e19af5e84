#pragma once

// The actor an engine publishes for other processes (`athanor run
// --publish`): remote subscribers lease the market data and subscribe at its
// registry through it, and plans reach the trading desk's executor. It
// remembers each remote subscriber's lease, monitors the subscriber across
// nodes, and lets the lease go when it unsubscribes from everything, dies
// or its node disconnects.

#include <string>

#include "caf/fwd.hpp"

#include "actors/remote/execute_gate.hpp"
#include "messages/remote.hpp"

namespace athanor {

struct remote_front_config {
  connection_supervisor_actor connections;
  /// The upstream remote subscribers share ("market").
  std::string upstream = "market";
  /// The trading desk's supervisor, whose "trading" child is the executor;
  /// without one, execute is refused.
  supervisor_actor trading_desk;
  /// Who may execute plans (athanor.remote.execute, …execute-peers);
  /// a refused plan gets not_permitted and a log line naming the peer's
  /// node and certificate fingerprint.
  execute_gate_config execute;
};

remote_front_actor spawn_remote_front(caf::actor_system& sys,
                                      remote_front_config cfg);

} // namespace athanor
