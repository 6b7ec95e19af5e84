#include "runtime/gateway_server.hpp"

#include <algorithm>
#include <deque>
#include <map>
#include <atomic>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "caf/actor_system.hpp"
#include "caf/send.hpp"

#include "actors/gateway/gateway_admission_metrics.hpp"
#include "actors/gateway/gateway_trading_client.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"
#include "runtime/config.hpp"
#include "transport/server.hpp"
#include "transport/tls.hpp"

namespace athanor {

// What the server's handlers and the clients' links share. The lock guards
// only the hand-off to the server's thread: a link may outlive the server.
struct gateway_server::shared {
  std::mutex mtx;
  std::unique_ptr<transport::server> server;
  /// Market-data clients spawned so far (their labels count them).
  std::atomic<uint64_t> market_clients{0};
  /// Who may connect. Server thread only: every handler runs there.
  struct admission {
    using clock = std::chrono::steady_clock;
    struct peer {
      size_t open = 0;
      std::deque<clock::time_point> failures;
      clock::time_point banned_until{};
      /// Bans so far: each doubles the next (up to 64 x login-ban), until
      /// the address has been quiet for an hour and is forgotten.
      uint32_t bans = 0;

      bool quiet_since(clock::time_point now) const {
        auto last = std::max(banned_until, failures.empty()
                                             ? clock::time_point{}
                                             : failures.back());
        return open == 0 && now - last > std::chrono::hours{1};
      }
    };
    std::map<std::string, peer> peers;
    /// Read by the metrics actor; written here only (`open` is the count
    /// of connected clients the caps use).
    std::shared_ptr<gateway_admission_counters> counters
      = std::make_shared<gateway_admission_counters>();
    /// A flood of refused connections logs one line per reason every
    /// `refusal_log_interval`, with the count left out since.
    struct log_window {
      clock::time_point next{};
      uint64_t suppressed = 0;
    };
    std::map<std::string, log_window> refusal_logs;
    static constexpr auto refusal_log_interval = std::chrono::seconds{10};

    void opened(const std::string& address) {
      ++counters->open;
      ++peers[address].open;
      ++counters->accepted;
    }

    /// Forgets addresses with nothing open, no recent failure and no ban
    /// (an address banned once and never back would otherwise stay). Runs
    /// when the table has doubled since the last sweep: with many guessing
    /// addresses none of which is quiet yet, sweeping on every failed login
    /// would cost the whole table each time.
    void sweep(clock::time_point now) {
      if (peers.size() < sweep_at)
        return;
      for (auto i = peers.begin(); i != peers.end();)
        if (i->second.quiet_since(now))
          i = peers.erase(i);
        else
          ++i;
      sweep_at = std::max<size_t>(1024, 2 * peers.size());
    }
    size_t sweep_at = 1024;

    void closed(const std::string& address) {
      --counters->open;
      auto i = peers.find(address);
      if (i != peers.end() && --i->second.open == 0
          && i->second.failures.empty() && i->second.bans == 0)
        peers.erase(i);
    }
  } admission;

  /// Runs `f` on the server thread, unless the server is gone.
  void post(std::function<void()> f) {
    std::lock_guard<std::mutex> guard{mtx};
    if (server)
      server->post(std::move(f));
  }
};

namespace {

// Every local client is 127.0.0.1: per-address rules apply off loopback
// (see gateway_server_options::per_address_on_loopback).
bool per_address_rules_apply(const gateway_server_options& opts,
                             const std::string& address) {
  return opts.per_address_on_loopback || !is_loopback(address);
}

// The actor's way to its client: frames go to the server's thread, where
// the slow-client check sees the socket's real backlog.
class server_link : public client_link {
 public:
  server_link(std::shared_ptr<gateway_server::shared> sh,
              std::weak_ptr<transport::ws_connection> conn,
              protocol::codec encoding, std::string address,
              std::shared_ptr<const gateway_server_options> limits)
    : shared_(std::move(sh)), conn_(std::move(conn)), encoding_(encoding),
      address_(std::move(address)), limits_(std::move(limits)),
      dropped_(std::make_shared<bool>(false)) {}

