#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace athanor {

/// Every error the engine reports. Values are stable on the wire and in logs:
/// append new ones at the end, never renumber.
enum class engine_errc : uint8_t {
  /// A configuration value is missing or invalid; the context names it.
  invalid_config = 1,
  /// The breaker is open; the context carries `retry_after`.
  breaker_open,
  /// An operator forced the breaker open; nothing passes until reset.
  breaker_forced_open,
  /// Attempts come faster than the breaker's minimum interval allows.
  breaker_throttled,
  /// TCP connect or name resolution failed.
  connect_failed,
  /// The TLS handshake failed for a reason other than the certificate.
  tls_failed,
  /// The peer's certificate did not verify; never silently ignored.
  certificate_invalid,
  /// The WebSocket upgrade was refused with an HTTP 4xx other than 429.
  upgrade_rejected,
  /// HTTP 429: too many requests or upgrades.
  rate_limited,
  /// Alpaca 402: wrong key or secret.
  auth_failed,
  /// Alpaca 404: no authentication within the server's window.
  auth_timeout,
  /// Alpaca 401: a command was sent before authentication.
  not_authenticated,
  /// Alpaca 403: a second authentication on one connection.
  already_authenticated,
  /// Alpaca 406: another session holds this (key, endpoint) slot.
  connection_limit,
  /// Alpaca 407: the server dropped us for reading too slowly.
  slow_client,
  /// Alpaca 409: the account's plan does not include this feed.
  insufficient_subscription,
  /// Alpaca 405: the request would exceed the plan's symbol cap.
  symbol_limit_exceeded,
  /// Alpaca 400 or 410: a malformed or unsupported subscription.
  invalid_subscription,
  /// Alpaca 411: the token lacks the needed scope.
  insufficient_scope,
  /// Alpaca 500 or HTTP 5xx: the server failed.
  server_error,
  /// The connection closed or reset unexpectedly.
  connection_lost,
  /// No data arrived for subscribed symbols within the watchdog period.
  stream_silent,
  /// A WebSocket ping got no pong within its deadline.
  pong_timeout,
  /// A frame or body could not be decoded; the context names field and offset.
  decode_error,
  /// A request got no answer within its timeout.
  request_timeout,
  /// The broker rejected an order (a business outcome, not an outage).
  order_rejected,
  /// The plan is invalid; the context lists every bad field.
  invalid_plan,
  /// The plan was executed before; the recorded result is returned instead.
  plan_already_executed,
  /// The symbol is unknown.
  unknown_symbol,
  /// A dependency did not become ready within its bounded wait.
  not_ready,
  /// The journal could not be read or written.
  journal_error,
  /// A supervisor exceeded its restart intensity and gave up.
  restart_intensity_exceeded,
  /// An exception escaped an actor; the context keeps its message.
  unhandled_exception,
  /// A named child or session does not exist or is not running.
  not_found,
  /// An orderly shutdown did not finish within its deadline.
  shutdown_timeout,
  /// The caller may not do this here (e.g. execute plans through a
  /// published front that does not allow it).
  not_permitted,
};

/// What a caller should do about an error.
enum class error_class : uint8_t {
  /// Transient: try again later (with backoff).
  retryable,
  /// The request itself is wrong or was refused on its merits; retrying the
  /// same thing cannot help, but the endpoint is healthy.
  non_retryable,
  /// Retrying is pointless until a human intervenes (credentials, plan, disk).
  fatal,
};

/// Returns the stable name of `x`, e.g. "breaker_open".
std::string to_string(engine_errc x);

/// Parses a name produced by `to_string`.
std::optional<engine_errc> parse_engine_errc(std::string_view name);

/// Returns the class of `x`.
error_class classify(engine_errc x);

/// Returns the name of `x`, e.g. "non_retryable".
std::string to_string(error_class x);

/// Returns whether retrying later may succeed.
inline bool is_retryable(engine_errc x) {
  return classify(x) == error_class::retryable;
}

/// Returns whether nothing should retry until a human intervenes.
inline bool is_fatal(engine_errc x) {
  return classify(x) == error_class::fatal;
}

/// Maps an Alpaca stream error code (400-411, 500) to an `engine_errc`.
std::optional<engine_errc> from_alpaca_stream_code(int code);

} // namespace athanor
