#pragma once

#include <memory>
#include <string>
#include <vector>

#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "actors/resilience/backoff.hpp"
#include "actors/trading/rest_port.hpp"
#include "messages/config_problem.hpp"
#include "messages/handles.hpp"
#include "messages/secret.hpp"

namespace athanor {

struct rest_client_config {
  /// https://paper-api.alpaca.markets or a local http:// URL (for logs and
  /// metrics; the port knows where to send).
  std::string base_url;
  credentials creds;
  std::shared_ptr<rest_port> port;
  /// Our own limit per minute; 0 turns it off (the server's 429 and
  /// X-Ratelimit-* headers are honoured regardless).
  uint32_t requests_per_minute = 200;
  caf::timespan request_timeout = std::chrono::seconds{10};
  /// Attempts of one GET (lookups, lists) before its error is returned.
  uint32_t max_attempts = 5;
  /// POSTs of one order at most; a repeat happens only after a lookup
  /// proved the order absent, with the same client_order_id.
  uint32_t max_posts = 3;
  /// Delays between attempts.
  backoff_config retry_backoff{std::chrono::milliseconds{250},
                               std::chrono::seconds{8},
                               2.0,
                               0.2,
                               std::chrono::seconds{60},
                               0x7e57};
};

/// Returns every invalid value of `cfg`, each named `prefix` + option.
std::vector<config_problem>
validate(const rest_client_config& cfg,
         const std::string& prefix = "athanor.rest.");

caf::expected<rest_client_actor> spawn_rest_client(caf::actor_system& sys,
                                                   rest_client_config cfg);

} // namespace athanor
