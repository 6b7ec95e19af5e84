#include "protocol/market_data.hpp"
#include "protocol/gateway.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>

#include <msgpack.hpp>
#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "protocol/detail/record_builder.hpp"
#include "protocol/timestamp.hpp"

namespace athanor::protocol {

std::string to_string(codec x) {
  return x == codec::json ? "json" : "msgpack";
}

std::string to_string(const decode_problem& x) {
  return "field '" + x.field + "' at byte " + std::to_string(x.offset) + ": "
         + x.message;
}

void market_frame::clear() {
  data.clear();
  controls.clear();
  rejected.clear();
  unknown_types = 0;
  unknown_fields = 0;
}

// -- JSON ---------------------------------------------------------------------

namespace {

class json_handler {
 public:
  json_handler(detail::record_builder& builder,
               rapidjson::InsituStringStream& stream)
      : b_(builder), stream_(stream) {}

  bool Null() {
    return at().null();
  }
  bool Bool(bool x) {
    return at().boolean(x);
  }
  bool Int(int x) {
    return at().integer(x);
  }
  bool Uint(unsigned x) {
    return at().integer(x);
  }
  bool Int64(int64_t x) {
    return at().integer(x);
  }
  bool Uint64(uint64_t x) {
    return at().unsigned_integer(x);
  }
  bool Double(double x) {
    return at().number(x);
  }
  // Numbers arrive as text and are converted here: RapidJSON 1.1's own
  // full-precision conversion can read out of bounds and round wrongly
  // (Tencent/rapidjson#1251, #340; fixed upstream after 1.1.0), while
  // std::from_chars is exact.
  bool RawNumber(const char* x, rapidjson::SizeType n, bool) {
    auto& b = at();
    auto end = x + n;
    if (std::find_if(x, end,
                     [](char c) { return c == '.' || c == 'e' || c == 'E'; })
        == end) {
      if (*x == '-') {
        int64_t value;
        if (std::from_chars(x, end, value).ec == std::errc{})
          return b.integer(value);
      } else {
        uint64_t value;
        if (std::from_chars(x, end, value).ec == std::errc{})
          return b.unsigned_integer(value);
      }
      // Integers beyond 64 bits fall through to double.
    }
    double value;
    auto result = std::from_chars(x, end, value);
    if (result.ec == std::errc::result_out_of_range && result.ptr == end) {
      // Underflow rounds to zero as IEEE strtod does; overflow is refused.
      auto exponent = std::find_if(x, end,
                                   [](char c) { return c == 'e' || c == 'E'; });
      auto mantissa_zero = std::all_of(x, exponent, [](char c) {
        return c == '0' || c == '.' || c == '-';
      });
      auto tiny = exponent != end && exponent + 1 != end && exponent[1] == '-';
      // Without an exponent only huge integers overflow; leading zeros
      // after the point ("0.000...1") underflow.
      if (exponent == end)
        tiny = x + 1 < end && (x[0] == '0' || (x[0] == '-' && x[1] == '0'));
      if (tiny || mantissa_zero)
        return b.number(*x == '-' ? -0.0 : 0.0);
    }
    if (result.ec != std::errc{} || result.ptr != end) {
      number_out_of_range = true;
      return false;
    }
    return b.number(value);
  }

  /// Set when a number cannot be represented at all (1e999).
  bool number_out_of_range = false;
  bool String(const char* x, rapidjson::SizeType n, bool) {
    return at().string({x, n});
  }
  bool StartObject() {
    return at().begin_map();
  }
  bool Key(const char* x, rapidjson::SizeType n, bool) {
    return at().map_key({x, n});
  }
  bool EndObject(rapidjson::SizeType) {
    return at().end_map();
  }
  bool StartArray() {
    return at().begin_array();
  }
  bool EndArray(rapidjson::SizeType) {
    return at().end_array();
  }

 private:
  detail::record_builder& at() {
    b_.at(stream_.Tell());
    return b_;
  }

