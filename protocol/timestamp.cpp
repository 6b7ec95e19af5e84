#include "protocol/timestamp.hpp"

#include <cstdio>

namespace athanor::protocol {

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  // Howard Hinnant's algorithm.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

namespace {

bool digits(std::string_view text, size_t pos, size_t count, int& out) {
  if (pos + count > text.size())
    return false;
  out = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    auto c = text[i];
    if (c < '0' || c > '9')
      return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

void civil_from_days(int64_t z, int64_t& y, unsigned& m, unsigned& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
}

} // namespace

std::optional<int64_t> parse_rfc3339(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (!digits(text, 0, 4, year) || text.size() < 20 || text[4] != '-'
      || !digits(text, 5, 2, month) || text[7] != '-'
      || !digits(text, 8, 2, day) || (text[10] != 'T' && text[10] != 't')
      || !digits(text, 11, 2, hour) || text[13] != ':'
      || !digits(text, 14, 2, minute) || text[16] != ':'
      || !digits(text, 17, 2, second))
    return std::nullopt;
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59
      || second > 60)
    return std::nullopt;
  size_t pos = 19;
  int64_t fraction = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t count = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (count == 9)
        return std::nullopt;
      fraction = fraction * 10 + (text[pos] - '0');
      ++count;
      ++pos;
    }
    if (count == 0)
      return std::nullopt;
    for (; count < 9; ++count)
      fraction *= 10;
  }
  int64_t offset_seconds = 0;
  if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z')) {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int oh, om;
    if (!digits(text, pos + 1, 2, oh) || pos + 3 >= text.size()
        || text[pos + 3] != ':' || !digits(text, pos + 4, 2, om) || oh > 23
        || om > 59)
      return std::nullopt;
    offset_seconds = (oh * 3600 + om * 60) * (text[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != text.size())
    return std::nullopt;
  auto days = days_from_civil(year, static_cast<unsigned>(month),
                              static_cast<unsigned>(day));
  auto seconds = days * 86400 + hour * 3600 + minute * 60 + second
                 - offset_seconds;
  return to_nanoseconds(seconds, fraction);
}

std::optional<int64_t> to_nanoseconds(int64_t seconds, int64_t nanos) {
  int64_t result;
  if (__builtin_mul_overflow(seconds, int64_t{1'000'000'000}, &result)
      || __builtin_add_overflow(result, nanos, &result))
    return std::nullopt;
  return result;
}

std::string format_rfc3339(int64_t ns) {
  auto seconds = ns / 1'000'000'000;
  auto fraction = ns % 1'000'000'000;
  if (fraction < 0) {
    fraction += 1'000'000'000;
    --seconds;
  }
  auto days = seconds / 86400;
  auto rest = seconds % 86400;
  if (rest < 0) {
    rest += 86400;
    --days;
  }
  int64_t y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[48];
  auto n = std::snprintf(
    buf, sizeof(buf), "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
    static_cast<long long>(y), m, d, static_cast<long long>(rest / 3600),
    static_cast<long long>(rest / 60 % 60), static_cast<long long>(rest % 60));
  std::string result(buf, static_cast<size_t>(n));
  if (fraction != 0) {
    char frac[16];
    std::snprintf(frac, sizeof(frac), ".%09lld",
                  static_cast<long long>(fraction));
    std::string digits_str = frac;
    while (digits_str.back() == '0')
      digits_str.pop_back();
    result += digits_str;
  }
  result += 'Z';
  return result;
}

} // namespace athanor::protocol
