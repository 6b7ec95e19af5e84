#pragma once

// The trading stream (`<base>/stream`): authenticate, listen to
// trade_updates, hand every order update to the listeners (the executor),
// reconnect with backoff after the breaker's permit, with the long wait
// after a 429 (the market-data session's lifecycle:
// actors/market/connection_lifecycle.hpp). Its state is a session_status;
// `streaming` means authorised and listening, which is what the executor
// waits for. Order updates are never conflated or dropped: they are few,
// and each matters.

#include <memory>
#include <string>
#include <vector>

#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "actors/market/link.hpp"
#include "actors/resilience/backoff.hpp"
#include "messages/config_problem.hpp"
#include "messages/handles.hpp"
#include "messages/secret.hpp"

namespace athanor {

struct trading_session_config {
  /// ws:// or wss:// URL of the stream, e.g.
  /// wss://paper-api.alpaca.markets/stream.
  std::string url;
  credentials creds;
  std::shared_ptr<link_factory> links;
  /// Consulted before every attempt, as for the market-data stream; none
  /// when invalid.
  breaker_actor breaker;
  caf::timespan breaker_timeout = std::chrono::seconds{5};
  backoff_config backoff{std::chrono::milliseconds{500},
                         std::chrono::seconds{30},
                         2.0,
                         0.2,
                         std::chrono::seconds{60},
                         0x7ade};
  /// After an upgrade refused with 429, wait at least this long, doubling
  /// per repeat up to `limit_backoff_max` (the market stream's schedule).
  caf::timespan limit_backoff = std::chrono::seconds{1};
  caf::timespan limit_backoff_max = std::chrono::seconds{120};
  /// From the attempt to the upgrade.
  caf::timespan connect_timeout = std::chrono::seconds{15};
  /// From the upgrade to "authorized", and from listen to "listening".
  caf::timespan auth_timeout = std::chrono::seconds{10};
  caf::timespan close_timeout = std::chrono::seconds{2};
};

std::vector<config_problem>
validate(const trading_session_config& cfg,
         const std::string& prefix = "athanor.trading.");

/// Spawns a trading session that starts connecting at once.
caf::expected<trading_session_actor>
spawn_trading_session(caf::actor_system& sys, trading_session_config cfg);

/// Returns the trading stream URL for a REST base URL (https -> wss,
/// http -> ws, path /stream).
std::string trading_stream_url(const std::string& rest_base_url);

} // namespace athanor
