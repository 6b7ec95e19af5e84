// athanor-bench e2e: athanor-sim -> engine over loopback -> subscribers.
//
// athanor-sim runs as its own process (pinned to the first core when there
// are two); the engine runs here. For plain ws:// and for TLS, the same
// stream is first taken by a bare Beast receive-and-decode loop (the
// baseline), then through the engine to 1, 10, 100 and 1,000 subscriber
// actors that all want every record. Printed: records/s per subscriber,
// deliveries per second in total, records dropped or gapped, latency from
// the simulator's stamp to the subscriber's receipt, and this process's
// peak resident memory during the figure (engine and subscribers; the
// simulator is another process, and holds what the engine does not read). A last pass at 100 k
// records/s measures latency below saturation. Latency is end to end (from
// the simulator's stamp, so it includes the simulator and the kernel) and,
// separately, the engine's share: from the transport's receive stamp to the
// subscriber.

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <future>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"

#include "caf/io/middleman.hpp"

#include "actors/market/subscriber_registry.hpp"
#include "actors/remote/attachment.hpp"
#include "actors/remote/remote_front.hpp"
#include "messages/register.hpp"
#include "observability/log.hpp"
#include "protocol/market_data.hpp"
#include "runtime/engine.hpp"
#include "tape/tape_file.hpp"
#include "transport/io_thread.hpp"
#include "transport/ws_client.hpp"

#include "bench.hpp"

namespace athanor::bench {

namespace {

using clock_type = std::chrono::steady_clock;
using reset_atom_t = caf::atom_constant<caf::atom("reset")>;
using report_atom_t = caf::atom_constant<caf::atom("report")>;

timestamp_ns wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

// Latency samples in microseconds: the first record of every batch for the
// end-to-end figure (from the simulator's stamp), and the batch itself for
// the engine's share (from the transport's receive stamp). Counting is O(1)
// per batch so that the subscribers measure the engine, not themselves.
struct tally {
  uint64_t records = 0;
  std::vector<double> latency_us;
  std::vector<double> engine_us;

  void add(const batch& x, timestamp_ns now) {
    records += x.size();
    if (x.received_at > 0)
      engine_us.push_back(static_cast<double>(now - x.received_at) / 1e3);
    auto stamp = !x.quotes.empty()   ? x.quotes.front().time
                 : !x.trades.empty() ? x.trades.front().time
                                     : 0;
    // A recorded tape's stamps (the fast source's) are not send times.
    if (stamp > now - recorded_stamp_age)
      latency_us.push_back(static_cast<double>(now - stamp) / 1e3);
  }

  static constexpr timestamp_ns recorded_stamp_age = 3'600'000'000'000;

  void merge(const tally& other) {
    records += other.records;
    latency_us.insert(latency_us.end(), other.latency_us.begin(),
                      other.latency_us.end());
    engine_us.insert(engine_us.end(), other.engine_us.begin(),
                     other.engine_us.end());
  }
};

double percentile(std::vector<double>& xs, double p) {
  if (xs.empty())
    return 0;
  auto k = static_cast<size_t>(p / 100.0 * static_cast<double>(xs.size() - 1));
  std::nth_element(xs.begin(), xs.begin() + static_cast<ptrdiff_t>(k),
                   xs.end());
  return xs[k];
}

// -- the simulator process ------------------------------------------------------

std::string sibling(const std::string& name) {
  char path[4096] = {0};
  auto n = readlink("/proc/self/exe", path, sizeof(path) - 1);
  std::string self{path, n > 0 ? static_cast<size_t>(n) : 0};
  return self.substr(0, self.rfind('/') + 1) + name;
}

bool pin_to(int cpu) {
  if (std::thread::hardware_concurrency() < 2)
    return false;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set) == 0;
}

struct sim_process {
  pid_t pid = -1;
  uint16_t port = 0;
  std::string cert_pem;

