#include "actors/resilience/restart_intensity.hpp"

namespace athanor {

void restart_intensity::evict(time_point now) {
  // A restart exactly `period` ago still counts (OTP: within MaxT seconds).
  while (!restarts_.empty() && now - restarts_.front() > period_)
    restarts_.pop_front();
}

bool restart_intensity::record(time_point now) {
  evict(now);
  restarts_.push_back(now);
  return restarts_.size() <= max_restarts_;
}

uint32_t restart_intensity::within_period(time_point now) {
  evict(now);
  return static_cast<uint32_t>(restarts_.size());
}

} // namespace athanor
