#pragma once

// One local client of the gateway, speaking Alpaca's market-data stream
// protocol: the welcome, auth against the gateway's own credentials (never
// the upstream keys; 402 on a wrong one, 401 before auth, 400 on bad
// syntax), subscribe/unsubscribe answered with the client's whole
// subscription, data in the client's codec, and gap markers. It leases the
// upstream on its first subscription and subscribes at its registry, so
// every client shares the engine's one connection. A slow client is the
// transport's concern (Alpaca's 407): this actor never blocks on a socket.

#include <memory>
#include <string>

#include "caf/fwd.hpp"

#include "messages/gateway.hpp"
#include "messages/handles.hpp"
#include "messages/secret.hpp"
#include "protocol/market_data.hpp"

namespace athanor {

/// The actor's way back to its client (the real one posts to the server's
/// I/O thread; tests record).
class client_link {
 public:
  virtual ~client_link() = default;
  /// Queues a frame for the client.
  virtual void send(std::string frame) = 0;
  /// Sends the queued frames, then closes.
  virtual void close() = 0;
  /// The client sent wrong credentials (its address may be throttled).
  virtual void login_failed() {}
};

struct gateway_client_config {
  protocol::codec encoding = protocol::codec::json;
  /// Crypto feeds answer subscriptions with their own channel set.
  bool crypto = false;
  /// What clients must authenticate with.
  credentials accepted;
  /// The upstream this client's path maps to, leased on first subscribe.
  std::string upstream;
  connection_supervisor_actor connections;
  std::shared_ptr<client_link> link;
  /// Names the client in logs (its remote address).
  std::string peer;
  /// Names it in the registry's logs and metrics ("gateway-N").
  std::string label;
  /// Not authenticated this long after connecting: error 404 "auth
  /// timeout", closed (Alpaca's window).
  caf::timespan auth_timeout = std::chrono::seconds{10};
  /// Topics this client may hold; a subscribe beyond it is refused whole
  /// (Alpaca's 405, "symbol limit exceeded") and changes nothing.
  size_t max_topics = 500'000;
};

gateway_client_actor spawn_gateway_client(caf::actor_system& sys,
                                          gateway_client_config cfg);

} // namespace athanor
