#define CAF_SUITE sim.broker
#include "sim/simulator.hpp"

#include "caf/test/unit_test.hpp"

#include <thread>

#include "http_client.hpp"
#include "protocol/rest.hpp"
#include "protocol/trading.hpp"
#include "ws_client.hpp"

using namespace athanor;
using namespace athanor::protocol;
using namespace std::chrono_literals;
using athanor::testing::http_call;
using athanor::testing::http_result;
using athanor::testing::ws_client;

namespace {

const std::map<std::string, std::string> auth_headers{
  {"APCA-API-KEY-ID", sim::default_key},
  {"APCA-API-SECRET-KEY", sim::default_secret}};

order_request buy(std::string symbol, int64_t qty, std::string coid) {
  order_request r;
  r.symbol = std::move(symbol);
  r.side = order_side::buy;
  r.type = order_type::market;
  r.tif = time_in_force::day;
  r.qty = decimal::from_integer(qty);
  r.client_order_id = std::move(coid);
  return r;
}

struct fixture {
  std::unique_ptr<sim::simulator> sim;

  void start(sim::broker_options broker = {}) {
    sim::simulator_options opts;
    opts.broker = broker;
    opts.market.tick = 5ms;
    sim = std::make_unique<sim::simulator>(std::move(opts));
  }

  http_result call(const std::string& method, const std::string& target,
                   const std::string& body = "") {
    return http_call(sim->port(), method, target, body, auth_headers);
  }

  order place(const order_request& r) {
    auto res = call("POST", "/v2/orders", encode_order_request(r));
    CAF_REQUIRE_EQUAL(res.status, 200);
    order o;
    decode_problem problem;
    CAF_REQUIRE(decode_order(res.body, o, problem));
    return o;
  }

  order get_order(const std::string& id) {
    auto res = call("GET", "/v2/orders/" + id);
    CAF_REQUIRE_EQUAL(res.status, 200);
    order o;
    decode_problem problem;
    CAF_REQUIRE(decode_order(res.body, o, problem));
    return o;
  }

  order wait_final(const std::string& id) {
    for (int i = 0; i < 100; ++i) {
      auto o = get_order(id);
      if (is_final(o.status))
        return o;
      std::this_thread::sleep_for(10ms);
    }
    CAF_FAIL("order " << id << " never reached a final state");
    return {};
  }

  std::unique_ptr<ws_client> stream() {
    auto client = std::make_unique<ws_client>(sim->port(), "/stream");
    client->send(encode_authenticate(
                   {secret{sim::default_key}, secret{sim::default_secret}}),
                 false);
    auto auth = next(*client);
    CAF_REQUIRE_EQUAL(auth.kind, trading_message::authorization);
    CAF_REQUIRE(auth.authorized);
    client->send(encode_listen({"trade_updates"}), false);
    CAF_REQUIRE_EQUAL(next(*client).kind, trading_message::listening);
    return client;
  }

