#define CAF_SUITE actors.gateway_trading_client
#include "actors/gateway/gateway_trading_client.hpp"

#include "fixture.hpp"

#include <rapidjson/document.h>

#include "messages/error.hpp"
#include "protocol/trading.hpp"

using namespace athanor;

namespace {

const credentials accepted{secret{"GWKEY"}, secret{"GWSECRET"}};

// Records what the actor sends its client.
struct recording_link : client_link {
  std::vector<std::string> frames;
  bool closed = false;
  void send(std::string frame) override {
    frames.push_back(std::move(frame));
  }
  void close() override {
    closed = true;
  }
};

std::string authenticate(const credentials& creds) {
  return protocol::encode_authenticate(creds);
}

std::string listen(std::vector<std::string> streams) {
  return protocol::encode_listen(streams);
}

session_status status(session_state state) {
  session_status x;
  x.endpoint = "ws://upstream/stream";
  x.state = state;
  return x;
}

order_update fill_of(const std::string& client_order_id) {
  order_update u;
  u.event = trade_event::fill;
  u.subject.id = "order-1";
  u.subject.client_order_id = client_order_id;
  u.subject.status = order_status::filled;
  // What Alpaca sent, with a field the engine does not read.
  u.wire_json = R"({"stream":"trade_updates","data":{"event":"fill",)"
                R"("not_read_by_athanor":7,"order":{"id":"order-1",)"
                R"("client_order_id":")"
                + client_order_id + R"("}}})";
  return u;
}

struct fixture : fixture_base {
  std::shared_ptr<recording_link> link = std::make_shared<recording_link>();
  trade_update_relay_actor relay;
  gateway_trading_client_actor client;

  fixture() {
    relay = spawn_trade_update_relay(sys);
    client = start_client(link);
  }

  // The relay and its listeners hold each other; the gateway server ends
  // the relay, here the test does.
  ~fixture() {
    caf::anon_send_exit(relay, caf::exit_reason::user_shutdown);
    for (auto& x : started)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    sched.run();
  }

  std::vector<gateway_trading_client_actor> started;

  gateway_trading_client_actor
  start_client(std::shared_ptr<recording_link> to,
               protocol::codec c = protocol::codec::json) {
    gateway_trading_client_config cfg;
    cfg.encoding = c;
    cfg.accepted = accepted;
    cfg.relay = relay;
    cfg.link = to;
    cfg.peer = "test";
    auto result = spawn_gateway_trading_client(sys, std::move(cfg));
    started.push_back(result);
    sched.run();
    return result;
  }

  void frame(const gateway_trading_client_actor& to, std::string data) {
    caf::anon_send(to, gateway_frame{std::move(data)});
    sched.run();
  }

  // The relay hears from "the trading session" (this test's self).
  void upstream(session_state state) {
    self->send(relay, status(state));
    sched.run();
  }

  void update(const order_update& u) {
    self->send(relay, u);
    sched.run();
  }

  // Authenticated and listening; the upstream streams.
  void listening_client() {
    upstream(session_state::streaming);
    frame(client, authenticate(accepted));
    frame(client, listen({"trade_updates"}));
    link->frames.clear();
  }