  // Too many in the window: the address's new connections are refused for
  // the ban (those already open stay).
  void login_failed() override {
    shared_->post([sh = shared_.get(), address = address_,
                   limits = limits_] {
      ++sh->admission.counters->failed_logins;
      if (!per_address_rules_apply(*limits, address))
        return;
      auto limit = limits->max_failed_logins;
      auto window = limits->login_window;
      auto ban = limits->login_ban;
      using clock = gateway_server::shared::admission::clock;
      auto now = clock::now();
      sh->admission.sweep(now);
      auto& peer = sh->admission.peers[address];
      peer.failures.push_back(now);
      while (!peer.failures.empty() && now - peer.failures.front() > window)
        peer.failures.pop_front();
      if (peer.failures.size() < limit)
        return;
      peer.failures.clear();
      auto length = ban * (int64_t{1} << std::min<uint32_t>(peer.bans, 6));
      peer.banned_until = now + length;
      ++peer.bans;
      ++sh->admission.counters->bans;
      log::write(log::level::warn, "gateway", "login_throttled", nullptr,
                 {{"address", address},
                  {"failed_logins", static_cast<uint64_t>(limit)},
                  {"ban", static_cast<uint64_t>(peer.bans)},
                  {"ban_ms", static_cast<double>(length.count()) / 1e6}});
    });
  }

  void send(std::string frame) override {
    shared_->post([sh = shared_.get(), conn = conn_, frame = std::move(frame),
                   dropped = dropped_, encoding = encoding_,
                   limit = limits_->max_queued_bytes] {
      auto c = conn.lock();
      if (!c || *dropped)
        return;
      auto binary = encoding == protocol::codec::msgpack;
      if (c->queued_bytes() > limit) {
        // Alpaca's treatment of a client that cannot keep up.
        *dropped = true;
        ++sh->admission.counters->slow_clients;
        log::write(log::level::warn, "gateway", "slow_client", nullptr,
                   {{"connection", c->id()},
                    {"queued_bytes", c->queued_bytes()}});
        c->send(protocol::encode_error(encoding, 407, "slow client"), binary);
        c->close(1008);
        return;
      }
      c->send(std::move(frame), binary);
    });
  }

  void close() override {
    shared_->post([conn = conn_] {
      if (auto c = conn.lock())
        c->close(1000);
    });
  }

 private:
  std::shared_ptr<gateway_server::shared> shared_;
  std::weak_ptr<transport::ws_connection> conn_;
  protocol::codec encoding_;
  std::string address_;
  std::shared_ptr<const gateway_server_options> limits_;
  /// Server thread only.
  std::shared_ptr<bool> dropped_;
};

// Starts the actor serving one connection; gets the client's link and its
// name for logs.
using client_spawner = std::function<caf::actor(std::shared_ptr<client_link>,
                                                std::string peer)>;

class client_handler : public transport::ws_handler {
 public:
  client_handler(client_spawner spawn, protocol::codec encoding,
                 std::shared_ptr<gateway_server::shared> sh,
                 std::string address,
                 std::shared_ptr<const gateway_server_options> limits)
    : spawn_(std::move(spawn)), encoding_(encoding), shared_(std::move(sh)),
      address_(std::move(address)), limits_(std::move(limits)) {}

  void on_open(const transport::ws_connection_ptr& conn) override {
    shared_->admission.opened(address_);
    client_ = spawn_(std::make_shared<server_link>(shared_, conn, encoding_,
                                                   address_, limits_),
                     "connection-" + std::to_string(conn->id()));
  }

  void on_message(const transport::ws_connection_ptr&, std::string frame,
                  bool) override {
    caf::anon_send(client_, gateway_frame{std::move(frame)});
  }

  void on_close(const transport::ws_connection_ptr&, bool) override {
    shared_->admission.closed(address_);
    caf::anon_send(client_, gateway_closed{});
  }

 private:
  client_spawner spawn_;
  protocol::codec encoding_;
  std::shared_ptr<gateway_server::shared> shared_;
  std::string address_;
  std::shared_ptr<const gateway_server_options> limits_;
  caf::actor client_;
};

// One client too many: Alpaca's own answer, then the close.
class refusing_handler : public transport::ws_handler {
 public:
  refusing_handler(protocol::codec encoding, int code, std::string message)
    : encoding_(encoding), code_(code), message_(std::move(message)) {}

  void on_open(const transport::ws_connection_ptr& conn) override {
    conn->send(protocol::encode_error(encoding_, code_, message_),
               encoding_ == protocol::codec::msgpack);
    conn->close(1008);
  }

