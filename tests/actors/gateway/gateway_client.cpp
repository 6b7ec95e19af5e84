#define CAF_SUITE actors.gateway_client
#include "actors/gateway/gateway_client.hpp"

#include "fixture.hpp"

#include "protocol/market_data.hpp"

using namespace athanor;
using namespace std::chrono_literals;

namespace {

const credentials accepted{secret{"GWKEY"}, secret{"GWSECRET"}};

// Records what the actor sends its client.
struct recording_link : client_link {
  std::vector<std::string> frames;
  bool closed = false;
  size_t failed_logins = 0;
  void send(std::string frame) override {
    frames.push_back(std::move(frame));
  }
  void close() override {
    closed = true;
  }
  void login_failed() override {
    ++failed_logins;
  }
};

struct fixture : fixture_base {
  std::vector<gateway_client_actor> started;

  ~fixture() {
    for (auto& x : started)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    sched.run();
  }

  gateway_client_actor start(std::shared_ptr<recording_link> link) {
    gateway_client_config cfg;
    cfg.accepted = accepted;
    cfg.link = std::move(link);
    cfg.peer = "test";
    cfg.upstream = "market";
    auto result = spawn_gateway_client(sys, std::move(cfg));
    started.push_back(result);
    sched.run();
    return result;
  }

  void frame(const gateway_client_actor& to, std::string data) {
    caf::anon_send(to, gateway_frame{std::move(data)});
    sched.run();
  }

  std::string auth(const credentials& creds) {
    return protocol::encode_auth(protocol::codec::json, creds);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(gateway_client_tests, fixture)

CAF_TEST(a client greets then logs in with the gateway credentials) {
  auto link = std::make_shared<recording_link>();
  auto client = start(link);
  CAF_REQUIRE_EQUAL(link->frames.size(), 1u);
  CAF_CHECK_EQUAL(link->frames[0],
                  protocol::encode_success(protocol::codec::json, "connected"));
  frame(client, auth(accepted));
  CAF_REQUIRE_EQUAL(link->frames.size(), 2u);
  CAF_CHECK_EQUAL(link->frames[1],
                  protocol::encode_success(protocol::codec::json,
                                           "authenticated"));
  CAF_CHECK(!link->closed);
}

CAF_TEST(wrong credentials are 402 and closed and counted as a failed login) {
  auto link = std::make_shared<recording_link>();
  auto client = start(link);
  frame(client, auth({secret{"GWKEY"}, secret{"wrong"}}));
  CAF_CHECK_EQUAL(link->frames.back(),
                  protocol::encode_error(protocol::codec::json, 402,
                                         "auth failed"));
  CAF_CHECK(link->closed);
  CAF_CHECK_EQUAL(link->failed_logins, 1u);
}

CAF_TEST(a client silent for ten seconds after connecting gets 404 and is closed) {
  auto silent = std::make_shared<recording_link>();
  auto authed = std::make_shared<recording_link>();
  start(silent);
  auto other = start(authed);
  frame(other, auth(accepted));
  sched.clock().advance_time(9s);
  sched.run();
  CAF_CHECK(!silent->closed);
  sched.clock().advance_time(1s);
  sched.run();
  CAF_CHECK_EQUAL(silent->frames.back(),
                  protocol::encode_error(protocol::codec::json, 404,
                                         "auth timeout"));
  CAF_CHECK(silent->closed);
  // Not a wrong password: the address is not banned for it.
  CAF_CHECK_EQUAL(silent->failed_logins, 0u);
  // The client that logged in in time stays.
  CAF_CHECK(!authed->closed);
  CAF_CHECK_EQUAL(authed->frames.size(), 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()
