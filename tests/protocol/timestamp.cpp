#define CAF_SUITE protocol.timestamp
#include "protocol/timestamp.hpp"

#include "caf/test/unit_test.hpp"

using namespace athanor::protocol;

namespace {

constexpr int64_t s = 1'000'000'000;

} // namespace

CAF_TEST(fractions of zero to nine digits keep every nanosecond) {
  auto base = parse_rfc3339("2021-02-22T19:15:00Z");
  CAF_REQUIRE(base.has_value());
  CAF_CHECK_EQUAL(*base, 1614021300 * s);
  CAF_CHECK_EQUAL(parse_rfc3339("2021-02-22T19:15:00.2Z"), *base + 200'000'000);
  CAF_CHECK_EQUAL(parse_rfc3339("2021-02-22T19:15:00.208Z"),
                  *base + 208'000'000);
  CAF_CHECK_EQUAL(parse_rfc3339("2021-02-22T19:15:00.335689322Z"),
                  *base + 335'689'322);
  CAF_CHECK_EQUAL(parse_rfc3339("2021-02-22T19:15:00.000000001Z"), *base + 1);
}

CAF_TEST(offsets are applied) {
  CAF_CHECK_EQUAL(parse_rfc3339("2021-02-22T15:15:00-04:00"),
                  parse_rfc3339("2021-02-22T19:15:00Z"));
  CAF_CHECK_EQUAL(parse_rfc3339("2021-02-22T20:45:00.5+01:30"),
                  parse_rfc3339("2021-02-22T19:15:00.5Z"));
}

CAF_TEST(malformed timestamps are refused) {
  for (auto bad :
       {"", "2021-02-22", "2021-02-22T19:15:00", "2021-13-01T00:00:00Z",
        "2021-02-22T19:15:00.Z", "2021-02-22T19:15:00.1234567890Z",
        "2021-02-22T19:15:00Zjunk", "2021-02-22 19:15:00Z",
        "2021-02-22T19:15:00+0400", "abcd-02-22T19:15:00Z"})
    CAF_CHECK_EQUAL(parse_rfc3339(bad), std::nullopt);
}

CAF_TEST(times beyond int64 nanoseconds are refused) {
  CAF_CHECK_EQUAL(parse_rfc3339("9999-12-31T23:59:59Z"), std::nullopt);
  CAF_CHECK_EQUAL(parse_rfc3339("0001-01-01T00:00:00Z"), std::nullopt);
  CAF_CHECK(parse_rfc3339("2262-04-11T23:47:16Z").has_value());
  CAF_CHECK_EQUAL(to_nanoseconds(INT64_MAX / 1000, 0), std::nullopt);
}

CAF_TEST(formatting round trips) {
  for (auto text : {"2021-02-22T19:15:00Z", "2021-02-22T15:51:44.208Z",
                    "2021-02-22T15:51:45.335689322Z", "1970-01-01T00:00:00Z",
                    "2024-02-29T23:59:59.999999999Z"}) {
    auto ns = parse_rfc3339(text);
    CAF_REQUIRE(ns.has_value());
    CAF_CHECK_EQUAL(format_rfc3339(*ns), text);
  }
  CAF_CHECK_EQUAL(format_rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
}
