#define CAF_SUITE sim.tls
#include "sim/simulator.hpp"

#include "caf/test/unit_test.hpp"

#include <thread>

#include "protocol/market_data.hpp"
#include "transport/tls.hpp"
#include "ws_client.hpp"

using namespace athanor;
using namespace athanor::protocol;
using namespace std::chrono_literals;
using athanor::testing::ws_client;
using athanor::testing::ws_client_options;

namespace {

struct fixture {
  transport::pem_pair pems = transport::make_self_signed(
    {"localhost", "127.0.0.1"});
  std::unique_ptr<sim::simulator> sim;

  fixture() {
    sim::simulator_options opts;
    opts.listen.tls_certificate_pem = pems.certificate;
    opts.listen.tls_private_key_pem = pems.private_key;
    opts.market.tick = 5ms;
    sim = std::make_unique<sim::simulator>(std::move(opts));
  }

  ws_client_options trusting(std::string host = "localhost") {
    ws_client_options opts;
    opts.tls_ca_pem = pems.certificate;
    opts.tls_host = std::move(host);
    return opts;
  }

  std::string first_message(ws_client& client) {
    auto frame = client.read(3000ms);
    if (!frame)
      return {};
    market_frame out;
    decode_problem problem;
    if (!decode_json(frame->data, out, problem) || out.controls.empty())
      return {};
    return out.controls[0].message;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(tls_tests, fixture)

CAF_TEST(a client trusting the certificate speaks wss) {
  ws_client client{sim->port(), "/v2/iex", trusting()};
  CAF_REQUIRE(client.open());
  CAF_CHECK_EQUAL(first_message(client), "connected");
  client.send(encode_auth(codec::json, {secret{sim::default_key},
                                        secret{sim::default_secret}}),
              false);
  CAF_CHECK_EQUAL(first_message(client), "authenticated");
}

CAF_TEST(an untrusted certificate is refused) {
  auto other = transport::make_self_signed({"localhost"});
  ws_client_options opts;
  opts.tls_ca_pem = other.certificate;
  ws_client client{sim->port(), "/v2/iex", opts};
  CAF_CHECK(!client.open());
  CAF_CHECK_EQUAL(client.status(), 0);
}

CAF_TEST(a certificate for another host is refused) {
  ws_client client{sim->port(), "/v2/iex", trusting("example.com")};
  CAF_CHECK(!client.open());
}

CAF_TEST(plain websocket is not served on a tls port) {
  ws_client client{sim->port(), "/v2/iex"};
  CAF_CHECK(!client.open());
}

CAF_TEST(a tls refusal fault fails handshakes for its duration) {
  sim->refuse_tls_for(300ms);
  ws_client during{sim->port(), "/v2/iex", trusting()};
  CAF_CHECK(!during.open());
  std::this_thread::sleep_for(400ms);
  ws_client after{sim->port(), "/v2/iex", trusting()};
  CAF_CHECK(after.open());
}

CAF_TEST_FIXTURE_SCOPE_END()
