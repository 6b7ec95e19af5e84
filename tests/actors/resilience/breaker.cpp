#define CAF_SUITE actors.breaker
#include "actors/resilience/breaker.hpp"

#include "fixture.hpp"

#include "messages/error.hpp"

using namespace athanor;
using namespace std::chrono_literals;

namespace {

struct recorder_state {
  std::vector<breaker_transition> seen;
  static inline const char* name = "recorder";
};

using recorder_actor = caf::stateful_actor<recorder_state,
                                           breaker_listener_actor::base>;

breaker_listener_actor::behavior_type
recorder(breaker_listener_actor::stateful_pointer<recorder_state> self) {
  return {[self](breaker_transition& x) {
    self->state.seen.push_back(std::move(x));
  }};
}

breaker_config test_config() {
  breaker_config cfg;
  cfg.endpoint = "md:iex";
  cfg.failure_threshold = 3;
  cfg.open_duration = 60s;
  cfg.max_open_duration = 10min;
  cfg.probe_timeout = 30s;
  return cfg;
}

struct fixture : fixture_base {
  breaker_actor brk;
  breaker_listener_actor listener;

  void start(breaker_config cfg = test_config()) {
    brk = unbox(spawn_breaker(sys, std::move(cfg)));
    listener = sys.spawn(recorder);
    self->send(brk, listen_atom::value, listener);
    sched.run();
  }

  ~fixture() override {
    self->send_exit(brk, caf::exit_reason::user_shutdown);
    self->send_exit(listener, caf::exit_reason::user_shutdown);
  }

