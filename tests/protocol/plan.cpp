#define CAF_SUITE protocol.plan
#include "protocol/plan.hpp"

#include "caf/test/unit_test.hpp"

using namespace athanor;
using namespace athanor::protocol;

namespace {

const char* good_plan = R"({
  "plan_id": "rebalance-2026-11-23",
  "correlation_id": "ops-4711",
  "deadline_seconds": 90.5,
  "items": [
    {"symbol": "AAPL", "side": "buy", "qty": 10, "type": "market",
     "time_in_force": "day"},
    {"symbol": "MSFT", "side": "sell", "notional": "1000.25"},
    {"symbol": "TSLA", "side": "buy", "qty": "0.5", "type": "limit",
     "limit_price": 200.55, "time_in_force": "gtc"}
  ]
})";

std::vector<std::string> fields_of(const std::vector<config_problem>& xs) {
  std::vector<std::string> result;
  for (auto& x : xs)
    result.push_back(x.option);
  return result;
}

} // namespace

CAF_TEST(a valid plan decodes exactly) {
  plan p;
  std::vector<config_problem> problems;
  CAF_REQUIRE(decode_plan(good_plan, p, problems));
  CAF_CHECK_EQUAL(p.plan_id, "rebalance-2026-11-23");
  CAF_CHECK_EQUAL(p.correlation_id, "ops-4711");
  CAF_CHECK_EQUAL(p.deadline_ms, 90500);
  CAF_CHECK(p.sequence == plan_sequence::sells_first);
  CAF_REQUIRE_EQUAL(p.items.size(), 3u);
  CAF_CHECK_EQUAL(to_string(p.items[0].qty), "10");
  CAF_CHECK(p.items[1].side == order_side::sell);
  CAF_CHECK_EQUAL(to_string(p.items[1].notional), "1000.25");
  CAF_CHECK(p.items[1].type == order_type::market);
  CAF_CHECK(p.items[1].tif == time_in_force::day);
  CAF_CHECK_EQUAL(to_string(p.items[2].limit_price), "200.55");
  CAF_CHECK(p.items[2].tif == time_in_force::gtc);
}

CAF_TEST(the canonical form round trips) {
  plan p;
  std::vector<config_problem> problems;
  CAF_REQUIRE(decode_plan(good_plan, p, problems));
  plan again;
  CAF_REQUIRE(decode_plan(encode_plan(p), again, problems));
  CAF_CHECK_EQUAL(encode_plan(p), encode_plan(again));
  CAF_CHECK_EQUAL(again.deadline_ms, 90500);
}

CAF_TEST(every bad field is reported at once) {
  plan p;
  std::vector<config_problem> problems;
  CAF_CHECK(!decode_plan(R"({"plan_id": "p1", "colour": "red", "items": [
    {"symbol": "AAPL", "side": "hold", "qty": "ten"},
    {"symbol": "MSFT", "side": "buy", "qty": 1, "limt_price": 3}]})",
                         p, problems));
  CAF_CHECK_EQUAL(fields_of(problems),
                  (std::vector<std::string>{"colour", "items[0].side",
                                            "items[0].qty",
                                            "items[1].limt_price"}));
}

CAF_TEST(an empty key is named as such) {
  // Found by the plan fuzz target: the problem named no field at all.
  plan p;
  std::vector<config_problem> problems;
  CAF_CHECK(!decode_plan(R"({"plan_id": "p", "": 1, "items": [
    {"symbol": "AAPL", "side": "buy", "qty": 1, "": 2}]})",
                         p, problems));
  CAF_CHECK_EQUAL(fields_of(problems),
                  (std::vector<std::string>{"\"\"", "items[0].\"\""}));
}

CAF_TEST(the rules name their field) {
  plan p;
  std::vector<config_problem> problems;
  CAF_CHECK(!decode_plan(R"({"plan_id": "bad:id", "items": [
    {"symbol": "aapl", "side": "buy", "qty": 1, "notional": 5},
    {"symbol": "MSFT", "side": "buy", "qty": -1},
    {"symbol": "TSLA", "side": "buy", "qty": 1, "type": "limit"},
    {"symbol": "NVDA", "side": "buy", "qty": 1, "type": "stop"},
    {"symbol": "AMD", "side": "buy", "notional": 5, "time_in_force": "gtc"}]})",
                         p, problems));
  CAF_CHECK_EQUAL(fields_of(problems),
                  (std::vector<std::string>{"plan_id", "items[0].symbol",
                                            "items[0].qty", "items[1].qty",
                                            "items[2].limit_price",
                                            "items[3].type",
                                            "items[4].notional"}));
  CAF_CHECK(!decode_plan("{\"plan_id\": \"x\"}", p, problems));
  CAF_CHECK_EQUAL(fields_of(problems), (std::vector<std::string>{"items"}));
  CAF_CHECK(!decode_plan("{not json", p, problems));
  CAF_CHECK_EQUAL(fields_of(problems), (std::vector<std::string>{"plan"}));
}

CAF_TEST(shape and rule problems come in one pass) {
  plan p;
  std::vector<config_problem> problems;
  CAF_CHECK(!decode_plan(R"({"plan_id": "bad:id", "colour": 1, "items": [
    {"symbol": "aapl", "side": "hold", "qty": 1},
    {"symbol": "MSFT", "side": "buy", "qty": "two"}]})",
                         p, problems));
  // A field with a wrong shape is not reported again by the rules.
  CAF_CHECK_EQUAL(fields_of(problems),
                  (std::vector<std::string>{"colour", "items[0].side",
                                            "items[1].qty", "plan_id",
                                            "items[0].symbol"}));
}

CAF_TEST(client order ids are deterministic short and distinct) {
  CAF_CHECK_EQUAL(client_order_id_of("p1", 0), "ath-p1-0");
  CAF_CHECK_EQUAL(client_order_id_of("p1", 0), client_order_id_of("p1", 0));
  CAF_CHECK_NOT_EQUAL(client_order_id_of("a-1", 0),
                      client_order_id_of("a", 10));
  std::string longest(max_plan_id_length, 'x');
  CAF_CHECK(client_order_id_of(longest, 4294967295u).size() <= 128u);
}

CAF_TEST(results encode every item) {
  plan_result r;
  r.plan_id = "p1";
  item_result item;
  item.symbol = "AAPL";
  item.outcome = item_outcome::rejected;
  item.reason = "HTTP 403: insufficient buying power";
  r.items.push_back(item);
  auto text = encode_plan_result(r);
  CAF_CHECK_NOT_EQUAL(text.find("\"outcome\":\"rejected\""), std::string::npos);
  CAF_CHECK_NOT_EQUAL(text.find("\"succeeded\":false"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(text.find("insufficient buying power"),
                      std::string::npos);
}
