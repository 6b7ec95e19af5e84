#include "actors/gateway/gateway_client.hpp"

#include <algorithm>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"
#include "protocol/gateway.hpp"

namespace athanor {

namespace {

std::vector<topic> topics_of(const subscription_set& x) {
  std::vector<topic> result;
  for (auto ch : all_channels)
    for (auto& symbol : x[ch])
      result.push_back({ch, symbol});
  return result;
}

subscription_set set_of(const std::vector<topic>& xs) {
  subscription_set result;
  for (auto& t : xs)
    result[t.kind].push_back(t.symbol);
  return result;
}

struct gateway_client_state {
  gateway_client_config cfg;
  bool authenticated = false;
  bool closed = false;
  /// Set once the upstream is leased.
  registry_actor registry;
  /// What the registry last said this client holds, sorted.
  std::vector<topic> held;
  trace root = trace::root();
  static inline const char* name = "athanor.gateway_client";
};

using client_pointer = gateway_client_actor::stateful_pointer<
  gateway_client_state>;

void send(client_pointer self, std::string frame) {
  if (!self->state.closed)
    self->state.cfg.link->send(std::move(frame));
}

void close_client(client_pointer self) {
  if (self->state.closed)
    return;
  self->state.closed = true;
  self->state.cfg.link->close();
  self->quit();
}

void refuse(client_pointer self, int code, const std::string& message) {
  send(self, protocol::encode_error(self->state.cfg.encoding, code, message));
}

// Subscribes (or unsubscribes) at the registry and answers with the
// client's whole subscription. `await` keeps the client's messages in
// order while the lease and the registry answer.
// How many of `topics` the client does not hold yet.
size_t new_topics(const std::vector<topic>& held,
                  const std::vector<topic>& topics) {
  size_t n = 0;
  for (auto& t : topics)
    if (!std::binary_search(held.begin(), held.end(), t))
      ++n;
  return n;
}

void change(client_pointer self, bool add, std::vector<topic> topics) {
  auto& st = self->state;
  if (add) {
    auto after = st.held.size() + new_topics(st.held, topics);
    if (after > st.cfg.max_topics) {
      log::write(log::level::warn, "gateway", "topic_limit", &st.root,
                 {{"peer", st.cfg.peer},
                  {"held", static_cast<uint64_t>(st.held.size())},
                  {"asked", static_cast<uint64_t>(topics.size())},
                  {"limit", static_cast<uint64_t>(st.cfg.max_topics)}});
      refuse(self, 405,
             "symbol limit exceeded: " + std::to_string(after)
               + " topics, at most "
               + std::to_string(st.cfg.max_topics)
               + " per client (athanor.gateway.max-topics-per-client)");
      return;
    }
  }
  auto cause = st.root.caused();
  auto apply = [self, add, topics, cause] {
    auto& st = self->state;
    auto me = caf::actor_cast<subscriber_actor>(self);
    auto answered = [self](std::vector<topic>& all) {
      auto& st = self->state;
      send(self, protocol::encode_subscription(st.cfg.encoding, set_of(all),
                                               st.cfg.crypto));
      if (!std::is_sorted(all.begin(), all.end()))
        std::sort(all.begin(), all.end());
      st.held = std::move(all);
    };
    auto failed = [self](caf::error& err) {
      log::write(log::level::warn, "gateway", "subscription_refused",
                 &self->state.root,
                 {{"peer", self->state.cfg.peer}, {"error", render(err)}});
      refuse(self, 410, "invalid subscribe action: " + detail_of(err));
    };
    if (add)
      self
        ->request(st.registry, std::chrono::seconds{10}, subscribe_atom::value,
                  me, topics, cause)
        .await(answered, failed);
    else
      self
        ->request(st.registry, std::chrono::seconds{10},
                  unsubscribe_atom::value, me, topics, cause)
        .await(answered, failed);
  };
  if (st.registry) {
    apply();
    return;
  }
  if (!add) {
    // Nothing leased, nothing subscribed.
    send(self, protocol::encode_subscription(st.cfg.encoding, {},
                                             st.cfg.crypto));
    return;
  }
  self
    ->request(st.cfg.connections, std::chrono::seconds{10}, lease_atom::value,
              st.cfg.upstream, caf::actor_cast<caf::actor>(self))
    .await(
      [self, apply](lease& granted) {
        self->state.registry = granted.registry;
        if (!self->state.cfg.label.empty())
          self->send(granted.registry, label_atom::value,
                     caf::actor_cast<subscriber_actor>(self),
                     self->state.cfg.label);
        apply();
      },
      [self](caf::error& err) {
        log::write(log::level::error, "gateway", "lease_failed",
                   &self->state.root,
                   {{"peer", self->state.cfg.peer},
                    {"upstream", self->state.cfg.upstream},
                    {"error", render(err)}});
        refuse(self, 500, "upstream unavailable");
      });
}

void on_frame(client_pointer self, const std::string& data) {
  auto& st = self->state;
  protocol::client_message msg;
  protocol::decode_problem problem;
  if (!protocol::decode_client_message(st.cfg.encoding, data, msg, problem)) {
    refuse(self, 400, "invalid syntax");
    return;
  }
  if (msg.action == protocol::client_message::auth) {
    if (st.authenticated) {
      refuse(self, 403, "already authenticated");
      return;
    }
    if (msg.creds.key_id == st.cfg.accepted.key_id
        && msg.creds.secret_key == st.cfg.accepted.secret_key) {
      st.authenticated = true;
      log::write(log::level::info, "gateway", "authenticated", &st.root,
                 {{"peer", st.cfg.peer}});
      send(self, protocol::encode_success(st.cfg.encoding, "authenticated"));
      return;
    }
    log::write(log::level::warn, "gateway", "auth_failed", &st.root,
               {{"peer", st.cfg.peer},
                {"key", msg.creds.key_id.fingerprint()}});
    refuse(self, 402, "auth failed");
    st.cfg.link->login_failed();
    close_client(self);
    return;
  }
  if (!st.authenticated) {
    refuse(self, 401, "not authenticated");
    return;
  }
  change(self, msg.action == protocol::client_message::subscribe,
         topics_of(msg.channels));
}

gateway_client_actor::behavior_type
gateway_client_impl(client_pointer self, gateway_client_config cfg) {
  self->set_exception_handler(exception_to_exit_reason);
  self->state.cfg = std::move(cfg);
  log::write(log::level::info, "gateway", "client_connected",
             &self->state.root, {{"peer", self->state.cfg.peer}});
  send(self,
       protocol::encode_success(self->state.cfg.encoding, "connected"));
  // A connection that never logs in would hold its slot for good.
  self->delayed_send(self, self->state.cfg.auth_timeout, timeout_atom::value);
  return {
    [self](gateway_frame& x) { on_frame(self, x.data); },
    [self](timeout_atom) {
      auto& st = self->state;
      if (st.authenticated || st.closed)
        return;
      log::write(log::level::warn, "gateway", "auth_timeout", &st.root,
                 {{"peer", st.cfg.peer}});
      refuse(self, 404, "auth timeout");
      close_client(self);
    },
    [self](gateway_closed&) {
      log::write(log::level::info, "gateway", "client_closed",
                 &self->state.root, {{"peer", self->state.cfg.peer}});
      self->state.closed = true;
      self->quit();
    },
    [self](batch& x) {
      if (!x.empty())
        send(self, protocol::encode_batch(self->state.cfg.encoding, x));
    },
    [self](gap& x) {
      if (x.reason != gap_reason::refused) {
        send(self, protocol::encode_gap(self->state.cfg.encoding, x));
        return;
      }
      // What Alpaca itself would have answered this client's subscribe.
      std::string topics;
      for (auto& t : x.topics)
        topics += (topics.empty() ? "" : ", ") + to_string(t);
      refuse(self, 410, "invalid subscribe action for this feed: " + topics);
    },
  };
}

} // namespace

gateway_client_actor spawn_gateway_client(caf::actor_system& sys,
                                          gateway_client_config cfg) {
  return sys.spawn(gateway_client_impl, std::move(cfg));
}

} // namespace athanor
