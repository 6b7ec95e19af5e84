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
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/send.hpp"

#include "app/admin_server.hpp"
#include "app/engine.hpp"
#include "app/execute.hpp"
#include "app/gateway_server.hpp"
#include "app/process.hpp"
#include "app/system_config.hpp"
#include "messages/error.hpp"
#include "messages/record_kinds.hpp"
#include "messages/register.hpp"
#include "observability/log.hpp"
#include "protocol/market_data.hpp"
#include "sim/simulator.hpp"

namespace athanor {

namespace {

using tick_atom = caf::atom_constant<caf::atom("tick")>;

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

// -- the hand-off between actors and the main thread -------------------------

// Actors report here; the main thread waits on signals and polls this. (The
// one lock of this file: a hand-off, no domain state.)
struct run_outcome {
  std::atomic<bool> done{false};
  std::atomic<int> exit_code{exit_status::ok};
  std::mutex mtx;
  std::string message;

  void finish(int code, std::string text) {
    {
      std::lock_guard<std::mutex> guard{mtx};
      if (done)
        return;
      message = std::move(text);
    }
    exit_code = code;
    done = true;
  }
};

int exit_code_of(const std::string& errc) {
  if (errc == "auth_failed" || errc == "insufficient_subscription"
      || errc == "insufficient_scope")
    return exit_status::no_permission;
  return exit_status::unavailable;
}

std::string advice_for(const std::string& errc) {
  if (errc == "auth_failed")
    return " - check ALPACA_API_KEY and ALPACA_API_SECRET";
  if (errc == "insufficient_subscription")
    return " - the account's plan lacks this feed; try ALPACA_FEED=iex";
  if (errc == "certificate_invalid")
    return " - the server's certificate did not verify; see "
           "athanor.stream.ca-file";
  if (errc == "upgrade_rejected")
    return " - check ALPACA_DATA_STREAM_URL and ALPACA_FEED";
  return "";
}

// A session that failed for good ends the run with one clear message.
void on_status(run_outcome& outcome, const session_status& x) {
  if (x.state != session_state::failed)
    return;
  outcome.finish(exit_code_of(x.last_errc),
                 "athanor: cannot stream from " + x.endpoint + ": "
                   + x.last_error + " (key fingerprint " + x.fingerprint + ")"
                   + advice_for(x.last_errc));
}

// -- JSON lines ---------------------------------------------------------------

// One record per line in Alpaca's own shape ("T":"q" for a quote), kinds in
// declaration order.
std::string json_lines(const batch& x) {
  std::string out;
  batch one;
  for_each_kind(one, x, [&](auto& single, auto& records) {
    for (auto& record : records) {
      single.assign(1, record);
      auto frame = protocol::encode_batch(protocol::codec::json, one);
      // The frame is "[{...}]"; a line is the object.
      out.append(frame, 1, frame.size() - 2);
      out += '\n';
    }
    single.clear();
  });
  return out;
}

// A gap as a line of its own, in the same style: {"T":"gap",...}.
std::string json_line(const gap& x) {
  std::string out = "{\"T\":\"gap\",\"reason\":\"" + to_string(x.reason)
                    + "\",\"since\":" + std::to_string(x.since)
                    + ",\"epoch\":" + std::to_string(x.epoch)
                    + ",\"dropped\":" + std::to_string(x.dropped)
                    + ",\"topics\":[";
  for (size_t i = 0; i < x.topics.size(); ++i)
    out += (i > 0 ? ",\"" : "\"") + to_string(x.topics[i]) + "\"";
  return out + "]}\n";
}

// Keeps the first `n` records, in the order json_lines prints them.
batch first_records(const batch& x, size_t n) {
  batch result;
  for_each_kind(result, x, [&n](auto& to, auto& from) {
    auto k = std::min(n, from.size());
    to.assign(from.begin(), from.begin() + static_cast<ptrdiff_t>(k));
    n -= k;
  });
  return result;
}

caf::behavior json_printer(caf::event_based_actor*, run_outcome* outcome,
                           uint64_t limit) {
  auto printed = std::make_shared<uint64_t>(0);
  return {
    [=](const batch& x) {
      if (outcome->done)
        return;
      auto text = limit > 0 && *printed + x.size() > limit
                    ? json_lines(first_records(x, limit - *printed))
                    : json_lines(x);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      *printed += x.size();
      if (limit > 0 && *printed >= limit)
        outcome->finish(exit_status::ok, "");
    },
    [=](const gap& x) {
      auto text = json_line(x);
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
    },
    [=](const session_status& x) { on_status(*outcome, x); },
  };
}

// -- the terminal view ---------------------------------------------------------

struct view_state {
  session_status status;
  std::map<std::string, quote> quotes;
  std::map<std::string, trade> trades;
  uint64_t records = 0;
  uint64_t records_at_last_tick = 0;
  double rate = 0;
  uint64_t gaps = 0;
  std::string last_gap;
};

constexpr auto view_refresh = std::chrono::milliseconds{500};

void render(const view_state& st) {
  std::string out = "\x1b[H\x1b[2J";
  char line[256];
  std::snprintf(line, sizeof(line),
                "athanor  %s  epoch %llu  key %s\n"
                "state %-14s records %llu  %.0f/s  gaps %llu %s\n",
                st.status.endpoint.c_str(),
                static_cast<unsigned long long>(st.status.epoch),
                st.status.fingerprint.c_str(),
                to_string(st.status.state).c_str(),
                static_cast<unsigned long long>(st.records), st.rate,
                static_cast<unsigned long long>(st.gaps), st.last_gap.c_str());
  out += line;
  if (!st.status.last_error.empty())
    out += "last error: " + st.status.last_error + "\n";
  out += "\nsymbol        bid      ask        bid sz   ask sz    last trade\n";
  for (auto& [symbol, q] : st.quotes) {
    auto t = st.trades.find(symbol);
    char last[32] = "-";
    if (t != st.trades.end())
      std::snprintf(last, sizeof(last), "%.2f", t->second.price);
    std::snprintf(line, sizeof(line), "%-8s %10.2f %10.2f %8.0f %8.0f %12s\n",
                  symbol.c_str(), q.bid_price, q.ask_price, q.bid_size,
                  q.ask_size, last);
    out += line;
  }
  out += "\nCtrl-C to stop\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

caf::behavior terminal_view(caf::event_based_actor* self, run_outcome* outcome,
                            uint64_t limit) {
  auto st = std::make_shared<view_state>();
  self->delayed_send(self, view_refresh, tick_atom::value);
  return {
    [=](const batch& x) {
      st->records += x.size();
      for (auto& q : x.quotes)
        st->quotes[q.symbol] = q;
      for (auto& t : x.trades)
        st->trades[t.symbol] = t;
      if (limit > 0 && st->records >= limit)
        outcome->finish(exit_status::ok, "");
    },
    [=](const gap& x) {
      ++st->gaps;
      st->last_gap = "(last: " + to_string(x.reason) + ")";
    },
    [=](const session_status& x) {
      st->status = x;
      on_status(*outcome, x);
    },
    [=](tick_atom) {
      auto seconds = std::chrono::duration<double>(view_refresh).count();
      st->rate = static_cast<double>(st->records - st->records_at_last_tick)
                 / seconds;
      st->records_at_last_tick = st->records;
      render(*st);
      self->delayed_send(self, view_refresh, tick_atom::value);
    },
  };
}

// -- wiring ---------------------------------------------------------------------

upstream_spec market_upstream(const engine_config& cfg, std::string url,
                              credentials creds) {
  upstream_spec spec;
  spec.name = "market";
  auto& s = spec.session;
  s.url = std::move(url);
  s.encoding = cfg.stream.encoding;
  s.creds = std::move(creds);
  s.backoff = cfg.reconnect;
  s.limit_backoff = cfg.stream.limit_backoff;
  s.limit_backoff_max = cfg.stream.limit_backoff_max;
  s.connect_timeout = cfg.stream.connect_timeout;
  s.auth_timeout = cfg.stream.auth_timeout;
  s.ack_timeout = cfg.stream.ack_timeout;
  s.silence_timeout = cfg.stream.silence_timeout;
  s.close_timeout = cfg.stream.close_timeout;
  s.lag_threshold = cfg.stream.lag_threshold;
  spec.registry.name = "market";
  spec.registry.lag_threshold = cfg.stream.lag_threshold;
  spec.registry.max_in_flight
    = static_cast<uint32_t>(cfg.registry.max_in_flight);
  spec.registry.max_queued_records = cfg.registry.max_queued_records;
  spec.breaker = cfg.breaker;
  return spec;
}

engine_options options_for(const engine_config& cfg, upstream_spec market) {
  engine_options opts;
  opts.upstreams.push_back(std::move(market));
  opts.link.ca_file = cfg.stream.ca_file;
  opts.link.deflate = cfg.stream.deflate;
  opts.link.ping_interval = cfg.stream.ping_interval;
  opts.link.pong_timeout = cfg.stream.pong_timeout;
  opts.link.close_timeout = cfg.stream.close_timeout;
  opts.link.handshake_timeout = cfg.stream.connect_timeout;
  opts.link.max_in_flight = cfg.stream.max_in_flight_frames;
  opts.connections.max_restarts = cfg.supervisor.max_restarts;
  opts.connections.period = cfg.supervisor.period;
  opts.connections.restart_backoff = cfg.supervisor.restart_backoff;
  // SIGINT and SIGTERM must end a run within 2 s.
  opts.connections.shutdown_deadline
    = std::min<caf::timespan>(cfg.supervisor.shutdown_deadline,
                              std::chrono::milliseconds{1500});
  return opts;
}

std::vector<topic> topics_of(const run_request& request) {
  std::vector<topic> result;
  for (auto ch : request.channels)
    for (auto& symbol : request.symbols)
      result.push_back({ch, symbol});
  return result;
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
      try {
        size_t used = 0;
        out.limit = std::stoull(*value, &used);
        if (used != value->size())
          throw std::invalid_argument("trailing characters");
      } catch (const std::exception&) {
        problems.push_back({"--limit", "'" + *value + "' is not a count"});
      }
    } else if (arg == "--json") {
      out.json = true;
    } else {
      rest.push_back(arg);
    }
  }
  args = std::move(rest);
  return problems;
}

int run_command(const loaded_config& loaded, const run_request& request) {
  auto& cfg = loaded.config;
  log::configure(cfg.logging);
  // Signals go to the main thread's sigtimedwait only: block them before any
  // other thread starts, so every thread inherits the mask.
  auto signals = block_stop_signals();
  std::unique_ptr<sim::simulator> simulator;
  std::string url;
  std::string trading_url;
  credentials creds;
  if (cfg.uses_simulator()) {
    sim::simulator_options opts;
    simulator = std::make_unique<sim::simulator>(std::move(opts));
    url = "ws://127.0.0.1:" + std::to_string(simulator->port()) + "/v2/"
          + cfg.endpoints.feed;
    trading_url = "http://127.0.0.1:" + std::to_string(simulator->port());
    creds = credentials{secret{sim::default_key}, secret{sim::default_secret}};
    log::warn("engine", "no_credentials",
              {{"detail", "ALPACA_API_KEY and ALPACA_API_SECRET are unset; "
                          "streaming from the built-in simulator"},
               {"endpoint", url},
               {"trading_endpoint", trading_url}});
  } else {
    url = cfg.endpoints.data_stream_url + "/v2/" + cfg.endpoints.feed;
    trading_url = cfg.endpoints.base_url;
    creds = cfg.alpaca;
    log::info("engine", "credentials",
              {{"key_fingerprint", cfg.alpaca.fingerprint()},
               {"source", loaded.alpaca_source},
               {"endpoint", url}});
  }
  system_config sys_cfg{loaded};
  if (!sys_cfg.problem.empty()) {
    std::fprintf(stderr, "athanor: %s\n", sys_cfg.problem.c_str());
    return exit_status::software;
  }
  // Declared before the actor system: the actors point at it until the
  // system is gone.
  run_outcome outcome;
  caf::actor_system sys{sys_cfg};
  auto eng = engine::start(
    sys, options_for(cfg, market_upstream(cfg, url, creds)));
  if (!eng) {
    std::fprintf(stderr, "athanor: cannot start: %s\n",
                 sys.render(eng.error()).c_str());
    return exit_status::software;
  }
  bool trading = cfg.execution.in_run;
  std::unique_ptr<gateway_server> gateway;
  if (!cfg.gateway.key_id.empty() && !cfg.gateway.secret_key.empty()) {
    gateway_server_options gw;
    gw.address = cfg.gateway_listen.address;
    gw.port = static_cast<uint16_t>(cfg.gateway_listen.port);
    gw.accepted = cfg.gateway;
    gw.connections = (*eng)->connections();
    gw.routes["/v2/" + cfg.endpoints.feed] = "market";
    gw.trade_updates = trading;
    auto started = gateway_server::start(sys, std::move(gw));
    if (!started) {
      std::fprintf(stderr, "athanor: %s\n",
                   sys.render(started.error()).c_str());
      return exit_status::config;
    }
    gateway = std::move(*started);
    auto paths = "/v2/" + cfg.endpoints.feed + (trading ? " /stream" : "");
    log::info("engine", "gateway_listening",
              {{"detail", "gateway listening on " + gateway->url()},
               {"url", gateway->url()},
               {"paths", paths}});
  }
  // The executor and the account's trading stream: order updates for the
  // gateway's /stream, order metrics for the admin.
  std::unique_ptr<trading_desk> desk;
  if (trading) {
    auto opts = desk_options_of(
      cfg, trading_url, creds,
      journal_path_of(cfg, process_environment(), "run"));
    if (gateway)
      opts.listeners.push_back(gateway->trade_updates());
    // Within the 2 s a stopping run has, like the market side.
    opts.supervisor.shutdown_deadline
      = std::min<caf::timespan>(cfg.supervisor.shutdown_deadline,
                                std::chrono::milliseconds{1500});
    auto started = trading_desk::start(sys, std::move(opts));
    if (!started) {
      std::fprintf(stderr, "athanor: cannot start the executor: %s\n",
                   sys.render(started.error()).c_str());
      return errc_of(started.error()) == engine_errc::journal_error
               ? exit_status::io
               : exit_status::config;
    }
    desk = std::move(*started);
  }
  admin_server_options admin_opts;
  admin_opts.address = cfg.admin.address;
  admin_opts.port = static_cast<uint16_t>(cfg.admin.port);
  admin_opts.admin.connections = (*eng)->connections();
  if (desk) {
    admin_opts.admin.trading_desk = desk->supervisor();
    admin_opts.admin.metric_sources.push_back(
      caf::actor_cast<caf::actor>(desk->supervisor()));
  }
  if (gateway && gateway->metrics_source())
    admin_opts.admin.metric_sources.push_back(gateway->metrics_source());
  auto admin = admin_server::start(sys, std::move(admin_opts));
  if (!admin) {
    std::fprintf(stderr, "athanor: %s\n", sys.render(admin.error()).c_str());
    return exit_status::config;
  }
  log::info("engine", "admin_listening",
            {{"detail", "admin listening on " + (*admin)->url()},
             {"url", (*admin)->url()}});
  bool view = !request.json && isatty(STDOUT_FILENO) == 1;
  auto printer = view ? sys.spawn(terminal_view, &outcome, request.limit)
                      : sys.spawn(json_printer, &outcome, request.limit);
  caf::anon_send((*eng)->connections(), listen_atom::value,
                 caf::actor_cast<session_listener_actor>(printer));
  auto leased = (*eng)->subscribe("market",
                                  caf::actor_cast<subscriber_actor>(printer),
                                  topics_of(request));
  if (!leased) {
    std::fprintf(stderr, "athanor: cannot subscribe: %s\n",
                 sys.render(leased.error()).c_str());
    caf::anon_send_exit(printer, caf::exit_reason::user_shutdown);
    return exit_status::software;
  }
  const timespec poll{0, 100'000'000};
  while (!outcome.done) {
    auto sig = sigtimedwait(&signals, nullptr, &poll);
    if (sig == SIGINT || sig == SIGTERM) {
      log::info("engine", "signal", {{"signal", sig == SIGINT ? "SIGINT"
                                                              : "SIGTERM"}});
      break;
    }
  }
  gateway.reset();
  admin->reset();
  desk.reset();
  eng->reset();
  caf::anon_send_exit(printer, caf::exit_reason::user_shutdown);
  simulator.reset();
  if (view)
    std::fputs("\n", stdout);
  std::lock_guard<std::mutex> guard{outcome.mtx};
  if (!outcome.message.empty())
    std::fprintf(stderr, "%s\n", outcome.message.c_str());
  return outcome.exit_code;
}

} // namespace athanor
