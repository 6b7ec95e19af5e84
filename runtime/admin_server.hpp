#pragma once

// The admin endpoint: an HTTP server (transport::server, its own I/O
// thread) whose requests the admin actor answers.

#include <cstdint>
#include <memory>
#include <string>

#include "caf/expected.hpp"
#include "caf/fwd.hpp"

#include "runtime/listener_pems.hpp"

#include "actors/admin/admin.hpp"
#include "messages/secret.hpp"

namespace athanor {

namespace transport {
class server;
} // namespace transport

struct admin_server_options {
  /// Loopback by default: the admin shows internals.
  std::string address = "127.0.0.1";
  /// 0 picks any free port.
  uint16_t port = 0;
  /// TLS when it has a certificate: wss:// / https:// only.
  listener_pems tls;
  admin_config admin;
  /// Set: every request but /healthz carries `Authorization: Bearer
  /// <token>` or is answered 401. Compared in constant time, never logged.
  secret token;
};

class admin_server {
 public:
  /// Binds and starts serving; fails if the address cannot be bound.
  static caf::expected<std::unique_ptr<admin_server>>
  start(caf::actor_system& sys, admin_server_options opts);

  /// Stops the server and the admin actor.
  ~admin_server();

  admin_server(const admin_server&) = delete;
  admin_server& operator=(const admin_server&) = delete;

  uint16_t port() const;

  /// http://ADDRESS:PORT
  std::string url() const;

 private:
  admin_server() = default;

  std::string address_;
  admin_actor admin_;
  std::unique_ptr<transport::server> server_;
};

} // namespace athanor
