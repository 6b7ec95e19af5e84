#pragma once

// The operators' view: /healthz (alive), /readyz (every leased upstream,
// and the trading stream when a desk runs, authenticated and streaming), /metrics (Prometheus text), /status (a
// self-refreshing HTML page, no external assets) and /status.json (what
// the page shows). The admin asks the engine's actors on every request;
// nothing is cached, so what it shows is what they hold. For the page's
// charts and timeline it also samples them on its clock every
// `history_interval` and keeps the last minutes (status_history).

#include <string>
#include <vector>

#include "caf/fwd.hpp"
#include "caf/timespan.hpp"

#include "actors/admin/status_history.hpp"
#include "messages/admin.hpp"
#include "messages/handles.hpp"

namespace athanor {

struct admin_config {
  /// Health and metrics of every upstream connection (optional).
  connection_supervisor_actor connections;
  /// Further actors answering metrics_atom (a trading desk's supervisor,
  /// the gateway...).
  std::vector<caf::actor> metric_sources;
  /// A trading desk (optional): its trading stream shows as the upstream
  /// "trading" and must stream for /readyz. Asked through the supervisor,
  /// whose executor changes on restarts.
  supervisor_actor trading_desk;
  /// How long a source may take to answer; a silent one is left out.
  caf::timespan query_timeout = std::chrono::seconds{2};
  /// How often the history is sampled; zero: no history.
  caf::timespan history_interval = std::chrono::seconds{2};
  status_history_limits history;
  /// Shown on the page and in /status.json.
  std::string version;
};

caf::expected<admin_actor> spawn_admin(caf::actor_system& sys,
                                       admin_config cfg);

/// The /status page (HTML with inline script and style).
const std::string& status_page();

} // namespace athanor
