#pragma once

// Builds typed records from a stream of structural events. The JSON (SAX)
// and MessagePack (visitor) decoders both drive this one builder, so the two
// codecs cannot disagree about a field.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/market_data.hpp"

namespace athanor::protocol::detail {

/// Every field name the builder knows; `other` is skipped and counted.
enum class key : uint8_t {
  T,
  S,
  i,
  x,
  p,
  s,
  t,
  c,
  z,
  bx,
  bp,
  bs,
  ax,
  ap,
  as,
  o,
  h,
  l,
  v,
  vw,
  n,
  sc,
  sm,
  rc,
  rm,
  u,
  d,
  oi,
  op,
  os,
  oc,
  ci,
  cp,
  cs,
  cc,
  a,
  tks,
  b,
  r,
  code,
  msg,
  // subscription acks: one key per channel
  trades,
  quotes,
  bars,
  updated_bars,
  daily_bars,
  statuses,
  lulds,
  imbalances,
  corrections,
  cancel_errors,
  orderbooks,
  other,
};

inline constexpr size_t key_count = static_cast<size_t>(key::other);
static_assert(key_count <= 64, "presence is tracked in a 64-bit mask");

key key_of(std::string_view name);

class record_builder {
 public:
  explicit record_builder(market_frame& out) : out_(out) {}

  /// The decoder reports the byte offset of the next event.
  void at(size_t offset) {
    offset_ = offset;
  }

  bool begin_array();
  bool end_array();
  bool begin_map();
  bool end_map();
  bool map_key(std::string_view name);
  bool string(std::string_view value);
  bool integer(int64_t value);
  bool unsigned_integer(uint64_t value);
  bool number(double value);
  bool boolean(bool value);
  bool null();
  bool timestamp(int64_t ns);

  /// Set when the frame's structure is wrong (not an array of maps).
  const decode_problem& problem() const {
    return problem_;
  }

  bool failed() const {
    return failed_;
  }

 private:
  enum class kind : uint8_t {
    none,
    integer,
    unsigned_integer,
    number,
    string,
    boolean,
    timestamp,
    array,
  };

  struct slot {
    kind k = kind::none;
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    bool b = false;
    std::string_view s;
    size_t offset = 0;
  };

  bool fail(std::string field, std::string message);
  // Returns the slot a scalar at depth 2 goes to, or null to drop it.
  slot* field_slot();
  // Scalars anywhere else (array elements, price levels, stray values).
  bool element(const slot& value);
  void skip_structure();
  bool has(key k) const {
    return (present_ >> static_cast<unsigned>(k)) & 1u;
  }
  void begin_record();
  void finish_record();
  void reject(key k, const std::string& message);

  // Field readers: false (and the record is rejected) if the field is
  // missing when required or has the wrong type.
  bool read(key k, double& out, bool required);
  bool read(key k, int64_t& out, bool required);
  bool read(key k, uint64_t& out, bool required);
  bool read(key k, std::string& out, bool required);
  bool read(key k, char& out, bool required);
  bool read_time(timestamp_ns& out);
  bool read_codes(key k, condition_codes& out);

  template<class Record>
  bool read_common(Record& rec);

  market_frame& out_;
  size_t offset_ = 0;
  bool failed_ = false;
  decode_problem problem_;

  // Nesting: 1 inside the frame array, 2 inside a record, 3 inside an array
  // field, 4 inside a price level.
  int depth_ = 0;
  int skip_depth_ = 0;
  size_t record_index_ = 0;
  size_t record_offset_ = 0;
  key current_ = key::other;
  std::array<slot, key_count> slots_;
  /// Which slots the current record set; the others hold stale values.
  uint64_t present_ = 0;
  bool used_subscriptions_ = false;
  // Array fields.
  std::array<condition_codes, 3> codes_; // c, oc, cc
  subscription_set subscriptions_;
  std::vector<price_level> bids_;
  std::vector<price_level> asks_;
  price_level level_;
  key current_level_key_ = key::other;
  bool level_has_price_ = false;
  bool level_has_size_ = false;
  bool bad_array_ = false;
  key bad_array_key_ = key::other;
  std::string bad_array_message_;
};

} // namespace athanor::protocol::detail
