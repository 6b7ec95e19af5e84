#include "athanor/runtime.hpp"

#include <atomic>
#include <memory>

#include "caf/actor_system.hpp"
#include "caf/io/middleman.hpp"
#include "caf/openssl/publish.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "actors/market/callback_hub.hpp"
#include "actors/market/callback_subscriber.hpp"
#include "actors/remote/remote_front.hpp"
#include "actors/resilience/breaker.hpp"
#include "actors/trading/rest_client.hpp"
#include "actors/trading/rest_port.hpp"
#include "transport/http_client.hpp"
#include "transport/io_thread.hpp"
#include "messages/error.hpp"
#include "messages/register.hpp"
#include "observability/log.hpp"
#include "protocol/plan.hpp"
#include "runtime/admin_server.hpp"
#include "runtime/config_file.hpp"
#include "runtime/engine.hpp"
#include "runtime/gateway_server.hpp"
#include "runtime/runtime_start.hpp"
#include "runtime/subscription_state.hpp"
#include "runtime/system_config.hpp"
#include "runtime/trading_desk.hpp"
#include "sim/simulator.hpp"

namespace athanor {

namespace {

constexpr auto call_timeout = std::chrono::seconds{10};

upstream_spec market_upstream(const engine_config& cfg, std::string url,
                              credentials creds) {
  upstream_spec spec;
  spec.name = "market";
  auto& s = spec.session;
  s.url = std::move(url);
  s.encoding = cfg.stream.encoding;
  s.creds = std::move(creds);
  s.backoff = cfg.reconnect;
  s.limit_backoff = cfg.stream.limit_backoff;
  s.limit_backoff_max = cfg.stream.limit_backoff_max;
  s.connect_timeout = cfg.stream.connect_timeout;
  s.auth_timeout = cfg.stream.auth_timeout;
  s.ack_timeout = cfg.stream.ack_timeout;
  s.silence_timeout = cfg.stream.silence_timeout;
  s.close_timeout = cfg.stream.close_timeout;
  s.lag_threshold = cfg.stream.lag_threshold;
  spec.registry.name = "market";
  spec.registry.lag_threshold = cfg.stream.lag_threshold;
  spec.registry.max_in_flight
    = static_cast<uint32_t>(cfg.registry.max_in_flight);
  spec.registry.max_queued_records = cfg.registry.max_queued_records;
  spec.registry.max_queued_bytes = cfg.registry.max_queued_bytes;
  spec.breaker = stream_breaker_of(cfg);
  return spec;
}

engine_options engine_options_of(const engine_config& cfg,
                                 upstream_spec market) {
  engine_options opts;
  opts.upstreams.push_back(std::move(market));
  opts.link.ca_file = cfg.stream.ca_file;
  opts.link.deflate = cfg.stream.deflate;
  opts.link.ping_interval = cfg.stream.ping_interval;
  opts.link.pong_timeout = cfg.stream.pong_timeout;
  opts.link.close_timeout = cfg.stream.close_timeout;
  opts.link.handshake_timeout = cfg.stream.connect_timeout;
  opts.link.max_in_flight = cfg.stream.max_in_flight_frames;
  opts.connections.max_restarts = cfg.supervisor.max_restarts;
  opts.connections.period = cfg.supervisor.period;
  opts.connections.restart_backoff = cfg.supervisor.restart_backoff;
  // A stopping engine (SIGINT, a host's stop()) is done within 2 s.
  opts.connections.shutdown_deadline
    = std::min<caf::timespan>(cfg.supervisor.shutdown_deadline,
                              std::chrono::milliseconds{1500});
  opts.tree = cfg.supervisor;
  opts.tree.name = "market";
  opts.record.path = cfg.record.file;
  opts.record.max_file_bytes = cfg.record.max_file_bytes;
  opts.record.max_files = static_cast<uint32_t>(cfg.record.max_files);
  return opts;
}

} // namespace

// -- subscription ---------------------------------------------------------------

subscription::subscription(std::shared_ptr<state> st) : state_(std::move(st)) {}
subscription::subscription(subscription&&) noexcept = default;
subscription& subscription::operator=(subscription&& other) noexcept {
  if (this != &other) {
    cancel();
    state_ = std::move(other.state_);
  }
  return *this;
}
subscription::~subscription() {
  cancel();
}

void subscription::cancel() {
  if (state_)
    state_->cancel();
}

bool subscription::active() const {
  return state_ && state_->active;
}

// -- runtime ------------------------------------------------------------------

// What runs while the runtime runs. Host threads each hold a reference for
// the length of a call, so stop() on one thread never frees what a call on
// another still uses: the last reference stops what is left.
struct runtime_parts {
  caf::actor_system* sys = nullptr;
  std::unique_ptr<sim::simulator> simulator;
  std::unique_ptr<engine> market;
  std::unique_ptr<trading_desk> desk;
  std::unique_ptr<gateway_server> gateway;
  std::unique_ptr<admin_server> admin;
  /// The published front (athanor.remote.publish) and its port.
  remote_front_actor front;
  uint16_t front_port = 0;
  /// The host's callback subscribers, for metrics.
  callback_hub_actor callbacks;
  /// The market-data REST API (gap repair) and its I/O thread.
  std::shared_ptr<transport::io_thread> data_io;
  rest_client_actor data_rest;
  breaker_actor data_breaker;

