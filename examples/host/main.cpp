// A host application with its own actor system and Athanor inside it:
// quotes arrive by callback, a plan executes exactly once, health is read,
// and everything stops cleanly. Without ALPACA_API_KEY/SECRET it runs on the
// engine's built-in simulator; with them it only streams (it never trades on
// a real account).

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <unistd.h>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include <athanor/runtime.hpp>
#include <athanor/version.hpp>

using namespace std::chrono_literals;

int main() {
  caf::actor_system_config cfg;
  athanor::prepare(cfg);
  cfg.set("scheduler.max-threads", 2);
  caf::actor_system sys{cfg};

  athanor::runtime_options opts;
  auto rt = athanor::runtime::start(sys, opts);
  if (!rt) {
    std::fprintf(stderr, "cannot start athanor: %s\n",
                 sys.render(rt.error()).c_str());
    return 1;
  }
  auto& engine = **rt;

  std::atomic<size_t> quotes{0};
  athanor::data_callbacks on_data;
  on_data.on_batch = [&](const athanor::batch& x) {
    quotes += x.quotes.size();
  };
  auto sub = engine.subscribe({"AAPL"}, {athanor::channel::quotes}, on_data);
  if (!sub) {
    std::fprintf(stderr, "cannot subscribe: %s\n",
                 sys.render(sub.error()).c_str());
    return 1;
  }
  for (int i = 0; i < 200 && quotes < 10; ++i)
    std::this_thread::sleep_for(50ms);

  bool traded = true;
  if (std::getenv("ALPACA_API_KEY") == nullptr) {
    auto spec = athanor::plan_from_json(
      R"({"plan_id": "host-)" + std::to_string(getpid())
      + R"(", "items": [{"symbol": "AAPL", "side": "buy", "qty": 1}]})");
    auto result = spec ? engine.execute(*spec, 30s)
                       : caf::expected<athanor::plan_result>{spec.error()};
    traded = result && result->succeeded();
    std::printf("plan: %s\n",
                result ? (result->succeeded() ? "filled" : "not filled")
                       : sys.render(result.error()).c_str());
  }

  auto health = engine.health();
  for (auto& u : health.upstreams)
    std::printf("upstream %s: %s\n", u.name.c_str(),
                athanor::to_string(u.state).c_str());
  std::printf("athanor %s: %zu quotes, ready %s\n", athanor::library_version(),
              quotes.load(), health.ready ? "yes" : "no");
  sub->cancel();
  engine.stop();
  return quotes >= 10 && traded ? 0 : 1;
}
