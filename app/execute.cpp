#include "app/execute.hpp"

#include <csignal>
#include <cstdio>
#include <fstream>
#include <future>
#include <sstream>

#include "caf/actor_system.hpp"

#include "app/process.hpp"
#include "athanor/remote.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"
#include "protocol/plan.hpp"
#include "runtime/system_config.hpp"
#include "runtime/trading_desk.hpp"
#include "sim/simulator.hpp"

namespace athanor {

namespace {


std::string read_file(const std::string& path, bool& ok) {
  std::ifstream in{path, std::ios::binary};
  ok = static_cast<bool>(in);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string text_of(const decimal& x) {
  return x.is_null() ? "-" : to_string(x);
}

void print_table(const plan_result& r) {
  std::printf("plan %s (correlation %s)%s\n", r.plan_id.c_str(),
              r.correlation_id.c_str(),
              r.replayed ? " - executed before; recorded result" : "");
  std::printf("%-3s %-8s %-4s %-16s %-17s %12s %12s  %s\n", "#", "symbol",
              "side", "outcome", "status", "filled", "avg price",
              "client_order_id / reason");
  for (auto& item : r.items) {
    std::printf("%-3u %-8s %-4s %-16s %-17s %12s %12s  %s\n", item.index,
                item.symbol.c_str(), to_string(item.side).c_str(),
                to_string(item.outcome).c_str(),
                to_string(item.status).c_str(),
                text_of(item.filled_qty).c_str(),
                text_of(item.filled_avg_price).c_str(),
                (item.client_order_id
                 + (item.reason.empty() ? "" : " - " + item.reason))
                  .c_str());
  }
  std::printf("%s\n", r.succeeded() ? "every item filled"
                                    : "the plan did not fully succeed");
}

int exit_code_of(const caf::error& err) {
  switch (errc_of(err).value_or(engine_errc::server_error)) {
    case engine_errc::invalid_plan: return exit_status::data;
    case engine_errc::journal_error: return exit_status::io;
    case engine_errc::invalid_config: return exit_status::config;
    default: return exit_status::unavailable;
  }
}

// Waits (main thread) for the result or a signal; prints the result.
// Returns the exit code.
int print_when_done(std::future<caf::expected<plan_result>>& answer,
                    const sigset_t& signals, const execute_request& req,
                    const plan& spec) {
  const timespec poll{0, 100'000'000};
  for (;;) {
    if (answer.wait_for(std::chrono::seconds{0})
        == std::future_status::ready) {
      auto result = answer.get();
      if (!result) {
        std::fprintf(stderr, "athanor: plan '%s' not executed: %s\n",
                     spec.plan_id.c_str(), render(result.error()).c_str());
        return exit_code_of(result.error());
      }
      if (req.json)
        std::printf("%s\n", protocol::encode_plan_result(*result).c_str());
      else
        print_table(*result);
      return result->succeeded() ? exit_status::ok : exit_status::plan_failed;
    }
    auto sig = sigtimedwait(&signals, nullptr, &poll);
    if (sig == SIGINT || sig == SIGTERM) {
      log::warn("engine", "interrupted",
                {{"plan_id", spec.plan_id},
                 {"detail", req.engine.empty()
                              ? "the plan resumes from the journal at the "
                                "next start"
                              : "the engine goes on with the plan; ask "
                                "again for its result"}});
      return exit_status::interrupted;
    }
  }
}

// --engine HOST:PORT: the plan goes to a running engine's executor (over
// BASP), which owns the journal and the account's trading stream.
int execute_on_engine(const loaded_config& loaded, const execute_request& req,
                      const plan& spec, const sigset_t& signals) {
  system_config sys_cfg{loaded};
  if (!sys_cfg.problem.empty()) {
    std::fprintf(stderr, "athanor: %s\n", sys_cfg.problem.c_str());
    return exit_status::config;
  }
  caf::actor_system sys{sys_cfg};
  auto where = parse_host_port(req.engine);
  remote_options opts;
  opts.host = where->first;
  opts.port = where->second;
  opts.tls = loaded.config.remote.tls();
  log::info("engine", "remote_execute",
            {{"plan_id", spec.plan_id}, {"engine", req.engine}});
  auto answer = std::async(std::launch::async, [&sys, opts, spec] {
    return execute_remote(sys, opts, spec, std::chrono::hours{24});
  });
  auto code = print_when_done(answer, signals, req, spec);
  if (code == exit_status::interrupted) {
    // The helper may wait for the engine's answer for hours, and the actor
    // system would wait for it: leave now; the plan is the engine's.
    std::fflush(nullptr);
    std::_Exit(code);
  }
  return code;
}

} // namespace

std::vector<config_problem>
take_execute_options(std::vector<std::string>& args, execute_request& out) {
  std::vector<std::string> rest;
  std::vector<config_problem> problems;
  for (size_t i = 0; i < args.size(); ++i) {
    auto& arg = args[i];
    if (arg == "--json") {
      out.json = true;
    } else if (arg == "--engine" || arg.rfind("--engine=", 0) == 0) {
      std::string value;
      if (arg != "--engine")
        value = arg.substr(9);
      else if (i + 1 < args.size())
        value = args[++i];
      if (parse_host_port(value))
        out.engine = value;
      else
        problems.push_back({"--engine", "'" + value
                                          + "' is not HOST:PORT (where "
                                            "`athanor run --publish` "
                                            "listens)"});
    } else {
      rest.push_back(arg);
    }
  }
  args = std::move(rest);
  return problems;
}

std::vector<config_problem> take_plan_file(const loaded_config& loaded,
                                           execute_request& out) {
  if (loaded.arguments.size() == 1) {
    out.plan_file = loaded.arguments.front();
    return {};
  }
  return {{"PLAN", "execute takes exactly one plan file: athanor execute "
                   "PLAN.json [--json] [--engine HOST:PORT]"}};
}

int execute_command(const loaded_config& loaded, const execute_request& req) {
  auto& cfg = loaded.config;
  log::configure(cfg.logging);
  bool readable = false;
  auto text = read_file(req.plan_file, readable);
  if (!readable) {
    std::fprintf(stderr, "athanor: cannot read plan file '%s'\n",
                 req.plan_file.c_str());
    return exit_status::no_input;
  }
  plan spec;
  std::vector<config_problem> problems;
  if (!protocol::decode_plan(text, spec, problems)) {
    std::fprintf(stderr, "athanor: invalid plan '%s' (%zu problem%s):\n",
                 req.plan_file.c_str(), problems.size(),
                 problems.size() == 1 ? "" : "s");
    for (auto& p : problems)
      std::fprintf(stderr, "  %s\n", to_string(p).c_str());
    return exit_status::data;
  }
  auto signals = block_stop_signals();
  if (!req.engine.empty())
    return execute_on_engine(loaded, req, spec, signals);
  std::unique_ptr<sim::simulator> simulator;
  trading_desk_options opts;
  if (cfg.uses_simulator()) {
    simulator = std::make_unique<sim::simulator>(sim::simulator_options{});
    opts.base_url = "http://127.0.0.1:" + std::to_string(simulator->port());
    opts.creds = {secret{sim::default_key}, secret{sim::default_secret}};
    log::warn("engine", "no_credentials",
              {{"detail", "ALPACA_API_KEY and ALPACA_API_SECRET are unset; "
                          "executing on the built-in simulator"},
               {"endpoint", opts.base_url}});
  } else {
    opts.base_url = cfg.endpoints.base_url;
    opts.creds = cfg.alpaca;
    log::info("engine", "credentials",
              {{"key_fingerprint", cfg.alpaca.fingerprint()},
               {"source", loaded.alpaca_source},
               {"endpoint", opts.base_url}});
  }
  opts = desk_options_of(cfg, opts.base_url, opts.creds,
                         journal_path_of(cfg, process_environment()));
  system_config sys_cfg{loaded};
  if (!sys_cfg.problem.empty()) {
    std::fprintf(stderr, "athanor: %s\n", sys_cfg.problem.c_str());
    return exit_status::software;
  }
  caf::actor_system sys{sys_cfg};
  auto desk = trading_desk::start(sys, std::move(opts));
  if (!desk) {
    std::fprintf(stderr, "athanor: cannot start: %s\n",
                 render(desk.error()).c_str());
    return exit_code_of(desk.error());
  }
  // A helper thread waits for the result (asking again if the group
  // restarts); the main thread waits for it and for signals.
  auto answer = std::async(std::launch::async, [&desk, spec] {
    return (*desk)->execute(spec, std::chrono::hours{24});
  });
  auto code = print_when_done(answer, signals, req, spec);
  // A trading stream that gave up explains a failed plan better than its
  // items do.
  if (code != exit_status::ok && code != exit_status::interrupted) {
    if (auto x = (*desk)->stream_status();
        x && x->state == session_state::failed) {
      std::fprintf(stderr,
                   "athanor: cannot trade at %s: %s (key fingerprint %s)%s\n",
                   x->endpoint.c_str(), x->last_error.c_str(),
                   x->fingerprint.c_str(),
                   x->last_errc == "auth_failed"
                     ? " - check ALPACA_API_KEY and ALPACA_API_SECRET"
                     : "");
      code = x->last_errc == "auth_failed" ? exit_status::no_permission
                                           : exit_status::unavailable;
    }
  }
  // Stopping the desk also releases a helper still waiting (interrupted).
  (*desk)->stop();
  if (answer.valid())
    answer.wait();
  desk->reset();
  simulator.reset();
  return code;
}

} // namespace athanor
