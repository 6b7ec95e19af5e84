#pragma once

// A WebSocket and HTTP server on one port (Boost.Beast), for the simulator
// and later the gateway and admin endpoints. No Asio or Beast type appears
// here: applications see requests, connections and callbacks, all of which
// run on the server's one I/O thread, so application state needs no locks.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace athanor::transport {

struct http_request {
  std::string method;
  /// Path and query, e.g. "/v2/orders?status=all".
  std::string target;
  /// Header names in lower case.
  std::map<std::string, std::string> headers;
  std::string body;
  /// The client's IP address ("" if unknown).
  std::string peer_address;
  /// SHA-256 fingerprint of the client's TLS certificate ("" if none).
  std::string peer_certificate;

  /// Returns the header's value or "".
  const std::string& header(const std::string& lower_name) const;
  /// Returns the target without its query.
  std::string path() const;
  /// Returns the query parameter's value or "".
  std::string query(const std::string& name) const;
};

struct http_response {
  int status = 200;
  std::map<std::string, std::string> headers;
  std::string body;
  /// Hold the response back this long (a slow-server fault).
  std::chrono::nanoseconds delay{0};
};

/// Returns a response with a JSON body.
http_response json_response(int status, std::string body);

/// One accepted WebSocket connection. Use it only on the server thread.
class ws_connection {
 public:
  virtual ~ws_connection();

  /// Queues a frame; frames go out in order.
  virtual void send(std::string frame, bool binary) = 0;
  /// Sends the queued frames, then a close frame with `code`.
  virtual void close(uint16_t code = 1000) = 0;
  /// Drops the TCP connection at once with a reset (no close frame).
  virtual void reset() = 0;
  /// Stops reading and writing: the socket stays open but silent, and pings
  /// go unanswered. Used to simulate a stalled server.
  virtual void stall() = 0;
  /// Bytes queued but not yet written.
  virtual size_t queued_bytes() const = 0;
  /// Unique per server.
  virtual uint64_t id() const = 0;
};

using ws_connection_ptr = std::shared_ptr<ws_connection>;

/// Receives one connection's events.
class ws_handler {
 public:
  virtual ~ws_handler();
  virtual void on_open(const ws_connection_ptr& conn) = 0;
  virtual void
  on_message(const ws_connection_ptr& conn, std::string frame, bool binary)
    = 0;
  /// `clean`: the peer sent a close frame (or we closed); otherwise the
  /// connection broke.
  virtual void on_close(const ws_connection_ptr& conn, bool clean) = 0;
};

/// What the application answers an upgrade request with.
struct upgrade_decision {
  /// Accept with this handler, or reject with `rejection` if null.
  std::shared_ptr<ws_handler> handler;
  http_response rejection;
  /// Negotiate permessage-deflate if the client offers it.
  bool deflate = false;
};

/// Answers one HTTP request later, from any thread (exactly once).
using http_responder = std::function<void(http_response)>;

struct server_callbacks {
  std::function<upgrade_decision(const http_request&)> on_upgrade;
  std::function<http_response(const http_request&)> on_http;
  /// When set, used instead of on_http: the answer may come later (from
  /// an actor), through the responder.
  std::function<void(const http_request&, http_responder)> on_http_async;
};

struct server_options {
  std::string address = "127.0.0.1";
  /// 0 picks any free port.
  uint16_t port = 0;
  /// With both set (PEM), the server speaks wss:// and https:// only.
  std::string tls_certificate_pem;
  std::string tls_private_key_pem;
  /// With TLS: when set (PEM), a client must present a certificate that
  /// verifies against these CAs, or the handshake fails.
  std::string tls_client_ca_pem;
  /// The Server header of every HTTP answer.
  std::string server_name = "athanor";
  /// A close this server begins waits this long for the peer's close frame,
  /// then resets the connection: a client that never reads would hold its
  /// socket for Beast's 30 s otherwise.
  std::chrono::nanoseconds close_timeout = std::chrono::seconds{5};
};

class server {
 public:
  using timer_id = uint64_t;

  /// Binds and starts the I/O thread; throws std::system_error if the
  /// address cannot be bound.
  server(server_options opts, server_callbacks callbacks);

  /// Stops accepting, closes every connection and joins the I/O thread.
  ~server();

  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// The bound port.
  uint16_t port() const;

  /// Runs `f` on the server thread.
  void post(std::function<void()> f);

  /// Runs `f` on the server thread after `delay`; returns an id for cancel.
  timer_id schedule(std::chrono::nanoseconds delay, std::function<void()> f);

  /// Cancels a scheduled call that has not run yet (server thread only).
  void cancel(timer_id id);

  /// Stops the server (idempotent; also done by the destructor).
  void stop();

  /// Whether the server speaks TLS.
  bool tls() const;

  /// While set, new connections are dropped before the TLS handshake
  /// completes (a "TLS refusal" fault). Any thread.
  void refuse_tls(bool on);

  /// Opaque; public only so the sessions in server.cpp can name it.
  struct impl;

 private:
  std::unique_ptr<impl> impl_;
};

} // namespace athanor::transport
