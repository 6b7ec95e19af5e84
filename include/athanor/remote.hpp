#pragma once

// Reaching an engine in another process (or machine) that `athanor run
// --publish HOST:PORT` (or a runtime with athanor.remote.publish) exposes
// over CAF's middleman. The host's actor system must be prepare()d; for TLS
// it must also load caf::openssl::manager with its certificate, key and CA
// file (a peer whose certificate does not verify is refused).

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "athanor/runtime.hpp"

namespace athanor {

struct remote_options {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  /// Connect through caf_openssl (both sides need it).
  bool tls = false;
  /// Failed attempts in a row before a subscription gives up (its listener
  /// hears `failed`); 0: never, it waits out engine restarts.
  uint32_t max_attempts = 0;
  /// Told the link's state changes (optional).
  session_listener_actor listener;
  /// execute_remote: the certificate and private key (PEM files) this
  /// process proves to an engine that lets only allow-listed peers
  /// execute (athanor.remote.execute-peers); usually the files caf_openssl
  /// uses. Empty: no proof is offered.
  std::string certificate_file;
  std::string key_file;
};

/// Subscribes at a remote engine; the callbacks run in this process. After
/// a lost engine (a restart, the network) it attaches again by itself, and
/// `on_gap` hears a gap marker before any data that follows. The remote
/// engine releases the share when this process goes away.
caf::expected<subscription> attach(caf::actor_system& sys,
                                   const remote_options& where,
                                   std::vector<std::string> symbols,
                                   std::vector<channel> channels,
                                   data_callbacks callbacks);

/// The same for an actor of the host's.
caf::expected<subscription> attach(caf::actor_system& sys,
                                   const remote_options& where,
                                   std::vector<std::string> symbols,
                                   std::vector<channel> channels,
                                   subscriber_actor subscriber);

/// One link to a remote engine shared by every subscription made through
/// it: the engine sends (and serializes) each batch once for this process,
/// and a subscriber registry here fans it out, with per-subscriber flow
/// control, conflation and gap markers as in the engine. Prefer it to
/// attach() for more than one subscription to the same engine. The link
/// attaches again by itself after a lost engine (subscribers hear a gap).
class remote_engine {
 public:
  static caf::expected<std::unique_ptr<remote_engine>>
  connect(caf::actor_system& sys, const remote_options& where);

  /// Ends the link; its subscriptions end with it.
  ~remote_engine();

  remote_engine(const remote_engine&) = delete;
  remote_engine& operator=(const remote_engine&) = delete;

  caf::expected<subscription> subscribe(std::vector<std::string> symbols,
                                        std::vector<channel> channels,
                                        data_callbacks callbacks);

  /// `name` labels it in this process's logs and metrics.
  caf::expected<subscription> subscribe(std::vector<std::string> symbols,
                                        std::vector<channel> channels,
                                        subscriber_actor subscriber,
                                        std::string name = {});

  /// What connect() builds; opaque outside the library.
  struct impl;
  explicit remote_engine(std::unique_ptr<impl> x);

 private:
  std::unique_ptr<impl> impl_;
};

/// Executes a plan on a remote engine's executor (exactly once per
/// plan_id, wherever it is asked).
caf::expected<plan_result> execute_remote(caf::actor_system& sys,
                                          const remote_options& where,
                                          const plan& spec,
                                          std::chrono::milliseconds timeout);

} // namespace athanor
