#pragma once

// A WebSocket client for one upstream connection (ws:// or wss://). It
// resolves, connects, verifies the server's certificate (system store or a
// given CA, never silently off), upgrades with the given headers, keeps the
// connection alive with pings and a pong deadline, and hands every frame to
// a callback on the I/O thread. Reading pauses while `max_in_flight` frames
// are unacknowledged, so a slow consumer cannot make memory grow.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "transport/io_thread.hpp"

namespace athanor::transport {

/// Why a connection ended.
enum class ws_end : uint8_t {
  /// We closed it (close() or the destructor), or the peer closed cleanly.
  closed,
  bad_url,
  resolve_failed,
  connect_failed,
  /// The TLS handshake failed for a reason other than the certificate.
  tls_failed,
  /// The server's certificate did not verify (or named another host).
  certificate_invalid,
  /// HTTP 4xx/5xx on the upgrade, other than 429.
  upgrade_rejected,
  /// HTTP 429 on the upgrade.
  rate_limited,
  /// No pong within the deadline.
  pong_timeout,
  /// The connection broke (reset, EOF without a close frame, I/O error).
  connection_lost,
  /// No answer to the upgrade or the close within its timeout.
  timeout,
};

std::string to_string(ws_end x);

struct ws_closed {
  ws_end reason = ws_end::closed;
  /// The HTTP status of a refused upgrade.
  int http_status = 0;
  /// The close code the peer sent, if any.
  uint16_t close_code = 0;
  std::string detail;
};

struct ws_client_options {
  /// ws://host[:port]/path or wss://host[:port]/path.
  std::string url;
  /// Extra upgrade headers (Content-Type: application/msgpack, auth headers).
  std::map<std::string, std::string> headers;
  bool deflate = false;
  /// Extra trusted CA certificates (PEM file or text) besides the system's.
  std::string ca_file;
  std::string ca_pem;
  std::chrono::nanoseconds handshake_timeout = std::chrono::seconds{10};
  std::chrono::nanoseconds ping_interval = std::chrono::seconds{10};
  std::chrono::nanoseconds pong_timeout = std::chrono::seconds{5};
  std::chrono::nanoseconds close_timeout = std::chrono::seconds{2};
  /// Frames handed out but not yet acknowledged before reading pauses.
  size_t max_in_flight = 64;
};

/// Called on the I/O thread.
struct ws_client_events {
  std::function<void()> on_open;
  std::function<void(std::string frame, bool binary)> on_frame;
  /// Called exactly once, whatever ended the connection.
  std::function<void(const ws_closed&)> on_closed;
};

class ws_client {
 public:
  /// Starts connecting at once.
  static std::unique_ptr<ws_client>
  connect(io_thread& io, ws_client_options opts, ws_client_events events);

  /// Drops the connection. Once it returns, no callback runs any more, so
  /// whatever the callbacks refer to may go too.
  ~ws_client();

  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  /// Queues a frame (any thread); frames go out in order.
  void send(std::string frame, bool binary);
  /// Acknowledges `frames` delivered frames (any thread).
  void ack(size_t frames);
  /// Sends a close frame and waits for the peer's (any thread).
  void close();

  /// Opaque; public so transport/ws_client.cpp can derive from it.
  struct impl;

 private:
  ws_client(io_thread& io, std::shared_ptr<impl> x);

  io_thread& io_;
  std::shared_ptr<impl> impl_;
};

} // namespace athanor::transport
