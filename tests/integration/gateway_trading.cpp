#define CAF_SUITE integration.gateway_trading
#include "runtime/gateway_server.hpp"

#include "caf/test/unit_test.hpp"

#include "system_config.hpp"

#include <cstdio>
#include <unistd.h>

#include <rapidjson/document.h>

#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"

#include "../sim/ws_client.hpp"
#include "messages/error.hpp"
#include "protocol/market_data.hpp"
#include "protocol/trading.hpp"
#include "runtime/trading_desk.hpp"
#include "sim/simulator.hpp"

using namespace athanor;
using namespace athanor::testing;
using namespace std::chrono_literals;

namespace {

using testing::system_config;

const credentials gateway_creds{secret{"GWKEY"}, secret{"GWSECRET"}};

plan buys(std::string id, size_t n) {
  plan p;
  p.plan_id = std::move(id);
  const char* symbols[] = {"AAPL", "MSFT", "SPY"};
  for (size_t i = 0; i < n; ++i) {
    plan_item x;
    x.symbol = symbols[i % 3];
    x.side = order_side::buy;
    x.qty = decimal::from_integer(1 + int64_t(i));
    p.items.push_back(x);
  }
  p.deadline_ms = 20'000;
  return p;
}

// What a /stream client reads: the message's stream (or action) and, for
// trade updates, the event and the order's client_order_id.
struct seen {
  std::string stream;
  std::string event;
  std::string client_order_id;
};

seen parse(const std::string& json) {
  seen out;
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError() || !doc.IsObject())
    return out;
  if (doc.HasMember("stream") && doc["stream"].IsString())
    out.stream = doc["stream"].GetString();
  else if (doc.HasMember("action") && doc["action"].IsString())
    out.stream = doc["action"].GetString();
  if (out.stream == "trade_updates") {
    auto& data = doc["data"];
    out.event = data["event"].GetString();
    out.client_order_id = data["order"]["client_order_id"].GetString();
  }
  return out;
}

struct fixture {
  sim::simulator sim{[] {
    sim::simulator_options opts;
    opts.market.tick = 20ms;
    return opts;
  }()};
  system_config cfg;
  caf::actor_system sys{cfg};
  std::string journal_path;
  std::unique_ptr<gateway_server> gateway;
  std::unique_ptr<trading_desk> desk;

  fixture() {
    char name[] = "/tmp/athanor-gwt-it-XXXXXX";
    close(mkstemp(name));
    journal_path = name;
    std::remove(journal_path.c_str());
    gateway_server_options gw;
    gw.accepted = gateway_creds;
    gw.trade_updates = true;
    auto g = gateway_server::start(sys, std::move(gw));
    if (!g)
      CAF_FAIL("gateway: " << render(g.error()));
    gateway = std::move(*g);
    auto d = trading_desk::start(sys, desk_options());
    if (!d)
      CAF_FAIL("desk: " << render(d.error()));
    desk = std::move(*d);
  }

  ~fixture() {
    gateway.reset();
    desk.reset();
    for (auto suffix : {"", "-wal", "-shm", ".lock"})
      std::remove((journal_path + suffix).c_str());
  }

  trading_desk_options desk_options() {
    trading_desk_options opts;
    opts.base_url = "http://127.0.0.1:" + std::to_string(sim.port());
    opts.creds = {secret{sim::default_key}, secret{sim::default_secret}};
    opts.stream.backoff.initial = 100ms;
    opts.stream.backoff.max = 100ms;
    opts.stream.backoff.jitter = 0;
    opts.executor.journal = {journal_path, false};
    opts.executor.ready_timeout = 10s;
    opts.executor.event_timeout = 1s;
    opts.listeners.push_back(gateway->trade_updates());
    return opts;
  }

  std::unique_ptr<ws_client>
  connect(protocol::codec c = protocol::codec::json) {
    std::map<std::string, std::string> headers;
    if (c == protocol::codec::msgpack)
      headers["Content-Type"] = "application/msgpack";
    auto client = std::make_unique<ws_client>(gateway->port(), "/stream",
                                              headers);
    if (!client->open())
      CAF_FAIL("gateway refused the upgrade: " << client->status());
    return client;
  }

  // The next message as JSON ("" after 5 s or when the connection ends).
  static std::string next(ws_client& client,
                          protocol::codec c = protocol::codec::json) {
    auto frame = client.read(5s);
    if (!frame)
      return "";
    if (c == protocol::codec::json)
      return frame->data;
    std::string json;
    protocol::decode_problem problem;
    if (!protocol::client_msgpack_to_json(frame->data, json, problem))
      return "undecodable: " + to_string(problem);
    return json;
  }

