// The athanor engine binary: subcommands over one configuration.

#include <iostream>
#include <string>
#include <vector>

#include "caf/config.hpp"

#include "app/command_line.hpp"
#include "app/execute.hpp"
#include "app/process.hpp"
#include "app/replay.hpp"
#include "app/run.hpp"
#include "observability/log.hpp"
#include "runtime/config.hpp"

namespace {

constexpr int exit_usage = 64;

std::string version_line() {
  return std::string{"athanor "} + ATHANOR_VERSION + " (CAF "
         + std::to_string(CAF_VERSION / 10000) + "."
         + std::to_string(CAF_VERSION / 100 % 100) + "."
         + std::to_string(CAF_VERSION % 100) + ")";
}

int report_problems(const athanor::loaded_config& loaded) {
  std::cerr << "athanor: invalid configuration (" << loaded.problems.size()
            << " problem" << (loaded.problems.size() == 1 ? "" : "s") << "):\n";
  for (auto& problem : loaded.problems)
    std::cerr << "  " << athanor::to_string(problem) << "\n";
  return athanor::exit_status::config;
}

int check_config(const athanor::loaded_config& loaded) {
  if (!loaded.problems.empty())
    return report_problems(loaded);
  auto& cfg = loaded.config;
  athanor::log::configure(cfg.logging);
  if (cfg.uses_simulator())
    athanor::log::info("engine", "no_credentials",
                       {{"detail", "ALPACA_API_KEY and ALPACA_API_SECRET are "
                                   "unset; using the built-in simulator"}});
  else
    athanor::log::info("engine", "credentials",
                       {{"key_fingerprint", cfg.alpaca.fingerprint()},
                        {"source", loaded.alpaca_source}});
  std::cout << athanor::render_ini(cfg);
  return athanor::exit_status::ok;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args{argv + 1, argv + argc};
  for (auto& arg : args) {
    if (arg == "--version" || arg == "version") {
      std::cout << version_line() << "\n";
      return athanor::exit_status::ok;
    }
  }
  athanor::run_request run;
  auto run_problems = std::vector<athanor::config_problem>{};
  athanor::execute_request execute;
  athanor::replay_request replay;
  // Options may come before the command: `athanor --json run`.
  auto command = athanor::subcommand_of(args);
  if (command == "run" || command == "attach")
    run_problems = athanor::take_run_options(args, run);
  if (command == "execute")
    run_problems = athanor::take_execute_options(args, execute);
  if (command == "replay")
    run_problems = athanor::take_replay_options(args, replay);
  auto loaded = athanor::load_config(args, athanor::process_environment());
  if (loaded.help_requested || loaded.subcommand == "help") {
    auto about = loaded.subcommand == "help" && !loaded.arguments.empty()
                   ? loaded.arguments.front()
                   : loaded.subcommand;
    auto text = athanor::command_help(about);
    std::cout << (text.empty() ? athanor::help_text() : text);
    return athanor::exit_status::ok;
  }
  loaded.problems.insert(loaded.problems.end(), run_problems.begin(),
                         run_problems.end());
  auto usage = athanor::usage_problems(loaded);
  loaded.problems.insert(loaded.problems.end(), usage.begin(), usage.end());
  if (loaded.subcommand == "check-config")
    return check_config(loaded);
  if (loaded.subcommand == "run") {
    if (!loaded.problems.empty())
      return report_problems(loaded);
    return athanor::run_command(loaded, run);
  }
  if (loaded.subcommand == "attach") {
    if (loaded.arguments.size() != 1 || !athanor::parse_host_port(loaded.arguments.front()))
      loaded.problems.push_back({"HOST:PORT", "attach takes the engine's "
                                              "address: athanor attach "
                                              "HOST:PORT [--symbols ...]"});
    if (!loaded.problems.empty())
      return report_problems(loaded);
    return athanor::attach_command(loaded, run);
  }
  if (loaded.subcommand == "replay") {
    if (loaded.arguments.empty())
      loaded.problems.push_back({"FILE", "replay takes the tape file(s): "
                                         "athanor replay FILE [FILE...]"});
    if (!loaded.problems.empty())
      return report_problems(loaded);
    return athanor::replay_command(loaded, replay);
  }
  if (loaded.subcommand == "execute") {
    auto more = athanor::take_plan_file(loaded, execute);
    loaded.problems.insert(loaded.problems.end(), more.begin(), more.end());
    if (!loaded.problems.empty())
      return report_problems(loaded);
    return athanor::execute_command(loaded, execute);
  }
  if (loaded.subcommand.empty())
    std::cerr << "athanor: no command given\n\n" << athanor::help_text();
  else
    std::cerr << "athanor: unknown command '" << loaded.subcommand << "'\n\n"
              << athanor::help_text();
  return exit_usage;
}
