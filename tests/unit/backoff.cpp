#define CAF_SUITE unit.backoff
#include "actors/resilience/backoff.hpp"

#include "caf/test/unit_test.hpp"

using namespace athanor;
using namespace std::chrono_literals;

namespace {

backoff_config exact(std::chrono::nanoseconds initial,
                     std::chrono::nanoseconds max) {
  backoff_config cfg;
  cfg.initial = initial;
  cfg.max = max;
  cfg.multiplier = 2.0;
  cfg.jitter = 0.0;
  cfg.stable_period = 60s;
  return cfg;
}

} // namespace

CAF_TEST(delays grow exponentially up to the cap) {
  backoff_policy policy{exact(500ms, 5s)};
  std::vector<std::chrono::nanoseconds> delays;
  for (int i = 0; i < 6; ++i)
    delays.push_back(policy.next_delay());
  std::vector<std::chrono::nanoseconds> expected{500ms, 1s, 2s, 4s, 5s, 5s};
  CAF_CHECK_EQUAL(delays, expected);
  CAF_CHECK_EQUAL(policy.attempts(), 6u);
}

CAF_TEST(a stable run resets the schedule and a short one does not ) {
  backoff_policy policy{exact(1s, 30s)};
  policy.next_delay();
  policy.next_delay();
  CAF_CHECK(!policy.note_run(59s));
  CAF_CHECK_EQUAL(policy.next_delay(), std::chrono::nanoseconds{4s});
  CAF_CHECK(policy.note_run(60s));
  CAF_CHECK_EQUAL(policy.next_delay(), std::chrono::nanoseconds{1s});
}

CAF_TEST(jitter stays within its bounds and is reproducible from the seed) {
  auto cfg = exact(10s, 10min);
  cfg.multiplier = 1.0;
  cfg.jitter = 0.25;
  cfg.seed = 42;
  backoff_policy a{cfg};
  backoff_policy b{cfg};
  std::set<int64_t> distinct;
  for (int i = 0; i < 1000; ++i) {
    auto x = a.next_delay();
    CAF_CHECK_EQUAL(x, b.next_delay());
    CAF_CHECK_GREATER_OR_EQUAL(x, std::chrono::nanoseconds{7500ms});
    CAF_CHECK_LESS_OR_EQUAL(x, std::chrono::nanoseconds{12500ms});
    distinct.insert(x.count());
  }
  CAF_CHECK_GREATER(distinct.size(), 900u);
  cfg.seed = 43;
  backoff_policy c{cfg};
  CAF_CHECK_NOT_EQUAL(c.next_delay(),
                      backoff_policy{exact(10s, 10min)}.next_delay());
}

CAF_TEST(jitter never exceeds the cap) {
  auto cfg = exact(1s, 4s);
  cfg.jitter = 0.5;
  backoff_policy policy{cfg};
  for (int i = 0; i < 200; ++i)
    CAF_CHECK_LESS_OR_EQUAL(policy.next_delay(), std::chrono::nanoseconds{4s});
}

CAF_TEST(a zero initial delay restarts at once every time) {
  backoff_policy policy{exact(0s, 1s)};
  for (int i = 0; i < 5; ++i)
    CAF_CHECK_EQUAL(policy.next_delay(), std::chrono::nanoseconds{0});
}

CAF_TEST(validation reports every invalid value at once) {
  backoff_config cfg;
  cfg.initial = -1s;
  cfg.max = 0s;
  cfg.multiplier = 0.5;
  cfg.jitter = 1.0;
  cfg.stable_period = 0s;
  auto problems = validate(cfg, "athanor.reconnect.");
  std::set<std::string> options;
  for (auto& p : problems)
    options.insert(p.option);
  std::set<std::string> expected{"athanor.reconnect.initial-delay",
                                 "athanor.reconnect.max-delay",
                                 "athanor.reconnect.multiplier",
                                 "athanor.reconnect.jitter",
                                 "athanor.reconnect.stable-period"};
  CAF_CHECK_EQUAL(options, expected);
  CAF_CHECK_EQUAL(validate(backoff_config{}, "x.").size(), 0u);
}
