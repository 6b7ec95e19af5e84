#define CAF_SUITE integration.execution
#include "runtime/trading_desk.hpp"

#include "caf/test/unit_test.hpp"

#include "system_config.hpp"

#include <cstdio>
#include <map>
#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "messages/error.hpp"
#include "messages/register.hpp"
#include "observability/log.hpp"
#include "sim/simulator.hpp"

using namespace athanor;
using namespace std::chrono_literals;

namespace {

using testing::system_config;

plan_item item(const char* symbol, order_side side, int64_t qty) {
  plan_item x;
  x.symbol = symbol;
  x.side = side;
  x.qty = decimal::from_integer(qty);
  return x;
}

plan buys(std::string id, size_t n) {
  plan p;
  p.plan_id = std::move(id);
  const char* symbols[] = {"AAPL", "MSFT", "SPY", "NVDA", "AMZN"};
  for (size_t i = 0; i < n; ++i)
    p.items.push_back(item(symbols[i % 5], order_side::buy, 1 + int64_t(i)));
  p.deadline_ms = 20'000;
  return p;
}

struct fixture {
  std::unique_ptr<sim::simulator> sim;
  system_config cfg;
  caf::actor_system sys{cfg};
  std::string journal_path;

  fixture() {
    char name[] = "/tmp/athanor-exec-it-XXXXXX";
    close(mkstemp(name));
    journal_path = name;
    std::remove(journal_path.c_str());
    sim = std::make_unique<sim::simulator>(sim_options());
  }

  /// A broker that places a POST under a reused client_order_id: a blind
  /// repeat shows as a second order instead of being refused for us.
  static sim::simulator_options sim_options() {
    sim::simulator_options opts;
    opts.market.tick = 20ms;
    opts.broker.accept_reused_client_order_ids = true;
    return opts;
  }

  ~fixture() {
    for (auto suffix : {"", "-wal", "-shm"})
      std::remove((journal_path + suffix).c_str());
  }

  std::unique_ptr<trading_desk>
  start_desk(std::string journal = {},
             caf::timespan stream_backoff = std::chrono::milliseconds{100},
             caf::timespan request_timeout = std::chrono::milliseconds{300},
             std::string key = sim::default_key) {
    trading_desk_options opts;
    opts.base_url = "http://127.0.0.1:" + std::to_string(sim->port());
    opts.creds = {secret{key}, secret{sim::default_secret}};
    opts.rest.request_timeout = request_timeout;
    opts.rest.retry_backoff.initial = 50ms;
    opts.rest.retry_backoff.max = 500ms;
    opts.stream.backoff.initial = stream_backoff;
    opts.stream.backoff.max = stream_backoff;
    opts.stream.backoff.jitter = 0;
    opts.executor.journal = {journal.empty() ? journal_path : journal, false};
    opts.executor.ready_timeout = 10s;
    opts.executor.event_timeout = 1s;
    opts.executor.cancel_grace = 2s;
    auto desk = trading_desk::start(sys, std::move(opts));
    if (!desk)
      CAF_FAIL("desk did not start: " << render(desk.error()));
    return std::move(*desk);
  }

  /// Orders the simulator holds per client_order_id.
  std::map<std::string, size_t> orders_by_client_id() {
    auto orders = sim->call_broker([](sim::broker& b) { return b.orders(); });
    std::map<std::string, size_t> result;
    for (auto& o : orders)
      ++result[o.client_order_id];
    return result;
  }

  double metric(trading_desk& desk, const std::string& name) {
    caf::scoped_actor self{sys};
    double result = -1;
    auto exec = desk.executor();
    if (!exec)
      CAF_FAIL("no executor: " << render(exec.error()));
    self->request(*exec, 5s, metrics_atom::value)
      .receive(
        [&](metric_samples& xs) {
          for (auto& x : xs)
            if (x.name == name)
              result = x.value;
        },
        [](caf::error& err) { CAF_FAIL(render(err)); });
    return result;
  }

