#define CAF_SUITE unit.connection_lifecycle
#include "actors/market/connection_lifecycle.hpp"

#include "caf/test/unit_test.hpp"

#include "messages/error.hpp"

using namespace athanor;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

struct fake_link : link {
  std::vector<std::string>* sent;
  int* closes;
  fake_link(std::vector<std::string>* sent, int* closes)
    : sent(sent), closes(closes) {}
  void send(std::string frame) override {
    sent->push_back(std::move(frame));
  }
  void ack(size_t) override {}
  void close() override {
    ++*closes;
  }
};

// Records what the lifecycle asks for; its clock is moved by hand.
struct recording_host : lifecycle_host {
  caf::actor_clock::time_point clock{};
  std::vector<session_state> announced;
  std::vector<uint64_t> links_made;
  std::vector<uint64_t> permits_asked;
  std::vector<std::pair<uint64_t, call_outcome>> outcomes;
  std::vector<caf::timespan> timeouts;
  std::vector<caf::timespan> retries;
  uint64_t last_retry_generation = 0;
  std::vector<std::string> sent;
  int closes = 0;

  caf::actor_clock::time_point now() override {
    return clock;
  }
  void announce(const session_status& x) override {
    announced.push_back(x.state);
  }
  std::unique_ptr<link> make_link(uint64_t epoch) override {
    links_made.push_back(epoch);
    return std::make_unique<fake_link>(&sent, &closes);
  }
  void ask_permit(uint64_t generation, const trace&) override {
    permits_asked.push_back(generation);
  }
  void give_outcome(uint64_t permit, call_outcome x, const trace&) override {
    outcomes.emplace_back(permit, x);
  }
  void arm_timeout(caf::timespan after, uint64_t) override {
    timeouts.push_back(after);
  }
  void arm_retry(caf::timespan after, uint64_t generation) override {
    retries.push_back(after);
    last_retry_generation = generation;
  }
};

lifecycle_config config(bool guarded = false) {
  lifecycle_config cfg;
  cfg.component = "test";
  cfg.url = "wss://example.test/v2/iex";
  cfg.fingerprint = "fp";
  cfg.backoff = {milliseconds{500}, seconds{30}, 2.0, 0.0, seconds{60}, 1};
  cfg.limit_backoff = seconds{1};
  cfg.limit_backoff_max = seconds{120};
  cfg.connect_timeout = seconds{15};
  cfg.guarded = guarded;
  cfg.first_epoch = 7;
  return cfg;
}

connection_ending dropped() {
  connection_ending x;
  x.errc = engine_errc::connection_lost;
  x.detail = "closed";
  x.link_gone = true;
  return x;
}

connection_ending limit_reached() {
  connection_ending x;
  x.errc = engine_errc::connection_limit;
  x.detail = "406 connection limit exceeded";
  x.long_wait = true;
  return x;
}

} // namespace

CAF_TEST(an unguarded attempt opens a link at once with a fresh epoch) {
  recording_host host;
  connection_lifecycle life{config(), host};
  life.begin_attempt();
  CAF_CHECK_EQUAL(life.state(), session_state::connecting);
  CAF_REQUIRE_EQUAL(host.links_made.size(), 1u);
  CAF_CHECK_EQUAL(host.links_made[0], 8u);
  CAF_CHECK(life.is_current(8));
  CAF_CHECK(!life.is_current(7));
  CAF_REQUIRE_EQUAL(host.timeouts.size(), 1u);
  CAF_CHECK_EQUAL(host.timeouts[0], caf::timespan{seconds{15}});
  CAF_CHECK(host.permits_asked.empty());
}

CAF_TEST(a guarded attempt waits for the permit and settles it once) {
  recording_host host;
  connection_lifecycle life{config(true), host};
  life.begin_attempt();
  CAF_REQUIRE_EQUAL(host.permits_asked.size(), 1u);
  CAF_CHECK(host.links_made.empty());
  life.on_permit(host.permits_asked[0], 41);
  CAF_CHECK_EQUAL(host.links_made.size(), 1u);
  life.on_ready();
  life.on_ready();
  CAF_REQUIRE_EQUAL(host.outcomes.size(), 1u);
  CAF_CHECK_EQUAL(host.outcomes[0].first, 41u);
  CAF_CHECK_EQUAL(host.outcomes[0].second, call_outcome::success);
}

CAF_TEST(a permit for an attempt that is gone is given back unused) {
  recording_host host;
  connection_lifecycle life{config(true), host};
  life.begin_attempt();
  auto old_generation = host.permits_asked[0];
  life.stop(seconds{2});
  life.on_permit(old_generation, 9);
  CAF_CHECK(host.links_made.empty());
  CAF_REQUIRE_EQUAL(host.outcomes.size(), 1u);
  CAF_CHECK_EQUAL(host.outcomes[0].second, call_outcome::ignored);
}

CAF_TEST(a refused permit backs off at least as long as the breaker says) {
  recording_host host;
  connection_lifecycle life{config(true), host};
  life.begin_attempt();
  auto refusal = make_retry_error(engine_errc::breaker_open, seconds{7});
  CAF_CHECK(life.on_permit_refused(host.permits_asked[0], refusal));
  CAF_CHECK_EQUAL(life.state(), session_state::backing_off);
  CAF_REQUIRE_EQUAL(host.retries.size(), 1u);
  CAF_CHECK_EQUAL(host.retries[0], caf::timespan{seconds{7}});
  // A second answer for the same attempt changes nothing.
  CAF_CHECK(!life.on_permit_refused(host.permits_asked[0], refusal));
  CAF_CHECK_EQUAL(host.retries.size(), 1u);
}

