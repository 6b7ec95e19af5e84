#define CAF_SUITE integration.crash
#include "caf/test/unit_test.hpp"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <map>
#include <thread>
#include <unistd.h>

#include "process.hpp"
#include "protocol/plan.hpp"
#include "sim/simulator.hpp"

using namespace athanor;
using namespace athanor::testing;
using namespace std::chrono_literals;

namespace {

const std::string athanor_binary = ATHANOR_BINARY;

constexpr size_t plan_items = 12;

std::string plan_json() {
  std::string items;
  const char* symbols[] = {"AAPL", "MSFT", "SPY", "NVDA"};
  for (size_t i = 0; i < plan_items; ++i) {
    if (!items.empty())
      items += ",";
    items += R"({"symbol":")" + std::string{symbols[i % 4]}
             + R"(","side":"buy","qty":")" + std::to_string(1 + i) + "\"}";
  }
  return R"({"plan_id":"crash-1","deadline_seconds":60,"items":[)" + items
         + "]}";
}

struct fixture {
  std::unique_ptr<sim::simulator> sim;
  std::string dir;

  fixture() {
    char name[] = "/tmp/athanor-crash-XXXXXX";
    dir = mkdtemp(name);
    std::ofstream{dir + "/plan.json"} << plan_json();
    sim::simulator_options opts;
    opts.market.tick = 50ms;
    opts.broker.fill_delay = 40ms;
    opts.broker.requests_per_minute = 0;
    // A blind repeat must show as a second order, not be refused for us.
    opts.broker.accept_reused_client_order_ids = true;
    sim = std::make_unique<sim::simulator>(std::move(opts));
  }

  ~fixture() {
    for (auto file : {"/plan.json", "/journal.db", "/journal.db-wal",
                      "/journal.db-shm"})
      std::remove((dir + file).c_str());
    rmdir(dir.c_str());
  }

  std::vector<std::string> args() {
    return {"execute", dir + "/plan.json", "--json",
            "--athanor.journal.path=" + dir + "/journal.db",
            "--athanor.executor.event-timeout=500ms",
            "--athanor.log.level=warn"};
  }

  std::map<std::string, std::string> env() {
    return {{"ALPACA_API_KEY", sim::default_key},
            {"ALPACA_API_SECRET", sim::default_secret},
            {"ALPACA_BASE_URL",
             "http://127.0.0.1:" + std::to_string(sim->port())}};
  }

  std::vector<order> orders() {
    return sim->call_broker([](sim::broker& b) { return b.orders(); });
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(crash_tests, fixture)

CAF_TEST(sigkill at many points never places an order twice) {
  // Kill points spread over start-up, placing and filling.
  std::vector<std::chrono::milliseconds> delays{20ms, 50ms};
  for (auto d = 60ms; d <= 160ms; d += 10ms)
    delays.push_back(d);
  for (auto d : {200ms, 250ms, 400ms})
    delays.push_back(d);
  for (auto delay : delays) {
    child_process p{athanor_binary, args(), env()};
    std::this_thread::sleep_for(delay);
    p.signal(SIGKILL);
    p.wait(5s);
    CAF_MESSAGE("killed after " << delay.count() << " ms with "
                                << orders().size() << " orders placed");
  }
  child_process last{athanor_binary, args(), env()};
  auto code = last.wait(60s);
  CAF_CHECK_EQUAL(code, 0);
  if (code != 0)
    CAF_MESSAGE("stderr: " << last.err());
  // Every item placed exactly once, whatever the kills interrupted.
  std::map<std::string, order> by_client_id;
  for (auto& o : orders()) {
    CAF_CHECK_EQUAL(by_client_id.count(o.client_order_id), 0u);
    by_client_id[o.client_order_id] = o;
  }
  CAF_CHECK_EQUAL(by_client_id.size(), plan_items);
  // Every fill accounted for: the reported result matches the broker.
  auto out = last.out();
  for (uint32_t i = 0; i < plan_items; ++i) {
    auto id = protocol::client_order_id_of("crash-1", i);
    auto o = by_client_id.find(id);
    CAF_REQUIRE(o != by_client_id.end());
    CAF_CHECK(o->second.status == order_status::filled);
    auto expected = R"("client_order_id":")" + id + R"(","order_id":")"
                    + o->second.id + R"(","outcome":"filled","status":"filled","filled_qty":")"
                    + to_string(o->second.filled_qty) + "\"";
    CAF_CHECK_NOT_EQUAL(out.find(expected), std::string::npos);
  }
  // And once more: the recorded result, nothing new.
  child_process again{athanor_binary, args(), env()};
  CAF_CHECK_EQUAL(again.wait(30s), 0);
  CAF_CHECK_NOT_EQUAL(again.out().find("\"replayed\":true"), std::string::npos);
  CAF_CHECK_EQUAL(orders().size(), plan_items);
}

CAF_TEST_FIXTURE_SCOPE_END()
