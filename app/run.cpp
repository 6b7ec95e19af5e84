#include "app/run.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

#include "app/printers.hpp"
#include "app/process.hpp"
#include "messages/error.hpp"
#include "messages/record_kinds.hpp"
#include "observability/log.hpp"
#include "protocol/market_data.hpp"
#include "runtime/runtime_start.hpp"

namespace athanor {

namespace {

// -- options ------------------------------------------------------------------

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> result;
  size_t start = 0;
  while (start <= text.size()) {
    auto comma = text.find(',', start);
    if (comma == std::string::npos)
      comma = text.size();
    result.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return result;
}

std::optional<channel> parse_channel(const std::string& name) {
  for (auto x : all_channels)
    if (to_string(x) == name || wire_name(x) == name)
      if (x != channel::corrections && x != channel::cancel_errors)
        return x;
  return std::nullopt;
}

bool valid_symbol(const std::string& x) {
  if (x.empty() || x.size() > 32)
    return false;
  if (x == "*")
    return true;
  for (auto c : x)
    if (!(std::isupper(static_cast<unsigned char>(c))
          || std::isdigit(static_cast<unsigned char>(c)) || c == '.'
          || c == '/' || c == '-'))
      return false;
  return true;
}

} // namespace

std::vector<config_problem> take_run_options(std::vector<std::string>& args,
                                             run_request& out) {
  std::vector<config_problem> problems;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    auto& arg = args[i];
    auto take = [&](const std::string& name) -> std::optional<std::string> {
      if (arg == name) {
        if (i + 1 >= args.size()) {
          problems.push_back({name, "needs a value"});
          return std::string{};
        }
        return args[++i];
      }
      if (arg.rfind(name + "=", 0) == 0)
        return arg.substr(name.size() + 1);
      return std::nullopt;
    };
    if (auto value = take("--symbols")) {
      out.symbols_given = true;
      out.symbols.clear();
      for (auto& symbol : split(*value)) {
        if (valid_symbol(symbol))
          out.symbols.push_back(symbol);
        else
          problems.push_back(
            {"--symbols", "'" + symbol
                            + "' is not a symbol (A-Z, 0-9, '.', '/', '-', "
                              "or '*')"});
      }
    } else if (auto value = take("--channels")) {
      out.channels_given = true;
      out.channels.clear();
      for (auto& name : split(*value)) {
        if (auto ch = parse_channel(name))
          out.channels.push_back(*ch);
        else
          problems.push_back(
            {"--channels", "'" + name
                             + "' is not a channel (trades, quotes, bars, "
                               "updated_bars, daily_bars, statuses, lulds, "
                               "imbalances, orderbooks)"});
      }
    } else if (auto value = take("--limit")) {
      // Digits only: stoull would read "-1" as 2^64 - 1, a run that never
      // ends.
      try {
        if (value->empty()
            || value->find_first_not_of("0123456789") != std::string::npos)
          throw std::invalid_argument("not digits");
        out.limit = std::stoull(*value);
      } catch (const std::exception&) {
        problems.push_back({"--limit", "'" + *value
                                         + "' is not a count (0 or more; 0: "
                                           "no limit)"});
      }
    } else if (auto value = take("--publish")) {
      if (parse_host_port(*value))
        out.publish = *value;
      else
        problems.push_back({"--publish", "'" + *value
                                           + "' is not HOST:PORT (port 0: "
                                             "any free port)"});
    } else if (auto value = take("--backfill")) {
      out.backfill.clear();
      for (auto& name : split(*value)) {
        auto ch = parse_channel(name);
        if (ch && (*ch == channel::trades || *ch == channel::bars))
          out.backfill.push_back(*ch);
        else
          problems.push_back({"--backfill",
                              "'" + name
                                + "' cannot be backfilled (trades, bars)"});
      }
    } else if (auto value = take("--record")) {
      if (value->empty())
        problems.push_back({"--record", "needs a file name"});
      else
        out.record = *value;
    } else if (arg == "--json") {
      out.json = true;
    } else {
      rest.push_back(arg);
    }
  }
  args = std::move(rest);
  return problems;
}

int subscribe_failed(const caf::error& err) {
  // A topic the feed does not offer is the command line's fault.
  bool refused = errc_of(err) == engine_errc::invalid_subscription;
  std::fprintf(stderr, "athanor: %scannot subscribe: %s\n",
               refused ? "--channels: " : "", render(err).c_str());
  return refused ? exit_status::config : exit_status::software;
}

int run_command(const loaded_config& loaded, const run_request& request) {
  log::configure(loaded.config.logging);
  // Signals go to the main thread's sigtimedwait only: block them before any
  // other thread starts, so every thread inherits the mask.
  auto signals = block_stop_signals();
  // Declared before the runtime (and its actor system): the printer points
  // at it until the system is gone.
  run_outcome outcome;
  auto effective = loaded;
  if (!request.record.empty())
    effective.config.record.file = request.record;
  if (!request.publish.empty()) {
    effective.config.remote.publish = request.publish;
    if (auto problems = listener_problems(effective.config);
        !problems.empty()) {
      for (auto& p : problems)
        std::fprintf(stderr, "athanor: %s%s\n",
                     p.option == "athanor.remote.publish" ? "--publish: "
                                                          : "",
                     to_string(p).c_str());
      return exit_status::config;
    }
  }
  auto rt = start_runtime(effective, true);
  if (!rt) {
    std::fprintf(stderr, "athanor: cannot start: %s\n",
                 render(rt.error()).c_str());
    switch (errc_of(rt.error()).value_or(engine_errc::server_error)) {
      case engine_errc::invalid_config: return exit_status::config;
      case engine_errc::journal_error: return exit_status::io;
      default: return exit_status::software;
    }
  }
  auto& sys = (*rt)->system();
  bool view = !request.json && isatty(STDOUT_FILENO) == 1;
  caf::actor printer;
  if (view) {
    // What the start logged, which the view's first redraw wipes.
    live_view_options opts;
    opts.channels = request.channels;
    if (effective.config.uses_simulator())
      opts.notices.push_back("streaming from the built-in simulator "
                             "(ALPACA_API_KEY and ALPACA_API_SECRET unset)");
    if (auto url = (*rt)->admin_url(); !url.empty())
      opts.notices.push_back("status page " + url + "/status, metrics "
                             + url + "/metrics");
    if (auto url = (*rt)->gateway_url(); !url.empty())
      opts.notices.push_back("gateway for Alpaca clients " + url);
    if (auto at = (*rt)->published_at(); !at.empty())
      opts.notices.push_back("published for `athanor attach " + at + "`");
    printer = sys.spawn(terminal_view, &outcome, request.limit,
                        std::move(opts));
  } else {
    printer = sys.spawn(json_printer, &outcome, request.limit);
  }
  (*rt)->watch(caf::actor_cast<session_listener_actor>(printer));
  auto subscribed = (*rt)->subscribe(
    request.symbols, request.channels,
    caf::actor_cast<subscriber_actor>(printer), "run-output",
    request.backfill);
  if (!subscribed) {
    caf::anon_send_exit(printer, caf::exit_reason::user_shutdown);
    (*rt)->stop();
    return subscribe_failed(subscribed.error());
  }
  outcome.wait(signals);
  (*rt)->stop();
  caf::anon_send_exit(printer, caf::exit_reason::user_shutdown);
  if (view)
    std::fputs("\n", stdout);
  return outcome.report();
}

} // namespace athanor
