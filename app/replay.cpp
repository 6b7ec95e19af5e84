#include "app/replay.hpp"

#include <atomic>
#include <cstdio>
#include <set>
#include <thread>

#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "app/printers.hpp"
#include "app/process.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"
#include "protocol/market_data.hpp"
#include "runtime/runtime_start.hpp"
#include "runtime/system_config.hpp"
#include "tape/tape_file.hpp"

namespace athanor {

namespace {

// The symbols and channels the recorded session subscribed to, from its
// subscribe messages.
void recorded_topics(const std::vector<tape_connection>& connections,
                     std::vector<std::string>& symbols,
                     std::vector<channel>& channels) {
  std::set<std::string> seen_symbols;
  std::set<channel> seen_channels;
  for (auto& c : connections) {
    for (auto& x : c.events) {
      if (x.kind != tape_kind::outbound)
        continue;
      protocol::client_message msg;
      protocol::decode_problem problem;
      auto codec = x.binary ? protocol::codec::msgpack : protocol::codec::json;
      if (!protocol::decode_client_message(codec, x.data, msg, problem)
          || msg.action != protocol::client_message::subscribe)
        continue;
      for (auto ch : all_channels)
        for (auto& symbol : msg.channels[ch]) {
          // Corrections and cancel errors come with trades unasked.
          if (ch == channel::corrections || ch == channel::cancel_errors)
            continue;
          seen_channels.insert(ch);
          seen_symbols.insert(symbol);
        }
    }
  }
  symbols.assign(seen_symbols.begin(), seen_symbols.end());
  channels.assign(seen_channels.begin(), seen_channels.end());
}

// A replay neither waits out backoffs nor serves listeners that a live
// engine on this machine may hold. Played fast, the tape outruns any
// printer: the registry then hands every batch on rather than conflating
// quotes for a subscriber behind (the tape is in memory already, so this
// bounds nothing that was not bounded).
engine_config replay_config(engine_config cfg) {
  cfg.registry.max_in_flight = 1'000'000'000;
  cfg.reconnect.initial = std::chrono::nanoseconds{0};
  cfg.reconnect.max = std::chrono::milliseconds{1};
  cfg.stream.limit_backoff = std::chrono::milliseconds{1};
  cfg.stream.limit_backoff_max = std::chrono::milliseconds{1};
  cfg.gateway = credentials{};
  cfg.remote.publish.clear();
  cfg.record.file.clear();
  return cfg;
}

// Everything the registry routed has reached the printer: its queues are
// empty, and a message sent to the printer now comes after every batch.
void drain(runtime& rt, const caf::actor& printer) {
  for (int quiet = 0, tries = 0; quiet < 2 && tries < 600; ++tries) {
    auto samples = rt.metrics();
    double queued = 0;
    if (samples)
      for (auto& x : *samples)
        if (x.name == "athanor_registry_queued_bytes")
          queued += x.value;
    quiet = samples && queued == 0 ? quiet + 1 : 0;
    // The main thread, not an actor: it may wait.
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  caf::scoped_actor self{rt.system()};
  self->request(printer, std::chrono::seconds{10}, flush_atom::value)
    .receive([] {}, [](caf::error&) {});
}

} // namespace

std::vector<config_problem>
take_replay_options(std::vector<std::string>& args, replay_request& out) {
  std::vector<config_problem> problems;
  std::vector<std::string> rest;
  for (size_t i = 0; i < args.size(); ++i) {
    auto& arg = args[i];
    std::optional<std::string> value;
    if (arg == "--pace") {
      if (i + 1 < args.size())
        value = args[++i];
      else
        value = "";
    } else if (arg.rfind("--pace=", 0) == 0) {
      value = arg.substr(7);
    }
    if (!value) {
      rest.push_back(arg);
      continue;
    }
    if (*value == "fast")
      out.pace = replay_pace::fast;
    else if (*value == "recorded")
      out.pace = replay_pace::recorded;
    else
      problems.push_back({"--pace", "'" + *value
                                      + "' is not a pace (fast or "
                                        "recorded)"});
  }
  args = std::move(rest);
  auto more = take_run_options(args, out.output);
  problems.insert(problems.end(), more.begin(), more.end());
  if (!out.output.publish.empty())
    problems.push_back({"--publish", "replay does not publish"});
  if (!out.output.record.empty())
    problems.push_back({"--record", "replay does not record"});
  if (!out.output.backfill.empty())
    problems.push_back({"--backfill", "a tape has no history to fetch"});
  return problems;
}

int replay_command(const loaded_config& loaded, const replay_request& request) {
  log::configure(loaded.config.logging);
  auto signals = block_stop_signals();
  auto tape = load_tape_files(loaded.arguments);
  if (tape.problem)
    std::fprintf(stderr, "athanor: %s%s\n", tape.problem->c_str(),
                 tape.events.empty()
                   ? ""
                   : ("; replaying the " + std::to_string(tape.events.size())
                      + " events before it")
                       .c_str());
  auto connections = connections_of(tape.events);
  if (connections.empty()) {
    if (!tape.problem)
      std::fprintf(stderr, "athanor: no market-data connection on the tape\n");
    return exit_status::data;
  }
  auto effective = loaded;
  effective.config = replay_config(loaded.config);
  auto output = request.output;
  std::vector<std::string> symbols;
  std::vector<channel> channels;
  recorded_topics(connections, symbols, channels);
  if (!output.symbols_given && !symbols.empty())
    output.symbols = std::move(symbols);
  if (!output.channels_given && !channels.empty())
    output.channels = std::move(channels);
  auto url = connections.front().events.front().data;
  auto encoding = connections.front().events.front().msgpack
                    ? protocol::codec::msgpack
                    : protocol::codec::json;
  effective.config.stream.encoding = encoding;
  system_config sys_cfg{effective};
  if (!sys_cfg.problem.empty()) {
    std::fprintf(stderr, "athanor: %s\n", sys_cfg.problem.c_str());
    return exit_status::config;
  }
  // Before the system: the printer and the players point here.
  run_outcome outcome;
  std::atomic<bool> tape_over{false};
  caf::actor_system sys{sys_cfg};
  tape_link_options opts;
  opts.pace = request.pace;
  opts.max_in_flight = effective.config.stream.max_in_flight_frames;
  opts.on_end = [&tape_over] { tape_over = true; };
  runtime_hooks hooks;
  hooks.market_links = make_tape_link_factory(sys, std::move(connections),
                                              std::move(opts));
  hooks.market_url = url;
  auto rt = start_runtime(sys, effective, false, std::move(hooks));
  if (!rt) {
    std::fprintf(stderr, "athanor: cannot start: %s\n",
                 render(rt.error()).c_str());
    return exit_status::software;
  }
  bool view = !output.json && isatty(STDOUT_FILENO) == 1;
  caf::actor printer;
  if (view) {
    live_view_options view_opts;
    view_opts.channels = output.channels;
    view_opts.notices.push_back("replaying " + loaded.arguments.front());
    printer = sys.spawn(terminal_view, &outcome, output.limit,
                        std::move(view_opts));
  } else {
    printer = sys.spawn(json_printer, &outcome, output.limit);
  }
  (*rt)->watch(caf::actor_cast<session_listener_actor>(printer));
  auto subscribed = (*rt)->subscribe(output.symbols, output.channels,
                                     caf::actor_cast<subscriber_actor>(printer),
                                     "run-output");
  if (!subscribed) {
    caf::anon_send_exit(printer, caf::exit_reason::user_shutdown);
    (*rt)->stop();
    return subscribe_failed(subscribed.error());
  }
  const timespec poll{0, 50'000'000};
  bool interrupted = false;
  while (!outcome.done && !tape_over) {
    auto sig = sigtimedwait(&signals, nullptr, &poll);
    if (sig == SIGINT || sig == SIGTERM) {
      log::info("engine", "signal",
                {{"signal", sig == SIGINT ? "SIGINT" : "SIGTERM"}});
      interrupted = true;
      break;
    }
  }
  if (tape_over && !outcome.done)
    drain(**rt, printer);
  (*rt)->stop();
  caf::anon_send_exit(printer, caf::exit_reason::user_shutdown);
  if (view)
    std::fputs("\n", stdout);
  auto code = outcome.report();
  if (interrupted || outcome.done)
    return code;
  return tape.problem ? exit_status::data : exit_status::ok;
}

} // namespace athanor
