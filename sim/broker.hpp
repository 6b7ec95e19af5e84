#pragma once

// The simulator's trading side: REST under /v2 (account, positions, orders,
// lookups by client_order_id, cancels, a 200-per-minute rate limit with
// X-Ratelimit-* headers) and the /stream order-update stream. Market orders
// fill at the tape's price, limit orders when the price crosses. Every
// member runs on the server's I/O thread.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "messages/orders.hpp"
#include "sim/market_hub.hpp"
#include "transport/server.hpp"

namespace athanor::sim {

struct broker_options {
  /// Requests per minute per key; 0 turns the limit off.
  uint32_t requests_per_minute = 200;
  /// Cash each account starts with.
  std::string starting_cash = "100000";
  /// Market orders fill in two steps (a partial fill, then the rest).
  bool partial_fills = false;
  /// Time between an order's acceptance and its fills.
  std::chrono::nanoseconds fill_delay = std::chrono::milliseconds{20};
  /// How often open limit orders are checked against the price.
  std::chrono::nanoseconds limit_check = std::chrono::milliseconds{50};
  /// Send trade updates as binary frames (as the paper endpoint does).
  bool binary_frames = false;
  /// Place every POST, also one whose client_order_id was used before (a
  /// broker without Alpaca's uniqueness check), so that tests count orders
  /// per client_order_id instead of relying on the broker to refuse a blind
  /// repeat. Lookups then find the newest order under an id.
  bool accept_reused_client_order_ids = false;
  /// Every symbol is an active, tradable, fractionable US equity except
  /// these: unknown to GET /v2/assets (404), or known but not tradable.
  std::vector<std::string> unknown_assets;
  std::vector<std::string> untradable_assets;
};

/// How a REST fault fails a request.
enum class rest_fault : uint8_t {
  /// Answer 500 without doing anything.
  fail_before,
  /// Do the work (place the order), then answer 500: the ambiguous case a
  /// client must resolve by looking the order up.
  fail_after,
};

class broker {
 public:
  /// `price_of` returns the current price of a symbol (the tape's).
  broker(std::vector<sim_account> accounts, broker_options opts,
         std::function<double(const std::string&)> price_of);
  ~broker();

  void start(transport::server& srv);

  /// Serves /v2/... REST requests; nullopt if the path is not ours.
  std::optional<transport::http_response>
  on_http(const transport::http_request& req);

  /// Accepts /stream upgrades; nullopt if the path is not ours.
  std::optional<transport::upgrade_decision>
  on_upgrade(const transport::http_request& req);

  /// Answers GET /v2/stocks/{trades,quotes,bars} with `history`'s page.
  void serve_history(std::function<std::string(const history_request&)> history);

  /// Fails the next `count` REST requests with HTTP 500.
  void fail_requests(uint32_t count, rest_fault how);

  /// Carries out the next `count` REST requests but answers each only
  /// after `delay` (a client with a shorter timeout sees a timeout).
  void slow_requests(uint32_t count, std::chrono::nanoseconds delay);

  /// Drops every trading-stream connection with a TCP reset.
  void reset_streams();

  /// Every order ever placed, in order (for tests: nothing placed twice).
  std::vector<order> orders() const;

  /// Opaque; public for the connection type in broker.cpp.
  struct state;

 private:
  std::shared_ptr<state> state_;
};

} // namespace athanor::sim