  bool each_placed_once(const plan_result& r) {
    auto counts = orders_by_client_id();
    for (auto& x : r.items) {
      auto i = counts.find(x.client_order_id);
      auto placed = i == counts.end() ? 0u : i->second;
      if (placed > 1)
        return false;
    }
    return true;
  }
};

std::string outcome_at(const plan_result& r, size_t i) {
  return i < r.items.size() ? to_string(r.items[i].outcome) : "missing";
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(execution_tests, fixture)

CAF_TEST(a plan fills every item and places each order once) {
  auto desk = start_desk();
  auto result = desk->execute(buys("it-normal", 5), 30s);
  CAF_REQUIRE(result);
  CAF_CHECK(result->succeeded());
  CAF_CHECK_EQUAL(orders_by_client_id().size(), 5u);
  CAF_CHECK(each_placed_once(*result));
  CAF_CHECK_EQUAL(to_string(result->items[4].filled_qty), "5");
}

CAF_TEST(trade updates in binary frames are understood too) {
  sim::simulator_options opts;
  opts.market.tick = 20ms;
  opts.broker.binary_frames = true;
  sim = std::make_unique<sim::simulator>(std::move(opts));
  auto desk = start_desk();
  auto result = desk->execute(buys("it-binary", 2), 30s);
  CAF_REQUIRE(result);
  CAF_CHECK(result->succeeded());
  // The fills came from the stream, not from lookups.
  CAF_CHECK_GREATER_OR_EQUAL(
    metric(*desk, "athanor_executor_order_updates_total"), 4.0);
  CAF_CHECK_EQUAL(metric(*desk, "athanor_executor_lookups_total"), 0.0);
}

CAF_TEST(rejected items carry the broker reason while others fill) {
  auto desk = start_desk();
  auto p = buys("it-rejected", 2);
  p.items.push_back(item("TSLA", order_side::sell, 7)); // not held
  auto result = desk->execute(p, 30s);
  CAF_REQUIRE(result);
  CAF_CHECK(!result->succeeded());
  CAF_CHECK_EQUAL(outcome_at(*result, 2), "rejected");
  CAF_CHECK_NOT_EQUAL(result->items[2].reason.find("insufficient qty"),
                      std::string::npos);
  CAF_CHECK_EQUAL(outcome_at(*result, 0), "filled");
  CAF_CHECK_EQUAL(outcome_at(*result, 1), "filled");
}

CAF_TEST(a resubmitted plan places nothing new even after a restart) {
  {
    auto desk = start_desk();
    CAF_REQUIRE(desk->execute(buys("it-again", 3), 30s));
  }
  auto desk = start_desk();
  auto again = desk->execute(buys("it-again", 3), 30s);
  CAF_REQUIRE(again);
  CAF_CHECK(again->replayed);
  CAF_CHECK(again->succeeded());
  CAF_CHECK_EQUAL(orders_by_client_id().size(), 3u);
}

CAF_TEST(even a lost journal places nothing twice) {
  // Here the broker's refusal of a reused client_order_id is the guard.
  auto strict = sim_options();
  strict.broker.accept_reused_client_order_ids = false;
  sim = std::make_unique<sim::simulator>(strict);
  {
    auto desk = start_desk();
    CAF_REQUIRE(desk->execute(buys("it-lost", 3), 30s));
  }
  auto desk = start_desk(journal_path + "-other");
  auto again = desk->execute(buys("it-lost", 3), 30s);
  desk.reset();
  for (auto suffix : {"", "-wal", "-shm"})
    std::remove((journal_path + "-other" + suffix).c_str());
  CAF_REQUIRE(again);
  for (auto& x : again->items)
    CAF_MESSAGE(x.client_order_id << " " << to_string(x.outcome) << " "
                                  << to_string(x.status) << " " << x.reason);
  // The broker refused the reused client_order_ids; lookups found them.
  CAF_CHECK(again->succeeded());
  CAF_CHECK_EQUAL(orders_by_client_id().size(), 3u);
  CAF_CHECK(each_placed_once(*again));
}

CAF_TEST(a 500 after the order was placed is resolved without a duplicate) {
  auto desk = start_desk();
  // Let the stream get ready first, so the fault hits the POSTs.
  CAF_REQUIRE(desk->execute(buys("it-warmup", 1), 30s));
  sim->call_broker(
    [](sim::broker& b) { b.fail_requests(2, sim::rest_fault::fail_after); });
  auto result = desk->execute(buys("it-500", 2), 30s);
  CAF_REQUIRE(result);
  CAF_CHECK(result->succeeded());
  CAF_CHECK(each_placed_once(*result));
  // Resolved by lookup: no POST was repeated, none refused as a duplicate.
  CAF_CHECK_EQUAL(metric(*desk, "athanor_rest_duplicate_posts_total"), 0.0);
  CAF_CHECK_EQUAL(orders_by_client_id().size(), 3u);
}

CAF_TEST(a post that times out is found by lookup and not repeated) {
  auto desk = start_desk();
  CAF_REQUIRE(desk->execute(buys("it-warmup", 1), 30s));
  sim->call_broker([](sim::broker& b) { b.slow_requests(1, 1s); });
  auto result = desk->execute(buys("it-slow", 1), 30s);
  CAF_REQUIRE(result);
  CAF_CHECK(result->succeeded());
  CAF_CHECK(each_placed_once(*result));
  CAF_CHECK_EQUAL(metric(*desk, "athanor_rest_duplicate_posts_total"), 0.0);
  CAF_CHECK_EQUAL(orders_by_client_id().size(), 2u);
}

CAF_TEST(fills missed while the stream was down are reconciled) {
  sim::simulator_options opts;
  opts.market.tick = 20ms;
  opts.broker.fill_delay = 300ms;
  sim = std::make_unique<sim::simulator>(std::move(opts));
  // The stream stays down for a second: the fills happen meanwhile.
  auto desk = start_desk({}, 1s);
  CAF_REQUIRE(desk->execute(buys("it-warmup", 1), 30s));
  std::thread dropper{[this] {
    std::this_thread::sleep_for(100ms);
    sim->call_broker([](sim::broker& b) { b.reset_streams(); });
  }};
  auto result = desk->execute(buys("it-drop", 3), 30s);
  dropper.join();
  CAF_REQUIRE(result);
  CAF_CHECK(result->succeeded());
  CAF_CHECK(each_placed_once(*result));
  auto reconciled
    = metric(*desk, "athanor_executor_reconciliations_total")
      + metric(*desk, "athanor_executor_lookups_total");
  CAF_CHECK_GREATER(reconciled, 0.0);
}

CAF_TEST(a crashed group is restarted and the plan completes once) {
  sim::simulator_options opts;
  opts.market.tick = 20ms;
  opts.broker.fill_delay = 300ms;
  sim = std::make_unique<sim::simulator>(std::move(opts));
  auto desk = start_desk();
  CAF_REQUIRE(desk->execute(buys("it-warmup", 1), 30s));
  auto first = desk->executor();
  CAF_REQUIRE(first);
  std::thread crasher{[&] {
    std::this_thread::sleep_for(100ms);
    // An abnormal exit, as an escaped exception would cause.
    caf::scoped_actor killer{sys};
    killer->send_exit(*first, make_error(engine_errc::unhandled_exception,
                                         "test crash"));
  }};
  auto result = desk->execute(buys("it-crash", 3), 30s);
  crasher.join();
  CAF_REQUIRE(result);
  CAF_CHECK(result->succeeded());
  CAF_CHECK(each_placed_once(*result));
  // The request that started it waited through the crash: no replay.
  CAF_CHECK(!result->replayed);
  auto second = desk->executor();
  CAF_REQUIRE(second);
  CAF_CHECK(second->address() != first->address());
}

// trading_desk asks again every 5 s: a longer first run once read as a
// replay of itself.
CAF_TEST(a first run slower than the re-ask interval is no replay) {
  auto opts = sim_options();
  opts.broker.fill_delay = 6s;
  sim = std::make_unique<sim::simulator>(opts);
  auto desk = start_desk();
  auto result = desk->execute(buys("it-slow-first", 1), 30s);
  CAF_REQUIRE(result);
  CAF_CHECK(result->succeeded());
  CAF_CHECK(!result->replayed);
  CAF_CHECK_EQUAL(metric(*desk, "athanor_executor_plans_replayed_total"), 0.0);
  CAF_CHECK_EQUAL(metric(*desk, "athanor_executor_plans_accepted_total"), 1.0);
}

CAF_TEST(a post answered after the deadline leaves nothing open) {
  auto opts = sim_options();
  opts.broker.fill_delay = 60s;
  sim = std::make_unique<sim::simulator>(opts);
  auto desk = start_desk({}, 100ms, 5s);
  auto warmup = buys("it-late-warmup", 1);
  warmup.deadline_ms = 1000;
  CAF_REQUIRE(desk->execute(warmup, 30s)); // the stream is ready now
  sim->call_broker([](sim::broker& b) { b.slow_requests(1, 2s); });
  auto p = buys("it-late", 1);
  p.deadline_ms = 1000;
  auto result = desk->execute(p, 30s);
  CAF_REQUIRE(result);
  CAF_CHECK_EQUAL(outcome_at(*result, 0), "timed_out");
  for (auto& o : sim->call_broker([](sim::broker& b) { return b.orders(); })) {
    CAF_CHECK(is_final(o.status));
    if (!is_final(o.status))
      CAF_MESSAGE(o.client_order_id << " left " << to_string(o.status));
  }
  CAF_CHECK(each_placed_once(*result));
}

CAF_TEST(a rerun with a changed qty after a lost journal is a mismatch) {
  auto strict = sim_options();
  strict.broker.accept_reused_client_order_ids = false;
  sim = std::make_unique<sim::simulator>(strict);
  {
    auto desk = start_desk();
    CAF_REQUIRE(desk->execute(buys("it-changed", 2), 30s));
  }
  auto changed = buys("it-changed", 2);
  changed.items[1].qty = decimal::from_integer(3);
  auto desk = start_desk(journal_path + "-other");
  auto again = desk->execute(changed, 30s);
  desk.reset();
  for (auto suffix : {"", "-wal", "-shm"})
    std::remove((journal_path + "-other" + suffix).c_str());
  CAF_REQUIRE(again);
  CAF_CHECK(!again->succeeded());
  CAF_CHECK_EQUAL(outcome_at(*again, 0), "filled");
  CAF_CHECK_EQUAL(outcome_at(*again, 1), "mismatch");
  CAF_CHECK_NOT_EQUAL(again->items[1].reason.find("qty 2 (plan: 3)"),
                      std::string::npos);
  CAF_CHECK_EQUAL(orders_by_client_id().size(), 2u);
}

CAF_TEST(a plan refused for its key runs once the key is fixed) {
  {
    auto desk = start_desk({}, 100ms, 300ms, "WRONGKEY");
    auto refused = desk->execute(buys("it-key", 2), 30s);
    CAF_REQUIRE(refused);
    CAF_CHECK_EQUAL(outcome_at(*refused, 0), "not_placed");
    CAF_CHECK_EQUAL(outcome_at(*refused, 1), "not_placed");
  }
  CAF_CHECK_EQUAL(orders_by_client_id().size(), 0u);
  auto desk = start_desk();
  auto fixed = desk->execute(buys("it-key", 2), 30s);
  CAF_REQUIRE(fixed);
  CAF_CHECK(fixed->succeeded());
  CAF_CHECK(fixed->retried);
  CAF_CHECK(!fixed->replayed);
  CAF_CHECK_EQUAL(orders_by_client_id().size(), 2u);
  CAF_CHECK(each_placed_once(*fixed));
}

CAF_TEST_FIXTURE_SCOPE_END()
