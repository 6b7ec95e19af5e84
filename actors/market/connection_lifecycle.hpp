#pragma once

// The life of one upstream WebSocket, shared by the market-data session and
// the trading stream: connect (after the breaker's permit) -> authenticate
// -> listen or subscribe -> stream -> back off and try again, or fail for
// good when retrying cannot help. A plain class: the actor that owns it does
// the messaging through `lifecycle_host`, and keeps what is its own (the
// protocol, subscriptions, gaps, the watchdog).

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "caf/actor_clock.hpp"
#include "caf/timespan.hpp"

#include "actors/market/link.hpp"
#include "actors/resilience/backoff.hpp"
#include "messages/breaker.hpp"
#include "messages/engine_errc.hpp"
#include "messages/stream.hpp"
#include "messages/trace.hpp"

namespace athanor {

/// How a connection ended, as a session acts on it.
struct connection_ending {
  engine_errc errc = engine_errc::connection_lost;
  std::string detail;
  /// Wait on the limit schedule (406, 429): the server still holds a
  /// session of ours or wants us slower.
  bool long_wait = false;
  /// The link reported its end itself: nothing is left to close.
  bool link_gone = false;
};

/// Classifies a link's end: a 4xx upgrade is fatal (the request is wrong),
/// a 429 upgrade a long wait, a 5xx or a drop a plain retry.
connection_ending ending_of(const link_closed& x);

struct lifecycle_config {
  /// Names the owner in logs ("stream_session", "trading_session").
  const char* component = "session";
  std::string url;
  std::string fingerprint;
  backoff_config backoff;
  /// The wait after a long-wait ending: starts here, doubles per repeat
  /// (jittered as `backoff`, drawn apart from it) up to `limit_backoff_max`;
  /// a successful connection (or the same stable run) starts it over.
  caf::timespan limit_backoff = std::chrono::seconds{1};
  caf::timespan limit_backoff_max = std::chrono::seconds{120};
  /// From the attempt to the first answer of the server.
  caf::timespan connect_timeout = std::chrono::seconds{15};
  /// Whether a breaker is asked before every attempt.
  bool guarded = false;
  /// Epochs start above this (a restarted session never repeats one).
  uint64_t first_epoch = 0;
};

/// What the lifecycle needs from the actor that owns it.
class lifecycle_host {
 public:
  virtual ~lifecycle_host() = default;
  virtual caf::actor_clock::time_point now() = 0;
  /// Tells the listeners.
  virtual void announce(const session_status& status) = 0;
  /// Opens a connection stamped with `epoch`.
  virtual std::unique_ptr<link> make_link(uint64_t epoch) = 0;
  /// Asks the breaker for a permit; the answer goes to `on_permit` or
  /// `on_permit_refused` with `generation`.
  virtual void ask_permit(uint64_t generation, const trace& cause) = 0;
  virtual void give_outcome(uint64_t permit, call_outcome outcome,
                            const trace& cause) = 0;
  /// A stage timer: its `generation` comes back to the owner's on_timeout.
  virtual void arm_timeout(caf::timespan after, uint64_t generation) = 0;
  /// The next attempt: `generation` comes back to `on_retry`.
  virtual void arm_retry(caf::timespan after, uint64_t generation) = 0;
};

class connection_lifecycle {
 public:
  connection_lifecycle(lifecycle_config cfg, lifecycle_host& host);

  const session_status& status() const {
    return status_;
  }
  session_status& status() {
    return status_;
  }
  session_state state() const {
    return status_.state;
  }
  /// The current connection (may be empty).
  link_slot& current() {
    return current_;
  }
  /// Whether an event stamped `epoch` is from the current connection.
  bool is_current(uint64_t epoch) const {
    return epoch == status_.epoch && static_cast<bool>(current_);
  }
  /// The flow of the current attempt (every attempt is caused by the
  /// session's root).
  const trace& attempt_trace() const {
    return attempt_;
  }
  const trace& root() const {
    return root_;
  }
  /// Stage timers armed before now are void once this changes.
  uint64_t generation() const {
    return generation_;
  }
  void invalidate_timers() {
    ++generation_;
  }
  const backoff_policy& backoff() const {
    return backoff_;
  }

  /// Logs the change once and tells the listeners; voids stage timers.
  void set_state(session_state to, const trace& cause,
                 const caf::error* err = nullptr);
  /// Records `err` as the last error without a state change.
  void note_error(const caf::error& err);
  /// Arms a stage timer for the current generation.
  void arm_stage(caf::timespan after);

  // -- the cycle --------------------------------------------------------------

  /// Starts an attempt: connecting, the connect timer, then the breaker's
  /// permit (if guarded) and the link.
  void begin_attempt();
  void on_permit(uint64_t generation, uint64_t permit);
  /// Returns false when the answer was for an attempt that is gone.
  bool on_permit_refused(uint64_t generation, const caf::error& err);
  /// The server accepted us: the breaker hears of a success, and the run
  /// that `note_run` measures starts now.
  void on_ready();
  /// Whether the current connection was accepted (on_ready) and has not
  /// ended: what ends it now may lose data.
  bool ready() const {
    return ready_at_.has_value();
  }
  /// Ends the current connection: fatal errors fail the session for good,
  /// everything else backs off (long waits on the limit schedule).
  void end(const connection_ending& how);
  /// Backs off for `delay` and tries again.
  void back_off(const caf::error& err, std::chrono::nanoseconds delay);
  /// Returns whether an attempt started.
  bool on_retry(uint64_t generation);
  /// Stops for good; returns whether a link is still closing (wait for its
  /// link_closed or the close timer, then quit).
  bool stop(caf::timespan close_timeout);
  /// Settles the breaker permit of the current attempt, if any.
  void report_outcome(call_outcome outcome);

 private:
  bool stale(uint64_t generation) const;
  void open_link();

  lifecycle_config cfg_;
  lifecycle_host& host_;
  backoff_policy backoff_;
  backoff_policy limit_backoff_;
  link_slot current_;
  session_status status_;
  trace root_ = trace::root();
  trace attempt_;
  std::optional<uint64_t> permit_;
  uint64_t generation_ = 0;
  /// Set while a connection is ready; the start of its run.
  std::optional<caf::actor_clock::time_point> ready_at_;
};

} // namespace athanor
