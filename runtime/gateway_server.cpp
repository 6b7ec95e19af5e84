#include "runtime/gateway_server.hpp"

#include <mutex>
#include <stdexcept>

#include "caf/actor_system.hpp"
#include "caf/send.hpp"

#include "actors/gateway/gateway_trading_client.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"
#include "transport/server.hpp"

namespace athanor {

// What the server's handlers and the clients' links share. The lock guards
// only the hand-off to the server's thread: a link may outlive the server.
struct gateway_server::shared {
  std::mutex mtx;
  std::unique_ptr<transport::server> server;
  /// Server thread only (every handler runs there): clients connected now.
  size_t open_clients = 0;

  /// Runs `f` on the server thread, unless the server is gone.
  void post(std::function<void()> f) {
    std::lock_guard<std::mutex> guard{mtx};
    if (server)
      server->post(std::move(f));
  }
};

namespace {

// The actor's way to its client: frames go to the server's thread, where
// the slow-client check sees the socket's real backlog.
class server_link : public client_link {
 public:
  server_link(std::shared_ptr<gateway_server::shared> sh,
              std::weak_ptr<transport::ws_connection> conn,
              protocol::codec encoding, size_t max_queued_bytes)
    : shared_(std::move(sh)), conn_(std::move(conn)), encoding_(encoding),
      max_queued_bytes_(max_queued_bytes),
      dropped_(std::make_shared<bool>(false)) {}

  void send(std::string frame) override {
    shared_->post([conn = conn_, frame = std::move(frame), dropped = dropped_,
                   encoding = encoding_, limit = max_queued_bytes_] {
      auto c = conn.lock();
      if (!c || *dropped)
        return;
      auto binary = encoding == protocol::codec::msgpack;
      if (c->queued_bytes() > limit) {
        // Alpaca's treatment of a client that cannot keep up.
        *dropped = true;
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
  size_t max_queued_bytes_;
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
                 size_t max_queued_bytes)
    : spawn_(std::move(spawn)), encoding_(encoding), shared_(std::move(sh)),
      max_queued_bytes_(max_queued_bytes) {}

  void on_open(const transport::ws_connection_ptr& conn) override {
    ++shared_->open_clients;
    client_ = spawn_(std::make_shared<server_link>(shared_, conn, encoding_,
                                                   max_queued_bytes_),
                     "connection-" + std::to_string(conn->id()));
  }

  void on_message(const transport::ws_connection_ptr&, std::string frame,
                  bool) override {
    caf::anon_send(client_, gateway_frame{std::move(frame)});
  }

  void on_close(const transport::ws_connection_ptr&, bool) override {
    --shared_->open_clients;
    caf::anon_send(client_, gateway_closed{});
  }

 private:
  client_spawner spawn_;
  protocol::codec encoding_;
  std::shared_ptr<gateway_server::shared> shared_;
  size_t max_queued_bytes_;
  caf::actor client_;
};

// One client too many: Alpaca's own answer, then the close.
class refusing_handler : public transport::ws_handler {
 public:
  refusing_handler(protocol::codec encoding, std::string message)
    : encoding_(encoding), message_(std::move(message)) {}

  void on_open(const transport::ws_connection_ptr& conn) override {
    conn->send(protocol::encode_error(encoding_, 406, message_),
               encoding_ == protocol::codec::msgpack);
    conn->close(1008);
  }

  void on_message(const transport::ws_connection_ptr&, std::string,
                  bool) override {}

  void on_close(const transport::ws_connection_ptr&, bool) override {}

 private:
  protocol::codec encoding_;
  std::string message_;
};

} // namespace

caf::expected<std::unique_ptr<gateway_server>>
gateway_server::start(caf::actor_system& sys, gateway_server_options opts) {
  if (opts.accepted.key_id.empty() || opts.accepted.secret_key.empty())
    return make_error(engine_errc::invalid_config,
                      "the gateway needs ATHANOR_GATEWAY_KEY and "
                      "ATHANOR_GATEWAY_SECRET");
  std::unique_ptr<gateway_server> result{new gateway_server};
  result->address_ = opts.address;
  result->shared_ = std::make_shared<shared>();
  if (opts.trade_updates)
    result->relay_ = spawn_trade_update_relay(sys);
  transport::server_callbacks callbacks;
  callbacks.on_upgrade = [&sys, opts, relay = result->relay_,
                          sh = result->shared_](const transport::http_request&
                                                  req) {
    transport::upgrade_decision decision;
    auto encoding = req.header("content-type") == "application/msgpack"
                      ? protocol::codec::msgpack
                      : protocol::codec::json;
    if (sh->open_clients >= opts.max_connections) {
      log::write(log::level::warn, "gateway", "connection_limit", nullptr,
                 {{"open", static_cast<uint64_t>(sh->open_clients)},
                  {"limit", static_cast<uint64_t>(opts.max_connections)}});
      decision.handler = std::make_shared<refusing_handler>(
        encoding, "connection limit exceeded: "
                    + std::to_string(opts.max_connections)
                    + " clients at most (athanor.gateway.max-connections)");
      return decision;
    }
    if (relay && req.path() == "/stream") {
      auto spawn = [&sys, accepted = opts.accepted, relay,
                    encoding](std::shared_ptr<client_link> link,
                              std::string peer) {
        gateway_trading_client_config cfg;
        cfg.encoding = encoding;
        cfg.accepted = accepted;
        cfg.relay = relay;
        cfg.link = std::move(link);
        cfg.peer = std::move(peer);
        return caf::actor_cast<caf::actor>(
          spawn_gateway_trading_client(sys, std::move(cfg)));
      };
      decision.handler = std::make_shared<client_handler>(
        std::move(spawn), encoding, sh, opts.max_queued_bytes);
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
    auto spawn = [&sys, cfg](std::shared_ptr<client_link> link,
                             std::string peer) mutable {
      cfg.link = std::move(link);
      cfg.peer = std::move(peer);
      return caf::actor_cast<caf::actor>(spawn_gateway_client(sys, cfg));
    };
    decision.handler = std::make_shared<client_handler>(
      std::move(spawn), encoding, sh, opts.max_queued_bytes);
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
}

order_listener_actor gateway_server::trade_updates() const {
  return caf::actor_cast<order_listener_actor>(relay_);
}

caf::actor gateway_server::metrics_source() const {
  return caf::actor_cast<caf::actor>(relay_);
}

uint16_t gateway_server::port() const {
  return shared_->server->port();
}

std::string gateway_server::url() const {
  return "ws://" + address_ + ":" + std::to_string(port());
}

} // namespace athanor
