#include "app/command_line.hpp"

#include <map>
#include <set>

#include "runtime/config_file.hpp"

namespace athanor {

namespace {

struct command_spec {
  std::string usage;
  /// Its own flags; a trailing '=' marks one that takes a value, which may
  /// also follow as the next argument.
  std::vector<std::string> flags;
  /// Takes positional arguments (its own parser checks them).
  bool takes_arguments;
};

const std::map<std::string, command_spec>& commands() {
  static const std::map<std::string, command_spec> table{
    {"run",
     {"usage: athanor run [--symbols A,B] [--channels quotes,trades,bars]\n"
      "                   [--limit N] [--json] [--publish HOST:PORT]\n"
      "                   [--record FILE] [--backfill trades,bars]\n\n"
      "Streams market data: a live view on a terminal, else one JSON line\n"
      "per record (Alpaca's shape) on stdout; without credentials from a\n"
      "built-in simulator. Also serves the admin endpoint, the gateway (with\n"
      "ATHANOR_GATEWAY_KEY/SECRET) and, with --publish, other processes over\n"
      "BASP.\n\n"
      "  --symbols A,B     symbols to stream [AAPL,MSFT,SPY]\n"
      "  --channels X,Y    trades, quotes, bars, updated_bars, daily_bars,\n"
      "                    statuses, lulds, imbalances, orderbooks\n"
      "                    [quotes,trades]\n"
      "  --limit N         stop after N records (0: never) [0]\n"
      "  --json            JSON lines even on a terminal\n"
      "  --publish H:P     serve other processes (athanor attach, execute\n"
      "                    --engine) on H:P\n"
      "  --record FILE     record every market-data frame to FILE (a tape\n"
      "                    for athanor replay; athanor.record.* rotates it)\n"
      "  --backfill X,Y    after a reconnect or restart, fetch what the gap\n"
      "                    missed on these channels (trades, bars) from the\n"
      "                    market-data API and print it (\"backfill\":true),\n"
      "                    then a backfilled (or backfill_failed) gap line\n",
      {"--symbols=", "--channels=", "--limit=", "--json", "--publish=",
       "--record=", "--backfill="},
      false}},
    {"replay",
     {"usage: athanor replay FILE [FILE...] [--pace fast|recorded]\n"
      "                      [--symbols A,B] [--channels ...] [--limit N]\n"
      "                      [--json]\n\n"
      "Plays a tape recorded with run --record through the same session,\n"
      "registry and output as run: the same records and gap lines. Rotated\n"
      "files replay in order (FILE.2 FILE.1 FILE). A damaged tape is\n"
      "replayed up to the damage, named by byte offset; exit 65 then.\n\n"
      "  --pace P          fast (as fast as the engine takes it) or\n"
      "                    recorded (the recorded time between frames)\n"
      "                    [fast]\n"
      "  --symbols, --channels  as for run [what the tape subscribed to]\n"
      "  --limit N, --json      as for run\n",
      {"--pace=", "--symbols=", "--channels=", "--limit=", "--json"},
      true}},
    {"attach",
     {"usage: athanor attach HOST:PORT [--symbols A,B] [--channels ...]\n"
      "                      [--limit N] [--json]\n\n"
      "Prints the records of an engine published elsewhere (run --publish),\n"
      "re-attaching when it restarts; a gap line marks what may be missing.\n"
      "Flags as for run.\n",
      {"--symbols=", "--channels=", "--limit=", "--json"},
      true}},
    {"execute",
     {"usage: athanor execute PLAN.json [--json] [--engine HOST:PORT]\n"
      "                       [--dry-run]\n\n"
      "Executes a rebalance plan exactly once and prints a result per item;\n"
      "the same plan_id again prints the recorded result. Without\n"
      "credentials on a built-in simulator.\n\n"
      "  --json            the result as one JSON object\n"
      "  --engine H:P      on a running engine published with run --publish\n"
      "  --dry-run         check the plan against the account and print what\n"
      "                    would be sent, placing nothing\n",
      {"--json", "--engine=", "--dry-run"},
      true}},
    {"check-config",
     {"usage: athanor check-config\n\n"
      "Validates configuration and environment and prints the effective\n"
      "configuration (secrets as fingerprints); exit 78 on any problem.\n",
      {},
      false}},
  };
  return table;
}

const std::vector<std::string> every_command_flags{"--config-file=", "--help",
                                                   "--version"};

std::string name_of(const std::string& flag) {
  return flag.back() == '=' ? flag.substr(0, flag.size() - 1) : flag;
}

} // namespace

std::string subcommand_of(const std::vector<std::string>& args) {
  // Flags whose value may follow as the next argument (`--limit 2`): that
  // value is not the command.
  static const std::set<std::string> with_value = [] {
    std::set<std::string> result;
    auto add = [&](const std::vector<std::string>& flags) {
      for (auto& flag : flags)
        if (flag.back() == '=')
          result.insert(name_of(flag));
    };
    add(every_command_flags);
    for (auto& [name, spec] : commands())
      add(spec.flags);
    return result;
  }();
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind("-", 0) != 0)
      return args[i];
    if (with_value.count(args[i]) > 0)
      ++i;
  }
  return {};
}

std::string command_help(const std::string& command) {
  auto i = commands().find(command);
  if (i == commands().end())
    return {};
  return i->second.usage
         + "\nEvery command also takes --config-file=PATH and\n"
           "--athanor.OPTION=VALUE; `athanor --help` lists every option.\n";
}

std::vector<config_problem> usage_problems(const loaded_config& loaded) {
  std::vector<config_problem> problems;
  auto spec = commands().find(loaded.subcommand);
  std::vector<std::string> flags;
  for (auto& flag : every_command_flags)
    flags.push_back(name_of(flag));
  if (spec != commands().end())
    for (auto& flag : spec->second.flags)
      flags.push_back(name_of(flag));
  for (auto& arg : loaded.caf_arguments) {
    auto name = arg.substr(0, arg.find('='));
    if (name.find('.') != std::string::npos)
      continue; // CAF's own options; load_config checks those
    auto near = nearest_name(name, flags);
    problems.push_back(
      {name, "unknown option"
               + (near.empty() ? std::string{} : " (did you mean " + near + "?)")
               + (spec == commands().end()
                    ? std::string{}
                    : "; see athanor " + loaded.subcommand + " --help")});
  }
  // After an unknown flag the next word is likely its value, not a stray.
  if (problems.empty() && spec != commands().end()
      && !spec->second.takes_arguments && !loaded.arguments.empty())
    problems.push_back({loaded.arguments.front(),
                        loaded.subcommand + " takes no arguments (got '"
                          + loaded.arguments.front() + "')"});
  return problems;
}

} // namespace athanor
