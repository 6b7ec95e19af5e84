#pragma once

// The actor system's configuration for the engine's commands: Athanor's
// message types, the thread count, CAF's own command-line options, the
// middleman (BASP, for --publish and attach) and, with certificates,
// caf_openssl.

#include <sstream>
#include <string>
#include <thread>

#include "caf/actor_system_config.hpp"
#include "caf/io/middleman.hpp"
#include "caf/openssl/manager.hpp"

#include "messages/register.hpp"
#include "runtime/config.hpp"

namespace athanor {

struct system_config : caf::actor_system_config {
  /// CAF's verdict on its own options (--scheduler.*); empty if fine.
  std::string problem;

  explicit system_config(const loaded_config& loaded) {
    athanor::add_message_types(*this);
    load<caf::io::middleman>();
    auto& remote = loaded.config.remote;
    if (remote.tls()) {
      load<caf::openssl::manager>();
      openssl_certificate = remote.certificate;
      openssl_key = remote.key;
      openssl_cafile = remote.ca_file;
    }
    auto threads = loaded.config.scheduler_threads;
    if (threads == 0)
      threads = std::max(1u, std::thread::hardware_concurrency());
    set("scheduler.max-threads", threads);
    // CAF 0.17 lets an actor drain its whole mailbox before others run.
    // The registry then answers a burst of batches by queueing (and
    // copying) for every subscriber; a few messages per turn let the
    // subscribers keep up: 100-subscriber fan-out went from 4 M to 40 M
    // deliveries/s (athanor-bench e2e). --scheduler.max-throughput=N
    // overrides it.
    set("scheduler.max-throughput", size_t{4});
    // No INI file here: ours was read by load_config.
    std::istringstream no_file;
    if (auto err = parse(loaded.caf_arguments, no_file))
      problem = caf::to_string(err);
  }
};

} // namespace athanor
