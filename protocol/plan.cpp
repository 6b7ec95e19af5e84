#include "protocol/plan.hpp"

#include <algorithm>
#include <set>

#include <rapidjson/error/en.h>

#include "protocol/detail/json_fields.hpp"

namespace athanor::protocol {

namespace {

using detail::field_reader;
using detail::json_writer;

bool plan_id_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'
         || c == '.';
}

bool symbol_char(char c) {
  return std::isupper(static_cast<unsigned char>(c))
         || std::isdigit(static_cast<unsigned char>(c)) || c == '.'
         || c == '/';
}

const decimal zero = decimal::from_integer(0);

bool positive(const decimal& x) {
  return !x.is_null() && zero < x;
}

// Every rule a plan must satisfy beyond its JSON shape.
void check(const plan& x, std::vector<config_problem>& problems) {
  auto add = [&](std::string field, std::string message) {
    problems.push_back({std::move(field), std::move(message)});
  };
  if (x.plan_id.empty())
    add("plan_id", "is missing");
  else if (x.plan_id.size() > max_plan_id_length)
    add("plan_id", "is longer than " + std::to_string(max_plan_id_length)
                     + " characters");
  else if (!std::all_of(x.plan_id.begin(), x.plan_id.end(), plan_id_char))
    add("plan_id", "may hold only letters, digits, '-', '_' and '.'");
  if (x.deadline_ms < 0)
    add("deadline_seconds", "must be positive");
  if (x.items.empty())
    add("items", "must hold at least one item");
  for (size_t i = 0; i < x.items.size(); ++i) {
    auto& item = x.items[i];
    auto at = [&](const char* field) {
      return "items[" + std::to_string(i) + "]." + field;
    };
    if (item.symbol.empty())
      add(at("symbol"), "is missing");
    else if (!std::all_of(item.symbol.begin(), item.symbol.end(), symbol_char))
      add(at("symbol"), "'" + item.symbol
                          + "' is not a symbol (upper-case letters, digits, "
                            "'.', '/')");
    auto has_qty = !item.qty.is_null();
    auto has_notional = !item.notional.is_null();
    if (has_qty == has_notional)
      add(at("qty"), "exactly one of qty and notional is required");
    if (has_qty && !positive(item.qty))
      add(at("qty"), "must be positive (got " + to_string(item.qty) + ")");
    if (has_notional && !positive(item.notional))
      add(at("notional"),
          "must be positive (got " + to_string(item.notional) + ")");
    if (item.type != order_type::market && item.type != order_type::limit)
      add(at("type"), "plans place market and limit orders only");
    if (item.type == order_type::limit && !positive(item.limit_price))
      add(at("limit_price"), "a limit order needs a positive limit_price");
    if (item.type == order_type::market && !item.limit_price.is_null())
      add(at("limit_price"), "a market order takes no limit_price");
    if (has_notional
        && (item.type != order_type::market || item.tif != time_in_force::day))
      add(at("notional"), "notional orders must be market orders for the day");
  }
}

// Reads one field with its own problem slot, so every bad field is found.
template<class F>
void read(std::vector<config_problem>& problems, F f) {
  decode_problem problem;
  if (!f(problem))
    problems.push_back({problem.field, problem.message});
}

void reject_unknown(const rapidjson::Value& object, const std::string& path,
                    const std::set<std::string>& known,
                    std::vector<config_problem>& problems) {
  for (auto i = object.MemberBegin(); i != object.MemberEnd(); ++i) {
    std::string name{i->name.GetString(), i->name.GetStringLength()};
    if (known.count(name) == 0) {
      // An empty key would leave the problem naming nothing.
      auto shown = name.empty() ? std::string{"\"\""} : name;
      problems.push_back({path.empty() ? shown : path + "." + shown,
                          "is not a plan field"});
    }
  }
}

void read_item(const rapidjson::Value& value, const std::string& path,
               plan_item& out, std::vector<config_problem>& problems) {
  if (!value.IsObject()) {
    problems.push_back({path, "must be an object"});
    return;
  }
  reject_unknown(value, path,
                 {"symbol", "side", "qty", "notional", "type", "limit_price",
                  "time_in_force"},
                 problems);
  read(problems, [&](decode_problem& p) {
    return field_reader{value, path, p}.text("symbol", out.symbol, true);
  });
  read(problems, [&](decode_problem& p) {
    return field_reader{value, path, p}.word("side", out.side,
                                             parse_order_side, true);
  });
  read(problems, [&](decode_problem& p) {
    return field_reader{value, path, p}.number("qty", out.qty, false);
  });
  read(problems, [&](decode_problem& p) {
    return field_reader{value, path, p}.number("notional", out.notional,
                                               false);
  });
  read(problems, [&](decode_problem& p) {
    return field_reader{value, path, p}.word("type", out.type,
                                             parse_order_type, false);
  });
  read(problems, [&](decode_problem& p) {
    return field_reader{value, path, p}.number("limit_price", out.limit_price,
                                               false);
  });
  read(problems, [&](decode_problem& p) {
    return field_reader{value, path, p}.word("time_in_force", out.tif,
                                             parse_time_in_force, false);
  });
}

int64_t milliseconds_of(const decimal& seconds) {
  auto m = seconds.mantissa();
  for (auto s = seconds.scale(); s < 3; ++s)
    m *= 10;
  for (auto s = seconds.scale(); s > 3; --s)
    m /= 10;
  return m;
}

std::optional<plan_sequence> parse_sequence(std::string_view x) {
  if (x == "sells_first")
    return plan_sequence::sells_first;
  if (x == "as_listed")
    return plan_sequence::as_listed;
  return std::nullopt;
}

} // namespace

