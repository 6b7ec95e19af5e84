#define CAF_SUITE integration.cli
#include "caf/test/unit_test.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <unistd.h>

#include "../sim/http_client.hpp"
#include "../sim/ws_client.hpp"
#include "process.hpp"
#include "protocol/trading.hpp"
#include "sim/simulator.hpp"
#include "transport/tls.hpp"

using namespace athanor;
using namespace athanor::testing;
using namespace std::chrono_literals;

namespace {

const std::string athanor_binary = ATHANOR_BINARY;

bool is_record_line(const std::string& line, const std::string& symbol) {
  return line.front() == '{' && line.back() == '}'
         && (line.rfind("{\"T\":\"q\",", 0) == 0
             || line.rfind("{\"T\":\"t\",", 0) == 0)
         && line.find("\"S\":\"" + symbol + "\"") != std::string::npos;
}

} // namespace

CAF_TEST(run without credentials streams json lines from the simulator) {
  child_process p{athanor_binary,
                  {"run", "--symbols", "AAPL", "--limit=20", "--json"}};
  CAF_REQUIRE_EQUAL(p.wait(20s), 0);
  auto lines = p.out_lines();
  CAF_CHECK_EQUAL(lines.size(), 20u);
  for (auto& line : lines)
    CAF_CHECK(is_record_line(line, "AAPL"));
  CAF_CHECK_EQUAL(count_of(p.err(), "no_credentials"), 1u);
}

CAF_TEST(sigint stops a run cleanly within two seconds) {
  for (auto sig : {SIGINT, SIGTERM}) {
    child_process p{athanor_binary, {"run", "--symbols=AAPL,MSFT", "--json"}};
    CAF_REQUIRE(p.wait_for_lines(5, 20s));
    auto start = std::chrono::steady_clock::now();
    p.signal(sig);
    auto code = p.wait(5s);
    auto took = std::chrono::steady_clock::now() - start;
    CAF_CHECK_EQUAL(code, 0);
    CAF_MESSAGE("stopped after "
                << std::chrono::duration_cast<std::chrono::milliseconds>(took)
                     .count()
                << " ms");
    CAF_CHECK_LESS(took, 2s);
    CAF_CHECK_NOT_EQUAL(p.err().find("connection_closed"), std::string::npos);
  }
}

