#define CAF_SUITE sim.scenario
#include "sim/scenario.hpp"

#include "caf/test/unit_test.hpp"

#include <algorithm>
#include <thread>

#include "protocol/market_data.hpp"
#include "sim/simulator.hpp"
#include "ws_client.hpp"

using namespace athanor;
using namespace athanor::protocol;
using namespace std::chrono_literals;
using athanor::testing::ws_client;

namespace {

// Connects, authenticates and subscribes to every quote.
std::unique_ptr<ws_client> subscribed(sim::simulator& s) {
  auto client = std::make_unique<ws_client>(s.port(), "/v2/iex");
  client->send(encode_auth(codec::json, {secret{sim::default_key},
                                         secret{sim::default_secret}}),
               false);
  subscription_set all;
  all[channel::quotes] = {"*"};
  all[channel::bars] = {"*"};
  client->send(encode_subscribe(codec::json, all), false);
  return client;
}

// Reads frames for `span`; returns the data frames' batches.
std::vector<batch> collect(ws_client& client, std::chrono::milliseconds span) {
  std::vector<batch> result;
  auto deadline = std::chrono::steady_clock::now() + span;
  while (std::chrono::steady_clock::now() < deadline) {
    auto frame = client.read(100ms);
    if (!frame) {
      if (!client.open())
        break;
      continue;
    }
    market_frame out;
    decode_problem problem;
    if (decode_json(frame->data, out, problem) && !out.data.empty())
      result.push_back(out.data);
  }
  return result;
}

} // namespace

CAF_TEST(scenarios parse times faults durations and arguments) {
  std::string error;
  auto steps = sim::parse_scenario("# warm up\n"
                                   "2s reset\n"
                                   "\n"
                                   "2500ms storm406 3s   # a storm\n"
                                   "1min rest500 count=3 after=1\n",
                                   error);
  CAF_REQUIRE(steps.has_value());
  CAF_REQUIRE_EQUAL(steps->size(), 3u);
  CAF_CHECK_EQUAL((*steps)[0].fault, "reset");
  CAF_CHECK_EQUAL((*steps)[1].at, std::chrono::nanoseconds{2500ms});
  CAF_CHECK_EQUAL((*steps)[1].duration, std::chrono::nanoseconds{3s});
  CAF_CHECK_EQUAL((*steps)[2].args.at("count"), "3");
  CAF_CHECK_EQUAL((*steps)[2].at, std::chrono::nanoseconds{60s});
}

CAF_TEST(bad scenario lines are named) {
  std::string error;
  CAF_CHECK(!sim::parse_scenario("2s reset\nsoon stall\n", error));
  CAF_CHECK_EQUAL(error.rfind("line 2:", 0), 0u);
  CAF_CHECK(!sim::parse_scenario("1s explode\n", error));
  CAF_CHECK(error.find("unknown fault 'explode'") != std::string::npos);
  CAF_CHECK(!sim::parse_scenario("1s storm406 soon\n", error));
}

CAF_TEST(a scenario applies its faults at their times) {
  sim::simulator_options opts;
  opts.market.tick = 5ms;
  sim::simulator s{opts};
  auto client = subscribed(s);
  std::string error;
  s.run_scenario(*sim::parse_scenario("300ms reset\n", error));
  auto before = collect(*client, 200ms);
  CAF_CHECK(!before.empty());
  CAF_CHECK(client->open());
  collect(*client, 400ms);
  CAF_CHECK(!client->open());
}

CAF_TEST(a delay holds data back then resumes) {
  sim::simulator_options opts;
  opts.market.tick = 5ms;
  sim::simulator s{opts};
  auto client = subscribed(s);
  auto last_before = [](const std::vector<batch>& xs) {
    timestamp_ns result = 0;
    for (auto& b : xs)
      for (auto& q : b.quotes)
        result = std::max(result, q.time);
    return result;
  };
  auto before = last_before(collect(*client, 100ms));
  s.call([](sim::market_hub& hub) { hub.delay(400ms); });
  // Not reading meanwhile (a read that times out ends the test client).
  std::this_thread::sleep_for(500ms);
  std::vector<timestamp_ns> times;
  for (auto& b : collect(*client, 200ms))
    for (auto& q : b.quotes)
      times.push_back(q.time);
  CAF_REQUIRE_GREATER(times.size(), 10u);
  std::sort(times.begin(), times.end());
  // Apart from what was already in flight, the tape stood still for the
  // delay, then resumed.
  timestamp_ns widest = 0;
  for (size_t i = 0; i < times.size(); ++i)
    widest = std::max(widest, times[i] - (i == 0 ? before : times[i - 1]));
  CAF_CHECK_GREATER_OR_EQUAL(widest, 300'000'000);
}

CAF_TEST(a recording replays in order and loops) {
  std::string error;
  auto tape = sim::parse_recording(
    "# two frames\n"
    R"([{"T":"q","S":"REC1","bp":1,"bs":1,"ap":2,"as":1,"t":"2021-02-22T15:51:45Z"}])"
    "\n"
    R"([{"T":"q","S":"REC2","bp":3,"bs":1,"ap":4,"as":1,"t":"2021-02-22T15:51:46Z"}])"
    "\n",
    error);
  CAF_REQUIRE(tape.has_value());
  sim::simulator_options opts;
  opts.market.tick = 5ms;
  opts.market.replay = *tape;
  sim::simulator s{opts};
  auto client = subscribed(s);
  std::vector<std::string> symbols;
  for (auto& b : collect(*client, 200ms))
    for (auto& q : b.quotes)
      symbols.push_back(q.symbol);
  CAF_REQUIRE_GREATER_OR_EQUAL(symbols.size(), 4u);
  for (size_t i = 1; i < symbols.size(); ++i)
    CAF_CHECK_NOT_EQUAL(symbols[i], symbols[i - 1]);
  CAF_CHECK(!sim::parse_recording("not json\n", error));
  CAF_CHECK_EQUAL(error.rfind("line 1:", 0), 0u);
}

CAF_TEST(minute bars come from the tape at each interval) {
  sim::simulator_options opts;
  opts.market.tick = 5ms;
  opts.market.bar_interval = 100ms;
  sim::simulator s{opts};
  auto client = subscribed(s);
  size_t bars = 0;
  for (auto& b : collect(*client, 500ms))
    for (auto& x : b.bars) {
      CAF_CHECK_LESS_OR_EQUAL(x.low, x.high);
      CAF_CHECK_GREATER(x.trade_count, 0u);
      ++bars;
    }
  CAF_CHECK_GREATER(bars, 0u);
}
