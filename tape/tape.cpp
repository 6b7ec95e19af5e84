#include "tape/tape.hpp"

#include <array>
#include <cstring>

#include "protocol/market_data.hpp"

namespace athanor {

namespace {

constexpr char magic[8] = {'A', 'T', 'H', 'T', 'A', 'P', 'E', '\n'};
// kind, time, epoch.
constexpr uint32_t fixed_part = 1 + 8 + 8;
constexpr uint8_t flag_msgpack = 1;
constexpr uint8_t flag_trading = 2;
constexpr auto last_link_end = static_cast<uint8_t>(link_end::timeout);

template <class T>
void put(std::string& out, T x) {
  for (size_t i = 0; i < sizeof(T); ++i)
    out += static_cast<char>((static_cast<uint64_t>(x) >> (8 * i)) & 0xff);
}

template <class T>
T get(const char* p) {
  uint64_t x = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    x |= uint64_t{static_cast<uint8_t>(p[i])} << (8 * i);
  return static_cast<T>(x);
}

bool known_kind(uint8_t x) {
  return x >= static_cast<uint8_t>(tape_kind::connect)
         && x <= static_cast<uint8_t>(tape_kind::closed);
}

// The payload of `x`, by kind.
void append_payload(const tape_event& x, std::string& out) {
  switch (x.kind) {
    case tape_kind::connect:
      put<uint8_t>(out, (x.msgpack ? flag_msgpack : 0)
                          | (x.trading ? flag_trading : 0));
      out += x.data;
      return;
    case tape_kind::inbound:
    case tape_kind::outbound:
      put<uint8_t>(out, x.binary ? 1 : 0);
      out += x.data;
      return;
    case tape_kind::closed:
      put<uint8_t>(out, static_cast<uint8_t>(x.end));
      put<uint16_t>(out, x.http_status);
      put<uint16_t>(out, x.close_code);
      out += x.data;
      return;
    case tape_kind::opened:
    case tape_kind::close_requested:
      return;
  }
}

// Fills `x` from a payload; an error message if it does not fit its kind.
std::string parse_payload(std::string_view p, tape_event& x) {
  auto need = [&](size_t n) { return p.size() >= n; };
  switch (x.kind) {
    case tape_kind::connect:
      if (!need(1))
        return "connect record without its flags";
      x.msgpack = (p[0] & flag_msgpack) != 0;
      x.trading = (p[0] & flag_trading) != 0;
      x.data.assign(p.substr(1));
      return {};
    case tape_kind::inbound:
    case tape_kind::outbound:
      if (!need(1))
        return to_string(x.kind) + " record without its frame type";
      x.binary = p[0] != 0;
      x.data.assign(p.substr(1));
      return {};
    case tape_kind::closed: {
      if (!need(5))
        return "closed record shorter than its 5 fixed bytes";
      auto end = static_cast<uint8_t>(p[0]);
      if (end > last_link_end)
        return "closed record with unknown reason "
               + std::to_string(end);
      x.end = static_cast<link_end>(end);
      x.http_status = get<uint16_t>(p.data() + 1);
      x.close_code = get<uint16_t>(p.data() + 3);
      x.data.assign(p.substr(5));
      return {};
    }
    case tape_kind::opened:
    case tape_kind::close_requested:
      if (!p.empty())
        return to_string(x.kind) + " record with a payload";
      return {};
  }
  return "unknown record kind";
}

const std::array<uint32_t, 256>& crc_table() {
  static const auto table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k)
        c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  return table;
}

} // namespace

std::string to_string(tape_kind x) {
  switch (x) {
    case tape_kind::connect: return "connect";
    case tape_kind::opened: return "opened";
    case tape_kind::inbound: return "inbound";
    case tape_kind::outbound: return "outbound";
    case tape_kind::close_requested: return "close_requested";
    case tape_kind::closed: return "closed";
  }
  return "unknown";
}

bool operator==(const tape_event& x, const tape_event& y) {
  return x.kind == y.kind && x.time == y.time && x.epoch == y.epoch
         && x.binary == y.binary && x.data == y.data && x.msgpack == y.msgpack
         && x.trading == y.trading && x.end == y.end
         && x.http_status == y.http_status && x.close_code == y.close_code;
}

