#define CAF_SUITE protocol.market_dialect
#include "protocol/market_dialect.hpp"

#include <algorithm>

#include "caf/test/unit_test.hpp"

#include "vectors.hpp"

using namespace athanor;
using namespace athanor::protocol;

namespace {

subscription_set make_set(std::vector<std::string> trades,
                          std::vector<std::string> quotes = {}) {
  subscription_set result;
  result[channel::trades] = std::move(trades);
  result[channel::quotes] = std::move(quotes);
  return result;
}

stream_control control_of(const std::string& vector_path) {
  auto file = load_vector(vector_path);
  market_frame frame;
  decode_problem problem;
  if (!decode_json(file.json, frame, problem) || frame.controls.size() != 1)
    CAF_FAIL("vector " << vector_path << " holds no single control record");
  return frame.controls.front();
}

} // namespace

CAF_TEST(normalize sorts dedups and drops implicit channels) {
  auto x = make_set({"MSFT", "AAPL", "MSFT"});
  x[channel::corrections] = {"AAPL"};
  auto y = normalize(x);
  CAF_CHECK_EQUAL(y[channel::trades], (std::vector<std::string>{"AAPL",
                                                                "MSFT"}));
  CAF_CHECK(y[channel::corrections].empty());
  CAF_CHECK_EQUAL(count(y), 2u);
}

CAF_TEST(a first desired set becomes one subscribe of the whole set) {
  subscription_tracker t;
  CAF_CHECK(t.set_desired(make_set({"AAPL"}, {"AAPL", "MSFT"})));
  auto c = t.next_change();
  CAF_REQUIRE(c.has_value());
  CAF_CHECK(c->subscribe);
  CAF_CHECK_EQUAL(c->symbols, normalize(make_set({"AAPL"}, {"AAPL", "MSFT"})));
  CAF_CHECK(t.in_flight());
  CAF_CHECK(!t.next_change().has_value());
}

CAF_TEST(only one change is in flight and later ones are diffs) {
  subscription_tracker t;
  t.set_desired(make_set({"AAPL"}));
  auto first = t.next_change();
  CAF_REQUIRE(first.has_value());
  t.set_desired(make_set({"AAPL", "TSLA"}));
  CAF_CHECK(!t.next_change().has_value());
  t.on_ack(make_set({"AAPL"}));
  auto second = t.next_change();
  CAF_REQUIRE(second.has_value());
  CAF_CHECK(second->subscribe);
  CAF_CHECK_EQUAL(second->symbols, make_set({"TSLA"}));
  t.on_ack(make_set({"AAPL", "TSLA"}));
  CAF_CHECK(t.settled());
  CAF_CHECK(!t.next_change().has_value());
}

CAF_TEST(unsubscribes go out before subscribes) {
  subscription_tracker t;
  t.set_desired(make_set({"AAPL"}));
  t.next_change();
  t.on_ack(make_set({"AAPL"}));
  t.set_desired(make_set({"MSFT"}));
  auto first = t.next_change();
  CAF_REQUIRE(first.has_value());
  CAF_CHECK(!first->subscribe);
  CAF_CHECK_EQUAL(first->symbols, make_set({"AAPL"}));
  t.on_ack(subscription_set{});
  auto second = t.next_change();
  CAF_REQUIRE(second.has_value());
  CAF_CHECK(second->subscribe);
  CAF_CHECK_EQUAL(second->symbols, make_set({"MSFT"}));
}

CAF_TEST(an unchanged desired set is not a change) {
  subscription_tracker t;
  CAF_CHECK(t.set_desired(make_set({"B", "A"})));
  CAF_CHECK(!t.set_desired(make_set({"A", "B", "A"})));
}

CAF_TEST(after a disconnect the whole set is sent again) {
  subscription_tracker t;
  t.set_desired(make_set({"AAPL"}, {"MSFT"}));
  t.next_change();
  t.on_ack(make_set({"AAPL"}, {"MSFT"}));
  t.on_disconnect();
  CAF_CHECK(t.confirmed().empty());
  auto c = t.next_change();
  CAF_REQUIRE(c.has_value());
  CAF_CHECK_EQUAL(c->symbols, make_set({"AAPL"}, {"MSFT"}));
}