bool decode_plan(const std::string& text, plan& out,
                 std::vector<config_problem>& problems) {
  problems.clear();
  out = plan{};
  rapidjson::Document doc;
  // Numbers as strings: quantities and prices are read exactly.
  doc.Parse<rapidjson::kParseNumbersAsStringsFlag>(text.data(), text.size());
  if (doc.HasParseError()) {
    problems.push_back(
      {"plan", std::string{"is not JSON: "}
                 + rapidjson::GetParseError_En(doc.GetParseError())
                 + " at offset " + std::to_string(doc.GetErrorOffset())});
    return false;
  }
  if (!doc.IsObject()) {
    problems.push_back({"plan", "must be a JSON object"});
    return false;
  }
  reject_unknown(doc, "",
                 {"plan_id", "correlation_id", "items", "sequence",
                  "deadline_seconds"},
                 problems);
  read(problems, [&](decode_problem& p) {
    return field_reader{doc, "", p}.text("plan_id", out.plan_id, true);
  });
  read(problems, [&](decode_problem& p) {
    return field_reader{doc, "", p}.text("correlation_id", out.correlation_id,
                                         false);
  });
  read(problems, [&](decode_problem& p) {
    return field_reader{doc, "", p}.word("sequence", out.sequence,
                                         parse_sequence, false);
  });
  decimal deadline;
  read(problems, [&](decode_problem& p) {
    return field_reader{doc, "", p}.number("deadline_seconds", deadline,
                                           false);
  });
  if (!deadline.is_null()) {
    if (!positive(deadline))
      problems.push_back({"deadline_seconds", "must be positive"});
    else
      out.deadline_ms = milliseconds_of(deadline);
  }
  auto items = doc.FindMember("items");
  if (items == doc.MemberEnd()) {
    problems.push_back({"items", "is missing"});
  } else if (!items->value.IsArray()) {
    problems.push_back({"items", "must be an array"});
  } else {
    auto& array = items->value;
    for (rapidjson::SizeType i = 0; i < array.Size(); ++i) {
      plan_item item;
      read_item(array[i], "items[" + std::to_string(i) + "]", item, problems);
      out.items.push_back(std::move(item));
    }
  }
  // Every problem in one pass: the rules too, except on fields whose shape
  // is already wrong (a qty that is no number is not also "missing").
  std::vector<config_problem> rules;
  check(out, rules);
  auto shape_end = problems.size();
  for (auto& rule : rules) {
    auto same_field = [&](const config_problem& p) {
      return p.option == rule.option
             || rule.option.rfind(p.option + ".", 0) == 0;
    };
    if (std::none_of(problems.begin(), problems.begin() + shape_end,
                     same_field))
      problems.push_back(std::move(rule));
  }
  if (out.correlation_id.empty())
    out.correlation_id = out.plan_id;
  return problems.empty();
}

std::vector<config_problem> validate(const plan& x) {
  std::vector<config_problem> problems;
  check(x, problems);
  return problems;
}

std::string encode_plan(const plan& x) {
  return detail::write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("plan_id");
    detail::write_text(w, x.plan_id);
    w.Key("correlation_id");
    detail::write_text(w, x.correlation_id);
    w.Key("sequence");
    detail::write_text(w, to_string(x.sequence));
    if (x.deadline_ms > 0) {
      w.Key("deadline_seconds");
      detail::write_decimal(w, decimal{x.deadline_ms, 3});
    }
    w.Key("items");
    w.StartArray();
    for (auto& item : x.items) {
      w.StartObject();
      w.Key("symbol");
      detail::write_text(w, item.symbol);
      w.Key("side");
      detail::write_text(w, to_string(item.side));
      if (!item.qty.is_null()) {
        w.Key("qty");
        detail::write_decimal(w, item.qty);
      }
      if (!item.notional.is_null()) {
        w.Key("notional");
        detail::write_decimal(w, item.notional);
      }
      w.Key("type");
      detail::write_text(w, to_string(item.type));
      if (!item.limit_price.is_null()) {
        w.Key("limit_price");
        detail::write_decimal(w, item.limit_price);
      }
      w.Key("time_in_force");
      detail::write_text(w, to_string(item.tif));
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

std::string encode_plan_result(const plan_result& x) {
  return detail::write_json([&](json_writer& w) {
    w.StartObject();
    w.Key("plan_id");
    detail::write_text(w, x.plan_id);
    w.Key("correlation_id");
    detail::write_text(w, x.correlation_id);
    w.Key("replayed");
    w.Bool(x.replayed);
    w.Key("retried");
    w.Bool(x.retried);
    w.Key("succeeded");
    w.Bool(x.succeeded());
    w.Key("items");
    w.StartArray();
    for (auto& item : x.items) {
      w.StartObject();
      w.Key("index");
      w.Uint(item.index);
      w.Key("symbol");
      detail::write_text(w, item.symbol);
      w.Key("side");
      detail::write_text(w, to_string(item.side));
      w.Key("client_order_id");
      detail::write_text(w, item.client_order_id);
      w.Key("order_id");
      detail::write_text(w, item.order_id);
      w.Key("outcome");
      detail::write_text(w, to_string(item.outcome));
      w.Key("status");
      detail::write_text(w, to_string(item.status));
      w.Key("filled_qty");
      detail::write_decimal(w, item.filled_qty);
      w.Key("filled_avg_price");
      detail::write_decimal(w, item.filled_avg_price);
      w.Key("reason");
      detail::write_text(w, item.reason);
      w.Key("order_may_exist");
      w.Bool(item.order_may_exist);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  });
}

std::string client_order_id_of(const std::string& plan_id, uint32_t index) {
  // The index (digits only) follows the last '-', so no two (plan_id,
  // index) pairs give one id; every character is URL-safe.
  return "ath-" + plan_id + "-" + std::to_string(index);
}

} // namespace athanor::protocol
