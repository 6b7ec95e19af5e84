#include "runtime/admin_server.hpp"

#include <stdexcept>

#include "caf/actor_system.hpp"
#include "caf/send.hpp"

#include "messages/error.hpp"
#include "observability/log.hpp"
#include "transport/server.hpp"
#include "transport/tls.hpp"

namespace athanor {

namespace {

// Hands the admin actor's answer back to the HTTP session.
class responder_answer : public admin_answer {
 public:
  explicit responder_answer(transport::http_responder respond)
    : respond_(std::move(respond)) {}

  void send(int status, std::string content_type, std::string body) override {
    transport::http_response res;
    res.status = status;
    res.headers["Content-Type"] = std::move(content_type);
    res.headers["Cache-Control"] = "no-store";
    res.body = std::move(body);
    respond_(std::move(res));
  }

 private:
  transport::http_responder respond_;
};

// The token of an "Authorization: Bearer <token>" header ("" if none).
secret bearer_of(const std::string& header) {
  const std::string scheme = "Bearer ";
  if (header.size() <= scheme.size()
      || header.compare(0, scheme.size(), scheme) != 0)
    return secret{};
  return secret{header.substr(scheme.size())};
}

} // namespace

caf::expected<std::unique_ptr<admin_server>>
admin_server::start(caf::actor_system& sys, admin_server_options opts) {
  if (opts.tls.tls())
    if (auto why = transport::pem_problem(opts.tls.certificate, opts.tls.key);
        !why.empty())
      return make_error(engine_errc::invalid_config,
                        "athanor.admin: the TLS certificate or key " + why);
  auto admin = spawn_admin(sys, std::move(opts.admin));
  if (!admin)
    return admin.error();
  std::unique_ptr<admin_server> result{new admin_server};
  result->admin_ = *admin;
  result->address_ = opts.address;
  transport::server_callbacks callbacks;
  callbacks.on_upgrade = [](const transport::http_request&) {
    transport::upgrade_decision no;
    no.rejection.status = 404;
    no.rejection.body = "no WebSocket here";
    return no;
  };
  callbacks.on_http_async = [admin = *admin, token = opts.token](
                               const transport::http_request& req,
                               transport::http_responder respond) {
    // Liveness stays open for probes; everything else shows internals.
    if (!token.empty() && req.path() != "/healthz"
        && !(bearer_of(req.header("authorization")) == token)) {
      transport::http_response res;
      res.status = 401;
      res.headers["WWW-Authenticate"] = "Bearer realm=\"athanor\"";
      res.body = "a bearer token is required (ATHANOR_ADMIN_TOKEN)\n";
      log::warn("admin", "unauthorized", {{"path", req.path()}});
      respond(std::move(res));
      return;
    }
    if (req.method != "GET" && req.method != "HEAD") {
      transport::http_response res;
      res.status = 405;
      res.body = "GET only\n";
      respond(std::move(res));
      return;
    }
    caf::anon_send(admin,
                   admin_query{req.path(), std::make_shared<responder_answer>(
                                             std::move(respond))});
  };
  transport::server_options server_opts;
  server_opts.address = opts.address;
  server_opts.port = opts.port;
  server_opts.tls_certificate_pem = opts.tls.certificate;
  server_opts.tls_private_key_pem = opts.tls.key;
  server_opts.tls_client_ca_pem = opts.tls.client_ca;
  try {
    result->server_ = std::make_unique<transport::server>(
      std::move(server_opts), std::move(callbacks));
  } catch (const std::runtime_error& e) { // boost::system::system_error
    caf::anon_send_exit(*admin, caf::exit_reason::user_shutdown);
    return make_error(engine_errc::invalid_config,
                      "athanor.admin: cannot listen on " + opts.address + ":"
                        + std::to_string(opts.port) + ": " + e.what());
  }
  return result;
}

admin_server::~admin_server() {
  server_.reset();
  caf::anon_send_exit(admin_, caf::exit_reason::user_shutdown);
}

uint16_t admin_server::port() const {
  return server_->port();
}

std::string admin_server::url() const {
  auto scheme = server_->tls() ? "https://" : "http://";
  return scheme + address_ + ":" + std::to_string(port());
}

} // namespace athanor
