#pragma once

// The seam between a stream session and the I/O that carries its frames. The
// real link is a WebSocket (actors/market/ws_link.hpp); tests use a scripted fake.
// A link reports to its session with link_opened, link_frame and
// link_closed messages, each stamped with the epoch it was opened with.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "caf/actor.hpp"

#include "protocol/market_data.hpp"

namespace athanor {

/// One open (or opening) upstream connection.
class link {
 public:
  virtual ~link() = default;

  /// Queues a frame for the server.
  virtual void send(std::string frame) = 0;

  /// Acknowledges `frames` delivered link_frame messages; the link reads no
  /// further while too many are unacknowledged.
  virtual void ack(size_t frames) = 0;

  /// Starts a clean close; link_closed follows.
  virtual void close() = 0;
};

/// A session's current link, and the links it asked to close. An ending
/// the engine decides (a timeout, the watchdog, a server error) sends a
/// close frame rather than dropping TCP: a server keeps the slot of a
/// connection dropped without one (a ghost session) and answers the next
/// attempt with 406 until it expires. A closing link is kept until its
/// link_closed, which the transport sends within its close timeout.
class link_slot {
 public:
  explicit operator bool() const {
    return current_ != nullptr;
  }

  link* operator->() const {
    return current_.get();
  }

  /// Makes `x`, opened with `epoch`, the current link.
  void open(std::unique_ptr<link> x, uint64_t epoch);

  /// Starts a clean close of the current link (if any) and lets it go.
  void close_current();

  /// Lets go of the current link, which reported its end already.
  void drop_current();

  /// Takes the link_closed of a link the session let go; returns whether it
  /// was one (it is destroyed then).
  bool closed(uint64_t epoch);

  /// Returns how many links are still closing.
  size_t closing() const {
    return closing_.size();
  }

 private:
  std::unique_ptr<link> current_;
  uint64_t epoch_ = 0;
  std::vector<std::pair<uint64_t, std::unique_ptr<link>>> closing_;
};

/// Sees what crosses a link as the transport handles it (the recorder's
/// view). Called on the I/O thread, so an implementation only hands the
/// event on (to an actor) and never blocks.
class link_tap {
 public:
  virtual ~link_tap() = default;

  virtual void opened(uint64_t epoch, timestamp_ns at) = 0;

  /// `frame` exactly as received; `at` is the receive time the session's
  /// link_frame carries.
  virtual void inbound(uint64_t epoch, timestamp_ns at, bool binary,
                       const std::string& frame) = 0;

  virtual void closed(uint64_t epoch, timestamp_ns at,
                      const link_closed& how) = 0;
};

/// The transport's clock (wall time, ns since the Unix epoch): receive
/// times for lag, gaps and tapes. Actor logic never reads it.
timestamp_ns link_clock_ns();

/// What a session asks a link factory for.
struct link_request {
  /// ws:// or wss:// URL, feed path included.
  std::string url;
  protocol::codec encoding = protocol::codec::json;
  /// Stamped on every event of this link.
  uint64_t epoch = 0;
  /// Trading stream: frames go to the session undecoded, as
  /// trading_frame messages, instead of as decoded link_frames.
  bool trading = false;
  /// Receives the link's events.
  caf::actor session;
  /// Sees them too, when set (recording).
  std::shared_ptr<link_tap> tap;
};

class link_factory {
 public:
  virtual ~link_factory() = default;

  /// Starts connecting. Destroying the returned link drops the connection
  /// and sends nothing more; events already queued for the session carry an
  /// old epoch, by which the session ignores them.
  virtual std::unique_ptr<link> open(link_request req) = 0;
};

/// Decodes one server frame into the message a link sends its session:
/// data, controls, rejected records; `malformed` set (and nothing else) if
/// the frame as a whole did not decode. `frame` may be modified.
link_frame decode_link_frame(uint64_t epoch, protocol::codec encoding,
                             std::string& frame, timestamp_ns received_at);

} // namespace athanor
