#pragma once

// Messages of the streaming path: what the transport tells a stream session,
// what the session tells the registry, what subscribers receive, and what the
// connection supervisor reports.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"
#include "caf/timestamp.hpp"

#include "messages/market.hpp"

namespace athanor {

/// Where a stream session is in its life.
enum class session_state : uint8_t {
  /// Created, nothing attempted yet.
  idle,
  /// Waiting for the breaker's permit, the TCP/TLS connection and the
  /// server's welcome.
  connecting,
  /// The auth message is out; waiting for "authenticated".
  authenticating,
  /// Authenticated; waiting for the ack of the full subscription set.
  subscribing,
  /// Authenticated, subscribed, data flowing.
  streaming,
  /// The last attempt failed; the next one waits for its backoff delay.
  backing_off,
  /// A fatal error (bad key, plan lacks the feed, upgrade refused): no retry.
  failed,
  /// Closed on purpose.
  stopped,
};

std::string to_string(session_state x);

/// One subscribable stream: a channel of one symbol, or of every symbol
/// ("*").
struct topic {
  channel kind = channel::trades;
  std::string symbol;
};

bool operator==(const topic& x, const topic& y);
bool operator<(const topic& x, const topic& y);

/// Renders "quotes:AAPL".
std::string to_string(const topic& x);

/// Why data may be missing.
enum class gap_reason : uint8_t {
  /// The upstream connection ended and a new one took over.
  reconnect,
  /// The server reported us too slow (error 407) and may have dropped data.
  upstream_slow_client,
  /// No data for the subscribed symbols for too long; the session
  /// reconnected.
  silent_stream,
  /// The session was restarted after a crash.
  restart,
  /// This subscriber fell behind and records meant for it were dropped.
  slow_subscriber,
  /// The server refused these topics: no data will come for them until
  /// they are subscribed again (the subscription no longer holds them).
  refused,
  /// Not a loss: the records missed for `topics` since `since` were fetched
  /// and delivered (marked backfill) just before this marker.
  backfilled,
  /// The repair of a gap failed (`detail` says why); what it missed stays
  /// missing.
  backfill_failed,
};

std::string to_string(gap_reason x);

/// Tells a subscriber that data for `topics` may be missing between `since`
/// and the next record it receives, so silence is never mistaken for calm.
struct gap {
  gap_reason reason = gap_reason::reconnect;
  /// The subscriber's affected topics.
  std::vector<topic> topics;
  /// Receive time (wall clock, ns) of the last data before the gap; zero if
  /// none had arrived.
  timestamp_ns since = 0;
  /// The connection epoch in effect when the gap was detected.
  uint64_t epoch = 0;
  /// Records known to be dropped (slow_subscriber); zero when unknown.
  /// backfilled: the records delivered.
  uint64_t dropped = 0;
  /// backfill_failed: why.
  std::string detail;
};

bool operator==(const gap& x, const gap& y);

/// A server control record: welcome, authentication result, error,
/// subscription ack.
struct stream_control {
  enum kind_t : uint8_t { success, error, subscription };
  kind_t kind = success;
  /// success: "connected" or "authenticated"; error: the server's text.
  std::string message;
  /// error only: Alpaca's code (400-411, 500, or any other).
  int code = 0;
  /// subscription only: the server's full current set.
  subscription_set subscriptions;
};

/// Why an upstream connection ended (mirrors transport::ws_end).
enum class link_end : uint8_t {
  closed,
  bad_url,
  resolve_failed,
  connect_failed,
  tls_failed,
  certificate_invalid,
  upgrade_rejected,
  rate_limited,
  pong_timeout,
  connection_lost,
  timeout,
};

std::string to_string(link_end x);

/// Transport -> session: the WebSocket upgrade of connection `epoch`
/// succeeded.
struct link_opened {
  uint64_t epoch = 0;
};

/// Transport -> session: one frame of connection `epoch`, decoded on the
/// I/O thread. Every frame must be acknowledged to the link.
struct link_frame {
  uint64_t epoch = 0;
  batch data;
  std::vector<stream_control> controls;
  /// Rendered problems of rejected records (the rest of the frame is kept).
  std::vector<std::string> rejected;
  /// Set when the frame as a whole did not decode; nothing of it is applied.
  std::string malformed;
  uint32_t unknown_types = 0;
  uint32_t unknown_fields = 0;
};

/// Transport -> session: connection `epoch` ended; sent exactly once.
struct link_closed {
  uint64_t epoch = 0;
  link_end reason = link_end::closed;
  int http_status = 0;
  uint16_t close_code = 0;
  std::string detail;
};

/// A session's state as its supervisor and health output see it. Carries
/// the key's fingerprint, never the key.
struct session_status {
  std::string endpoint;
  std::string fingerprint;
  session_state state = session_state::idle;
  uint64_t epoch = 0;
  /// The rendered error that caused the last failure; empty if none.
  std::string last_error;
  /// The engine_errc of that error, as its name; empty if none.
  std::string last_errc;
};

bool operator==(const session_status& x, const session_status& y);

/// One upstream connection as the connection supervisor's health output
/// shows it; fingerprints only.
struct upstream_health {
  /// The configured name(s) leasing this connection, e.g. "market".
  std::string name;
  std::string endpoint;
  std::string fingerprint;
  session_state state = session_state::idle;
  uint64_t epoch = 0;
  uint32_t leases = 0;
  uint32_t restarts = 0;
  std::string last_error;
  std::string last_errc;
};

/// Counters of one session.
struct session_counters {
  uint64_t connects = 0;
  uint64_t disconnects = 0;
  uint64_t frames = 0;
  uint64_t records = 0;
  uint64_t malformed_frames = 0;
  uint64_t rejected_records = 0;
  uint64_t unknown_records = 0;
  uint64_t server_errors = 0;
  uint64_t subscription_changes = 0;
  uint64_t ack_timeouts = 0;
  /// Topics the server refused on their own (kept out of the connection).
  uint64_t refused_topics = 0;
  uint64_t watchdog_trips = 0;
  uint64_t gaps = 0;
  uint64_t breaker_refusals = 0;
};

/// The answer to a session's state query.
struct session_snapshot {
  session_status status;
  /// What the registry wants.
  subscription_set desired;
  /// What the server last confirmed.
  subscription_set confirmed;
  /// Whether a subscription change awaits the server's ack.
  bool change_pending = false;
  /// Delays handed out since the last stable run.
  uint32_t backoff_attempts = 0;
  session_counters counters;
};

/// Counters and gauges of one subscriber, as the registry keeps them.
struct subscriber_stats {
  /// The subscriber's actor id (stable for its life).
  uint64_t id = 0;
  std::string name;
  std::vector<topic> topics;
  uint32_t in_flight = 0;
  uint64_t queued_records = 0;
  uint64_t delivered_batches = 0;
  uint64_t delivered_records = 0;
  uint64_t conflated_quotes = 0;
  uint64_t dropped_records = 0;
  uint64_t gaps = 0;
};

/// The answer to a registry's state query.
struct registry_stats {
  std::vector<subscriber_stats> subscribers;
  subscription_set desired;
  uint64_t batches_in = 0;
  uint64_t records_in = 0;
  uint64_t stale_batches = 0;
  uint64_t subscribers_lost = 0;
};

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, topic& x) {
  return f(caf::meta::type_name("athanor.topic"), x.kind, x.symbol);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, gap& x) {
  return f(caf::meta::type_name("athanor.gap"), x.reason, x.topics, x.since,
           x.epoch, x.dropped, x.detail);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, stream_control& x) {
  return f(caf::meta::type_name("athanor.stream_control"), x.kind, x.message,
           x.code, x.subscriptions);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, link_opened& x) {
  return f(caf::meta::type_name("athanor.link_opened"), x.epoch);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, link_frame& x) {
  return f(caf::meta::type_name("athanor.link_frame"), x.epoch, x.data,
           x.controls, x.rejected, x.malformed, x.unknown_types,
           x.unknown_fields);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, link_closed& x) {
  return f(caf::meta::type_name("athanor.link_closed"), x.epoch, x.reason,
           x.http_status, x.close_code, x.detail);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_status& x) {
  return f(caf::meta::type_name("athanor.session_status"), x.endpoint,
           x.fingerprint, x.state, x.epoch, x.last_error, x.last_errc);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, upstream_health& x) {
  return f(caf::meta::type_name("athanor.upstream_health"), x.name, x.endpoint,
           x.fingerprint, x.state, x.epoch, x.leases, x.restarts, x.last_error,
           x.last_errc);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_counters& x) {
  return f(caf::meta::type_name("athanor.session_counters"), x.connects,
           x.disconnects, x.frames, x.records, x.malformed_frames,
           x.rejected_records, x.unknown_records, x.server_errors,
           x.subscription_changes, x.ack_timeouts, x.refused_topics,
           x.watchdog_trips, x.gaps, x.breaker_refusals);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, session_snapshot& x) {
  return f(caf::meta::type_name("athanor.session_snapshot"), x.status,
           x.desired, x.confirmed, x.change_pending, x.backoff_attempts,
           x.counters);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, subscriber_stats& x) {
  return f(caf::meta::type_name("athanor.subscriber_stats"), x.id, x.name,
           x.topics, x.in_flight, x.queued_records, x.delivered_batches,
           x.delivered_records, x.conflated_quotes, x.dropped_records, x.gaps);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, registry_stats& x) {
  return f(caf::meta::type_name("athanor.registry_stats"), x.subscribers,
           x.desired, x.batches_in, x.records_in, x.stale_batches,
           x.subscribers_lost);
}

} // namespace athanor
