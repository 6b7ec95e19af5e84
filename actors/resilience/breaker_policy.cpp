#include "actors/resilience/breaker_policy.hpp"

#include <cmath>
#include <stdexcept>

namespace athanor {

std::vector<config_problem> validate(const breaker_config& cfg,
                                     const std::string& prefix) {
  std::vector<config_problem> problems;
  auto add = [&](const char* option, std::string message) {
    problems.push_back({prefix + option, std::move(message)});
  };
  auto positive = [&](const char* option, std::chrono::nanoseconds value) {
    if (value.count() <= 0)
      add(option, "must be a positive duration");
  };
  auto not_negative = [&](const char* option, std::chrono::nanoseconds value) {
    if (value.count() < 0)
      add(option, "must not be negative");
  };
  auto at_least_one = [&](const char* option, uint32_t value) {
    if (value == 0)
      add(option, "must be at least 1 (got 0)");
  };
  at_least_one("failure-threshold", cfg.failure_threshold);
  if (auto rate = cfg.failure_rate_threshold;
      rate && !(*rate > 0.0 && *rate <= 100.0))
    add("failure-rate-threshold",
        "must be in (0, 100] (got " + std::to_string(*rate) + ")");
  if (cfg.window == window_kind::count)
    at_least_one("window-size", cfg.window_size);
  else
    positive("window-duration", cfg.window_duration);
  at_least_one("minimum-calls", cfg.minimum_calls);
  not_negative("slow-call-duration", cfg.slow_call_duration);
  positive("open-duration", cfg.open_duration);
  if (cfg.max_open_duration < cfg.open_duration)
    add("max-open-duration", "must be at least open-duration");
  if (!(cfg.open_backoff_multiplier >= 1.0)
      || !std::isfinite(cfg.open_backoff_multiplier))
    add("open-backoff-multiplier",
        "must be a finite number >= 1 (got "
          + std::to_string(cfg.open_backoff_multiplier) + ")");
  if (!(cfg.open_jitter >= 0.0 && cfg.open_jitter < 1.0))
    add("open-jitter",
        "must be in [0, 1) (got " + std::to_string(cfg.open_jitter) + ")");
  at_least_one("half-open-max-probes", cfg.half_open_max_probes);
  at_least_one("success-threshold", cfg.success_threshold);
  not_negative("min-attempt-interval", cfg.min_attempt_interval);
  positive("probe-timeout", cfg.probe_timeout);
  at_least_one("max-outstanding-permits", cfg.max_outstanding_permits);
  return problems;
}

// -- window -------------------------------------------------------------------

void breaker_policy::outcome_window::add(time_point now, bool failure) {
  evict(now);
  entries_.push_back({now, failure});
  if (failure)
    ++failures_;
  if (kind_ == window_kind::count && entries_.size() > size_) {
    if (entries_.front().failure)
      --failures_;
    entries_.pop_front();
  }
}

void breaker_policy::outcome_window::evict(time_point now) {
  if (kind_ != window_kind::time)
    return;
  // The window is (now - span, now]: an entry exactly `span` old has left.
  while (!entries_.empty() && now - entries_.front().at >= span_) {
    if (entries_.front().failure)
      --failures_;
    entries_.pop_front();
  }
}

void breaker_policy::outcome_window::clear() {
  entries_.clear();
  failures_ = 0;
}

// -- policy -------------------------------------------------------------------

breaker_policy::breaker_policy(breaker_config cfg)
    : cfg_(std::move(cfg)), random_(cfg_.seed),
      window_(cfg_.window, cfg_.window_size, cfg_.window_duration) {
  if (auto problems = validate(cfg_); !problems.empty())
    throw std::invalid_argument(to_string(problems));
}

void breaker_policy::clear_counts() {
  // A new generation: outcomes of permits granted before no longer decide
  // anything and arrive as stale.
  ++generation_;
  outstanding_.clear();
  half_open_successes_ = 0;
  consecutive_failures_ = 0;
  window_.clear();
}

breaker_policy::transition breaker_policy::enter(breaker_state to,
                                                 std::string reason) {
  transition result{state_, to, std::move(reason), duration{0}, 0};
  state_ = to;
  ++counters_.transitions;
  clear_counts();
  result.generation = generation_;
  if (to == breaker_state::closed || to == breaker_state::disabled
      || to == breaker_state::forced_open)
    consecutive_trips_ = 0;
  return result;
}

breaker_policy::transition breaker_policy::trip(time_point now,
                                                std::string reason) {
  auto step = consecutive_trips_;
  auto unit = cfg_.open_jitter > 0.0 ? random_.next_unit() : 0.5;
  auto open_for = grow_with_jitter(cfg_.open_duration,
                                   cfg_.open_backoff_multiplier, step,
                                   cfg_.max_open_duration, cfg_.open_jitter,
                                   unit);
  auto result = enter(breaker_state::open, std::move(reason));
  consecutive_trips_ = step + 1;
  ++counters_.trips;
  open_until_ = now + open_for;
  result.open_for = open_for;
  return result;
}

std::optional<double> breaker_policy::failure_rate(time_point now) {
  if (!cfg_.failure_rate_threshold)
    return std::nullopt;
  window_.evict(now);
  if (window_.calls() < cfg_.minimum_calls || window_.calls() == 0)
    return std::nullopt;
  return 100.0 * window_.failures() / window_.calls();
}

breaker_policy::decision breaker_policy::refuse(engine_errc why,
                                                duration retry_after) {
  ++counters_.permits_refused;
  decision result;
  result.refusal = why;
  result.retry_after = retry_after < duration{0} ? duration{0} : retry_after;
  return result;
}

breaker_policy::decision breaker_policy::acquire(time_point now) {
  std::optional<transition> change;
  // The timer normally moves OPEN to HALF_OPEN; a request that arrives after
  // the instant but before the timer message is served the same way.
  if (state_ == breaker_state::open && now >= open_until_)
    change = enter(breaker_state::half_open, "open duration elapsed");
  auto result = [&]() -> decision {
    switch (state_) {
      case breaker_state::disabled: {
        ++counters_.permits_granted;
        decision granted;
        granted.granted = permit{next_permit_id_++, state_};
        return granted;
      }
      case breaker_state::forced_open:
        return refuse(engine_errc::breaker_forced_open, duration{0});
      case breaker_state::open:
        return refuse(engine_errc::breaker_open, open_until_ - now);
      case breaker_state::closed:
      case breaker_state::half_open: break;
    }
    if (cfg_.min_attempt_interval.count() > 0 && last_grant_
        && now - *last_grant_ < cfg_.min_attempt_interval)
      return refuse(engine_errc::breaker_throttled,
                    cfg_.min_attempt_interval - (now - *last_grant_));
    if (state_ == breaker_state::half_open
        && outstanding_.size() >= cfg_.half_open_max_probes) {
      // A slot frees at the latest when the oldest probe expires.
      auto oldest = outstanding_.begin()->second.granted_at;
      return refuse(engine_errc::breaker_open,
                    oldest + cfg_.probe_timeout - now);
    }
    auto id = next_permit_id_++;
    outstanding_.emplace(id, outstanding{now});
    last_grant_ = now;
    ++counters_.permits_granted;
    if (outstanding_.size() > cfg_.max_outstanding_permits) {
      outstanding_.erase(outstanding_.begin());
      ++counters_.abandoned_permits;
    }
    decision granted;
    granted.granted = permit{id, state_};
    return granted;
  }();
  result.change = std::move(change);
  return result;
}

std::optional<breaker_policy::transition>
breaker_policy::record(time_point now, uint64_t permit_id,
                       call_outcome outcome) {
  auto count = [this](call_outcome x) {
    switch (x) {
      case call_outcome::success: ++counters_.successes; break;
      case call_outcome::failure: ++counters_.failures; break;
      case call_outcome::ignored: ++counters_.ignored; break;
    }
  };
  auto i = outstanding_.find(permit_id);
  if (i == outstanding_.end()) {
    if (state_ == breaker_state::disabled)
      count(outcome);
    else
      ++counters_.stale_outcomes;
    return std::nullopt;
  }
  auto granted_at = i->second.granted_at;
  outstanding_.erase(i);
  if (outcome != call_outcome::ignored && cfg_.slow_call_duration.count() > 0
      && now - granted_at >= cfg_.slow_call_duration) {
    ++counters_.slow_calls;
    outcome = call_outcome::failure;
  }
  count(outcome);
  if (outcome == call_outcome::ignored)
    return std::nullopt;
  auto failed = outcome == call_outcome::failure;
  if (state_ == breaker_state::half_open) {
    if (failed)
      return trip(now, "probe failed");
    if (++half_open_successes_ >= cfg_.success_threshold)
      return enter(breaker_state::closed, "probes succeeded");
    return std::nullopt;
  }
  // Only CLOSED keeps outstanding permits besides HALF_OPEN.
  window_.add(now, failed);
  consecutive_failures_ = failed ? consecutive_failures_ + 1 : 0;
  if (consecutive_failures_ >= cfg_.failure_threshold)
    return trip(now, "consecutive failures");
  if (auto rate = failure_rate(now);
      rate && *rate >= *cfg_.failure_rate_threshold)
    return trip(now, "failure rate");
  return std::nullopt;
}

std::optional<breaker_policy::transition>
breaker_policy::on_open_timer(time_point, uint64_t generation) {
  if (state_ != breaker_state::open || generation != generation_)
    return std::nullopt;
  return enter(breaker_state::half_open, "open duration elapsed");
}

std::optional<breaker_policy::transition>
breaker_policy::expire(time_point now, uint64_t permit_id) {
  if (state_ != breaker_state::half_open)
    return std::nullopt;
  auto i = outstanding_.find(permit_id);
  if (i == outstanding_.end())
    return std::nullopt;
  outstanding_.erase(i);
  ++counters_.abandoned_permits;
  ++counters_.failures;
  return trip(now, "probe timed out");
}

std::optional<breaker_policy::transition> breaker_policy::reset() {
  last_grant_.reset();
  if (state_ == breaker_state::closed) {
    // Nothing changes state, so there is no transition; the counts go.
    clear_counts();
    consecutive_trips_ = 0;
    return std::nullopt;
  }
  return enter(breaker_state::closed, "reset");
}

std::optional<breaker_policy::transition> breaker_policy::force_open() {
  if (state_ == breaker_state::forced_open)
    return std::nullopt;
  return enter(breaker_state::forced_open, "forced open");
}

std::optional<breaker_policy::transition> breaker_policy::disable() {
  if (state_ == breaker_state::disabled)
    return std::nullopt;
  return enter(breaker_state::disabled, "disabled");
}

breaker_snapshot breaker_policy::snapshot(time_point now) {
  breaker_snapshot result;
  result.endpoint = cfg_.endpoint;
  result.state = state_;
  result.consecutive_failures = consecutive_failures_;
  window_.evict(now);
  result.window_calls = window_.calls();
  result.window_failures = window_.failures();
  result.failure_rate = failure_rate(now).value_or(-1.0);
  if (state_ == breaker_state::open && open_until_ > now)
    result.until_half_open = open_until_ - now;
  result.consecutive_trips = consecutive_trips_;
  result.probes_in_flight = state_ == breaker_state::half_open
                              ? static_cast<uint32_t>(outstanding_.size())
                              : 0;
  result.half_open_successes = half_open_successes_;
  result.counters = counters_;
  return result;
}

} // namespace athanor