  trading_message next(ws_client& client) {
    auto frame = client.read(3000ms);
    if (!frame)
      CAF_FAIL("no trading message arrived");
    trading_message msg;
    decode_problem problem;
    if (!decode_trading_message(frame->data, msg, problem))
      CAF_FAIL("bad trading message: " << to_string(problem));
    return msg;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(broker_tests, fixture)

CAF_TEST(requests without valid keys get 401) {
  start();
  auto res = http_call(sim->port(), "GET", "/v2/account");
  CAF_CHECK_EQUAL(res.status, 401);
  CAF_CHECK_EQUAL(decode_api_error(res.status, res.body).code, 40110000);
}

CAF_TEST(a market order fills and updates account and positions) {
  start();
  auto o = place(buy("AAPL", 10, "plan1-item1"));
  CAF_CHECK_EQUAL(o.client_order_id, "plan1-item1");
  auto done = wait_final(o.id);
  CAF_CHECK_EQUAL(done.status, order_status::filled);
  CAF_CHECK(done.filled_qty == decimal::from_integer(10));
  auto positions = call("GET", "/v2/positions");
  std::vector<position> list;
  decode_problem problem;
  CAF_REQUIRE(decode_positions(positions.body, list, problem));
  CAF_REQUIRE_EQUAL(list.size(), 1u);
  CAF_CHECK_EQUAL(list[0].symbol, "AAPL");
  CAF_CHECK(list[0].qty == decimal::from_integer(10));
  account acct;
  CAF_REQUIRE(decode_account(call("GET", "/v2/account").body, acct, problem));
  CAF_CHECK(acct.cash < *decimal::parse("100000"));
  auto one = call("GET", "/v2/positions/AAPL");
  CAF_CHECK_EQUAL(one.status, 200);
  CAF_CHECK_EQUAL(call("GET", "/v2/positions/MSFT").status, 404);
}

CAF_TEST(a client order id is unique forever) {
  start();
  auto o = place(buy("MSFT", 1, "once"));
  wait_final(o.id);
  auto again = call("POST", "/v2/orders",
                    encode_order_request(buy("MSFT", 1, "once")));
  CAF_CHECK_EQUAL(again.status, 422);
  auto err = decode_api_error(again.status, again.body);
  CAF_CHECK_EQUAL(err.code, 40010001);
  CAF_CHECK(is_duplicate_client_order_id(err));
  auto found = call("GET",
                    "/v2/orders:by_client_order_id?client_order_id=once");
  CAF_CHECK_EQUAL(found.status, 200);
  order by_coid;
  decode_problem problem;
  CAF_REQUIRE(decode_order(found.body, by_coid, problem));
  CAF_CHECK_EQUAL(by_coid.id, o.id);
  CAF_CHECK_EQUAL(
    call("GET", "/v2/orders:by_client_order_id?client_order_id=nope").status,
    404);
  auto placed = sim->call_broker([](sim::broker& b) { return b.orders(); });
  CAF_CHECK_EQUAL(placed.size(), 1u);
}

CAF_TEST(every order state change is a trade update on the stream) {
  sim::broker_options opts;
  opts.partial_fills = true;
  start(opts);
  auto client = stream();
  auto o = place(buy("SPY", 10, "partial"));
  std::vector<trade_event> events;
  while (events.empty() || events.back() != trade_event::fill) {
    auto msg = next(*client);
    CAF_REQUIRE_EQUAL(msg.kind, trading_message::trade_update);
    CAF_CHECK_EQUAL(msg.update.subject.id, o.id);
    events.push_back(msg.update.event);
    if (msg.update.event == trade_event::partial_fill) {
      CAF_CHECK(msg.update.qty == decimal::from_integer(5));
      CAF_CHECK(msg.update.position_qty == decimal::from_integer(5));
      CAF_CHECK(!msg.update.execution_id.empty());
    }
  }
  std::vector<trade_event> expected{
    trade_event::new_order, trade_event::partial_fill, trade_event::fill};
  CAF_CHECK_EQUAL(events, expected);
}

CAF_TEST(limit orders wait until crossed and can be canceled) {
  start();
  auto client = stream();
  auto r = buy("QQQ", 2, "limit1");
  r.type = order_type::limit;
  r.limit_price = *decimal::parse("1.00"); // far below the tape
  auto o = place(r);
  CAF_CHECK_EQUAL(next(*client).update.event, trade_event::new_order);
  std::this_thread::sleep_for(100ms);
  CAF_CHECK_EQUAL(get_order(o.id).status, order_status::new_order);
  auto open = call("GET", "/v2/orders?status=open");
  std::vector<order> list;
  decode_problem problem;
  CAF_REQUIRE(decode_orders(open.body, list, problem));
  CAF_CHECK_EQUAL(list.size(), 1u);
  CAF_CHECK_EQUAL(call("DELETE", "/v2/orders/" + o.id).status, 204);
  CAF_CHECK_EQUAL(next(*client).update.event, trade_event::canceled);
  CAF_CHECK_EQUAL(call("DELETE", "/v2/orders/" + o.id).status, 422);
  auto all = call("GET", "/v2/orders?status=all");
  CAF_REQUIRE(decode_orders(all.body, list, problem));
  CAF_CHECK_EQUAL(list.size(), 1u);
  CAF_CHECK_EQUAL(list[0].status, order_status::canceled);
}

CAF_TEST(rejections name their cause) {
  start();
  auto big = call("POST", "/v2/orders",
                  encode_order_request(buy("AAPL", 100000000, "huge")));
  CAF_CHECK_EQUAL(big.status, 403);
  CAF_CHECK(decode_api_error(403, big.body).message.find("buying power")
            != std::string::npos);
  auto sell = buy("AAPL", 5, "short");
  sell.side = order_side::sell;
  auto no_shares = call("POST", "/v2/orders", encode_order_request(sell));
  CAF_CHECK_EQUAL(no_shares.status, 403);
  auto bad = call("POST", "/v2/orders", R"({"symbol":"A","side":"buy"})");
  CAF_CHECK_EQUAL(bad.status, 422);
  CAF_CHECK_EQUAL(call("GET", "/v2/orders/unknown-id").status, 404);
}

CAF_TEST(the rate limit answers 429 with its headers) {
  sim::broker_options opts;
  opts.requests_per_minute = 3;
  start(opts);
  auto first = call("GET", "/v2/account");
  CAF_CHECK_EQUAL(first.status, 200);
  CAF_CHECK_EQUAL(first.headers["x-ratelimit-limit"], "3");
  CAF_CHECK_EQUAL(first.headers["x-ratelimit-remaining"], "2");
  call("GET", "/v2/account");
  call("GET", "/v2/account");
  auto limited = call("GET", "/v2/account");
  CAF_CHECK_EQUAL(limited.status, 429);
  CAF_CHECK_EQUAL(limited.headers["x-ratelimit-remaining"], "0");
  CAF_CHECK(!limited.headers["retry-after"].empty());
  CAF_CHECK(!limited.headers["x-ratelimit-reset"].empty());
}

CAF_TEST(a 500 after placing leaves an order to be found by lookup) {
  start();
  sim->call_broker(
    [](sim::broker& b) { b.fail_requests(1, sim::rest_fault::fail_after); });
  auto res = call("POST", "/v2/orders",
                  encode_order_request(buy("AMD", 3, "ambiguous")));
  CAF_CHECK_EQUAL(res.status, 500);
  // The order exists nevertheless; a blind retry would be refused.
  auto found = call("GET",
                    "/v2/orders:by_client_order_id?client_order_id=ambiguous");
  CAF_CHECK_EQUAL(found.status, 200);
  auto retry = call("POST", "/v2/orders",
                    encode_order_request(buy("AMD", 3, "ambiguous")));
  CAF_CHECK_EQUAL(retry.status, 422);
  sim->call_broker(
    [](sim::broker& b) { b.fail_requests(1, sim::rest_fault::fail_before); });
  CAF_CHECK_EQUAL(call("POST", "/v2/orders",
                       encode_order_request(buy("AMD", 3, "clean-fail")))
                    .status,
                  500);
  CAF_CHECK_EQUAL(
    call("GET", "/v2/orders:by_client_order_id?client_order_id=clean-fail")
      .status,
    404);
}

CAF_TEST(the stream refuses bad keys and listens only after auth) {
  start();
  ws_client early{sim->port(), "/stream"};
  early.send(encode_listen({"trade_updates"}), false);
  auto refused = next(early);
  CAF_CHECK_EQUAL(refused.kind, trading_message::authorization);
  CAF_CHECK(!refused.authorized);
  CAF_CHECK_EQUAL(refused.action, "listen");
  ws_client wrong{sim->port(), "/stream"};
  wrong.send(encode_authenticate({secret{"x"}, secret{"y"}}), false);
  CAF_CHECK(!next(wrong).authorized);
}

CAF_TEST(a 429 storm refuses stream upgrades too) {
  start();
  sim->call([](sim::market_hub& hub) { hub.storm_429(300ms); });
  ws_client refused{sim->port(), "/stream"};
  CAF_CHECK_EQUAL(refused.status(), 429);
  std::this_thread::sleep_for(400ms);
  ws_client later{sim->port(), "/stream"};
  CAF_CHECK(later.open());
}

CAF_TEST(the paper style sends json in binary frames) {
  sim::broker_options opts;
  opts.binary_frames = true;
  start(opts);
  ws_client client{sim->port(), "/stream"};
  client.send(encode_authenticate(
                {secret{sim::default_key}, secret{sim::default_secret}}),
              false);
  auto frame = client.read(3000ms);
  CAF_REQUIRE(frame.has_value());
  CAF_CHECK(frame->binary);
  trading_message msg;
  decode_problem problem;
  CAF_CHECK(decode_trading_message(frame->data, msg, problem));
  CAF_CHECK(msg.authorized);
}

CAF_TEST(the control endpoint injects rest faults) {
  start();
  auto fault = http_call(sim->port(), "POST",
                         "/sim/faults/rest500?count=2&after=0");
  CAF_CHECK_EQUAL(fault.status, 200);
  CAF_CHECK_EQUAL(call("GET", "/v2/account").status, 500);
  CAF_CHECK_EQUAL(call("GET", "/v2/account").status, 500);
  CAF_CHECK_EQUAL(call("GET", "/v2/account").status, 200);
  auto stats = http_call(sim->port(), "GET", "/sim/stats");
  CAF_CHECK_EQUAL(stats.status, 200);
  CAF_CHECK(stats.body.find("connections_open") != std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()
