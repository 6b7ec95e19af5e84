#include "actors/resilience/backoff.hpp"

#include <cmath>
#include <stdexcept>

namespace athanor {

std::vector<config_problem> validate(const backoff_config& cfg,
                                     const std::string& prefix) {
  std::vector<config_problem> problems;
  auto add = [&](const char* option, std::string message) {
    problems.push_back({prefix + option, std::move(message)});
  };
  if (cfg.initial.count() < 0)
    add("initial-delay", "must not be negative");
  if (cfg.max.count() <= 0)
    add("max-delay", "must be positive");
  else if (cfg.max < cfg.initial)
    add("max-delay", "must be at least initial-delay");
  if (!(cfg.multiplier >= 1.0) || !std::isfinite(cfg.multiplier))
    add("multiplier", "must be a finite number >= 1 (got "
                        + std::to_string(cfg.multiplier) + ")");
  if (!(cfg.jitter >= 0.0 && cfg.jitter < 1.0))
    add("jitter", "must be in [0, 1) (got " + std::to_string(cfg.jitter) + ")");
  if (cfg.stable_period.count() <= 0)
    add("stable-period", "must be positive");
  return problems;
}

double seeded_random::next_unit() {
  // splitmix64: tiny, fast, and the same sequence everywhere.
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

std::chrono::nanoseconds grow_with_jitter(std::chrono::nanoseconds base,
                                          double multiplier, uint32_t step,
                                          std::chrono::nanoseconds max,
                                          double jitter, double unit) {
  auto max_ns = static_cast<double>(max.count());
  auto value = static_cast<double>(base.count())
               * std::pow(multiplier, static_cast<double>(step));
  if (!(value <= max_ns))
    value = max_ns;
  if (jitter > 0.0)
    value *= 1.0 + jitter * (2.0 * unit - 1.0);
  if (value > max_ns)
    value = max_ns;
  return std::chrono::nanoseconds{static_cast<int64_t>(std::llround(value))};
}

backoff_policy::backoff_policy(backoff_config cfg)
    : cfg_(cfg), random_(cfg.seed) {
  if (auto problems = validate(cfg_, "backoff."); !problems.empty())
    throw std::invalid_argument(to_string(problems));
}

backoff_policy::duration backoff_policy::next_delay() {
  auto unit = cfg_.jitter > 0.0 ? random_.next_unit() : 0.5;
  auto delay = grow_with_jitter(cfg_.initial, cfg_.multiplier, attempts_,
                                cfg_.max, cfg_.jitter, unit);
  if (attempts_ < UINT32_MAX)
    ++attempts_;
  return delay;
}

bool backoff_policy::note_run(duration ran) {
  if (ran < cfg_.stable_period)
    return false;
  reset();
  return true;
}

} // namespace athanor
