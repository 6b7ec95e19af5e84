#define CAF_SUITE integration.cli
#include "caf/test/unit_test.hpp"

#include <csignal>

#include "process.hpp"
#include "sim/simulator.hpp"

using namespace athanor;
using namespace athanor::testing;
using namespace std::chrono_literals;

namespace {

const std::string athanor_binary = ATHANOR_BINARY;

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos;
       pos = text.find(what, pos + 1))
    ++n;
  return n;
}

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
  std::map<std::string, std::string> env{
    {"ALPACA_API_KEY", "CANARYKEY"},
    {"ALPACA_API_SECRET", "CANARYSECRET"},
    {"ALPACA_DATA_STREAM_URL",
     "ws://127.0.0.1:" + std::to_string(sim.port())},
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