  /// The published front, gateway, admin, executor and connections, in
  /// that order.
  ~runtime_parts() {
    if (front) {
      if (sys->has_middleman() && front_port != 0)
        sys->middleman().unpublish(front, front_port);
      caf::anon_send_exit(front, caf::exit_reason::user_shutdown);
    }
    if (callbacks)
      caf::anon_send_exit(callbacks, caf::exit_reason::user_shutdown);
    gateway.reset();
    admin.reset();
    desk.reset();
    market.reset();
    if (data_rest)
      caf::anon_send_exit(data_rest, caf::exit_reason::user_shutdown);
    if (data_breaker)
      caf::anon_send_exit(data_breaker, caf::exit_reason::user_shutdown);
    simulator.reset();
  }
};

struct runtime::impl {
  /// Set when the runtime owns its actor system.
  std::unique_ptr<system_config> own_config;
  std::unique_ptr<caf::actor_system> own_system;
  caf::actor_system* sys = nullptr;
  engine_config cfg;
  /// Null once stopped; swapped atomically (std::atomic_load/exchange).
  std::shared_ptr<runtime_parts> running;
  /// Fixed once start() returns.
  std::string admin_url;
  std::string gateway_url;
  std::string published_at;

  caf::error start(const loaded_config& loaded, bool serve_admin,
                   runtime_hooks hooks);
  caf::error publish(runtime_parts& parts);

  std::shared_ptr<runtime_parts> parts() const {
    return std::atomic_load(&running);
  }

