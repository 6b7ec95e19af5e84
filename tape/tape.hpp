#pragma once

// A tape: what crossed an upstream connection, in the order it crossed,
// so a session can be replayed through the same actors (athanor replay).
// Pure encoding and decoding; tape_file.hpp writes and reads files.
//
// Format, version 1 (integers little-endian):
//
//   header  8 bytes "ATHTAPE\n", u32 version (1), u32 flags (0)
//   record  u32 size     bytes from `kind` to the end of `payload`
//           u8  kind     tape_kind
//           i64 time     wall-clock ns since the Unix epoch: a frame's
//                        receive time as the session saw it
//           u64 epoch    the connection, as the recording session numbered it
//           payload      size - 17 bytes, by kind (below)
//           u32 crc      CRC-32 (IEEE) of kind, time, epoch and payload
//
//   connect          u8 flags (1: MessagePack, 2: trading stream), the URL
//   opened           nothing: the WebSocket upgrade succeeded
//   inbound          u8 binary, the frame as the server sent it
//   outbound         u8 binary, the frame the session sent; an auth message
//                    is stored as {"action":"auth","key":"<fingerprint>"}
//   close_requested  nothing: the engine decided to close (a clean close)
//   closed           u8 link_end, u16 HTTP status, u16 close code, detail
//
// A reader that meets an unknown kind, a bad checksum or a short record
// stops there and names the byte offset; what came before is kept.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/market.hpp"
#include "messages/stream.hpp"

namespace athanor {

enum class tape_kind : uint8_t {
  connect = 1,
  opened = 2,
  inbound = 3,
  outbound = 4,
  close_requested = 5,
  closed = 6,
};

std::string to_string(tape_kind x);

inline constexpr uint32_t tape_version = 1;
inline constexpr size_t tape_header_size = 16;
/// A record larger than this is corruption, not a frame.
inline constexpr uint32_t tape_max_record = uint32_t{256} << 20;

/// One event of a tape; which fields mean something depends on `kind`.
struct tape_event {
  tape_kind kind = tape_kind::inbound;
  timestamp_ns time = 0;
  uint64_t epoch = 0;
  /// inbound and outbound: MessagePack in a binary frame.
  bool binary = false;
  /// connect: the URL; inbound, outbound: the frame; closed: the detail.
  std::string data;
  /// connect only.
  bool msgpack = false;
  bool trading = false;
  /// closed only.
  link_end end = link_end::closed;
  uint16_t http_status = 0;
  uint16_t close_code = 0;
};

bool operator==(const tape_event& x, const tape_event& y);

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tape_event& x) {
  return f(caf::meta::type_name("athanor.tape_event"), x.kind, x.time,
           x.epoch, x.binary, x.data, x.msgpack, x.trading, x.end,
           x.http_status, x.close_code);
}

/// The 16 bytes every tape file starts with.
std::string tape_header();

/// Appends `x` as one record to `out`.
void append_record(const tape_event& x, std::string& out);

/// Where and why a tape stopped reading.
struct tape_problem {
  /// Offset of the record (or header) at fault, from the start of the file.
  uint64_t offset = 0;
  std::string message;
};

/// Renders "byte 1234: checksum mismatch".
std::string to_string(const tape_problem& x);

struct tape_contents {
  std::vector<tape_event> events;
  /// Set when reading stopped before the end; `events` holds what came
  /// before.
  std::optional<tape_problem> problem;
};

/// Decodes a whole tape file's bytes.
tape_contents read_tape(std::string_view bytes);

/// The outbound frame as a tape stores it: an auth message becomes
/// {"action":"auth","key":"<fingerprint>"}; anything else is kept.
std::string redact_outbound(const std::string& frame, bool binary);

/// The CRC-32 (IEEE 802.3) of `bytes`.
uint32_t crc32(std::string_view bytes, uint32_t seed = 0);

} // namespace athanor
