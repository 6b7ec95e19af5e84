#pragma once

// athanor-sim as a library: the market-data hub behind one server, with a
// control endpoint for fault injection. Tests and benchmarks start one in
// process; the athanor-sim binary wraps it.

#include <functional>
#include <future>
#include <memory>

#include "sim/market_hub.hpp"
#include "transport/server.hpp"

namespace athanor::sim {

struct simulator_options {
  transport::server_options listen;
  std::vector<sim_account> accounts;
  market_options market;
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

  /// Runs `f` on the server thread and returns its result.
  template<class F>
  auto call(F f) -> decltype(f(std::declval<market_hub&>())) {
    using result = decltype(f(std::declval<market_hub&>()));
    std::promise<result> done;
    server_->post([&] {
      if constexpr (std::is_void_v<result>) {
        f(*hub_);
        done.set_value();
      } else {
        done.set_value(f(*hub_));
      }
    });
    return done.get_future().get();
  }

 private:
  transport::http_response on_http(const transport::http_request& req);

  std::unique_ptr<market_hub> hub_;
  std::unique_ptr<transport::server> server_;
};

} // namespace athanor::sim