  /// With `tape`, the simulator is the fast source (--replay-tape).
  sim_process(bool tls, double rate, int tick_ms, const std::string& tape = {}) {
    auto cert_path = "/tmp/athanor-bench-" + std::to_string(getpid()) + ".pem";
    std::vector<std::string> args{sibling("athanor-sim"),
                                  "--rate=" + std::to_string(rate),
                                  "--tick-ms=" + std::to_string(tick_ms),
                                  "--max-batch=100",
                                  "--no-deflate",
                                  "--max-queued-bytes=1000000000"};
    if (!tape.empty())
      args.push_back("--replay-tape=" + tape);
    if (tls) {
      args.push_back("--tls");
      args.push_back("--tls-cert-out=" + cert_path);
    }
    int out[2];
    if (pipe(out) != 0)
      return;
    pid = fork();
    if (pid == 0) {
      pin_to(0);
      dup2(out[1], STDOUT_FILENO);
      close(out[0]);
      close(out[1]);
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    auto in = fdopen(out[0], "r");
    char line[256] = {0};
    if (fgets(line, sizeof(line), in) != nullptr) {
      std::string text{line};
      auto colon = text.rfind(':');
      if (colon != std::string::npos)
        port = static_cast<uint16_t>(std::atoi(text.c_str() + colon + 1));
    }
    fclose(in);
    if (tls) {
      std::ifstream file{cert_path};
      std::stringstream pem;
      pem << file.rdbuf();
      cert_pem = pem.str();
      std::remove(cert_path.c_str());
    }
  }

  ~sim_process() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
  }

  std::string url(bool tls) const {
    return std::string{tls ? "wss://localhost:" : "ws://127.0.0.1:"}
           + std::to_string(port) + "/v2/iex";
  }
};

subscription_set everything() {
  subscription_set result;
  result[channel::quotes] = {"*"};
  result[channel::trades] = {"*"};
  return result;
}

// -- the baseline: Beast receive and decode, nothing else -----------------------

struct baseline_result {
  double records_per_second = 0;
  tally t;
};

baseline_result run_baseline(const sim_process& sim, bool tls,
                             double seconds) {
  transport::io_thread io;
  struct shared {
    std::atomic<bool> measuring{false};
    std::atomic<bool> stop{false};
    tally t;
    protocol::market_frame frame;
  };
  auto st = std::make_shared<shared>();
  transport::ws_client_options opts;
  opts.url = sim.url(tls);
  opts.ca_pem = sim.cert_pem;
  opts.headers["Content-Type"] = "application/msgpack";
  opts.max_in_flight = 1u << 20;
  std::unique_ptr<transport::ws_client> client;
  transport::ws_client* raw = nullptr;
  transport::ws_client_events events;
  auto creds = credentials{secret{"SIMKEY"}, secret{"SIMSECRET"}};
  auto stage = std::make_shared<int>(0);
  std::promise<void> streaming;
  auto started = std::make_shared<bool>(false);
  events.on_frame = [&, st, stage, started](std::string frame, bool) {
    auto now = wall_ns();
    st->frame.clear();
    protocol::decode_problem problem;
    protocol::decode_msgpack(frame.data(), frame.size(), st->frame, problem);
    if (*stage == 0) {
      raw->send(protocol::encode_auth(protocol::codec::msgpack, creds), true);
      *stage = 1;
    } else if (*stage == 1 && !st->frame.controls.empty()) {
      raw->send(protocol::encode_subscribe(protocol::codec::msgpack,
                                           everything()),
                true);
      *stage = 2;
    } else if (*stage == 2 && !st->frame.controls.empty()) {
      *stage = 3;
      if (!*started) {
        *started = true;
        streaming.set_value();
      }
    }
    if (st->measuring)
      st->t.add(st->frame.data, now);
    raw->ack(1);
  };
  events.on_closed = [](const transport::ws_closed&) {};
  client = transport::ws_client::connect(io, opts, events);
  raw = client.get();
  streaming.get_future().wait_for(std::chrono::seconds{5});
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  st->measuring = true;
  auto start = clock_type::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  st->measuring = false;
  auto took = std::chrono::duration<double>(clock_type::now() - start).count();
  client.reset();
  baseline_result result;
  result.t = std::move(st->t);
  result.records_per_second = static_cast<double>(result.t.records) / took;
  return result;
}

// -- the engine ---------------------------------------------------------------------

caf::behavior counting_subscriber(caf::event_based_actor*) {
  auto t = std::make_shared<tally>();
  auto measuring = std::make_shared<bool>(false);
  return {
    [t, measuring](const batch& x) {
      if (*measuring)
        t->add(x, wall_ns());
    },
    [](const gap&) {},
    [t, measuring](reset_atom_t, bool on) {
      *measuring = on;
      if (on)
        *t = tally{};
    },
    [t](report_atom_t) {
      return caf::make_message(t->records, t->latency_us, t->engine_us);
    },
  };
}

struct engine_result {
  double per_subscriber = 0;
  double deliveries = 0;
  uint64_t dropped = 0;
  uint64_t gaps = 0;
  tally t;
  /// Peak resident memory of this process during the figure, MB.
  double peak_rss_mb = 0;
};

// This process's resident memory: "VmHWM" (the peak since the last reset)
// or "VmRSS" (now), in MB.
double rss_mb(const char* which = "VmHWM") {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  auto prefix = std::string{which} + ":";
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0)
      return std::atof(line.c_str() + prefix.size()) / 1024.0;
  return 0;
}

