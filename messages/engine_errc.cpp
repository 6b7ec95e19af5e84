#include "messages/engine_errc.hpp"

#include <array>
#include <utility>

namespace athanor {

namespace {

struct errc_info {
  engine_errc code;
  const char* name;
  error_class cls;
};

using ec = engine_errc;
using cl = error_class;

constexpr std::array<errc_info, 36> errc_table{{
  {ec::invalid_config, "invalid_config", cl::fatal},
  {ec::breaker_open, "breaker_open", cl::retryable},
  {ec::breaker_forced_open, "breaker_forced_open", cl::retryable},
  {ec::breaker_throttled, "breaker_throttled", cl::retryable},
  {ec::connect_failed, "connect_failed", cl::retryable},
  {ec::tls_failed, "tls_failed", cl::retryable},
  {ec::certificate_invalid, "certificate_invalid", cl::fatal},
  {ec::upgrade_rejected, "upgrade_rejected", cl::fatal},
  {ec::rate_limited, "rate_limited", cl::retryable},
  {ec::auth_failed, "auth_failed", cl::fatal},
  {ec::auth_timeout, "auth_timeout", cl::retryable},
  {ec::not_authenticated, "not_authenticated", cl::retryable},
  {ec::already_authenticated, "already_authenticated", cl::non_retryable},
  {ec::connection_limit, "connection_limit", cl::retryable},
  {ec::slow_client, "slow_client", cl::retryable},
  {ec::insufficient_subscription, "insufficient_subscription", cl::fatal},
  {ec::symbol_limit_exceeded, "symbol_limit_exceeded", cl::non_retryable},
  {ec::invalid_subscription, "invalid_subscription", cl::non_retryable},
  {ec::insufficient_scope, "insufficient_scope", cl::fatal},
  {ec::server_error, "server_error", cl::retryable},
  {ec::connection_lost, "connection_lost", cl::retryable},
  {ec::stream_silent, "stream_silent", cl::retryable},
  {ec::pong_timeout, "pong_timeout", cl::retryable},
  {ec::decode_error, "decode_error", cl::non_retryable},
  {ec::request_timeout, "request_timeout", cl::retryable},
  {ec::order_rejected, "order_rejected", cl::non_retryable},
  {ec::invalid_plan, "invalid_plan", cl::non_retryable},
  {ec::plan_already_executed, "plan_already_executed", cl::non_retryable},
  {ec::unknown_symbol, "unknown_symbol", cl::non_retryable},
  {ec::not_ready, "not_ready", cl::retryable},
  {ec::journal_error, "journal_error", cl::fatal},
  {ec::restart_intensity_exceeded, "restart_intensity_exceeded", cl::fatal},
  {ec::unhandled_exception, "unhandled_exception", cl::retryable},
  {ec::not_found, "not_found", cl::non_retryable},
  {ec::shutdown_timeout, "shutdown_timeout", cl::non_retryable},
  {ec::not_permitted, "not_permitted", cl::fatal},
}};

const errc_info* find_info(engine_errc x) {
  auto index = static_cast<size_t>(x) - 1;
  if (index < errc_table.size() && errc_table[index].code == x)
    return &errc_table[index];
  return nullptr;
}

} // namespace

std::string to_string(engine_errc x) {
  if (auto info = find_info(x))
    return info->name;
  return "engine_errc(" + std::to_string(static_cast<int>(x)) + ")";
}

std::optional<engine_errc> parse_engine_errc(std::string_view name) {
  for (auto& info : errc_table)
    if (name == info.name)
      return info.code;
  return std::nullopt;
}

error_class classify(engine_errc x) {
  if (auto info = find_info(x))
    return info->cls;
  // An unknown code came from a newer peer; retrying is the safe default.
  return error_class::retryable;
}

std::string to_string(error_class x) {
  switch (x) {
    case error_class::retryable: return "retryable";
    case error_class::non_retryable: return "non_retryable";
    case error_class::fatal: return "fatal";
  }
  return "error_class(?)";
}

std::optional<engine_errc> from_alpaca_stream_code(int code) {
  switch (code) {
    case 400:
    case 410: return ec::invalid_subscription;
    case 401: return ec::not_authenticated;
    case 402: return ec::auth_failed;
    case 403: return ec::already_authenticated;
    case 404: return ec::auth_timeout;
    case 405: return ec::symbol_limit_exceeded;
    case 406: return ec::connection_limit;
    case 407: return ec::slow_client;
    case 408:
    case 409: return ec::insufficient_subscription;
    case 411: return ec::insufficient_scope;
    case 500: return ec::server_error;
    default: return std::nullopt;
  }
}

} // namespace athanor
