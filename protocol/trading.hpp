#pragma once

// The trading stream (`/stream`): JSON objects in text or binary frames.

#include <string>
#include <vector>

#include "messages/orders.hpp"
#include "messages/secret.hpp"
#include "protocol/market_data.hpp"

namespace athanor::protocol {

/// A message from the server.
struct trading_message {
  enum kind_t : uint8_t {
    /// Answer to authenticate (or to a listen before it).
    authorization,
    /// The streams now listened to.
    listening,
    trade_update,
    /// {"action":"error","data":{"error_message":...}}
    error,
    /// A stream this engine does not know; skipped.
    other,
  };
  kind_t kind = other;
  /// authorization: whether the key was accepted, and for which action.
  bool authorized = false;
  std::string action;
  /// listening: the streams; other: the stream's name.
  std::vector<std::string> streams;
  order_update update;
  std::string error_message;
};

/// Decodes one server frame (the bytes of a text or a binary frame).
bool decode_trading_message(const std::string& frame, trading_message& out,
                            decode_problem& problem);

std::string encode_authenticate(const credentials& creds);
std::string encode_listen(const std::vector<std::string>& streams);

/// A message from a client (the simulator's side).
struct trading_client_message {
  enum action_t : uint8_t { authenticate, listen };
  action_t action = authenticate;
  credentials creds;
  std::vector<std::string> streams;
};

bool decode_trading_client_message(const std::string& frame,
                                   trading_client_message& out,
                                   decode_problem& problem);

std::string encode_authorization(bool authorized, const std::string& action);
std::string encode_listening(const std::vector<std::string>& streams);
std::string encode_trade_update(const order_update& update);
/// What the gateway sends its /stream clients: the upstream's own message
/// when there is one, else encode_trade_update().
std::string forwardable_trade_update(const order_update& update);
std::string encode_trading_error(const std::string& message);

} // namespace athanor::protocol
