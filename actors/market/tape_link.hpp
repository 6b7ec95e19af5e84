#pragma once

// Replay (athanor replay): a link factory whose links play a tape's
// recorded connections, one per open(), to the same session, registry and
// subscribers a live run uses. A player keeps the recorded causality: a
// frame the server sent after the session's auth or subscribe waits until
// the session has sent that many frames itself, and no frame goes out
// beyond the link's credit. Frames carry their recorded receive times, so
// gap markers carry the recorded `since`.
//
// Pace: `fast` plays as fast as the session takes frames; `recorded` waits
// the recorded time between events on the actor clock (exact on the
// deterministic scheduler). An ending the engine decided on a timer (the
// watchdog, an ack timeout) recurs at recorded pace; played fast, the
// recorded close reaches the session as the server's.

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "caf/fwd.hpp"

#include "actors/market/link.hpp"
#include "tape/tape.hpp"

namespace athanor {

enum class replay_pace : uint8_t { fast, recorded };

/// One recorded market-data connection: its connect event first.
struct tape_connection {
  std::vector<tape_event> events;
};

/// The tape's market-data connections in the order they were opened
/// (trading connections and events of unknown connections left out).
std::vector<tape_connection>
connections_of(const std::vector<tape_event>& events);

/// What a tape link does next: the pure core of a player.
class tape_playback {
 public:
  enum class step_kind {
    /// Report the upgrade (`event`).
    open,
    /// Deliver `event`'s frame.
    frame,
    /// Report the end of the connection: `event`, or none when the tape
    /// stops within it.
    close,
    /// Nothing until the session sends, acknowledges or closes.
    wait,
    /// The tape is over and every frame acknowledged.
    end,
  };

  struct step {
    step_kind kind = step_kind::wait;
    const tape_event* event = nullptr;
  };

  /// `last`: no connection follows this one on the tape.
  tape_playback(tape_connection connection, bool last, size_t max_in_flight);

  /// The next step; open, frame and close are taken by done(). Calling it
  /// again without done() returns the same step.
  step next();

  /// The step next() returned was carried out.
  void done();

  void on_sent() {
    ++sent_;
  }

  void on_ack(size_t frames) {
    in_flight_ -= std::min(in_flight_, frames);
  }

  void on_close() {
    close_called_ = true;
  }

 private:
  /// Skips what needs no action (connect, matched sends, a close the
  /// session made or a close the server will be said to make).
  void skip();
  bool only_closed_follows() const;

  std::vector<tape_event> events_;
  bool last_;
  size_t max_in_flight_;
  size_t pos_ = 0;
  size_t in_flight_ = 0;
  size_t sent_ = 0;
  size_t matched_ = 0;
  bool close_called_ = false;
};

struct tape_link_options {
  replay_pace pace = replay_pace::fast;
  /// Frames out before the player waits for credit (the ws link's own).
  size_t max_in_flight = 64;
  /// Called once, from any thread, when the tape has been played and every
  /// frame acknowledged.
  std::function<void()> on_end;
};

/// Returns a factory whose n-th open() plays the n-th connection of
/// `connections`; beyond them it ends the replay and opens links that
/// never connect.
std::shared_ptr<link_factory>
make_tape_link_factory(caf::actor_system& sys,
                       std::vector<tape_connection> connections,
                       tape_link_options opts);

} // namespace athanor
