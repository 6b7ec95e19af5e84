#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "messages/config_problem.hpp"
#include "messages/handles.hpp"
#include "protocol/market_dialect.hpp"

namespace athanor {

struct registry_config {
  /// Names the upstream this registry serves in logs and metrics.
  std::string name = "market";
  /// What the upstream streams: topics on channels it lacks are refused at
  /// subscribe time, before they can poison the shared connection.
  protocol::feed_family family = protocol::feed_family::unknown;
  /// Batches a subscriber may hold unanswered before the registry queues.
  uint32_t max_in_flight = 8;
  /// Records other than quotes a subscriber may have queued; beyond it new
  /// ones are dropped, counted and announced with a gap. Queued quotes
  /// conflate per symbol (only the newest is kept), so they need no cap.
  uint64_t max_queued_records = 100'000;
  /// What all subscribers' queues together may hold, in bytes (records'
  /// in-memory size, estimated). Beyond it new records are dropped for
  /// whoever would queue them, with a gap, as beyond max_queued_records.
  uint64_t max_queued_bytes = uint64_t{256} << 20;
  /// A subscriber's lag (event time to hand-over: the feed's lag plus time
  /// queued here) above this is logged, once per crossing.
  caf::timespan lag_threshold = std::chrono::milliseconds{25};
  /// A subscription change of more topics than this (or a dead
  /// subscriber's drop) is applied a slice per turn, so deliveries to
  /// everyone else go on between slices; a change has at most 16 slices.
  size_t change_slice = 2'000;
  /// Where gaps are repaired from (a REST client of the market-data API);
  /// invalid: a subscriber asking for backfill gets backfill_failed.
  rest_client_actor history;
  /// Guards that API (invalid: none).
  breaker_actor history_breaker;
  /// The stream's feed, asked of the history too.
  std::string feed = "iex";
  /// How far a repair reaches beyond the gap on each side (records in
  /// flight when it began, late ones after); duplicates are dropped.
  caf::timespan backfill_overlap = std::chrono::seconds{2};
  /// A repair of more records than this fails (the gap stays a gap).
  uint64_t backfill_max_records = 100'000;
  /// A repair not fetched within this fails.
  caf::timespan backfill_timeout = std::chrono::seconds{30};
};

/// Returns every invalid value of `cfg`, each named `prefix` + option.
std::vector<config_problem>
validate(const registry_config& cfg,
         const std::string& prefix = "athanor.registry.");

/// Spawns a subscriber registry. It learns its session from attach_atom.
caf::expected<registry_actor> spawn_subscriber_registry(caf::actor_system& sys,
                                                        registry_config cfg);

} // namespace athanor
