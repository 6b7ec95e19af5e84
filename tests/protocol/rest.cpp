#define CAF_SUITE protocol.rest
#include "protocol/rest.hpp"
#include "protocol/history.hpp"

#include "caf/test/unit_test.hpp"

#include "caf/deep_to_string.hpp"

#include "vectors.hpp"

using namespace athanor;
using namespace athanor::protocol;

CAF_TEST(order requests round trip exactly) {
  for (auto path : {"rest/01_post_order_limit_request.json",
                    "rest/02_post_order_notional_market_request.json"}) {
    auto file = load_vector(path);
    order_request req;
    decode_problem problem;
    CAF_REQUIRE(decode_order_request(file.json, req, problem));
    CAF_CHECK_EQUAL(encode_order_request(req), file.json);
  }
}

CAF_TEST(order classes other than simple are refused by name) {
  order_request req;
  decode_problem problem;
  CAF_CHECK(!decode_order_request(
    load_vector("rest/03_post_order_bracket_request.json").json, req, problem));
  CAF_CHECK_EQUAL(problem.field, "order_class");
}

CAF_TEST(invalid order requests name the field) {
  auto check = [](const std::string& body, const char* field) {
    order_request req;
    decode_problem problem;
    CAF_CHECK(!decode_order_request(body, req, problem));
    CAF_CHECK_EQUAL(problem.field, field);
  };
  check(R"({"symbol":"A","side":"buy","type":"market","time_in_force":"day"})",
        "qty");
  check(
    R"({"symbol":"A","qty":"1","notional":"5","side":"buy","type":"market",)"
    R"("time_in_force":"day"})",
    "qty");
  check(
    R"({"symbol":"A","qty":"1","side":"buy","type":"limit","time_in_force":"day"})",
    "limit_price");
  check(
    R"({"symbol":"A","qty":"1","side":"hold","type":"market","time_in_force":"day"})",
    "side");
  check(
    R"({"symbol":"A","qty":"-1","side":"buy","type":"market","time_in_force":"day"})",
    "qty");
  check(R"({"qty":"1","side":"buy","type":"market","time_in_force":"day"})",
        "symbol");
  check(
    R"({"symbol":"A","qty":"1","side":"buy","type":"market","time_in_force":"day",)"
    R"("client_order_id":")"
      + std::string(129, 'x') + "\"}",
    "client_order_id");
}

CAF_TEST(an order response decodes and round trips) {
  auto file = load_vector("rest/04_order_response_200.json");
  order x;
  decode_problem problem;
  CAF_REQUIRE(decode_order(file.json, x, problem));
  CAF_CHECK(!x.id.empty());
  CAF_CHECK(!x.client_order_id.empty());
  order again;
  CAF_REQUIRE(decode_order(encode_order(x), again, problem));
  CAF_CHECK_EQUAL(caf::deep_to_string(again), caf::deep_to_string(x));
  std::vector<order> list;
  CAF_REQUIRE(decode_orders(encode_orders({x, again}), list, problem));
  CAF_CHECK_EQUAL(list.size(), 2u);
}

CAF_TEST(errors keep status code and message) {
  auto dup = load_vector("rest/05_error_duplicate_client_order_id_422.json");
  auto err = decode_api_error(422, dup.json);
  CAF_CHECK_EQUAL(err.code, 40010001);
  CAF_CHECK(is_duplicate_client_order_id(err));
  // The same code with another message is not a duplicate.
  CAF_CHECK(!is_duplicate_client_order_id(
    decode_api_error(422, R"({"code":40010001,"message":"qty must be > 0"})")));
  for (auto [path, status] :
       {std::pair{"rest/06_error_insufficient_buying_power_403.json", 403},
        {"rest/07_error_unauthorized_401.json", 401},
        {"rest/08_error_rate_limited_429.json", 429},
        {"rest/09_error_order_not_found_404.json", 404}}) {
    auto e = decode_api_error(status, load_vector(path).json);
    CAF_CHECK_EQUAL(e.http_status, status);
    CAF_CHECK(!e.message.empty());
  }
  auto html = decode_api_error(502, "<html>Bad Gateway</html>");
  CAF_CHECK_EQUAL(html.code, 0);
  CAF_CHECK_EQUAL(html.message, "<html>Bad Gateway</html>");
  auto round = decode_api_error(422, encode_api_error(err));
  CAF_CHECK_EQUAL(round.message, err.message);
}

CAF_TEST(account and positions decode and round trip) {
  account acct;
  decode_problem problem;
  CAF_REQUIRE(decode_account(
    load_vector("rest/10_get_account_response.json").json, acct, problem));
  CAF_CHECK(!acct.id.empty());
  CAF_CHECK(static_cast<bool>(acct.buying_power));
  account acct2;
  CAF_REQUIRE(decode_account(encode_account(acct), acct2, problem));
  CAF_CHECK_EQUAL(caf::deep_to_string(acct2), caf::deep_to_string(acct));
  std::vector<position> positions;
  CAF_REQUIRE(
    decode_positions(load_vector("rest/11_get_positions_response.json").json,
                     positions, problem));
  CAF_REQUIRE(!positions.empty());
  std::vector<position> again;
  CAF_REQUIRE(decode_positions(encode_positions(positions), again, problem));
  CAF_CHECK_EQUAL(caf::deep_to_string(again), caf::deep_to_string(positions));
}

// -- history (the market-data API's /v2/stocks/{trades,quotes,bars}) ------

