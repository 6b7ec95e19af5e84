#include "actors/trading/rest_port.hpp"

#include "caf/send.hpp"

#include "messages/execution.hpp"

namespace athanor {

namespace {

http_failure failure_of(transport::http_outcome x) {
  using transport::http_outcome;
  switch (x) {
    case http_outcome::answered: return http_failure::none;
    case http_outcome::bad_url: return http_failure::bad_url;
    case http_outcome::resolve_failed: return http_failure::resolve_failed;
    case http_outcome::connect_failed: return http_failure::connect_failed;
    case http_outcome::tls_failed: return http_failure::tls_failed;
    case http_outcome::certificate_invalid:
      return http_failure::certificate_invalid;
    case http_outcome::timeout: return http_failure::timeout;
    case http_outcome::connection_lost: return http_failure::connection_lost;
    case http_outcome::canceled: return http_failure::canceled;
  }
  return http_failure::connection_lost;
}

class http_rest_port : public rest_port {
 public:
  http_rest_port(std::shared_ptr<transport::io_thread> io,
                 transport::http_client_options opts)
    : io_(std::move(io)),
      client_(transport::http_client::create(*io_, std::move(opts))) {}

  void send(transport::http_call call, uint64_t id,
            caf::actor reply_to) override {
    client_->request(std::move(call), [id, reply_to](transport::http_reply r) {
      http_answer answer;
      answer.id = id;
      answer.failure = failure_of(r.outcome);
      if (answer.failure == http_failure::none)
        answer.status = r.status;
      answer.detail = std::move(r.detail);
      answer.headers = std::move(r.headers);
      answer.body = std::move(r.body);
      answer.received_at = r.received_at;
      caf::anon_send(reply_to, std::move(answer));
    });
  }

 private:
  // Declared first: destroyed after the client, which needs the thread.
  std::shared_ptr<transport::io_thread> io_;
  std::unique_ptr<transport::http_client> client_;
};

} // namespace

std::shared_ptr<rest_port>
make_http_rest_port(std::shared_ptr<transport::io_thread> io,
                    transport::http_client_options opts) {
  return std::make_shared<http_rest_port>(std::move(io), std::move(opts));
}

} // namespace athanor
