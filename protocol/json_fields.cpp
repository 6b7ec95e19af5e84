#include "protocol/detail/json_fields.hpp"

#include <rapidjson/error/en.h>

#include "protocol/timestamp.hpp"

namespace athanor::protocol::detail {

const rapidjson::Value* field_reader::find(const char* name) const {
  if (!object_.IsObject())
    return nullptr;
  auto i = object_.FindMember(name);
  return i == object_.MemberEnd() ? nullptr : &i->value;
}

bool field_reader::fail(const char* name, std::string message) {
  problem_ = decode_problem{path(name), 0, std::move(message)};
  return false;
}

bool field_reader::text(const char* name, std::string& out, bool required) {
  auto x = find(name);
  if (x == nullptr || x->IsNull())
    return required ? fail(name, "is missing") : true;
  if (!x->IsString())
    return fail(name, "must be a string");
  out.assign(x->GetString(), x->GetStringLength());
  return true;
}

bool field_reader::number(const char* name, decimal& out, bool required) {
  auto x = find(name);
  if (x == nullptr || x->IsNull()) {
    out = decimal{};
    return required ? fail(name, "is missing") : true;
  }
  // Alpaca sends money and quantities as strings; a plain integer is
  // accepted too (some clients send qty as a number).
  if (x->IsInt64()) {
    out = decimal::from_integer(x->GetInt64());
    return true;
  }
  if (!x->IsString())
    return fail(name, "must be a decimal string");
  if (auto d = decimal::parse({x->GetString(), x->GetStringLength()})) {
    out = *d;
    return true;
  }
  return fail(name, "is not a decimal: '" + std::string{x->GetString()} + "'");
}

bool field_reader::time(const char* name, timestamp_ns& out, bool required) {
  auto x = find(name);
  if (x == nullptr || x->IsNull()) {
    out = 0;
    return required ? fail(name, "is missing") : true;
  }
  if (!x->IsString())
    return fail(name, "must be an RFC 3339 string");
  if (auto ns = parse_rfc3339({x->GetString(), x->GetStringLength()})) {
    out = *ns;
    return true;
  }
  return fail(name, "is not an RFC 3339 timestamp");
}

bool field_reader::flag(const char* name, bool& out, bool required) {
  auto x = find(name);
  if (x == nullptr || x->IsNull())
    return required ? fail(name, "is missing") : true;
  if (!x->IsBool())
    return fail(name, "must be true or false");
  out = x->GetBool();
  return true;
}

bool field_reader::integer(const char* name, int64_t& out, bool required) {
  auto x = find(name);
  if (x == nullptr || x->IsNull())
    return required ? fail(name, "is missing") : true;
  if (!x->IsInt64())
    return fail(name, "must be an integer");
  out = x->GetInt64();
  return true;
}

bool parse_document(const std::string& text, rapidjson::Document& doc,
                    decode_problem& problem, bool numbers_as_text) {
  if (numbers_as_text)
    doc.Parse<rapidjson::kParseNumbersAsStringsFlag>(text.data(), text.size());
  else
    doc.Parse(text.data(), text.size());
  if (doc.HasParseError()) {
    problem = decode_problem{"body", doc.GetErrorOffset(),
                             rapidjson::GetParseError_En(doc.GetParseError())};
    return false;
  }
  return true;
}

bool read_order(const rapidjson::Value& value, const std::string& path,
                order& out, decode_problem& problem) {
  field_reader r{value, path, problem};
  if (!r.is_object()) {
    problem = decode_problem{path.empty() ? "order" : path, 0,
                             "must be an object"};
    return false;
  }
  out = order{};
  std::string type_text;
  // Alpaca sends both `type` and its legacy duplicate `order_type`.
  if (!r.text("type", type_text, false)
      || (type_text.empty() && !r.text("order_type", type_text, false)))
    return false;
  if (auto t = parse_order_type(type_text))
    out.type = *t;
  else if (!type_text.empty())
    return r.fail("type", "unknown value '" + type_text + "'");
  return r.text("id", out.id, true)
         && r.text("client_order_id", out.client_order_id, true)
         && r.text("symbol", out.symbol, true)
         && r.text("asset_class", out.asset_class, false)
         && r.word("side", out.side, parse_order_side, true)
         && r.word("time_in_force", out.tif, parse_time_in_force, false)
         && r.text("status", out.status_text, true)
         && (out.status = parse_order_status(out.status_text), true)
         && r.number("qty", out.qty, false)
         && r.number("notional", out.notional, false)
         && r.number("filled_qty", out.filled_qty, false)
         && r.number("filled_avg_price", out.filled_avg_price, false)
         && r.number("limit_price", out.limit_price, false)
         && r.number("stop_price", out.stop_price, false)
         && r.flag("extended_hours", out.extended_hours, false)
         && r.time("created_at", out.created_at, false)
         && r.time("updated_at", out.updated_at, false)
         && r.time("submitted_at", out.submitted_at, false)
         && r.time("filled_at", out.filled_at, false)
         && r.time("canceled_at", out.canceled_at, false)
         && r.time("expired_at", out.expired_at, false)
         && r.time("failed_at", out.failed_at, false)
         && r.text("replaced_by", out.replaced_by, false)
         && r.text("replaces", out.replaces, false);
}

void write_text(json_writer& w, const std::string& x) {
  if (x.empty())
    w.Null();
  else
    w.String(x.data(), static_cast<rapidjson::SizeType>(x.size()));
}

void write_decimal(json_writer& w, const decimal& x) {
  if (x.is_null())
    w.Null();
  else
    w.String(to_string(x).c_str());
}

void write_time(json_writer& w, timestamp_ns x) {
  if (x == 0)
    w.Null();
  else
    w.String(format_rfc3339(x).c_str());
}

void write_order(json_writer& w, const order& x) {
  auto type = to_string(x.type);
  w.StartObject();
  w.Key("id");
  w.String(x.id.c_str());
  w.Key("client_order_id");
  w.String(x.client_order_id.c_str());
  w.Key("created_at");
  write_time(w, x.created_at);
  w.Key("updated_at");
  write_time(w, x.updated_at);
  w.Key("submitted_at");
  write_time(w, x.submitted_at);
  w.Key("filled_at");
  write_time(w, x.filled_at);
  w.Key("expired_at");
  write_time(w, x.expired_at);
  w.Key("canceled_at");
  write_time(w, x.canceled_at);
  w.Key("failed_at");
  write_time(w, x.failed_at);
  w.Key("replaced_by");
  write_text(w, x.replaced_by);
  w.Key("replaces");
  write_text(w, x.replaces);
  w.Key("symbol");
  w.String(x.symbol.c_str());
  w.Key("asset_class");
  w.String(x.asset_class.empty() ? "us_equity" : x.asset_class.c_str());
  w.Key("notional");
  write_decimal(w, x.notional);
  w.Key("qty");
  write_decimal(w, x.qty);
  w.Key("filled_qty");
  write_decimal(w, x.filled_qty);
  w.Key("filled_avg_price");
  write_decimal(w, x.filled_avg_price);
  w.Key("order_class");
  w.String("");
  w.Key("order_type");
  w.String(type.c_str());
  w.Key("type");
  w.String(type.c_str());
  w.Key("side");
  w.String(to_string(x.side).c_str());
  w.Key("time_in_force");
  w.String(to_string(x.tif).c_str());
  w.Key("limit_price");
  write_decimal(w, x.limit_price);
  w.Key("stop_price");
  write_decimal(w, x.stop_price);
  w.Key("status");
  w.String(x.status == order_status::unknown ? x.status_text.c_str()
                                             : to_string(x.status).c_str());
  w.Key("extended_hours");
  w.Bool(x.extended_hours);
  w.Key("legs");
  w.Null();
  w.EndObject();
}

} // namespace athanor::protocol::detail
