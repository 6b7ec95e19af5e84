// athanor-soak: a real engine (`athanor run` with the gateway, the admin
// endpoint and a published front) on the simulator over TLS, consumers of
// every kind (the engine's own in-process subscriber printing JSON lines,
// gateway clients in JSON and MessagePack, a remote `athanor attach`), and
// N random faults from every class the simulator has, with a plan executed
// through `execute --engine` now and then. Prints its figures; exits 1 when
// the engine died, a consumer was not streaming after the last fault, a
// record was lost without a gap, or an order was duplicated or missing
// (and with --max-outage=S, when an isolated fault's outage exceeded S).
//
//   athanor-soak [--faults=N] [--interval-ms=M] [--seed=S] [--ghost-ms=G]
//                [--plan-every=K] [--quiet-every=Q] [--quiet-ms=P]
//                [--max-outage=S] [--plain] [--keep]
//
// Faults come one per M ms (250), with a pause of P ms (6000) after every
// Q (25), so the recovery from the last fault before each pause can be
// measured on its own ("isolated").

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <unistd.h>

#include "integration/process.hpp"
#include "tools/campaign.hpp"
#include "protocol/market_data.hpp"
#include "protocol/plan.hpp"
#include "sim/broker.hpp"
#include "sim/simulator.hpp"
#include "sim/ws_client.hpp"
#include "transport/tls.hpp"

using namespace athanor;
using namespace std::chrono_literals;
using testing::child_process;
using namespace athanor::campaign;

namespace {

using wall = std::chrono::system_clock;

int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           wall::now().time_since_epoch())
    .count();
}

struct soak_options {
  uint32_t faults = 1000;
  uint32_t interval_ms = 250;
  uint64_t seed = 0;
  uint32_t ghost_ms = 3000;
  uint32_t plan_every = 100;
  /// After every `quiet_every` faults a pause of `quiet_ms`, so some
  /// faults are isolated and their recovery can be measured.
  uint32_t quiet_every = 25;
  uint32_t quiet_ms = 6000;
  double max_outage_s = 0;
  bool tls = true;
  bool keep = false;
  /// Passed to `athanor run` as they are (e.g. shorter caps on its waits).
  std::vector<std::string> engine_options;
};

// The number after `marker` in `text`, 0 if absent.
int port_after(const std::string& text, const std::string& marker,
               size_t from = 0) {
  auto at = text.find(marker, from);
  if (at == std::string::npos || text.find('\n', at) == std::string::npos)
    return 0;
  return std::atoi(text.c_str() + at + marker.size());
}

// What one consumer saw, in arrival order.
struct consumer_log {
  explicit consumer_log(std::string n = {}) : name(std::move(n)) {}

  std::string name;
  /// The record timestamps (the simulator stamps them with wall time).
  std::vector<int64_t> times;
  uint64_t gaps = 0;
  /// Trades missing from a symbol's sequence with no gap before them.
  uint64_t lost = 0;
  uint64_t duplicated = 0;
  std::map<std::string, int64_t> last_trade;
  std::map<std::string, bool> gap_since_trade;
  std::vector<std::string> problems;

  void gap() {
    ++gaps;
    for (auto& [symbol, seen] : gap_since_trade)
      seen = true;
  }

  // A reconnect of the consumer itself: data may be missing, and it knows.
  void own_gap() {
    for (auto& [symbol, seen] : gap_since_trade)
      seen = true;
  }

  void records(const batch& x) {
    for (auto& q : x.quotes)
      times.push_back(q.time);
    for (auto& t : x.trades) {
      times.push_back(t.time);
      auto last = last_trade.find(t.symbol);
      if (last != last_trade.end()) {
        if (t.id <= last->second) {
          ++duplicated;
        } else if (t.id > last->second + 1 && !gap_since_trade[t.symbol]) {
          lost += static_cast<uint64_t>(t.id - last->second - 1);
          if (problems.size() < 5)
            problems.push_back(t.symbol + " trade " + std::to_string(t.id)
                               + " after " + std::to_string(last->second)
                               + " without a gap");
        }
      }
      last_trade[t.symbol] = t.id;
      gap_since_trade[t.symbol] = false;
    }
  }

