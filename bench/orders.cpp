// athanor-bench orders: orders per second through executor -> REST client
// -> simulator (rate limiter off), beside a baseline of bare HTTP POSTs to
// the same simulator in the same run; and the latency of a 100-item plan
// (journal with and without fsync per commit).

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <future>
#include <thread>
#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"

#include "bench.hpp"
#include "messages/error.hpp"
#include "messages/register.hpp"
#include "observability/log.hpp"
#include "protocol/rest.hpp"
#include "runtime/trading_desk.hpp"
#include "sim/simulator.hpp"
#include "transport/http_client.hpp"

namespace athanor::bench {

namespace {

using clock_type = std::chrono::steady_clock;

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

struct system_config : caf::actor_system_config {
  system_config() {
    athanor::add_message_types(*this);
    set("scheduler.max-threads", 2);
  }
};

std::unique_ptr<sim::simulator> make_sim() {
  sim::simulator_options opts;
  opts.market.tick = std::chrono::milliseconds{200};
  opts.broker.requests_per_minute = 0;
  opts.broker.starting_cash = "100000000000";
  opts.broker.fill_delay = std::chrono::milliseconds{1};
  return std::make_unique<sim::simulator>(std::move(opts));
}

std::string base_of(const sim::simulator& sim) {
  return "http://127.0.0.1:" + std::to_string(sim.port());
}

// Bare HTTP: the same POSTs the REST client sends, over keep-alive
// connections, without actors, journal or trading stream.
struct baseline_client {
  transport::io_thread io;
  std::unique_ptr<transport::http_client> client;
  size_t connections;

  baseline_client(sim::simulator& sim, size_t connections)
    : client(transport::http_client::create(io, {base_of(sim), "", "",
                                                 connections})),
      connections(connections) {}

  ~baseline_client() {
    client.reset();
  }

