#pragma once

// What a subscription holds (the public type is opaque): the runtime's
// local subscriptions and the remote ones (athanor/remote.hpp) share it.

#include <atomic>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/send.hpp"

#include "actors/market/callback_subscriber.hpp"
#include "athanor/runtime.hpp"

namespace athanor {

struct subscription::state {
  /// A subscription of a host actor at this engine: undone by
  /// unsubscribing and releasing the lease (the actor lives on).
  connection_supervisor_actor connections;
  lease granted;
  subscriber_actor subscriber;
  std::vector<topic> topics;
  /// A subscription at a registry of this process (remote_engine's): undone
  /// by unsubscribing there.
  registry_actor local_registry;
  /// Actors of ours serving the subscription (a callback subscriber, an
  /// attachment): ending them ends it.
  std::vector<caf::actor> owned;
  bool active = true;

  /// The state behind a subscription handle (a nested type may see it).
  static state& of(subscription& x) {
    return *x.state_;
  }

  void cancel() {
    if (!active)
      return;
    active = false;
    for (auto& x : owned)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    if (local_registry)
      caf::anon_send(local_registry, unsubscribe_atom::value, subscriber,
                     topics, trace::root());
    if (connections && granted.registry) {
      caf::anon_send(granted.registry, unsubscribe_atom::value, subscriber,
                     topics, trace::root());
      caf::anon_send(connections, release_atom::value, granted.id);
    }
  }
};

/// Runs host callbacks in a callback subscriber (named by the callbacks, or
/// "callback-N") and subscribes that with `subscribe_actor`
/// ((subscriber_actor, name) -> caf::expected<subscription>). The
/// subscription owns the actor: cancelling ends it. `made`, if given, learns
/// the actor.
/// Numbers callback subscribers across the process ("callback-N").
inline uint64_t next_callback_number() {
  static std::atomic<uint64_t> made_so_far{0};
  return ++made_so_far;
}

template <class SubscribeActor>
caf::expected<subscription>
subscribe_callbacks(caf::actor_system& sys, data_callbacks callbacks,
                    SubscribeActor subscribe_actor,
                    callback_subscriber_actor* made = nullptr) {
  auto name = callbacks.name.empty()
                ? "callback-" + std::to_string(next_callback_number())
                : std::move(callbacks.name);
  auto actor = spawn_callback_subscriber(
    sys, name, {std::move(callbacks.on_batch), std::move(callbacks.on_gap)});
  auto result = subscribe_actor(caf::actor_cast<subscriber_actor>(actor),
                                std::move(name));
  if (!result) {
    caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
    return result;
  }
  subscription::state::of(*result).owned.push_back(
    caf::actor_cast<caf::actor>(actor));
  if (made)
    *made = actor;
  return result;
}

/// Every channel of every symbol.
inline std::vector<topic> topics_of(const std::vector<std::string>& symbols,
                                    const std::vector<channel>& channels) {
  std::vector<topic> result;
  for (auto ch : channels)
    for (auto& symbol : symbols)
      result.push_back({ch, symbol});
  return result;
}

} // namespace athanor
