#pragma once

#include <memory>
#include <string>
#include <vector>

#include "caf/fwd.hpp"
#include "caf/timestamp.hpp"

#include "actors/market/link.hpp"
#include "actors/resilience/backoff.hpp"
#include "messages/config_problem.hpp"
#include "messages/handles.hpp"
#include "messages/secret.hpp"

namespace athanor {

struct stream_session_config {
  /// ws:// or wss:// URL with the feed path, e.g.
  /// wss://stream.data.alpaca.markets/v2/iex.
  std::string url;
  protocol::codec encoding = protocol::codec::msgpack;
  credentials creds;
  /// Opens the connections.
  std::shared_ptr<link_factory> links;
  /// Receives data batches and gap markers (the registry).
  subscriber_actor sink;
  /// Consulted before every attempt; none when invalid.
  breaker_actor breaker;
  /// How often this session was restarted; a restarted session tells its
  /// sink that data may be missing.
  uint32_t incarnation = 0;
  /// Delays between failed attempts.
  backoff_config backoff{std::chrono::milliseconds{500},
                         std::chrono::seconds{30},
                         2.0,
                         0.2,
                         std::chrono::seconds{60},
                         0x5eed};
  /// After 406 (connection limit) or an upgrade refused with 429, wait at
  /// least this long, doubling per repeat (jittered as `backoff`) up to
  /// `limit_backoff_max`; a stable run starts it over. A server keeps a
  /// session dropped without a close frame for seconds to ~90 s: starting
  /// small finds a 3 s ghost gone within seconds (Alpaca's SDKs retry 406
  /// within 0.5-1 s) and reaches a 90 s one in seven attempts.
  caf::timespan limit_backoff = std::chrono::seconds{1};
  caf::timespan limit_backoff_max = std::chrono::seconds{120};
  /// From the attempt to the server's welcome.
  caf::timespan connect_timeout = std::chrono::seconds{15};
  /// From the auth message to "authenticated".
  caf::timespan auth_timeout = std::chrono::seconds{10};
  /// From a subscription change to its ack.
  caf::timespan ack_timeout = std::chrono::seconds{10};
  /// No quote or trade of a subscribed symbol for this long forces a
  /// reconnect; each consecutive trip doubles it (up to 8x) so a quiet
  /// market is not hammered. Zero turns the watchdog off.
  caf::timespan silence_timeout = std::chrono::seconds{30};
  /// How long the breaker may take to answer a permit request.
  caf::timespan breaker_timeout = std::chrono::seconds{5};
  /// How long a shutdown waits for the close handshake.
  caf::timespan close_timeout = std::chrono::seconds{2};
  /// Event time to receive time above this is logged (once per crossing)
  /// and counted; Alpaca's quotes normally arrive < 25 ms behind.
  caf::timespan lag_threshold = std::chrono::milliseconds{25};
};

/// Returns every invalid value of `cfg`, each named `prefix` + option.
std::vector<config_problem>
validate(const stream_session_config& cfg,
         const std::string& prefix = "athanor.session.");

/// Spawns a market-data stream session that starts connecting at once.
caf::expected<session_actor> spawn_stream_session(caf::actor_system& sys,
                                                  stream_session_config cfg);

} // namespace athanor
