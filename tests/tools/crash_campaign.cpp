// athanor-crash: SIGKILLs `athanor execute` at random instants over many
// plans, reruns each until it finishes, and checks the broker afterwards:
// every item placed exactly once (the simulator accepts reused
// client_order_ids, so a blind repeat would show as a second order), and
// every final report equal to the broker's fills. Prints its figures;
// exits 1 on any duplicate, missing order or wrong report.
//
//   athanor-crash [--kills=N] [--plans=P] [--items=K] [--seed=S] [--engine]
//
// --engine: the plans go to an engine (`athanor run --publish`) with
// `execute --engine`, and the kills hit the engine, which owns the journal
// and is started again after each.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>

#include "integration/process.hpp"
#include "tools/campaign.hpp"
#include "protocol/plan.hpp"
#include "sim/simulator.hpp"

using namespace athanor;
using namespace std::chrono_literals;
using testing::child_process;
using namespace athanor::campaign;
using athanor::testing::count_of;

namespace {

struct campaign_options {
  uint32_t kills = 200;
  uint32_t plans = 20;
  uint32_t items = 8;
  uint64_t seed = 0;
  bool engine = false;
};

// An engine publishing on loopback; stdout to /dev/null, stderr (its log)
// to a file, so neither pipe can fill and stall it.
class engine_process {
 public:
  engine_process(std::string dir, std::map<std::string, std::string> env)
      : dir_(std::move(dir)), env_(std::move(env)) {}

  /// Starts it and waits for its port; false if it did not come up.
  bool start() {
    log_ = dir_ + "/engine-" + std::to_string(++starts_) + ".log";
    std::string command = "exec '" ATHANOR_BINARY "' run --json "
                          "--symbols=AAPL --publish 127.0.0.1:0 "
                          "--athanor.remote.execute=true "
                          "--athanor.journal.path='"
                          + dir_ + "/engine.db' "
                          "--athanor.executor.event-timeout=500ms "
                          "--athanor.log.level=info > /dev/null 2> '"
                          + log_ + "'";
    process_ = std::make_unique<child_process>(
      "/bin/sh", std::vector<std::string>{"-c", command}, env_);
    const std::string marker = "listening on 127.0.0.1:";
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      auto text = read_all(log_);
      auto at = text.find(marker, text.find("publish ("));
      if (at != std::string::npos && text.find('\n', at) != std::string::npos) {
        port_ = std::atoi(text.c_str() + at + marker.size());
        return port_ > 0;
      }
      std::this_thread::sleep_for(10ms);
    }
    return false;
  }

  void kill() {
    if (process_) {
      process_->signal(SIGKILL);
      process_->wait(10s);
      process_.reset();
    }
  }

  void stop() {
    if (process_) {
      process_->signal(SIGINT);
      process_->wait(10s);
      process_.reset();
    }
  }

  bool running() const {
    return process_ != nullptr;
  }

  std::string address() const {
    return "127.0.0.1:" + std::to_string(port_);
  }

  /// The current incarnation's log.
  std::string log() const {
    return read_all(log_);
  }

  void remove_files() {
    for (int i = 1; i <= starts_; ++i)
      std::remove((dir_ + "/engine-" + std::to_string(i) + ".log").c_str());
    for (auto suffix : {"", "-wal", "-shm", ".lock"})
      std::remove((dir_ + "/engine.db" + suffix).c_str());
  }

 private:
  std::string dir_;
  std::map<std::string, std::string> env_;
  std::unique_ptr<child_process> process_;
  std::string log_;
  int starts_ = 0;
  int port_ = 0;
};

std::string plan_json(const std::string& id, uint32_t items) {
  const char* symbols[] = {"AAPL", "MSFT", "SPY", "NVDA", "AMZN", "TSLA"};
  std::string list;
  for (uint32_t i = 0; i < items; ++i)
    list += std::string{i > 0 ? "," : ""} + R"({"symbol":")" + symbols[i % 6]
            + R"(","side":"buy","qty":")" + std::to_string(1 + i % 3) + "\"}";
  return R"({"plan_id":")" + id + R"(","deadline_seconds":120,"items":[)"
         + list + "]}";
}

} // namespace