// Starts a new peak (Linux: clear_refs 5 resets VmHWM to VmRSS).
void reset_peak_rss() {
  std::ofstream{"/proc/self/clear_refs"} << "5";
}

struct bench_config : caf::actor_system_config {
  bench_config() {
    athanor::add_message_types(*this);
    set("scheduler.max-threads", 1);
    // As the engine binary runs (see app/run.cpp); overridable to compare.
    size_t throughput = 4;
    if (auto x = std::getenv("ATHANOR_BENCH_THROUGHPUT"))
      throughput = static_cast<size_t>(std::atoi(x));
    set("scheduler.max-throughput", throughput);
    if (auto policy = std::getenv("ATHANOR_BENCH_POLICY"))
      set("scheduler.policy", caf::atom_from_string(policy));
  }
};

// Where the subscribers live: in the engine's node, or in a second actor
// system (another node, its own middleman) reaching the engine's published
// front over BASP on loopback, each with its own attachment or all through
// one shared attachment and a registry in their node (remote_engine).
enum class placement { local, remote, remote_shared };

engine_result run_engine(const sim_process& sim, bool tls, size_t subscribers,
                         double seconds, placement where = placement::local) {
  bool remote = where != placement::local;
  reset_peak_rss();
  bench_config cfg;
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  bench_config consumer_cfg;
  consumer_cfg.load<caf::io::middleman>();
  std::unique_ptr<caf::actor_system> consumer_sys;
  if (remote)
    consumer_sys = std::make_unique<caf::actor_system>(consumer_cfg);
  engine_options opts;
  upstream_spec spec;
  spec.name = "market";
  spec.session.url = sim.url(tls);
  spec.session.encoding = protocol::codec::msgpack;
  spec.session.creds = credentials{secret{"SIMKEY"}, secret{"SIMSECRET"}};
  spec.session.silence_timeout = std::chrono::seconds{0};
  if (auto x = std::getenv("ATHANOR_BENCH_IN_FLIGHT"))
    spec.registry.max_in_flight = static_cast<uint32_t>(std::atoi(x));
  opts.upstreams.push_back(spec);
  opts.link.ca_pem = sim.cert_pem;
  auto eng = engine::start(sys, std::move(opts));
  if (!eng) {
    std::fprintf(stderr, "engine: %s\n", sys.render(eng.error()).c_str());
    return {};
  }
  std::vector<caf::actor> subs;
  std::vector<caf::actor> links;
  lease l;
  remote_front_actor front;
  uint16_t port = 0;
  if (remote) {
    remote_front_config front_cfg;
    front_cfg.connections = (*eng)->connections();
    front = spawn_remote_front(sys, std::move(front_cfg));
    auto bound = sys.middleman().publish(front, 0, "127.0.0.1", true);
    if (!bound) {
      std::fprintf(stderr, "publish: %s\n", sys.render(bound.error()).c_str());
      return {};
    }
    port = *bound;
  }
  const std::vector<topic> everything{{channel::quotes, "*"},
                                      {channel::trades, "*"}};
  // An attachment in the consumers' node to the published front.
  auto attach_to = [&](subscriber_actor consumer, std::vector<topic> topics) {
    attachment_config a;
    a.middleman = caf::actor_cast<caf::actor>(
      consumer_sys->middleman().actor_handle());
    a.host = "127.0.0.1";
    a.port = port;
    a.endpoint = "basp://127.0.0.1:" + std::to_string(port);
    a.topics = std::move(topics);
    a.consumer = std::move(consumer);
    auto link = spawn_attachment(*consumer_sys, std::move(a));
    links.push_back(caf::actor_cast<caf::actor>(link));
    return link;
  };
  registry_actor shared_registry;
  if (where == placement::remote_shared) {
    shared_registry = *spawn_subscriber_registry(*consumer_sys, {});
    auto link = attach_to(shared_registry, {});
    caf::anon_send(shared_registry, attach_atom::value,
                   desire_sink_actor{link});
  }
  for (size_t i = 0; i < subscribers; ++i) {
    if (where == placement::remote_shared) {
      auto sub = consumer_sys->spawn(counting_subscriber);
      caf::scoped_actor asker{*consumer_sys};
      asker
        ->request(shared_registry, std::chrono::seconds{5},
                  subscribe_atom::value,
                  caf::actor_cast<subscriber_actor>(sub), everything,
                  trace::root())
        .receive([](std::vector<topic>&) {}, [](caf::error&) {});
      subs.push_back(sub);
      continue;
    }
    if (remote) {
      auto sub = consumer_sys->spawn(counting_subscriber);
      attach_to(caf::actor_cast<subscriber_actor>(sub), everything);
      subs.push_back(sub);
      continue;
    }
    auto sub = sys.spawn(counting_subscriber);
    auto leased = (*eng)->subscribe(
      "market", caf::actor_cast<subscriber_actor>(sub), everything);
    if (leased)
      l = *leased;
    subs.push_back(sub);
  }
  if (remote) {
    // Every attachment streams before the clock starts.
    caf::scoped_actor waiter{*consumer_sys};
    for (auto& link : links)
      for (int i = 0; i < 100; ++i) {
        bool streaming = false;
        waiter->request(caf::actor_cast<attachment_actor>(link),
                        std::chrono::seconds{5}, caf::get_atom::value)
          .receive(
            [&](session_status& x) {
              streaming = x.state == session_state::streaming;
            },
            [](caf::error&) {});
        if (streaming)
          break;
        std::this_thread::sleep_for(std::chrono::milliseconds{50});
      }
  }
  caf::scoped_actor self{sys};
  // Warm up until streaming, then measure.
  for (int i = 0; i < 50; ++i) {
    auto h = (*eng)->health();
    if (h && !h->empty() && h->front().state == session_state::streaming)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  std::this_thread::sleep_for(std::chrono::milliseconds{300});
  for (auto& s : subs)
    caf::anon_send(s, reset_atom_t::value, true);
  auto start = clock_type::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  for (auto& s : subs)
    caf::anon_send(s, reset_atom_t::value, false);
  auto took = std::chrono::duration<double>(clock_type::now() - start).count();
  engine_result result;
  auto& subs_sys = remote ? *consumer_sys : sys;
  caf::scoped_actor reporter{subs_sys};
  for (auto& s : subs) {
    reporter->request(s, std::chrono::seconds{30}, report_atom_t::value)
      .receive(
        [&](uint64_t records, std::vector<double>& latency,
            std::vector<double>& engine) {
          tally x;
          x.records = records;
          x.latency_us = std::move(latency);
          x.engine_us = std::move(engine);
          result.t.merge(x);
        },
        [](caf::error&) {});
  }
  // Drops and gaps of the engine's registry and, when shared, the one in
  // the consumers' node.
  auto count_losses = [&](caf::scoped_actor& asker, const registry_actor& reg) {
    if (!reg)
      return;
    asker->request(reg, std::chrono::seconds{30}, caf::get_atom::value)
      .receive(
        [&](registry_stats& x) {
          for (auto& s : x.subscribers) {
            result.dropped += s.dropped_records;
            result.gaps += s.gaps;
          }
        },
        [](caf::error&) {});
  };
  count_losses(self, l.registry);
  count_losses(reporter, shared_registry);
  result.peak_rss_mb = rss_mb();
  result.deliveries = static_cast<double>(result.t.records) / took;
  result.per_subscriber = result.deliveries / static_cast<double>(subscribers);
  for (auto& x : links)
    caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
  if (shared_registry)
    caf::anon_send_exit(shared_registry, caf::exit_reason::user_shutdown);
  if (front)
    caf::anon_send_exit(front, caf::exit_reason::user_shutdown);
  eng->reset();
  for (auto& s : subs)
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  return result;
}

void print_row(const char* what, double per_sub, double total,
               const char* drops, tally& t, double baseline,
               double rss = 0) {
  char engine[48] = "-";
  if (!t.engine_us.empty())
    std::snprintf(engine, sizeof(engine), "%.0f / %.0f",
                  percentile(t.engine_us, 50), percentile(t.engine_us, 99));
  char rss_text[16] = "-";
  if (rss > 0)
    std::snprintf(rss_text, sizeof(rss_text), "%.0f", rss);
  // A recorded source's stamps are old: no end-to-end latency then.
  char latency[3][16] = {"-", "-", "-"};
  if (!t.latency_us.empty()) {
    std::snprintf(latency[0], 16, "%.0f", percentile(t.latency_us, 50));
    std::snprintf(latency[1], 16, "%.0f", percentile(t.latency_us, 99));
    std::snprintf(latency[2], 16, "%.0f", percentile(t.latency_us, 99.9));
  }
  std::printf("  %-30s %10.0f %12.0f %9s %8s %8s %8s %13s %6.2f %7s\n",
              what, per_sub, total, drops, latency[0], latency[1], latency[2],
              engine, baseline > 0 ? per_sub / baseline : 0.0, rss_text);
}

void print_header() {
  std::printf("  %-30s %10s %12s %9s %8s %8s %8s %13s %6s %7s\n", "",
              "rec/s/sub", "deliveries/s", "dropped", "p50 us", "p99 us",
              "p99.9 us", "engine p50/99", "ratio", "RSS MB");
}

// A tape of `frames` frames of 100 quotes and trades over 100 symbols,
// as `athanor run --record` writes one: the fast source's input.
std::string write_bench_tape(size_t frames) {
  auto path = "/tmp/athanor-bench-" + std::to_string(getpid()) + ".tape";
  tape_file_writer writer{{path, uint64_t{1} << 34, 1}};
  if (!writer.open().empty())
    return {};
  tape_event x;
  x.kind = tape_kind::connect;
  x.epoch = 1;
  x.msgpack = true;
  x.data = "ws://bench/v2/iex";
  writer.write(x);
  x.kind = tape_kind::inbound;
  x.binary = true;
  // Stamps from long ago: the rows show no end-to-end latency for them.
  timestamp_ns t = 1'000'000'000;
  for (size_t i = 0; i < frames; ++i) {
    batch b;
    for (size_t k = 0; k < 50; ++k) {
      auto symbol = "S" + std::to_string((i * 50 + k) % 100);
      quote q;
      q.symbol = symbol;
      q.bid_exchange = 'V';
      q.ask_exchange = 'V';
      q.bid_price = 100 + static_cast<double>(k) / 100;
      q.ask_price = q.bid_price + 0.01;
      q.bid_size = 3;
      q.ask_size = 4;
      q.time = t + static_cast<timestamp_ns>(i * 100 + k);
      q.conditions = "R";
      q.tape = 'C';
      b.quotes.push_back(q);
      trade tr;
      tr.symbol = symbol;
      tr.id = static_cast<int64_t>(i * 50 + k);
      tr.exchange = 'V';
      tr.price = q.bid_price;
      tr.size = 100;
      tr.time = q.time;
      tr.conditions = "@";
      tr.tape = 'C';
      b.trades.push_back(tr);
    }
    x.time = t + static_cast<timestamp_ns>(i * 1000);
    x.data = protocol::encode_batch(protocol::codec::msgpack, b);
    writer.write(x);
  }
  writer.close();
  return path;
}

// Alpaca's official Node SDK on the same source, when node and the SDK
// are installed (tests/sdk/run.sh installs it to ~/.cache/athanor-sdk, or
// ATHANOR_SDK_CACHE); its records per second, or a negative number with
// the reason printed.
double run_js_sdk(const sim_process& sim, double seconds) {
  auto home = std::getenv("HOME");
  std::string cache = std::getenv("ATHANOR_SDK_CACHE")
                        ? std::getenv("ATHANOR_SDK_CACHE")
                        : std::string{home ? home : "/root"}
                            + "/.cache/athanor-sdk";
  auto modules = cache + "/node_modules";
  if (std::system("command -v node > /dev/null 2>&1") != 0
      || !std::ifstream{modules + "/@alpacahq/alpaca-trade-api/package.json"}) {
    std::printf("  %-30s (node or @alpacahq/alpaca-trade-api not in %s)\n",
                "JS SDK: not measured", modules.c_str());
    return -1;
  }
  auto command = "NODE_PATH='" + modules + "' timeout 60 node '"
                 ATHANOR_BENCH_DIR "/js_sdk_client.js' '" + sim.url(false)
                 + "' SIMKEY SIMSECRET " + std::to_string(seconds);
  auto pipe = popen(command.c_str(), "r");
  if (pipe == nullptr)
    return -1;
  char line[512] = {0};
  std::string out;
  while (fgets(line, sizeof(line), pipe) != nullptr)
    out += line;
  pclose(pipe);
  double records = 0;
  double took = 0;
  if (std::sscanf(out.c_str(), "{\"records\":%lf,\"seconds\":%lf", &records,
                  &took)
        != 2
      || took <= 0) {
    std::printf("  %-30s %s", "JS SDK: failed", out.c_str());
    return -1;
  }
  return records / took;
}

void run_pass(bool tls, double rate, int tick_ms, double seconds,
              const std::vector<size_t>& fanouts,
              const std::string& tape = {}, bool js_sdk = false) {
  sim_process sim{tls, rate, tick_ms, tape};
  if (sim.port == 0) {
    std::fprintf(stderr, "could not start athanor-sim\n");
    return;
  }
  auto base = run_baseline(sim, tls, seconds);
  print_row("beast+decode baseline", base.records_per_second,
            base.records_per_second, "-", base.t, base.records_per_second);
  double one_subscriber = 0;
  for (auto n : fanouts) {
    // The simulator allows one session per key: the baseline's is gone
    // (clean close), so the engine's connection gets the slot.
    auto r = run_engine(sim, tls, n, seconds);
    char label[64];
    std::snprintf(label, sizeof(label), "engine, %zu subscriber%s", n,
                  n == 1 ? "" : "s");
    char drops[32];
    std::snprintf(drops, sizeof(drops), "%llu",
                  static_cast<unsigned long long>(r.dropped));
    print_row(label, r.per_subscriber, r.deliveries, drops, r.t,
              base.records_per_second, r.peak_rss_mb);
    if (n == 1)
      one_subscriber = r.per_subscriber;
  }
  if (!js_sdk)
    return;
  auto js = run_js_sdk(sim, seconds);
  if (js <= 0)
    return;
  tally none;
  print_row("JS SDK (node), 1 client", js, js, "-", none,
            base.records_per_second);
  std::printf("  engine (1 subscriber) / JS SDK: %.1fx\n",
              one_subscriber / js);
}

// Local subscribers, then the same number in another node over BASP, from
// one simulator stream.
void run_remote_pass(double rate, int tick_ms, double seconds,
                     const std::vector<size_t>& fanouts) {
  sim_process sim{false, rate, tick_ms};
  if (sim.port == 0) {
    std::fprintf(stderr, "could not start athanor-sim\n");
    return;
  }
  for (auto n : fanouts) {
    auto local = run_engine(sim, false, n, seconds);
    auto remote = run_engine(sim, false, n, seconds, placement::remote);
    engine_result shared;
    if (n > 1)
      shared = run_engine(sim, false, n, seconds, placement::remote_shared);
    char label[64];
    for (auto* r : {&local, &remote, &shared}) {
      if (r == &shared && n == 1)
        continue;
      std::snprintf(label, sizeof(label), "%s, %zu subscriber%s",
                    r == &local    ? "local"
                    : r == &remote ? "remote (BASP)"
                                   : "remote shared",
                    n, n == 1 ? "" : "s");
      char drops[32];
      std::snprintf(drops, sizeof(drops), "%llu",
                    static_cast<unsigned long long>(r->dropped));
      print_row(label, r->per_subscriber, r->deliveries, drops, r->t,
                local.per_subscriber, r->peak_rss_mb);
    }
  }
}

} // namespace

