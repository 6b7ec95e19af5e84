#pragma once

// The gateway's messages: what a local client's connection tells the
// gateway_client actor serving it.

#include <string>

#include "caf/meta/type_name.hpp"
#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "messages/atoms.hpp"
#include "messages/market.hpp"
#include "messages/stream.hpp"

namespace athanor {

/// Client -> actor: one frame.
struct gateway_frame {
  std::string data;
};

/// Client -> actor: the connection is gone.
struct gateway_closed {};

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, gateway_frame& x) {
  return f(caf::meta::type_name("athanor.gateway_frame"), x.data);
}

template<class Inspector>
typename Inspector::result_type inspect(Inspector& f, gateway_closed&) {
  return f(caf::meta::type_name("athanor.gateway_closed"));
}

using gateway_client_actor = caf::typed_actor<
  caf::reacts_to<gateway_frame>, caf::reacts_to<gateway_closed>,
  caf::reacts_to<batch>, caf::reacts_to<gap>,
  // Timer: the authentication window has passed.
  caf::reacts_to<timeout_atom>>;

} // namespace athanor