  detail::record_builder& b_;
  rapidjson::InsituStringStream& stream_;
};

} // namespace

bool decode_json(std::string& frame, market_frame& out,
                 decode_problem& problem) {
  out.clear();
  detail::record_builder builder{out};
  // In-situ parsing reads up to the terminating NUL that std::string keeps.
  rapidjson::InsituStringStream stream{frame.data()};
  json_handler handler{builder, stream};
  rapidjson::Reader reader;
  constexpr unsigned flags = rapidjson::kParseInsituFlag
                             | rapidjson::kParseNumbersAsStringsFlag;
  auto result = reader.Parse<flags>(stream, handler);
  if (handler.number_out_of_range) {
    problem = decode_problem{"frame", stream.Tell(),
                             "number out of the range of a double"};
    out.clear();
    return false;
  }
  if (builder.failed()) {
    problem = builder.problem();
    out.clear();
    return false;
  }
  if (result.IsError()) {
    problem = decode_problem{"frame", result.Offset(),
                             rapidjson::GetParseError_En(result.Code())};
    out.clear();
    return false;
  }
  if (stream.Tell() != frame.size()) {
    problem = decode_problem{"frame", stream.Tell(),
                             "NUL byte inside the frame"};
    out.clear();
    return false;
  }
  return true;
}

// -- MessagePack --------------------------------------------------------------

namespace {

uint64_t load_be(const char* p, size_t n) {
  uint64_t result = 0;
  for (size_t i = 0; i < n; ++i)
    result = (result << 8) | static_cast<unsigned char>(p[i]);
  return result;
}

class msgpack_handler : public msgpack::null_visitor {
 public:
  msgpack_handler(detail::record_builder& builder, const char* base)
      : b_(builder), base_(base) {}

  bool visit_nil() {
    return value().null();
  }
  bool visit_boolean(bool x) {
    return value().boolean(x);
  }
  bool visit_positive_integer(uint64_t x) {
    return value().unsigned_integer(x);
  }
  bool visit_negative_integer(int64_t x) {
    return value().integer(x);
  }
  bool visit_float32(float x) {
    return value().number(static_cast<double>(x));
  }
  bool visit_float64(double x) {
    return value().number(x);
  }
  bool visit_str(const char* x, uint32_t n) {
    b_.at(static_cast<size_t>(x - base_));
    if (in_key_)
      return b_.map_key({x, n});
    return b_.string({x, n});
  }
  bool visit_bin(const char* x, uint32_t n) {
    return visit_str(x, n);
  }
  bool visit_ext(const char* x, uint32_t n) {
    b_.at(static_cast<size_t>(x - base_));
    // x[0] is the extension type; -1 is the timestamp.
    if (n == 0 || static_cast<int8_t>(x[0]) != -1)
      return in_key_ ? b_.map_key({}) : b_.null();
    auto payload = x + 1;
    auto size = n - 1;
    std::optional<int64_t> ns;
    if (size == 4) {
      ns = to_nanoseconds(static_cast<int64_t>(load_be(payload, 4)), 0);
    } else if (size == 8) {
      auto bits = load_be(payload, 8);
      ns = to_nanoseconds(static_cast<int64_t>(bits & 0x3ffffffffULL),
                          static_cast<int64_t>(bits >> 34));
    } else if (size == 12) {
      ns = to_nanoseconds(static_cast<int64_t>(load_be(payload + 4, 8)),
                          static_cast<int64_t>(load_be(payload, 4)));
    }
    // A timestamp int64 nanoseconds cannot hold is no timestamp: a record
    // that needs it is rejected for its 't'.
    if (!ns)
      return in_key_ ? b_.map_key({}) : b_.string({});
    return in_key_ ? b_.map_key({}) : b_.timestamp(*ns);
  }
  bool start_array(uint32_t) {
    return b_.begin_array();
  }
  bool end_array() {
    return b_.end_array();
  }
  bool start_map(uint32_t) {
    return b_.begin_map();
  }
  bool start_map_key() {
    in_key_ = true;
    return true;
  }
  bool end_map_key() {
    in_key_ = false;
    return true;
  }
  bool end_map() {
    return b_.end_map();
  }
  void parse_error(size_t, size_t error_offset) {
    error_ = "malformed MessagePack";
    error_offset_ = error_offset;
  }
  void insufficient_bytes(size_t, size_t error_offset) {
    error_ = "frame ends in the middle of a value";
    error_offset_ = error_offset;
  }

