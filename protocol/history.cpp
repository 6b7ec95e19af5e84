#include "protocol/history.hpp"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "protocol/timestamp.hpp"

namespace athanor::protocol {

namespace {

using json_value = rapidjson::Value;

const char* member_of(channel kind) {
  switch (kind) {
    case channel::quotes: return "quotes";
    case channel::bars: return "bars";
    default: return "trades";
  }
}

const char* type_of(channel kind) {
  switch (kind) {
    case channel::quotes: return "q";
    case channel::bars: return "b";
    default: return "t";
  }
}

bool served(channel kind) {
  return kind == channel::trades || kind == channel::quotes
         || kind == channel::bars;
}

std::string query_encode(const std::string& x) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : x) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~'
        || c == ',') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string to_text(const json_value& x) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w{buf};
  x.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

bool fail(decode_problem& problem, std::string field, std::string message) {
  problem.field = std::move(field);
  problem.message = std::move(message);
  return false;
}

} // namespace

std::string history_target(const history_request& x) {
  std::string symbols;
  for (auto& s : x.symbols)
    symbols += (symbols.empty() ? "" : ",") + s;
  auto result = std::string{"/v2/stocks/"} + member_of(x.kind)
                + "?symbols=" + query_encode(symbols)
                + "&start=" + query_encode(format_rfc3339(x.start))
                + "&end=" + query_encode(format_rfc3339(x.end))
                + "&limit=" + std::to_string(x.limit)
                + "&feed=" + query_encode(x.feed) + "&sort=asc";
  if (x.kind == channel::bars)
    result += "&timeframe=1Min";
  if (!x.page_token.empty())
    result += "&page_token=" + query_encode(x.page_token);
  return result;
}

bool decode_history_page(channel kind, const std::string& body,
                         history_page& out, decode_problem& problem) {
  out = history_page{};
  if (!served(kind))
    return fail(problem, "channel", "no history is served for " + to_string(kind));
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject())
    return fail(problem, "body", "not a JSON object");
  auto& alloc = doc.GetAllocator();
  auto name = member_of(kind);
  auto records = doc.FindMember(name);
  // The stream's own frame shape: one array of records with "T" and "S".
  json_value frame{rapidjson::kArrayType};
  if (records != doc.MemberEnd() && !records->value.IsNull()) {
    if (!records->value.IsObject())
      return fail(problem, name, "must be an object of symbols");
    for (auto& by_symbol : records->value.GetObject()) {
      if (!by_symbol.value.IsArray())
        return fail(problem, std::string{name} + "." + by_symbol.name.GetString(),
                    "must be an array");
      for (auto& record : by_symbol.value.GetArray()) {
        if (!record.IsObject())
          return fail(problem,
                      std::string{name} + "." + by_symbol.name.GetString(),
                      "records must be objects");
        json_value copy{record, alloc};
        copy.AddMember("T", json_value{type_of(kind), alloc}, alloc);
        copy.AddMember("S", json_value{by_symbol.name, alloc}, alloc);
        frame.PushBack(copy, alloc);
      }
    }
  }
  auto token = doc.FindMember("next_page_token");
  if (token != doc.MemberEnd() && !token->value.IsNull()) {
    if (!token->value.IsString())
      return fail(problem, "next_page_token", "must be a string or null");
    out.next_page_token = token->value.GetString();
  }
  auto text = to_text(frame);
  market_frame decoded;
  if (!decode_json(text, decoded, problem))
    return false;
  if (!decoded.rejected.empty()) {
    problem = decoded.rejected.front();
    return false;
  }
  out.data = std::move(decoded.data);
  return true;
}

std::string encode_history_page(channel kind, const history_page& x) {
  batch only;
  if (kind == channel::quotes)
    only.quotes = x.data.quotes;
  else if (kind == channel::bars)
    only.bars = x.data.bars;
  else
    only.trades = x.data.trades;
  rapidjson::Document frame;
  auto text = encode_batch(codec::json, only);
  frame.Parse(text.data(), text.size());
  rapidjson::Document doc{rapidjson::kObjectType};
  auto& alloc = doc.GetAllocator();
  json_value by_symbol{rapidjson::kObjectType};
  for (auto& record : frame.GetArray()) {
    json_value symbol{record["S"], alloc};
    json_value copy{record, alloc};
    copy.RemoveMember("T");
    copy.RemoveMember("S");
    auto i = by_symbol.FindMember(symbol);
    if (i == by_symbol.MemberEnd()) {
      json_value list{rapidjson::kArrayType};
      list.PushBack(copy, alloc);
      by_symbol.AddMember(symbol, list, alloc);
    } else {
      i->value.PushBack(copy, alloc);
    }
  }
  doc.AddMember(json_value{member_of(kind), alloc}, by_symbol, alloc);
  if (x.next_page_token.empty())
    doc.AddMember("next_page_token", json_value{}, alloc);
  else
    doc.AddMember("next_page_token", json_value{x.next_page_token.c_str(),
                   static_cast<rapidjson::SizeType>(x.next_page_token.size()),
                   alloc}, alloc);
  return to_text(doc);
}

bool decode_history_query(channel kind, const std::string& symbols,
                          const std::string& start, const std::string& end,
                          const std::string& limit, history_request& out,
                          decode_problem& problem) {
  out = history_request{};
  out.kind = kind;
  size_t pos = 0;
  while (pos <= symbols.size() && !symbols.empty()) {
    auto comma = symbols.find(',', pos);
    if (comma == std::string::npos)
      comma = symbols.size();
    if (comma > pos)
      out.symbols.push_back(symbols.substr(pos, comma - pos));
    pos = comma + 1;
  }
  if (out.symbols.empty())
    return fail(problem, "symbols", "at least one symbol is required");
  auto from = parse_rfc3339(start);
  if (!from)
    return fail(problem, "start", "must be an RFC 3339 time");
  out.start = *from;
  if (end.empty()) {
    out.end = INT64_MAX;
  } else {
    auto to = parse_rfc3339(end);
    if (!to)
      return fail(problem, "end", "must be an RFC 3339 time");
    out.end = *to;
  }
  out.limit = 1000;
  if (!limit.empty()) {
    auto n = std::strtoul(limit.c_str(), nullptr, 10);
    if (n < 1 || n > 10000
        || limit.find_first_not_of("0123456789") != std::string::npos)
      return fail(problem, "limit", "must be 1..10000");
    out.limit = static_cast<uint32_t>(n);
  }
  return true;
}

} // namespace athanor::protocol