  // Posts `n` orders, `connections` at a time; returns orders per second.
  double post(size_t n, const std::string& tag) {
    std::atomic<size_t> done{0};
    std::atomic<size_t> failed{0};
    std::atomic<size_t> next{0};
    std::promise<void> all;
    std::function<void()> post_one = [&] {
      auto i = next++;
      if (i >= n)
        return;
      order_request req;
      req.symbol = "AAPL";
      req.qty = decimal::from_integer(1);
      req.client_order_id = "base-" + tag + "-" + std::to_string(i);
      transport::http_call call;
      call.method = "POST";
      call.target = "/v2/orders";
      call.body = protocol::encode_order_request(req);
      call.headers["APCA-API-KEY-ID"] = sim::default_key;
      call.headers["APCA-API-SECRET-KEY"] = sim::default_secret;
      client->request(std::move(call), [&](transport::http_reply r) {
        if (r.status != 200)
          ++failed;
        if (++done == n)
          all.set_value();
        else
          post_one();
      });
    };
    auto start = clock_type::now();
    for (size_t k = 0; k < connections; ++k)
      post_one();
    all.get_future().wait();
    auto took = seconds_since(start);
    if (failed > 0)
      std::fprintf(stderr, "baseline: %zu posts failed\n", failed.load());
    return static_cast<double>(n) / took;
  }
};

plan market_buys(const std::string& id, size_t n) {
  plan p;
  p.plan_id = id;
  p.sequence = plan_sequence::as_listed;
  p.deadline_ms = 600'000;
  const char* symbols[] = {"AAPL", "MSFT", "SPY", "NVDA", "AMZN"};
  for (size_t i = 0; i < n; ++i) {
    plan_item x;
    x.symbol = symbols[i % 5];
    x.qty = decimal::from_integer(1);
    p.items.push_back(x);
  }
  return p;
}

std::unique_ptr<trading_desk> start_desk(caf::actor_system& sys,
                                         sim::simulator& sim,
                                         const std::string& journal,
                                         bool full_sync) {
  trading_desk_options opts;
  opts.base_url = base_of(sim);
  opts.creds = {secret{sim::default_key}, secret{sim::default_secret}};
  opts.rest.requests_per_minute = 0;
  opts.executor.journal = {journal, full_sync};
  auto desk = trading_desk::start(sys, std::move(opts));
  if (!desk) {
    std::fprintf(stderr, "desk: %s\n", render(desk.error()).c_str());
    return nullptr;
  }
  // The first plan also waits for the trading stream; warm it up.
  (*desk)->execute(market_buys("warmup-" + journal.substr(journal.size() - 6),
                               1),
                   std::chrono::seconds{30});
  return std::move(*desk);
}

void remove_journal(const std::string& path) {
  for (auto suffix : {"", "-wal", "-shm"})
    std::remove((path + suffix).c_str());
}

std::string temp_journal() {
  char name[] = "/tmp/athanor-bench-XXXXXX";
  close(mkstemp(name));
  std::remove(name);
  return name;
}

} // namespace

int run_orders(const options& opts) {
  // Info logs would be one line per order: measure the work, not stderr.
  log::configure({log::format::human, log::level::warn});
  auto sim = make_sim();
  system_config cfg;
  caf::actor_system sys{cfg};
  // Enough orders for about `seconds` at the baseline's pace.
  baseline_client bare{*sim, 4};
  auto probe = bare.post(200, "probe");
  auto n = std::max<size_t>(200, static_cast<size_t>(probe * opts.seconds));
  auto base = bare.post(n, "run");
  std::printf("orders: athanor-sim in process, rate limiter off, 4 HTTP "
              "connections, %zu orders per figure\n",
              n);
  std::printf("  %-44s %10s %6s\n", "", "orders/s", "ratio");
  std::printf("  %-44s %10.0f %6.2f\n", "bare HTTP POSTs (baseline)", base,
              1.0);
  for (bool full_sync : {false, true}) {
    auto journal = temp_journal();
    auto desk = start_desk(sys, *sim, journal, full_sync);
    if (!desk)
      return 1;
    auto start = clock_type::now();
    auto result = desk->execute(market_buys(full_sync ? "tp-full" : "tp-normal",
                                            n),
                                std::chrono::minutes{10});
    auto took = seconds_since(start);
    if (!result || !result->succeeded()) {
      std::fprintf(stderr, "plan failed: %s\n",
                   result ? "not every item filled"
                          : render(result.error()).c_str());
      return 1;
    }
    auto rate = static_cast<double>(n) / took;
    std::printf("  %-44s %10.0f %6.2f\n",
                full_sync ? "executor, one plan, journal fsync per commit"
                          : "executor, one plan, journal without fsync",
                rate, rate / base);
    desk.reset();
    remove_journal(journal);
  }
  // Latency of a 100-item plan, placed and filled.
  constexpr size_t items = 100;
  constexpr int runs = 10;
  std::printf("\n  100-item plan, %d runs  %10s %10s %10s\n", runs, "p50 ms",
              "max ms", "ratio");
  std::vector<double> base_ms;
  for (int r = 0; r < runs; ++r) {
    auto start = clock_type::now();
    bare.post(items, "lat" + std::to_string(r));
    base_ms.push_back(seconds_since(start) * 1e3);
  }
  std::sort(base_ms.begin(), base_ms.end());
  std::printf("  %-28s %10.1f %10.1f %10.2f\n", "bare HTTP POSTs (baseline)",
              base_ms[runs / 2], base_ms.back(), 1.0);
  for (bool full_sync : {false, true}) {
    auto journal = temp_journal();
    auto desk = start_desk(sys, *sim, journal, full_sync);
    if (!desk)
      return 1;
    std::vector<double> ms;
    for (int r = 0; r < runs; ++r) {
      auto start = clock_type::now();
      auto result = desk->execute(
        market_buys("lat-" + std::to_string(full_sync) + "-"
                      + std::to_string(r),
                    items),
        std::chrono::minutes{1});
      if (!result || !result->succeeded()) {
        std::fprintf(stderr, "plan failed\n");
        return 1;
      }
      ms.push_back(seconds_since(start) * 1e3);
    }
    std::sort(ms.begin(), ms.end());
    std::printf("  %-28s %10.1f %10.1f %10.2f\n",
                full_sync ? "executor, fsync per commit"
                          : "executor, no fsync",
                ms[runs / 2], ms.back(), ms[runs / 2] / base_ms[runs / 2]);
    desk.reset();
    remove_journal(journal);
  }
  std::printf("(plan figures include the fills: every order is followed "
              "until filled; sim fill delay 1 ms)\n");
  return 0;
}

} // namespace athanor::bench