CAF_TEST(a refused subscribe is split until the refused topic is found) {
  // A permissive fake server: it refuses any change holding "BAD", as
  // Alpaca refuses a whole change for one topic it rejects.
  subscription_tracker t;
  t.set_desired(make_set({"A", "B", "BAD", "C", "D"}, {"A", "B"}));
  subscription_set server;
  std::vector<topic> refused;
  size_t round_trips = 0;
  while (auto c = t.next_change()) {
    ++round_trips;
    auto& xs = c->symbols[channel::trades];
    if (std::find(xs.begin(), xs.end(), "BAD") != xs.end()) {
      for (auto& x : t.on_refused())
        refused.push_back(x);
      continue;
    }
    for (auto ch : all_channels)
      for (auto& x : c->symbols[ch])
        server[ch].push_back(x);
    server = normalize(server);
    t.on_ack(server);
  }
  CAF_CHECK_EQUAL(refused, (std::vector<topic>{{channel::trades, "BAD"}}));
  CAF_CHECK_EQUAL(server, make_set({"A", "B", "C", "D"}, {"A", "B"}));
  CAF_CHECK(t.settled());
  // whole, per channel (trades refused, quotes taken), halves: 2 log n.
  CAF_CHECK_LESS_OR_EQUAL(round_trips, 8u);
  // Not sent again after a reconnect while consumers still want it.
  t.on_disconnect();
  auto again = t.next_change();
  CAF_REQUIRE(again.has_value());
  CAF_CHECK_EQUAL(again->symbols,
                  make_set({"A", "B", "C", "D"}, {"A", "B"}));
  // Dropped by its consumers and asked for again: tried again.
  t.on_ack(again->symbols);
  t.set_desired(make_set({"A", "B", "C", "D"}, {"A", "B"}));
  t.set_desired(make_set({"A", "B", "BAD", "C", "D"}, {"A", "B"}));
  auto retry = t.next_change();
  CAF_REQUIRE(retry.has_value());
  CAF_CHECK_EQUAL(retry->symbols, make_set({"BAD"}));
}

CAF_TEST(a refused unsubscribe is not retried until the desired set changes) {
  subscription_tracker t;
  t.set_desired(make_set({"A", "B", "C"}));
  t.next_change();
  t.on_ack(make_set({"A", "B", "C"}));
  t.set_desired(make_set({"A"}));
  auto c = t.next_change();
  CAF_REQUIRE(c.has_value());
  CAF_CHECK(!c->subscribe);
  CAF_CHECK(t.on_refused().empty());
  CAF_CHECK(!t.in_flight());
  CAF_CHECK(!t.next_change().has_value());
  t.set_desired(make_set({"A", "B"}));
  CAF_CHECK(t.next_change().has_value());
}

CAF_TEST(a timed out change may be sent again) {
  subscription_tracker t;
  t.set_desired(make_set({"A"}));
  t.next_change();
  t.on_timeout();
  auto c = t.next_change();
  CAF_REQUIRE(c.has_value());
  CAF_CHECK_EQUAL(c->symbols, make_set({"A"}));
}

CAF_TEST(an ack that leaves out requested symbols stops the loop) {
  subscription_tracker t;
  t.set_desired(make_set({"A", "ZZZZ"}));
  t.next_change();
  t.on_ack(make_set({"A"}));
  CAF_CHECK(!t.next_change().has_value());
  CAF_CHECK(!t.settled());
}

CAF_TEST(a server ack with implicit channels settles the set) {
  subscription_tracker t;
  t.set_desired(make_set({"AAPL"}));
  t.next_change();
  auto server = make_set({"AAPL"});
  server[channel::corrections] = {"AAPL"};
  server[channel::cancel_errors] = {"AAPL"};
  t.on_ack(server);
  CAF_CHECK(t.settled());
}

CAF_TEST(control vectors map to session events) {
  market_dialect d{codec::json};
  auto ev = [&](const std::string& path) {
    return d.interpret(control_of(path));
  };
  CAF_CHECK_EQUAL(ev("md-stocks/00_welcome_connected.json").kind,
                  dialect_event::welcome);
  CAF_CHECK_EQUAL(ev("md-stocks/02_authenticated.json").kind,
                  dialect_event::authenticated);
  CAF_CHECK_EQUAL(ev("md-stocks/04_subscription_ack.json").kind,
                  dialect_event::subscribed);
  auto kind_of = [&](int code) {
    return ev("md-errors/err_" + std::to_string(code) + ".json").kind;
  };
  for (auto code : {402, 408, 409, 411})
    CAF_CHECK_EQUAL(kind_of(code), dialect_event::fatal);
  for (auto code : {400, 405, 410})
    CAF_CHECK_EQUAL(kind_of(code), dialect_event::subscription_refused);
  CAF_CHECK_EQUAL(kind_of(406), dialect_event::connection_limit);
  CAF_CHECK_EQUAL(kind_of(407), dialect_event::slow_client);
  for (auto code : {401, 403, 404, 500})
    CAF_CHECK_EQUAL(kind_of(code), dialect_event::server_error);
  auto failed = ev("md-errors/err_402.json");
  CAF_CHECK_EQUAL(failed.errc, engine_errc::auth_failed);
  CAF_CHECK_EQUAL(failed.message, "auth failed");
}

