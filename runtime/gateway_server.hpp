#pragma once

// The gateway: a local endpoint that speaks Alpaca's market-data stream
// protocol (same paths, JSON or MessagePack by Content-Type), so programs
// written for Alpaca's SDKs point at Athanor instead and share its one
// upstream connection. One gateway_client actor per connection; the server
// (transport::server, its own I/O thread) only moves frames. A client
// whose unsent frames exceed `max_queued_bytes` gets Alpaca's 407 and is
// closed, without slowing anyone else. With `trade_updates`, /stream speaks
// Alpaca's trading stream and relays a trading desk's order updates.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "caf/expected.hpp"
#include "caf/fwd.hpp"

#include "runtime/listener_pems.hpp"

#include "actors/gateway/gateway_client.hpp"
#include "actors/trading/trade_update_relay.hpp"

namespace athanor {

struct gateway_server_options {
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  /// TLS when it has a certificate: wss:// / https:// only.
  listener_pems tls;
  /// ATHANOR_GATEWAY_KEY / ATHANOR_GATEWAY_SECRET.
  credentials accepted;
  connection_supervisor_actor connections;
  /// Path -> upstream name, e.g. "/v2/iex" -> "market".
  std::map<std::string, std::string> routes;
  /// Serve Alpaca's trading stream on /stream: the order updates given to
  /// trade_updates() (by a trading desk) reach every listening client.
  bool trade_updates = false;
  size_t max_queued_bytes = 16u << 20;
  /// Topics one market-data client may hold.
  size_t max_topics_per_client = 500'000;
  /// A client not authenticated this long after connecting is closed.
  caf::timespan auth_timeout = std::chrono::seconds{10};
  /// A client closed (or refused) that does not answer the close frame
  /// within this is reset, so one that never reads frees its socket.
  caf::timespan close_timeout = std::chrono::seconds{5};
  /// Clients connected at once (market data and /stream); one more gets
  /// Alpaca's 406 "connection limit exceeded" and is closed.
  size_t max_connections = 1000;
  /// Clients from one IP address at once.
  size_t max_connections_per_address = 100;
  /// This many failed logins from one address within `login_window` refuse
  /// its new connections for `login_ban` (Alpaca-style error 429).
  uint32_t max_failed_logins = 5;
  std::chrono::nanoseconds login_window = std::chrono::minutes{1};
  std::chrono::nanoseconds login_ban = std::chrono::minutes{1};
  /// Every local client is 127.0.0.1, so on loopback the per-address cap
  /// and the login ban would let one misconfigured client lock out all the
  /// others: they apply to non-loopback peers only, unless this is set
  /// (tests, which can only connect from loopback).
  bool per_address_on_loopback = false;
};

class gateway_server {
 public:
  static caf::expected<std::unique_ptr<gateway_server>>
  start(caf::actor_system& sys, gateway_server_options opts);

  /// Closes every client connection and stops serving.
  ~gateway_server();

  gateway_server(const gateway_server&) = delete;
  gateway_server& operator=(const gateway_server&) = delete;

  uint16_t port() const;

  /// ws://ADDRESS:PORT
  std::string url() const;

  /// The listener to give a trading desk (invalid without trade_updates).
  order_listener_actor trade_updates() const;

  /// Answers metrics_atom: admission counters, and the /stream side's.
  caf::actor metrics_source() const;

  /// Opaque; shared with the client links.
  struct shared;

 private:
  gateway_server() = default;

  std::string address_;
  std::shared_ptr<shared> shared_;
  trade_update_relay_actor relay_;
  /// Admission counters (and the relay's figures).
  caf::actor metrics_;
};

} // namespace athanor
