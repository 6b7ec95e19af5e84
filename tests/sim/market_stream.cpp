#define CAF_SUITE sim.market_stream
#include "sim/simulator.hpp"

#include "caf/test/unit_test.hpp"

#include <set>
#include <thread>

#include "http_client.hpp"
#include "protocol/history.hpp"
#include "protocol/market_data.hpp"
#include "ws_client.hpp"

using namespace athanor;
using namespace athanor::protocol;
using namespace std::chrono_literals;
using athanor::testing::ws_client;

namespace {

sim::market_options fast() {
  sim::market_options opts;
  opts.tick = 5ms;
  opts.records_per_second = 2000;
  return opts;
}

struct fixture {
  std::unique_ptr<sim::simulator> sim;

  void start(sim::market_options market = fast(),
             std::vector<sim::sim_account> accounts = {}) {
    sim::simulator_options opts;
    opts.market = std::move(market);
    opts.accounts = std::move(accounts);
    sim = std::make_unique<sim::simulator>(std::move(opts));
  }

  std::unique_ptr<ws_client>
  connect(const std::string& path = "/v2/iex", codec c = codec::json,
          std::map<std::string, std::string> headers = {}) {
    if (c == codec::msgpack)
      headers["Content-Type"] = "application/msgpack";
    return std::make_unique<ws_client>(sim->port(), path, headers);
  }

  market_frame next(ws_client& client, codec c = codec::json,
                    std::chrono::milliseconds timeout = 5000ms) {
    auto frame = client.read(timeout);
    if (!frame)
      CAF_FAIL("no frame arrived");
    CAF_CHECK_EQUAL(frame->binary, c == codec::msgpack);
    market_frame out;
    decode_problem problem;
    auto ok = c == codec::json
                ? decode_json(frame->data, out, problem)
                : decode_msgpack(frame->data.data(), frame->data.size(), out,
                                 problem);
    if (!ok)
      CAF_FAIL("undecodable frame: " << to_string(problem));
    return out;
  }

  control_message control(ws_client& client, codec c = codec::json) {
    // Data may arrive between controls; skip it.
    for (;;) {
      auto frame = next(client, c);
      if (!frame.controls.empty())
        return frame.controls.front();
    }
  }

  // The symbols of the next subscription ack, by value: the check macros
  // bind their operands in separate statements, so a reference into a
  // temporary ack would dangle.
  std::vector<std::string> acked(ws_client& client, channel ch,
                                 codec c = codec::json) {
    auto ack = control(client, c);
    CAF_CHECK_EQUAL(ack.kind, control_message::subscription);
    return ack.subscriptions[ch];
  }

  void send(ws_client& client, const std::string& text, codec c = codec::json) {
    client.send(text, c == codec::msgpack);
  }

  void login(ws_client& client, codec c = codec::json,
             const char* key_text = sim::default_key,
             const char* secret_text = sim::default_secret) {
    CAF_REQUIRE_EQUAL(control(client, c).message, "connected");
    send(client, encode_auth(c, {secret{key_text}, secret{secret_text}}), c);
    auto reply = control(client, c);
    CAF_REQUIRE_EQUAL(reply.kind, control_message::success);
    CAF_REQUIRE_EQUAL(reply.message, "authenticated");
  }

  int error_code(ws_client& client, codec c = codec::json) {
    auto msg = control(client, c);
    CAF_CHECK_EQUAL(msg.kind, control_message::error);
    return msg.code;
  }