  caf::expected<permit> ask(const trace& cause = trace::root()) {
    caf::expected<permit> result{caf::error{}};
    auto hdl = self->request(brk, caf::infinite, permit_atom::value, cause);
    sched.run();
    hdl.receive([&](permit& p) { result = p; },
                [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  permit grant() {
    auto result = ask();
    if (!result)
      CAF_FAIL("permit refused: " << render(result.error()));
    return *result;
  }

  void report(const permit& p, call_outcome outcome,
              const trace& cause = trace::root()) {
    self->send(brk, outcome_atom::value, p.id, outcome, cause);
    sched.run();
  }

  void fail_calls(int n) {
    for (int i = 0; i < n; ++i)
      report(grant(), call_outcome::failure);
  }

  breaker_snapshot snapshot() {
    return fetch<breaker_snapshot>(brk, caf::get_atom::value);
  }

  breaker_state state() {
    return snapshot().state;
  }

  const std::vector<breaker_transition>& transitions() {
    return deref<recorder_actor>(listener).state.seen;
  }

  // Moves simulated time; returns the number of timers that fired.
  size_t advance(caf::timespan d) {
    auto fired = sched.clock().advance_time(d);
    sched.run();
    return fired;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(breaker_tests, fixture)

CAF_TEST(trips after three consecutive failures) {
  start();
  fail_calls(2);
  CAF_CHECK_EQUAL(state(), breaker_state::closed);
  CAF_CHECK_EQUAL(snapshot().consecutive_failures, 2u);
  fail_calls(1);
  CAF_CHECK_EQUAL(state(), breaker_state::open);
  CAF_REQUIRE_EQUAL(transitions().size(), 1u);
  CAF_CHECK_EQUAL(transitions()[0].from, breaker_state::closed);
  CAF_CHECK_EQUAL(transitions()[0].to, breaker_state::open);
  CAF_CHECK_EQUAL(transitions()[0].reason, "consecutive failures");
  CAF_CHECK_EQUAL(transitions()[0].open_for, caf::timespan{60s});
  CAF_CHECK_EQUAL(transitions()[0].endpoint, "md:iex");
}

CAF_TEST(a success resets the consecutive count) {
  start();
  fail_calls(2);
  report(grant(), call_outcome::success);
  fail_calls(2);
  CAF_CHECK_EQUAL(state(), breaker_state::closed);
}

CAF_TEST(an open breaker refuses with a typed error carrying retry_after) {
  start();
  fail_calls(3);
  advance(20s);
  auto refused = ask();
  CAF_REQUIRE(!refused);
  CAF_CHECK_EQUAL(errc_of(refused.error()), engine_errc::breaker_open);
  CAF_CHECK_EQUAL(retry_after(refused.error()), std::chrono::nanoseconds{40s});
  CAF_CHECK_EQUAL(snapshot().until_half_open, caf::timespan{40s});
  CAF_CHECK_EQUAL(snapshot().counters.permits_refused, 1u);
}

CAF_TEST(half opens at exactly the open duration and not a tick earlier) {
  start();
  fail_calls(3);
  CAF_CHECK_EQUAL(advance(60s - 1ns), 0u);
  CAF_CHECK_EQUAL(state(), breaker_state::open);
  CAF_CHECK_EQUAL(snapshot().until_half_open, caf::timespan{1ns});
  CAF_CHECK_EQUAL(advance(1ns), 1u);
  CAF_CHECK_EQUAL(state(), breaker_state::half_open);
  CAF_REQUIRE_EQUAL(transitions().size(), 2u);
  CAF_CHECK_EQUAL(transitions()[1].reason, "open duration elapsed");
  // The timer's transition is caused by the trip that armed it.
  CAF_CHECK_EQUAL(transitions()[1].cause.causation.value,
                  transitions()[0].cause.id);
}

CAF_TEST(half open admits at most the configured probes) {
  auto cfg = test_config();
  cfg.half_open_max_probes = 2;
  cfg.success_threshold = 2;
  start(cfg);
  fail_calls(3);
  advance(60s);
  auto p1 = grant();
  auto p2 = grant();
  CAF_CHECK_EQUAL(p1.state, breaker_state::half_open);
  CAF_CHECK_EQUAL(snapshot().probes_in_flight, 2u);
  auto third = ask();
  CAF_REQUIRE(!third);
  CAF_CHECK_EQUAL(errc_of(third.error()), engine_errc::breaker_open);
  CAF_CHECK_EQUAL(retry_after(third.error()), std::chrono::nanoseconds{30s});
  report(p1, call_outcome::success);
  CAF_CHECK_EQUAL(state(), breaker_state::half_open);
  // A freed slot admits the next probe.
  auto p3 = grant();
  report(p2, call_outcome::success);
  CAF_CHECK_EQUAL(state(), breaker_state::closed);
  CAF_CHECK_EQUAL(transitions().back().reason, "probes succeeded");
  // The closed breaker ignores the late outcome of the third probe.
  report(p3, call_outcome::failure);
  CAF_CHECK_EQUAL(snapshot().consecutive_failures, 0u);
  CAF_CHECK_EQUAL(snapshot().counters.stale_outcomes, 1u);
}

CAF_TEST(a probe failure reopens for a longer time) {
  start();
  fail_calls(3);
  advance(60s);
  report(grant(), call_outcome::failure);
  CAF_CHECK_EQUAL(state(), breaker_state::open);
  CAF_CHECK_EQUAL(transitions().back().reason, "probe failed");
  CAF_CHECK_EQUAL(transitions().back().open_for, caf::timespan{120s});
  // The failed probe's expiry timer fires in between and changes nothing.
  advance(120s - 1ns);
  CAF_CHECK_EQUAL(state(), breaker_state::open);
  CAF_CHECK_EQUAL(advance(1ns), 1u);
  CAF_CHECK_EQUAL(state(), breaker_state::half_open);
}

CAF_TEST(a probe that never reports counts as failed after the probe timeout) {
  start();
  fail_calls(3);
  advance(60s);
  grant();
  CAF_CHECK_EQUAL(advance(30s - 1ns), 0u);
  CAF_CHECK_EQUAL(state(), breaker_state::half_open);
  CAF_CHECK_EQUAL(advance(1ns), 1u);
  CAF_CHECK_EQUAL(state(), breaker_state::open);
  CAF_CHECK_EQUAL(transitions().back().reason, "probe timed out");
  CAF_CHECK_EQUAL(snapshot().counters.abandoned_permits, 1u);
}

CAF_TEST(a stale open timer does not half open a reset breaker) {
  start();
  fail_calls(3);
  self->send(brk, reset_atom::value, trace::root());
  sched.run();
  fail_calls(3);
  // The first trip's timer fires at 60 s, the second's at 60 s too but for
  // its own generation; only one transition to half_open happens.
  advance(60s);
  CAF_CHECK_EQUAL(state(), breaker_state::half_open);
  size_t half_opens = 0;
  for (auto& t : transitions())
    if (t.to == breaker_state::half_open)
      ++half_opens;
  CAF_CHECK_EQUAL(half_opens, 1u);
}

CAF_TEST(attempts closer than the minimum interval are throttled) {
  auto cfg = test_config();
  cfg.min_attempt_interval = 1s;
  start(cfg);
  report(grant(), call_outcome::success);
  advance(400ms);
  auto refused = ask();
  CAF_REQUIRE(!refused);
  CAF_CHECK_EQUAL(errc_of(refused.error()), engine_errc::breaker_throttled);
  CAF_CHECK_EQUAL(retry_after(refused.error()),
                  std::chrono::nanoseconds{600ms});
  advance(600ms - 1ns);
  CAF_CHECK(!ask());
  advance(1ns);
  CAF_CHECK(static_cast<bool>(ask()));
}

CAF_TEST(business rejections are ignored by the breaker) {
  start();
  for (int i = 0; i < 10; ++i)
    report(grant(), outcome_of(engine_errc::order_rejected));
  CAF_CHECK_EQUAL(state(), breaker_state::closed);
  CAF_CHECK_EQUAL(snapshot().counters.ignored, 10u);
  for (int i = 0; i < 3; ++i)
    report(grant(), outcome_of(engine_errc::connection_lost));
  CAF_CHECK_EQUAL(state(), breaker_state::open);
}

CAF_TEST(a failure rate over the window trips when configured) {
  auto cfg = test_config();
  cfg.failure_threshold = 100;
  cfg.failure_rate_threshold = 50.0;
  cfg.window_size = 10;
  cfg.minimum_calls = 10;
  start(cfg);
  for (int i = 0; i < 5; ++i) {
    report(grant(), call_outcome::success);
    report(grant(), call_outcome::failure);
    if (i < 4)
      CAF_CHECK_EQUAL(state(), breaker_state::closed);
  }
  CAF_CHECK_EQUAL(state(), breaker_state::open);
  CAF_CHECK_EQUAL(transitions().back().reason, "failure rate");
}

CAF_TEST(a time window forgets failures as simulated time passes) {
  auto cfg = test_config();
  cfg.failure_threshold = 100;
  cfg.failure_rate_threshold = 50.0;
  cfg.window = window_kind::time;
  cfg.window_duration = 10s;
  cfg.minimum_calls = 4;
  start(cfg);
  fail_calls(3);
  CAF_CHECK_EQUAL(snapshot().window_failures, 3u);
  advance(10s);
  CAF_CHECK_EQUAL(snapshot().window_calls, 0u);
  // Without eviction this would be 4 failures of 5 calls.
  report(grant(), call_outcome::failure);
  report(grant(), call_outcome::success);
  report(grant(), call_outcome::success);
  report(grant(), call_outcome::success);
  CAF_CHECK_EQUAL(state(), breaker_state::closed);
  CAF_CHECK_EQUAL(snapshot().failure_rate, 25.0);
}

CAF_TEST(forced open refuses everything and has no timer) {
  start();
  auto cmd = trace::root("operator-1");
  CAF_CHECK_EQUAL(fetch<breaker_state>(brk, force_open_atom::value, cmd),
                  breaker_state::forced_open);
  auto refused = ask();
  CAF_REQUIRE(!refused);
  CAF_CHECK_EQUAL(errc_of(refused.error()), engine_errc::breaker_forced_open);
  CAF_CHECK_EQUAL(advance(1h), 0u);
  CAF_CHECK_EQUAL(state(), breaker_state::forced_open);
  CAF_CHECK_EQUAL(transitions().back().cause.correlation.value, "operator-1");
  CAF_CHECK_EQUAL(transitions().back().cause.causation.value, cmd.id);
  CAF_CHECK_EQUAL(fetch<breaker_state>(brk, reset_atom::value, cmd),
                  breaker_state::closed);
  CAF_CHECK(static_cast<bool>(ask()));
}

CAF_TEST(a disabled breaker admits everything and never trips) {
  start();
  CAF_CHECK_EQUAL(fetch<breaker_state>(brk, disable_atom::value, trace::root()),
                  breaker_state::disabled);
  fail_calls(50);
  CAF_CHECK_EQUAL(state(), breaker_state::disabled);
  CAF_CHECK_EQUAL(snapshot().counters.failures, 50u);
  fetch<breaker_state>(brk, reset_atom::value, trace::root());
  fail_calls(3);
  CAF_CHECK_EQUAL(state(), breaker_state::open);
}

CAF_TEST(reset from open closes and clears the trip history) {
  start();
  fail_calls(3);
  fetch<breaker_state>(brk, reset_atom::value, trace::root());
  CAF_CHECK_EQUAL(state(), breaker_state::closed);
  CAF_CHECK_EQUAL(snapshot().consecutive_trips, 0u);
  fail_calls(3);
  CAF_CHECK_EQUAL(transitions().back().open_for, caf::timespan{60s});
}

CAF_TEST(a dead listener is forgotten) {
  start();
  auto listeners = [&] {
    for (auto& s : fetch<metric_samples>(brk, metrics_atom::value))
      if (s.name == "athanor_breaker_listeners")
        return s.value;
    return -1.0;
  };
  CAF_CHECK_EQUAL(listeners(), 1.0);
  self->send_exit(listener, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK_EQUAL(listeners(), 0.0);
}

CAF_TEST(an invalid config is refused naming every option) {
  auto cfg = test_config();
  cfg.failure_threshold = 0;
  cfg.open_duration = -1s;
  cfg.failure_rate_threshold = 0.0;
  auto result = spawn_breaker(sys, cfg);
  CAF_REQUIRE(!result);
  CAF_CHECK_EQUAL(errc_of(result.error()), engine_errc::invalid_config);
  auto text = detail_of(result.error());
  CAF_CHECK(text.find("athanor.breaker.failure-threshold")
            != std::string::npos);
  CAF_CHECK(text.find("athanor.breaker.open-duration") != std::string::npos);
  CAF_CHECK(text.find("athanor.breaker.failure-rate-threshold")
            != std::string::npos);
}

CAF_TEST(metrics expose state and counters) {
  start();
  fail_calls(3);
  auto samples = fetch<metric_samples>(brk, metrics_atom::value);
  auto find = [&](const std::string& name, const std::string& state = "") {
    for (auto& s : samples)
      if (s.name == name && (state.empty() || s.labels.at("state") == state))
        return s.value;
    CAF_FAIL("no metric " << name);
    return -1.0;
  };
  CAF_CHECK_EQUAL(find("athanor_breaker_state", "open"), 1.0);
  CAF_CHECK_EQUAL(find("athanor_breaker_state", "closed"), 0.0);
  CAF_CHECK_EQUAL(find("athanor_breaker_failures_total"), 3.0);
  CAF_CHECK_EQUAL(find("athanor_breaker_trips_total"), 1.0);
  for (auto& s : samples)
    CAF_CHECK_EQUAL(s.labels.at("endpoint"), "md:iex");
}

CAF_TEST_FIXTURE_SCOPE_END()