int run_remote(const options& opts) {
  log::configure({log::format::human, log::level::error});
  bool pinned = pin_to(1);
  std::printf("remote: athanor-sim (own process%s) -> engine -> subscribers "
              "in this node (local) or in a second node over BASP on "
              "loopback (remote); %.1f s per figure; ratio = rec/s per "
              "subscriber / local's\n",
              pinned ? ", cores 0 | 1" : "", opts.seconds);
  std::printf("\nsimulator asked for 3 M records/s (saturation):\n");
  print_header();
  run_remote_pass(3'000'000, 5, opts.seconds, {1, 10});
  std::printf("\n100 k records/s, 1 ms ticks (latency below saturation):\n");
  print_header();
  run_remote_pass(100'000, 1, opts.seconds, {1});
  return 0;
}

int run_e2e(const options& opts) {
  log::configure({log::format::human, log::level::error});
  bool pinned = pin_to(1);
  std::printf("e2e: athanor-sim (own process%s) -> engine -> subscribers; "
              "%.1f s per figure; ratio = rec/s per subscriber / baseline\n",
              pinned ? ", cores 0 | 1" : "", opts.seconds);
  if (opts.subscribers > 0) {
    std::printf("\nplain, 3 M records/s asked, %zu subscribers only:\n",
                opts.subscribers);
    print_header();
    run_pass(false, 3'000'000, 5, opts.seconds, {opts.subscribers});
    return 0;
  }
  // The fast source first: frames encoded once, sent as fast as they are
  // read, so the figure is the engine's ceiling and not the generator's.
  auto tape = write_bench_tape(4000);
  for (bool tls : {false, true}) {
    std::printf("\n%s, fast source (athanor-sim --replay-tape: a recorded "
                "tape, frames encoded once):\n",
                tls ? "TLS" : "plain");
    print_header();
    run_pass(tls, 0, 5, opts.seconds, {1, 10, 100}, tape, !tls);
  }
  std::remove(tape.c_str());
  for (bool tls : {false, true}) {
    std::printf("\n%s, simulator asked for 3 M records/s (saturation):\n",
                tls ? "TLS" : "plain");
    print_header();
    run_pass(tls, 3'000'000, 5, opts.seconds, {1, 10, 100, 1000});
  }
  for (bool tls : {false, true}) {
    std::printf("\n%s, 100 k records/s, 1 ms ticks (latency below "
                "saturation):\n",
                tls ? "TLS" : "plain");
    print_header();
    run_pass(tls, 100'000, 1, opts.seconds, {1});
  }
  return 0;
}

} // namespace athanor::bench
