#pragma once

// One gap's repair, fetched: a short-lived actor that pages through the
// market-data API's history for each request, in turn, through the REST
// client (rate-limited and retried there) and, when given one, the
// endpoint's breaker (a permit per page; an open breaker fails the repair
// at once), bounded in records and time, then reports a backfill_result to
// the registry and exits.

#include <cstdint>
#include <vector>

#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "messages/handles.hpp"
#include "messages/history.hpp"

namespace athanor {

struct backfill_fetch_config {
  rest_client_actor history;
  /// Guards the market-data API; invalid: none.
  breaker_actor breaker;
  std::vector<history_request> requests;
  uint64_t job = 0;
  /// Beyond this many records the repair fails (the gap stays a gap).
  uint64_t max_records = 100'000;
  caf::timespan timeout = std::chrono::seconds{30};
  /// Receives the backfill_result.
  caf::actor reply_to;
};

caf::actor spawn_backfill_fetch(caf::actor_system& sys,
                                backfill_fetch_config cfg);

} // namespace athanor
