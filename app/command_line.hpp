#pragma once

// What each subcommand accepts: its usage for `athanor COMMAND --help`, and
// the problems of an invocation that the option tables cannot see (a flag
// no command knows, arguments it does not take), each with a hint.

#include <string>
#include <vector>

#include "runtime/config.hpp"

namespace athanor {

/// The subcommand of `args`: the first argument that is not an option
/// ("" if none), so options may come before it.
std::string subcommand_of(const std::vector<std::string>& args);

/// The usage of one command, or "" if there is no such command.
std::string command_help(const std::string& command);

/// Unknown options (with the nearest known flag) and stray arguments.
std::vector<config_problem> usage_problems(const loaded_config& loaded);

} // namespace athanor
