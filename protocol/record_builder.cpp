#include "protocol/detail/record_builder.hpp"

#include <cmath>
#include <limits>

#include "protocol/timestamp.hpp"

namespace athanor::protocol::detail {

namespace {

constexpr std::string_view key_names[] = {
  "T",          "S",           "i",
  "x",          "p",           "s",
  "t",          "c",           "z",
  "bx",         "bp",          "bs",
  "ax",         "ap",          "as",
  "o",          "h",           "l",
  "v",          "vw",          "n",
  "sc",         "sm",          "rc",
  "rm",         "u",           "d",
  "oi",         "op",          "os",
  "oc",         "ci",          "cp",
  "cs",         "cc",          "a",
  "tks",        "b",           "r",
  "code",       "msg",         "trades",
  "quotes",     "bars",        "updatedBars",
  "dailyBars",  "statuses",    "lulds",
  "imbalances", "corrections", "cancelErrors",
  "orderbooks",
};

static_assert(std::size(key_names) == key_count);

std::string name_of(key k) {
  return k == key::other ? std::string{"?"}
                         : std::string{key_names[static_cast<size_t>(k)]};
}

bool is_channel_key(key k) {
  return k >= key::trades && k <= key::orderbooks;
}

channel channel_of(key k) {
  return static_cast<channel>(static_cast<int>(k)
                              - static_cast<int>(key::trades));
}

int codes_index(key k) {
  switch (k) {
    case key::c: return 0;
    case key::oc: return 1;
    case key::cc: return 2;
    default: return -1;
  }
}

} // namespace

key key_of(std::string_view name) {
  // Most keys are one or two characters; look those up without a loop.
  if (name.size() == 1) {
    switch (name[0]) {
      case 'T': return key::T;
      case 'S': return key::S;
      case 'i': return key::i;
      case 'x': return key::x;
      case 'p': return key::p;
      case 's': return key::s;
      case 't': return key::t;
      case 'c': return key::c;
      case 'z': return key::z;
      case 'o': return key::o;
      case 'h': return key::h;
      case 'l': return key::l;
      case 'v': return key::v;
      case 'n': return key::n;
      case 'u': return key::u;
      case 'd': return key::d;
      case 'a': return key::a;
      case 'b': return key::b;
      case 'r': return key::r;
      default: return key::other;
    }
  }
  if (name.size() == 2) {
    auto pair = [](char a, char b) {
      return (static_cast<unsigned>(static_cast<unsigned char>(a)) << 8)
             | static_cast<unsigned char>(b);
    };
    switch (pair(name[0], name[1])) {
      case pair('b', 'x'): return key::bx;
      case pair('b', 'p'): return key::bp;
      case pair('b', 's'): return key::bs;
      case pair('a', 'x'): return key::ax;
      case pair('a', 'p'): return key::ap;
      case pair('a', 's'): return key::as;
      case pair('v', 'w'): return key::vw;
      case pair('s', 'c'): return key::sc;
      case pair('s', 'm'): return key::sm;
      case pair('r', 'c'): return key::rc;
      case pair('r', 'm'): return key::rm;
      case pair('o', 'i'): return key::oi;
      case pair('o', 'p'): return key::op;
      case pair('o', 's'): return key::os;
      case pair('o', 'c'): return key::oc;
      case pair('c', 'i'): return key::ci;
      case pair('c', 'p'): return key::cp;
      case pair('c', 's'): return key::cs;
      case pair('c', 'c'): return key::cc;
      default: return key::other;
    }
  }
  for (size_t i = 0; i < key_count; ++i)
    if (key_names[i] == name)
      return static_cast<key>(i);
  return key::other;
}

bool record_builder::fail(std::string field, std::string message) {
  failed_ = true;
  problem_ = decode_problem{std::move(field), offset_, std::move(message)};
  return false;
}

void record_builder::begin_record() {
  present_ = 0;
  for (auto& x : codes_)
    x.clear();
  if (used_subscriptions_) {
    for (auto& x : subscriptions_.symbols)
      x.clear();
    used_subscriptions_ = false;
  }
  bids_.clear();
  asks_.clear();
  bad_array_ = false;
  record_offset_ = offset_;
}

void record_builder::skip_structure() {
  // A known field holding a structure it should not: its readers will
  // reject the record with "must be a ..." (an unknown key is counted once,
  // when it is seen).
  if (auto x = field_slot())
    x->k = kind::array;
  skip_depth_ = 1;
}

bool record_builder::begin_array() {
  if (skip_depth_ > 0) {
    ++skip_depth_;
    return true;
  }
  switch (depth_) {
    case 0: depth_ = 1; return true;
    case 2: {
      auto known = codes_index(current_) >= 0 || is_channel_key(current_)
                   || current_ == key::b || current_ == key::a;
      if (!known) {
        skip_structure();
        return true;
      }
      field_slot()->k = kind::array;
      if (is_channel_key(current_))
        used_subscriptions_ = true;
      depth_ = 3;
      return true;
    }
    default:
      // An array where a record or an element belongs: skip it.
      ++out_.unknown_fields;
      skip_depth_ = 1;
      return true;
  }
}

bool record_builder::end_array() {
  if (skip_depth_ > 0) {
    --skip_depth_;
    return true;
  }
  if (depth_ == 3)
    depth_ = 2;
  else if (depth_ == 1)
    depth_ = 0;
  return true;
}

bool record_builder::begin_map() {
  if (skip_depth_ > 0) {
    ++skip_depth_;
    return true;
  }
  switch (depth_) {
    case 0: return fail("frame", "expected an array of records, got a map");
    case 1:
      begin_record();
      depth_ = 2;
      return true;
    case 2: skip_structure(); return true;
    case 3:
      if (current_ == key::b || current_ == key::a) {
        level_ = price_level{};
        level_has_price_ = false;
        level_has_size_ = false;
        current_level_key_ = key::other;
        depth_ = 4;
        return true;
      }
      [[fallthrough]];
    default:
      ++out_.unknown_fields;
      skip_depth_ = 1;
      return true;
  }
}

bool record_builder::end_map() {
  if (skip_depth_ > 0) {
    --skip_depth_;
    return true;
  }
  if (depth_ == 4) {
    if (level_has_price_ && level_has_size_) {
      (current_ == key::b ? bids_ : asks_).push_back(level_);
    } else if (!bad_array_) {
      bad_array_ = true;
      bad_array_key_ = current_;
      bad_array_message_ = "price level needs numbers p and s";
    }
    depth_ = 3;
    return true;
  }
  if (depth_ == 2) {
    finish_record();
    ++record_index_;
    depth_ = 1;
  }
  return true;
}

bool record_builder::map_key(std::string_view name) {
  if (skip_depth_ > 0)
    return true;
  if (depth_ == 2) {
    current_ = key_of(name);
    if (current_ == key::other)
      ++out_.unknown_fields;
    return true;
  }
  if (depth_ == 4) {
    current_level_key_ = key_of(name);
    return true;
  }
  return true;
}

record_builder::slot* record_builder::field_slot() {
  if (current_ == key::other)
    return nullptr;
  auto index = static_cast<unsigned>(current_);
  present_ |= uint64_t{1} << index;
  auto& x = slots_[index];
  x.offset = offset_;
  return &x;
}

bool record_builder::element(const slot& value) {
  switch (depth_) {
    case 0: return fail("frame", "expected an array of records");
    case 3: {
      if (auto index = codes_index(current_); index >= 0) {
        if (value.k == kind::string && value.s.size() == 1)
          codes_[static_cast<size_t>(index)] += value.s[0];
        else if (value.k == kind::string)
          ++out_.unknown_fields; // a multi-character code we do not know
        else if (!bad_array_) {
          bad_array_ = true;
          bad_array_key_ = current_;
          bad_array_message_ = "condition codes must be strings";
        }
      } else if (is_channel_key(current_)) {
        if (value.k == kind::string)
          subscriptions_[channel_of(current_)].emplace_back(value.s);
        else if (!bad_array_) {
          bad_array_ = true;
          bad_array_key_ = current_;
          bad_array_message_ = "symbols must be strings";
        }
      }
      return true;
    }
    case 4: {
      double number = 0;
      if (value.k == kind::number)
        number = value.d;
      else if (value.k == kind::integer)
        number = static_cast<double>(value.i);
      else if (value.k == kind::unsigned_integer)
        number = static_cast<double>(value.u);
      else
        return true; // a field of a level we do not know
      if (current_level_key_ == key::p) {
        level_.price = number;
        level_has_price_ = true;
      } else if (current_level_key_ == key::s) {
        level_.size = number;
        level_has_size_ = true;
      }
      return true;
    }
    default: return true;
  }
}

// Scalars inside a record (depth 2) are the hot path: they go straight into
// their slot. Everything else goes through `element`.
#define ATHANOR_SCALAR(assign)   \
  if (skip_depth_ > 0)           \
    return true;                 \
  if (depth_ == 2) {             \
    if (auto x = field_slot()) { \
      assign;                    \
    }                            \
    return true;                 \
  }                              \
  slot tmp;                      \
  {                              \
    auto x = &tmp;               \
    assign;                      \
  }                              \
  return element(tmp);

bool record_builder::string(std::string_view value) {
  ATHANOR_SCALAR(x->k = kind::string; x->s = value)
}

bool record_builder::integer(int64_t value) {
  ATHANOR_SCALAR(x->k = kind::integer; x->i = value)
}

bool record_builder::unsigned_integer(uint64_t value) {
  if (value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    return integer(static_cast<int64_t>(value));
  ATHANOR_SCALAR(x->k = kind::unsigned_integer; x->u = value)
}

bool record_builder::number(double value) {
  ATHANOR_SCALAR(x->k = kind::number; x->d = value)
}

bool record_builder::boolean(bool value) {
  ATHANOR_SCALAR(x->k = kind::boolean; x->b = value)
}

bool record_builder::null() {
  // Optional fields may be null: the same as absent.
  ATHANOR_SCALAR(x->k = kind::none)
}

bool record_builder::timestamp(int64_t ns) {
  ATHANOR_SCALAR(x->k = kind::timestamp; x->i = ns)
}

#undef ATHANOR_SCALAR

// -- reading fields -----------------------------------------------------------

void record_builder::reject(key k, const std::string& message) {
  auto& x = slots_[static_cast<size_t>(k)];
  auto& type = slots_[static_cast<size_t>(key::T)];
  std::string label = "record " + std::to_string(record_index_);
  if (has(key::T) && type.k == kind::string)
    label += " (T=" + std::string{type.s} + ")";
  auto present = has(k) && x.k != kind::none;
  out_.rejected.push_back(decode_problem{
    name_of(k), present ? x.offset : record_offset_, label + ": " + message});
}

bool record_builder::read(key k, double& out, bool required) {
  auto& x = slots_[static_cast<size_t>(k)];
  switch (has(k) ? x.k : kind::none) {
    case kind::number: out = x.d; return true;
    case kind::integer: out = static_cast<double>(x.i); return true;
    case kind::unsigned_integer: out = static_cast<double>(x.u); return true;
    case kind::none:
      if (required)
        reject(k, "missing field '" + name_of(k) + "'");
      return !required;
    default:
      reject(k, "field '" + name_of(k) + "' must be a number");
      return false;
  }
}

bool record_builder::read(key k, int64_t& out, bool required) {
  auto& x = slots_[static_cast<size_t>(k)];
  switch (has(k) ? x.k : kind::none) {
    case kind::integer: out = x.i; return true;
    case kind::none:
      if (required)
        reject(k, "missing field '" + name_of(k) + "'");
      return !required;
    case kind::unsigned_integer:
      reject(k, "field '" + name_of(k) + "' exceeds a signed 64-bit integer");
      return false;
    // Encoders without 64-bit integers (JavaScript) send ids as float64.
    case kind::number:
      if (std::trunc(x.d) == x.d && std::fabs(x.d) < 9.2e18) {
        out = static_cast<int64_t>(x.d);
        return true;
      }
      reject(k, "field '" + name_of(k) + "' must be a whole number");
      return false;
    default:
      reject(k, "field '" + name_of(k) + "' must be an integer");
      return false;
  }
}

bool record_builder::read(key k, uint64_t& out, bool required) {
  auto& x = slots_[static_cast<size_t>(k)];
  switch (has(k) ? x.k : kind::none) {
    case kind::integer:
      if (x.i < 0) {
        reject(k, "field '" + name_of(k) + "' must not be negative");
        return false;
      }
      out = static_cast<uint64_t>(x.i);
      return true;
    case kind::unsigned_integer: out = x.u; return true;
    // Crypto bars may carry counts as floats (0.0).
    case kind::number:
      if (x.d >= 0 && x.d <= 1.8e19
          && x.d == static_cast<double>(static_cast<uint64_t>(x.d))) {
        out = static_cast<uint64_t>(x.d);
        return true;
      }
      reject(k, "field '" + name_of(k) + "' must be a whole number");
      return false;
    case kind::none:
      if (required)
        reject(k, "missing field '" + name_of(k) + "'");
      return !required;
    default:
      reject(k, "field '" + name_of(k) + "' must be an integer");
      return false;
  }
}

bool record_builder::read(key k, std::string& out, bool required) {
  auto& x = slots_[static_cast<size_t>(k)];
  auto k_kind = has(k) ? x.k : kind::none;
  if (k_kind == kind::string) {
    out.assign(x.s.data(), x.s.size());
    return true;
  }
  if (k_kind == kind::none) {
    if (required)
      reject(k, "missing field '" + name_of(k) + "'");
    return !required;
  }
  reject(k, "field '" + name_of(k) + "' must be a string");
  return false;
}

bool record_builder::read(key k, char& out, bool required) {
  auto& x = slots_[static_cast<size_t>(k)];
  auto k_kind = has(k) ? x.k : kind::none;
  if (k_kind == kind::string) {
    out = x.s.empty() ? '\0' : x.s[0];
    return true;
  }
  if (k_kind == kind::none) {
    if (required)
      reject(k, "missing field '" + name_of(k) + "'");
    return !required;
  }
  reject(k, "field '" + name_of(k) + "' must be a string");
  return false;
}

bool record_builder::read_time(timestamp_ns& out) {
  auto& x = slots_[static_cast<size_t>(key::t)];
  if (!has(key::t)) {
    reject(key::t, "missing field 't'");
    return false;
  }
  if (x.k == kind::timestamp) {
    out = x.i;
    return true;
  }
  if (x.k == kind::string) {
    if (auto ns = parse_rfc3339(x.s)) {
      out = *ns;
      return true;
    }
    reject(key::t, "field 't' is not an RFC 3339 timestamp");
    return false;
  }
  if (x.k == kind::none)
    reject(key::t, "missing field 't'");
  else
    reject(key::t, "field 't' must be a timestamp");
  return false;
}

bool record_builder::read_codes(key k, condition_codes& out) {
  auto& x = slots_[static_cast<size_t>(k)];
  if (!has(k) || x.k == kind::none)
    return true;
  if (x.k != kind::array) {
    reject(k, "field '" + name_of(k) + "' must be an array");
    return false;
  }
  out = codes_[static_cast<size_t>(codes_index(k))];
  return true;
}

template<class Record>
bool record_builder::read_common(Record& rec) {
  return read(key::S, rec.symbol, true) && read_time(rec.time);
}

// Builds a record in place and drops it again if `fill` rejects it, so a
// rejected record never reaches the batch half-made.
template<class Record, class Fill>
void emit(std::vector<Record>& out, Fill fill) {
  auto& rec = out.emplace_back();
  if (!fill(rec))
    out.pop_back();
}

void record_builder::finish_record() {
  auto& type_slot = slots_[static_cast<size_t>(key::T)];
  if (!has(key::T) || type_slot.k != kind::string) {
    reject(key::T, "missing field 'T'");
    return;
  }
  if (bad_array_) {
    reject(bad_array_key_, bad_array_message_);
    return;
  }
  auto type = type_slot.s;
  if (type.size() == 1) {
    switch (type[0]) {
      case 't': {
        emit(out_.data.trades, [&](auto& rec) {
          return read_common(rec) && read(key::i, rec.id, false)
                 && read(key::x, rec.exchange, false)
                 && read(key::p, rec.price, true)
                 && read(key::s, rec.size, true)
                 && read_codes(key::c, rec.conditions)
                 && read(key::z, rec.tape, false)
                 && read(key::tks, rec.taker_side, false);
        });
        return;
      }
      case 'q': {
        emit(out_.data.quotes, [&](auto& rec) {
          return read_common(rec) && read(key::bx, rec.bid_exchange, false)
                 && read(key::bp, rec.bid_price, true)
                 && read(key::bs, rec.bid_size, true)
                 && read(key::ax, rec.ask_exchange, false)
                 && read(key::ap, rec.ask_price, true)
                 && read(key::as, rec.ask_size, true)
                 && read_codes(key::c, rec.conditions)
                 && read(key::z, rec.tape, false);
        });
        return;
      }
      case 'b':
      case 'u':
      case 'd': {
        emit(out_.data.bars, [&](auto& rec) {
          rec.kind = type[0] == 'b'   ? bar_kind::minute
                     : type[0] == 'u' ? bar_kind::updated
                                      : bar_kind::daily;
          return read_common(rec) && read(key::o, rec.open, true)
                 && read(key::h, rec.high, true) && read(key::l, rec.low, true)
                 && read(key::c, rec.close, true)
                 && read(key::v, rec.volume, true)
                 && read(key::vw, rec.vwap, false)
                 && read(key::n, rec.trade_count, false);
        });
        return;
      }
      case 's': {
        emit(out_.data.statuses, [&](auto& rec) {
          return read_common(rec) && read(key::sc, rec.status_code, false)
                 && read(key::sm, rec.status_message, false)
                 && read(key::rc, rec.reason_code, false)
                 && read(key::rm, rec.reason_message, false)
                 && read(key::z, rec.tape, false);
        });
        return;
      }
      case 'l': {
        emit(out_.data.lulds, [&](auto& rec) {
          return read_common(rec) && read(key::u, rec.limit_up, true)
                 && read(key::d, rec.limit_down, true)
                 && read(key::i, rec.indicator, false)
                 && read(key::z, rec.tape, false);
        });
        return;
      }
      case 'c': {
        emit(out_.data.corrections, [&](auto& rec) {
          return read_common(rec) && read(key::x, rec.exchange, false)
                 && read(key::oi, rec.original_id, true)
                 && read(key::op, rec.original_price, true)
                 && read(key::os, rec.original_size, true)
                 && read_codes(key::oc, rec.original_conditions)
                 && read(key::ci, rec.corrected_id, true)
                 && read(key::cp, rec.corrected_price, true)
                 && read(key::cs, rec.corrected_size, true)
                 && read_codes(key::cc, rec.corrected_conditions)
                 && read(key::z, rec.tape, false);
        });
        return;
      }
      case 'x': {
        emit(out_.data.cancel_errors, [&](auto& rec) {
          return read_common(rec) && read(key::i, rec.id, true)
                 && read(key::x, rec.exchange, false)
                 && read(key::p, rec.price, false)
                 && read(key::s, rec.size, false)
                 && read(key::a, rec.action, true)
                 && read(key::z, rec.tape, false);
        });
        return;
      }
      case 'i': {
        emit(out_.data.imbalances, [&](auto& rec) {
          return read_common(rec) && read(key::p, rec.price, true)
                 && read(key::z, rec.tape, false);
        });
        return;
      }
      case 'o': {
        orderbook rec;
        auto& reset = slots_[static_cast<size_t>(key::r)];
        auto reset_kind = has(key::r) ? reset.k : kind::none;
        if (reset_kind != kind::none && reset_kind != kind::boolean) {
          reject(key::r, "field 'r' must be a boolean");
          return;
        }
        if (read_common(rec)) {
          rec.reset = reset_kind == kind::boolean && reset.b;
          rec.bids = bids_;
          rec.asks = asks_;
          out_.data.orderbooks.push_back(std::move(rec));
        }
        return;
      }
      default: break;
    }
  } else if (type == "success") {
    control_message msg;
    msg.kind = control_message::success;
    if (read(key::msg, msg.message, false))
      out_.controls.push_back(std::move(msg));
    return;
  } else if (type == "error") {
    control_message msg;
    msg.kind = control_message::error;
    int64_t code = 0;
    if (read(key::code, code, true) && read(key::msg, msg.message, false)) {
      msg.code = static_cast<int>(code);
      out_.controls.push_back(std::move(msg));
    }
    return;
  } else if (type == "subscription") {
    control_message msg;
    msg.kind = control_message::subscription;
    msg.subscriptions = subscriptions_;
    out_.controls.push_back(std::move(msg));
    return;
  }
  ++out_.unknown_types;
}

} // namespace athanor::protocol::detail
