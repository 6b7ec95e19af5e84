#include "messages/decimal.hpp"

#include <cmath>
#include <limits>

namespace athanor {

namespace {

constexpr int64_t pow10(int n) {
  int64_t result = 1;
  for (int i = 0; i < n; ++i)
    result *= 10;
  return result;
}

// Brings x and y to the larger scale; false on overflow.
bool align(const decimal& x, const decimal& y, __int128& a, __int128& b) {
  auto scale = std::max(x.scale(), y.scale());
  a = static_cast<__int128>(x.mantissa()) * pow10(scale - x.scale());
  b = static_cast<__int128>(y.mantissa()) * pow10(scale - y.scale());
  return true;
}

std::optional<decimal> make(__int128 value, uint8_t scale) {
  if (value > std::numeric_limits<int64_t>::max()
      || value < std::numeric_limits<int64_t>::min())
    return std::nullopt;
  return decimal{static_cast<int64_t>(value), scale};
}

} // namespace

std::optional<decimal> decimal::parse(std::string_view text) {
  if (text.empty())
    return std::nullopt;
  size_t pos = 0;
  bool negative = false;
  if (text[0] == '-' || text[0] == '+') {
    negative = text[0] == '-';
    pos = 1;
  }
  int64_t mantissa = 0;
  int digits = 0;
  int scale = -1; // -1: no point seen yet
  bool any_digit = false;
  for (; pos < text.size(); ++pos) {
    auto c = text[pos];
    if (c == '.') {
      if (scale >= 0)
        return std::nullopt;
      scale = 0;
      continue;
    }
    if (c < '0' || c > '9')
      return std::nullopt;
    any_digit = true;
    if (mantissa != 0 || c != '0')
      ++digits;
    if (digits > 18)
      return std::nullopt;
    mantissa = mantissa * 10 + (c - '0');
    if (scale >= 0)
      ++scale;
  }
  if (!any_digit || scale == 0 || scale > 18)
    return std::nullopt;
  return decimal{negative ? -mantissa : mantissa,
                 static_cast<uint8_t>(scale < 0 ? 0 : scale)};
}

double decimal::to_double() const {
  if (is_null())
    return std::nan("");
  return static_cast<double>(mantissa_) / static_cast<double>(pow10(scale_));
}

bool operator==(const decimal& x, const decimal& y) {
  if (x.is_null() || y.is_null())
    return x.is_null() && y.is_null();
  __int128 a, b;
  align(x, y, a, b);
  return a == b;
}

bool operator<(const decimal& x, const decimal& y) {
  if (x.is_null() || y.is_null())
    return x.is_null() && !y.is_null();
  __int128 a, b;
  align(x, y, a, b);
  return a < b;
}

std::optional<decimal> add(const decimal& x, const decimal& y) {
  if (x.is_null() || y.is_null())
    return std::nullopt;
  __int128 a, b;
  align(x, y, a, b);
  return make(a + b, std::max(x.scale(), y.scale()));
}

std::optional<decimal> subtract(const decimal& x, const decimal& y) {
  if (x.is_null() || y.is_null())
    return std::nullopt;
  __int128 a, b;
  align(x, y, a, b);
  return make(a - b, std::max(x.scale(), y.scale()));
}

std::string to_string(const decimal& x) {
  if (x.is_null())
    return "null";
  auto m = x.mantissa();
  bool negative = m < 0;
  // Unsigned negation is defined for INT64_MIN too.
  auto magnitude = negative ? 0 - static_cast<uint64_t>(m)
                            : static_cast<uint64_t>(m);
  auto digits = std::to_string(magnitude);
  if (x.scale() > 0) {
    if (digits.size() <= x.scale())
      digits.insert(0, x.scale() - digits.size() + 1, '0');
    digits.insert(digits.size() - x.scale(), ".");
  }
  return negative ? "-" + digits : digits;
}

} // namespace athanor