  void stop() {
    std::atomic_exchange(&running, std::shared_ptr<runtime_parts>{});
  }
};

namespace {

// The listener's TLS files, read again at start (they may have changed
// since the config was checked); nullopt when they are fine.
std::optional<caf::error> listener_tls_of(const std::string& prefix,
                                          const listen_settings& x,
                                          listener_pems& out) {
  auto problems = read_listener_pems(prefix, x, out);
  if (problems.empty())
    return std::nullopt;
  return make_error(engine_errc::invalid_config, to_string(problems));
}

// Logged on every start of a listener accepted with `option` = true.
void warn_insecure(const char* option, const std::string& address,
                   const char* detail) {
  log::warn("engine", "insecure_listener",
            {{"option", option}, {"address", address}, {"detail", detail}});
}

caf::error stopped_error() {
  return make_error(engine_errc::not_ready, "the runtime is stopped");
}

} // namespace

caf::error runtime::impl::start(const loaded_config& loaded, bool serve_admin,
                                runtime_hooks hooks) {
  cfg = loaded.config;
  log::configure(cfg.logging);
  auto x = std::make_shared<runtime_parts>();
  x->sys = sys;
  x->callbacks = spawn_callback_hub(*sys);
  std::string market_url;
  std::string trading_url;
  credentials creds;
  if (hooks.market_links) {
    market_url = hooks.market_url;
    // The tape answers any auth; these never leave the process.
    creds = credentials{secret{"replay"}, secret{"replay"}};
    cfg.execution.in_run = false;
  } else if (cfg.uses_simulator()) {
    x->simulator = std::make_unique<sim::simulator>(sim::simulator_options{});
    auto base = "127.0.0.1:" + std::to_string(x->simulator->port());
    market_url = "ws://" + base + "/v2/" + cfg.endpoints.feed;
    trading_url = "http://" + base;
    creds = credentials{secret{sim::default_key}, secret{sim::default_secret}};
    log::warn("engine", "no_credentials",
              {{"detail", "ALPACA_API_KEY and ALPACA_API_SECRET are unset; "
                          "streaming from the built-in simulator"},
               {"endpoint", market_url},
               {"trading_endpoint", trading_url}});
  } else {
    market_url = cfg.endpoints.data_stream_url + "/v2/" + cfg.endpoints.feed;
    trading_url = cfg.endpoints.base_url;
    creds = cfg.alpaca;
    log::info("engine", "credentials",
              {{"key_fingerprint", cfg.alpaca.fingerprint()},
               {"source", loaded.alpaca_source},
               {"endpoint", market_url}});
  }
  auto opts = engine_options_of(cfg, market_upstream(cfg, market_url, creds));
  opts.links = std::move(hooks.market_links);
  // Gaps are repaired from the market-data API's history (the simulator
  // serves it on its one port); a replay has none.
  if (!opts.links) {
    auto data_url = cfg.uses_simulator() ? trading_url : cfg.endpoints.data_url;
    x->data_io = std::make_shared<transport::io_thread>();
    transport::http_client_options http;
    http.base_url = data_url;
    http.ca_file = cfg.stream.ca_file;
    rest_client_config rest;
    rest.base_url = data_url;
    rest.creds = creds;
    rest.requests_per_minute
      = static_cast<uint32_t>(cfg.execution.requests_per_minute);
    rest.request_timeout = cfg.execution.request_timeout;
    rest.max_attempts = static_cast<uint32_t>(cfg.execution.max_attempts);
    rest.port = make_http_rest_port(x->data_io, std::move(http));
    auto client = spawn_rest_client(*sys, std::move(rest));
    if (!client)
      return std::move(client.error());
    x->data_rest = *client;
    opts.upstreams.front().registry.history = *client;
    // The market-data API's own breaker: a failing history API must not
    // open the trading API's, nor the other way round.
    auto breaker_cfg = cfg.breaker;
    breaker_cfg.endpoint = data_url;
    auto breaker = spawn_breaker(*sys, breaker_cfg);
    if (!breaker)
      return std::move(breaker.error());
    x->data_breaker = *breaker;
    opts.upstreams.front().registry.history_breaker = *breaker;
  }
  opts.upstreams.front().registry.feed = cfg.endpoints.feed;
  auto started = engine::start(*sys, std::move(opts));
  if (!started)
    return std::move(started.error());
  x->market = std::move(*started);
  bool trading = cfg.execution.in_run;
  if (!cfg.gateway.key_id.empty() && !cfg.gateway.secret_key.empty()) {
    gateway_server_options gw;
    gw.address = cfg.gateway_listen.address;
    gw.port = static_cast<uint16_t>(cfg.gateway_listen.port);
    gw.accepted = cfg.gateway;
    gw.connections = x->market->connections();
    gw.max_topics_per_client = cfg.gateway_max_topics;
    gw.max_connections = cfg.gateway_max_connections;
    gw.max_connections_per_address = cfg.gateway_max_connections_per_address;
    gw.max_failed_logins
      = static_cast<uint32_t>(cfg.gateway_max_failed_logins);
    gw.login_ban = cfg.gateway_login_ban;
    gw.auth_timeout = cfg.gateway_auth_timeout;
    if (auto err = listener_tls_of("athanor.gateway", cfg.gateway_listen,
                                   gw.tls))
      return std::move(*err);
    gw.routes["/v2/" + cfg.endpoints.feed] = "market";
    gw.trade_updates = trading;
    auto g = gateway_server::start(*sys, std::move(gw));
    if (!g)
      return std::move(g.error());
    x->gateway = std::move(*g);
    if (!is_loopback(cfg.gateway_listen.address) && !cfg.gateway_listen.tls())
      warn_insecure("athanor.gateway.insecure", cfg.gateway_listen.address,
                    "the gateway serves plain ws:// off loopback: its "
                    "credentials cross the network in clear");
    auto paths = "/v2/" + cfg.endpoints.feed + (trading ? " /stream" : "");
    log::info("engine", "gateway_listening",
              {{"detail", "gateway listening on " + x->gateway->url()},
               {"url", x->gateway->url()},
               {"paths", paths}});
  }
  // The executor and the account's trading stream: order updates for the
  // gateway's /stream, order metrics for the admin.
  if (trading) {
    auto opts = desk_options_of(cfg, trading_url, creds,
                                journal_path_of(cfg, process_environment(),
                                                "run"));
    if (x->gateway)
      opts.listeners.push_back(x->gateway->trade_updates());
    opts.supervisor.shutdown_deadline
      = std::min<caf::timespan>(cfg.supervisor.shutdown_deadline,
                                std::chrono::milliseconds{1500});
    auto d = trading_desk::start(*sys, std::move(opts));
    if (!d)
      return std::move(d.error());
    x->desk = std::move(*d);
  }
  if (!cfg.remote.publish.empty())
    if (auto err = publish(*x))
      return err;
  if (serve_admin) {
    admin_server_options opts;
    opts.address = cfg.admin.address;
    opts.port = static_cast<uint16_t>(cfg.admin.port);
    opts.admin.connections = x->market->connections();
    opts.admin.version = ATHANOR_VERSION;
    opts.token = cfg.admin_token;
    if (auto err = listener_tls_of("athanor.admin", cfg.admin, opts.tls))
      return std::move(*err);
    if (x->desk) {
      opts.admin.trading_desk = x->desk->supervisor();
      opts.admin.metric_sources.push_back(
        caf::actor_cast<caf::actor>(x->desk->supervisor()));
    }
    if (x->gateway && x->gateway->metrics_source())
      opts.admin.metric_sources.push_back(x->gateway->metrics_source());
    if (x->front)
      opts.admin.metric_sources.push_back(caf::actor_cast<caf::actor>(x->front));
    opts.admin.metric_sources.push_back(
      caf::actor_cast<caf::actor>(x->callbacks));
    if (x->market->recorder())
      opts.admin.metric_sources.push_back(
        caf::actor_cast<caf::actor>(x->market->recorder()));
    for (auto source : {caf::actor_cast<caf::actor>(x->data_rest),
                        caf::actor_cast<caf::actor>(x->data_breaker)})
      if (source)
        opts.admin.metric_sources.push_back(source);
    auto a = admin_server::start(*sys, std::move(opts));
    if (!a)
      return std::move(a.error());
    x->admin = std::move(*a);
    if (!is_loopback(cfg.admin.address) && !cfg.admin.tls())
      warn_insecure("athanor.admin.insecure", cfg.admin.address,
                    "the admin endpoint serves plain http off loopback: "
                    "/status and /metrics cross the network in clear");
    log::info("engine", "admin_listening",
              {{"detail", "admin listening on " + x->admin->url()},
               {"url", x->admin->url()}});
  }
  admin_url = x->admin ? x->admin->url() : std::string{};
  gateway_url = x->gateway ? x->gateway->url() : std::string{};
  std::atomic_store(&running, std::move(x));
  return caf::none;
}

caf::error runtime::impl::publish(runtime_parts& parts) {
  auto where = parse_host_port(cfg.remote.publish);
  if (!where)
    return make_error(engine_errc::invalid_config,
                      "athanor.remote.publish: must be HOST:PORT");
  auto tls = cfg.remote.tls();
  if (!sys->has_middleman() || (tls && !sys->has_openssl_manager()))
    return make_error(engine_errc::invalid_config,
                      std::string{"athanor.remote.publish: the actor system "
                                  "lacks "}
                        + (tls ? "caf::openssl::manager" : "the middleman")
                        + " (see athanor::prepare)");
  remote_front_config front_cfg;
  front_cfg.connections = parts.market->connections();
  if (parts.desk)
    front_cfg.trading_desk = parts.desk->supervisor();
  front_cfg.execute.allow = cfg.remote.execute;
  front_cfg.execute.peers = execute_peers_of(cfg.remote);
  if (!front_cfg.execute.peers.empty()) {
    // Read again at start; an empty CA would refuse every proof unseen.
    auto ca = read_file(cfg.remote.ca_file);
    if (!ca)
      return make_error(engine_errc::invalid_config,
                        "athanor.remote.ca-file: cannot read '"
                          + cfg.remote.ca_file + "'");
    front_cfg.execute.ca_pem = std::move(*ca);
  }
  if (!is_loopback(where->first) && !tls)
    warn_insecure("athanor.remote.insecure", cfg.remote.publish,
                  "published off loopback without TLS: any peer that "
                  "reaches it attaches");
  parts.front = spawn_remote_front(*sys, std::move(front_cfg));
  auto& [host, port] = *where;
  auto bound = tls ? caf::openssl::publish(parts.front, port, host.c_str(), true)
                   : sys->middleman().publish(parts.front, port, host.c_str(),
                                              true);
  if (!bound)
    return make_error(engine_errc::invalid_config,
                      "athanor.remote.publish: cannot publish on "
                        + cfg.remote.publish + ": " + render(bound.error()));
  parts.front_port = *bound;
  published_at = host + ":" + std::to_string(parts.front_port);
  log::info("engine", "published",
            {{"detail", "publish " + std::string{tls ? "(BASP over TLS) "
                                                     : "(BASP) "}
                          + "listening on " + published_at},
             {"address", published_at},
             {"tls", tls}});
  return caf::none;
}

runtime::runtime(std::unique_ptr<impl> x) : impl_(std::move(x)) {}

runtime::~runtime() {
  stop();
}

caf::actor_system& runtime::system() {
  return *impl_->sys;
}

void runtime::stop() {
  if (impl_)
    impl_->stop();
}

caf::expected<subscription>
runtime::subscribe(std::vector<std::string> symbols,
                   std::vector<channel> channels, data_callbacks callbacks) {
  auto parts = impl_->parts();
  if (!parts)
    return stopped_error();
  callback_subscriber_actor made;
  auto backfill = callbacks.backfill;
  auto result = subscribe_callbacks(
    *impl_->sys, std::move(callbacks),
    [&](subscriber_actor actor, std::string name) {
      return subscribe(std::move(symbols), std::move(channels),
                       std::move(actor), std::move(name),
                       std::move(backfill));
    },
    &made);
  if (result) {
    // Ending our callback actor ends its lease too.
    subscription::state::of(*result).connections = nullptr;
    caf::anon_send(parts->callbacks, attach_atom::value, made);
  }
  return result;
}

caf::expected<subscription>
runtime::subscribe(std::vector<std::string> symbols,
                   std::vector<channel> channels, subscriber_actor subscriber,
                   std::string name, std::vector<channel> backfill) {
  auto parts = impl_->parts();
  if (!parts)
    return stopped_error();
  auto topics = topics_of(symbols, channels);
  if (topics.empty())
    return make_error(engine_errc::invalid_config,
                      "subscribe: give at least one symbol and one channel");
  auto granted = parts->market->subscribe("market", subscriber, topics,
                                          std::move(name), std::move(backfill));
  if (!granted)
    return std::move(granted.error());
  auto st = std::make_shared<subscription::state>();
  st->connections = parts->market->connections();
  st->granted = std::move(*granted);
  st->subscriber = std::move(subscriber);
  st->topics = std::move(topics);
  return subscription{std::move(st)};
}

caf::expected<plan_result> runtime::execute(const plan& spec,
                                            std::chrono::milliseconds timeout) {
  auto parts = impl_->parts();
  if (!parts)
    return stopped_error();
  if (!parts->desk)
    return make_error(engine_errc::invalid_config,
                      "the executor does not run here "
                      "(athanor.executor.in-run=false)");
  return parts->desk->execute(spec, timeout);
}

void runtime::watch(session_listener_actor listener) {
  if (auto parts = impl_->parts())
    caf::anon_send(parts->market->connections(), listen_atom::value,
                   std::move(listener));
}

runtime_health runtime::health() {
  runtime_health result;
  auto parts = impl_->parts();
  if (!parts)
    return result;
  auto upstreams = parts->market->health();
  if (!upstreams)
    return result;
  result.upstreams = std::move(*upstreams);
  result.ready = true;
  for (auto& u : result.upstreams)
    if (u.leases > 0 && u.state != session_state::streaming)
      result.ready = false;
  if (parts->desk) {
    upstream_health trading;
    trading.name = "trading";
    trading.leases = 1;
    trading.state = session_state::stopped;
    if (auto x = parts->desk->stream_status()) {
      trading.endpoint = x->endpoint;
      trading.fingerprint = x->fingerprint;
      trading.state = x->state;
      trading.epoch = x->epoch;
      trading.last_error = x->last_error;
      trading.last_errc = x->last_errc;
    } else {
      trading.last_error = render(x.error());
    }
    result.ready = result.ready && trading.state == session_state::streaming;
    result.upstreams.push_back(std::move(trading));
  }
  return result;
}

caf::expected<metric_samples> runtime::metrics() {
  auto parts = impl_->parts();
  if (!parts)
    return stopped_error();
  auto result = parts->market->metrics();
  if (!result)
    return result;
  caf::scoped_actor self{*impl_->sys};
  auto add = [&](const caf::actor& source) {
    self->request(source, call_timeout, metrics_atom::value)
      .receive(
        [&](metric_samples& xs) {
          result->insert(result->end(), xs.begin(), xs.end());
        },
        [&](caf::error& err) { result = std::move(err); });
  };
  add(caf::actor_cast<caf::actor>(parts->callbacks));
  if (result && parts->front)
    add(caf::actor_cast<caf::actor>(parts->front));
  if (result && parts->desk)
    add(caf::actor_cast<caf::actor>(parts->desk->supervisor()));
  if (result && parts->market->recorder())
    add(caf::actor_cast<caf::actor>(parts->market->recorder()));
  for (auto source : {caf::actor_cast<caf::actor>(parts->data_rest),
                      caf::actor_cast<caf::actor>(parts->data_breaker)})
    if (result && source)
      add(source);
  return result;
}

std::string runtime::admin_url() const {
  return impl_->admin_url;
}

std::string runtime::gateway_url() const {
  return impl_->gateway_url;
}

std::string runtime::published_at() const {
  return impl_->published_at;
}

// -- starting -----------------------------------------------------------------

void prepare(caf::actor_system_config& cfg) {
  add_message_types(cfg);
  cfg.load<caf::io::middleman>();
}

caf::expected<std::unique_ptr<runtime>>
start_runtime(caf::actor_system& sys, const loaded_config& loaded,
              bool serve_admin, runtime_hooks hooks) {
  auto x = std::make_unique<runtime::impl>();
  x->sys = &sys;
  if (auto err = x->start(loaded, serve_admin, std::move(hooks))) {
    x->stop();
    return err;
  }
  return std::unique_ptr<runtime>{new runtime(std::move(x))};
}

caf::expected<std::unique_ptr<runtime>>
start_runtime(const loaded_config& loaded, bool serve_admin,
              runtime_hooks hooks) {
  auto x = std::make_unique<runtime::impl>();
  x->own_config = std::make_unique<system_config>(loaded);
  if (!x->own_config->problem.empty())
    return make_error(engine_errc::invalid_config, x->own_config->problem);
  x->own_system = std::make_unique<caf::actor_system>(*x->own_config);
  x->sys = x->own_system.get();
  if (auto err = x->start(loaded, serve_admin, std::move(hooks))) {
    x->stop();
    return err;
  }
  return std::unique_ptr<runtime>{new runtime(std::move(x))};
}

namespace {

caf::expected<loaded_config> load(const runtime_options& opts) {
  auto loaded = load_config(opts.settings,
                            opts.environment ? *opts.environment
                                             : process_environment());
  if (!loaded.problems.empty())
    return make_error(engine_errc::invalid_config, to_string(loaded.problems));
  if (!loaded.subcommand.empty() || !loaded.arguments.empty())
    return make_error(engine_errc::invalid_config,
                      "runtime settings take options only, not '"
                        + loaded.subcommand + "'");
  return loaded;
}

} // namespace

caf::expected<std::unique_ptr<runtime>> runtime::start(runtime_options opts) {
  auto loaded = load(opts);
  if (!loaded)
    return std::move(loaded.error());
  return start_runtime(*loaded, opts.serve_admin);
}

caf::expected<std::unique_ptr<runtime>>
runtime::start(caf::actor_system& sys, runtime_options opts) {
  auto loaded = load(opts);
  if (!loaded)
    return std::move(loaded.error());
  if (!loaded->caf_arguments.empty())
    return make_error(engine_errc::invalid_config,
                      "CAF options (" + loaded->caf_arguments.front()
                        + ") belong to the host's actor system config");
  return start_runtime(sys, *loaded, opts.serve_admin);
}

caf::expected<plan> plan_from_json(const std::string& text) {
  plan result;
  std::vector<config_problem> problems;
  if (!protocol::decode_plan(text, result, problems))
    return make_error(engine_errc::invalid_plan, to_string(problems));
  return result;
}

} // namespace athanor