CAF_TEST(a rejected key ends the run with one clear error and no secret) {
  sim::simulator_options opts;
  sim::simulator sim{opts};
  temp_dir state;
  std::map<std::string, std::string> env{
    {"ALPACA_API_KEY", "CANARYKEY"},
    {"ALPACA_API_SECRET", "CANARYSECRET"},
    {"ALPACA_DATA_STREAM_URL",
     "ws://127.0.0.1:" + std::to_string(sim.port())},
    {"ALPACA_BASE_URL", "http://127.0.0.1:" + std::to_string(sim.port())},
    {"XDG_STATE_HOME", state.path},
  };
  child_process p{athanor_binary, {"run", "--json"}, env};
  CAF_CHECK_EQUAL(p.wait(20s), 77);
  CAF_CHECK_EQUAL(count_of(p.err(), "athanor: cannot stream from"), 1u);
  CAF_CHECK_NOT_EQUAL(p.err().find("auth_failed"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(p.err().find("check ALPACA_API_KEY"), std::string::npos);
  for (auto& text : {p.out(), p.err()}) {
    CAF_CHECK_EQUAL(text.find("CANARYSECRET"), std::string::npos);
    CAF_CHECK_EQUAL(text.find("CANARYKEY"), std::string::npos);
  }
}

CAF_TEST(bad run options are all reported by name) {
  child_process p{athanor_binary,
                  {"run", "--symbols=aapl,MSFT", "--channels=quotes,nope",
                   "--limit=x"}};
  CAF_CHECK_EQUAL(p.wait(10s), 78);
  CAF_CHECK_NOT_EQUAL(p.err().find("--symbols: 'aapl'"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(p.err().find("--channels: 'nope'"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(p.err().find("--limit: 'x'"), std::string::npos);
}

CAF_TEST(a channel the stock feed lacks is refused naming it) {
  child_process p{athanor_binary,
                  {"run", "--symbols=AAPL", "--channels=quotes,orderbooks",
                   "--json"}};
  CAF_CHECK_EQUAL(p.wait(20s), 78);
  CAF_CHECK_NOT_EQUAL(p.err().find("--channels: "), std::string::npos);
  CAF_CHECK_NOT_EQUAL(p.err().find("orderbooks"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(p.err().find("not offered by a stocks feed"),
                      std::string::npos);
}

namespace {

const char* small_plan = R"({"plan_id": "cli-1", "items": [
  {"symbol": "AAPL", "side": "buy", "qty": 2},
  {"symbol": "MSFT", "side": "buy", "notional": "500"}]})";

} // namespace

CAF_TEST(execute on the simulator fills the plan and replays it once done) {
  temp_dir dir;
  auto plan = dir.write("plan.json", small_plan);
  std::map<std::string, std::string> env{{"XDG_STATE_HOME", dir.path}};
  child_process first{athanor_binary, {"execute", plan}, env};
  CAF_CHECK_EQUAL(first.wait(30s), 0);
  CAF_CHECK_NOT_EQUAL(first.out().find("every item filled"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(first.out().find("filled 2 of 2 items"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(first.out().find("on the built-in simulator"),
                      std::string::npos);
  child_process again{athanor_binary, {"execute", plan, "--json"}, env};
  CAF_CHECK_EQUAL(again.wait(30s), 0);
  CAF_CHECK_NOT_EQUAL(again.out().find("\"replayed\":true"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(again.out().find("\"client_order_id\":\"ath-cli-1-1\""),
                      std::string::npos);
  // The simulator's plans are kept apart from a real account's.
  CAF_CHECK(std::ifstream{dir.path + "/athanor/journal-sim.db"}.good());
}

CAF_TEST(execute exits non zero unless every item filled) {
  temp_dir dir;
  auto plan = dir.write("plan.json", R"({"plan_id": "cli-2", "items": [
    {"symbol": "AAPL", "side": "buy", "qty": 1},
    {"symbol": "TSLA", "side": "sell", "qty": 5}]})");
  child_process p{athanor_binary, {"execute", plan},
                  {{"XDG_STATE_HOME", dir.path}}};
  CAF_CHECK_EQUAL(p.wait(30s), 2);
  CAF_CHECK_NOT_EQUAL(p.out().find("rejected"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(p.out().find("insufficient qty"), std::string::npos);
}

CAF_TEST(execute against an unreachable broker exits 69 after ready timeout) {
  temp_dir dir;
  auto plan = dir.write("plan.json", small_plan);
  // Port 1 on loopback: nothing listens, every connect is refused.
  std::map<std::string, std::string> env{
    {"ALPACA_API_KEY", "SOMEKEY"},
    {"ALPACA_API_SECRET", "SOMESECRET"},
    {"ALPACA_BASE_URL", "http://127.0.0.1:1"},
    {"XDG_STATE_HOME", dir.path},
  };
  auto started = std::chrono::steady_clock::now();
  child_process p{athanor_binary,
                  {"execute", plan, "--athanor.executor.ready-timeout=2s"},
                  env};
  CAF_CHECK_EQUAL(p.wait(30s), 69);
  CAF_CHECK_LESS(std::chrono::steady_clock::now() - started, 20s);
  CAF_CHECK_NOT_EQUAL(p.err().find("cannot reach the trading stream"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(p.out().find("not_placed"), std::string::npos);
}

CAF_TEST(a dry run names what would fail and places nothing) {
  temp_dir dir;
  sim::simulator_options opts;
  opts.broker.unknown_assets = {"NOPE"};
  sim::simulator sim{opts};
  auto url = "http://127.0.0.1:" + std::to_string(sim.port());
  std::map<std::string, std::string> env{
    {"ALPACA_API_KEY", sim::default_key},
    {"ALPACA_API_SECRET", sim::default_secret},
    {"ALPACA_BASE_URL", url},
    {"ALPACA_DATA_URL", url},
    {"XDG_STATE_HOME", dir.path},
  };
  // 100,000 of cash, nothing held.
  auto plan = dir.write("plan.json", R"({"plan_id": "dry-1", "items": [
    {"symbol": "AAPL", "side": "buy", "qty": 100000},
    {"symbol": "TSLA", "side": "sell", "qty": 5},
    {"symbol": "NOPE", "side": "buy", "qty": 1, "type": "limit",
     "limit_price": "1.00"}]})");
  child_process p{athanor_binary, {"execute", plan, "--dry-run"}, env};
  CAF_CHECK_EQUAL(p.wait(30s), 2);
  CAF_CHECK_NOT_EQUAL(p.err().find("buying power"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(p.err().find("items[1].qty: sells 'TSLA' but none is "
                                   "held"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(p.err().find("items[2].symbol"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(p.out().find("ath-dry-1-0"), std::string::npos);
  // Not provably paper: named LIVE, since money may move there.
  CAF_CHECK_NOT_EQUAL(p.err().find("on LIVE account " + url),
                      std::string::npos);
  auto fine = dir.write("fine.json", R"({"plan_id": "dry-2", "items": [
    {"symbol": "AAPL", "side": "buy", "qty": 2}]})");
  child_process ok{athanor_binary, {"execute", fine, "--dry-run", "--json"},
                   env};
  CAF_CHECK_EQUAL(ok.wait(30s), 0);
  CAF_CHECK_NOT_EQUAL(ok.out().find("\"ok\":true"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(ok.out().find("\"client_order_id\":\"ath-dry-2-0\""),
                      std::string::npos);
  auto orders = sim.call_broker([](sim::broker& b) { return b.orders(); });
  CAF_CHECK_EQUAL(orders.size(), 0u);
  // Nothing was journaled either: the same plan_id still executes.
  child_process real{athanor_binary, {"execute", fine}, env};
  CAF_CHECK_EQUAL(real.wait(30s), 0);
  CAF_CHECK_EQUAL(sim.call_broker([](sim::broker& b) { return b.orders(); })
                    .size(),
                  1u);
}

CAF_TEST(run refuses to publish off loopback without tls naming the option) {
  child_process p{athanor_binary,
                  {"run", "--limit=1", "--publish", "0.0.0.0:0"}};
  CAF_CHECK_EQUAL(p.wait(20s), 78);
  CAF_CHECK_NOT_EQUAL(p.err().find("athanor.remote.publish"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(p.err().find("athanor.remote.insecure=true"),
                      std::string::npos);
}

CAF_TEST(run serves the gateway off loopback with tls and checks its key) {
  temp_dir dir;
  auto pems = transport::make_self_signed({"localhost"});
  auto other = transport::make_self_signed({"localhost"});
  auto cert = dir.write("cert.pem", pems.certificate);
  auto key = dir.write("key.pem", pems.private_key);
  auto wrong = dir.write("wrong.pem", other.private_key);
  std::map<std::string, std::string> env{{"ATHANOR_GATEWAY_KEY", "gk"},
                                         {"ATHANOR_GATEWAY_SECRET", "gs"}};
  auto args = [&](const std::string& key_file) {
    return std::vector<std::string>{"run",
                                    "--limit=3",
                                    "--json",
                                    "--athanor.gateway.address=0.0.0.0",
                                    "--athanor.gateway.certificate=" + cert,
                                    "--athanor.gateway.key=" + key_file};
  };
  child_process ok{athanor_binary, args(key), env};
  CAF_CHECK_EQUAL(ok.wait(20s), 0);
  CAF_CHECK_NOT_EQUAL(ok.err().find("gateway listening on wss://0.0.0.0:"),
                      std::string::npos);
  CAF_CHECK_EQUAL(ok.err().find("insecure_listener"), std::string::npos);
  // The key is read, never shown.
  for (auto& text : {ok.out(), ok.err()})
    CAF_CHECK_EQUAL(text.find("PRIVATE KEY"), std::string::npos);
  child_process refused{athanor_binary, args(wrong), env};
  CAF_CHECK_EQUAL(refused.wait(20s), 78);
  CAF_CHECK_NOT_EQUAL(refused.err().find("athanor.gateway.key"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(refused.err().find("not the private key"),
                      std::string::npos);
}

CAF_TEST(command line mistakes get one clear message and exit 78) {
  struct mistake {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<mistake> cases{
    {{"run", "--symbls", "AAPL"},
     "--symbls: unknown option (did you mean --symbols?); see athanor run "
     "--help"},
    {{"execute", "plan.json", "--jsn"},
     "--jsn: unknown option (did you mean --json?); see athanor execute "
     "--help"},
    {{"run", "--limit", "-1"},
     "--limit: '-1' is not a count (0 or more; 0: no limit)"},
    {{"run", "extra"}, "extra: run takes no arguments (got 'extra')"},
    {{"check-config", "stray"},
     "stray: check-config takes no arguments (got 'stray')"},
    {{"run", "--scheduler.max-thread=2"},
     "scheduler.max-thread: unknown option"},
  };
  for (auto& c : cases) {
    child_process p{athanor_binary, c.args};
    CAF_CHECK_EQUAL(p.wait(10s), 78);
    CAF_CHECK_NOT_EQUAL(p.err().find(c.message), std::string::npos);
    CAF_CHECK_EQUAL(p.err().find("parser_error"), std::string::npos);
  }
}

CAF_TEST(each command has its own help and options may come first) {
  child_process run_help{athanor_binary, {"run", "--help"}};
  CAF_CHECK_EQUAL(run_help.wait(10s), 0);
  CAF_CHECK_EQUAL(run_help.out().rfind("usage: athanor run", 0), 0u);
  CAF_CHECK_EQUAL(run_help.out().find("--athanor.breaker"), std::string::npos);
  child_process help_execute{athanor_binary, {"help", "execute"}};
  CAF_CHECK_EQUAL(help_execute.wait(10s), 0);
  CAF_CHECK_EQUAL(help_execute.out().rfind("usage: athanor execute", 0), 0u);
  child_process everything{athanor_binary, {"--help"}};
  CAF_CHECK_EQUAL(everything.wait(10s), 0);
  CAF_CHECK_NOT_EQUAL(everything.out().find("--athanor.breaker"),
                      std::string::npos);
  child_process first{athanor_binary, {"--json", "run", "--limit=2"}};
  CAF_CHECK_EQUAL(first.wait(20s), 0);
  CAF_CHECK_EQUAL(first.out_lines().size(), 2u);
  // A flag's value after a space is not the command.
  child_process spaced{athanor_binary, {"--limit", "2", "--json", "run"}};
  CAF_CHECK_EQUAL(spaced.wait(20s), 0);
  CAF_CHECK_EQUAL(spaced.out_lines().size(), 2u);
}

CAF_TEST(alpaca py users secret name is accepted) {
  child_process p{athanor_binary, {"check-config"},
                  {{"ALPACA_API_KEY", "PKTEST"},
                   {"ALPACA_SECRET_KEY", "CANARYPYSECRET"}}};
  CAF_CHECK_EQUAL(p.wait(10s), 0);
  CAF_CHECK_NOT_EQUAL(p.err().find("source=ALPACA_API_KEY"), std::string::npos);
  for (auto& text : {p.out(), p.err()})
    CAF_CHECK_EQUAL(text.find("CANARYPYSECRET"), std::string::npos);
}

CAF_TEST(check config refuses a config file with a wrong entry) {
  temp_dir dir;
  auto file = dir.write("athanor.ini", "[athanor.breaker]\n"
                                       "failure-threshold = \"7\"\n");
  child_process p{athanor_binary, {"check-config", "--config-file=" + file}};
  CAF_CHECK_EQUAL(p.wait(10s), 78);
  CAF_CHECK_NOT_EQUAL(p.err().find("athanor.breaker.failure-threshold: line 2 "
                                   "of " + file),
                      std::string::npos);
}

CAF_TEST(run refuses an unprotected gateway or admin off loopback) {
  std::map<std::string, std::string> env{{"ATHANOR_GATEWAY_KEY", "gk"},
                                         {"ATHANOR_GATEWAY_SECRET", "gs"},
                                         {"ATHANOR_ADMIN_TOKEN", "t0ken"}};
  child_process gateway{athanor_binary,
                        {"run", "--limit=1",
                         "--athanor.gateway.address=0.0.0.0"},
                        env};
  CAF_CHECK_EQUAL(gateway.wait(20s), 78);
  CAF_CHECK_NOT_EQUAL(gateway.err().find("athanor.gateway.address"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(gateway.err().find("athanor.gateway.certificate"),
                      std::string::npos);
  child_process admin{athanor_binary,
                      {"run", "--limit=1", "--athanor.admin.address=0.0.0.0"},
                      env};
  CAF_CHECK_EQUAL(admin.wait(20s), 78);
  CAF_CHECK_NOT_EQUAL(admin.err().find("athanor.admin.address"),
                      std::string::npos);
  // Without the token, that is named too.
  env.erase("ATHANOR_ADMIN_TOKEN");
  child_process tokenless{athanor_binary,
                          {"run", "--limit=1",
                           "--athanor.admin.address=0.0.0.0",
                           "--athanor.admin.insecure=true"},
                          env};
  CAF_CHECK_EQUAL(tokenless.wait(20s), 78);
  CAF_CHECK_NOT_EQUAL(tokenless.err().find("ATHANOR_ADMIN_TOKEN"),
                      std::string::npos);
}

CAF_TEST(check config shows the admin token by fingerprint only) {
  child_process p{athanor_binary, {"check-config"},
                  {{"ATHANOR_ADMIN_TOKEN", "CANARYADMINTOKEN"}}};
  CAF_CHECK_EQUAL(p.wait(10s), 0);
  CAF_CHECK_NOT_EQUAL(p.out().find("; admin token: fingerprint "),
                      std::string::npos);
  for (auto& text : {p.out(), p.err()})
    CAF_CHECK_EQUAL(text.find("CANARYADMINTOKEN"), std::string::npos);
}

CAF_TEST(an invalid plan names every bad field and places nothing) {
  temp_dir dir;
  auto plan = dir.write("plan.json", R"({"plan_id": "cli-3", "colour": 1,
    "items": [{"symbol": "AAPL", "side": "buy", "qty": "-1"},
              {"symbol": "MSFT", "side": "hold", "qty": 1}]})");
  child_process p{athanor_binary, {"execute", plan},
                  {{"XDG_STATE_HOME", dir.path}}};
  CAF_CHECK_EQUAL(p.wait(10s), 65);
  CAF_CHECK_NOT_EQUAL(p.err().find("colour"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(p.err().find("items[1].side"), std::string::npos);
  child_process missing{athanor_binary, {"execute", dir.path + "/nope.json"}};
  CAF_CHECK_EQUAL(missing.wait(10s), 66);
}

CAF_TEST(execute with a refused key says so and leaks no secret) {
  temp_dir dir;
  auto plan = dir.write("plan.json", small_plan);
  sim::simulator_options opts;
  sim::simulator sim{opts};
  std::map<std::string, std::string> env{
    {"ALPACA_API_KEY", "CANARYKEY"},
    {"ALPACA_API_SECRET", "CANARYSECRET"},
    {"ALPACA_BASE_URL", "http://127.0.0.1:" + std::to_string(sim.port())},
    {"XDG_STATE_HOME", dir.path},
  };
  child_process p{athanor_binary,
                  {"execute", plan, "--athanor.log.level=debug"}, env};
  CAF_CHECK_EQUAL(p.wait(30s), 77);
  CAF_CHECK_NOT_EQUAL(p.err().find("check ALPACA_API_KEY"), std::string::npos);
  for (auto& text : {p.out(), p.err()}) {
    CAF_CHECK_EQUAL(text.find("CANARYSECRET"), std::string::npos);
    CAF_CHECK_EQUAL(text.find("CANARYKEY"), std::string::npos);
  }
}

CAF_TEST(execute with a good key on an alpaca compatible server) {
  temp_dir dir;
  auto plan = dir.write("plan.json", small_plan);
  sim::simulator_options opts;
  opts.accounts.push_back({"CANARYKEY2", "CANARYSECRET2", {}, 0, true});
  sim::simulator sim{opts};
  std::map<std::string, std::string> env{
    {"ALPACA_API_KEY", "CANARYKEY2"},
    {"ALPACA_API_SECRET", "CANARYSECRET2"},
    {"ALPACA_BASE_URL", "http://127.0.0.1:" + std::to_string(sim.port())},
    {"XDG_STATE_HOME", dir.path},
  };
  child_process p{athanor_binary,
                  {"execute", plan, "--athanor.log.level=debug",
                   "--athanor.log.format=json"},
                  env};
  CAF_CHECK_EQUAL(p.wait(30s), 0);
  CAF_CHECK(std::ifstream{dir.path + "/athanor/journal.db"}.good());
  for (auto& text : {p.out(), p.err()}) {
    CAF_CHECK_EQUAL(text.find("CANARYSECRET2"), std::string::npos);
    CAF_CHECK_EQUAL(text.find("CANARYKEY2"), std::string::npos);
  }
  // Every line of the plan's flow carries its correlation id.
  CAF_CHECK_GREATER(count_of(p.err(), "\"correlation_id\":\"cli-1\""), 5u);
}

namespace {

// The port of "<what> listening on <scheme>://127.0.0.1:PORT" (or of
// "<key>=http://127.0.0.1:PORT") in a log; 0 if absent.
uint16_t port_after(const std::string& log, const std::string& marker) {
  auto at = log.find(marker);
  if (at == std::string::npos)
    return 0;
  auto colon = log.find("127.0.0.1:", at);
  if (colon == std::string::npos)
    return 0;
  return static_cast<uint16_t>(std::atoi(log.c_str() + colon + 10));
}

// A metric's value in Prometheus text ("" if the line is missing).
std::string metric_line(const std::string& text, const std::string& prefix) {
  for (auto at = text.find(prefix); at != std::string::npos;
       at = text.find(prefix, at + 1))
    if (at == 0 || text[at - 1] == '\n')
      return text.substr(at, text.find('\n', at) - at);
  return "";
}

} // namespace

CAF_TEST(every metric family of a full run has help and a type) {
  child_process p{athanor_binary,
                  {"run", "--symbols=AAPL", "--json", "--publish",
                   "127.0.0.1:0"},
                  {{"ATHANOR_GATEWAY_KEY", "GWKEY"},
                   {"ATHANOR_GATEWAY_SECRET", "GWSECRET"}}};
  CAF_REQUIRE(p.wait_for_lines(3, 20s));
  auto admin = port_after(p.err(), "admin listening on");
  CAF_REQUIRE(admin != 0);
  auto res = http_call(admin, "GET", "/metrics");
  CAF_REQUIRE_EQUAL(res.status, 200);
  CAF_CHECK_EQUAL(res.headers["server"], "athanor");
  std::istringstream lines{res.body};
  std::string previous;
  size_t families = 0;
  for (std::string line; std::getline(lines, line); previous = line) {
    if (line.rfind("# TYPE ", 0) != 0)
      continue;
    ++families;
    auto name = line.substr(7, line.find(' ', 7) - 7);
    if (previous.rfind("# HELP " + name + " ", 0) != 0)
      CAF_ERROR("no HELP for " << name);
  }
  CAF_MESSAGE(families << " metric families");
  CAF_CHECK_GREATER(families, 60u);
  for (auto family : {"athanor_build_info{", "process_resident_memory_bytes ",
                      "process_cpu_seconds_total ", "process_open_fds ",
                      "process_start_time_seconds ",
                      "# TYPE athanor_session_lag_seconds histogram\n",
                      "athanor_session_lag_seconds_bucket{",
                      "athanor_subscriber_lag_seconds_count{"})
    CAF_CHECK_NOT_EQUAL(res.body.find(family), std::string::npos);
  p.signal(SIGINT);
  CAF_CHECK_EQUAL(p.wait(10s), 0);
}

CAF_TEST(run relays trade updates on the gateway and reports the desk) {
  child_process p{athanor_binary,
                  {"run", "--symbols=AAPL", "--json"},
                  {{"ATHANOR_GATEWAY_KEY", "GWKEY"},
                   {"ATHANOR_GATEWAY_SECRET", "GWSECRET"}}};
  CAF_REQUIRE(p.wait_for_lines(3, 20s));
  auto admin = port_after(p.err(), "admin listening on");
  auto gateway = port_after(p.err(), "gateway listening on");
  auto broker = port_after(p.err(), "trading_endpoint=");
  CAF_REQUIRE(admin != 0 && gateway != 0 && broker != 0);
  CAF_CHECK_NOT_EQUAL(p.err().find("paths=\"/v2/iex /stream\""),
                      std::string::npos);
  // An Alpaca trading-stream client at the gateway.
  ws_client client{gateway, "/stream"};
  CAF_REQUIRE(client.open());
  client.send(protocol::encode_authenticate(
                {secret{"GWKEY"}, secret{"GWSECRET"}}),
              false);
  auto authorized = client.read(5s);
  CAF_REQUIRE(authorized);
  CAF_CHECK_EQUAL(authorized->data,
                  protocol::encode_authorization(true, "authenticate"));
  client.send(protocol::encode_listen({"trade_updates"}), false);
  auto listening = client.read(10s);
  CAF_REQUIRE(listening);
  CAF_CHECK_EQUAL(listening->data,
                  protocol::encode_listening({"trade_updates"}));
  // Somebody places an order on the account (here: straight at the
  // simulator's REST API); its updates come through the engine.
  auto placed = http_call(
    broker, "POST", "/v2/orders",
    R"({"symbol":"AAPL","qty":"3","side":"buy","type":"market",)"
    R"("time_in_force":"day","client_order_id":"cli-gw-1"})",
    {{"APCA-API-KEY-ID", sim::default_key},
     {"APCA-API-SECRET-KEY", sim::default_secret},
     {"Content-Type", "application/json"}});
  CAF_REQUIRE_EQUAL(placed.status, 200);
  std::vector<std::string> events;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline
         && (events.empty() || events.back() != "fill")) {
    auto frame = client.read(5s);
    if (!frame)
      break;
    protocol::trading_message msg;
    protocol::decode_problem problem;
    CAF_REQUIRE(protocol::decode_trading_message(frame->data, msg, problem));
    if (msg.kind == protocol::trading_message::trade_update
        && msg.update.subject.client_order_id == "cli-gw-1")
      events.push_back(msg.update.event_text);
  }
  CAF_CHECK_EQUAL(caf::deep_to_string(events), R"(["new", "fill"])");
  // The admin knows the trading stream and the desk's figures.
  auto ready = http_call(admin, "GET", "/readyz");
  CAF_CHECK_EQUAL(ready.status, 200);
  CAF_CHECK_NOT_EQUAL(ready.body.find("\"name\":\"trading\""),
                      std::string::npos);
  auto metrics = http_call(admin, "GET", "/metrics").body;
  for (auto name : {"athanor_trading_stream_ready{",
                    "athanor_rest_requests_total{",
                    "athanor_executor_running_plans{",
                    "athanor_executor_items_ended_total{",
                    "athanor_breaker_state{",
                    "athanor_gateway_trade_updates_total ",
                    "athanor_gateway_trade_listeners ",
                    "athanor_supervisor_child_running{"})
  {
    CAF_MESSAGE("metric " << name);
    CAF_CHECK(!metric_line(metrics, name).empty());
  }
  CAF_CHECK(metric_line(metrics, "athanor_trading_stream_ready{").back()
            == '1');
  CAF_CHECK_EQUAL(metric_line(metrics, "athanor_gateway_trade_listeners "),
                  "athanor_gateway_trade_listeners 1");
  p.signal(SIGINT);
  CAF_CHECK_EQUAL(p.wait(5s), 0);
}

CAF_TEST(run leaves the trading stream alone when told to) {
  child_process p{athanor_binary,
                  {"run", "--symbols=AAPL", "--json",
                   "--athanor.executor.in-run=false"},
                  {{"ATHANOR_GATEWAY_KEY", "GWKEY"},
                   {"ATHANOR_GATEWAY_SECRET", "GWSECRET"}}};
  CAF_REQUIRE(p.wait_for_lines(3, 20s));
  auto admin = port_after(p.err(), "admin listening on");
  auto gateway = port_after(p.err(), "gateway listening on");
  CAF_REQUIRE(admin != 0 && gateway != 0);
  ws_client client{gateway, "/stream"};
  CAF_CHECK(!client.open());
  CAF_CHECK_EQUAL(client.status(), 404);
  auto metrics = http_call(admin, "GET", "/metrics").body;
  CAF_CHECK(metric_line(metrics, "athanor_trading_stream_ready{").empty());
  CAF_CHECK_EQUAL(p.err().find("trading_session"), std::string::npos);
  p.signal(SIGINT);
  CAF_CHECK_EQUAL(p.wait(5s), 0);
}
