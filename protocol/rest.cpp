#include "protocol/rest.hpp"

#include "protocol/detail/json_fields.hpp"

namespace athanor::protocol {

using detail::field_reader;
using detail::json_writer;
using detail::write_json;

namespace {

template<class F>
std::string write(F f) {
  rapidjson::StringBuffer buffer;
  json_writer w{buffer};
  f(w);
  return std::string{buffer.GetString(), buffer.GetSize()};
}

void key_decimal(json_writer& w, const char* name, const decimal& x) {
  w.Key(name);
  detail::write_decimal(w, x);
}

bool needs_limit(order_type x) {
  return x == order_type::limit || x == order_type::stop_limit;
}

bool needs_stop(order_type x) {
  return x == order_type::stop || x == order_type::stop_limit;
}

template<class T, class Read>
bool decode_array(const std::string& body, std::vector<T>& out,
                  decode_problem& problem, Read read) {
  out.clear();
  rapidjson::Document doc;
  if (!detail::parse_document(body, doc, problem))
    return false;
  if (!doc.IsArray()) {
    problem = decode_problem{"body", 0, "must be an array"};
    return false;
  }
  size_t index = 0;
  for (auto& x : doc.GetArray()) {
    T item;
    if (!read(x, "[" + std::to_string(index++) + "]", item, problem))
      return false;
    out.push_back(std::move(item));
  }
  return true;
}

bool read_account(const rapidjson::Value& x, const std::string& path,
                  account& out, decode_problem& problem) {
  field_reader r{x, path, problem};
  if (!r.is_object())
    return r.fail("account", "must be an object");
  return r.text("id", out.id, true)
         && r.text("account_number", out.account_number, false)
         && r.text("status", out.status, false)
         && r.text("currency", out.currency, false)
         && r.number("cash", out.cash, false)
         && r.number("equity", out.equity, false)
         && r.number("buying_power", out.buying_power, false)
         && r.number("portfolio_value", out.portfolio_value, false)
         && r.flag("trading_blocked", out.trading_blocked, false)
         && r.flag("account_blocked", out.account_blocked, false)
         && r.flag("pattern_day_trader", out.pattern_day_trader, false);
}

bool read_position(const rapidjson::Value& x, const std::string& path,
                   position& out, decode_problem& problem) {
  field_reader r{x, path, problem};
  if (!r.is_object())
    return r.fail("position", "must be an object");
  return r.text("symbol", out.symbol, true)
         && r.text("asset_class", out.asset_class, false)
         && r.number("qty", out.qty, true)
         && r.number("qty_available", out.qty_available, false)
         && r.number("avg_entry_price", out.avg_entry_price, false)
         && r.number("market_value", out.market_value, false)
         && r.number("current_price", out.current_price, false)
         && r.number("unrealized_pl", out.unrealized_pl, false)
         && r.text("side", out.side, false);
}

} // namespace

std::string encode_order_request(const order_request& x) {
  return write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("symbol");
    w.String(x.symbol.c_str());
    if (x.qty)
      key_decimal(w, "qty", x.qty);
    if (x.notional)
      key_decimal(w, "notional", x.notional);
    w.Key("side");
    w.String(to_string(x.side).c_str());
    w.Key("type");
    w.String(to_string(x.type).c_str());
    w.Key("time_in_force");
    w.String(to_string(x.tif).c_str());
    if (x.limit_price)
      key_decimal(w, "limit_price", x.limit_price);
    if (x.stop_price)
      key_decimal(w, "stop_price", x.stop_price);
    if (x.extended_hours) {
      w.Key("extended_hours");
      w.Bool(true);
    }
    w.Key("client_order_id");
    w.String(x.client_order_id.c_str());
    w.EndObject();
  });
}

