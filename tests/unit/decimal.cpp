#define CAF_SUITE unit.decimal
#include "messages/decimal.hpp"

#include "caf/test/unit_test.hpp"

using namespace athanor;

CAF_TEST(decimal strings parse exactly and print as given) {
  for (auto text : {"189.50", "6", "-0.5", "0.000000001", "1790.86",
                    "123456789012345678", "0"}) {
    auto x = decimal::parse(text);
    CAF_REQUIRE(x.has_value());
    CAF_CHECK_EQUAL(to_string(*x), text);
  }
  CAF_CHECK_EQUAL(decimal::parse("189.50")->mantissa(), 18950);
  CAF_CHECK_EQUAL(decimal::parse("189.50")->scale(), 2);
}

CAF_TEST(malformed decimals are refused) {
  for (auto text : {"", "-", ".", "1.", "1.2.3", "1e3", "abc", " 1",
                    "1234567890123456789", "0.1234567890123456789"})
    CAF_CHECK(!decimal::parse(text).has_value());
}

CAF_TEST(values compare across scales) {
  auto a = *decimal::parse("1.50");
  auto b = *decimal::parse("1.5");
  CAF_CHECK(a == b);
  CAF_CHECK(*decimal::parse("1.49") < b);
  CAF_CHECK(!(b < a));
  CAF_CHECK(decimal{} == decimal{});
  CAF_CHECK(decimal{} != a);
  CAF_CHECK(decimal{} < a);
}

CAF_TEST(sums are exact) {
  auto sum = add(*decimal::parse("0.1"), *decimal::parse("0.2"));
  CAF_REQUIRE(sum.has_value());
  CAF_CHECK(*sum == *decimal::parse("0.3"));
  CAF_CHECK_EQUAL(
    to_string(*subtract(*decimal::parse("10"), *decimal::parse("6.25"))),
    "3.75");
  CAF_CHECK(!add(decimal{}, *decimal::parse("1")).has_value());
  CAF_CHECK(!add(decimal{INT64_MAX, 0}, decimal{1, 0}).has_value());
  CAF_CHECK_EQUAL(to_string(decimal{INT64_MIN, 0}), "-9223372036854775808");
}