CAF_TEST(changes encode as the protocol vectors do) {
  market_dialect d{codec::json};
  subscription_tracker::change add{true, make_set({"AAPL"})};
  auto frame = d.encode(add);
  CAF_CHECK_NOT_EQUAL(frame.find("\"action\":\"subscribe\""),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(frame.find("\"trades\":[\"AAPL\"]"), std::string::npos);
  subscription_tracker::change remove{false, make_set({}, {"MSFT"})};
  frame = d.encode(remove);
  CAF_CHECK_NOT_EQUAL(frame.find("\"action\":\"unsubscribe\""),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(frame.find("\"quotes\":[\"MSFT\"]"), std::string::npos);
}

CAF_TEST(an endpoint path tells which channels it offers) {
  using protocol::feed_family;
  auto family = [](const char* url) { return protocol::family_of_endpoint(url); };
  CAF_CHECK(family("wss://stream.data.alpaca.markets/v2/iex")
            == feed_family::stocks);
  CAF_CHECK(family("ws://127.0.0.1:9/v2/test") == feed_family::stocks);
  CAF_CHECK(family("wss://stream.data.alpaca.markets/v1beta3/crypto/us")
            == feed_family::crypto);
  CAF_CHECK(family("wss://stream.data.alpaca.markets/v1beta1/opra")
            == feed_family::options);
  CAF_CHECK(family("wss://stream.data.alpaca.markets/v1beta1/news")
            == feed_family::news);
  CAF_CHECK(family("ws://localhost:1/elsewhere") == feed_family::unknown);
  CAF_CHECK(!protocol::offers(feed_family::stocks, channel::orderbooks));
  CAF_CHECK(protocol::offers(feed_family::stocks, channel::imbalances));
  CAF_CHECK(protocol::offers(feed_family::crypto, channel::orderbooks));
  for (auto ch : {channel::statuses, channel::lulds, channel::imbalances})
    CAF_CHECK(!protocol::offers(feed_family::crypto, ch));
  CAF_CHECK(!protocol::offers(feed_family::options, channel::bars));
  for (auto ch : all_channels)
    CAF_CHECK(protocol::offers(feed_family::unknown, ch));
}

CAF_TEST(a whole-market universe goes upstream in bounded changes) {
  subscription_tracker t;
  std::vector<std::string> symbols;
  // Two channels of this many: five changes each way.
  auto per_channel = subscription_tracker::max_change_topics * 5 / 2;
  for (size_t i = 0; i < per_channel; ++i)
    symbols.push_back("S" + std::to_string(i));
  t.set_desired(make_set(symbols, symbols));
  subscription_set server;
  size_t changes = 0;
  while (auto c = t.next_change()) {
    ++changes;
    CAF_CHECK(c->subscribe);
    CAF_CHECK_LESS_OR_EQUAL(count(c->symbols),
                            subscription_tracker::max_change_topics);
    for (auto ch : all_channels)
      for (auto& x : c->symbols[ch])
        server[ch].push_back(x);
    server = normalize(server);
    t.on_ack(server);
  }
  CAF_CHECK_EQUAL(changes, 5u);
  CAF_CHECK(t.settled());
  CAF_CHECK_EQUAL(count(t.confirmed()), 2 * per_channel);
  // And back out, bounded too.
  t.set_desired({});
  changes = 0;
  while (auto c = t.next_change()) {
    ++changes;
    CAF_CHECK(!c->subscribe);
    CAF_CHECK_LESS_OR_EQUAL(count(c->symbols),
                            subscription_tracker::max_change_topics);
    t.on_ack(difference(t.confirmed(), c->symbols));
  }
  CAF_CHECK_EQUAL(changes, 5u);
  CAF_CHECK(t.confirmed().empty());
}
