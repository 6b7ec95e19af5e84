#include "observability/log.hpp"

#include <atomic>
#include <cstdio>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace athanor::log {

namespace {

constexpr std::string_view level_names[] = {"trace", "debug",    "info", "warn",
                                            "error", "critical", "off"};

spdlog::level::level_enum to_spdlog(level x) {
  return static_cast<spdlog::level::level_enum>(static_cast<int>(x));
}

// The active format; written only by configure(), which runs before any actor.
std::atomic<format> active_format{format::human};

void install(const options& opts, spdlog::sink_ptr sink) {
  active_format = opts.fmt;
  // Timestamps are UTC wall-clock time: they label records for people and
  // log stores, and never drive actor logic.
  auto pattern = opts.fmt == format::json
                   ? R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l",%v})"
                   : "%Y-%m-%dT%H:%M:%S.%fZ %-5l %v";
  sink->set_formatter(std::make_unique<spdlog::pattern_formatter>(
    pattern, spdlog::pattern_time_type::utc));
  auto logger = std::make_shared<spdlog::logger>("athanor", std::move(sink));
  logger->set_level(to_spdlog(opts.min_level));
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(std::move(logger));
}

void append_json_value(std::string& out, const field::value_type& value) {
  std::visit(
    [&out](auto& x) {
      using T = std::decay_t<decltype(x)>;
      if constexpr (std::is_same_v<T, std::string>) {
        out += '"';
        out += json_escape(x);
        out += '"';
      } else if constexpr (std::is_same_v<T, bool>) {
        out += x ? "true" : "false";
      } else {
        out += fmt::to_string(x);
      }
    },
    value);
}

bool needs_quotes(std::string_view text) {
  if (text.empty())
    return true;
  for (auto c : text)
    if (c == ' ' || c == '"' || c == '=' || c == '\n' || c == '\t')
      return true;
  return false;
}

void append_human_value(std::string& out, const field::value_type& value) {
  if (auto str = std::get_if<std::string>(&value)) {
    if (needs_quotes(*str)) {
      out += '"';
      out += json_escape(*str);
      out += '"';
    } else {
      out += *str;
    }
    return;
  }
  append_json_value(out, value);
}

std::string render_json(std::string_view actor, std::string_view event,
                        const trace* cause,
                        std::initializer_list<field> fields) {
  std::string out;
  out.reserve(128);
  out += R"("actor":")";
  out += json_escape(actor);
  out += R"(","event":")";
  out += json_escape(event);
  out += '"';
  if (cause != nullptr) {
    out += R"(,"correlation_id":")";
    out += json_escape(cause->correlation.value);
    out += R"(","causation_id":")";
    out += json_escape(cause->causation.value);
    out += R"(","message_id":")";
    out += json_escape(cause->id);
    out += '"';
  }
  for (auto& f : fields) {
    out += ",\"";
    out += json_escape(f.key());
    out += "\":";
    append_json_value(out, f.value());
  }
  return out;
}

std::string render_human(std::string_view actor, std::string_view event,
                         const trace* cause,
                         std::initializer_list<field> fields) {
  std::string out;
  out.reserve(128);
  out += actor;
  out += ": ";
  out += event;
  for (auto& f : fields) {
    out += ' ';
    out += f.key();
    out += '=';
    append_human_value(out, f.value());
  }
  if (cause != nullptr) {
    out += " correlation_id=";
    out += cause->correlation.value;
    out += " causation_id=";
    out += cause->causation.value.empty() ? "-" : cause->causation.value;
  }
  return out;
}

} // namespace

std::optional<level> parse_level(std::string_view name) {
  for (size_t i = 0; i < std::size(level_names); ++i)
    if (name == level_names[i])
      return static_cast<level>(i);
  return std::nullopt;
}

std::optional<format> parse_format(std::string_view name) {
  if (name == "human")
    return format::human;
  if (name == "json")
    return format::json;
  return std::nullopt;
}

std::string to_string(level x) {
  return std::string{level_names[static_cast<size_t>(x)]};
}

std::string to_string(format x) {
  return x == format::json ? "json" : "human";
}

void configure(const options& opts) {
  install(opts, std::make_shared<spdlog::sinks::stderr_sink_mt>());
}

void configure(const options& opts, std::ostream& out) {
  install(opts, std::make_shared<spdlog::sinks::ostream_sink_mt>(out, true));
}

bool enabled(level lvl) {
  return spdlog::default_logger_raw()->should_log(to_spdlog(lvl));
}

void write(level lvl, std::string_view actor, std::string_view event,
           const trace* cause, std::initializer_list<field> fields) {
  auto logger = spdlog::default_logger_raw();
  auto spd_level = to_spdlog(lvl);
  if (!logger->should_log(spd_level))
    return;
  auto line = active_format == format::json
                ? render_json(actor, event, cause, fields)
                : render_human(actor, event, cause, fields);
  logger->log(spd_level, std::string_view{line});
}

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

} // namespace athanor::log
