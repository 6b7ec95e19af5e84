#pragma once

// Recording (athanor run --record, athanor.record.*): a link factory that
// wraps the real one and reports every event of its market-data links to a
// recorder actor, which writes them to a tape file (tape/tape_file.hpp).
// The recorder runs detached: a slow disk delays the tape, never the stream.
// Outbound auth messages reach the tape as fingerprints only.

#include <memory>
#include <string>

#include "caf/fwd.hpp"
#include "caf/typed_actor.hpp"

#include "actors/market/link.hpp"
#include "messages/atoms.hpp"
#include "messages/metrics.hpp"
#include "tape/tape_file.hpp"

namespace athanor {

using tape_recorder_actor = caf::typed_actor<
  caf::reacts_to<tape_event>,
  // Timer: write what is buffered.
  caf::reacts_to<flush_atom>,
  // Writes what it has (messages sent before this one included) and exits.
  caf::reacts_to<shutdown_atom>,
  caf::replies_to<metrics_atom>::with<metric_samples>>;

/// Spawns a recorder writing to `opts.path`; an error naming the file if it
/// cannot be created. It writes until it exits (buffered data is written
/// then).
caf::expected<tape_recorder_actor>
spawn_tape_recorder(caf::actor_system& sys, tape_file_options opts);

/// Returns a factory opening `inner`'s links with every market-data link's
/// events also sent to `recorder` (trading links are not recorded).
std::shared_ptr<link_factory>
make_recording_link_factory(std::shared_ptr<link_factory> inner,
                            tape_recorder_actor recorder);

} // namespace athanor
