#define CAF_SUITE integration.tape
#include "caf/test/unit_test.hpp"

#include <fstream>
#include <map>
#include <sstream>

#include "process.hpp"
#include "sim/scenario.hpp"
#include "sim/simulator.hpp"

using namespace athanor;
using namespace athanor::testing;
using namespace std::chrono_literals;

namespace {

const std::string athanor_binary = ATHANOR_BINARY;

// A live printer behind on a loaded machine gets conflated quotes; a
// replay's never does (see app/replay.cpp). Unbounded, both print all.
const std::string unbounded_printer
  = "--athanor.registry.max-in-flight=1000000000";

std::string read_file(const std::string& path) {
  std::ifstream in{path, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream{path, std::ios::binary} << bytes;
}

// A live run against a simulator that resets, sends garbage and refuses
// with 406, recorded to `tape`; returns its output.
std::string record_faulty_run(const temp_dir& dir, const std::string& tape,
                              const std::string& encoding) {
  sim::simulator_options opts;
  sim::simulator sim{opts};
  std::string problem;
  auto steps = sim::parse_scenario("300ms reset\n"
                                   "900ms malformed\n"
                                   "1200ms storm406 600ms\n"
                                   "1500ms close\n",
                                   problem);
  CAF_REQUIRE(steps);
  auto port = std::to_string(sim.port());
  std::map<std::string, std::string> env{
    {"ALPACA_API_KEY", sim::default_key},
    {"ALPACA_API_SECRET", sim::default_secret},
    {"ALPACA_DATA_STREAM_URL", "ws://127.0.0.1:" + port},
    {"ALPACA_BASE_URL", "http://127.0.0.1:" + port},
    {"XDG_STATE_HOME", dir.path},
  };
  child_process live{athanor_binary,
                     {"run", "--json", "--limit=2500", "--record", tape,
                      "--athanor.admin.port=0",
                      "--athanor.stream.encoding=" + encoding,
                      "--athanor.reconnect.initial-delay=100ms",
                      unbounded_printer},
                     env};
  sim.run_scenario(std::move(*steps));
  CAF_CHECK_EQUAL(live.wait(60s), 0);
  return live.out();
}

} // namespace

CAF_TEST(a replay of a faulty live session prints what the live run printed) {
  for (auto encoding : {"json", "msgpack"}) {
    CAF_MESSAGE("encoding " << encoding);
    temp_dir dir;
    auto tape = dir.path + "/live.tape";
    auto live = record_faulty_run(dir, tape, encoding);
    // The faults were felt: the output has gap lines between records (in
    // a slow sanitizer build the later faults may find no connection up).
    CAF_CHECK_GREATER_OR_EQUAL(count_of(live, "{\"T\":\"gap\""), 1u);
    CAF_CHECK_EQUAL(count_of(live, "\n"), 2500 + count_of(live, "\"T\":\"gap\""));
    auto bytes = read_file(tape);
    CAF_CHECK_EQUAL(bytes.rfind("ATHTAPE\n", 0), 0u);
    // Credentials never reach the tape.
    CAF_CHECK_EQUAL(bytes.find(sim::default_secret), std::string::npos);
    CAF_CHECK_EQUAL(bytes.find(sim::default_key), std::string::npos);
    for (auto pace : {"fast", "recorded"}) {
      child_process replay{athanor_binary,
                           {"replay", tape, "--json", "--limit=2500",
                            "--pace", pace}};
      CAF_CHECK_EQUAL(replay.wait(60s), 0);
      CAF_CHECK_EQUAL(replay.out(), live);
    }
  }
}

CAF_TEST(a rotated recording replays whole from its files in order) {
  temp_dir dir;
  auto tape = dir.path + "/live.tape";
  child_process live{athanor_binary,
                     {"run", "--json", "--limit=3000", "--record", tape,
                      "--athanor.admin.port=0",
                      "--athanor.record.max-file-bytes=40000",
                      "--athanor.record.max-files=100", unbounded_printer}};
  CAF_REQUIRE_EQUAL(live.wait(60s), 0);
  // Oldest first: FILE.N ... FILE.1 FILE.
  std::vector<std::string> files;
  for (int n = 1; std::ifstream{tape + "." + std::to_string(n)}.good(); ++n)
    files.insert(files.begin(), tape + "." + std::to_string(n));
  CAF_CHECK_GREATER_OR_EQUAL(files.size(), 2u);
  files.push_back(tape);
  for (auto& file : files)
    CAF_CHECK_LESS_OR_EQUAL(read_file(file).size(), 40000u);
  std::vector<std::string> args{"replay"};
  args.insert(args.end(), files.begin(), files.end());
  args.insert(args.end(), {"--json", "--limit=3000"});
  child_process replay{athanor_binary, args};
  CAF_CHECK_EQUAL(replay.wait(60s), 0);
  CAF_CHECK_EQUAL(replay.out(), live.out());
}

CAF_TEST(a damaged tape replays up to the damage and names its offset) {
  temp_dir dir;
  auto tape = dir.path + "/live.tape";
  auto live = record_faulty_run(dir, tape, "json");
  auto bytes = read_file(tape);
  auto whole_run = [&](const std::string& path) {
    child_process p{athanor_binary, {"replay", path, "--json"}};
    auto code = p.wait(60s);
    return std::make_tuple(code, p.out(), p.err());
  };
  // Cut in the middle of the tape.
  auto cut = dir.path + "/cut.tape";
  write_file(cut, bytes.substr(0, bytes.size() / 2));
  auto [code, out, err] = whole_run(cut);
  CAF_CHECK_EQUAL(code, 65);
  CAF_CHECK_NOT_EQUAL(err.find(cut + ": byte "), std::string::npos);
  CAF_CHECK_NOT_EQUAL(err.find("truncated record"), std::string::npos);
  // What came before the cut is replayed, as it was printed live.
  CAF_CHECK_GREATER(out.size(), 1000u);
  CAF_CHECK_LESS(out.size(), live.size());
  CAF_CHECK_EQUAL(live.compare(0, out.size(), out), 0);
  // A flipped byte three quarters in.
  auto flipped = bytes;
  flipped[bytes.size() * 3 / 4] ^= 0x55;
  auto bad = dir.path + "/flipped.tape";
  write_file(bad, flipped);
  auto [code2, out2, err2] = whole_run(bad);
  CAF_CHECK_EQUAL(code2, 65);
  CAF_CHECK_NOT_EQUAL(err2.find(bad + ": byte "), std::string::npos);
  CAF_CHECK_GREATER(out2.size(), out.size());
  // Not a tape at all, and no file.
  auto [code3, out3, err3] = whole_run(dir.write("notes.txt", "hello"));
  CAF_CHECK_EQUAL(code3, 65);
  CAF_CHECK_NOT_EQUAL(err3.find("byte 0: not an athanor tape"),
                      std::string::npos);
  CAF_CHECK(out3.empty());
  auto [code4, out4, err4] = whole_run(dir.path + "/missing.tape");
  CAF_CHECK_EQUAL(code4, 65);
  CAF_CHECK_NOT_EQUAL(err4.find("missing.tape: cannot read"),
                      std::string::npos);
}

CAF_TEST(replay without a file or with a bad pace says what it wants) {
  child_process none{athanor_binary, {"replay"}};
  CAF_CHECK_EQUAL(none.wait(10s), 78);
  CAF_CHECK_NOT_EQUAL(none.err().find("replay takes the tape file"),
                      std::string::npos);
  child_process pace{athanor_binary, {"replay", "x.tape", "--pace", "slow"}};
  CAF_CHECK_EQUAL(pace.wait(10s), 78);
  CAF_CHECK_NOT_EQUAL(pace.err().find("--pace: 'slow'"), std::string::npos);
  child_process record{athanor_binary, {"run", "--record", "/nonexistent/x"}};
  CAF_CHECK_EQUAL(record.wait(20s), 78);
  CAF_CHECK_NOT_EQUAL(record.err().find("athanor.record.file"),
                      std::string::npos);
}
