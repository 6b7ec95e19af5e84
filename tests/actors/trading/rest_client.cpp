#define CAF_SUITE actors.rest_client
#include "actors/trading/rest_client.hpp"

#include "fixture.hpp"

#include "fake_rest_port.hpp"
#include "messages/error.hpp"
#include "protocol/rest.hpp"

using namespace athanor;
using namespace athanor::testing;
using namespace std::chrono_literals;

namespace {

order_request buy_request(std::string client_order_id = "ath-p1-0") {
  order_request req;
  req.symbol = "AAPL";
  req.side = order_side::buy;
  req.qty = decimal::from_integer(10);
  req.client_order_id = std::move(client_order_id);
  return req;
}

std::string order_body(const std::string& client_order_id,
                       const std::string& id = "o-1") {
  order o;
  o.id = id;
  o.client_order_id = client_order_id;
  o.symbol = "AAPL";
  o.qty = decimal::from_integer(10);
  o.status = order_status::accepted;
  return protocol::encode_order(o);
}

struct fixture : fixture_base {
  std::shared_ptr<fake_rest_port> port = std::make_shared<fake_rest_port>();
  rest_client_actor rest;
  size_t consumed = 0;

  void start(uint32_t per_minute = 200) {
    rest_client_config cfg;
    cfg.base_url = "http://127.0.0.1:1";
    cfg.creds = {secret{"KEY-CANARY"}, secret{"SECRET-CANARY"}};
    cfg.port = port;
    cfg.requests_per_minute = per_minute;
    cfg.max_attempts = 3;
    cfg.retry_backoff.jitter = 0;
    cfg.retry_backoff.initial = 1s;
    rest = unbox(spawn_rest_client(sys, std::move(cfg)));
  }

  ~fixture() override {
    self->send_exit(rest, caf::exit_reason::user_shutdown);
  }

  /// The next call the client made (fails the test if there is none).
  recorded_call next_call() {
    sched.run();
    if (consumed >= port->calls.size())
      CAF_FAIL("expected another request; the client made "
               << port->calls.size());
    return port->calls[consumed++];
  }

  bool no_new_call() {
    sched.run();
    return consumed == port->calls.size();
  }

  void answer(http_answer x) {
    self->send(rest, std::move(x));
    sched.run();
  }

  void advance(caf::timespan d) {
    sched.clock().advance_time(d);
    sched.run();
  }

