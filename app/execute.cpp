#include "app/execute.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <future>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "caf/actor_system.hpp"

#include "app/process.hpp"
#include "athanor/remote.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"
#include "protocol/plan.hpp"
#include "runtime/config_file.hpp"
#include "runtime/dry_run.hpp"
#include "runtime/system_config.hpp"
#include "runtime/trading_desk.hpp"
#include "sim/simulator.hpp"

namespace athanor {

namespace {

std::string text_of(const decimal& x) {
  return x.is_null() ? "-" : to_string(x);
}

// What the plan asked for, e.g. "10" or "$2500".
std::string requested_of(const plan_item& x) {
  return x.qty.is_null() ? "$" + text_of(x.notional) : text_of(x.qty);
}

// filled qty x average price; for display only.
double filled_notional(const item_result& x) {
  if (x.filled_qty.is_null() || x.filled_avg_price.is_null())
    return 0;
  return x.filled_qty.to_double() * x.filled_avg_price.to_double();
}

void print_table(const plan_result& r, const plan& spec,
                 const std::string& account) {
  std::printf("plan %s (correlation %s) on %s%s\n", r.plan_id.c_str(),
              r.correlation_id.c_str(), account.c_str(),
              r.replayed  ? " - executed before; recorded result"
              : r.retried ? " - an earlier run placed nothing; executed again"
                          : "");
  std::printf("%-3s %-8s %-4s %-6s %10s %9s %-16s %-16s %10s %10s %12s  %s\n",
              "#", "symbol", "side", "type", "requested", "limit", "outcome",
              "status", "filled", "avg price", "notional",
              "client_order_id / reason");
  double bought = 0;
  double sold = 0;
  size_t filled = 0;
  for (auto& item : r.items) {
    plan_item asked;
    if (item.index < spec.items.size())
      asked = spec.items[item.index];
    auto notional = filled_notional(item);
    (item.side == order_side::buy ? bought : sold) += notional;
    if (item.outcome == item_outcome::filled)
      ++filled;
    std::printf("%-3u %-8s %-4s %-6s %10s %9s %-16s %-16s %10s %10s %12.2f  "
                "%s\n",
                item.index, item.symbol.c_str(), to_string(item.side).c_str(),
                to_string(asked.type).c_str(), requested_of(asked).c_str(),
                text_of(asked.limit_price).c_str(),
                to_string(item.outcome).c_str(),
                to_string(item.status).c_str(),
                text_of(item.filled_qty).c_str(),
                text_of(item.filled_avg_price).c_str(), notional,
                (item.client_order_id
                 + (item.reason.empty() ? "" : " - " + item.reason))
                  .c_str());
  }
  std::printf("filled %zu of %zu items; bought %.2f, sold %.2f\n", filled,
              r.items.size(), bought, sold);
  std::printf("%s\n", r.succeeded() ? "every item filled"
                                    : "the plan did not fully succeed");
}

// Which money moves: said on every run, before anything is sent.
std::string account_of(const std::string& base_url, bool simulated) {
  if (simulated)
    return "the built-in simulator";
  if (base_url.find("paper-api.") != std::string::npos)
    return "PAPER account " + base_url;
  return "LIVE account " + base_url;
}

int exit_code_of(const caf::error& err) {
  switch (errc_of(err).value_or(engine_errc::server_error)) {
    case engine_errc::invalid_plan: return exit_status::data;
    case engine_errc::journal_error: return exit_status::io;
    case engine_errc::invalid_config: return exit_status::config;
    case engine_errc::not_permitted:
    case engine_errc::auth_failed: return exit_status::no_permission;
    default: return exit_status::unavailable;
  }
}

// Waits (main thread) for the result or a signal; prints the result.
// Returns the exit code.
int print_when_done(std::future<caf::expected<plan_result>>& answer,
                    const sigset_t& signals, const execute_request& req,
                    const plan& spec, const std::string& account,
                    plan_result* printed = nullptr) {
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
        print_table(*result, spec, account);
      if (printed)
        *printed = *result;
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

void print_dry_run(const plan_check& x, const plan& spec,
                   const std::string& account) {
  std::printf("dry run of plan %s on %s: nothing is placed\n",
              spec.plan_id.c_str(), account.c_str());
  std::printf("%-3s %-8s %-4s %-6s %-4s %10s %9s %10s %12s  %s\n", "#",
              "symbol", "side", "type", "tif", "requested", "limit", "price",
              "est. value", "client_order_id");
  for (auto& o : x.orders) {
    auto& r = o.request;
    std::printf("%-3u %-8s %-4s %-6s %-4s %10s %9s %10s %12.2f  %s\n",
                o.index, r.symbol.c_str(), to_string(r.side).c_str(),
                to_string(r.type).c_str(), to_string(r.tif).c_str(),
                r.qty.is_null() ? ("$" + text_of(r.notional)).c_str()
                                : text_of(r.qty).c_str(),
                text_of(r.limit_price).c_str(), text_of(o.price).c_str(),
                o.estimated_value, r.client_order_id.c_str());
  }
  std::printf("buys about %.2f, sells about %.2f, buying power %.2f\n",
              x.buys, x.sells, x.buying_power);
  std::printf("%s\n", x.ok() ? "every check passed"
                             : "the plan would fail (see the problems)");
}

// The dry run as one JSON object: what would be sent (Alpaca's order
// request fields plus the estimate) and every problem.
std::string encode_dry_run(const plan_check& x, const plan& spec) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w{buffer};
  auto text = [&](const char* key, const std::string& value) {
    w.Key(key);
    w.String(value.c_str(), static_cast<rapidjson::SizeType>(value.size()));
  };
  auto number = [&](const char* key, const decimal& value) {
    if (!value.is_null())
      text(key, to_string(value));
  };
  auto money = [&](const char* key, double value) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.2f", value);
    text(key, buf);
  };
  w.StartObject();
  text("plan_id", spec.plan_id);
  w.Key("ok");
  w.Bool(x.ok());
  w.Key("orders");
  w.StartArray();
  for (auto& o : x.orders) {
    w.StartObject();
    w.Key("index");
    w.Uint(o.index);
    text("symbol", o.request.symbol);
    text("side", to_string(o.request.side));
    text("type", to_string(o.request.type));
    text("time_in_force", to_string(o.request.tif));
    number("qty", o.request.qty);
    number("notional", o.request.notional);
    number("limit_price", o.request.limit_price);
    text("client_order_id", o.request.client_order_id);
    number("price", o.price);
    money("estimated_value", o.estimated_value);
    w.EndObject();
  }
  w.EndArray();
  money("buys", x.buys);
  money("sells", x.sells);
  money("buying_power", x.buying_power);
  w.Key("problems");
  w.StartArray();
  for (auto& p : x.problems) {
    w.StartObject();
    text("field", p.option);
    text("message", p.message);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string{buffer.GetString(), buffer.GetSize()};
}

// Checks the plan against the account; exit 0 when every check passed, 2
// when the plan would fail, else as for executing.
int dry_run_command(caf::actor_system& sys, const plan& spec,
                    const dry_run_options& opts, const std::string& account,
                    bool json) {
  std::fprintf(stderr, "athanor: dry run of plan %s on %s\n",
               spec.plan_id.c_str(), account.c_str());
  auto checked = dry_run(sys, spec, opts);
  if (!checked) {
    std::fprintf(stderr, "athanor: cannot check plan '%s': %s\n",
                 spec.plan_id.c_str(), render(checked.error()).c_str());
    auto code = errc_of(checked.error());
    return code == engine_errc::auth_failed ? exit_status::no_permission
                                            : exit_code_of(checked.error());
  }
  if (json)
    std::printf("%s\n", encode_dry_run(*checked, spec).c_str());
  else
    print_dry_run(*checked, spec, account);
  for (auto& p : checked->problems)
    std::fprintf(stderr, "athanor: %s\n", to_string(p).c_str());
  return checked->ok() ? exit_status::ok : exit_status::plan_failed;
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
  if (opts.tls) {
    opts.certificate_file = loaded.config.remote.certificate;
    opts.key_file = loaded.config.remote.key;
  }
  log::info("engine", "remote_execute",
            {{"plan_id", spec.plan_id}, {"engine", req.engine}});
  auto answer = std::async(std::launch::async, [&sys, opts, spec] {
    return execute_remote(sys, opts, spec, std::chrono::hours{24});
  });
  auto account = "the engine at " + req.engine;
  std::fprintf(stderr, "athanor: executing plan %s on %s\n",
               spec.plan_id.c_str(), account.c_str());
  auto code = print_when_done(answer, signals, req, spec, account);
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
    } else if (arg == "--dry-run") {
      out.dry_run = true;
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
                   "PLAN.json [--json] [--engine HOST:PORT] [--dry-run]"}};
}

