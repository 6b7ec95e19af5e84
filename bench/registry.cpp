// athanor-bench registry: what adding and removing topics costs the one
// registry actor every consumer shares, and the longest delivery pause
// another subscriber sees meanwhile. Baseline: building (and clearing) the
// same set of symbols in a plain std::unordered_map, in the same run.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "actors/market/subscriber_registry.hpp"
#include "bench.hpp"
#include "messages/register.hpp"
#include "observability/log.hpp"
#include "protocol/market_dialect.hpp"

namespace athanor::bench {

namespace {

using clock_type = std::chrono::steady_clock;

int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           clock_type::now().time_since_epoch())
    .count();
}

double ms_since(clock_type::time_point start) {
  return std::chrono::duration<double, std::milli>(clock_type::now() - start)
    .count();
}

struct registry_bench_config : caf::actor_system_config {
  registry_bench_config() {
    athanor::add_message_types(*this);
    set("scheduler.max-threads", 2);
    set("logger.verbosity", caf::atom("quiet"));
  }
};

// The longest time between two deliveries to the watcher since `reset`.
struct pause_meter {
  std::atomic<int64_t> last{0};
  std::atomic<int64_t> longest{0};

  void delivered() {
    auto now = steady_ns();
    auto before = last.exchange(now);
    if (before != 0)
      longest.store(std::max(longest.load(), now - before));
  }

  void reset() {
    last.store(0);
    longest.store(0);
  }

  double longest_ms() const {
    return static_cast<double>(longest.load()) / 1e6;
  }
};

// A desire sink that takes every desired set and keeps only its size, as
// a session would before its diff.
caf::behavior absorbing_sink(caf::event_based_actor*,
                             std::atomic<size_t>* desired_size) {
  return {[desired_size](desire_atom, const subscription_set& x,
                         const trace&) {
    desired_size->store(protocol::count(x));
  }};
}

caf::behavior watcher(caf::event_based_actor*, pause_meter* meter) {
  return {[meter](const batch&) { meter->delivered(); }, [](const gap&) {}};
}

caf::behavior idle_subscriber(caf::event_based_actor*) {
  return {[](const batch&) {}, [](const gap&) {}};
}

std::vector<topic> universe(size_t topics) {
  static constexpr channel channels[] = {channel::quotes, channel::trades,
                                         channel::bars};
  std::vector<topic> result;
  result.reserve(topics);
  for (size_t i = 0; result.size() < topics; ++i)
    for (auto ch : channels)
      if (result.size() < topics)
        result.push_back({ch, "S" + std::to_string(i)});
  return result;
}

struct figures {
  double map_build_ms = 0;
  double map_clear_ms = 0;
  double add_ms = 0;
  double remove_ms = 0;
  double drop_ms = 0;
  double pause_add_ms = 0;
  double pause_remove_ms = 0;
  double pause_drop_ms = 0;
  double pause_idle_ms = 0;
  /// Another subscriber adds one topic while the N are held: the cost of
  /// a small change beside a big set (must not grow with N log N).
  double one_more_ms = 0;
};

double baseline_build(const std::vector<topic>& topics,
                      std::unordered_map<std::string, std::vector<uint32_t>>&
                        map) {
  auto start = clock_type::now();
  for (auto& t : topics)
    map[t.symbol].push_back(1);
  return ms_since(start);
}

