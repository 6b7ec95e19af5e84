#pragma once

// What the /status page shows of the past: records/s and lag of every
// upstream and subscriber over the last minutes, and a timeline of state
// changes, restarts, breaker changes and gaps. A plain class: the admin
// actor samples the engine on its clock and hands each sample here.

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "messages/metrics.hpp"
#include "messages/stream.hpp"

namespace athanor {

struct history_point {
  /// Seconds on the admin's clock.
  double t = 0;
  double value = 0;
};

struct history_series {
  /// "upstream" or "subscriber".
  std::string group;
  /// Whose figures: the upstream's or the subscriber's name.
  std::string owner;
  /// "records/s" or "lag s".
  std::string unit;
  std::deque<history_point> points;
};

struct history_event {
  double t = 0;
  /// "state", "restart", "breaker" or "gap".
  std::string kind;
  std::string text;
};

struct status_history_limits {
  /// Points older than this are forgotten (a series with none goes).
  double window_seconds = 600;
  /// Series kept at once; beyond it new subscribers are not charted.
  size_t max_series = 64;
  size_t max_events = 200;
};

class status_history {
 public:
  explicit status_history(status_history_limits limits = {});

  /// One sample at `t`: the upstreams' health and every actor's metrics.
  void record(double t, const std::vector<upstream_health>& upstreams,
              const metric_samples& samples);

  /// By "group owner unit", so a page lists them in a stable order.
  const std::map<std::string, history_series>& series() const {
    return series_;
  }

  /// Oldest first.
  const std::deque<history_event>& events() const {
    return events_;
  }

  /// Series that were not charted because `max_series` were.
  uint64_t series_left_out() const {
    return left_out_;
  }

 private:
  void add(double t, const std::string& group, const std::string& owner,
           const std::string& unit, double value);
  void event(double t, std::string kind, std::string text);
  void forget_before(double t);

  status_history_limits limits_;
  std::map<std::string, history_series> series_;
  std::deque<history_event> events_;
  uint64_t left_out_ = 0;
  /// What the previous sample showed, to tell what changed.
  std::map<std::string, session_state> states_;
  std::map<std::string, uint32_t> restarts_;
  std::map<std::string, std::string> breakers_;
  std::map<std::string, double> gaps_;
};

} // namespace athanor
