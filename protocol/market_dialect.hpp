#pragma once

// The client side of the market-data stream protocol, without I/O: what a
// server's control record means for a session, and which subscription
// changes to send so the server's set follows the set consumers want.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "messages/engine_errc.hpp"
#include "messages/secret.hpp"
#include "messages/stream.hpp"
#include "protocol/market_data.hpp"

namespace athanor::protocol {

/// Returns `x` with every channel's symbols sorted and unique, and the
/// channels a client cannot subscribe to (corrections, cancel errors: they
/// come with trades) emptied.
subscription_set normalize(subscription_set x);

/// Returns the symbols of `x` that `y` lacks, per channel (both normalized).
subscription_set difference(const subscription_set& x,
                            const subscription_set& y);

/// Returns the number of (channel, symbol) pairs in `x`.
size_t count(const subscription_set& x);

/// What an endpoint streams, told by its URL's path.
enum class feed_family : uint8_t {
  /// /v2/{iex,sip,delayed_sip,boats,overnight,test}: US stocks.
  stocks,
  /// /v1beta3/crypto/{us,us-1,eu-1}.
  crypto,
  /// /v1beta1/{indicative,opra}.
  options,
  /// /v1beta1/news.
  news,
  /// A path we do not know: nothing is refused locally.
  unknown,
};

std::string to_string(feed_family x);

/// Returns the family of the stream endpoint `url` (scheme, host, path).
feed_family family_of_endpoint(const std::string& url);

/// Returns whether a `family` endpoint accepts subscriptions to `ch`. The
/// server refuses a whole change that holds one channel it lacks (a stock
/// feed has no orderbooks, crypto no statuses, lulds or imbalances), so
/// such a topic is refused before it reaches the shared connection.
bool offers(feed_family family, channel ch);

/// Keeps the server's subscription set in step with the desired one: one
/// change in flight at a time, unsubscribes before subscribes (so a symbol
/// limit is never crossed on the way), the whole set again after every
/// reconnect, and no endless retries of a change the server refuses. A
/// refused subscribe is split until the topics the server refuses are
/// found; those stay out, everything else is subscribed.
class subscription_tracker {
 public:
  /// No change carries more topics than this: a whole-market universe goes
  /// upstream in bounded frames (about 600 KB of JSON), each acknowledged
  /// before the next. Not smaller: every ack lists the server's whole set,
  /// so n topics in chunks of c cost n^2 / c symbols of acks to decode.
  static constexpr size_t max_change_topics = 50'000;

  struct change {
    /// Subscribe when true, unsubscribe when false.
    bool subscribe = true;
    subscription_set symbols;
  };

  /// Sets what consumers want. Returns whether it differs from before.
  bool set_desired(subscription_set desired);

  /// Returns the next change to send, or none while a change is in flight
  /// or nothing is to do. The returned change counts as in flight.
  std::optional<change> next_change();

  /// The server confirmed its full current set.
  void on_ack(const subscription_set& server_set);

  /// The server refused the change in flight (400, 405, 410). A subscribe
  /// of several topics is split, per channel and then in halves, and the
  /// pieces go next, one at a time; a topic refused on its own is refused
  /// for good (while consumers want it: not after a reconnect either) and
  /// returned, so its subscribers can be told. A refused unsubscribe gives
  /// up on the desired set until it changes or the connection is renewed.
  std::vector<topic> on_refused();

  /// The change in flight got no answer in time; it may be sent again.
  void on_timeout();

  /// A new connection starts with nothing subscribed.
  void on_disconnect();

  const subscription_set& desired() const {
    return desired_;
  }

  const subscription_set& confirmed() const {
    return confirmed_;
  }

  /// The topics the server refused alone, kept out of every change.
  const subscription_set& refused() const {
    return refused_;
  }

  bool in_flight() const {
    return in_flight_.has_value();
  }

  /// Returns whether the server's set equals the desired set less the
  /// refused topics.
  bool settled() const;

 private:
  subscription_set desired_;
  subscription_set confirmed_;
  std::optional<change> in_flight_;
  /// Pieces of a refused subscribe, tried before anything else is added.
  std::deque<change> probes_;
  subscription_set refused_;
  /// The desired set the server refused, or that an ack left unreached.
  std::optional<subscription_set> given_up_;
};

/// What a server control record means for the session.
struct dialect_event {
  enum kind_t : uint8_t {
    /// "connected": the session should authenticate now.
    welcome,
    authenticated,
    /// A subscription ack carrying the server's full set.
    subscribed,
    /// The change in flight was refused (400, 405, 410); the connection
    /// stays up.
    subscription_refused,
    /// The server found us too slow (407): data may be lost.
    slow_client,
    /// Too many connections for this key (406): wait for the old one to
    /// expire before trying again.
    connection_limit,
    /// The key or plan can never work (402, 409, 411): no retry.
    fatal,
    /// Anything else the server reports as an error: reconnect.
    server_error,
    /// A success message we do not know; ignored.
    ignored,
  };
  kind_t kind = ignored;
  /// The error, for the error kinds.
  engine_errc errc = engine_errc::server_error;
  /// The server's code and text, for logs.
  int code = 0;
  std::string message;
};

std::string to_string(dialect_event::kind_t x);

class market_dialect {
 public:
  explicit market_dialect(codec encoding) : encoding_(encoding) {}

  codec encoding() const {
    return encoding_;
  }

  /// Returns the auth message.
  std::string auth(const credentials& creds) const;

  /// Returns the message that carries `x`.
  std::string encode(const subscription_tracker::change& x) const;

  /// Interprets one control record.
  dialect_event interpret(const stream_control& x) const;

 private:
  codec encoding_;
};

} // namespace athanor::protocol