  static void send(ws_client& client, const std::string& json,
                   protocol::codec c = protocol::codec::json) {
    if (c == protocol::codec::json)
      client.send(json, false);
    else
      client.send(protocol::json_to_msgpack(json), true);
  }

  // Authenticated and listening (the answer waits for the desk's stream).
  std::unique_ptr<ws_client>
  listening_client(protocol::codec c = protocol::codec::json) {
    auto client = connect(c);
    send(*client, protocol::encode_authenticate(gateway_creds), c);
    CAF_CHECK_EQUAL(next(*client, c),
                    protocol::encode_authorization(true, "authenticate"));
    send(*client, protocol::encode_listen({"trade_updates"}), c);
    CAF_CHECK_EQUAL(next(*client, c),
                    protocol::encode_listening({"trade_updates"}));
    return client;
  }

  // Reads trade updates until every item of `r` was seen filled.
  static std::map<std::string, std::vector<std::string>>
  events_until_filled(ws_client& client, const plan_result& r,
                      protocol::codec c = protocol::codec::json) {
    std::map<std::string, std::vector<std::string>> events;
    auto filled = [&] {
      for (auto& item : r.items) {
        auto& xs = events[item.client_order_id];
        if (std::find(xs.begin(), xs.end(), "fill") == xs.end())
          return false;
      }
      return true;
    };
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (!filled() && std::chrono::steady_clock::now() < deadline) {
      auto json = next(client, c);
      if (json.empty())
        break;
      auto x = parse(json);
      if (x.stream == "trade_updates")
        events[x.client_order_id].push_back(x.event);
    }
    return events;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(gateway_trading_tests, fixture)

CAF_TEST(clients on /stream receive the order updates of executed plans) {
  auto first = listening_client();
  auto second = listening_client();
  auto result = desk->execute(buys("gwt-1", 3), 30s);
  CAF_REQUIRE(result);
  CAF_CHECK(result->succeeded());
  for (auto* client : {first.get(), second.get()}) {
    auto events = events_until_filled(*client, *result);
    for (auto& item : result->items) {
      auto& xs = events[item.client_order_id];
      CAF_MESSAGE(item.client_order_id << ": " << caf::deep_to_string(xs));
      // In the order the broker sent them: new before fill.
      CAF_REQUIRE_GREATER_OR_EQUAL(xs.size(), 2u);
      CAF_CHECK_EQUAL(xs.front(), "new");
      CAF_CHECK_EQUAL(xs.back(), "fill");
    }
  }
}

CAF_TEST(msgpack clients on /stream get the same updates in msgpack) {
  auto client = listening_client(protocol::codec::msgpack);
  auto result = desk->execute(buys("gwt-msgpack", 2), 30s);
  CAF_REQUIRE(result);
  auto events = events_until_filled(*client, *result,
                                    protocol::codec::msgpack);
  for (auto& item : result->items)
    CAF_CHECK_EQUAL(events[item.client_order_id].back(), "fill");
}

CAF_TEST(the upstream key is no use at the gateway and listen needs auth) {
  auto client = connect();
  send(*client, protocol::encode_listen({"trade_updates"}));
  CAF_CHECK_EQUAL(next(*client), protocol::encode_authorization(false,
                                                                "listen"));
  send(*client, protocol::encode_authenticate(
                  {secret{sim::default_key}, secret{sim::default_secret}}));
  CAF_CHECK_EQUAL(next(*client),
                  protocol::encode_authorization(false, "authenticate"));
  CAF_CHECK_EQUAL(next(*client), "");
  CAF_CHECK(!client->open());
}

CAF_TEST(a restarted desk releases its listeners and serves new ones) {
  auto client = listening_client();
  auto exec = desk->executor();
  CAF_REQUIRE(exec);
  {
    caf::scoped_actor killer{sys};
    killer->send_exit(*exec, make_error(engine_errc::unhandled_exception,
                                        "test crash"));
  }
  // The trading session went down with the group: the client is told and
  // closed, as Alpaca would drop it.
  auto last = parse(next(*client));
  CAF_CHECK_EQUAL(last.stream, "error");
  CAF_CHECK_EQUAL(next(*client), "");
  CAF_CHECK(!client->open());
  // The restarted group's stream reaches new clients.
  auto again = listening_client();
  auto result = desk->execute(buys("gwt-restart", 1), 30s);
  CAF_REQUIRE(result);
  auto events = events_until_filled(*again, *result);
  CAF_CHECK_EQUAL(events[result->items[0].client_order_id].back(), "fill");
}

CAF_TEST(a second desk on the same journal is refused) {
  auto second = trading_desk::start(sys, desk_options());
  CAF_REQUIRE(!second);
  CAF_CHECK(errc_of(second.error()) == engine_errc::journal_error);
  CAF_MESSAGE(render(second.error()));
  CAF_CHECK(render(second.error()).find("in use") != std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()
