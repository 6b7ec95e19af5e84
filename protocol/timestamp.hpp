#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace athanor::protocol {

/// Parses an RFC 3339 timestamp with 0 to 9 fractional digits and a `Z` or
/// `±hh:mm` offset ("2021-02-22T15:51:45.335689322Z") into nanoseconds since
/// the Unix epoch. Returns nullopt for anything else.
std::optional<int64_t> parse_rfc3339(std::string_view text);

/// Returns seconds * 1e9 + nanos, or nullopt if that leaves int64 (before
/// 1677 or after 2262).
std::optional<int64_t> to_nanoseconds(int64_t seconds, int64_t nanos);

/// Formats nanoseconds since the epoch as RFC 3339 UTC with the fewest
/// fractional digits that keep every nanosecond ("2021-02-22T19:15:00Z").
std::string format_rfc3339(int64_t ns);

/// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);

} // namespace athanor::protocol
