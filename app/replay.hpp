#pragma once

// `athanor replay FILE...`: plays a tape recorded with `run --record`
// through the same session, registry and printer `run` uses, so the output
// is what the live run printed (same records, same gap lines).

#include <string>
#include <vector>

#include "actors/market/tape_link.hpp"
#include "app/run.hpp"

namespace athanor {

struct replay_request {
  run_request output;
  replay_pace pace = replay_pace::fast;
};

/// Takes replay's own option (--pace fast|recorded) out of `args`.
std::vector<config_problem>
take_replay_options(std::vector<std::string>& args, replay_request& out);

/// Replays the tape files `loaded.arguments` (in order); returns the exit
/// code: 0, or 65 when the tape is damaged (after replaying what came
/// before the damage).
int replay_command(const loaded_config& loaded, const replay_request& request);

} // namespace athanor
