#define CAF_SUITE integration.backfill
#include "caf/test/unit_test.hpp"

#include <map>
#include <set>
#include <sstream>

#include "../sim/http_client.hpp"
#include "process.hpp"
#include "protocol/history.hpp"
#include "protocol/timestamp.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

using namespace athanor;
using namespace athanor::testing;
using namespace std::chrono_literals;

namespace {

const std::string athanor_binary = ATHANOR_BINARY;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in{text};
  for (std::string line; std::getline(in, line);)
    result.push_back(line);
  return result;
}

// The value of "key": in a JSON line, as text (a string's quotes removed).
std::string field(const std::string& line, const std::string& key) {
  auto at = line.find("\"" + key + "\":");
  if (at == std::string::npos)
    return {};
  at += key.size() + 3;
  if (line[at] == '"') {
    auto end = line.find('"', at + 1);
    return line.substr(at + 1, end - at - 1);
  }
  auto end = line.find_first_of(",}", at);
  return line.substr(at, end - at);
}

// The engine's environment for `sim`: every Alpaca URL on its one port.
std::map<std::string, std::string> environment_for(sim::simulator& sim,
                                                   const temp_dir& dir) {
  auto url = "127.0.0.1:" + std::to_string(sim.port());
  return {
    {"ALPACA_API_KEY", sim::default_key},
    {"ALPACA_API_SECRET", sim::default_secret},
    {"ALPACA_DATA_STREAM_URL", "ws://" + url},
    {"ALPACA_BASE_URL", "http://" + url},
    {"ALPACA_DATA_URL", "http://" + url},
    {"XDG_STATE_HOME", dir.path},
  };
}

using trade_key = std::pair<std::string, std::string>;

// Every trade of `symbols` the simulator generated in [from, to], paged
// from its history API.
std::set<trade_key> simulated_trades(sim::simulator& sim,
                                     std::vector<std::string> symbols,
                                     timestamp_ns from, timestamp_ns to) {
  history_request req;
  req.kind = channel::trades;
  req.symbols = std::move(symbols);
  req.start = from;
  req.end = to;
  std::map<std::string, std::string> auth{
    {"APCA-API-KEY-ID", sim::default_key},
    {"APCA-API-SECRET-KEY", sim::default_secret}};
  std::set<trade_key> result;
  for (;;) {
    auto res = http_call(sim.port(), "GET", protocol::history_target(req), "",
                         auth);
    CAF_REQUIRE_EQUAL(res.status, 200);
    history_page page;
    protocol::decode_problem problem;
    CAF_REQUIRE(protocol::decode_history_page(channel::trades, res.body, page,
                                              problem));
    for (auto& t : page.data.trades)
      result.emplace(t.symbol, std::to_string(t.id));
    if (page.next_page_token.empty())
      return result;
    req.page_token = page.next_page_token;
  }
}

} // namespace

CAF_TEST(after a reset backfill makes the consumers trades equal the simulators) {
  sim::simulator_options opts;
  // The market goes on while the engine is away.
  opts.market.keep_interest = true;
  opts.market.records_per_second = 5000;
  sim::simulator sim{opts};
  std::string problem;
  auto steps = sim::parse_scenario("1s reset\n", problem);
  CAF_REQUIRE(steps);
  temp_dir dir;
  auto env = environment_for(sim, dir);
  // The reset costs about a second of trades.
  child_process p{athanor_binary,
                  {"run", "--json", "--symbols=AAPL,MSFT", "--channels=trades",
                   "--backfill=trades", "--limit=3500",
                   "--athanor.admin.port=0",
                   "--athanor.reconnect.initial-delay=1s",
                   "--athanor.reconnect.jitter=0"},
                  env};
  sim.run_scenario(std::move(*steps));
  CAF_REQUIRE_EQUAL(p.wait(60s), 0);
  std::set<trade_key> printed;
  size_t trades = 0;
  size_t backfilled = 0;
  timestamp_ns first = 0;
  timestamp_ns last_live = 0;
  std::string order;
  for (auto& line : lines_of(p.out())) {
    auto type = field(line, "T");
    if (type == "t") {
      ++trades;
      printed.emplace(field(line, "S"), field(line, "i"));
      auto t = protocol::parse_rfc3339(field(line, "t")).value_or(0);
      if (field(line, "backfill") == "true") {
        ++backfilled;
        order += order.empty() || order.back() != 'B' ? "B" : "";
      } else {
        first = first == 0 ? t : std::min(first, t);
        last_live = std::max(last_live, t);
        order += order.empty() || order.back() != 'L' ? "L" : "";
      }
    } else if (type == "gap") {
      auto reason = field(line, "reason");
      order += reason == "reconnect" ? "g" : reason == "backfilled" ? "m" : "?";
    }
  }
  CAF_MESSAGE(trades << " trades printed, " << backfilled << " backfilled, "
                     << "order " << order);
  // Live, the reconnect gap, live again, the repair and its marker, live.
  CAF_CHECK_EQUAL(order.find('?'), std::string::npos);
  CAF_CHECK_NOT_EQUAL(order.find("gL"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(order.find("Bm"), std::string::npos);
  CAF_CHECK_GREATER(backfilled, 100u);
  // None twice.
  CAF_CHECK_EQUAL(printed.size(), trades);
  // None missing: every trade the simulator made for these symbols while
  // the engine streamed (from its first live trade to its last) was
  // printed.
  auto made = simulated_trades(sim, {"AAPL", "MSFT"}, first, last_live);
  CAF_CHECK_GREATER(made.size(), 1000u);
  size_t missing = 0;
  for (auto& x : made)
    if (printed.count(x) == 0)
      ++missing;
  CAF_CHECK_EQUAL(missing, 0u);
}

CAF_TEST(a backfill the rest side refuses ends with backfill failed and the stream goes on) {
  sim::simulator_options opts;
  opts.market.keep_interest = true;
  opts.market.records_per_second = 5000;
  sim::simulator sim{opts};
  std::string problem;
  // After the reset every REST request fails with 500 until the client's
  // attempts are spent.
  auto steps = sim::parse_scenario("1s reset\n1s rest500 count=100\n",
                                   problem);
  CAF_REQUIRE(steps);
  temp_dir dir;
  auto env = environment_for(sim, dir);
  child_process p{athanor_binary,
                  {"run", "--json", "--symbols=AAPL", "--channels=trades",
                   "--backfill=trades", "--limit=3000",
                   "--athanor.admin.port=0",
                   "--athanor.reconnect.initial-delay=500ms",
                   "--athanor.rest.max-attempts=2"},
                  env};
  sim.run_scenario(std::move(*steps));
  CAF_REQUIRE_EQUAL(p.wait(60s), 0);
  auto out = p.out();
  auto failed = out.find("\"reason\":\"backfill_failed\"");
  CAF_REQUIRE_NOT_EQUAL(failed, std::string::npos);
  auto detail = out.find("\"detail\":", failed);
  CAF_REQUIRE_NOT_EQUAL(detail, std::string::npos);
  CAF_MESSAGE(out.substr(detail, out.find('\n', detail) - detail));
  CAF_CHECK_EQUAL(out.find("\"backfill\":true"), std::string::npos);
  // The stream went on after it.
  CAF_CHECK_NOT_EQUAL(out.find("{\"T\":\"t\"", failed), std::string::npos);
}
