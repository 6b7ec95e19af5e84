#pragma once

// What other processes see of an engine: one actor published over CAF's
// middleman (BASP), never a protocol of our own.

#include <string>
#include <vector>

#include "caf/replies_to.hpp"
#include "caf/typed_actor.hpp"

#include "messages/execution.hpp"
#include "messages/handles.hpp"

namespace athanor {

/// The engine's door for remote consumers and callers. A subscriber's
/// share ends when it unsubscribes from everything, dies, or its node goes
/// away (the engine monitors it across nodes).
using remote_front_actor = caf::typed_actor<
  // Leases the market data for `subscriber` and subscribes it to `topics`;
  // returns all of its topics.
  caf::replies_to<subscribe_atom, subscriber_actor,
                  std::vector<topic>>::with<std::vector<topic>>,
  caf::replies_to<unsubscribe_atom, subscriber_actor,
                  std::vector<topic>>::with<std::vector<topic>>,
  // Executes a plan on the engine's executor (exactly once per plan_id).
  caf::replies_to<execute_atom, plan, trace>::with<plan_result>,
  // A single-use challenge for the proof below.
  caf::replies_to<challenge_atom>::with<std::string>,
  // The same with a certificate proof (an engine with
  // athanor.remote.execute-peers asks for one): the challenge, the
  // certificate (PEM) and its key's signature of
  // execute_gate::signed_text(challenge, plan_id), hex.
  caf::replies_to<execute_atom, plan, trace, std::string, std::string,
                  std::string>::with<plan_result>,
  caf::replies_to<caf::get_atom>::with<std::vector<upstream_health>>,
  caf::replies_to<metrics_atom>::with<metric_samples>>;

} // namespace athanor
