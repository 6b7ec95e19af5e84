#pragma once

// The market-data stream protocol (stocks v2, crypto v1beta3): decoding
// server frames and encoding client messages, in JSON and MessagePack. Pure
// functions over byte buffers; no I/O.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "messages/market.hpp"
#include "messages/secret.hpp"
#include "messages/stream.hpp"

namespace athanor::protocol {

/// The stream's encoding, chosen by the upgrade request's Content-Type.
enum class codec : uint8_t { json, msgpack };

std::string to_string(codec x);

/// Why a frame or one record of it was rejected.
struct decode_problem {
  /// The field at fault, e.g. "bp", or "frame" for the frame as a whole.
  std::string field;
  /// Byte offset into the frame where the problem was seen.
  size_t offset = 0;
  std::string message;
};

/// Renders "field 'bp' at byte 17: must be a number".
std::string to_string(const decode_problem& x);

/// A control record: welcome, authentication result, error, subscription.
using control_message = stream_control;

/// Everything one server frame held.
struct market_frame {
  batch data;
  std::vector<control_message> controls;
  /// Records dropped for a bad or missing field; the others are kept.
  std::vector<decode_problem> rejected;
  /// Records of a type this engine does not know (skipped, counted).
  uint32_t unknown_types = 0;
  /// Fields this engine does not know (skipped, counted).
  uint32_t unknown_fields = 0;

  void clear();
};

/// Decodes a JSON text frame in place (`frame` is modified; decoded strings
/// are copied out). Returns false and describes the problem if the frame as
/// a whole is malformed; `out` is then left empty, so nothing of a broken
/// frame is ever applied.
bool decode_json(std::string& frame, market_frame& out,
                 decode_problem& problem);

/// Decodes a MessagePack binary frame, with the same contract.
bool decode_msgpack(const char* data, size_t size, market_frame& out,
                    decode_problem& problem);

/// A message from a client to the server.
struct client_message {
  enum action_t : uint8_t { auth, subscribe, unsubscribe };
  action_t action = auth;
  /// auth only.
  credentials creds;
  /// subscribe and unsubscribe only; empty arrays and nil mean "no change".
  subscription_set channels;
};

/// Decodes a client message (the simulator's and the gateway's side).
/// Returns false with the field at fault for anything Alpaca answers with
/// 400 "invalid syntax".
bool decode_client_message(codec c, const std::string& frame,
                           client_message& out, decode_problem& problem);

/// A client's MessagePack message as JSON text (same limits as above), for
/// protocols whose decoder reads JSON.
bool client_msgpack_to_json(const std::string& frame, std::string& json,
                            decode_problem& problem);

/// JSON text as the same value in MessagePack (invalid JSON becomes nil).
std::string json_to_msgpack(const std::string& json);

/// Client messages.
std::string encode_auth(codec c, const credentials& creds);
std::string encode_subscribe(codec c, const subscription_set& add);
std::string encode_unsubscribe(codec c, const subscription_set& remove);

/// Server messages (the simulator and the gateway speak them).
std::string encode_success(codec c, const std::string& message);
std::string encode_error(codec c, int code, const std::string& message);
std::string encode_subscription(codec c, const subscription_set& current,
                                bool crypto);
/// Encodes the data records of `data` as one frame, `T` first in each map.
std::string encode_batch(codec c, const batch& data);

} // namespace athanor::protocol