  template<class T, class Handle>
  caf::expected<T> result_of(Handle& hdl) {
    caf::expected<T> result{caf::error{}};
    sched.run();
    hdl.receive([&](T& x) { result = std::move(x); },
                [&](caf::error& err) { result = std::move(err); });
    return result;
  }
};

std::string errc_name(const caf::error& err) {
  auto code = errc_of(err);
  return code ? to_string(*code) : "none";
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(rest_client_tests, fixture)

CAF_TEST(an order is posted with the credentials and returned) {
  start();
  auto hdl = self->request(rest, caf::infinite, place_atom::value,
                           buy_request(), trace::root());
  auto post = next_call();
  CAF_CHECK_EQUAL(post.call.method, "POST");
  CAF_CHECK_EQUAL(post.call.target, "/v2/orders");
  CAF_CHECK_EQUAL(post.call.headers["APCA-API-KEY-ID"], "KEY-CANARY");
  CAF_CHECK_EQUAL(post.call.headers["APCA-API-SECRET-KEY"], "SECRET-CANARY");
  CAF_CHECK_NOT_EQUAL(post.call.body.find("\"client_order_id\":\"ath-p1-0\""),
                      std::string::npos);
  answer(answer_to(post, 200, order_body("ath-p1-0")));
  auto placed = result_of<order>(hdl);
  CAF_REQUIRE(placed);
  CAF_CHECK_EQUAL(placed->id, "o-1");
  CAF_CHECK(no_new_call());
}

CAF_TEST(a post that timed out is resolved by lookup and not repeated) {
  start();
  auto hdl = self->request(rest, caf::infinite, place_atom::value,
                           buy_request(), trace::root());
  auto post = next_call();
  answer(failure_of(post, http_failure::timeout));
  auto lookup = next_call();
  CAF_CHECK_EQUAL(lookup.call.method, "GET");
  CAF_CHECK_EQUAL(lookup.call.target,
                  "/v2/orders:by_client_order_id?client_order_id=ath-p1-0");
  answer(answer_to(lookup, 200, order_body("ath-p1-0", "o-7")));
  auto placed = result_of<order>(hdl);
  CAF_REQUIRE(placed);
  CAF_CHECK_EQUAL(placed->id, "o-7");
  CAF_CHECK(no_new_call());
}

CAF_TEST(a 5xx post that did not take effect is posted again once) {
  start();
  auto hdl = self->request(rest, caf::infinite, place_atom::value,
                           buy_request(), trace::root());
  auto post = next_call();
  answer(answer_to(post, 500, R"({"code":50010000,"message":"boom"})"));
  auto lookup = next_call();
  CAF_CHECK_EQUAL(lookup.call.method, "GET");
  answer(answer_to(lookup, 404, R"({"code":40410000,"message":"not found"})"));
  // The repeat waits for the backoff.
  CAF_CHECK(no_new_call());
  advance(1s);
  auto again = next_call();
  CAF_CHECK_EQUAL(again.call.method, "POST");
  CAF_CHECK_EQUAL(again.call.body, post.call.body);
  answer(answer_to(again, 200, order_body("ath-p1-0")));
  CAF_CHECK(result_of<order>(hdl));
}

CAF_TEST(a duplicate client order id means already placed) {
  start();
  auto hdl = self->request(rest, caf::infinite, place_atom::value,
                           buy_request(), trace::root());
  auto post = next_call();
  answer(answer_to(post, 422,
                   R"({"code":40010001,"message":"client_order_id must be unique"})"));
  auto lookup = next_call();
  CAF_CHECK_EQUAL(lookup.call.method, "GET");
  answer(answer_to(lookup, 200, order_body("ath-p1-0", "o-9")));
  auto placed = result_of<order>(hdl);
  CAF_REQUIRE(placed);
  CAF_CHECK_EQUAL(placed->id, "o-9");
}

CAF_TEST(a refused order is a non retryable rejection with the reason) {
  start();
  auto hdl = self->request(rest, caf::infinite, place_atom::value,
                           buy_request(), trace::root());
  auto post = next_call();
  answer(answer_to(post, 403,
                   R"({"code":40310000,"message":"insufficient buying power"})"));
  auto placed = result_of<order>(hdl);
  CAF_REQUIRE(!placed);
  CAF_CHECK_EQUAL(errc_name(placed.error()), "order_rejected");
  CAF_CHECK_NOT_EQUAL(detail_of(placed.error()).find("insufficient buying"),
                      std::string::npos);
  CAF_CHECK(no_new_call());
}

CAF_TEST(a post refused for its key is an auth failure not a rejection) {
  start();
  auto hdl = self->request(rest, caf::infinite, place_atom::value,
                           buy_request(), trace::root());
  auto post = next_call();
  answer(answer_to(post, 401, R"({"message":"request is not authorized"})"));
  auto placed = result_of<order>(hdl);
  CAF_REQUIRE(!placed);
  CAF_CHECK_EQUAL(errc_name(placed.error()), "auth_failed");
  CAF_CHECK(no_new_call());
}

CAF_TEST(assets positions and latest trades are read for a plan check) {
  start();
  auto known = self->request(rest, caf::infinite, asset_atom::value,
                             std::string{"BRK.B"}, trace::root());
  auto call = next_call();
  CAF_CHECK_EQUAL(call.call.target, "/v2/assets/BRK.B");
  answer(answer_to(call, 200, R"({"symbol":"BRK.B","class":"us_equity",
    "status":"active","tradable":true,"fractionable":false,"extra":1})"));
  auto a = result_of<asset>(known);
  CAF_REQUIRE(a);
  CAF_CHECK(a->tradable);
  CAF_CHECK(!a->fractionable);
  auto unknown = self->request(rest, caf::infinite, asset_atom::value,
                               std::string{"NOPE"}, trace::root());
  answer(answer_to(next_call(), 404, R"({"code":40410000,"message":"no"})"));
  auto b = result_of<asset>(unknown);
  CAF_REQUIRE(!b);
  CAF_CHECK_EQUAL(errc_name(b.error()), "not_found");
  auto latest = self->request(rest, caf::infinite, latest_atom::value,
                              std::string{"AAPL"}, std::string{"iex"},
                              trace::root());
  call = next_call();
  CAF_CHECK_EQUAL(call.call.target, "/v2/stocks/AAPL/trades/latest?feed=iex");
  answer(answer_to(call, 200, R"({"symbol":"AAPL","trade":{
    "t":"2024-03-01T15:30:00.123Z","x":"V","p":179.66,"s":100}})"));
  auto t = result_of<latest_trade>(latest);
  if (!t)
    CAF_FAIL("latest trade: " << render(t.error()));
  CAF_CHECK_EQUAL(to_string(t->price), "179.66");
  auto held = self->request(rest, caf::infinite, positions_atom::value,
                            trace::root());
  answer(answer_to(next_call(), 200, R"([{"symbol":"MSFT","qty":"4",
    "qty_available":"3","current_price":"410.5"}])"));
  auto p = result_of<std::vector<position>>(held);
  CAF_REQUIRE(p);
  CAF_REQUIRE_EQUAL(p->size(), 1u);
  CAF_CHECK_EQUAL(to_string((*p)[0].qty_available), "3");
  auto broken = self->request(rest, caf::infinite, positions_atom::value,
                              trace::root());
  answer(answer_to(next_call(), 200, R"({"not":"a list"})"));
  auto q = result_of<std::vector<position>>(broken);
  CAF_REQUIRE(!q);
  CAF_CHECK_EQUAL(errc_name(q.error()), "decode_error");
}

