#pragma once

// The real link: a WebSocket (transport::ws_client) whose frames are decoded
// on the I/O thread and sent to the session as link_frame messages. The
// ws_client reads no further while `max_in_flight` frames are unacknowledged,
// which is the flow control between socket and session.

#include <chrono>
#include <memory>
#include <string>

#include "actors/market/link.hpp"

namespace athanor {

namespace transport {
class io_thread;
} // namespace transport

struct ws_link_options {
  /// Extra trusted CA certificates (PEM file) besides the system's.
  std::string ca_file;
  /// The same as PEM text.
  std::string ca_pem;
  bool deflate = false;
  std::chrono::nanoseconds handshake_timeout = std::chrono::seconds{10};
  std::chrono::nanoseconds ping_interval = std::chrono::seconds{10};
  std::chrono::nanoseconds pong_timeout = std::chrono::seconds{5};
  std::chrono::nanoseconds close_timeout = std::chrono::seconds{2};
  size_t max_in_flight = 64;
};

/// Returns a link factory whose links run on `io`. The factory and every
/// link keep the I/O thread alive, so a link destroyed late (an actor killed
/// during shutdown) never outlives its thread.
std::shared_ptr<link_factory>
make_ws_link_factory(std::shared_ptr<transport::io_thread> io,
                     ws_link_options opts);

} // namespace athanor
