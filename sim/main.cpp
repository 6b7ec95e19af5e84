// athanor-sim: an Alpaca-compatible server on one loopback port, for tests,
// benchmarks and offline development. See --help.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include "sim/simulator.hpp"
#include "tape/tape_file.hpp"
#include "transport/tls.hpp"

namespace {

volatile std::sig_atomic_t stop_requested = 0;

void on_signal(int) {
  stop_requested = 1;
}

const char* help = R"(usage: athanor-sim [options]

Serves Alpaca's market-data stream on /v2/{iex,sip,delayed_sip,test} and
/v1beta3/crypto/{us,us-1,eu-1} (JSON or MessagePack by the upgrade's
Content-Type), the trading REST API under /v2 (account, positions, orders),
the order-update stream on /stream, and a control endpoint:
  POST /sim/faults/{close,reset,stall,malformed,storm406,storm429,delay}?ms=N
  POST /sim/faults/rest500?count=N[&after=1]   (after=1: do it, then answer 500)
  POST /sim/faults/rest_slow?count=N&ms=M      (do it, answer after M ms)
  POST /sim/faults/stream_reset
  POST /sim/faults/tls_refuse?ms=N             (with --tls)
  GET  /sim/stats
Prints "listening ws://ADDRESS:PORT" (wss:// with --tls) once it accepts
connections.

options:
  --port=N                 port, 0 = any free port            [0]
  --address=A              bind address                       [127.0.0.1]
  --key=K --secret=S       the accepted credentials           [SIMKEY / SIMSECRET]
  --feeds=a,b              feeds the key's plan includes      [all]
  --symbol-limit=N         trade+quote symbols allowed, 0 = no limit [0]
  --no-wildcard            refuse "*" for trades and quotes
  --rate=R                 records per second                 [1000]
  --tick-ms=N              batching interval                  [10]
  --max-batch=N            records per frame                  [100]
  --bar-seconds=N          bar interval                       [60]
  --auth-timeout-ms=N      time allowed to authenticate       [10000]
  --ghost-ms=N             slot held after an unclean drop    [0]
  --stall-hold-ms=N        a stalled connection is dropped (its slot
                           freed) this long after the stall, 0 = never [30000]
  --max-queued-bytes=N     slow-client buffer before 407      [8388608]
  --max-upgrades=N         upgrades per second before 429, 0 = no limit [0]
  --no-deflate             do not offer permessage-deflate
  --tls                    serve wss:// and https:// only; without --tls-cert
                           a self-signed certificate for localhost and
                           127.0.0.1 is made at start
  --tls-cert=F --tls-key=F the certificate chain and key (PEM files)
  --tls-cert-out=F         write the certificate in use to F (clients
                           trust it as their CA file)
  --scenario=F             apply the timed faults in F (see sim/scenario.hpp:
                           "2s reset", "8s storm406 3s", "12s rest500 count=3")
  --replay=F               send the recorded frames in F (one Alpaca JSON
                           frame per line) instead of the generated tape
  --replay-tape=F          a fast source: the data frames of an athanor
                           tape (run --record), encoded once, sent looping
                           to every subscribed client as fast as it reads
  --seed=N                 tape seed                          [1]
  --requests-per-minute=N  REST rate limit per key, 0 = off   [200]
  --cash=D                 starting cash per account          [100000]
  --partial-fills          market orders fill in two steps
  --fill-delay-ms=N        time from acceptance to fill       [20]
  --binary-trading-frames  trade updates in binary frames (paper style)
  --accept-reused-client-order-ids
                           place a POST whose client_order_id was used
                           before (count duplicates instead of refusing)
)";

std::string read_file(const std::string& path) {
  std::ifstream in{path};
  if (!in)
    throw std::runtime_error("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool option(const char* arg, const char* name, std::string& value) {
  auto n = std::strlen(name);
  if (std::strncmp(arg, name, n) != 0 || arg[n] != '=')
    return false;
  value = arg + n + 1;
  return true;
}

} // namespace

int main(int argc, char** argv) {
  using namespace athanor::sim;
  simulator_options opts;
  sim_account account{default_key, default_secret, {}, 0, true};
  bool tls = false;
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_cert_out;
  std::string scenario_file;
  std::string replay_file;
  std::string replay_tape;
  for (int i = 1; i < argc; ++i) {
    std::string v;
    auto arg = argv[i];
    auto ms = [&v] { return std::chrono::milliseconds{std::atoll(v.c_str())}; };
    if (std::strcmp(arg, "--help") == 0 || std::strcmp(arg, "-h") == 0) {
      std::fputs(help, stdout);
      return 0;
    } else if (option(arg, "--port", v)) {
      opts.listen.port = static_cast<uint16_t>(std::atoi(v.c_str()));
    } else if (option(arg, "--address", v)) {
      opts.listen.address = v;
    } else if (option(arg, "--key", v)) {
      account.key = v;
    } else if (option(arg, "--secret", v)) {
      account.secret = v;
    } else if (option(arg, "--feeds", v)) {
      size_t pos = 0;
      while (pos <= v.size()) {
        auto end = v.find(',', pos);
        account.feeds.insert(v.substr(pos, end - pos));
        if (end == std::string::npos)
          break;
        pos = end + 1;
      }
    } else if (option(arg, "--symbol-limit", v)) {
      account.symbol_limit = std::strtoull(v.c_str(), nullptr, 10);
    } else if (std::strcmp(arg, "--no-wildcard") == 0) {
      account.wildcard = false;
    } else if (option(arg, "--rate", v)) {
      opts.market.records_per_second = std::atof(v.c_str());
    } else if (option(arg, "--tick-ms", v)) {
      opts.market.tick = ms();
    } else if (option(arg, "--max-batch", v)) {
      opts.market.max_batch = std::strtoull(v.c_str(), nullptr, 10);
    } else if (option(arg, "--bar-seconds", v)) {
      opts.market.bar_interval = std::chrono::seconds{std::atoll(v.c_str())};
    } else if (option(arg, "--auth-timeout-ms", v)) {
      opts.market.auth_timeout = ms();
    } else if (option(arg, "--ghost-ms", v)) {
      opts.market.ghost_period = ms();
    } else if (option(arg, "--stall-hold-ms", v)) {
      opts.market.stall_hold = ms();
    } else if (option(arg, "--max-queued-bytes", v)) {
      opts.market.max_queued_bytes = std::strtoull(v.c_str(), nullptr, 10);
    } else if (option(arg, "--max-upgrades", v)) {
      opts.market.max_upgrades_per_second = static_cast<uint32_t>(
        std::atoi(v.c_str()));
    } else if (std::strcmp(arg, "--tls") == 0) {
      tls = true;
    } else if (option(arg, "--tls-cert", v)) {
      tls_cert_file = v;
    } else if (option(arg, "--tls-key", v)) {
      tls_key_file = v;
    } else if (option(arg, "--tls-cert-out", v)) {
      tls_cert_out = v;
    } else if (option(arg, "--scenario", v)) {
      scenario_file = v;
    } else if (option(arg, "--replay-tape", v)) {
      replay_tape = v;
    } else if (option(arg, "--replay", v)) {
      replay_file = v;
    } else if (std::strcmp(arg, "--no-deflate") == 0) {
      opts.market.deflate = false;
    } else if (option(arg, "--seed", v)) {
      opts.market.seed = std::strtoull(v.c_str(), nullptr, 10);
    } else if (option(arg, "--requests-per-minute", v)) {
      opts.broker.requests_per_minute = static_cast<uint32_t>(
        std::atoi(v.c_str()));
    } else if (option(arg, "--cash", v)) {
      opts.broker.starting_cash = v;
    } else if (std::strcmp(arg, "--partial-fills") == 0) {
      opts.broker.partial_fills = true;
    } else if (std::strcmp(arg, "--accept-reused-client-order-ids") == 0) {
      opts.broker.accept_reused_client_order_ids = true;
    } else if (option(arg, "--fill-delay-ms", v)) {
      opts.broker.fill_delay = ms();
    } else if (std::strcmp(arg, "--binary-trading-frames") == 0) {
      opts.broker.binary_frames = true;
    } else {
      std::fprintf(stderr, "athanor-sim: unknown option %s\n\n%s", arg, help);
      return 64;
    }
  }
  if (opts.market.tick.count() <= 0 || opts.market.bar_interval.count() <= 0
      || opts.market.records_per_second < 0) {
    std::fprintf(stderr, "athanor-sim: --tick-ms, --bar-seconds must be "
                         "positive and --rate not negative\n");
    return 64;
  }
  opts.accounts.push_back(account);
  std::vector<scenario_step> scenario;
  try {
    std::string error;
    if (!scenario_file.empty()) {
      auto steps = parse_scenario(read_file(scenario_file), error);
      if (!steps)
        throw std::runtime_error(scenario_file + ": " + error);
      scenario = std::move(*steps);
    }
    if (!replay_file.empty()) {
      auto tape = parse_recording(read_file(replay_file), error);
      if (!tape)
        throw std::runtime_error(replay_file + ": " + error);
      opts.market.replay = std::move(*tape);
    }
    if (!replay_tape.empty()) {
      auto tape = athanor::load_tape_files({replay_tape});
      if (tape.problem)
        throw std::runtime_error(*tape.problem);
      auto batches = batches_of_tape(tape.events, error);
      if (!batches)
        throw std::runtime_error(replay_tape + ": " + error);
      opts.market.full_speed = std::move(*batches);
    }
  } catch (const std::runtime_error& e) {
    std::fprintf(stderr, "athanor-sim: %s\n", e.what());
    return 66;
  }
  if (tls || !tls_cert_file.empty()) {
    try {
      if (tls_cert_file.empty()) {
        auto pems = athanor::transport::make_self_signed(
          {"localhost", "127.0.0.1"});
        opts.listen.tls_certificate_pem = pems.certificate;
        opts.listen.tls_private_key_pem = pems.private_key;
      } else {
        opts.listen.tls_certificate_pem = read_file(tls_cert_file);
        opts.listen.tls_private_key_pem = read_file(tls_key_file);
      }
      if (!tls_cert_out.empty())
        std::ofstream{tls_cert_out} << opts.listen.tls_certificate_pem;
    } catch (const std::runtime_error& e) {
      std::fprintf(stderr, "athanor-sim: %s\n", e.what());
      return 66;
    }
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  try {
    auto address = opts.listen.address;
    auto opts_tls = !opts.listen.tls_certificate_pem.empty();
    simulator sim{std::move(opts)};
    auto scheme = opts_tls ? "wss" : "ws";
    std::printf("listening %s://%s:%u\n", scheme, address.c_str(),
                static_cast<unsigned>(sim.port()));
    std::fflush(stdout);
    sim.run_scenario(std::move(scenario));
    while (stop_requested == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "athanor-sim: cannot listen: %s\n", e.what());
    return 69;
  }
  return 0;
}
