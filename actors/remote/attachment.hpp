#pragma once

// A consumer's link to an engine in another process (`athanor attach`, the
// library's remote subscriptions): connects through CAF's middleman (or
// caf_openssl's manager, for TLS) to the engine's published front,
// subscribes, and passes the engine's batches and gaps on to the consumer.
// A batch's reply comes from the consumer, so the engine's flow control
// reaches across the network. When the engine goes away (a restart, the
// network), the attachment attaches again with backoff, and the consumer
// hears a gap marker before any data of the new attachment.
//
// Its topics may change while it runs (desire_atom, as a stream session
// hears from its registry): a registry in the consumer's process can use an
// attachment as its session, so that many local subscribers share one
// remote subscription and the engine sends each batch once.

#include <string>
#include <vector>

#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "actors/resilience/backoff.hpp"
#include "messages/handles.hpp"

namespace athanor {

using attachment_actor = caf::typed_actor<
  // From the engine's registry (this actor is the remote subscriber).
  caf::reacts_to<batch>, caf::reacts_to<gap>,
  caf::replies_to<caf::get_atom>::with<session_status>,
  // The topics wanted from now on (what a registry tells its session).
  caf::reacts_to<desire_atom, subscription_set, trace>,
  // The backoff timer.
  caf::reacts_to<retry_atom, uint64_t>>;

struct attachment_config {
  /// A caf::io::middleman_actor: the system's middleman, or the openssl
  /// manager's for TLS.
  caf::actor middleman;
  std::string host;
  uint16_t port = 0;
  /// Names the engine in status and logs, e.g. "basp://127.0.0.1:4242".
  std::string endpoint;
  /// The topics to start with (may be empty).
  std::vector<topic> topics;
  subscriber_actor consumer;
  /// Told every state change (optional).
  session_listener_actor listener;
  backoff_config backoff{std::chrono::milliseconds{200},
                         std::chrono::seconds{5},
                         2.0,
                         0.2,
                         std::chrono::seconds{30},
                         0xa77ac4};
  /// For the connection and for the subscription's answer.
  caf::timespan call_timeout = std::chrono::seconds{10};
  /// Attempts in a row before giving up (state failed); 0: never.
  uint32_t max_attempts = 0;
};

/// Spawns the attachment; it connects at once. It ends with its consumer.
attachment_actor spawn_attachment(caf::actor_system& sys,
                                  attachment_config cfg);

} // namespace athanor