int execute_command(const loaded_config& loaded, const execute_request& req) {
  auto& cfg = loaded.config;
  log::configure(cfg.logging);
  auto text = read_file(req.plan_file);
  if (!text) {
    std::fprintf(stderr, "athanor: cannot read plan file '%s'\n",
                 req.plan_file.c_str());
    return exit_status::no_input;
  }
  plan spec;
  std::vector<config_problem> problems;
  if (!protocol::decode_plan(*text, spec, problems)) {
    std::fprintf(stderr, "athanor: invalid plan '%s' (%zu problem%s):\n",
                 req.plan_file.c_str(), problems.size(),
                 problems.size() == 1 ? "" : "s");
    for (auto& p : problems)
      std::fprintf(stderr, "  %s\n", to_string(p).c_str());
    return exit_status::data;
  }
  if (req.dry_run && !req.engine.empty()) {
    std::fprintf(stderr, "athanor: --dry-run checks the account directly; "
                         "drop --engine\n");
    return exit_status::config;
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
  auto account = account_of(opts.base_url, cfg.uses_simulator());
  opts = desk_options_of(cfg, opts.base_url, opts.creds,
                         journal_path_of(cfg, process_environment()));
  system_config sys_cfg{loaded};
  if (!sys_cfg.problem.empty()) {
    std::fprintf(stderr, "athanor: %s\n", sys_cfg.problem.c_str());
    return exit_status::software;
  }
  caf::actor_system sys{sys_cfg};
  if (req.dry_run) {
    dry_run_options check;
    check.data_url = simulator ? opts.base_url : cfg.endpoints.data_url;
    check.feed = cfg.endpoints.feed;
    check.desk = std::move(opts);
    return dry_run_command(sys, spec, check, account, req.json);
  }
  auto desk = trading_desk::start(sys, std::move(opts));
  if (!desk) {
    std::fprintf(stderr, "athanor: cannot start: %s\n",
                 render(desk.error()).c_str());
    return exit_code_of(desk.error());
  }
  // A helper thread waits for the result (asking again if the group
  // restarts); the main thread waits for it and for signals.
  std::fprintf(stderr, "athanor: executing plan %s on %s (key %s)\n",
               spec.plan_id.c_str(), account.c_str(),
               cfg.uses_simulator() ? "of the simulator"
                                    : cfg.alpaca.fingerprint().c_str());
  auto answer = std::async(std::launch::async, [&desk, spec] {
    return (*desk)->execute(spec, std::chrono::hours{24});
  });
  plan_result printed;
  auto code = print_when_done(answer, signals, req, spec, account, &printed);
  // A trading stream that gave up, or never got ready, explains a failed
  // plan better than its items do.
  if (code != exit_status::ok && code != exit_status::interrupted) {
    auto x = (*desk)->stream_status();
    auto nothing_placed = std::all_of(
      printed.items.begin(), printed.items.end(), [](const item_result& i) {
        return i.outcome == item_outcome::not_placed;
      });
    if (x && x->state != session_state::failed
        && x->state != session_state::streaming && nothing_placed
        && !printed.items.empty()) {
      std::fprintf(stderr,
                   "athanor: cannot reach the trading stream at %s (%s); "
                   "nothing was placed, run the plan again once it is "
                   "reachable\n",
                   x->endpoint.c_str(),
                   x->last_error.empty() ? to_string(x->state).c_str()
                                         : x->last_error.c_str());
      code = exit_status::unavailable;
    } else if (x && x->state == session_state::failed) {
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
