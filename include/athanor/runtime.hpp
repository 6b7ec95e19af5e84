#pragma once

// Athanor inside a host application: the engine's market data (the one
// upstream connection, shared), its executor and trading stream, and on
// request its admin endpoint and gateway, running in an actor system the
// host owns or in one of the runtime's own.
//
//   auto rt = athanor::runtime::start({});            // its own system
//   auto sub = (*rt)->subscribe({"AAPL"}, {athanor::channel::quotes},
//                               {[](const athanor::batch& b) { ... }});
//   auto result = (*rt)->execute(my_plan, std::chrono::minutes{1});
//
// Every call blocks the calling thread until the engine answers (bounded);
// never call them from inside an actor. Calls may come from several threads
// at once; after stop() they fail with not_ready (health(): not ready).

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "caf/expected.hpp"
#include "caf/fwd.hpp"

#include "messages/execution.hpp"
#include "messages/handles.hpp"
#include "messages/metrics.hpp"
#include "messages/stream.hpp"

namespace athanor {

/// Registers Athanor's message types with a host's configuration (and
/// loads CAF's middleman, which remote subscribers need). Call it before
/// the host creates its actor system.
void prepare(caf::actor_system_config& cfg);

struct runtime_options {
  /// Settings exactly as `athanor run` takes them on its command line, e.g.
  /// "--athanor.stream.encoding=json" or "--config-file=athanor.ini".
  std::vector<std::string> settings;
  /// Variables such as ALPACA_API_KEY (none set: the built-in simulator);
  /// nullopt reads the process environment.
  std::optional<std::map<std::string, std::string>> environment;
  /// Serve the admin endpoint (athanor.admin.*). The gateway starts when
  /// ATHANOR_GATEWAY_KEY/SECRET are set, as with `athanor run`.
  bool serve_admin = false;
};

/// Data as function calls; both run on an actor thread, one at a time. A
/// std::exception escaping them is logged and counted, never fatal.
struct data_callbacks {
  std::function<void(const batch&)> on_batch;
  std::function<void(const gap&)> on_gap;
  /// Names this consumer in logs and in the `subscriber` metric label
  /// (at most 64 of [A-Za-z0-9._:/-]); empty: "callback-N".
  std::string name;
  /// Repairs this consumer's gaps on these channels (trades, bars) from
  /// the market-data API's history: after a reconnect or restart gap it
  /// gets the missed records (batch::backfill set, the live stream's
  /// records left out) and a `backfilled` or `backfill_failed` gap marker.
  /// Empty: gaps stay gaps.
  std::vector<channel> backfill;
};

/// One consumer's share of the market data. Ends (and releases its share
/// of the upstream connection) when cancelled or destroyed.
class subscription {
 public:
  subscription() = default;
  subscription(subscription&&) noexcept;
  subscription& operator=(subscription&&) noexcept;
  ~subscription();

  void cancel();
  bool active() const;

  /// What the library builds; opaque outside it.
  struct state;
  explicit subscription(std::shared_ptr<state> st);

 private:
  std::shared_ptr<state> state_;
};

struct runtime_health {
  /// The market-data upstreams and, when the executor runs, the trading
  /// stream as "trading".
  std::vector<upstream_health> upstreams;
  /// Every leased upstream and the trading stream are streaming.
  bool ready = false;
};

class runtime {
 public:
  /// Starts in an actor system of the runtime's own (configured from the
  /// options' scheduler settings).
  static caf::expected<std::unique_ptr<runtime>> start(runtime_options opts);

  /// Starts inside the host's system, which must have been configured with
  /// prepare() and must outlive the runtime.
  static caf::expected<std::unique_ptr<runtime>>
  start(caf::actor_system& sys, runtime_options opts);

  /// Stops everything (see stop()).
  ~runtime();

  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  caf::actor_system& system();

  /// Subscribes `symbols` ("*" for all) on `channels` with callbacks.
  caf::expected<subscription> subscribe(std::vector<std::string> symbols,
                                        std::vector<channel> channels,
                                        data_callbacks callbacks);

  /// Subscribes a host actor (it receives batch and gap messages; its death
  /// ends the subscription too). `name` labels it in logs and metrics
  /// (empty: "subscriber-N"); `backfill` as in data_callbacks.
  caf::expected<subscription> subscribe(std::vector<std::string> symbols,
                                        std::vector<channel> channels,
                                        subscriber_actor subscriber,
                                        std::string name = {},
                                        std::vector<channel> backfill = {});

  /// Executes a plan exactly once and returns its result; a plan_id seen
  /// before returns the recorded result. Fails when the executor does not
  /// run (athanor.executor.in-run=false) or the plan is invalid.
  caf::expected<plan_result> execute(const plan& spec,
                                     std::chrono::milliseconds timeout);

  /// Sends every market-data session's state changes to `listener`.
  void watch(session_listener_actor listener);

  runtime_health health();

  /// Every engine actor's counters and gauges.
  caf::expected<metric_samples> metrics();

  /// http://HOST:PORT of the admin endpoint; empty when not served.
  std::string admin_url() const;

  /// ws://HOST:PORT of the gateway; empty when not served.
  std::string gateway_url() const;

  /// HOST:PORT where the engine is published over BASP
  /// (athanor.remote.publish); empty when it is not.
  std::string published_at() const;

  /// Stops the published front, gateway, admin, executor and connections,
  /// in that order. Idempotent. While a call runs on another thread,
  /// stop() only ends new calls; that call finishes and, returning,
  /// completes the stop. Destroying the runtime stops it too, and must not
  /// happen while another thread still calls it.
  void stop();

  /// What start() builds; opaque outside the library.
  struct impl;
  explicit runtime(std::unique_ptr<impl> x);

 private:
  std::unique_ptr<impl> impl_;
};

/// Reads a plan from its JSON file format (README, "The plan file"); fails
/// with invalid_plan naming every bad field.
caf::expected<plan> plan_from_json(const std::string& text);

} // namespace athanor
