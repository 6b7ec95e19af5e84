#define CAF_SUITE unit.breaker_policy
#include "actors/resilience/breaker_policy.hpp"

#include "caf/test/unit_test.hpp"

using namespace athanor;
using namespace std::chrono_literals;

namespace {

using time_point = breaker_policy::time_point;

breaker_config base_config() {
  breaker_config cfg;
  cfg.endpoint = "test";
  cfg.failure_threshold = 1000; // rate rules under test, not this one
  cfg.open_duration = 10s;
  cfg.max_open_duration = 10min;
  return cfg;
}

struct fixture {
  time_point now{std::chrono::hours{1}};

  uint64_t grant(breaker_policy& policy) {
    auto d = policy.acquire(now);
    CAF_REQUIRE(d.granted.has_value());
    return d.granted->id;
  }

  std::optional<breaker_policy::transition> call(breaker_policy& policy,
                                                 call_outcome outcome) {
    return policy.record(now, grant(policy), outcome);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(breaker_policy_tests, fixture)

CAF_TEST(the rate rule waits for the minimum number of calls) {
  auto cfg = base_config();
  cfg.failure_rate_threshold = 50.0;
  cfg.window_size = 10;
  cfg.minimum_calls = 4;
  breaker_policy policy{cfg};
  CAF_CHECK(!call(policy, call_outcome::failure));
  CAF_CHECK(!call(policy, call_outcome::failure));
  CAF_CHECK(!call(policy, call_outcome::failure));
  CAF_CHECK_EQUAL(policy.snapshot(now).failure_rate, -1.0);
  auto change = call(policy, call_outcome::success);
  CAF_REQUIRE(change.has_value());
  CAF_CHECK_EQUAL(change->to, breaker_state::open);
  CAF_CHECK_EQUAL(change->reason, "failure rate");
}

CAF_TEST(a count window evicts the oldest call) {
  auto cfg = base_config();
  cfg.failure_rate_threshold = 50.0;
  cfg.window_size = 4;
  cfg.minimum_calls = 4;
  breaker_policy policy{cfg};
  call(policy, call_outcome::failure);
  call(policy, call_outcome::success);
  call(policy, call_outcome::success);
  call(policy, call_outcome::success);
  CAF_CHECK_EQUAL(policy.snapshot(now).failure_rate, 25.0);
  // The failure leaves the window as the fifth call enters it.
  call(policy, call_outcome::success);
  auto snap = policy.snapshot(now);
  CAF_CHECK_EQUAL(snap.window_calls, 4u);
  CAF_CHECK_EQUAL(snap.window_failures, 0u);
  CAF_CHECK_EQUAL(snap.failure_rate, 0.0);
  CAF_CHECK_EQUAL(policy.state(), breaker_state::closed);
}

CAF_TEST(a time window forgets calls exactly one span later) {
  auto cfg = base_config();
  cfg.failure_rate_threshold = 50.0;
  cfg.window = window_kind::time;
  cfg.window_duration = 10s;
  cfg.minimum_calls = 3;
  breaker_policy policy{cfg};
  call(policy, call_outcome::failure);
  call(policy, call_outcome::failure);
  now += 10s - 1ns;
  CAF_CHECK_EQUAL(policy.snapshot(now).window_calls, 2u);
  now += 1ns;
  CAF_CHECK_EQUAL(policy.snapshot(now).window_calls, 0u);
  // Two old failures are gone: 1 failure of 3 calls does not trip.
  CAF_CHECK(!call(policy, call_outcome::success));
  CAF_CHECK(!call(policy, call_outcome::success));
  CAF_CHECK(!call(policy, call_outcome::failure));
  CAF_CHECK_EQUAL(policy.state(), breaker_state::closed);
  auto change = call(policy, call_outcome::failure);
  CAF_REQUIRE(change.has_value());
  CAF_CHECK_EQUAL(change->reason, "failure rate");
}

CAF_TEST(slow successes count as failures when configured) {
  auto cfg = base_config();
  cfg.failure_threshold = 2;
  cfg.slow_call_duration = 2s;
  breaker_policy policy{cfg};
  auto fast = grant(policy);
  now += 2s - 1ns;
  CAF_CHECK(!policy.record(now, fast, call_outcome::success));
  CAF_CHECK_EQUAL(policy.counters().slow_calls, 0u);
  auto slow1 = grant(policy);
  now += 2s;
  CAF_CHECK(!policy.record(now, slow1, call_outcome::success));
  auto slow2 = grant(policy);
  now += 3s;
  auto change = policy.record(now, slow2, call_outcome::success);
  CAF_REQUIRE(change.has_value());
  CAF_CHECK_EQUAL(change->reason, "consecutive failures");
  CAF_CHECK_EQUAL(policy.counters().slow_calls, 2u);
}

CAF_TEST(ignored outcomes neither trip nor reset the count) {
  auto cfg = base_config();
  cfg.failure_threshold = 3;
  breaker_policy policy{cfg};
  call(policy, call_outcome::failure);
  call(policy, call_outcome::ignored);
  call(policy, call_outcome::failure);
  call(policy, call_outcome::ignored);
  CAF_CHECK_EQUAL(policy.state(), breaker_state::closed);
  CAF_CHECK_EQUAL(policy.snapshot(now).consecutive_failures, 2u);
  CAF_CHECK_EQUAL(policy.counters().ignored, 2u);
  CAF_CHECK(call(policy, call_outcome::failure).has_value());
}

CAF_TEST(open durations grow per consecutive trip up to the cap) {
  auto cfg = base_config();
  cfg.failure_threshold = 1;
  cfg.open_duration = 10s;
  cfg.max_open_duration = 35s;
  breaker_policy policy{cfg};
  std::vector<std::chrono::nanoseconds> open_for;
  auto change = call(policy, call_outcome::failure);
  open_for.push_back(change->open_for);
  for (int i = 0; i < 3; ++i) {
    now += open_for.back();
    auto probe = policy.acquire(now);
    CAF_REQUIRE(probe.granted.has_value());
    open_for.push_back(
      policy.record(now, probe.granted->id, call_outcome::failure)->open_for);
  }
  std::vector<std::chrono::nanoseconds> expected{10s, 20s, 35s, 35s};
  CAF_CHECK_EQUAL(open_for, expected);
  // Closing starts the growth over.
  now += 35s;
  auto probe = policy.acquire(now);
  policy.record(now, probe.granted->id, call_outcome::success);
  CAF_CHECK_EQUAL(policy.state(), breaker_state::closed);
  auto again = call(policy, call_outcome::failure);
  CAF_REQUIRE(again.has_value());
  CAF_CHECK_EQUAL(again->open_for, std::chrono::nanoseconds{10s});
}

CAF_TEST(open jitter stays within bounds and follows the seed) {
  auto cfg = base_config();
  cfg.failure_threshold = 1;
  cfg.open_duration = 10s;
  cfg.open_jitter = 0.5;
  cfg.seed = 7;
  auto trips = [&](breaker_config c) {
    breaker_policy policy{c};
    std::vector<std::chrono::nanoseconds> result;
    for (int i = 0; i < 200; ++i) {
      result.push_back(call(policy, call_outcome::failure)->open_for);
      policy.reset();
    }
    return result;
  };
  auto first = trips(cfg);
  CAF_CHECK_EQUAL(first, trips(cfg));
  std::set<int64_t> distinct;
  for (auto x : first) {
    CAF_CHECK_GREATER_OR_EQUAL(x, std::chrono::nanoseconds{5s});
    CAF_CHECK_LESS_OR_EQUAL(x, std::chrono::nanoseconds{15s});
    distinct.insert(x.count());
  }
  CAF_CHECK_GREATER(distinct.size(), 150u);
  cfg.seed = 8;
  CAF_CHECK_NOT_EQUAL(first, trips(cfg));
}

CAF_TEST(outcomes of permits from an earlier state are stale) {
  auto cfg = base_config();
  cfg.failure_threshold = 1;
  breaker_policy policy{cfg};
  auto early = grant(policy);
  call(policy, call_outcome::failure);
  CAF_CHECK_EQUAL(policy.state(), breaker_state::open);
  CAF_CHECK(!policy.record(now, early, call_outcome::failure));
  CAF_CHECK_EQUAL(policy.counters().stale_outcomes, 1u);
}

CAF_TEST(a reset while closed clears counts without a transition) {
  auto cfg = base_config();
  cfg.failure_threshold = 3;
  breaker_policy policy{cfg};
  auto early = grant(policy);
  call(policy, call_outcome::failure);
  call(policy, call_outcome::failure);
  CAF_CHECK(!policy.reset());
  CAF_CHECK_EQUAL(policy.counters().transitions, 0u);
  CAF_CHECK_EQUAL(policy.snapshot(now).consecutive_failures, 0u);
  // The permit from before the reset no longer counts.
  CAF_CHECK(!policy.record(now, early, call_outcome::failure));
  CAF_CHECK_EQUAL(policy.counters().stale_outcomes, 1u);
  call(policy, call_outcome::failure);
  call(policy, call_outcome::failure);
  CAF_CHECK_EQUAL(policy.state(), breaker_state::closed);
}

CAF_TEST(permits without outcome are forgotten beyond the limit) {
  auto cfg = base_config();
  cfg.max_outstanding_permits = 3;
  breaker_policy policy{cfg};
  for (int i = 0; i < 5; ++i)
    grant(policy);
  CAF_CHECK_EQUAL(policy.counters().abandoned_permits, 2u);
}

CAF_TEST(validation names every invalid option at once) {
  breaker_config cfg;
  cfg.failure_threshold = 0;
  cfg.failure_rate_threshold = 150.0;
  cfg.minimum_calls = 0;
  cfg.window_size = 0;
  cfg.open_duration = -1s;
  cfg.slow_call_duration = -1s;
  cfg.open_backoff_multiplier = 0.5;
  cfg.open_jitter = -0.1;
  cfg.half_open_max_probes = 0;
  cfg.success_threshold = 0;
  cfg.min_attempt_interval = -1s;
  cfg.probe_timeout = 0s;
  auto problems = validate(cfg);
  std::set<std::string> options;
  for (auto& p : problems)
    options.insert(p.option);
  std::set<std::string> expected{"athanor.breaker.failure-threshold",
                                 "athanor.breaker.failure-rate-threshold",
                                 "athanor.breaker.minimum-calls",
                                 "athanor.breaker.window-size",
                                 "athanor.breaker.open-duration",
                                 "athanor.breaker.slow-call-duration",
                                 "athanor.breaker.open-backoff-multiplier",
                                 "athanor.breaker.open-jitter",
                                 "athanor.breaker.half-open-max-probes",
                                 "athanor.breaker.success-threshold",
                                 "athanor.breaker.min-attempt-interval",
                                 "athanor.breaker.probe-timeout"};
  CAF_CHECK_EQUAL(options, expected);
  cfg = breaker_config{};
  cfg.failure_rate_threshold = 0.0;
  CAF_CHECK_EQUAL(validate(cfg).size(), 1u);
  cfg.failure_rate_threshold = 100.0;
  CAF_CHECK_EQUAL(validate(cfg).size(), 0u);
  CAF_CHECK_EQUAL(validate(breaker_config{}).size(), 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()
