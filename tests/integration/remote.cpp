#define CAF_SUITE integration.remote
#include "caf/test/unit_test.hpp"

#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "../sim/http_client.hpp"
#include "process.hpp"
#include "transport/tls.hpp"

using namespace athanor;
using namespace athanor::testing;
using namespace std::chrono_literals;

// Three kinds of process on loopback: an engine publishing over BASP
// (`athanor run --publish`) and consumers attached to it (`athanor
// attach`), each a real `athanor` binary. Their stdout goes to files, so no
// pipe ever blocks a printer.

namespace {

const std::string athanor_binary = ATHANOR_BINARY;

std::vector<std::string> lines_of(const std::string& file) {
  std::ifstream in{file};
  std::vector<std::string> result;
  for (std::string line; std::getline(in, line);)
    result.push_back(line);
  return result;
}

// Waits until `file` holds at least `n` lines.
bool wait_for_file_lines(const std::string& file, size_t n,
                         std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (lines_of(file).size() < n) {
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

bool is_record(const std::string& line) {
  return line.rfind("{\"T\":\"q\",", 0) == 0
         || line.rfind("{\"T\":\"t\",", 0) == 0;
}

// Trades carry the simulator's increasing trade id ("i"): per consumer
// they must arrive in order. Returns whether they do in lines [from, to).
bool trades_in_order(const std::vector<std::string>& lines, size_t from,
                     size_t to) {
  long long last = -1;
  size_t trades = 0;
  for (size_t i = from; i < to && i < lines.size(); ++i) {
    if (lines[i].rfind("{\"T\":\"t\",", 0) != 0)
      continue;
    auto at = lines[i].find("\"i\":");
    if (at == std::string::npos)
      return false;
    auto id = std::atoll(lines[i].c_str() + at + 4);
    if (id <= last)
      return false;
    last = id;
    ++trades;
  }
  return trades > 0;
}

// The admin port from "admin listening on http://127.0.0.1:PORT".
uint16_t admin_port(const std::string& log) {
  auto at = log.find("admin listening on http://127.0.0.1:");
  if (at == std::string::npos)
    return 0;
  return static_cast<uint16_t>(std::atoi(
    log.c_str() + at + std::string{"admin listening on http://127.0.0.1:"}.size()));
}

bool is_gap(const std::string& line) {
  return line.rfind("{\"T\":\"gap\",", 0) == 0;
}

// `athanor ARGS > out_file`, stderr captured.
std::unique_ptr<child_process> start(const std::vector<std::string>& args,
                                     const std::string& out_file) {
  std::string command = "exec '" + athanor_binary + "'";
  for (auto& arg : args)
    command += " '" + arg + "'";
  command += " > '" + out_file + "'";
  return std::make_unique<child_process>("/bin/sh",
                                         std::vector<std::string>{"-c",
                                                                  command});
}

// The port after "publish (...) listening on 127.0.0.1:" in a log.
uint16_t published_port(const std::string& log) {
  auto at = log.find("listening on 127.0.0.1:", log.find("publish ("));
  if (at == std::string::npos)
    return 0;
  return static_cast<uint16_t>(
    std::atoi(log.c_str() + at + std::string{"listening on 127.0.0.1:"}.size()));
}

std::unique_ptr<child_process>
start_engine(const temp_dir& dir, const std::string& publish,
             const std::vector<std::string>& more = {}) {
  std::vector<std::string> args{"run", "--symbols=AAPL", "--json",
                                "--publish", publish};
  args.insert(args.end(), more.begin(), more.end());
  return start(args, dir.path + "/engine.out");
}

std::unique_ptr<child_process>
start_consumer(const temp_dir& dir, const std::string& name, uint16_t port,
               const std::vector<std::string>& more = {}) {
  std::vector<std::string> args{"attach", "127.0.0.1:" + std::to_string(port),
                                "--symbols=AAPL", "--json"};
  args.insert(args.end(), more.begin(), more.end());
  return start(args, dir.path + "/" + name + ".out");
}

} // namespace

CAF_TEST(consumers attach and a killed one is released and the others
           re-attach after an engine restart with a gap first) {
  temp_dir dir;
  auto engine = start_engine(dir, "127.0.0.1:0");
  CAF_REQUIRE(engine->wait_for_err("publish (BASP) listening on", 20s));
  auto port = published_port(engine->err());
  CAF_REQUIRE_NOT_EQUAL(port, 0);
  auto a = start_consumer(dir, "a", port);
  auto b = start_consumer(dir, "b", port);
  auto a_out = dir.path + "/a.out";
  auto b_out = dir.path + "/b.out";
  CAF_REQUIRE(wait_for_file_lines(a_out, 20, 20s));
  if (!wait_for_file_lines(b_out, 20, 20s)) {
    b->wait_for_err("never", 100ms);
    CAF_FAIL("b: " << b->err());
  }
  for (auto& file : {a_out, b_out})
    for (auto& line : lines_of(file))
      CAF_CHECK(is_record(line));
  for (auto& file : {a_out, b_out}) {
    auto lines = lines_of(file);
    CAF_CHECK(trades_in_order(lines, 0, lines.size()));
  }
  CAF_REQUIRE(engine->wait_for_err("admin listening on", 10s));
  auto admin = admin_port(engine->err());
  CAF_REQUIRE_NOT_EQUAL(admin, 0);
  auto metrics = http_call(admin, "GET", "/metrics").body;
  CAF_CHECK(metrics.find("\nathanor_remote_subscribers 2\n")
            != std::string::npos);
  // A consumer dies without a word: its node goes away, its share goes.
  a->signal(SIGKILL);
  CAF_CHECK_EQUAL(a->wait(5s), 128 + SIGKILL);
  CAF_CHECK(engine->wait_for_err("remote_released", 10s));
  CAF_CHECK(engine->err().find("remote_link_unreachable") != std::string::npos);
  metrics = http_call(admin, "GET", "/metrics").body;
  CAF_CHECK(metrics.find("\nathanor_remote_subscribers 1\n")
            != std::string::npos);
  // The engine dies; B keeps trying; a new engine on the same port gets it
  // back, and B's first line after the loss is the gap marker.
  engine->signal(SIGKILL);
  engine->wait(5s);
  std::this_thread::sleep_for(500ms);
  auto before = lines_of(b_out).size();
  engine = start_engine(dir, "127.0.0.1:" + std::to_string(port));
  CAF_REQUIRE(engine->wait_for_err("publish (BASP) listening on", 20s));
  CAF_REQUIRE(wait_for_file_lines(b_out, before + 10, 20s));
  auto lines = lines_of(b_out);
  CAF_CHECK(is_gap(lines[before]));
  CAF_CHECK(lines[before].find("\"reason\":\"reconnect\"") != std::string::npos);
  for (size_t i = before + 1; i < lines.size(); ++i)
    CAF_CHECK(is_record(lines[i]));
  CAF_CHECK(trades_in_order(lines, before + 1, lines.size()));
  CAF_CHECK(b->wait_for_err("attaches=2", 5s));
  // A new consumer attaches to the new engine too.
  auto c = start_consumer(dir, "c", port, {"--limit=5"});
  CAF_CHECK_EQUAL(c->wait(20s), 0);
  CAF_CHECK_EQUAL(lines_of(dir.path + "/c.out").size(), 5u);
  b->signal(SIGINT);
  CAF_CHECK_EQUAL(b->wait(5s), 0);
  engine->signal(SIGINT);
  CAF_CHECK_EQUAL(engine->wait(5s), 0);
}

CAF_TEST(over TLS a trusted peer attaches and an untrusted one is refused) {
  temp_dir dir;
  auto trusted = transport::make_self_signed({"localhost", "127.0.0.1"});
  auto stranger = transport::make_self_signed({"localhost", "127.0.0.1"});
  auto cert = dir.write("cert.pem", trusted.certificate);
  auto key = dir.write("key.pem", trusted.private_key);
  auto other_cert = dir.write("other-cert.pem", stranger.certificate);
  auto other_key = dir.write("other-key.pem", stranger.private_key);
  auto tls = [](const std::string& c, const std::string& k,
                const std::string& ca) {
    return std::vector<std::string>{"--athanor.remote.certificate=" + c,
                                    "--athanor.remote.key=" + k,
                                    "--athanor.remote.ca-file=" + ca};
  };
  auto engine = start_engine(dir, "127.0.0.1:0", tls(cert, key, cert));
  CAF_REQUIRE(engine->wait_for_err("publish (BASP over TLS) listening on",
                                   20s));
  auto port = published_port(engine->err());
  CAF_REQUIRE_NOT_EQUAL(port, 0);
  auto good_args = tls(cert, key, cert);
  good_args.push_back("--limit=5");
  auto good = start_consumer(dir, "good", port, good_args);
  CAF_CHECK_EQUAL(good->wait(20s), 0);
  CAF_CHECK_EQUAL(lines_of(dir.path + "/good.out").size(), 5u);
  // A stranger's certificate does not verify: no data, and it gives up.
  auto bad_args = tls(other_cert, other_key, other_cert);
  bad_args.push_back("--athanor.remote.max-attempts=2");
  auto bad = start_consumer(dir, "bad", port, bad_args);
  CAF_CHECK_EQUAL(bad->wait(20s), 69);
  CAF_CHECK(lines_of(dir.path + "/bad.out").empty());
  CAF_MESSAGE("refused: " << bad->err().substr(bad->err().rfind("athanor:")));
  // Plain BASP is refused by a TLS engine as well.
  auto plain = start_consumer(dir, "plain", port,
                              {"--athanor.remote.max-attempts=2"});
  CAF_CHECK_EQUAL(plain->wait(20s), 69);
  CAF_CHECK(lines_of(dir.path + "/plain.out").empty());
  engine->signal(SIGINT);
  CAF_CHECK_EQUAL(engine->wait(5s), 0);
}

CAF_TEST(execute on an engine is refused unless it allows remote plans) {
  temp_dir dir;
  auto engine = start_engine(dir, "127.0.0.1:0");
  CAF_REQUIRE(engine->wait_for_err("publish (BASP) listening on", 20s));
  auto at = "127.0.0.1:" + std::to_string(published_port(engine->err()));
  auto plan_file = dir.write("plan.json", R"({"plan_id": "remote-refused",
    "items": [{"symbol": "AAPL", "side": "buy", "qty": 1}]})");
  auto refused = start({"execute", plan_file, "--engine", at},
                       dir.path + "/refused.out");
  CAF_CHECK_EQUAL(refused->wait(30s), 77);
  CAF_CHECK(engine->wait_for_err("remote_plan_refused", 5s));
  engine->signal(SIGINT);
  CAF_CHECK_EQUAL(engine->wait(5s), 0);
}

CAF_TEST(over TLS only an allow listed certificate executes plans) {
  temp_dir dir;
  auto engine_pems = transport::make_self_signed({"localhost", "127.0.0.1"});
  auto desk = transport::make_self_signed({"desk-1"});
  auto observer = transport::make_self_signed({"observer"});
  // One CA file that all three verify against: each may attach.
  auto ca = dir.write("ca.pem", engine_pems.certificate + desk.certificate
                                  + observer.certificate);
  auto tls = [&](const std::string& name, const transport::pem_pair& who) {
    return std::vector<std::string>{
      "--athanor.remote.certificate=" + dir.write(name + "-cert.pem",
                                                  who.certificate),
      "--athanor.remote.key=" + dir.write(name + "-key.pem", who.private_key),
      "--athanor.remote.ca-file=" + ca};
  };
  auto desk_fingerprint = transport::certificate_fingerprint(desk.certificate);
  auto engine_args = tls("engine", engine_pems);
  engine_args.push_back("--athanor.remote.execute=true");
  engine_args.push_back("--athanor.remote.execute-peers=" + desk_fingerprint);
  auto engine = start_engine(dir, "127.0.0.1:0", engine_args);
  CAF_REQUIRE(engine->wait_for_err("publish (BASP over TLS) listening on",
                                   20s));
  auto at = "127.0.0.1:" + std::to_string(published_port(engine->err()));
  auto plan_file = dir.write("plan.json", R"({"plan_id": "remote-allowed",
    "items": [{"symbol": "AAPL", "side": "buy", "qty": 1}]})");
  auto execute_as = [&](const std::string& name,
                        const transport::pem_pair& who) {
    std::vector<std::string> args{"execute", plan_file, "--json", "--engine",
                                  at};
    for (auto& x : tls(name, who))
      args.push_back(x);
    return start(args, dir.path + "/" + name + ".out");
  };
  // Trusted to attach, not to trade: refused, and the engine names it.
  auto refused = execute_as("observer", observer);
  CAF_CHECK_EQUAL(refused->wait(30s), 77);
  CAF_CHECK(engine->wait_for_err("remote_plan_refused", 5s));
  CAF_CHECK_NOT_EQUAL(
    engine->err().find(transport::certificate_fingerprint(
      observer.certificate)),
    std::string::npos);
  CAF_CHECK_NOT_EQUAL(refused->err().find("execute-peers"), std::string::npos);
  auto allowed = execute_as("desk", desk);
  CAF_CHECK_EQUAL(allowed->wait(30s), 0);
  auto out = lines_of(dir.path + "/desk.out");
  CAF_REQUIRE_EQUAL(out.size(), 1u);
  CAF_CHECK(out[0].find("\"replayed\":false") != std::string::npos);
  CAF_CHECK(out[0].find("\"succeeded\":true") != std::string::npos);
  engine->signal(SIGINT);
  CAF_CHECK_EQUAL(engine->wait(5s), 0);
}

