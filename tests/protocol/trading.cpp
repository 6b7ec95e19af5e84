#define CAF_SUITE protocol.trading
#include "protocol/trading.hpp"

#include "caf/test/unit_test.hpp"

#include "caf/deep_to_string.hpp"

#include "protocol/timestamp.hpp"
#include "vectors.hpp"

using namespace athanor;
using namespace athanor::protocol;

namespace {

trading_message decode(const std::string& text) {
  trading_message out;
  decode_problem problem;
  if (!decode_trading_message(text, out, problem))
    CAF_FAIL("decode failed: " << to_string(problem));
  return out;
}

} // namespace

CAF_TEST(every server vector of the trading stream decodes) {
  size_t count = 0;
  for (auto& file : load_vectors("trading-stream/")) {
    if (file.direction != "server->client")
      continue;
    ++count;
    CAF_MESSAGE(file.path);
    auto msg = decode(file.json);
    CAF_CHECK_NOT_EQUAL(msg.kind, trading_message::other);
    if (msg.kind == trading_message::trade_update) {
      CAF_CHECK_NOT_EQUAL(msg.update.event, trade_event::unknown);
      CAF_CHECK(!msg.update.subject.id.empty());
      CAF_CHECK_NOT_EQUAL(msg.update.subject.status, order_status::unknown);
      // The gateway forwards the message as it came.
      CAF_CHECK_EQUAL(msg.update.wire_json, file.json);
      CAF_CHECK_EQUAL(forwardable_trade_update(msg.update), file.json);
      // Our encoder writes it back so that it decodes the same.
      auto again = decode(encode_trade_update(msg.update));
      again.update.wire_json.clear();
      msg.update.wire_json.clear();
      CAF_CHECK_EQUAL(caf::deep_to_string(again.update),
                      caf::deep_to_string(msg.update));
      CAF_CHECK_EQUAL(forwardable_trade_update(msg.update),
                      encode_trade_update(msg.update));
    }
  }
  CAF_CHECK_EQUAL(count, 17u);
}

CAF_TEST(a fill keeps its decimals exactly) {
  auto msg = decode(load_vector("trading-stream/13_tu_fill.json").json);
  CAF_REQUIRE_EQUAL(msg.kind, trading_message::trade_update);
  auto& u = msg.update;
  CAF_CHECK_EQUAL(u.event, trade_event::fill);
  CAF_CHECK_EQUAL(to_string(u.price), "189.50");
  CAF_CHECK_EQUAL(to_string(u.qty), "6");
  CAF_CHECK_EQUAL(to_string(u.position_qty), "10");
  CAF_CHECK_EQUAL(u.subject.client_order_id, "eng-20240501-000001");
  CAF_CHECK_EQUAL(to_string(u.subject.filled_avg_price), "189.496");
  CAF_CHECK_EQUAL(u.subject.status, order_status::filled);
  CAF_CHECK(u.subject.limit_price == *decimal::parse("189.5"));
  CAF_CHECK(u.subject.stop_price.is_null());
  auto expected_at = parse_rfc3339("2024-05-01T14:30:02.750000Z");
  CAF_REQUIRE(expected_at.has_value());
  CAF_CHECK_EQUAL(u.at, *expected_at);
  CAF_CHECK_EQUAL(u.subject.canceled_at, 0);
}

CAF_TEST(authorization listening and errors decode) {
  auto ok = decode(load_vector("trading-stream/02_authorized.json").json);
  CAF_CHECK_EQUAL(ok.kind, trading_message::authorization);
  CAF_CHECK(ok.authorized);
  auto denied = decode(load_vector("trading-stream/03_unauthorized.json").json);
  CAF_CHECK(!denied.authorized);
  auto listening = decode(
    load_vector("trading-stream/05_listening_ack.json").json);
  CAF_CHECK_EQUAL(listening.streams, std::vector<std::string>{"trade_updates"});
  auto error = decode(load_vector("trading-stream/08_error_frame.json").json);
  CAF_CHECK_EQUAL(error.kind, trading_message::error);
  CAF_CHECK_EQUAL(error.error_message, "invalid request");
}

CAF_TEST(unknown events and streams are kept rather than refused) {
  auto text = load_vector("trading-stream/11_tu_new.json").json;
  auto pos = text.find("\"new\"");
  CAF_REQUIRE(pos != std::string::npos);
  text.replace(pos, 5, "\"held_for_review\"");
  auto msg = decode(text);
  CAF_CHECK_EQUAL(msg.update.event, trade_event::unknown);
  CAF_CHECK_EQUAL(msg.update.event_text, "held_for_review");
  auto other = decode(R"({"stream":"account_updates","data":{}})");
  CAF_CHECK_EQUAL(other.kind, trading_message::other);
}

CAF_TEST(a malformed trade update names the field) {
  trading_message out;
  decode_problem problem;
  CAF_CHECK(!decode_trading_message(
    R"({"stream":"trade_updates","data":{"event":"fill","order":{"id":"x",)"
    R"("client_order_id":"c","symbol":"A","side":"buy","status":"filled",)"
    R"("qty":"ten"}}})",
    out, problem));
  CAF_CHECK_EQUAL(problem.field, "data.order.qty");
  CAF_CHECK(!decode_trading_message("{", out, problem));
  CAF_CHECK_EQUAL(problem.field, "body");
}

CAF_TEST(client messages round trip) {
  size_t count = 0;
  for (auto& file : load_vectors("trading-stream/")) {
    if (file.direction != "client->server")
      continue;
    ++count;
    trading_client_message msg;
    decode_problem problem;
    CAF_REQUIRE(decode_trading_client_message(file.json, msg, problem));
    auto again_text = msg.action == trading_client_message::listen
                        ? encode_listen(msg.streams)
                        : encode_authenticate(msg.creds);
    trading_client_message again;
    CAF_REQUIRE(decode_trading_client_message(again_text, again, problem));
    CAF_CHECK_EQUAL(again.action, msg.action);
    CAF_CHECK_EQUAL(again.streams, msg.streams);
    CAF_CHECK(again.creds.key_id == msg.creds.key_id);
  }
  CAF_CHECK_EQUAL(count, 4u);
  auto listen = load_vector("trading-stream/04_listen_request.json").json;
  CAF_CHECK_EQUAL(encode_listen({"trade_updates"}), listen);
}
