#pragma once

// One local client of the gateway's `/stream`, speaking Alpaca's trading
// stream protocol: no welcome; `authenticate` with the gateway's own
// credentials (never the upstream keys) answered by an `authorization`
// message, a wrong key refused and closed; `listen` (before auth:
// unauthorized) answered with the streams granted (`trade_updates` only),
// once the engine's own trading stream is listening; then every order
// update of the account, as the upstream sent it.
//
// A client connected to Alpaca notices a lost stream because its socket
// drops. The gateway keeps that promise: when the engine's trading stream
// stops streaming, a listening client gets an error message and is closed,
// so its SDK reconnects and reconciles, as it would against Alpaca.

#include <memory>
#include <string>

#include "caf/fwd.hpp"

#include "actors/gateway/gateway_client.hpp"
#include "actors/trading/trade_update_relay.hpp"

namespace athanor {

using gateway_trading_client_actor = caf::typed_actor<
  caf::reacts_to<gateway_frame>, caf::reacts_to<gateway_closed>,
  caf::reacts_to<order_update>, caf::reacts_to<session_status>,
  // Timer: the authentication window has passed.
  caf::reacts_to<timeout_atom>>;

struct gateway_trading_client_config {
  /// JSON, or MessagePack when the upgrade asked for application/msgpack.
  protocol::codec encoding = protocol::codec::json;
  /// What clients must authenticate with.
  credentials accepted;
  trade_update_relay_actor relay;
  std::shared_ptr<client_link> link;
  /// Names the client in logs (its remote address).
  std::string peer;
  /// Not authenticated this long after connecting: refused, closed.
  caf::timespan auth_timeout = std::chrono::seconds{10};
};

gateway_trading_client_actor
spawn_gateway_trading_client(caf::actor_system& sys,
                             gateway_trading_client_config cfg);

} // namespace athanor