figures measure_size(size_t count) {
  figures result;
  auto topics = universe(count);
  {
    std::unordered_map<std::string, std::vector<uint32_t>> map;
    result.map_build_ms = baseline_build(topics, map);
    auto start = clock_type::now();
    for (auto& t : topics)
      map.erase(t.symbol);
    result.map_clear_ms = ms_since(start);
  }
  registry_bench_config cfg;
  caf::actor_system sys{cfg};
  auto registry = *spawn_subscriber_registry(sys, {});
  std::atomic<size_t> desired_size{0};
  auto sink = sys.spawn(absorbing_sink, &desired_size);
  caf::anon_send(registry, attach_atom::value,
                 caf::actor_cast<desire_sink_actor>(sink));
  pause_meter meter;
  auto watch = caf::actor_cast<subscriber_actor>(sys.spawn(watcher, &meter));
  caf::scoped_actor self{sys};
  auto ask = [&](auto... xs) {
    auto start = clock_type::now();
    self->request(registry, std::chrono::minutes{5}, xs...)
      .receive([](std::vector<topic>&) {}, [](caf::error&) {});
    return ms_since(start);
  };
  ask(subscribe_atom::value, watch, std::vector<topic>{{channel::trades,
                                                        "AAPL"}},
      trace::root());
  // A steady feed: one AAPL trade every 100 us, from outside the system as
  // a session's link would send it.
  std::atomic<bool> feeding{true};
  std::thread feeder{[&] {
    batch one;
    one.trades.push_back(trade{});
    one.trades.back().symbol = "AAPL";
    while (feeding.load()) {
      caf::anon_send(registry, one);
      std::this_thread::sleep_for(std::chrono::microseconds{100});
    }
  }};
  auto settle = [] { std::this_thread::sleep_for(std::chrono::milliseconds{50}); };
  settle();
  meter.reset();
  settle();
  result.pause_idle_ms = meter.longest_ms();
  auto big = caf::actor_cast<subscriber_actor>(sys.spawn(idle_subscriber));
  meter.reset();
  result.add_ms = ask(subscribe_atom::value, big, topics, trace::root());
  settle();
  result.pause_add_ms = meter.longest_ms();
  meter.reset();
  result.remove_ms = ask(unsubscribe_atom::value, big, topics, trace::root());
  settle();
  result.pause_remove_ms = meter.longest_ms();
  // Subscribe again, then the subscriber dies: the registry drops all of
  // its topics at once (a gateway client that disconnects).
  ask(subscribe_atom::value, big, topics, trace::root());
  settle();
  result.one_more_ms = ask(subscribe_atom::value, watch,
                           std::vector<topic>{{channel::trades, "ONE.MORE"}},
                           trace::root());
  meter.reset();
  auto start = clock_type::now();
  caf::anon_send_exit(big, caf::exit_reason::kill);
  // Done when the desired set without its topics has left the registry
  // (the watcher's two remain).
  while (desired_size.load() > 2)
    std::this_thread::yield();
  result.drop_ms = ms_since(start);
  settle();
  result.pause_drop_ms = meter.longest_ms();
  feeding.store(false);
  feeder.join();
  self->send_exit(registry, caf::exit_reason::user_shutdown);
  self->send_exit(sink, caf::exit_reason::user_shutdown);
  self->send_exit(watch, caf::exit_reason::user_shutdown);
  return result;
}

} // namespace

int run_registry(const options&) {
  log::configure({log::format::human, log::level::error});
  std::printf("registry: one subscriber adds, removes, then drops (dies "
              "holding) N topics\nwhile another receives a trade every "
              "100 us; pause = the longest gap it sees\n\n");
  std::printf("%8s | %9s %9s | %9s %9s %9s | %7s | %9s %9s %9s (idle) | "
              "%8s\n",
              "topics", "map add", "map del", "add", "remove", "drop",
              "add/map", "pause add", "remove", "drop", "+1 topic");
  for (size_t n : {size_t{10'000}, size_t{30'000}, size_t{100'000},
                   size_t{400'000}}) {
    auto f = measure_size(n);
    std::printf("%8zu | %7.1fms %7.1fms | %7.1fms %7.1fms %7.1fms | %6.1fx | "
                "%7.1fms %7.1fms %7.1fms (%.2f ms) | %6.2fms\n",
                n, f.map_build_ms, f.map_clear_ms, f.add_ms, f.remove_ms,
                f.drop_ms, f.add_ms / f.map_build_ms, f.pause_add_ms,
                f.pause_remove_ms, f.pause_drop_ms, f.pause_idle_ms,
                f.one_more_ms);
    std::fflush(stdout);
  }
  return 0;
}

} // namespace athanor::bench