CAF_TEST(a documented page of historical trades decodes with its token) {
  auto body = std::string{R"({"trades":{"AAPL":[
    {"t":"2021-02-06T13:04:56.334320128Z","x":"C","p":387.62,"s":100,
     "c":[" ","T"],"i":52983525029461,"z":"B"},
    {"t":"2021-02-06T13:09:42.325484032Z","x":"C","p":387.69,"s":49,
     "c":[" ","T"],"i":52983525033813,"z":"B"}],
    "MSFT":[{"t":"2021-02-06T13:05:00Z","x":"V","p":242.01,"s":1,"c":["@"],
     "i":7,"z":"C"}]},
    "next_page_token":"QUFQTHwyMDIxLTAyLTA2VDEzOjA5OjQyLjMyNTQ4NDAzMlp8QzUyOTgzNTI1MDMzODEz"})"};
  history_page page;
  decode_problem problem;
  CAF_REQUIRE(decode_history_page(channel::trades, body, page, problem));
  CAF_REQUIRE_EQUAL(page.data.trades.size(), 3u);
  CAF_CHECK_EQUAL(page.data.trades[0].symbol, "AAPL");
  CAF_CHECK_EQUAL(page.data.trades[0].id, 52983525029461);
  CAF_CHECK_EQUAL(page.data.trades[1].price, 387.69);
  CAF_CHECK_EQUAL(page.data.trades[2].symbol, "MSFT");
  CAF_CHECK_EQUAL(page.next_page_token.substr(0, 8), "QUFQTHwy");
}

CAF_TEST(a documented page of minute bars decodes and the last has no token) {
  auto body = std::string{R"({"bars":{"AAPL":[
    {"t":"2021-02-01T16:01:00Z","o":133.32,"h":133.74,"l":133.31,"c":133.5,
     "v":9876,"n":100,"vw":133.45}]},"next_page_token":null})"};
  history_page page;
  decode_problem problem;
  CAF_REQUIRE(decode_history_page(channel::bars, body, page, problem));
  CAF_REQUIRE_EQUAL(page.data.bars.size(), 1u);
  CAF_CHECK_EQUAL(page.data.bars[0].close, 133.5);
  CAF_CHECK_EQUAL(page.data.bars[0].trade_count, 100u);
  CAF_CHECK(page.next_page_token.empty());
  // No records at all is a page too.
  CAF_CHECK(decode_history_page(channel::bars,
                                R"({"bars":{},"next_page_token":null})", page,
                                problem));
  CAF_CHECK(decode_history_page(channel::bars,
                                R"({"bars":null,"next_page_token":null})",
                                page, problem));
}

CAF_TEST(a history page round trips and bad pages name the field) {
  history_page page;
  for (auto symbol : {"AAPL", "AAPL", "MSFT"}) {
    trade t;
    t.symbol = symbol;
    t.id = static_cast<int64_t>(page.data.trades.size() + 1);
    t.exchange = 'V';
    t.price = 10.5;
    t.size = 3;
    t.time = 1'700'000'000'000'000'000 + t.id;
    t.conditions = "@";
    t.tape = 'C';
    page.data.trades.push_back(t);
  }
  page.next_page_token = "next";
  history_page back;
  decode_problem problem;
  CAF_REQUIRE(decode_history_page(
    channel::trades, encode_history_page(channel::trades, page), back, problem));
  CAF_CHECK_EQUAL(back.data.trades, page.data.trades);
  CAF_CHECK_EQUAL(back.next_page_token, "next");
  CAF_CHECK(!decode_history_page(channel::trades, R"({"trades":[1]})", back,
                                 problem));
  CAF_CHECK_EQUAL(problem.field, "trades");
  CAF_CHECK(!decode_history_page(channel::trades,
                                 R"({"trades":{"AAPL":[{"t":"x","p":1}]}})",
                                 back, problem));
  CAF_CHECK(!decode_history_page(channel::lulds, "{}", back, problem));
  CAF_CHECK_EQUAL(problem.field, "channel");
}

CAF_TEST(a history request names its feed range and page) {
  history_request req;
  req.kind = channel::bars;
  req.symbols = {"AAPL", "BRK.B"};
  req.start = 0;
  req.end = 60'000'000'000;
  req.feed = "sip";
  req.limit = 500;
  req.page_token = "a|b";
  CAF_CHECK_EQUAL(history_target(req),
                  "/v2/stocks/bars?symbols=AAPL,BRK.B"
                  "&start=1970-01-01T00%3A00%3A00Z"
                  "&end=1970-01-01T00%3A01%3A00Z&limit=500&feed=sip"
                  "&sort=asc&timeframe=1Min&page_token=a%7Cb");
  history_request back;
  decode_problem problem;
  CAF_CHECK(decode_history_query(channel::bars, "AAPL,BRK.B",
                                 "1970-01-01T00:00:00Z", "", "500", back,
                                 problem));
  CAF_CHECK_EQUAL(back.symbols.size(), 2u);
  CAF_CHECK_EQUAL(back.limit, 500u);
  CAF_CHECK(!decode_history_query(channel::bars, "", "1970-01-01T00:00:00Z",
                                  "", "", back, problem));
  CAF_CHECK_EQUAL(problem.field, "symbols");
  CAF_CHECK(!decode_history_query(channel::bars, "A", "1970-01-01T00:00:00Z",
                                  "", "0", back, problem));
  CAF_CHECK_EQUAL(problem.field, "limit");
}
