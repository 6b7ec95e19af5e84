#define CAF_SUITE integration.library
#include "athanor/runtime.hpp"

#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <atomic>
#include <set>
#include <memory>
#include <stdexcept>
#include <thread>

#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/send.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "athanor/remote.hpp"
#include "messages/error.hpp"
#include "messages/register.hpp"

using namespace athanor;
using namespace std::chrono_literals;

// The public API as a host uses it (include/athanor/), in process: the
// built-in simulator stands in for Alpaca.

namespace {

// No upstream keys, whatever the machine has: never trade for real here.
runtime_options simulated(std::vector<std::string> settings = {}) {
  runtime_options opts;
  opts.environment = std::map<std::string, std::string>{};
  settings.push_back("--athanor.log.level=off");
  opts.settings = std::move(settings);
  return opts;
}

struct host_config : caf::actor_system_config {
  host_config() {
    prepare(*this);
    set("scheduler.max-threads", 2);
  }
};

template<class F>
bool eventually(F done, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

plan one_buy(const std::string& id) {
  auto p = plan_from_json(R"({"plan_id": ")" + id + R"(", "items": [)"
                          R"({"symbol": "AAPL", "side": "buy", "qty": 2}]})");
  if (!p)
    CAF_FAIL("plan: " << render(p.error()));
  return *p;
}

} // namespace

CAF_TEST(a runtime of its own streams executes and reports) {
  auto rt = runtime::start(simulated());
  CAF_REQUIRE(rt);
  std::atomic<size_t> quotes{0};
  data_callbacks cbs;
  cbs.on_batch = [&](const batch& x) { quotes += x.quotes.size(); };
  auto sub = (*rt)->subscribe({"AAPL"}, {channel::quotes}, cbs);
  CAF_REQUIRE(sub);
  CAF_CHECK(eventually([&] { return quotes >= 5; }));
  auto result = (*rt)->execute(one_buy("lib-own"), 30s);
  CAF_REQUIRE(result);
  CAF_CHECK(result->succeeded());
  auto health = (*rt)->health();
  CAF_CHECK(health.ready);
  CAF_CHECK_EQUAL(health.upstreams.size(), 2u);
  auto metrics = (*rt)->metrics();
  CAF_REQUIRE(metrics);
  CAF_CHECK(!metrics->empty());
  // Cancelled, nothing more arrives.
  sub->cancel();
  CAF_CHECK(!sub->active());
  std::this_thread::sleep_for(100ms);
  auto seen = quotes.load();
  std::this_thread::sleep_for(300ms);
  CAF_CHECK_EQUAL(quotes.load(), seen);
  (*rt)->stop();
  CAF_CHECK(!(*rt)->subscribe({"AAPL"}, {channel::quotes}, cbs));
}

double sample(const metric_samples& xs, const std::string& name) {
  double total = 0;
  for (auto& x : xs)
    if (x.name == name)
      total += x.value;
  return total;
}

CAF_TEST(a host actor subscribes and its death ends its share) {
  auto rt = runtime::start(simulated());
  CAF_REQUIRE(rt);
  auto batches = std::make_shared<std::atomic<size_t>>(0);
  auto consumer = (*rt)->system().spawn(
    [batches]() -> subscriber_actor::behavior_type {
      return {
        [batches](const batch&) { ++*batches; },
        [](const gap&) {},
      };
    });
  auto sub = (*rt)->subscribe({"AAPL"}, {channel::quotes}, consumer);
  CAF_REQUIRE(sub);
  CAF_CHECK(eventually([&] { return *batches >= 5; }));
  auto subscribers = [&] {
    auto xs = (*rt)->metrics();
    return xs ? sample(*xs, "athanor_registry_subscribers") : -1.0;
  };
  CAF_CHECK_EQUAL(subscribers(), 1.0);
  caf::anon_send_exit(consumer, caf::exit_reason::user_shutdown);
  CAF_CHECK(eventually([&] { return subscribers() == 0.0; }));
  (*rt)->stop();
}

CAF_TEST(a throwing callback does not stop its delivery or anyone elses) {
  auto rt = runtime::start(simulated());
  CAF_REQUIRE(rt);
  std::atomic<size_t> thrown{0};
  data_callbacks faulty;
  faulty.on_batch = [&](const batch&) {
    ++thrown;
    throw std::runtime_error("a bug in the host");
  };
  faulty.name = "faulty-strategy";
  std::atomic<size_t> quotes{0};
  data_callbacks sound;
  sound.on_batch = [&](const batch& x) { quotes += x.quotes.size(); };
  auto first = (*rt)->subscribe({"AAPL"}, {channel::quotes}, faulty);
  auto second = (*rt)->subscribe({"AAPL"}, {channel::quotes}, sound);
  CAF_REQUIRE(first && second);
  CAF_CHECK(eventually([&] { return thrown >= 5 && quotes >= 5; }));
  CAF_CHECK(first->active());
  // The failures are counted where a host looks: runtime metrics.
  auto xs = (*rt)->metrics();
  CAF_REQUIRE(xs);
  CAF_CHECK_EQUAL(sample(*xs, "athanor_callback_subscribers"), 2.0);
  CAF_CHECK_GREATER_OR_EQUAL(sample(*xs, "athanor_callback_failures_total"),
                             5.0);
  // Named by the host where its figures are, the other by kind and number.
  std::set<std::string> named;
  for (auto& x : *xs)
    if (x.name == "athanor_callback_failures_total"
        || x.name == "athanor_subscriber_delivered_records_total")
      named.insert(x.name + " " + x.labels.at("subscriber"));
  CAF_CHECK_EQUAL(named.count("athanor_callback_failures_total "
                              "faulty-strategy"),
                  1u);
  CAF_CHECK_EQUAL(named.count("athanor_subscriber_delivered_records_total "
                              "faulty-strategy"),
                  1u);
  CAF_CHECK_EQUAL(std::count_if(named.begin(), named.end(),
                                [](const std::string& x) {
                                  return x.find(" callback-") != std::string::npos;
                                }),
                  2);
  second->cancel();
  CAF_CHECK(eventually([&] {
    auto ys = (*rt)->metrics();
    return ys && sample(*ys, "athanor_callback_subscribers") == 1.0;
  }));
  // Quotes can flow before the trading stream has logged in; readiness
  // needs both, so it is awaited rather than sampled.
  CAF_CHECK(eventually([&] { return (*rt)->health().ready; }));
  (*rt)->stop();
}

CAF_TEST(calls from many threads while another stops end with not ready) {
  auto rt = runtime::start(simulated());
  CAF_REQUIRE(rt);
  auto& engine = **rt;
  CAF_REQUIRE(eventually([&] { return engine.health().ready; }));
  std::atomic<bool> stopping{false};
  std::atomic<size_t> calls{0};
  std::atomic<size_t> refused_after_stop{0};
  std::atomic<size_t> failures{0};
  auto caller = [&](int which) {
    for (int i = 0;; ++i) {
      auto stopped_before = stopping.load();
      bool refused = false;
      switch ((which + i) % 4) {
        case 0: {
          auto sub = engine.subscribe({"AAPL"}, {channel::quotes},
                                      data_callbacks{});
          refused = !sub;
          break;
        }
        case 1: {
          auto xs = engine.metrics();
          refused = !xs;
          break;
        }
        case 2:
          refused = !engine.health().ready;
          break;
        case 3: {
          auto result = engine.execute(
            one_buy("lib-threads-" + std::to_string(which) + "-"
                    + std::to_string(i)),
            30s);
          if (!result)
            refused = true;
          else if (!result->succeeded())
            ++failures;
          break;
        }
      }
      ++calls;
      if (refused && stopped_before) {
        ++refused_after_stop;
        return;
      }
      if (refused && !stopped_before && i > 1000)
        return; // refused for another reason: reported below
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back(caller, i);
  CAF_CHECK(eventually([&] { return calls >= 40; }));
  stopping = true;
  engine.stop();
  for (auto& t : threads)
    t.join();
  CAF_MESSAGE(calls.load() << " calls before the stop took effect");
  CAF_CHECK_EQUAL(refused_after_stop.load(), 4u);
  CAF_CHECK_EQUAL(failures.load(), 0u);
  auto after = engine.execute(one_buy("lib-threads-after"), 1s);
  CAF_REQUIRE(!after);
  CAF_CHECK(errc_of(after.error()) == engine_errc::not_ready);
}

CAF_TEST(bad settings are refused naming the option) {
  auto rt = runtime::start(
    simulated({"--athanor.breaker.failure-threshold=0"}));
  CAF_REQUIRE(!rt);
  CAF_CHECK(render(rt.error()).find("athanor.breaker.failure-threshold")
            != std::string::npos);
  auto bad = plan_from_json(R"({"plan_id": "", "items": []})");
  CAF_REQUIRE(!bad);
  CAF_CHECK(errc_of(bad.error()) == engine_errc::invalid_plan);
}

CAF_TEST(a host system attaches to a published runtime in another) {
  host_config engine_cfg;
  caf::actor_system engine_sys{engine_cfg};
  auto rt = runtime::start(engine_sys,
                           simulated({"--athanor.remote.publish=127.0.0.1:0",
                                      "--athanor.remote.execute=true"}));
  CAF_REQUIRE(rt);
  auto at = (*rt)->published_at();
  CAF_REQUIRE(!at.empty());
  CAF_MESSAGE("published at " << at);
  // Another node: a second actor system with its own middleman.
  host_config consumer_cfg;
  caf::actor_system consumer_sys{consumer_cfg};
  remote_options where;
  where.port = static_cast<uint16_t>(std::stoi(at.substr(at.rfind(':') + 1)));
  std::atomic<size_t> quotes{0};
  data_callbacks cbs;
  cbs.on_batch = [&](const batch& x) { quotes += x.quotes.size(); };
  auto sub = attach(consumer_sys, where, {"AAPL"}, {channel::quotes}, cbs);
  CAF_REQUIRE(sub);
  CAF_CHECK(eventually([&] { return quotes >= 5; }));
  auto result = execute_remote(consumer_sys, where, one_buy("lib-remote"),
                               30s);
  CAF_REQUIRE(result);
  CAF_CHECK(result->succeeded());
  // Asked again from here, the same plan is the recorded result.
  auto again = execute_remote(consumer_sys, where, one_buy("lib-remote"), 30s);
  CAF_REQUIRE(again);
  CAF_CHECK(again->replayed);
  sub->cancel();
  (*rt)->stop();
}

CAF_TEST(subscriptions through a remote engine share one link) {
  host_config engine_cfg;
  caf::actor_system engine_sys{engine_cfg};
  auto rt = runtime::start(engine_sys,
                           simulated({"--athanor.remote.publish=127.0.0.1:0"}));
  CAF_REQUIRE(rt);
  auto at = (*rt)->published_at();
  host_config consumer_cfg;
  caf::actor_system consumer_sys{consumer_cfg};
  remote_options where;
  where.port = static_cast<uint16_t>(std::stoi(at.substr(at.rfind(':') + 1)));
  auto remote = remote_engine::connect(consumer_sys, where);
  CAF_REQUIRE(remote);
  std::atomic<size_t> aapl{0};
  std::atomic<size_t> msft{0};
  std::atomic<size_t> strays{0};
  data_callbacks on_aapl;
  on_aapl.on_batch = [&](const batch& x) {
    for (auto& q : x.quotes)
      ++(q.symbol == "AAPL" ? aapl : strays);
  };
  data_callbacks on_msft;
  on_msft.on_batch = [&](const batch& x) {
    for (auto& q : x.quotes)
      ++(q.symbol == "MSFT" ? msft : strays);
  };
  auto first = (*remote)->subscribe({"AAPL"}, {channel::quotes}, on_aapl);
  auto second = (*remote)->subscribe({"MSFT"}, {channel::quotes}, on_msft);
  CAF_REQUIRE(first && second);
  CAF_CHECK(eventually([&] { return aapl >= 5 && msft >= 5; }));
  CAF_CHECK_EQUAL(strays.load(), 0u);
  auto remote_subscribers = [&] {
    auto xs = (*rt)->metrics();
    return xs ? sample(*xs, "athanor_remote_subscribers") : -1.0;
  };
  // One subscriber at the engine for both.
  CAF_CHECK_EQUAL(remote_subscribers(), 1.0);
  // One goes; the other goes on.
  first->cancel();
  std::this_thread::sleep_for(200ms);
  auto seen = msft.load();
  CAF_CHECK(eventually([&] { return msft >= seen + 5; }));
  CAF_CHECK_EQUAL(remote_subscribers(), 1.0);
  // Nobody left: the engine lets the share go.
  second->cancel();
  CAF_CHECK(eventually([&] { return remote_subscribers() == 0.0; }));
  remote->reset();
  (*rt)->stop();
}

CAF_TEST(a runtime in a host system needs its config prepared for remoting) {
  caf::actor_system_config plain;
  add_message_types(plain);
  plain.set("scheduler.max-threads", 2);
  caf::actor_system sys{plain};
  auto rt = runtime::start(sys,
                           simulated({"--athanor.remote.publish=127.0.0.1:0"}));
  CAF_REQUIRE(!rt);
  CAF_CHECK(render(rt.error()).find("middleman") != std::string::npos);
}