  // One JSON line as `athanor run --json` and `attach --json` print it.
  void line(const std::string& text) {
    if (text.rfind("{\"T\":\"gap\"", 0) == 0) {
      gap();
      return;
    }
    if (text.empty() || text[0] != '{')
      return;
    auto frame = "[" + text + "]";
    protocol::market_frame out;
    protocol::decode_problem problem;
    if (protocol::decode_json(frame, out, problem))
      records(out.data);
  }
};

// A gateway client that keeps itself connected and subscribed.
void gateway_client(uint16_t port, bool msgpack, const std::string& ca_pem,
                    consumer_log& log, const std::atomic<bool>& stop) {
  auto c = msgpack ? protocol::codec::msgpack : protocol::codec::json;
  credentials creds{secret{"SOAKGW"}, secret{"SOAKGWSECRET"}};
  while (!stop) {
    testing::ws_client_options opts;
    if (msgpack)
      opts.headers["Content-Type"] = "application/msgpack";
    opts.tls_ca_pem = ca_pem;
    testing::ws_client client{port, "/v2/iex", opts};
    if (!client.open()) {
      std::this_thread::sleep_for(200ms);
      continue;
    }
    client.read(2s); // connected
    client.send(protocol::encode_auth(c, creds), msgpack);
    client.read(2s); // authenticated
    subscription_set want;
    want[channel::trades] = {"AAPL", "MSFT"};
    want[channel::quotes] = {"AAPL", "MSFT"};
    client.send(protocol::encode_subscribe(c, want), msgpack);
    log.own_gap();
    while (!stop) {
      auto f = client.read(500ms);
      if (!f) {
        if (!client.open())
          break;
        continue;
      }
      auto is_gap = msgpack ? f->data.find("\xa1T\xa3gap") != std::string::npos
                            : f->data.find("\"T\":\"gap\"") != std::string::npos;
      if (is_gap)
        log.gap();
      protocol::market_frame out;
      protocol::decode_problem problem;
      bool ok = msgpack ? protocol::decode_msgpack(f->data.data(),
                                                   f->data.size(), out, problem)
                        : protocol::decode_json(f->data, out, problem);
      if (ok)
        log.records(out.data);
    }
  }
}

struct fault_event {
  std::string kind;
  int64_t start = 0;
  int64_t end = 0;
};

struct fault_class {
  const char* kind;
  std::chrono::milliseconds duration;
  std::map<std::string, std::string> args;
};

// Per consumer: the first record time after `t`, or -1.
int64_t first_after(const std::vector<int64_t>& sorted, int64_t t) {
  auto i = std::upper_bound(sorted.begin(), sorted.end(), t);
  return i == sorted.end() ? -1 : *i;
}

long rss_kb(int pid) {
  std::ifstream in{"/proc/" + std::to_string(pid) + "/status"};
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0)
      return std::atol(line.c_str() + 6);
  return -1;
}

std::string plan_json(const std::string& id) {
  return R"({"plan_id":")" + id + R"(","deadline_seconds":60,"items":[)"
         R"({"symbol":"AAPL","side":"buy","qty":"1"},)"
         R"({"symbol":"MSFT","side":"buy","qty":"2"},)"
         R"({"symbol":"SPY","side":"buy","qty":"1"}]})";
}

// The athanor binary: $ATHANOR_SOAK_BINARY (a copy, so a long campaign
// survives a rebuild), else the one built with this tool.
std::string athanor_binary() {
  auto from_env = std::getenv("ATHANOR_SOAK_BINARY");
  return from_env != nullptr && *from_env != 0 ? from_env : ATHANOR_BINARY;
}

} // namespace