CAF_TEST(execute sends a plan to a running engine and asking again replays) {
  temp_dir dir;
  auto engine = start_engine(dir, "127.0.0.1:0",
                             {"--athanor.remote.execute=true"});
  CAF_REQUIRE(engine->wait_for_err("publish (BASP) listening on", 20s));
  auto at = "127.0.0.1:" + std::to_string(published_port(engine->err()));
  auto plan_file = dir.write("plan.json", R"({"plan_id": "remote-cli-1",
    "items": [{"symbol": "AAPL", "side": "buy", "qty": 3},
              {"symbol": "MSFT", "side": "buy", "qty": 1}]})");
  auto first = start({"execute", plan_file, "--json", "--engine", at},
                     dir.path + "/first.out");
  CAF_CHECK_EQUAL(first->wait(30s), 0);
  auto out = lines_of(dir.path + "/first.out");
  CAF_REQUIRE_EQUAL(out.size(), 1u);
  CAF_CHECK(out[0].find("\"plan_id\":\"remote-cli-1\"") != std::string::npos);
  CAF_CHECK(out[0].find("\"replayed\":false") != std::string::npos);
  // The engine executed it: its log names the plan.
  CAF_CHECK(engine->wait_for_err("remote_plan", 5s));
  auto again = start({"execute", plan_file, "--json", "--engine=" + at},
                     dir.path + "/again.out");
  CAF_CHECK_EQUAL(again->wait(30s), 0);
  out = lines_of(dir.path + "/again.out");
  CAF_REQUIRE_EQUAL(out.size(), 1u);
  CAF_CHECK(out[0].find("\"replayed\":true") != std::string::npos);
  // Nobody there: unavailable (69).
  auto nowhere = start({"execute", plan_file, "--engine", "127.0.0.1:1"},
                       dir.path + "/nowhere.out");
  CAF_CHECK_EQUAL(nowhere->wait(30s), 69);
  engine->signal(SIGINT);
  CAF_CHECK_EQUAL(engine->wait(5s), 0);
}