bool decode_order_request(const std::string& body, order_request& out,
                          decode_problem& problem) {
  out = order_request{};
  rapidjson::Document doc;
  if (!detail::parse_document(body, doc, problem))
    return false;
  field_reader r{doc, "", problem};
  if (!r.is_object())
    return r.fail("body", "must be an object");
  std::string order_class;
  if (!r.text("symbol", out.symbol, true)
      || !r.word("side", out.side, parse_order_side, true)
      || !r.word("type", out.type, parse_order_type, true)
      || !r.word("time_in_force", out.tif, parse_time_in_force, true)
      || !r.number("qty", out.qty, false)
      || !r.number("notional", out.notional, false)
      || !r.number("limit_price", out.limit_price, false)
      || !r.number("stop_price", out.stop_price, false)
      || !r.flag("extended_hours", out.extended_hours, false)
      || !r.text("client_order_id", out.client_order_id, false)
      || !r.text("order_class", order_class, false))
    return false;
  if (!order_class.empty() && order_class != "simple")
    return r.fail("order_class", "'" + order_class + "' is not supported");
  if (static_cast<bool>(out.qty) == static_cast<bool>(out.notional))
    return r.fail("qty", "exactly one of qty and notional is required");
  if (out.qty && !(decimal::from_integer(0) < out.qty))
    return r.fail("qty", "must be positive");
  if (out.notional && !(decimal::from_integer(0) < out.notional))
    return r.fail("notional", "must be positive");
  if (needs_limit(out.type) && !out.limit_price)
    return r.fail("limit_price", "is required for " + to_string(out.type));
  if (needs_stop(out.type) && !out.stop_price)
    return r.fail("stop_price", "is required for " + to_string(out.type));
  if (out.client_order_id.size() > 128)
    return r.fail("client_order_id", "must be at most 128 characters");
  return true;
}

std::string encode_order(const order& x) {
  return write_json([&](json_writer& w) { detail::write_order(w, x); });
}

bool decode_order(const std::string& body, order& out,
                  decode_problem& problem) {
  rapidjson::Document doc;
  return detail::parse_document(body, doc, problem)
         && detail::read_order(doc, "", out, problem);
}

std::string encode_orders(const std::vector<order>& xs) {
  return write_json([&](json_writer& w) {
    w.StartArray();
    for (auto& x : xs)
      detail::write_order(w, x);
    w.EndArray();
  });
}

bool decode_orders(const std::string& body, std::vector<order>& out,
                   decode_problem& problem) {
  return decode_array(body, out, problem, detail::read_order);
}

std::string encode_account(const account& x) {
  return write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("id");
    w.String(x.id.c_str());
    w.Key("account_number");
    w.String(x.account_number.c_str());
    w.Key("status");
    w.String(x.status.c_str());
    w.Key("currency");
    w.String(x.currency.c_str());
    key_decimal(w, "cash", x.cash);
    key_decimal(w, "equity", x.equity);
    key_decimal(w, "buying_power", x.buying_power);
    key_decimal(w, "portfolio_value", x.portfolio_value);
    w.Key("trading_blocked");
    w.Bool(x.trading_blocked);
    w.Key("account_blocked");
    w.Bool(x.account_blocked);
    w.Key("pattern_day_trader");
    w.Bool(x.pattern_day_trader);
    w.EndObject();
  });
}

bool decode_account(const std::string& body, account& out,
                    decode_problem& problem) {
  out = account{};
  rapidjson::Document doc;
  return detail::parse_document(body, doc, problem)
         && read_account(doc, "", out, problem);
}

namespace {

void write_position(json_writer& w, const position& x) {
  w.StartObject();
  w.Key("symbol");
  w.String(x.symbol.c_str());
  w.Key("asset_class");
  w.String(x.asset_class.c_str());
  key_decimal(w, "qty", x.qty);
  key_decimal(w, "qty_available", x.qty_available);
  key_decimal(w, "avg_entry_price", x.avg_entry_price);
  key_decimal(w, "market_value", x.market_value);
  key_decimal(w, "current_price", x.current_price);
  key_decimal(w, "unrealized_pl", x.unrealized_pl);
  w.Key("side");
  w.String(x.side.c_str());
  w.EndObject();
}

} // namespace

