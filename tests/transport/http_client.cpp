#define CAF_SUITE transport.http_client
#include "transport/http_client.hpp"

#include "caf/test/unit_test.hpp"

#include <future>

#include "sim/simulator.hpp"
#include "transport/tls.hpp"

using namespace athanor;
using namespace athanor::transport;
using namespace std::chrono_literals;

namespace {

struct fixture {
  io_thread io;
  std::unique_ptr<sim::simulator> sim;
  pem_pair pems;

  void start(bool tls = false) {
    sim::simulator_options opts;
    opts.market.tick = 50ms;
    if (tls) {
      pems = make_self_signed({"localhost", "127.0.0.1"});
      opts.listen.tls_certificate_pem = pems.certificate;
      opts.listen.tls_private_key_pem = pems.private_key;
    }
    sim = std::make_unique<sim::simulator>(std::move(opts));
  }

  std::string base(bool tls = false, const std::string& host = "127.0.0.1") {
    return std::string{tls ? "https://" : "http://"} + host + ":"
           + std::to_string(sim->port());
  }

  static http_call authorized(std::string method, std::string target,
                              std::string body = "") {
    http_call call;
    call.method = std::move(method);
    call.target = std::move(target);
    call.body = std::move(body);
    call.headers["APCA-API-KEY-ID"] = sim::default_key;
    call.headers["APCA-API-SECRET-KEY"] = sim::default_secret;
    return call;
  }

  // Runs one request and waits for its reply.
  static http_reply call(http_client& client, http_call req) {
    std::promise<http_reply> done;
    client.request(std::move(req),
                   [&done](http_reply reply) { done.set_value(reply); });
    auto result = done.get_future();
    if (result.wait_for(10s) != std::future_status::ready) {
      http_reply none;
      none.outcome = http_outcome::canceled;
      none.detail = "test gave up waiting";
      return none;
    }
    return result.get();
  }
};

std::string outcome_of(const http_reply& x) {
  return to_string(x.outcome);
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(http_client_tests, fixture)

CAF_TEST(a plain request carries headers and returns status and body) {
  start();
  auto client = http_client::create(io, {base(), "", "", 1});
  auto reply = call(*client, authorized("GET", "/v2/account"));
  CAF_CHECK_EQUAL(outcome_of(reply), "answered");
  CAF_CHECK_EQUAL(reply.status, 200);
  CAF_CHECK_NOT_EQUAL(reply.body.find("\"cash\""), std::string::npos);
  CAF_CHECK_EQUAL(reply.headers.count("x-ratelimit-limit"), 1u);
  CAF_CHECK(reply.received_at > 0);
  auto anonymous = call(*client, http_call{"GET", "/v2/account", {}, "", 5s});
  CAF_CHECK_EQUAL(anonymous.status, 401);
}

CAF_TEST(requests queue behind one connection and all complete in order) {
  start();
  auto client = http_client::create(io, {base(), "", "", 1});
  std::vector<std::promise<http_reply>> done(20);
  for (auto& promise : done)
    client->request(authorized("GET", "/v2/positions"),
                    [&promise](http_reply reply) {
                      promise.set_value(std::move(reply));
                    });
  for (auto& promise : done) {
    auto future = promise.get_future();
    CAF_REQUIRE(future.wait_for(10s) == std::future_status::ready);
    auto reply = future.get();
    CAF_CHECK_EQUAL(reply.status, 200);
    CAF_CHECK_EQUAL(reply.body, "[]");
  }
}

CAF_TEST(a slow answer times out and the next request still works) {
  start();
  auto client = http_client::create(io, {base(), "", "", 1});
  sim->call_broker([](sim::broker& b) { b.slow_requests(1, 2s); });
  auto slow = authorized("GET", "/v2/account");
  slow.timeout = 200ms;
  auto reply = call(*client, slow);
  CAF_CHECK_EQUAL(outcome_of(reply), "timeout");
  CAF_CHECK_EQUAL(reply.status, 0);
  auto next = call(*client, authorized("GET", "/v2/account"));
  CAF_CHECK_EQUAL(next.status, 200);
}

CAF_TEST(bad urls and closed ports fail with their reason) {
  start();
  auto bad = http_client::create(io, {"ws://127.0.0.1:1", "", "", 1});
  CAF_CHECK_EQUAL(outcome_of(call(*bad, authorized("GET", "/v2/account"))),
                  "bad_url");
  auto url = base();
  sim.reset();
  auto refused = http_client::create(io, {url, "", "", 1});
  CAF_CHECK_EQUAL(outcome_of(call(*refused, authorized("GET", "/v2/account"))),
                  "connect_failed");
}

CAF_TEST(tls verifies the certificate and the host name) {
  start(true);
  http_client_options opts{base(true, "localhost"), "", pems.certificate, 1};
  auto good = http_client::create(io, opts);
  CAF_CHECK_EQUAL(call(*good, authorized("GET", "/v2/account")).status, 200);
  CAF_CHECK_EQUAL(call(*good, authorized("GET", "/v2/account")).status, 200);
  opts.ca_pem = make_self_signed({"localhost"}).certificate;
  auto untrusted = http_client::create(io, opts);
  CAF_CHECK_EQUAL(
    outcome_of(call(*untrusted, authorized("GET", "/v2/account"))),
    "certificate_invalid");
}

CAF_TEST(destroying the client cancels what is queued) {
  start();
  auto client = http_client::create(io, {base(), "", "", 1});
  sim->call_broker([](sim::broker& b) { b.slow_requests(1, 2s); });
  std::promise<http_reply> first;
  std::promise<http_reply> second;
  client->request(authorized("GET", "/v2/account"),
                  [&](http_reply reply) { first.set_value(reply); });
  client->request(authorized("GET", "/v2/account"),
                  [&](http_reply reply) { second.set_value(reply); });
  std::this_thread::sleep_for(50ms);
  client.reset();
  CAF_CHECK_EQUAL(outcome_of(first.get_future().get()), "canceled");
  CAF_CHECK_EQUAL(outcome_of(second.get_future().get()), "canceled");
}

CAF_TEST_FIXTURE_SCOPE_END()
