#include "protocol/trading.hpp"

#include "protocol/detail/json_fields.hpp"

namespace athanor::protocol {

using detail::field_reader;
using detail::json_writer;
using detail::write_json;

namespace {

bool read_streams(const rapidjson::Value* x, const std::string& path,
                  std::vector<std::string>& out, decode_problem& problem) {
  out.clear();
  if (x == nullptr || x->IsNull())
    return true;
  if (!x->IsArray()) {
    problem = decode_problem{path, 0, "must be an array of stream names"};
    return false;
  }
  for (auto& name : x->GetArray()) {
    if (!name.IsString()) {
      problem = decode_problem{path, 0, "stream names must be strings"};
      return false;
    }
    out.emplace_back(name.GetString(), name.GetStringLength());
  }
  return true;
}

template<class F>
std::string write(F f) {
  rapidjson::StringBuffer buffer;
  json_writer w{buffer};
  f(w);
  return std::string{buffer.GetString(), buffer.GetSize()};
}

// {"<key>":"<value>","data":{"streams":[...]}}: the listen request and
// its answer share this shape.
std::string encode_streams(const char* key, const char* value,
                           const std::vector<std::string>& streams) {
  return write_json([&](json_writer& w) {
    w.StartObject();
    w.Key(key);
    w.String(value);
    w.Key("data");
    w.StartObject();
    w.Key("streams");
    w.StartArray();
    for (auto& x : streams)
      w.String(x.c_str());
    w.EndArray();
    w.EndObject();
    w.EndObject();
  });
}

} // namespace

bool decode_trading_message(const std::string& frame, trading_message& out,
                            decode_problem& problem) {
  out = trading_message{};
  rapidjson::Document doc;
  if (!detail::parse_document(frame, doc, problem))
    return false;
  field_reader top{doc, "", problem};
  if (!top.is_object()) {
    problem = decode_problem{"message", 0, "must be an object"};
    return false;
  }
  auto data = top.find("data");
  static const rapidjson::Value empty_object{rapidjson::kObjectType};
  field_reader fields{data != nullptr ? *data : empty_object, "data", problem};
  std::string stream;
  std::string action;
  if (!top.text("stream", stream, false) || !top.text("action", action, false))
    return false;
  if (stream.empty() && action == "error") {
    out.kind = trading_message::error;
    return fields.text("error_message", out.error_message, false);
  }
  if (stream == "authorization") {
    out.kind = trading_message::authorization;
    std::string status;
    if (!fields.text("status", status, true)
        || !fields.text("action", out.action, false))
      return false;
    out.authorized = status == "authorized";
    return true;
  }
  if (stream == "listening") {
    out.kind = trading_message::listening;
    return read_streams(fields.find("streams"), "data.streams", out.streams,
                        problem);
  }
  if (stream == "trade_updates") {
    out.kind = trading_message::trade_update;
    auto& u = out.update;
    u.wire_json = frame;
    if (!fields.text("event", u.event_text, true))
      return false;
    u.event = parse_trade_event(u.event_text);
    auto order = fields.find("order");
    if (order == nullptr)
      return fields.fail("order", "is missing");
    return detail::read_order(*order, "data.order", u.subject, problem)
           && fields.time("timestamp", u.at, false)
           && fields.number("price", u.price, false)
           && fields.number("qty", u.qty, false)
           && fields.number("position_qty", u.position_qty, false)
           && fields.text("execution_id", u.execution_id, false);
  }
  if (stream.empty())
    return top.fail("stream", "is missing");
  out.kind = trading_message::other;
  out.streams = {stream};
  return true;
}

std::string encode_authenticate(const credentials& creds) {
  return write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("action");
    w.String("authenticate");
    w.Key("data");
    w.StartObject();
    w.Key("key_id");
    w.String(creds.key_id.reveal().c_str());
    w.Key("secret_key");
    w.String(creds.secret_key.reveal().c_str());
    w.EndObject();
    w.EndObject();
  });
}

std::string encode_listen(const std::vector<std::string>& streams) {
  return encode_streams("action", "listen", streams);
}

bool decode_trading_client_message(const std::string& frame,
                                   trading_client_message& out,
                                   decode_problem& problem) {
  out = trading_client_message{};
  rapidjson::Document doc;
  if (!detail::parse_document(frame, doc, problem))
    return false;
  field_reader top{doc, "", problem};
  std::string action;
  if (!top.is_object())
    return top.fail("message", "must be an object");
  if (!top.text("action", action, true))
    return false;
  auto data = top.find("data");
  if (data == nullptr || !data->IsObject())
    return top.fail("data", "must be an object");
  field_reader fields{*data, "data", problem};
  if (action == "authenticate") {
    out.action = trading_client_message::authenticate;
    std::string key;
    std::string secret_key;
    std::string token;
    if (!fields.text("oauth_token", token, false))
      return false;
    if (!token.empty()) {
      out.creds = credentials{secret{"oauth"}, secret{std::move(token)}};
      return true;
    }
    if (!fields.text("key_id", key, true)
        || !fields.text("secret_key", secret_key, true))
      return false;
    out.creds = credentials{secret{std::move(key)},
                            secret{std::move(secret_key)}};
    return true;
  }
  if (action == "listen") {
    out.action = trading_client_message::listen;
    return read_streams(fields.find("streams"), "data.streams", out.streams,
                        problem);
  }
  return top.fail("action", "unknown action '" + action + "'");
}

std::string encode_authorization(bool authorized, const std::string& action) {
  return write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("stream");
    w.String("authorization");
    w.Key("data");
    w.StartObject();
    w.Key("status");
    w.String(authorized ? "authorized" : "unauthorized");
    w.Key("action");
    w.String(action.c_str());
    w.EndObject();
    w.EndObject();
  });
}

std::string encode_listening(const std::vector<std::string>& streams) {
  return encode_streams("stream", "listening", streams);
}

std::string encode_trade_update(const order_update& u) {
  return write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("stream");
    w.String("trade_updates");
    w.Key("data");
    w.StartObject();
    w.Key("event");
    w.String(u.event == trade_event::unknown ? u.event_text.c_str()
                                             : to_string(u.event).c_str());
    if (u.at != 0) {
      w.Key("timestamp");
      detail::write_time(w, u.at);
    }
    if (!u.execution_id.empty()) {
      w.Key("execution_id");
      w.String(u.execution_id.c_str());
    }
    if (u.price) {
      w.Key("price");
      detail::write_decimal(w, u.price);
    }
    if (u.qty) {
      w.Key("qty");
      detail::write_decimal(w, u.qty);
    }
    if (u.position_qty) {
      w.Key("position_qty");
      detail::write_decimal(w, u.position_qty);
    }
    w.Key("order");
    detail::write_order(w, u.subject);
    w.EndObject();
    w.EndObject();
  });
}

std::string forwardable_trade_update(const order_update& u) {
  return u.wire_json.empty() ? encode_trade_update(u) : u.wire_json;
}

std::string encode_trading_error(const std::string& message) {
  return write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("action");
    w.String("error");
    w.Key("data");
    w.StartObject();
    w.Key("error_message");
    w.String(message.c_str());
    w.EndObject();
    w.EndObject();
  });
}

} // namespace athanor::protocol
