#include "actors/rest_port.hpp"

#include "caf/send.hpp"

#include "messages/execution.hpp"

namespace athanor {

namespace {

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
      if (r.outcome == transport::http_outcome::answered)
        answer.status = r.status;
      else
        answer.failure = to_string(r.outcome) + ": " + r.detail;
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