int main(int argc, char** argv) {
  campaign_options opts;
  for (int i = 1; i < argc; ++i) {
    uint64_t v = 0;
    if (number_option(argv[i], "--kills", v))
      opts.kills = static_cast<uint32_t>(v);
    else if (number_option(argv[i], "--plans", v))
      opts.plans = static_cast<uint32_t>(std::max<uint64_t>(v, 1));
    else if (number_option(argv[i], "--items", v))
      opts.items = static_cast<uint32_t>(std::max<uint64_t>(v, 1));
    else if (number_option(argv[i], "--seed", v))
      opts.seed = v;
    else if (std::strcmp(argv[i], "--engine") == 0)
      opts.engine = true;
    else {
      std::fprintf(stderr,
                   "usage: athanor-crash [--kills=N] [--plans=P] [--items=K] "
                   "[--seed=S] [--engine]\n");
      return 64;
    }
  }
  if (opts.seed == 0)
    opts.seed = std::random_device{}();
  std::mt19937_64 rng{opts.seed};
  char name[] = "/tmp/athanor-crash-XXXXXX";
  std::string dir = mkdtemp(name);
  sim::simulator_options sim_opts;
  sim_opts.market.tick = 50ms;
  sim_opts.broker.fill_delay = 40ms;
  sim_opts.broker.requests_per_minute = 0;
  sim_opts.broker.accept_reused_client_order_ids = true;
  // Enough for any campaign's buys: a refusal for buying power would show
  // as missing orders (100,000 lasted 36 plans of 8 items).
  sim_opts.broker.starting_cash = "1000000000";
  sim::simulator sim{sim_opts};
  std::map<std::string, std::string> env{
    {"ALPACA_API_KEY", sim::default_key},
    {"ALPACA_API_SECRET", sim::default_secret},
    {"ALPACA_BASE_URL", "http://127.0.0.1:" + std::to_string(sim.port())}};
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("crash campaign%s: %u kills over %u plans of %u items, seed "
              "%llu\n",
              opts.engine ? " (killing the engine of execute --engine)" : "",
              opts.kills, opts.plans, opts.items,
              static_cast<unsigned long long>(opts.seed));
  engine_process engine{dir, env};
  auto started = std::chrono::steady_clock::now();
  uint32_t kills = 0;
  uint32_t worst_kills = 0;
  uint32_t runs = 0;
  uint32_t bad_exits = 0;
  uint32_t wrong_reports = 0;
  std::map<std::string, std::string> reports;
  // Kill instants spread over one whole run (start-up, placing, filling),
  // measured on a plan of the same size: later instants would mostly hit a
  // process that already finished.
  auto window = [&] {
    auto id = "calibrate-" + std::to_string(opts.seed % 100000);
    auto file = dir + "/" + id + ".json";
    std::ofstream{file} << plan_json(id, opts.items);
    auto t0 = std::chrono::steady_clock::now();
    child_process run{ATHANOR_BINARY,
                      {"execute", file, "--json",
                       "--athanor.journal.path=" + dir + "/calibrate.db",
                       "--athanor.log.level=error"},
                      env};
    run.wait(60s);
    std::remove(file.c_str());
    for (auto suffix : {"", "-wal", "-shm", ".lock"})
      std::remove((dir + "/calibrate.db" + suffix).c_str());
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::steady_clock::now() - t0)
                .count();
    return std::max<long>(50, ms * 12 / 10);
  }();
  std::printf("one run takes about %ld ms: kills at uniform instants in "
              "[0, %ld] ms\n",
              window * 10 / 12, window);
  std::uniform_int_distribution<long> instant_ms{0, window};
  // After the kills: the run that must finish, and its report.
  auto finish = [&](const std::string& id,
                    const std::vector<std::string>& args) {
    child_process last{ATHANOR_BINARY, args, env};
    ++runs;
    auto code = last.wait(120s);
    if (code != 0) {
      ++bad_exits;
      std::printf("plan %s: exit %d\n%s\n", id.c_str(), code,
                  last.err().c_str());
    }
    reports[id] = last.out();
  };
  for (uint32_t p = 0; opts.engine && p < opts.plans; ++p) {
    auto id = "crash-engine-" + std::to_string(opts.seed % 100000) + "-"
              + std::to_string(p);
    auto file = dir + "/" + id + ".json";
    std::ofstream{file} << plan_json(id, opts.items);
    auto client_args = [&] {
      return std::vector<std::string>{"execute", file, "--json", "--engine",
                                      engine.address(),
                                      "--athanor.log.level=error"};
    };
    auto share = opts.kills / opts.plans + (p < opts.kills % opts.plans);
    for (uint32_t k = 0; k < share; ++k) {
      if (!engine.running() && !engine.start()) {
        std::printf("the engine did not start:\n%s\n", engine.log().c_str());
        return 1;
      }
      auto sent_before = count_of(engine.log(), "executor: order_sent");
      child_process client{ATHANOR_BINARY, client_args(), env};
      ++runs;
      if (k % 2 == 1) {
        // Just after the n-th order of this run left the engine.
        auto n = std::uniform_int_distribution<size_t>{1, opts.items}(rng);
        auto deadline = std::chrono::steady_clock::now() + 5s;
        while (count_of(engine.log(), "executor: order_sent") - sent_before < n
               && std::chrono::steady_clock::now() < deadline
               && !client.wait_for_err("\x01", 2ms)) {
        }
        ++worst_kills;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds{instant_ms(rng)});
      }
      engine.kill();
      client.wait(30s);
      ++kills;
    }
    if (!engine.running() && !engine.start()) {
      std::printf("the engine did not start:\n%s\n", engine.log().c_str());
      return 1;
    }
    finish(id, client_args());
  }
  engine.stop();
  engine.remove_files();
  for (uint32_t p = 0; !opts.engine && p < opts.plans; ++p) {
    auto id = "crash-" + std::to_string(opts.seed % 100000) + "-"
              + std::to_string(p);
    auto file = dir + "/" + id + ".json";
    std::ofstream{file} << plan_json(id, opts.items);
    std::vector<std::string> args{
      "execute", file, "--json", "--athanor.journal.path=" + dir + "/journal.db",
      "--athanor.executor.event-timeout=500ms", "--athanor.log.level=error"};
    auto share = opts.kills / opts.plans + (p < opts.kills % opts.plans);
    for (uint32_t k = 0; k < share; ++k) {
      // Every other kill lands at the worst instant: just after the n-th
      // order left, before its answer or the journal's next commit.
      auto worst = k % 2 == 1;
      auto run_args = args;
      if (worst)
        run_args.back() = "--athanor.log.level=info";
      child_process run{ATHANOR_BINARY, run_args, env};
      ++runs;
      if (worst) {
        auto n = std::uniform_int_distribution<size_t>{1, opts.items}(rng);
        auto deadline = std::chrono::steady_clock::now() + 5s;
        // A resumed run sends only what is left and may finish first; a
        // finished plan sends nothing (its record is replayed).
        auto over = [&] {
          return run.err().find("executor: plan_done") != std::string::npos
                 || run.err().find("executor: plan_replayed")
                      != std::string::npos;
        };
        while (count_of(run.err(), "executor: order_sent") < n && !over()
               && std::chrono::steady_clock::now() < deadline)
          run.wait_for_err("\x01", 2ms); // reads what came meanwhile
        ++worst_kills;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds{instant_ms(rng)});
      }
      run.signal(SIGKILL);
      run.wait(10s);
      ++kills;
    }
    finish(id, args);
  }
  // The broker's truth: orders per client_order_id, and each report's fills.
  auto orders = sim.call_broker([](sim::broker& b) { return b.orders(); });
  std::map<std::string, std::vector<order>> by_client_id;
  for (auto& o : orders)
    by_client_id[o.client_order_id].push_back(o);
  uint32_t duplicates = 0;
  uint32_t missing = 0;
  for (auto& [id, out] : reports) {
    for (uint32_t i = 0; i < opts.items; ++i) {
      auto coid = protocol::client_order_id_of(id, i);
      auto found = by_client_id.find(coid);
      if (found == by_client_id.end()) {
        ++missing;
        std::printf("missing: %s\n", coid.c_str());
        continue;
      }
      if (found->second.size() > 1) {
        duplicates += static_cast<uint32_t>(found->second.size() - 1);
        std::printf("duplicate: %s placed %zu times\n", coid.c_str(),
                    found->second.size());
      }
      auto& o = found->second.front();
      auto expected = R"("client_order_id":")" + coid + R"(","order_id":")"
                      + o.id + R"(","outcome":"filled","status":"filled",)"
                      + R"("filled_qty":")" + to_string(o.filled_qty) + "\"";
      if (out.find(expected) == std::string::npos) {
        ++wrong_reports;
        std::printf("report of %s differs from the broker (%s %s)\n",
                    coid.c_str(), to_string(o.status).c_str(),
                    to_string(o.filled_qty).c_str());
      }
    }
  }
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                               - started)
                   .count();
  std::printf("kills %u (%u right after an order left), runs %u, plans %u, "
              "orders %zu (expected %u, with the calibration plan)\n",
              kills, worst_kills, runs, opts.plans, orders.size(),
              (opts.plans + 1) * opts.items);
  std::printf("duplicate orders %u, missing orders %u, wrong reports %u, "
              "failed final runs %u\n",
              duplicates, missing, wrong_reports, bad_exits);
  std::printf("%.1f s\n", seconds);
  for (auto suffix : {"/journal.db", "/journal.db-wal", "/journal.db-shm",
                      "/journal.db.lock"})
    std::remove((dir + suffix).c_str());
  for (auto& [id, out] : reports)
    std::remove((dir + "/" + id + ".json").c_str());
  rmdir(dir.c_str());
  return duplicates + missing + wrong_reports + bad_exits == 0 ? 0 : 1;
}
