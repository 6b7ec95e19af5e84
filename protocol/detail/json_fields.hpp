#pragma once

// Reading and writing the JSON objects of the trading stream and REST API.
// Readers name the failing field by its path ("data.order.qty").

#include <string>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "messages/orders.hpp"
#include "protocol/market_data.hpp"

namespace athanor::protocol::detail {

using json_writer = rapidjson::Writer<rapidjson::StringBuffer>;

/// Returns the JSON text that `f(writer)` writes.
template<class F>
std::string write_json(F f) {
  rapidjson::StringBuffer buffer;
  json_writer w{buffer};
  f(w);
  return std::string{buffer.GetString(), buffer.GetSize()};
}

class field_reader {
 public:
  field_reader(const rapidjson::Value& object, std::string path,
               decode_problem& problem)
      : object_(object), path_(std::move(path)), problem_(problem) {}

  bool is_object() const {
    return object_.IsObject();
  }

  /// The member, or null if absent (or if the object is not an object).
  const rapidjson::Value* find(const char* name) const;

  bool text(const char* name, std::string& out, bool required);
  bool number(const char* name, decimal& out, bool required);
  bool time(const char* name, timestamp_ns& out, bool required);
  bool flag(const char* name, bool& out, bool required);
  bool integer(const char* name, int64_t& out, bool required);
  template<class Enum, class Parse>
  bool word(const char* name, Enum& out, Parse parse, bool required) {
    std::string raw;
    if (!text(name, raw, required))
      return false;
    if (raw.empty() && !required)
      return true;
    if (auto x = parse(raw)) {
      out = *x;
      return true;
    }
    return fail(name, "unknown value '" + raw + "'");
  }

  std::string path(const char* name) const {
    return path_.empty() ? std::string{name} : path_ + "." + name;
  }

  bool fail(const char* name, std::string message);

 private:
  const rapidjson::Value& object_;
  std::string path_;
  decode_problem& problem_;
};

/// Parses `text` into `doc`; false with a "body" problem if it is no JSON.
/// `numbers_as_text` keeps JSON numbers as their text (the market-data API
/// sends prices as numbers; read as text they stay exact decimals).
bool parse_document(const std::string& text, rapidjson::Document& doc,
                    decode_problem& problem, bool numbers_as_text = false);

bool read_order(const rapidjson::Value& value, const std::string& path,
                order& out, decode_problem& problem);
void write_order(json_writer& w, const order& x);

void write_decimal(json_writer& w, const decimal& x);
void write_time(json_writer& w, timestamp_ns x);
void write_text(json_writer& w, const std::string& x);

} // namespace athanor::protocol::detail