CAF_TEST(a page of history is read and a refused one is retried) {
  start();
  history_request req;
  req.kind = channel::trades;
  req.symbols = {"AAPL"};
  req.start = 1'700'000'000'000'000'000;
  req.end = req.start + 5'000'000'000;
  auto hdl = self->request(rest, caf::infinite, history_atom::value, req,
                           trace::root());
  auto first = next_call();
  CAF_CHECK_EQUAL(first.call.method, "GET");
  CAF_CHECK_EQUAL(first.call.target.rfind("/v2/stocks/trades?symbols=AAPL&start=",
                                          0),
                  0u);
  // A server error is retried like every GET, after the backoff.
  answer(answer_to(first, 503));
  CAF_CHECK(no_new_call());
  advance(1s);
  auto second = next_call();
  CAF_CHECK_EQUAL(second.call.target, first.call.target);
  answer(answer_to(second, 200, R"({"trades":{"AAPL":[
    {"t":"2023-11-14T22:13:21Z","x":"V","p":1.5,"s":2,"c":["@"],"i":9,
     "z":"C"}]},"next_page_token":"more"})"));
  auto page = result_of<history_page>(hdl);
  if (!page)
    CAF_FAIL("history: " << render(page.error()));
  CAF_REQUIRE_EQUAL(page->data.trades.size(), 1u);
  CAF_CHECK_EQUAL(page->data.trades[0].id, 9);
  CAF_CHECK_EQUAL(page->next_page_token, "more");
  // A body that is not a page is a decode error, named.
  auto broken = self->request(rest, caf::infinite, history_atom::value, req,
                              trace::root());
  answer(answer_to(next_call(), 200, R"({"trades":[]})"));
  auto bad = result_of<history_page>(broken);
  CAF_REQUIRE(!bad);
  CAF_CHECK_EQUAL(errc_name(bad.error()), "decode_error");
}

CAF_TEST(gets are retried with backoff and give up after max attempts) {
  start();
  auto hdl = self->request(rest, caf::infinite, open_orders_atom::value,
                           trace::root());
  auto first = next_call();
  CAF_CHECK_EQUAL(first.call.target, "/v2/orders?status=open&limit=500");
  answer(answer_to(first, 503));
  CAF_CHECK(no_new_call());
  advance(1s);
  auto second = next_call();
  answer(failure_of(second, http_failure::connection_lost));
  advance(1s);
  CAF_CHECK(no_new_call());
  advance(1s);
  auto third = next_call();
  answer(answer_to(third, 502));
  auto listed = result_of<std::vector<order>>(hdl);
  CAF_REQUIRE(!listed);
  CAF_CHECK_EQUAL(errc_name(listed.error()), "server_error");
}

CAF_TEST(a 429 holds every request back for its retry after) {
  start();
  self->send(rest, account_atom::value, trace::root());
  auto first = next_call();
  auto limited = answer_to(first, 429);
  limited.headers["retry-after"] = "3";
  answer(limited);
  // A second operation waits too.
  auto other = self->request(rest, caf::infinite, lookup_atom::value,
                             std::string{"x"}, trace::root());
  CAF_CHECK(no_new_call());
  advance(2s);
  CAF_CHECK(no_new_call());
  advance(1s);
  auto a = next_call();
  auto b = next_call();
  auto& looked_up = a.call.target == "/v2/account" ? b : a;
  CAF_CHECK_EQUAL(looked_up.call.target,
                  "/v2/orders:by_client_order_id?client_order_id=x");
  answer(answer_to(looked_up, 404));
  auto missing = result_of<order>(other);
  CAF_REQUIRE(!missing);
  CAF_CHECK_EQUAL(errc_name(missing.error()), "not_found");
}

CAF_TEST(the own limit spaces requests over a sliding minute) {
  start(2);
  for (int i = 0; i < 3; ++i)
    self->send(rest, lookup_atom::value, "c" + std::to_string(i),
               trace::root());
  sched.run();
  CAF_CHECK_EQUAL(port->calls.size(), 2u);
  advance(59s);
  CAF_CHECK_EQUAL(port->calls.size(), 2u);
  advance(1s);
  CAF_CHECK_EQUAL(port->calls.size(), 3u);
}

CAF_TEST(remaining zero waits until the server window resets) {
  start();
  self->send(rest, account_atom::value, trace::root());
  auto first = next_call();
  auto reply = answer_to(first, 200);
  reply.received_at = 1'000'000'000'000'000'000; // 1e9 s after the epoch
  reply.headers["x-ratelimit-remaining"] = "0";
  reply.headers["x-ratelimit-reset"] = "1000000005";
  answer(reply);
  self->send(rest, account_atom::value, trace::root());
  CAF_CHECK(no_new_call());
  advance(4s);
  CAF_CHECK(no_new_call());
  advance(1s);
  next_call();
}

CAF_TEST_FIXTURE_SCOPE_END()
