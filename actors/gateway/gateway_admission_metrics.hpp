#pragma once

// The gateway's admission figures as metrics: its server thread counts
// (atomics, written there only), this actor reads them for the admin's
// /metrics, together with any further sources (the /stream relay).

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "caf/fwd.hpp"

namespace athanor {

struct gateway_admission_counters {
  /// Clients connected now.
  std::atomic<uint64_t> open{0};
  std::atomic<uint64_t> accepted{0};
  /// Refused: athanor.gateway.max-connections.
  std::atomic<uint64_t> refused_total_limit{0};
  /// Refused: athanor.gateway.max-connections-per-address.
  std::atomic<uint64_t> refused_address_limit{0};
  /// Refused: the address is banned after failed logins.
  std::atomic<uint64_t> refused_banned{0};
  std::atomic<uint64_t> failed_logins{0};
  /// Bans begun (max-failed-logins reached).
  std::atomic<uint64_t> bans{0};
  /// Closed with 407 (a client that could not keep up).
  std::atomic<uint64_t> slow_clients{0};
  /// Refusal log lines left out (at most one per reason every 10 s).
  std::atomic<uint64_t> refusal_logs_suppressed{0};
};

/// Answers metrics_atom with the counters plus what `more` answer.
caf::actor
spawn_gateway_admission_metrics(caf::actor_system& sys,
                                std::shared_ptr<const gateway_admission_counters>
                                  counters,
                                std::vector<caf::actor> more);

} // namespace athanor
