#pragma once

// The seam between the REST client actor and HTTP. The real port is
// transport::http_client on an I/O thread; tests use a scripted fake. A port
// answers every request exactly once with an http_answer sent to the actor
// that asked.

#include <memory>

#include "caf/actor.hpp"

#include "transport/http_client.hpp"

namespace athanor {

class rest_port {
 public:
  virtual ~rest_port() = default;

  /// Sends `call`; `reply_to` receives http_answer{id, ...}.
  virtual void send(transport::http_call call, uint64_t id,
                    caf::actor reply_to) = 0;
};

/// Returns a port over an http_client on `io`; the port keeps the thread
/// alive.
std::shared_ptr<rest_port>
make_http_rest_port(std::shared_ptr<transport::io_thread> io,
                    transport::http_client_options opts);

} // namespace athanor