  void on_message(const transport::ws_connection_ptr&, std::string,
                  bool) override {}

  void on_close(const transport::ws_connection_ptr&, bool) override {}

 private:
  protocol::codec encoding_;
  int code_;
  std::string message_;
};

struct refusal {
  /// Alpaca's error code for the client.
  int code;
  std::string message;
  /// The counter it goes to, and its name in logs.
  std::atomic<uint64_t> gateway_admission_counters::*counter;
  const char* reason;
};

// Why a new client from `address` may not connect now; nullopt if it may.
std::optional<refusal>
refusal_of(const gateway_server::shared& sh, const std::string& address,
           const gateway_server_options& opts) {
  using clock = gateway_server::shared::admission::clock;
  auto& adm = sh.admission;
  auto peer = per_address_rules_apply(opts, address) ? adm.peers.find(address)
                                                     : adm.peers.end();
  if (peer != adm.peers.end() && peer->second.banned_until > clock::now()) {
    auto left = std::chrono::duration_cast<std::chrono::seconds>(
                  peer->second.banned_until - clock::now())
                  .count()
                + 1;
    return refusal{429,
                   "too many failed logins from this address; try again in "
                     + std::to_string(left) + " s",
                   &gateway_admission_counters::refused_banned, "login_ban"};
  }
  if (adm.counters->open >= opts.max_connections)
    return refusal{406,
                   "connection limit exceeded: "
                     + std::to_string(opts.max_connections)
                     + " clients at most (athanor.gateway.max-connections)",
                   &gateway_admission_counters::refused_total_limit,
                   "max_connections"};
  if (peer != adm.peers.end()
      && peer->second.open >= opts.max_connections_per_address)
    return refusal{406,
                   "connection limit exceeded: "
                     + std::to_string(opts.max_connections_per_address)
                     + " clients per address at most "
                       "(athanor.gateway.max-connections-per-address)",
                   &gateway_admission_counters::refused_address_limit,
                   "max_connections_per_address"};
  return std::nullopt;
}

// Counts the refusal and logs it, unless this reason was logged within the
// interval (then the next line says how many were left out).
void log_refusal(gateway_server::shared& sh,
                 const transport::http_request& req, const refusal& x) {
  auto& adm = sh.admission;
  auto& counters = *adm.counters;
  ++(counters.*x.counter);
  auto now = gateway_server::shared::admission::clock::now();
  auto& window = adm.refusal_logs[x.reason];
  if (now < window.next) {
    ++window.suppressed;
    ++counters.refusal_logs_suppressed;
    return;
  }
  log::write(log::level::warn, "gateway", "client_refused", nullptr,
             {{"address", req.peer_address},
              {"certificate", req.peer_certificate},
              {"code", static_cast<int64_t>(x.code)},
              {"limit", x.reason},
              {"reason", x.message},
              {"suppressed_since_last", window.suppressed}});
  window.suppressed = 0;
  window.next = now + gateway_server::shared::admission::refusal_log_interval;
}

} // namespace

caf::expected<std::unique_ptr<gateway_server>>
gateway_server::start(caf::actor_system& sys, gateway_server_options opts) {
  if (opts.tls.tls())
    if (auto why = transport::pem_problem(opts.tls.certificate, opts.tls.key);
        !why.empty())
      return make_error(engine_errc::invalid_config,
                        "athanor.gateway: the TLS certificate or key " + why);
  if (opts.accepted.key_id.empty() || opts.accepted.secret_key.empty())
    return make_error(engine_errc::invalid_config,
                      "the gateway needs ATHANOR_GATEWAY_KEY and "
                      "ATHANOR_GATEWAY_SECRET");
  std::unique_ptr<gateway_server> result{new gateway_server};
  result->address_ = opts.address;
  result->shared_ = std::make_shared<shared>();
  if (opts.trade_updates)
    result->relay_ = spawn_trade_update_relay(sys);
  std::vector<caf::actor> more;
  if (result->relay_)
    more.push_back(caf::actor_cast<caf::actor>(result->relay_));
  result->metrics_ = spawn_gateway_admission_metrics(
    sys, result->shared_->admission.counters, std::move(more));
  transport::server_callbacks callbacks;
  auto limits = std::make_shared<const gateway_server_options>(opts);
  callbacks.on_upgrade = [&sys, opts, limits, relay = result->relay_,
                          sh = result->shared_](const transport::http_request&
                                                  req) {
    transport::upgrade_decision decision;
    auto encoding = req.header("content-type") == "application/msgpack"
                      ? protocol::codec::msgpack
                      : protocol::codec::json;
    if (auto refused = refusal_of(*sh, req.peer_address, *limits)) {
      log_refusal(*sh, req, *refused);
      decision.handler = std::make_shared<refusing_handler>(
        encoding, refused->code, refused->message);
      return decision;
    }
    if (relay && req.path() == "/stream") {
      auto spawn = [&sys, accepted = opts.accepted, relay, encoding,
                    auth_timeout = opts.auth_timeout](
                     std::shared_ptr<client_link> link, std::string peer) {
        gateway_trading_client_config cfg;
        cfg.encoding = encoding;
        cfg.accepted = accepted;
        cfg.auth_timeout = auth_timeout;
        cfg.relay = relay;
        cfg.link = std::move(link);
        cfg.peer = std::move(peer);
        return caf::actor_cast<caf::actor>(
          spawn_gateway_trading_client(sys, std::move(cfg)));
      };
      decision.handler = std::make_shared<client_handler>(
        std::move(spawn), encoding, sh, req.peer_address, limits);
      return decision;
    }
    auto route = opts.routes.find(req.path());
    if (route == opts.routes.end()) {
      decision.rejection.status = 404;
      decision.rejection.body = "no such feed here";
      return decision;
    }
    gateway_client_config cfg;
    cfg.encoding = encoding;
    cfg.crypto = req.path().find("/crypto/") != std::string::npos;
    cfg.accepted = opts.accepted;
    cfg.upstream = route->second;
    cfg.connections = opts.connections;
    cfg.max_topics = opts.max_topics_per_client;
    cfg.auth_timeout = opts.auth_timeout;
    auto spawn = [&sys, cfg, sh](std::shared_ptr<client_link> link,
                                 std::string peer) mutable {
      cfg.link = std::move(link);
      cfg.peer = std::move(peer);
      // Stable across scrapes: the server's count of market-data clients.
      cfg.label = "gateway-" + std::to_string(++sh->market_clients);
      return caf::actor_cast<caf::actor>(spawn_gateway_client(sys, cfg));
    };
    decision.handler = std::make_shared<client_handler>(
      std::move(spawn), encoding, sh, req.peer_address, limits);
    return decision;
  };
  callbacks.on_http = [](const transport::http_request&) {
    transport::http_response res;
    res.status = 426;
    res.body = "the gateway speaks WebSocket only\n";
    return res;
  };
  transport::server_options server_opts;
  server_opts.address = opts.address;
  server_opts.port = opts.port;
  server_opts.tls_certificate_pem = opts.tls.certificate;
  server_opts.tls_private_key_pem = opts.tls.key;
  server_opts.tls_client_ca_pem = opts.tls.client_ca;
  server_opts.close_timeout = opts.close_timeout;
  try {
    auto srv = std::make_unique<transport::server>(std::move(server_opts),
                                                   std::move(callbacks));
    std::lock_guard<std::mutex> guard{result->shared_->mtx};
    result->shared_->server = std::move(srv);
  } catch (const std::runtime_error& e) { // boost::system::system_error
    return make_error(engine_errc::invalid_config,
                      "athanor.gateway: cannot listen on " + opts.address + ":"
                        + std::to_string(opts.port) + ": " + e.what());
  }
  return result;
}

gateway_server::~gateway_server() {
  std::unique_ptr<transport::server> srv;
  {
    std::lock_guard<std::mutex> guard{shared_->mtx};
    srv = std::move(shared_->server);
  }
  // Stopped outside the lock: its handlers may post through `shared_`.
  srv.reset();
  if (relay_)
    caf::anon_send_exit(relay_, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(metrics_, caf::exit_reason::user_shutdown);
}

order_listener_actor gateway_server::trade_updates() const {
  return caf::actor_cast<order_listener_actor>(relay_);
}

caf::actor gateway_server::metrics_source() const {
  return metrics_;
}

uint16_t gateway_server::port() const {
  return shared_->server->port();
}

std::string gateway_server::url() const {
  auto scheme = shared_->server->tls() ? "wss://" : "ws://";
  return scheme + address_ + ":" + std::to_string(port());
}

} // namespace athanor