  std::string error_;
  size_t error_offset_ = 0;

 private:
  // A key that is not a string (never sent by Alpaca) names no field.
  detail::record_builder& value() {
    if (in_key_)
      b_.map_key({});
    return b_;
  }

  detail::record_builder& b_;
  const char* base_;
  bool in_key_ = false;
};

} // namespace

bool decode_msgpack(const char* data, size_t size, market_frame& out,
                    decode_problem& problem) {
  out.clear();
  detail::record_builder builder{out};
  msgpack_handler handler{builder, data};
  size_t offset = 0;
  msgpack::parse_return result;
  try {
    result = msgpack::detail::parse_imp(data, size, offset, handler);
  } catch (const msgpack::size_overflow& e) {
    // Sizes beyond msgpack-cxx's limits: a malformed frame, not a crash.
    problem = decode_problem{"frame", offset, e.what()};
    out.clear();
    return false;
  }
  if (builder.failed()) {
    problem = builder.problem();
    out.clear();
    return false;
  }
  if (result != msgpack::PARSE_SUCCESS) {
    std::string message = handler.error_;
    if (result == msgpack::PARSE_EXTRA_BYTES)
      message = "bytes after the frame's value";
    else if (message.empty())
      message = "malformed MessagePack";
    problem = decode_problem{
      "frame", handler.error_.empty() ? offset : handler.error_offset_,
      std::move(message)};
    out.clear();
    return false;
  }
  return true;
}

// -- encoding -----------------------------------------------------------------

namespace {

// One writer interface over both codecs, so every message is written once.
class frame_writer {
 public:
  explicit frame_writer(codec c)
      : codec_(c), json_(json_buffer_), mp_(mp_buffer_) {}

  void begin_map(uint32_t size) {
    if (codec_ == codec::json)
      json_.StartObject();
    else
      mp_.pack_map(size);
  }
  void end_map() {
    if (codec_ == codec::json)
      json_.EndObject();
  }
  void begin_array(uint32_t size) {
    if (codec_ == codec::json)
      json_.StartArray();
    else
      mp_.pack_array(size);
  }
  void end_array() {
    if (codec_ == codec::json)
      json_.EndArray();
  }
  void key(std::string_view x) {
    if (codec_ == codec::json)
      json_.Key(x.data(), static_cast<rapidjson::SizeType>(x.size()));
    else
      str(x);
  }
  void str(std::string_view x) {
    if (codec_ == codec::json) {
      json_.String(x.data(), static_cast<rapidjson::SizeType>(x.size()));
    } else {
      mp_.pack_str(static_cast<uint32_t>(x.size()));
      mp_.pack_str_body(x.data(), static_cast<uint32_t>(x.size()));
    }
  }
  void ch(char x) {
    str(std::string_view{&x, 1});
  }
  void integer(int64_t x) {
    if (codec_ == codec::json)
      json_.Int64(x);
    else
      mp_.pack_int64(x);
  }
  void uinteger(uint64_t x) {
    if (codec_ == codec::json)
      json_.Uint64(x);
    else
      mp_.pack_uint64(x);
  }
  // Whole numbers go out as integers, as Alpaca sends sizes and volumes.
  void number(double x) {
    if (std::trunc(x) == x && std::fabs(x) < 9e15)
      integer(static_cast<int64_t>(x));
    else if (codec_ == codec::json)
      json_.Double(x);
    else
      mp_.pack_double(x);
  }
  void boolean(bool x) {
    if (codec_ == codec::json)
      json_.Bool(x);
    else if (x)
      mp_.pack_true();
    else
      mp_.pack_false();
  }
  void time(timestamp_ns ns) {
    if (codec_ == codec::json) {
      str(format_rfc3339(ns));
      return;
    }
    auto seconds = ns / 1'000'000'000;
    auto nanos = ns % 1'000'000'000;
    if (nanos < 0) {
      nanos += 1'000'000'000;
      --seconds;
    }
    char buf[12];
    auto put = [&buf](size_t at, uint64_t value, size_t n) {
      for (size_t i = 0; i < n; ++i)
        buf[at + i] = static_cast<char>(value >> (8 * (n - 1 - i)));
    };
    if (nanos == 0 && seconds >= 0 && seconds <= 0xffffffffLL) {
      put(0, static_cast<uint64_t>(seconds), 4);
      mp_.pack_ext(4, -1);
      mp_.pack_ext_body(buf, 4);
    } else if (seconds >= 0 && seconds < (1LL << 34)) {
      put(0,
          (static_cast<uint64_t>(nanos) << 34) | static_cast<uint64_t>(seconds),
          8);
      mp_.pack_ext(8, -1);
      mp_.pack_ext_body(buf, 8);
    } else {
      put(0, static_cast<uint64_t>(nanos), 4);
      put(4, static_cast<uint64_t>(seconds), 8);
      mp_.pack_ext(12, -1);
      mp_.pack_ext_body(buf, 12);
    }
  }
  void codes(const condition_codes& xs) {
    begin_array(static_cast<uint32_t>(xs.size()));
    for (auto x : xs)
      ch(x);
    end_array();
  }

