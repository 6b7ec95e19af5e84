#include "messages/stream.hpp"

#include <tuple>

namespace athanor {

std::string to_string(session_state x) {
  switch (x) {
    case session_state::idle: return "idle";
    case session_state::connecting: return "connecting";
    case session_state::authenticating: return "authenticating";
    case session_state::subscribing: return "subscribing";
    case session_state::streaming: return "streaming";
    case session_state::backing_off: return "backing_off";
    case session_state::failed: return "failed";
    case session_state::stopped: return "stopped";
  }
  return "session_state(?)";
}

bool operator==(const topic& x, const topic& y) {
  return x.kind == y.kind && x.symbol == y.symbol;
}

bool operator<(const topic& x, const topic& y) {
  return std::tie(x.kind, x.symbol) < std::tie(y.kind, y.symbol);
}

std::string to_string(const topic& x) {
  return to_string(x.kind) + ":" + x.symbol;
}

std::string to_string(gap_reason x) {
  switch (x) {
    case gap_reason::reconnect: return "reconnect";
    case gap_reason::upstream_slow_client: return "upstream_slow_client";
    case gap_reason::silent_stream: return "silent_stream";
    case gap_reason::restart: return "restart";
    case gap_reason::slow_subscriber: return "slow_subscriber";
    case gap_reason::refused: return "refused";
    case gap_reason::backfilled: return "backfilled";
    case gap_reason::backfill_failed: return "backfill_failed";
  }
  return "gap_reason(?)";
}

bool operator==(const gap& x, const gap& y) {
  return x.reason == y.reason && x.topics == y.topics && x.since == y.since
         && x.epoch == y.epoch && x.dropped == y.dropped
         && x.detail == y.detail;
}

std::string to_string(link_end x) {
  switch (x) {
    case link_end::closed: return "closed";
    case link_end::bad_url: return "bad_url";
    case link_end::resolve_failed: return "resolve_failed";
    case link_end::connect_failed: return "connect_failed";
    case link_end::tls_failed: return "tls_failed";
    case link_end::certificate_invalid: return "certificate_invalid";
    case link_end::upgrade_rejected: return "upgrade_rejected";
    case link_end::rate_limited: return "rate_limited";
    case link_end::pong_timeout: return "pong_timeout";
    case link_end::connection_lost: return "connection_lost";
    case link_end::timeout: return "timeout";
  }
  return "link_end(?)";
}

bool operator==(const session_status& x, const session_status& y) {
  return x.endpoint == y.endpoint && x.fingerprint == y.fingerprint
         && x.state == y.state && x.epoch == y.epoch
         && x.last_error == y.last_error && x.last_errc == y.last_errc;
}

} // namespace athanor