  // Returns whether the server closed the connection (no more frames).
  bool closed_by_server(ws_client& client) {
    while (client.read(2000ms))
      ;
    return !client.open();
  }
};

subscription_set quotes_of(std::vector<std::string> symbols) {
  subscription_set set;
  set[channel::quotes] = std::move(symbols);
  return set;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(market_stream_tests, fixture)

CAF_TEST(welcome then auth then only the subscribed quotes flow) {
  start();
  auto client = connect();
  login(*client);
  send(*client, encode_subscribe(codec::json, quotes_of({"AAPL"})));
  auto ack = control(*client);
  CAF_REQUIRE_EQUAL(ack.kind, control_message::subscription);
  CAF_CHECK_EQUAL(ack.subscriptions[channel::quotes],
                  std::vector<std::string>{"AAPL"});
  size_t quotes = 0;
  for (int i = 0; i < 20 && quotes < 10; ++i) {
    auto frame = next(*client);
    CAF_CHECK(frame.data.trades.empty());
    for (auto& q : frame.data.quotes) {
      CAF_CHECK_EQUAL(q.symbol, "AAPL");
      CAF_CHECK_LESS(q.bid_price, q.ask_price);
      ++quotes;
    }
  }
  CAF_CHECK_GREATER_OR_EQUAL(quotes, 10u);
}

CAF_TEST(msgpack clients get binary msgpack frames) {
  start();
  auto client = connect("/v2/sip", codec::msgpack);
  login(*client, codec::msgpack);
  subscription_set set;
  set[channel::trades] = {"MSFT"};
  send(*client, encode_subscribe(codec::msgpack, set), codec::msgpack);
  auto ack = control(*client, codec::msgpack);
  CAF_CHECK_EQUAL(ack.subscriptions[channel::trades],
                  std::vector<std::string>{"MSFT"});
  // Corrections and cancel errors follow trades.
  CAF_CHECK_EQUAL(ack.subscriptions[channel::corrections],
                  std::vector<std::string>{"MSFT"});
  size_t trades = 0;
  for (int i = 0; i < 50 && trades == 0; ++i)
    trades += next(*client, codec::msgpack).data.trades.size();
  CAF_CHECK_GREATER(trades, 0u);
}

CAF_TEST(a wrong secret gets 402 and the socket closes) {
  start();
  auto client = connect();
  CAF_REQUIRE_EQUAL(control(*client).message, "connected");
  send(*client,
       encode_auth(codec::json, {secret{sim::default_key}, secret{"wrong"}}));
  CAF_CHECK_EQUAL(error_code(*client), 402);
  CAF_CHECK(closed_by_server(*client));
}

CAF_TEST(subscribing before auth gets 401 and a second auth 403) {
  start();
  auto client = connect();
  CAF_REQUIRE_EQUAL(control(*client).message, "connected");
  send(*client, encode_subscribe(codec::json, quotes_of({"AAPL"})));
  CAF_CHECK_EQUAL(error_code(*client), 401);
  send(*client, encode_auth(codec::json, {secret{sim::default_key},
                                          secret{sim::default_secret}}));
  CAF_CHECK_EQUAL(control(*client).message, "authenticated");
  send(*client, encode_auth(codec::json, {secret{sim::default_key},
                                          secret{sim::default_secret}}));
  CAF_CHECK_EQUAL(error_code(*client), 403);
  CAF_CHECK(client->open());
}

CAF_TEST(no auth within the window gets 404 and a close) {
  auto opts = fast();
  opts.auth_timeout = 200ms;
  start(opts);
  auto client = connect();
  CAF_REQUIRE_EQUAL(control(*client).message, "connected");
  CAF_CHECK_EQUAL(error_code(*client), 404);
  CAF_CHECK(closed_by_server(*client));
}

CAF_TEST(an auth sent before reading the welcome still comes after it) {
  start();
  auto client = connect();
  send(*client, encode_auth(codec::json, {secret{sim::default_key},
                                          secret{sim::default_secret}}));
  CAF_CHECK_EQUAL(control(*client).message, "connected");
  CAF_CHECK_EQUAL(control(*client).message, "authenticated");
}

CAF_TEST(header auth needs no auth message) {
  start();
  auto client = connect("/v2/iex", codec::json,
                        {{"APCA-API-KEY-ID", sim::default_key},
                         {"APCA-API-SECRET-KEY", sim::default_secret}});
  CAF_CHECK_EQUAL(control(*client).message, "connected");
  CAF_CHECK_EQUAL(control(*client).message, "authenticated");
}

CAF_TEST(one session per key and endpoint) {
  start();
  auto first = connect("/v2/iex");
  login(*first);
  auto second = connect("/v2/iex");
  CAF_REQUIRE_EQUAL(control(*second).message, "connected");
  send(*second, encode_auth(codec::json, {secret{sim::default_key},
                                          secret{sim::default_secret}}));
  CAF_CHECK_EQUAL(error_code(*second), 406);
  CAF_CHECK(closed_by_server(*second));
  // The first is unaffected, and another endpoint is a separate slot.
  CAF_CHECK(first->open());
  auto other = connect("/v2/test");
  login(*other);
}

CAF_TEST(an unclean drop leaves a ghost for the configured period) {
  auto opts = fast();
  opts.ghost_period = 600ms;
  start(opts);
  auto first = connect();
  login(*first);
  first->reset();
  std::this_thread::sleep_for(100ms);
  auto during = connect();
  CAF_REQUIRE_EQUAL(control(*during).message, "connected");
  send(*during, encode_auth(codec::json, {secret{sim::default_key},
                                          secret{sim::default_secret}}));
  CAF_CHECK_EQUAL(error_code(*during), 406);
  std::this_thread::sleep_for(700ms);
  auto after = connect();
  login(*after);
}

CAF_TEST(a clean close frees the slot at once) {
  auto opts = fast();
  opts.ghost_period = 60s;
  start(opts);
  auto first = connect();
  login(*first);
  first->close();
  std::this_thread::sleep_for(100ms);
  auto again = connect();
  login(*again);
}

CAF_TEST(the symbol limit is all or nothing) {
  start(fast(), {{"K", "S", {}, 2, true}});
  auto client = connect();
  login(*client, codec::json, "K", "S");
  send(*client, encode_subscribe(codec::json, quotes_of({"A"})));
  CAF_CHECK_EQUAL(acked(*client, channel::quotes),
                  std::vector<std::string>{"A"});
  send(*client, encode_subscribe(codec::json, quotes_of({"B", "C"})));
  CAF_CHECK_EQUAL(error_code(*client), 405);
  // Unchanged: an idempotent re-subscribe shows the whole set.
  send(*client, encode_subscribe(codec::json, quotes_of({"A"})));
  CAF_CHECK_EQUAL(acked(*client, channel::quotes),
                  std::vector<std::string>{"A"});
  send(*client, encode_subscribe(codec::json, quotes_of({"B"})));
  CAF_CHECK_EQUAL(acked(*client, channel::quotes),
                  (std::vector<std::string>{"A", "B"}));
  send(*client, encode_unsubscribe(codec::json, quotes_of({"A"})));
  CAF_CHECK_EQUAL(acked(*client, channel::quotes),
                  std::vector<std::string>{"B"});
}

CAF_TEST(a feed outside the plan gets 409) {
  start(fast(), {{"K", "S", {"iex"}, 0, true}});
  auto client = connect("/v2/sip");
  CAF_REQUIRE_EQUAL(control(*client).message, "connected");
  send(*client, encode_auth(codec::json, {secret{"K"}, secret{"S"}}));
  CAF_CHECK_EQUAL(error_code(*client), 409);
  CAF_CHECK(closed_by_server(*client));
}

CAF_TEST(channels the endpoint lacks get 410 and bad input 400) {
  start();
  auto client = connect();
  login(*client);
  subscription_set books;
  books[channel::orderbooks] = {"AAPL"};
  send(*client, encode_subscribe(codec::json, books));
  CAF_CHECK_EQUAL(error_code(*client), 410);
  send(*client, encode_subscribe(codec::json, quotes_of({"not a symbol"})));
  CAF_CHECK_EQUAL(error_code(*client), 400);
  send(*client, R"({"action":"dance"})");
  CAF_CHECK_EQUAL(error_code(*client), 400);
  CAF_CHECK(client->open());
}

CAF_TEST(crypto endpoints offer order books but not statuses) {
  start();
  auto client = connect("/v1beta3/crypto/us");
  login(*client);
  subscription_set set;
  set[channel::orderbooks] = {"BTC/USD"};
  send(*client, encode_subscribe(codec::json, set));
  CAF_CHECK_EQUAL(acked(*client, channel::orderbooks),
                  std::vector<std::string>{"BTC/USD"});
  subscription_set statuses;
  statuses[channel::statuses] = {"BTC/USD"};
  send(*client, encode_subscribe(codec::json, statuses));
  CAF_CHECK_EQUAL(error_code(*client), 410);
}

CAF_TEST(permessage deflate is negotiated when offered) {
  start();
  ws_client client{sim->port(), "/v2/iex", {}, true};
  CAF_CHECK(client.open());
  CAF_CHECK(client.deflated());
  auto opts = fast();
  opts.deflate = false;
  start(opts);
  ws_client plain{sim->port(), "/v2/iex", {}, true};
  CAF_CHECK(plain.open());
  CAF_CHECK(!plain.deflated());
}

CAF_TEST(a 429 storm refuses upgrades with HTTP 429) {
  start();
  sim->call([](sim::market_hub& hub) { hub.storm_429(500ms); });
  ws_client refused{sim->port(), "/v2/iex"};
  CAF_CHECK(!refused.open());
  CAF_CHECK_EQUAL(refused.status(), 429);
  std::this_thread::sleep_for(600ms);
  ws_client later{sim->port(), "/v2/iex"};
  CAF_CHECK(later.open());
}

CAF_TEST(too many upgrades per second get HTTP 429) {
  auto opts = fast();
  opts.max_upgrades_per_second = 2;
  start(opts);
  ws_client a{sim->port(), "/v2/iex"};
  ws_client b{sim->port(), "/v2/iex"};
  ws_client c{sim->port(), "/v2/iex"};
  CAF_CHECK(a.open());
  CAF_CHECK(b.open());
  CAF_CHECK_EQUAL(c.status(), 429);
}

CAF_TEST(a 406 storm refuses every authentication for a while) {
  start();
  sim->call([](sim::market_hub& hub) { hub.storm_406(10s); });
  auto client = connect();
  CAF_REQUIRE_EQUAL(control(*client).message, "connected");
  send(*client, encode_auth(codec::json, {secret{sim::default_key},
                                          secret{sim::default_secret}}));
  CAF_CHECK_EQUAL(error_code(*client), 406);
}

CAF_TEST(faults reach every connection) {
  start();
  auto a = connect();
  login(*a);
  auto b = connect("/v2/test");
  login(*b);
  sim->call([](sim::market_hub& hub) { hub.send_malformed(); });
  auto bad = a->read();
  CAF_REQUIRE(bad.has_value());
  market_frame out;
  decode_problem problem;
  CAF_CHECK(!decode_json(bad->data, out, problem));
  sim->call([](sim::market_hub& hub) { hub.reset_all(); });
  CAF_CHECK(closed_by_server(*a));
  CAF_CHECK(closed_by_server(*b));
}

CAF_TEST(a clean close fault sends a close frame) {
  start();
  auto client = connect();
  login(*client);
  sim->call([](sim::market_hub& hub) { hub.close_all(); });
  CAF_CHECK(closed_by_server(*client));
}

CAF_TEST(a stalled server sends nothing and answers no ping) {
  start();
  auto client = connect();
  login(*client);
  send(*client, encode_subscribe(codec::json, quotes_of({"AAPL"})));
  control(*client);
  CAF_CHECK(client->ping(2000ms)); // alive: data flows and pongs come
  sim->call([](sim::market_hub& hub) { hub.stall_all(); });
  // Frames already on the wire may still arrive; a pong never does.
  CAF_CHECK(!client->ping(1000ms));
  // The socket itself was not closed: a reset is what ends it.
  auto stats = sim->call([](sim::market_hub& hub) { return hub.stats(); });
  CAF_CHECK_EQUAL(stats.connections_open, 1u);
}

CAF_TEST(a stalled connection is dropped after the hold and frees its slot) {
  auto opts = fast();
  opts.ghost_period = 60s;
  opts.stall_hold = 300ms;
  start(opts);
  auto client = connect();
  login(*client);
  sim->call([](sim::market_hub& hub) { hub.stall_all(); });
  // While it is held, the slot is taken.
  auto during = connect();
  CAF_REQUIRE_EQUAL(control(*during).message, "connected");
  send(*during, encode_auth(codec::json, {secret{sim::default_key},
                                          secret{sim::default_secret}}));
  CAF_CHECK_EQUAL(error_code(*during), 406);
  std::this_thread::sleep_for(500ms);
  // Then it is free at once (with a 60 s ghost period, a ghost would still
  // hold it): the ghost period passed during the stall.
  auto after = connect();
  login(*after);
}

CAF_TEST(a slow client is dropped with 407) {
  auto opts = fast();
  opts.records_per_second = 200000;
  opts.max_queued_bytes = 64 * 1024;
  start(opts);
  auto client = connect();
  login(*client);
  subscription_set all;
  all[channel::quotes] = {"*"};
  all[channel::trades] = {"*"};
  send(*client, encode_subscribe(codec::json, all));
  // Do not read: the server's queue for us fills up.
  std::this_thread::sleep_for(1500ms);
  auto stats = sim->call([](sim::market_hub& hub) { return hub.stats(); });
  CAF_CHECK_GREATER_OR_EQUAL(stats.slow_client_drops, 1u);
  CAF_CHECK(closed_by_server(*client));
}

CAF_TEST(the control endpoint reports stats over http) {
  start();
  auto client = connect();
  login(*client);
  auto res = athanor::testing::http_call(sim->port(), "GET", "/sim/stats");
  CAF_CHECK_EQUAL(res.status, 200);
  CAF_CHECK(res.body.find(R"("authenticated":1,)") != std::string::npos);
  CAF_CHECK(res.body.find(R"("connections_open":1,)") != std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST_FIXTURE_SCOPE(market_history_tests, fixture)

CAF_TEST(the history api pages through exactly the trades the stream sent) {
  start();
  auto client = connect();
  login(*client);
  subscription_set set;
  set[channel::trades] = {"AAPL", "MSFT"};
  send(*client, encode_subscribe(codec::json, set));
  control(*client);
  std::set<std::pair<std::string, int64_t>> streamed;
  timestamp_ns first = 0;
  timestamp_ns last = 0;
  while (streamed.size() < 300) {
    auto frame = next(*client);
    for (auto& t : frame.data.trades) {
      streamed.emplace(t.symbol, t.id);
      first = first == 0 ? t.time : std::min(first, t.time);
      last = std::max(last, t.time);
    }
  }
  client.reset();
  history_request req;
  req.kind = channel::trades;
  req.symbols = {"AAPL", "MSFT"};
  req.start = first;
  req.end = last;
  req.limit = 37;
  std::map<std::string, std::string> auth{
    {"APCA-API-KEY-ID", sim::default_key},
    {"APCA-API-SECRET-KEY", sim::default_secret}};
  std::set<std::pair<std::string, int64_t>> fetched;
  size_t records = 0;
  size_t pages = 0;
  std::string previous_symbol;
  for (;;) {
    auto res = testing::http_call(sim->port(), "GET",
                                  protocol::history_target(req), "", auth);
    CAF_REQUIRE_EQUAL(res.status, 200);
    history_page page;
    decode_problem problem;
    CAF_REQUIRE(decode_history_page(channel::trades, res.body, page, problem));
    CAF_CHECK_LESS_OR_EQUAL(page.data.trades.size(), 37u);
    ++pages;
    for (auto& t : page.data.trades) {
      // Alpaca's order: by symbol, then time.
      CAF_CHECK_LESS_OR_EQUAL(previous_symbol, t.symbol);
      previous_symbol = t.symbol;
      fetched.emplace(t.symbol, t.id);
      ++records;
    }
    if (page.next_page_token.empty())
      break;
    req.page_token = page.next_page_token;
  }
  CAF_CHECK_GREATER(pages, 5u);
  // Every trade once: none missing, none twice.
  CAF_CHECK_EQUAL(records, fetched.size());
  for (auto& x : streamed)
    CAF_CHECK_EQUAL(fetched.count(x), 1u);
  // Without a key, Alpaca's 401; a bad time names the parameter.
  auto anonymous = testing::http_call(sim->port(), "GET",
                                      protocol::history_target(req));
  CAF_CHECK_EQUAL(anonymous.status, 401);
  auto bad = testing::http_call(sim->port(), "GET",
                                "/v2/stocks/trades?symbols=AAPL&start=yesterday",
                                "", auth);
  CAF_CHECK_EQUAL(bad.status, 422);
  CAF_CHECK_NOT_EQUAL(bad.body.find("start"), std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()