std::string encode_position(const position& x) {
  return write_json([&](json_writer& w) { write_position(w, x); });
}

std::string encode_positions(const std::vector<position>& xs) {
  return write_json([&](json_writer& w) {
    w.StartArray();
    for (auto& x : xs)
      write_position(w, x);
    w.EndArray();
  });
}

bool decode_positions(const std::string& body, std::vector<position>& out,
                      decode_problem& problem) {
  return decode_array(body, out, problem, read_position);
}

std::string encode_asset(const asset& x) {
  return write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("symbol");
    w.String(x.symbol.c_str());
    w.Key("class");
    w.String(x.asset_class.c_str());
    w.Key("exchange");
    w.String(x.exchange.c_str());
    w.Key("status");
    w.String(x.status.c_str());
    w.Key("tradable");
    w.Bool(x.tradable);
    w.Key("fractionable");
    w.Bool(x.fractionable);
    w.Key("shortable");
    w.Bool(x.shortable);
    w.EndObject();
  });
}

bool decode_asset(const std::string& body, asset& out,
                  decode_problem& problem) {
  out = asset{};
  rapidjson::Document doc;
  if (!detail::parse_document(body, doc, problem))
    return false;
  field_reader r{doc, "", problem};
  if (!r.is_object())
    return r.fail("asset", "must be an object");
  return r.text("symbol", out.symbol, true)
         && r.text("class", out.asset_class, false)
         && r.text("exchange", out.exchange, false)
         && r.text("status", out.status, false)
         && r.flag("tradable", out.tradable, false)
         && r.flag("fractionable", out.fractionable, false)
         && r.flag("shortable", out.shortable, false);
}

std::string encode_latest_trade(const latest_trade& x) {
  return write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("symbol");
    w.String(x.symbol.c_str());
    w.Key("trade");
    w.StartObject();
    w.Key("t");
    detail::write_time(w, x.at);
    w.Key("p");
    auto price = to_string(x.price);
    w.RawNumber(price.c_str(), static_cast<rapidjson::SizeType>(price.size()));
    w.EndObject();
    w.EndObject();
  });
}

bool decode_latest_trade(const std::string& body, latest_trade& out,
                         decode_problem& problem) {
  out = latest_trade{};
  rapidjson::Document doc;
  // The market-data API sends prices as JSON numbers (the trading API as
  // strings): read them as their text, exactly.
  if (!detail::parse_document(body, doc, problem, true))
    return false;
  field_reader r{doc, "", problem};
  if (!r.is_object())
    return r.fail("latest_trade", "must be an object");
  if (!r.text("symbol", out.symbol, false))
    return false;
  auto trade = r.find("trade");
  if (trade == nullptr)
    return r.fail("trade", "is missing");
  field_reader t{*trade, "trade", problem};
  if (!t.is_object())
    return t.fail("trade", "must be an object");
  return t.number("p", out.price, true) && t.time("t", out.at, false);
}

std::string encode_api_error(const api_error& x) {
  return write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("code");
    w.Int64(x.code);
    w.Key("message");
    w.String(x.message.c_str());
    w.EndObject();
  });
}

api_error decode_api_error(int http_status, const std::string& body) {
  api_error result;
  result.http_status = http_status;
  rapidjson::Document doc;
  decode_problem problem;
  if (detail::parse_document(body, doc, problem) && doc.IsObject()) {
    field_reader r{doc, "", problem};
    if (r.integer("code", result.code, false)
        && r.text("message", result.message, false) && !result.message.empty())
      return result;
  }
  result.code = 0;
  result.message = body.substr(0, 200);
  return result;
}

bool is_duplicate_client_order_id(const api_error& x) {
  return x.http_status == 422
         && (x.message.find("client_order_id must be unique")
               != std::string::npos
             || x.message.find("client order id must be unique")
                  != std::string::npos);
}

} // namespace athanor::protocol