  std::string take() {
    if (codec_ == codec::json)
      return std::string{json_buffer_.GetString(), json_buffer_.GetSize()};
    return std::string{mp_buffer_.data(), mp_buffer_.size()};
  }

 private:
  codec codec_;
  rapidjson::StringBuffer json_buffer_;
  rapidjson::Writer<rapidjson::StringBuffer> json_;
  msgpack::sbuffer mp_buffer_;
  msgpack::packer<msgpack::sbuffer> mp_;
};

bool subscribable(channel x) {
  return x != channel::corrections && x != channel::cancel_errors;
}

std::string encode_action(codec c, const char* action,
                          const subscription_set& set) {
  frame_writer w{c};
  uint32_t size = 1;
  for (auto x : all_channels)
    if (subscribable(x) && !set[x].empty())
      ++size;
  w.begin_map(size);
  w.key("action");
  w.str(action);
  for (auto x : all_channels) {
    if (!subscribable(x) || set[x].empty())
      continue;
    w.key(wire_name(x));
    w.begin_array(static_cast<uint32_t>(set[x].size()));
    for (auto& symbol : set[x])
      w.str(symbol);
    w.end_array();
  }
  w.end_map();
  return w.take();
}

} // namespace

std::string encode_auth(codec c, const credentials& creds) {
  frame_writer w{c};
  w.begin_map(3);
  w.key("action");
  w.str("auth");
  w.key("key");
  w.str(creds.key_id.reveal());
  w.key("secret");
  w.str(creds.secret_key.reveal());
  w.end_map();
  return w.take();
}

std::string encode_subscribe(codec c, const subscription_set& add) {
  return encode_action(c, "subscribe", add);
}

std::string encode_unsubscribe(codec c, const subscription_set& remove) {
  return encode_action(c, "unsubscribe", remove);
}

std::string encode_success(codec c, const std::string& message) {
  frame_writer w{c};
  w.begin_array(1);
  w.begin_map(2);
  w.key("T");
  w.str("success");
  w.key("msg");
  w.str(message);
  w.end_map();
  w.end_array();
  return w.take();
}

std::string encode_error(codec c, int code, const std::string& message) {
  frame_writer w{c};
  w.begin_array(1);
  w.begin_map(3);
  w.key("T");
  w.str("error");
  w.key("code");
  w.integer(code);
  w.key("msg");
  w.str(message);
  w.end_map();
  w.end_array();
  return w.take();
}

std::string encode_gap(codec c, const gap& x) {
  frame_writer w{c};
  w.begin_array(1);
  w.begin_map(6);
  w.key("T");
  w.str("gap");
  w.key("reason");
  w.str(to_string(x.reason));
  w.key("since");
  w.integer(x.since);
  w.key("epoch");
  w.integer(static_cast<int64_t>(x.epoch));
  w.key("dropped");
  w.integer(static_cast<int64_t>(x.dropped));
  w.key("topics");
  w.begin_array(static_cast<uint32_t>(x.topics.size()));
  for (auto& t : x.topics)
    w.str(to_string(t));
  w.end_array();
  w.end_map();
  w.end_array();
  return w.take();
}

std::string encode_subscription(codec c, const subscription_set& current,
                                bool crypto) {
  std::vector<channel> keys;
  if (crypto) {
    keys = {channel::trades, channel::quotes,       channel::orderbooks,
            channel::bars,   channel::updated_bars, channel::daily_bars};
  } else {
    keys = {channel::trades,       channel::quotes,
            channel::bars,         channel::updated_bars,
            channel::daily_bars,   channel::statuses,
            channel::lulds,        channel::corrections,
            channel::cancel_errors};
    if (!current[channel::imbalances].empty())
      keys.insert(keys.begin() + 7, channel::imbalances);
  }
  frame_writer w{c};
  w.begin_array(1);
  w.begin_map(static_cast<uint32_t>(keys.size() + 1));
  w.key("T");
  w.str("subscription");
  for (auto x : keys) {
    w.key(wire_name(x));
    w.begin_array(static_cast<uint32_t>(current[x].size()));
    for (auto& symbol : current[x])
      w.str(symbol);
    w.end_array();
  }
  w.end_map();
  w.end_array();
  return w.take();
}

std::string encode_batch(codec c, const batch& data) {
  frame_writer w{c};
  w.begin_array(static_cast<uint32_t>(data.size()));
  // Optional one-character fields are written only when set.
  auto opt_ch = [&w](const char* name, char x) {
    if (x != 0) {
      w.key(name);
      w.ch(x);
    }
  };
  auto n_ch = [](std::initializer_list<char> xs) {
    uint32_t n = 0;
    for (auto x : xs)
      n += x != 0;
    return n;
  };
  for (auto& x : data.quotes) {
    w.begin_map(7 + n_ch({x.bid_exchange, x.ask_exchange, x.tape})
                + (x.conditions.empty() ? 0 : 1));
    w.key("T");
    w.str("q");
    w.key("S");
    w.str(x.symbol);
    opt_ch("bx", x.bid_exchange);
    w.key("bp");
    w.number(x.bid_price);
    w.key("bs");
    w.number(x.bid_size);
    opt_ch("ax", x.ask_exchange);
    w.key("ap");
    w.number(x.ask_price);
    w.key("as");
    w.number(x.ask_size);
    w.key("t");
    w.time(x.time);
    if (!x.conditions.empty()) {
      w.key("c");
      w.codes(x.conditions);
    }
    opt_ch("z", x.tape);
    w.end_map();
  }
  for (auto& x : data.trades) {
    w.begin_map(6 + n_ch({x.exchange, x.tape, x.taker_side})
                + (x.conditions.empty() ? 0 : 1));
    w.key("T");
    w.str("t");
    w.key("S");
    w.str(x.symbol);
    w.key("i");
    w.integer(x.id);
    opt_ch("x", x.exchange);
    w.key("p");
    w.number(x.price);
    w.key("s");
    w.number(x.size);
    w.key("t");
    w.time(x.time);
    if (!x.conditions.empty()) {
      w.key("c");
      w.codes(x.conditions);
    }
    opt_ch("z", x.tape);
    opt_ch("tks", x.taker_side);
    w.end_map();
  }
  for (auto& x : data.bars) {
    w.begin_map(10);
    w.key("T");
    w.str(x.kind == bar_kind::minute    ? "b"
          : x.kind == bar_kind::updated ? "u"
                                        : "d");
    w.key("S");
    w.str(x.symbol);
    w.key("o");
    w.number(x.open);
    w.key("h");
    w.number(x.high);
    w.key("l");
    w.number(x.low);
    w.key("c");
    w.number(x.close);
    w.key("v");
    w.number(x.volume);
    w.key("n");
    w.uinteger(x.trade_count);
    w.key("vw");
    w.number(x.vwap);
    w.key("t");
    w.time(x.time);
    w.end_map();
  }
  for (auto& x : data.statuses) {
    w.begin_map(7 + n_ch({x.tape}));
    w.key("T");
    w.str("s");
    w.key("S");
    w.str(x.symbol);
    w.key("sc");
    w.str(x.status_code);
    w.key("sm");
    w.str(x.status_message);
    w.key("rc");
    w.str(x.reason_code);
    w.key("rm");
    w.str(x.reason_message);
    w.key("t");
    w.time(x.time);
    opt_ch("z", x.tape);
    w.end_map();
  }
  for (auto& x : data.lulds) {
    w.begin_map(5 + n_ch({x.indicator, x.tape}));
    w.key("T");
    w.str("l");
    w.key("S");
    w.str(x.symbol);
    w.key("u");
    w.number(x.limit_up);
    w.key("d");
    w.number(x.limit_down);
    opt_ch("i", x.indicator);
    w.key("t");
    w.time(x.time);
    opt_ch("z", x.tape);
    w.end_map();
  }
  for (auto& x : data.corrections) {
    w.begin_map(11 + n_ch({x.exchange, x.tape}));
    w.key("T");
    w.str("c");
    w.key("S");
    w.str(x.symbol);
    opt_ch("x", x.exchange);
    w.key("oi");
    w.integer(x.original_id);
    w.key("op");
    w.number(x.original_price);
    w.key("os");
    w.number(x.original_size);
    w.key("oc");
    w.codes(x.original_conditions);
    w.key("ci");
    w.integer(x.corrected_id);
    w.key("cp");
    w.number(x.corrected_price);
    w.key("cs");
    w.number(x.corrected_size);
    w.key("cc");
    w.codes(x.corrected_conditions);
    opt_ch("z", x.tape);
    w.key("t");
    w.time(x.time);
    w.end_map();
  }
  for (auto& x : data.cancel_errors) {
    w.begin_map(6 + n_ch({x.exchange, x.action, x.tape}));
    w.key("T");
    w.str("x");
    w.key("S");
    w.str(x.symbol);
    w.key("i");
    w.integer(x.id);
    opt_ch("x", x.exchange);
    w.key("p");
    w.number(x.price);
    w.key("s");
    w.number(x.size);
    opt_ch("a", x.action);
    opt_ch("z", x.tape);
    w.key("t");
    w.time(x.time);
    w.end_map();
  }
  for (auto& x : data.imbalances) {
    w.begin_map(4 + n_ch({x.tape}));
    w.key("T");
    w.str("i");
    w.key("S");
    w.str(x.symbol);
    w.key("p");
    w.number(x.price);
    opt_ch("z", x.tape);
    w.key("t");
    w.time(x.time);
    w.end_map();
  }
  for (auto& x : data.orderbooks) {
    w.begin_map(5 + (x.reset ? 1 : 0));
    w.key("T");
    w.str("o");
    w.key("S");
    w.str(x.symbol);
    w.key("t");
    w.time(x.time);
    for (auto [name, levels] : {std::pair{"b", &x.bids}, {"a", &x.asks}}) {
      w.key(name);
      w.begin_array(static_cast<uint32_t>(levels->size()));
      for (auto& level : *levels) {
        w.begin_map(2);
        w.key("p");
        w.number(level.price);
        w.key("s");
        w.number(level.size);
        w.end_map();
      }
      w.end_array();
    }
    if (x.reset) {
      w.key("r");
      w.boolean(true);
    }
    w.end_map();
  }
  w.end_array();
  return w.take();
}

} // namespace athanor::protocol