uint32_t crc32(std::string_view bytes, uint32_t seed) {
  auto& table = crc_table();
  uint32_t c = ~seed;
  for (auto ch : bytes)
    c = table[(c ^ static_cast<uint8_t>(ch)) & 0xff] ^ (c >> 8);
  return ~c;
}

std::string tape_header() {
  std::string out{magic, sizeof(magic)};
  put<uint32_t>(out, tape_version);
  put<uint32_t>(out, 0);
  return out;
}

void append_record(const tape_event& x, std::string& out) {
  auto start = out.size();
  put<uint32_t>(out, 0); // size, patched below
  put<uint8_t>(out, static_cast<uint8_t>(x.kind));
  put<int64_t>(out, x.time);
  put<uint64_t>(out, x.epoch);
  append_payload(x, out);
  auto size = static_cast<uint32_t>(out.size() - start - 4);
  for (size_t i = 0; i < 4; ++i)
    out[start + i] = static_cast<char>((size >> (8 * i)) & 0xff);
  put<uint32_t>(out, crc32(std::string_view{out}.substr(start + 4, size)));
}

std::string to_string(const tape_problem& x) {
  return "byte " + std::to_string(x.offset) + ": " + x.message;
}

tape_contents read_tape(std::string_view bytes) {
  tape_contents result;
  auto fail = [&](uint64_t offset, std::string message) {
    result.problem = tape_problem{offset, std::move(message)};
    return result;
  };
  if (bytes.size() < tape_header_size
      || std::memcmp(bytes.data(), magic, sizeof(magic)) != 0)
    return fail(0, "not an athanor tape (no ATHTAPE header)");
  auto version = get<uint32_t>(bytes.data() + 8);
  if (version != tape_version)
    return fail(8, "tape version " + std::to_string(version)
                     + ", this build reads version "
                     + std::to_string(tape_version));
  size_t at = tape_header_size;
  while (at < bytes.size()) {
    auto left = bytes.size() - at;
    if (left < 4)
      return fail(at, "truncated record: " + std::to_string(left)
                        + " bytes where a record's size needs 4");
    auto size = get<uint32_t>(bytes.data() + at);
    if (size < fixed_part || size > tape_max_record)
      return fail(at, "record size " + std::to_string(size)
                        + " is outside 17.." + std::to_string(tape_max_record));
    if (left < uint64_t{size} + 8)
      return fail(at, "truncated record: needs " + std::to_string(size + 8)
                        + " bytes, the file has " + std::to_string(left)
                        + " left");
    auto body = bytes.substr(at + 4, size);
    auto crc = get<uint32_t>(bytes.data() + at + 4 + size);
    if (crc32(body) != crc)
      return fail(at, "checksum mismatch");
    auto kind = static_cast<uint8_t>(body[0]);
    if (!known_kind(kind))
      return fail(at, "unknown record kind " + std::to_string(kind));
    tape_event x;
    x.kind = static_cast<tape_kind>(kind);
    x.time = get<int64_t>(body.data() + 1);
    x.epoch = get<uint64_t>(body.data() + 9);
    if (auto problem = parse_payload(body.substr(fixed_part), x);
        !problem.empty())
      return fail(at, problem);
    result.events.push_back(std::move(x));
    at += 4 + size + 4;
  }
  return result;
}

std::string redact_outbound(const std::string& frame, bool binary) {
  // Cheap test first: subscription frames can be large.
  if (frame.find("auth") == std::string::npos)
    return frame;
  protocol::client_message msg;
  protocol::decode_problem problem;
  auto c = binary ? protocol::codec::msgpack : protocol::codec::json;
  auto decoded = protocol::decode_client_message(c, frame, msg, problem);
  if (decoded && msg.action != protocol::client_message::auth)
    return frame;
  // An auth message, or one that mentions auth and does not decode: either
  // may hold a secret.
  auto text = "{\"action\":\"auth\",\"key\":\""
              + (decoded ? msg.creds.fingerprint() : std::string{"?"})
              + "\"}";
  return binary ? protocol::json_to_msgpack(text) : text;
}

} // namespace athanor
