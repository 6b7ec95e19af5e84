// Client messages are rare (auth, a few subscription changes), so they are
// decoded from a DOM for clarity; MessagePack is converted to the same DOM
// so both codecs share one decoder.

#include "protocol/market_data.hpp"

#include <msgpack.hpp>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace athanor::protocol {

namespace {

using json_value = rapidjson::Value;
using json_allocator = rapidjson::Document::AllocatorType;

// msgpack-cxx represents an empty string with a null pointer.
const char* text_of(const msgpack::object_str& x) {
  return x.size == 0 ? "" : x.ptr;
}

// Returns false for what JSON cannot hold (extensions, binary keys).
bool to_json(const msgpack::object& in, json_value& out,
             json_allocator& alloc) {
  switch (in.type) {
    case msgpack::type::NIL: out.SetNull(); return true;
    case msgpack::type::BOOLEAN: out.SetBool(in.via.boolean); return true;
    case msgpack::type::POSITIVE_INTEGER:
      out.SetUint64(in.via.u64);
      return true;
    case msgpack::type::NEGATIVE_INTEGER: out.SetInt64(in.via.i64); return true;
    case msgpack::type::FLOAT32:
    case msgpack::type::FLOAT64: out.SetDouble(in.via.f64); return true;
    case msgpack::type::STR:
    case msgpack::type::BIN:
      out.SetString(text_of(in.via.str), in.via.str.size, alloc);
      return true;
    case msgpack::type::ARRAY:
      out.SetArray();
      for (uint32_t i = 0; i < in.via.array.size; ++i) {
        json_value element;
        if (!to_json(in.via.array.ptr[i], element, alloc))
          return false;
        out.PushBack(element, alloc);
      }
      return true;
    case msgpack::type::MAP:
      out.SetObject();
      for (uint32_t i = 0; i < in.via.map.size; ++i) {
        auto& kv = in.via.map.ptr[i];
        if (kv.key.type != msgpack::type::STR)
          return false;
        json_value name{text_of(kv.key.via.str), kv.key.via.str.size, alloc};
        json_value value;
        if (!to_json(kv.val, value, alloc))
          return false;
        out.AddMember(name, value, alloc);
      }
      return true;
    default: return false;
  }
}

bool fail(decode_problem& problem, std::string field, std::string message) {
  problem = decode_problem{std::move(field), 0, std::move(message)};
  return false;
}

bool read_string(const json_value& obj, const char* name, std::string& out,
                 decode_problem& problem) {
  auto i = obj.FindMember(name);
  if (i == obj.MemberEnd() || !i->value.IsString())
    return fail(problem, name, "must be a string");
  out.assign(i->value.GetString(), i->value.GetStringLength());
  return true;
}

bool decode_dom(const json_value& doc, client_message& out,
                decode_problem& problem) {
  if (!doc.IsObject())
    return fail(problem, "message", "must be a map");
  std::string action;
  if (!read_string(doc, "action", action, problem))
    return false;
  if (action == "auth") {
    std::string key;
    std::string secret_key;
    if (!read_string(doc, "key", key, problem)
        || !read_string(doc, "secret", secret_key, problem))
      return false;
    out.action = client_message::auth;
    out.creds = credentials{secret{std::move(key)},
                            secret{std::move(secret_key)}};
    return true;
  }
  if (action != "subscribe" && action != "unsubscribe")
    return fail(problem, "action", "unknown action '" + action + "'");
  out.action = action == "subscribe" ? client_message::subscribe
                                     : client_message::unsubscribe;
  for (auto x : all_channels) {
    auto i = doc.FindMember(wire_name(x));
    if (i == doc.MemberEnd() || i->value.IsNull())
      continue;
    if (!i->value.IsArray())
      return fail(problem, wire_name(x), "must be an array of symbols");
    for (auto& symbol : i->value.GetArray()) {
      if (!symbol.IsString() || symbol.GetStringLength() == 0)
        return fail(problem, wire_name(x), "symbols must be non-empty strings");
      out.channels[x].emplace_back(symbol.GetString(),
                                   symbol.GetStringLength());
    }
  }
  return true;
}

} // namespace

namespace {

// Client messages only.
bool unpack_to_dom(const std::string& frame, rapidjson::Document& doc,
                   decode_problem& problem) {
  msgpack::object_handle handle;
  try {
    // The object API allocates what a header claims (an array of 2^32
    // elements). Every element takes at least one byte of the frame, so
    // the frame's own size bounds what a real message can hold: a
    // 200,000-symbol subscribe passes, a lying header cannot allocate more
    // than a few objects per byte received.
    auto bytes = frame.size();
    msgpack::unpack_limit limits{/*array*/ bytes,  /*map*/ bytes / 2,
                                 /*str*/ bytes,    /*bin*/ bytes,
                                 /*ext*/ 64,       /*depth*/ 8};
    handle = msgpack::unpack(frame.data(), frame.size(), nullptr, nullptr,
                             limits);
  } catch (const msgpack::unpack_error& e) {
    // Includes size_overflow: both mean a malformed message.
    return fail(problem, "message", e.what());
  }
  if (!to_json(handle.get(), doc, doc.GetAllocator()))
    return fail(problem, "message", "holds a value JSON cannot express");
  return true;
}

void pack_json(msgpack::packer<msgpack::sbuffer>& out, const json_value& x) {
  switch (x.GetType()) {
    case rapidjson::kNullType: out.pack_nil(); break;
    case rapidjson::kFalseType: out.pack_false(); break;
    case rapidjson::kTrueType: out.pack_true(); break;
    case rapidjson::kStringType:
      out.pack_str(x.GetStringLength());
      out.pack_str_body(x.GetString(), x.GetStringLength());
      break;
    case rapidjson::kNumberType:
      if (x.IsUint64())
        out.pack_uint64(x.GetUint64());
      else if (x.IsInt64())
        out.pack_int64(x.GetInt64());
      else
        out.pack_double(x.GetDouble());
      break;
    case rapidjson::kArrayType:
      out.pack_array(x.Size());
      for (auto& element : x.GetArray())
        pack_json(out, element);
      break;
    case rapidjson::kObjectType:
      out.pack_map(x.MemberCount());
      for (auto& member : x.GetObject()) {
        pack_json(out, member.name);
        pack_json(out, member.value);
      }
      break;
  }
}

} // namespace

bool decode_client_message(codec c, const std::string& frame,
                           client_message& out, decode_problem& problem) {
  out = client_message{};
  rapidjson::Document doc;
  if (c == codec::json) {
    doc.Parse(frame.data(), frame.size());
    if (doc.HasParseError())
      return fail(problem, "message",
                  rapidjson::GetParseError_En(doc.GetParseError()));
    return decode_dom(doc, out, problem);
  }
  return unpack_to_dom(frame, doc, problem) && decode_dom(doc, out, problem);
}

bool client_msgpack_to_json(const std::string& frame, std::string& json,
                            decode_problem& problem) {
  rapidjson::Document doc;
  if (!unpack_to_dom(frame, doc, problem))
    return false;
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer{buffer};
  doc.Accept(writer);
  json.assign(buffer.GetString(), buffer.GetSize());
  return true;
}

std::string json_to_msgpack(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  msgpack::sbuffer buffer;
  msgpack::packer<msgpack::sbuffer> out{buffer};
  if (doc.HasParseError())
    out.pack_nil();
  else
    pack_json(out, doc);
  return {buffer.data(), buffer.size()};
}

} // namespace athanor::protocol
