#pragma once

// Structured logging. Every record names the actor and the event, carries
// the trace (correlation and causation ids) when there is one, and holds its
// values as fields rather than interpolated prose. Two formats: human lines
// and JSON lines. spdlog stays inside log.cpp.

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <variant>

#include "messages/trace.hpp"

namespace athanor {

class secret;

namespace log {

enum class level : uint8_t { trace, debug, info, warn, error, critical, off };
enum class format : uint8_t { human, json };

std::optional<level> parse_level(std::string_view name);
std::optional<format> parse_format(std::string_view name);
std::string to_string(level x);
std::string to_string(format x);

/// One structured value. A secret cannot become a field: pass its
/// fingerprint.
class field {
 public:
  using value_type = std::variant<std::string, int64_t, uint64_t, double, bool>;

  field(std::string_view key, std::string value)
      : key_(key), value_(std::move(value)) {}
  field(std::string_view key, std::string_view value)
      : key_(key), value_(std::string{value}) {}
  field(std::string_view key, const char* value)
      : key_(key), value_(std::string{value}) {}
  field(std::string_view key, bool value) : key_(key), value_(value) {}
  field(std::string_view key, double value) : key_(key), value_(value) {}
  template<class T, class = std::enable_if_t<std::is_integral_v<T>>>
  field(std::string_view key, T value) : key_(key) {
    if constexpr (std::is_signed_v<T>)
      value_ = static_cast<int64_t>(value);
    else
      value_ = static_cast<uint64_t>(value);
  }
  field(std::string_view key, const secret& value) = delete;

  std::string_view key() const {
    return key_;
  }

  const value_type& value() const {
    return value_;
  }

 private:
  std::string_view key_;
  value_type value_;
};

struct options {
  format fmt = format::human;
  level min_level = level::info;
};

/// Sends every record to stderr with the given options.
void configure(const options& opts);

/// Sends every record to `out` (tests capture logs this way). The stream must
/// outlive the logger or the next `configure` call.
void configure(const options& opts, std::ostream& out);

/// Returns whether a record at `lvl` would be written.
bool enabled(level lvl);

/// Writes one record: `actor` names who logs, `event` what happened.
void write(level lvl, std::string_view actor, std::string_view event,
           const trace* cause, std::initializer_list<field> fields);

inline void info(std::string_view actor, std::string_view event,
                 const trace& cause, std::initializer_list<field> fields = {}) {
  write(level::info, actor, event, &cause, fields);
}

inline void info(std::string_view actor, std::string_view event,
                 std::initializer_list<field> fields = {}) {
  write(level::info, actor, event, nullptr, fields);
}

inline void warn(std::string_view actor, std::string_view event,
                 const trace& cause, std::initializer_list<field> fields = {}) {
  write(level::warn, actor, event, &cause, fields);
}

inline void warn(std::string_view actor, std::string_view event,
                 std::initializer_list<field> fields = {}) {
  write(level::warn, actor, event, nullptr, fields);
}

inline void error(std::string_view actor, std::string_view event,
                  const trace& cause,
                  std::initializer_list<field> fields = {}) {
  write(level::error, actor, event, &cause, fields);
}

inline void error(std::string_view actor, std::string_view event,
                  std::initializer_list<field> fields = {}) {
  write(level::error, actor, event, nullptr, fields);
}

inline void debug(std::string_view actor, std::string_view event,
                  std::initializer_list<field> fields = {}) {
  if (enabled(level::debug))
    write(level::debug, actor, event, nullptr, fields);
}

/// Returns `text` escaped for a JSON string (without quotes).
std::string json_escape(std::string_view text);

} // namespace log
} // namespace athanor
