// The decode bench's reference JSON parser: simdjson's On-Demand API
// (Debian's libsimdjson-dev, for the bench only) filling the same records
// our decoder fills, so the two figures compare like with like.

#include "bench/simdjson_decode.hpp"

#include <simdjson.h>

#include "protocol/timestamp.hpp"

namespace athanor::bench {

namespace {

char first_char(simdjson::ondemand::value v) {
  std::string_view s = v.get_string();
  return s.empty() ? 0 : s[0];
}

std::string conditions_of(simdjson::ondemand::value v) {
  std::string result;
  for (auto c : v.get_array()) {
    std::string_view s = c.get_string();
    result.append(s);
  }
  return result;
}

} // namespace

struct simdjson_decoder::impl {
  simdjson::ondemand::parser parser;
  simdjson::padded_string buffer;
};

simdjson_decoder::simdjson_decoder() : impl_(std::make_unique<impl>()) {}

simdjson_decoder::~simdjson_decoder() = default;

bool simdjson_decoder::decode(const std::string& frame, batch& out) {
  out.quotes.clear();
  out.trades.clear();
  try {
    impl_->buffer = simdjson::padded_string{frame};
    auto doc = impl_->parser.iterate(impl_->buffer);
    for (auto element : doc.get_array()) {
      auto object = element.get_object();
      quote q;
      trade t;
      char kind = 0;
      for (auto field : object) {
        std::string_view key = field.unescaped_key();
        simdjson::ondemand::value v = field.value();
        if (key == "T") {
          kind = first_char(v);
        } else if (key == "S") {
          std::string_view s = v.get_string();
          q.symbol.assign(s);
          t.symbol.assign(s);
        } else if (key == "bx") {
          q.bid_exchange = first_char(v);
        } else if (key == "bp") {
          q.bid_price = v.get_double();
        } else if (key == "bs") {
          q.bid_size = v.get_double();
        } else if (key == "ax") {
          q.ask_exchange = first_char(v);
        } else if (key == "ap") {
          q.ask_price = v.get_double();
        } else if (key == "as") {
          q.ask_size = v.get_double();
        } else if (key == "x") {
          t.exchange = first_char(v);
        } else if (key == "p") {
          t.price = v.get_double();
        } else if (key == "s") {
          t.size = v.get_double();
        } else if (key == "i") {
          t.id = v.get_int64();
        } else if (key == "t") {
          std::string_view s = v.get_string();
          auto ns = protocol::parse_rfc3339(s).value_or(0);
          q.time = ns;
          t.time = ns;
        } else if (key == "c") {
          auto c = conditions_of(v);
          q.conditions = c;
          t.conditions = std::move(c);
        } else if (key == "z") {
          q.tape = t.tape = first_char(v);
        }
      }
      if (kind == 'q')
        out.quotes.push_back(std::move(q));
      else if (kind == 't')
        out.trades.push_back(std::move(t));
    }
  } catch (const simdjson::simdjson_error&) {
    return false;
  }
  return true;
}

} // namespace athanor::bench
