#include "actors/gateway/gateway_trading_client.hpp"

#include <algorithm>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "observability/log.hpp"
#include "protocol/trading.hpp"

namespace athanor {

namespace {

constexpr const char* trade_updates = "trade_updates";

struct trading_client_state {
  gateway_trading_client_config cfg;
  bool authenticated = false;
  /// The client asked for trade_updates.
  bool listening = false;
  /// Its `listening` answer waits for the upstream to stream.
  bool answer_pending = false;
  /// The engine's trading stream is authorised and listening.
  bool upstream_streaming = false;
  bool closed = false;
  uint64_t forwarded = 0;
  trace root = trace::root();
  static inline const char* name = "athanor.gateway_trading_client";
};

using client_pointer
  = gateway_trading_client_actor::stateful_pointer<trading_client_state>;

/// Sends a JSON message in the client's codec.
void send(client_pointer self, std::string json) {
  auto& st = self->state;
  if (st.closed)
    return;
  if (st.cfg.encoding == protocol::codec::msgpack)
    st.cfg.link->send(protocol::json_to_msgpack(json));
  else
    st.cfg.link->send(std::move(json));
}

void close_client(client_pointer self) {
  auto& st = self->state;
  if (st.closed)
    return;
  st.closed = true;
  st.cfg.link->close();
  self->quit();
}

void answer_listen(client_pointer self) {
  auto& st = self->state;
  st.answer_pending = false;
  send(self, protocol::encode_listening(
               st.listening ? std::vector<std::string>{trade_updates}
                            : std::vector<std::string>{}));
}

void on_listen(client_pointer self, const std::vector<std::string>& streams) {
  auto& st = self->state;
  auto wanted = std::find(streams.begin(), streams.end(), trade_updates)
                != streams.end();
  if (wanted && !st.listening) {
    st.listening = true;
    self->send(st.cfg.relay, listen_atom::value,
               caf::actor_cast<order_listener_actor>(self));
  } else if (!wanted && st.listening) {
    st.listening = false;
    self->send(st.cfg.relay, unsubscribe_atom::value,
               caf::actor_cast<order_listener_actor>(self));
  }
  // The relay answers a listen with the upstream's state; the client hears
  // "listening" once updates can reach it.
  if (st.listening && !st.upstream_streaming)
    st.answer_pending = true;
  else
    answer_listen(self);
}

void on_frame(client_pointer self, const std::string& data) {
  auto& st = self->state;
  protocol::trading_client_message msg;
  protocol::decode_problem problem;
  std::string json;
  auto decoded = st.cfg.encoding == protocol::codec::msgpack
                   ? protocol::client_msgpack_to_json(data, json, problem)
                       && protocol::decode_trading_client_message(json, msg,
                                                                  problem)
                   : protocol::decode_trading_client_message(data, msg,
                                                             problem);
  if (!decoded) {
    send(self, protocol::encode_trading_error("invalid message: "
                                              + to_string(problem)));
    return;
  }
  if (msg.action == protocol::trading_client_message::authenticate) {
    if (msg.creds.key_id == st.cfg.accepted.key_id
        && msg.creds.secret_key == st.cfg.accepted.secret_key) {
      st.authenticated = true;
      log::write(log::level::info, "gateway", "trading_authenticated",
                 &st.root, {{"peer", st.cfg.peer}});
      send(self, protocol::encode_authorization(true, "authenticate"));
      return;
    }
    log::write(log::level::warn, "gateway", "trading_auth_failed", &st.root,
               {{"peer", st.cfg.peer},
                {"key", msg.creds.key_id.fingerprint()}});
    send(self, protocol::encode_authorization(false, "authenticate"));
    close_client(self);
    return;
  }
  if (!st.authenticated) {
    send(self, protocol::encode_authorization(false, "listen"));
    return;
  }
  on_listen(self, msg.streams);
}

void on_upstream(client_pointer self, const session_status& x) {
  auto& st = self->state;
  auto was_streaming = st.upstream_streaming;
  st.upstream_streaming = x.state == session_state::streaming;
  if (st.upstream_streaming) {
    if (st.answer_pending)
      answer_listen(self);
    return;
  }
  // Updates may be lost from here on: say so the way Alpaca would, by
  // ending the connection, so the client reconnects and reconciles.
  if ((was_streaming || x.state == session_state::failed) && st.listening) {
    log::write(log::level::warn, "gateway", "trading_client_released",
               &st.root,
               {{"peer", st.cfg.peer},
                {"upstream_state", to_string(x.state)},
                {"forwarded", st.forwarded}});
    send(self, protocol::encode_trading_error(
                 "the engine's trading stream is " + to_string(x.state)
                 + "; reconnect and reconcile"));
    close_client(self);
  }
}

gateway_trading_client_actor::behavior_type
trading_client_impl(client_pointer self, gateway_trading_client_config cfg) {
  self->set_exception_handler(exception_to_exit_reason);
  self->state.cfg = std::move(cfg);
  log::write(log::level::info, "gateway", "trading_client_connected",
             &self->state.root, {{"peer", self->state.cfg.peer}});
  // A connection that never logs in would hold its slot for good.
  self->delayed_send(self, self->state.cfg.auth_timeout, timeout_atom::value);
  return {
    [self](gateway_frame& x) { on_frame(self, x.data); },
    [self](timeout_atom) {
      auto& st = self->state;
      if (st.authenticated || st.closed)
        return;
      log::write(log::level::warn, "gateway", "trading_auth_timeout",
                 &st.root, {{"peer", st.cfg.peer}});
      send(self, protocol::encode_authorization(false, "authenticate"));
      close_client(self);
    },
    [self](gateway_closed&) {
      log::write(log::level::info, "gateway", "trading_client_closed",
                 &self->state.root,
                 {{"peer", self->state.cfg.peer},
                  {"forwarded", self->state.forwarded}});
      self->state.closed = true;
      self->quit();
    },
    [self](order_update& x) {
      if (!self->state.listening)
        return;
      ++self->state.forwarded;
      send(self, protocol::forwardable_trade_update(x));
    },
    [self](session_status& x) { on_upstream(self, x); },
  };
}

} // namespace

gateway_trading_client_actor
spawn_gateway_trading_client(caf::actor_system& sys,
                             gateway_trading_client_config cfg) {
  return sys.spawn(trading_client_impl, std::move(cfg));
}

} // namespace athanor