  static std::string stream_of(const std::string& json) {
    rapidjson::Document doc;
    doc.Parse(json.data(), json.size());
    if (doc.HasParseError() || !doc.IsObject())
      return "not an object";
    if (doc.HasMember("stream"))
      return doc["stream"].GetString();
    return doc.HasMember("action") ? doc["action"].GetString() : "";
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(gateway_trading_client_tests, fixture)

CAF_TEST(the gateway credentials authorise and anything else is refused) {
  frame(client, authenticate(accepted));
  CAF_REQUIRE_EQUAL(link->frames.size(), 1u);
  CAF_CHECK_EQUAL(link->frames[0],
                  protocol::encode_authorization(true, "authenticate"));
  CAF_CHECK(!link->closed);
  auto other = std::make_shared<recording_link>();
  auto second = start_client(other);
  frame(second, authenticate({secret{"GWKEY"}, secret{"wrong"}}));
  CAF_REQUIRE_EQUAL(other->frames.size(), 1u);
  CAF_CHECK_EQUAL(other->frames[0],
                  protocol::encode_authorization(false, "authenticate"));
  CAF_CHECK(other->closed);
}

CAF_TEST(a client silent for ten seconds after connecting is refused and closed) {
  auto silent = std::make_shared<recording_link>();
  start_client(silent);
  frame(client, authenticate(accepted));
  sched.clock().advance_time(std::chrono::seconds{9});
  sched.run();
  CAF_CHECK(!silent->closed);
  sched.clock().advance_time(std::chrono::seconds{1});
  sched.run();
  CAF_REQUIRE_EQUAL(silent->frames.size(), 1u);
  CAF_CHECK_EQUAL(silent->frames[0],
                  protocol::encode_authorization(false, "authenticate"));
  CAF_CHECK(silent->closed);
  CAF_CHECK(!link->closed);
}

CAF_TEST(listening before auth is unauthorised and bad messages are named) {
  frame(client, listen({"trade_updates"}));
  CAF_REQUIRE_EQUAL(link->frames.size(), 1u);
  CAF_CHECK_EQUAL(link->frames[0],
                  protocol::encode_authorization(false, "listen"));
  frame(client, R"({"action":"dance","data":{}})");
  CAF_REQUIRE_EQUAL(link->frames.size(), 2u);
  CAF_CHECK_EQUAL(stream_of(link->frames[1]), "error");
  CAF_CHECK(link->frames[1].find("dance") != std::string::npos);
  CAF_CHECK(!link->closed);
  // Nothing reaches a client that did not listen.
  upstream(session_state::streaming);
  update(fill_of("ath-p-0"));
  CAF_CHECK_EQUAL(link->frames.size(), 2u);
}

CAF_TEST(listening is confirmed once the upstream streams) {
  frame(client, authenticate(accepted));
  upstream(session_state::authenticating);
  frame(client, listen({"trade_updates"}));
  CAF_CHECK_EQUAL(link->frames.size(), 1u);
  upstream(session_state::streaming);
  CAF_REQUIRE_EQUAL(link->frames.size(), 2u);
  CAF_CHECK_EQUAL(link->frames[1],
                  protocol::encode_listening({"trade_updates"}));
  // The JS SDK listens twice; the second is answered at once.
  frame(client, listen({"trade_updates"}));
  CAF_REQUIRE_EQUAL(link->frames.size(), 3u);
  CAF_CHECK_EQUAL(link->frames[2],
                  protocol::encode_listening({"trade_updates"}));
  // Streams we do not have are missing from the answer.
  frame(client, listen({"account_updates"}));
  CAF_REQUIRE_EQUAL(link->frames.size(), 4u);
  CAF_CHECK_EQUAL(link->frames[3], protocol::encode_listening({}));
}

CAF_TEST(order updates are forwarded as the upstream sent them) {
  listening_client();
  update(fill_of("ath-p-0"));
  update(fill_of("ath-p-1"));
  CAF_REQUIRE_EQUAL(link->frames.size(), 2u);
  CAF_CHECK_EQUAL(link->frames[0], fill_of("ath-p-0").wire_json);
  CAF_CHECK_EQUAL(link->frames[1], fill_of("ath-p-1").wire_json);
  // listen [] stops them.
  frame(client, listen({}));
  link->frames.clear();
  update(fill_of("ath-p-2"));
  CAF_CHECK(link->frames.empty());
  auto metrics = fetch<metric_samples>(relay, metrics_atom::value);
  double relayed = -1;
  for (auto& x : metrics)
    if (x.name == "athanor_gateway_trade_updates_total")
      relayed = x.value;
  CAF_CHECK_EQUAL(relayed, 3.0);
}

CAF_TEST(a lost upstream closes listening clients so they reconcile) {
  listening_client();
  upstream(session_state::backing_off);
  CAF_REQUIRE_EQUAL(link->frames.size(), 1u);
  CAF_CHECK_EQUAL(stream_of(link->frames[0]), "error");
  CAF_CHECK(link->frames[0].find("reconcile") != std::string::npos);
  CAF_CHECK(link->closed);
}

CAF_TEST(a trading session that dies silently counts as lost) {
  // A separate actor plays the session, so the relay can see it go.
  auto session = sys.spawn([](caf::event_based_actor*) -> caf::behavior {
    return {[](int) {}};
  });
  frame(client, authenticate(accepted));
  frame(client, listen({"trade_updates"}));
  link->frames.clear();
  caf::send_as(session, relay, status(session_state::streaming));
  sched.run();
  CAF_REQUIRE_EQUAL(link->frames.size(), 1u); // the pending "listening"
  caf::anon_send_exit(session, caf::exit_reason::kill);
  sched.run();
  CAF_REQUIRE_EQUAL(link->frames.size(), 2u);
  CAF_CHECK_EQUAL(stream_of(link->frames[1]), "error");
  CAF_CHECK(link->closed);
}

CAF_TEST(msgpack clients speak msgpack both ways) {
  auto packed = std::make_shared<recording_link>();
  auto c = start_client(packed, protocol::codec::msgpack);
  upstream(session_state::streaming);
  frame(c, protocol::json_to_msgpack(authenticate(accepted)));
  frame(c, protocol::json_to_msgpack(listen({"trade_updates"})));
  update(fill_of("ath-p-0"));
  CAF_REQUIRE_EQUAL(packed->frames.size(), 3u);
  std::vector<std::string> json;
  for (auto& x : packed->frames) {
    std::string text;
    protocol::decode_problem problem;
    CAF_CHECK(protocol::client_msgpack_to_json(x, text, problem));
    json.push_back(text);
  }
  CAF_CHECK_EQUAL(json[0], protocol::encode_authorization(true,
                                                          "authenticate"));
  CAF_CHECK_EQUAL(json[1], protocol::encode_listening({"trade_updates"}));
  CAF_CHECK_EQUAL(json[2], fill_of("ath-p-0").wire_json);
}

CAF_TEST_FIXTURE_SCOPE_END()