CAF_TEST(a drop backs off on the reconnect schedule and retries) {
  recording_host host;
  connection_lifecycle life{config(), host};
  life.begin_attempt();
  life.on_ready();
  life.end(dropped());
  CAF_CHECK_EQUAL(life.state(), session_state::backing_off);
  CAF_CHECK_EQUAL(life.status().last_errc, "connection_lost");
  CAF_CHECK(!life.ready());
  CAF_REQUIRE_EQUAL(host.retries.size(), 1u);
  CAF_CHECK_EQUAL(host.retries[0], caf::timespan{milliseconds{500}});
  // A retry from before the last state change is void.
  CAF_CHECK(!life.on_retry(host.last_retry_generation + 1));
  CAF_CHECK(life.on_retry(host.last_retry_generation));
  CAF_CHECK_EQUAL(host.links_made.size(), 2u);
  CAF_CHECK_EQUAL(host.links_made[1], 9u);
}

CAF_TEST(a long wait ending waits on the limit schedule doubling to its cap) {
  recording_host host;
  connection_lifecycle life{config(), host};
  std::vector<int64_t> waits_ms;
  for (int i = 0; i < 9; ++i) {
    life.begin_attempt();
    life.end(limit_reached());
    waits_ms.push_back(
      std::chrono::duration_cast<milliseconds>(host.retries.back()).count());
  }
  // 1, 2, 4, ... s (above the reconnect schedule's 0.5, 1, 2, ... s), capped
  // at 120 s.
  std::vector<int64_t> expected{1000,  2000,  4000,   8000,  16000,
                                32000, 64000, 120000, 120000};
  CAF_CHECK_EQUAL(waits_ms, expected);
}

CAF_TEST(a stable run starts both schedules over) {
  recording_host host;
  connection_lifecycle life{config(), host};
  for (int i = 0; i < 4; ++i) {
    life.begin_attempt();
    life.end(limit_reached());
  }
  CAF_CHECK_EQUAL(host.retries.back(), caf::timespan{seconds{8}});
  life.begin_attempt();
  life.on_ready();
  host.clock += seconds{61};
  life.end(limit_reached());
  CAF_CHECK_EQUAL(host.retries.back(), caf::timespan{seconds{1}});
}

CAF_TEST(a server that takes us starts the limit schedule over but not the drop schedule) {
  recording_host host;
  connection_lifecycle life{config(), host};
  for (int i = 0; i < 4; ++i) {
    life.begin_attempt();
    life.end(limit_reached());
  }
  CAF_CHECK_EQUAL(host.retries.back(), caf::timespan{seconds{8}});
  // The ghost is gone: the next one (after a drop without a close) starts
  // at 1 s, not 16 s.
  life.begin_attempt();
  life.on_ready();
  life.end(limit_reached());
  CAF_CHECK_EQUAL(host.retries.back(), caf::timespan{seconds{1}});
  // Refusals never lengthened the drop schedule; drops do, and a short run
  // does not start it over.
  for (int i = 0; i < 3; ++i) {
    life.begin_attempt();
    life.on_ready();
    life.end(dropped());
  }
  CAF_CHECK_EQUAL(host.retries.back(), caf::timespan{seconds{2}});
}

CAF_TEST(a fatal ending fails for good and closes the link) {
  recording_host host;
  connection_lifecycle life{config(), host};
  life.begin_attempt();
  connection_ending refused;
  refused.errc = engine_errc::auth_failed;
  refused.detail = "the key was refused";
  life.end(refused);
  CAF_CHECK_EQUAL(life.state(), session_state::failed);
  CAF_CHECK_EQUAL(life.status().last_errc, "auth_failed");
  CAF_CHECK_EQUAL(host.closes, 1);
  CAF_CHECK(host.retries.empty());
  CAF_CHECK(!static_cast<bool>(life.current()));
}

CAF_TEST(every state change is announced once) {
  recording_host host;
  connection_lifecycle life{config(), host};
  life.begin_attempt();
  life.set_state(session_state::authenticating, life.attempt_trace());
  life.set_state(session_state::authenticating, life.attempt_trace());
  life.end(dropped());
  std::vector<session_state> expected{session_state::connecting,
                                      session_state::authenticating,
                                      session_state::backing_off};
  CAF_CHECK_EQUAL(host.announced, expected);
}

CAF_TEST(stopping closes the link and settles the permit as ignored) {
  recording_host host;
  connection_lifecycle life{config(true), host};
  life.begin_attempt();
  life.on_permit(host.permits_asked[0], 5);
  CAF_CHECK(life.stop(seconds{2}));
  CAF_CHECK_EQUAL(life.state(), session_state::stopped);
  CAF_CHECK_EQUAL(host.closes, 1);
  CAF_REQUIRE_EQUAL(host.outcomes.size(), 1u);
  CAF_CHECK_EQUAL(host.outcomes[0].second, call_outcome::ignored);
  CAF_CHECK_EQUAL(host.timeouts.back(), caf::timespan{seconds{2}});
}

CAF_TEST(link ends are classified for both streams alike) {
  link_closed x;
  x.reason = link_end::upgrade_rejected;
  x.http_status = 404;
  CAF_CHECK_EQUAL(ending_of(x).errc, engine_errc::upgrade_rejected);
  x.http_status = 502;
  CAF_CHECK_EQUAL(ending_of(x).errc, engine_errc::server_error);
  x.reason = link_end::rate_limited;
  x.http_status = 429;
  CAF_CHECK(ending_of(x).long_wait);
  x.reason = link_end::certificate_invalid;
  CAF_CHECK(is_fatal(ending_of(x).errc));
  x.reason = link_end::connection_lost;
  CAF_CHECK(!is_fatal(ending_of(x).errc));
  CAF_CHECK(ending_of(x).link_gone);
}