int main(int argc, char** argv) {
  soak_options opts;
  for (int i = 1; i < argc; ++i) {
    uint64_t v = 0;
    if (number_option(argv[i], "--faults", v))
      opts.faults = static_cast<uint32_t>(v);
    else if (number_option(argv[i], "--interval-ms", v))
      opts.interval_ms = static_cast<uint32_t>(std::max<uint64_t>(v, 10));
    else if (number_option(argv[i], "--seed", v))
      opts.seed = v;
    else if (number_option(argv[i], "--ghost-ms", v))
      opts.ghost_ms = static_cast<uint32_t>(v);
    else if (number_option(argv[i], "--plan-every", v))
      opts.plan_every = static_cast<uint32_t>(v);
    else if (number_option(argv[i], "--quiet-every", v))
      opts.quiet_every = static_cast<uint32_t>(v);
    else if (number_option(argv[i], "--quiet-ms", v))
      opts.quiet_ms = static_cast<uint32_t>(v);
    else if (number_option(argv[i], "--max-outage", v))
      opts.max_outage_s = static_cast<double>(v);
    else if (std::strcmp(argv[i], "--plain") == 0)
      opts.tls = false;
    else if (std::strcmp(argv[i], "--keep") == 0)
      opts.keep = true;
    else if (std::strncmp(argv[i], "--engine-option=", 16) == 0)
      opts.engine_options.push_back(argv[i] + 16);
    else {
      std::fprintf(stderr,
                   "usage: athanor-soak [--faults=N] [--interval-ms=M] "
                   "[--seed=S] [--ghost-ms=G] [--plan-every=K] "
                   "[--quiet-every=Q] [--quiet-ms=P] [--max-outage=S] "
                   "[--plain] [--keep] [--engine-option=--athanor.X=V]...\n");
      return 64;
    }
  }
  if (opts.seed == 0)
    opts.seed = std::random_device{}();
  std::mt19937_64 rng{opts.seed};
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  char name[] = "/tmp/athanor-soak-XXXXXX";
  std::string dir = mkdtemp(name);

  // The upstream: Alpaca's ghost sessions, stalls a real server would time
  // out, reused client_order_ids accepted (a blind re-POST must show).
  sim::simulator_options sim_opts;
  sim_opts.market.ghost_period = std::chrono::milliseconds{opts.ghost_ms};
  sim_opts.market.stall_hold = std::chrono::milliseconds{opts.ghost_ms} + 2s;
  sim_opts.market.records_per_second = 400;
  sim_opts.market.seed = opts.seed;
  sim_opts.broker.fill_delay = 40ms;
  sim_opts.broker.requests_per_minute = 0;
  sim_opts.broker.accept_reused_client_order_ids = true;
  sim_opts.broker.starting_cash = "1000000000"; // never the reason a plan fails
  transport::pem_pair pems;
  if (opts.tls) {
    pems = transport::make_self_signed({"127.0.0.1", "localhost"});
    sim_opts.listen.tls_certificate_pem = pems.certificate;
    sim_opts.listen.tls_private_key_pem = pems.private_key;
  }
  sim::simulator sim{sim_opts};
  auto ca_file = dir + "/sim-ca.pem";
  std::ofstream{ca_file} << pems.certificate;
  auto base = "127.0.0.1:" + std::to_string(sim.port());
  std::map<std::string, std::string> env{
    {"ALPACA_API_KEY", sim::default_key},
    {"ALPACA_API_SECRET", sim::default_secret},
    {"ALPACA_BASE_URL", (opts.tls ? "https://" : "http://") + base},
    {"ALPACA_DATA_STREAM_URL", (opts.tls ? "wss://" : "ws://") + base},
    {"ATHANOR_GATEWAY_KEY", "SOAKGW"},
    {"ATHANOR_GATEWAY_SECRET", "SOAKGWSECRET"}};

  std::vector<fault_class> classes{
    {"close", 0ms, {}},          {"reset", 0ms, {}},
    {"stall", 0ms, {}},          {"malformed", 0ms, {}},
    {"delay", 1000ms, {}},       {"storm406", 1500ms, {}},
    {"storm429", 1500ms, {}},    {"stream_reset", 0ms, {}},
    {"rest500", 0ms, {{"count", "3"}}},
    {"rest_slow", 2000ms, {{"count", "2"}}}};
  if (opts.tls)
    classes.push_back({"tls_refuse", 1000ms, {}});
  std::printf("soak: %u faults, one per %u ms, a %u ms pause after every "
              "%u, ghost sessions %u ms, %s, seed %llu\n",
              opts.faults, opts.interval_ms, opts.quiet_ms, opts.quiet_every,
              opts.ghost_ms, opts.tls ? "TLS" : "plain",
              static_cast<unsigned long long>(opts.seed));

  // The engine, its own subscriber printing JSON lines to a file.
  auto engine_out = dir + "/engine.out";
  auto engine_log = dir + "/engine.log";
  std::string engine_options;
  for (auto& x : opts.engine_options)
    engine_options += " '" + x + "'";
  std::string command
    = "exec '" + athanor_binary() + "' run --json --symbols=AAPL,MSFT "
      "--channels=trades,quotes --publish 127.0.0.1:0 "
      "--athanor.remote.execute=true --athanor.journal.path='"
      + dir + "/journal.db' --athanor.log.level=info"
      + (opts.tls ? " --athanor.stream.ca-file='" + ca_file + "'" : "")
      + engine_options + " > '" + engine_out + "' 2> '" + engine_log + "'";
  auto engine = std::make_unique<child_process>(
    "/bin/sh", std::vector<std::string>{"-c", command}, env);
  int gateway_port = 0;
  int front_port = 0;
  auto up_deadline = std::chrono::steady_clock::now() + 30s;
  while ((gateway_port == 0 || front_port == 0)
         && std::chrono::steady_clock::now() < up_deadline) {
    auto text = read_all(engine_log);
    gateway_port = port_after(text, "gateway listening on ws://127.0.0.1:");
    front_port = port_after(text, "listening on 127.0.0.1:",
                            std::min(text.size(), text.find("publish (")));
    std::this_thread::sleep_for(20ms);
  }
  if (gateway_port == 0 || front_port == 0) {
    std::printf("the engine did not come up:\n%s\n",
                read_all(engine_log).c_str());
    return 1;
  }
  auto engine_pid = engine->pid();
  auto rss_start = rss_kb(engine_pid);

  // The consumers.
  std::atomic<bool> stop{false};
  consumer_log gw_json{"gateway-json"};
  consumer_log gw_msgpack{"gateway-msgpack"};
  std::thread json_thread{[&] {
    gateway_client(static_cast<uint16_t>(gateway_port), false, "", gw_json,
                   stop);
  }};
  std::thread msgpack_thread{[&] {
    gateway_client(static_cast<uint16_t>(gateway_port), true, "", gw_msgpack,
                   stop);
  }};
  auto attach_out = dir + "/attach.out";
  auto attach = std::make_unique<child_process>(
    "/bin/sh",
    std::vector<std::string>{
      "-c", "exec '" + athanor_binary() + "' attach 127.0.0.1:"
              + std::to_string(front_port)
              + " --json --symbols=AAPL,MSFT --channels=trades,quotes "
                "--athanor.log.level=warn > '"
              + attach_out + "' 2> '" + dir + "/attach.log'"});
  std::this_thread::sleep_for(2s); // everyone streaming before the faults

  // Plans now and then, one at a time, on a thread of their own.
  std::mutex plans_mtx;
  std::map<std::string, std::string> reports;
  std::atomic<bool> plan_running{false};
  std::thread plan_thread;
  auto run_plan = [&](uint32_t n) {
    if (plan_running.exchange(true))
      return;
    if (plan_thread.joinable())
      plan_thread.join();
    plan_thread = std::thread{[&, n] {
      auto id = "soak-" + std::to_string(opts.seed % 100000) + "-"
                + std::to_string(n);
      auto file = dir + "/" + id + ".json";
      std::ofstream{file} << plan_json(id);
      child_process run{athanor_binary(),
                        {"execute", file, "--json", "--engine",
                         "127.0.0.1:" + std::to_string(front_port),
                         "--athanor.log.level=error"}};
      run.wait(120s);
      std::lock_guard<std::mutex> guard{plans_mtx};
      reports[id] = run.out();
      plan_running = false;
    }};
  };

  // The faults.
  auto started = std::chrono::steady_clock::now();
  auto campaign_start = wall_ns();
  std::vector<fault_event> faults;
  std::uniform_int_distribution<size_t> pick{0, classes.size() - 1};
  for (uint32_t i = 0; i < opts.faults; ++i) {
    auto& c = classes[pick(rng)];
    fault_event ev{c.kind, wall_ns(), 0};
    ev.end = ev.start + std::chrono::nanoseconds{c.duration}.count();
    sim.run_scenario({{0ms, c.kind, c.duration, c.args}});
    faults.push_back(ev);
    if (opts.plan_every > 0 && i % opts.plan_every == opts.plan_every / 2)
      run_plan(i);
    std::this_thread::sleep_for(std::chrono::milliseconds{opts.interval_ms});
    if (opts.quiet_every > 0 && i % opts.quiet_every == opts.quiet_every - 1)
      std::this_thread::sleep_for(std::chrono::milliseconds{opts.quiet_ms});
  }
  auto last_end = std::max_element(faults.begin(), faults.end(),
                                   [](auto& a, auto& b) {
                                     return a.end < b.end;
                                   })
                    ->end;
  // Recovery: wait until every consumer has data after the last fault.
  auto recovered = [&](const std::vector<int64_t>& times) {
    return std::any_of(times.rbegin(),
                       times.rbegin() + std::min<size_t>(times.size(), 50),
                       [&](int64_t t) { return t > last_end; });
  };
  auto file_recovered = [&](const std::string& path) {
    consumer_log tmp;
    auto lines = lines_of(path);
    for (size_t i = lines.size() > 200 ? lines.size() - 200 : 0;
         i < lines.size(); ++i)
      tmp.line(lines[i]);
    return recovered(tmp.times);
  };
  auto recovery_deadline = std::chrono::steady_clock::now() + 60s;
  while (std::chrono::steady_clock::now() < recovery_deadline
         && !(file_recovered(engine_out) && file_recovered(attach_out)))
    std::this_thread::sleep_for(200ms);
  std::this_thread::sleep_for(2s); // the gateway clients' share, read later
  if (plan_thread.joinable())
    plan_thread.join();
  auto rss_end = rss_kb(engine_pid);
  bool engine_alive = !engine->exited();
  stop = true;
  json_thread.join();
  msgpack_thread.join();
  attach->signal(SIGINT);
  attach->wait(10s);
  engine->signal(SIGINT);
  auto engine_exit = engine->wait(15s);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                               - started)
                   .count();

  // The figures.
  consumer_log in_process{"in-process"};
  for (auto& line : lines_of(engine_out))
    in_process.line(line);
  consumer_log attached{"attach"};
  for (auto& line : lines_of(attach_out))
    attached.line(line);
  std::vector<consumer_log*> consumers{&in_process, &gw_json, &gw_msgpack,
                                       &attached};
  auto log_text = read_all(engine_log);
  // The market-data session's returns to streaming after the first: each
  // must reach every consumer as a gap marker.
  size_t streaming = 0;
  {
    std::istringstream lines{log_text};
    for (std::string line; std::getline(lines, line);)
      if (line.find("stream_session: state_change") != std::string::npos
          && line.find("to=streaming") != std::string::npos)
        ++streaming;
  }
  auto reconnects = streaming > 0 ? streaming - 1 : 0;
  std::map<std::string, uint32_t> by_class;
  for (auto& f : faults)
    ++by_class[f.kind];
  std::printf("\nfaults by class:");
  for (auto& [kind, n] : by_class)
    std::printf(" %s %u", kind.c_str(), n);
  std::printf("\nengine alive to the end: %s (exit after SIGINT %d); RSS %ld "
              "kB at start, %ld kB at end; market-data reconnects %zu\n",
              engine_alive ? "yes" : "NO", engine_exit, rss_start, rss_end,
              reconnects);
  bool failed = !engine_alive;
  uint64_t lost_total = 0;
  std::map<std::string, double> worst_isolated;
  std::map<std::string, double> worst_any;
  auto span_end = last_end + 1'000'000'000;
  for (auto* c : consumers) {
    auto times = c->times;
    std::sort(times.begin(), times.end());
    // The share of campaign seconds with data, and the longest silence.
    std::vector<bool> second_has_data(
      static_cast<size_t>((span_end - campaign_start) / 1'000'000'000 + 1));
    int64_t longest = 0;
    int64_t prev = campaign_start;
    for (auto t : times) {
      if (t < campaign_start || t > span_end)
        continue;
      second_has_data[static_cast<size_t>((t - campaign_start)
                                          / 1'000'000'000)]
        = true;
      longest = std::max(longest, t - prev);
      prev = t;
    }
    longest = std::max(longest, span_end - prev);
    auto with_data = std::count(second_has_data.begin(),
                                second_has_data.end(), true);
    auto streaming_after = first_after(times, last_end) > 0;
    failed = failed || !streaming_after || c->lost > 0;
    // The engine's own subscriber sees every reconnect; the others may
    // have been away themselves meanwhile (and know it).
    if (c == &in_process && c->gaps < reconnects) {
      std::printf("in-process: %llu gaps for %zu reconnects\n",
                  static_cast<unsigned long long>(c->gaps), reconnects);
      failed = true;
    }
    lost_total += c->lost;
    std::printf("%-16s records %zu, gaps %llu, lost without a gap %llu, "
                "duplicated %llu, data in %.0f %% of seconds, longest silence "
                "%.2f s, streaming after the last fault: %s\n",
                c->name.c_str(), c->times.size(),
                static_cast<unsigned long long>(c->gaps),
                static_cast<unsigned long long>(c->lost),
                static_cast<unsigned long long>(c->duplicated),
                100.0 * static_cast<double>(with_data)
                  / static_cast<double>(second_has_data.size()),
                static_cast<double>(longest) / 1e9,
                streaming_after ? "yes" : "NO");
    for (auto& p : c->problems)
      std::printf("  %s\n", p.c_str());
    // Outage past each fault's end: the wait for the next record. Isolated:
    // no other fault began before that record came.
    for (size_t i = 0; i < faults.size(); ++i) {
      auto next = first_after(times, faults[i].end);
      if (next < 0)
        continue;
      auto outage = static_cast<double>(next - faults[i].end) / 1e9;
      auto& any = worst_any[faults[i].kind];
      any = std::max(any, outage);
      if (i + 1 == faults.size() || faults[i + 1].start > next) {
        auto& iso = worst_isolated[faults[i].kind];
        iso = std::max(iso, outage);
      }
    }
  }
  std::printf("longest outage past a fault's end, by class (over all "
              "consumers; isolated = no other fault before data came back):\n");
  for (auto& [kind, any] : worst_any) {
    auto iso = worst_isolated.count(kind) ? worst_isolated[kind] : -1.0;
    std::printf("  %-13s %6.2f s   isolated %s\n", kind.c_str(), any,
                iso < 0 ? "(none)" : (std::to_string(iso).substr(0, 5) + " s")
                                       .c_str());
    if (opts.max_outage_s > 0 && iso > opts.max_outage_s)
      failed = true;
  }

  // The orders: one per client_order_id, and every reported one placed.
  auto orders = sim.call_broker([](sim::broker& b) { return b.orders(); });
  std::map<std::string, size_t> per_client_id;
  for (auto& o : orders)
    ++per_client_id[o.client_order_id];
  uint32_t duplicates = 0;
  uint32_t missing = 0;
  uint32_t succeeded = 0;
  for (auto& [id, out] : reports) {
    if (out.find("\"succeeded\":true") != std::string::npos)
      ++succeeded;
    for (uint32_t i = 0; i < 3; ++i) {
      auto coid = protocol::client_order_id_of(id, i);
      auto n = per_client_id[coid];
      if (n > 1) {
        duplicates += static_cast<uint32_t>(n - 1);
        std::printf("duplicate: %s placed %zu times\n", coid.c_str(), n);
      }
      auto reported = out.find("\"client_order_id\":\"" + coid
                               + "\",\"order_id\":\"");
      if (reported != std::string::npos && n == 0) {
        ++missing;
        std::printf("missing: %s reported but not at the broker\n",
                    coid.c_str());
      }
    }
  }
  failed = failed || duplicates > 0 || missing > 0;
  std::printf("plans %zu (succeeded %u), orders %zu, duplicate orders %u, "
              "missing orders %u\n",
              reports.size(), succeeded, orders.size(), duplicates, missing);
  std::printf("records lost without a gap: %llu\n%.1f s\n%s\n",
              static_cast<unsigned long long>(lost_total), seconds,
              failed ? "FAILED" : "ok");
  if (!opts.keep)
    std::system(("rm -rf '" + dir + "'").c_str());
  else
    std::printf("files kept in %s\n", dir.c_str());
  return failed ? 1 : 0;
}
