#pragma once

// athanor-sim as a library: the market-data hub behind one server, with a
// control endpoint for fault injection. Tests and benchmarks start one in
// process; the athanor-sim binary wraps it.

#include <functional>
#include <future>
#include <memory>

#include "sim/broker.hpp"
#include "sim/market_hub.hpp"
#include "sim/scenario.hpp"
#include "transport/server.hpp"

namespace athanor::sim {

struct simulator_options {
  transport::server_options listen;
  std::vector<sim_account> accounts;
  market_options market;
  broker_options broker;
};

/// The credentials athanor-sim accepts unless told otherwise.
inline constexpr const char* default_key = "SIMKEY";
inline constexpr const char* default_secret = "SIMSECRET";

class simulator {
 public:
  /// Binds and starts serving; throws std::system_error if it cannot bind.
  explicit simulator(simulator_options opts);
  ~simulator();

  uint16_t port() const;

  /// Drops new connections before their TLS handshake for `duration`.
  void refuse_tls_for(std::chrono::nanoseconds duration);

  /// Applies each step's fault at its time, counted from now.
  void run_scenario(std::vector<scenario_step> steps);

  /// Runs `f(hub)` on the server thread and returns its result. Call it
  /// from any other thread (never from the server thread itself).
  template<class F>
  auto call(F f) {
    return on_server([&] { return f(*hub_); });
  }

  /// Runs `f(broker)` on the server thread and returns its result.
  template<class F>
  auto call_broker(F f) {
    return on_server([&] { return f(*broker_); });
  }

 private:
  template<class F>
  auto on_server(F f) -> decltype(f()) {
    using result = decltype(f());
    std::promise<result> done;
    server_->post([&] {
      if constexpr (std::is_void_v<result>) {
        f();
        done.set_value();
      } else {
        done.set_value(f());
      }
    });
    return done.get_future().get();
  }

  transport::http_response on_http(const transport::http_request& req);

  /// Applies one fault on the server thread; false if `kind` is unknown.
  bool apply_fault(const std::string& kind, std::chrono::nanoseconds duration,
                   const std::map<std::string, std::string>& args);

  std::unique_ptr<market_hub> hub_;
  std::unique_ptr<broker> broker_;
  std::unique_ptr<transport::server> server_;
};

} // namespace athanor::sim
