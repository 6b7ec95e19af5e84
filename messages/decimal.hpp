#pragma once

// Money and quantities travel as decimal strings ("189.50") and are kept
// exactly: a decimal is mantissa / 10^scale, never a float. A decimal can
// be null, as Alpaca's money fields often are.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "caf/meta/type_name.hpp"

namespace athanor {

class decimal {
 public:
  /// The null decimal (an absent value).
  decimal() = default;

  decimal(int64_t mantissa, uint8_t scale)
      : mantissa_(mantissa), scale_(scale) {}

  /// Parses "189.50", "-0.5", "6", "1e3" is refused; at most 18 significant
  /// digits and 18 fractional digits.
  static std::optional<decimal> parse(std::string_view text);

  static decimal from_integer(int64_t x) {
    return decimal{x, 0};
  }

  bool is_null() const {
    return scale_ == null_scale;
  }

  explicit operator bool() const {
    return !is_null();
  }

  int64_t mantissa() const {
    return mantissa_;
  }

  uint8_t scale() const {
    return scale_;
  }

  /// Returns the value as a double, for display and rough arithmetic only.
  double to_double() const;

  /// Compares values: 1.50 == 1.5. Null equals only null.
  friend bool operator==(const decimal& x, const decimal& y);
  friend bool operator!=(const decimal& x, const decimal& y) {
    return !(x == y);
  }
  /// Orders values; null sorts first.
  friend bool operator<(const decimal& x, const decimal& y);

  /// Exact sum and difference; nullopt on overflow or a null operand.
  friend std::optional<decimal> add(const decimal& x, const decimal& y);
  friend std::optional<decimal> subtract(const decimal& x, const decimal& y);

  template<class Inspector>
  friend typename Inspector::result_type inspect(Inspector& f, decimal& x) {
    return f(caf::meta::type_name("athanor.decimal"), x.mantissa_, x.scale_);
  }

 private:
  static constexpr uint8_t null_scale = 0xff;
  int64_t mantissa_ = 0;
  uint8_t scale_ = null_scale;
};

/// Returns "189.5" (trailing zeros kept as given: "189.50"), or "null".
std::string to_string(const decimal& x);

} // namespace athanor
