#define CAF_SUITE runtime.config
#include "runtime/config.hpp"

#include "caf/test/unit_test.hpp"

#include <cstdio>
#include <fstream>

#include <sstream>
#include <unistd.h>

#include "transport/tls.hpp"

using namespace athanor;
using namespace std::chrono_literals;

namespace {

std::set<std::string> options_of(const std::vector<config_problem>& xs) {
  std::set<std::string> result;
  for (auto& x : xs)
    result.insert(x.option);
  return result;
}

std::string write_temp(const std::string& text) {
  auto path = std::string{"/tmp/athanor-config-test-"}
              + std::to_string(::getpid()) + ".ini";
  std::ofstream out{path};
  out << text;
  return path;
}

// A file under /tmp that is removed with the value.
struct temp_file {
  std::string path;
  temp_file(const std::string& name, const std::string& text)
      : path("/tmp/athanor-config-test-" + std::to_string(::getpid()) + "-"
             + name) {
    std::ofstream{path} << text;
  }
  ~temp_file() {
    std::remove(path.c_str());
  }
};

} // namespace

CAF_TEST(defaults are valid and mean the simulator) {
  auto loaded = load_config({"check-config"}, {});
  CAF_CHECK(loaded.problems.empty());
  CAF_CHECK_EQUAL(loaded.subcommand, "check-config");
  CAF_CHECK(loaded.config.uses_simulator());
  CAF_CHECK_EQUAL(loaded.config.endpoints.feed, "iex");
  CAF_CHECK_EQUAL(loaded.config.breaker.failure_threshold, 5u);
}

CAF_TEST(every bad value is reported at once naming its option) {
  auto loaded = load_config(
    {"check-config", "--athanor.breaker.failure-threshold=0",
     "--athanor.breaker.open-duration=-5s", "--athanor.breaker.window-size=abc",
     "--athanor.breaker.failure-rate-threshold=150",
     "--athanor.alpaca.feed=nasdaq", "--athanor.log.format=xml",
     "--athanor.alpaca.base-url=ftp://example", "--athanor.nonsense=1",
     "--athanor.gateway.auth-timeout=0s"},
    {});
  std::set<std::string> expected{"athanor.gateway.auth-timeout",
                                 "athanor.breaker.failure-threshold",
                                 "athanor.breaker.open-duration",
                                 "athanor.breaker.window-size",
                                 "athanor.breaker.failure-rate-threshold",
                                 "athanor.alpaca.feed",
                                 "athanor.log.format",
                                 "athanor.alpaca.base-url",
                                 "athanor.nonsense"};
  CAF_CHECK_EQUAL(options_of(loaded.problems), expected);
}

CAF_TEST(the command line beats the environment which beats the file) {
  auto path = write_temp("[athanor.alpaca]\n"
                         "feed=\"sip\"\n"
                         "base-url=\"http://file:1\"\n"
                         "data-url=\"http://file:2\"\n"
                         "[athanor.breaker]\n"
                         "failure-threshold=7\n"
                         "open-duration=45s\n");
  environment env{{"ALPACA_BASE_URL", "http://env:1"},
                  {"APCA_API_DATA_URL", "http://env:2"}};
  auto loaded = load_config({"check-config", "--config-file=" + path,
                             "--athanor.alpaca.base-url=http://cli:1",
                             "--athanor.breaker.failure-threshold=9"},
                            env);
  std::remove(path.c_str());
  if (!loaded.problems.empty())
    CAF_FAIL("problems: " << to_string(loaded.problems));
  auto& cfg = loaded.config;
  CAF_CHECK_EQUAL(cfg.endpoints.feed, "sip"); // file
  CAF_CHECK_EQUAL(cfg.endpoints.data_url, "http://env:2"); // env alias
  CAF_CHECK_EQUAL(cfg.endpoints.base_url, "http://cli:1"); // cli
  CAF_CHECK_EQUAL(cfg.breaker.failure_threshold, 9u); // cli
  CAF_CHECK_EQUAL(cfg.breaker.open_duration, std::chrono::nanoseconds{45s});
}

CAF_TEST(the file is held to the command lines rules naming file and line) {
  temp_file file{"strict.ini", "; a comment\n"
                               "[athanor.breaker]\n"
                               "failure-threshold = \"7\"\n"
                               "failure-treshold = 7\n"
                               "open-duration = 10 s\n"
                               "[athanor.stream]\n"
                               "deflate = false ; bare booleans are fine\n"
                               "ca-file = \"\"\n"
                               "[athanor.strem]\n"
                               "deflate = true\n"
                               "garbage\n"
                               "[scheduler]\n"
                               "max-threads = 3\n"};
  auto loaded = load_config({"--config-file=" + file.path}, {});
  std::map<std::string, std::string> by_option;
  for (auto& p : loaded.problems) {
    CAF_MESSAGE(to_string(p));
    by_option[p.option] = p.message;
  }
  CAF_CHECK_EQUAL(by_option.size(), 5u);
  auto has = [&](const std::string& option, const std::string& text) {
    auto i = by_option.find(option);
    return i != by_option.end() && i->second.find(text) != std::string::npos
           && i->second.find(file.path) != std::string::npos;
  };
  CAF_CHECK(has("athanor.breaker.failure-threshold",
                "line 3 of "));
  CAF_CHECK(has("athanor.breaker.failure-threshold", "not a quoted string"));
  CAF_CHECK(has("athanor.breaker.failure-treshold",
                "did you mean athanor.breaker.failure-threshold?"));
  CAF_CHECK(has("athanor.breaker.open-duration", "line 5 of "));
  CAF_CHECK(has("athanor.strem.deflate", "unknown section [athanor.strem] "
                                         "(did you mean [athanor.stream]?)"));
  CAF_CHECK(has("config-file", "line 11 of "));
  // What was right still counts: the bare boolean, and CAF's own option
  // goes to the actor system.
  CAF_CHECK(!loaded.config.stream.deflate);
  CAF_CHECK_EQUAL(loaded.caf_arguments,
                  std::vector<std::string>{"--scheduler.max-threads=3"});
}

CAF_TEST(a streams breaker opens no longer than the reconnect cap) {
  auto defaults = load_config({}, {});
  CAF_REQUIRE(defaults.problems.empty());
  auto& cfg = defaults.config;
  auto stream = stream_breaker_of(cfg);
  CAF_CHECK_EQUAL(stream.open_duration, std::chrono::nanoseconds{30s});
  CAF_CHECK_EQUAL(stream.max_open_duration, std::chrono::nanoseconds{30s});
  CAF_CHECK_EQUAL(stream.failure_threshold, cfg.breaker.failure_threshold);
  // REST keeps the breaker as configured: one minute growing to ten.
  CAF_CHECK_EQUAL(cfg.breaker.max_open_duration,
                  std::chrono::nanoseconds{10min});
  auto quick = load_config({"--athanor.reconnect.max-delay=5s",
                            "--athanor.breaker.open-duration=2s"},
                           {});
  CAF_REQUIRE(quick.problems.empty());
  auto capped = stream_breaker_of(quick.config);
  CAF_CHECK_EQUAL(capped.open_duration, std::chrono::nanoseconds{2s});
  CAF_CHECK_EQUAL(capped.max_open_duration, std::chrono::nanoseconds{5s});
}

CAF_TEST(credentials come from either naming scheme) {
  auto seeds = load_config({}, {{"ALPACA_API_KEY", "k1"},
                                {"ALPACA_API_SECRET", "s1"}});
  CAF_CHECK(seeds.problems.empty());
  CAF_CHECK(!seeds.config.uses_simulator());
  CAF_CHECK_EQUAL(seeds.config.alpaca.key_id.reveal(), "k1");
  CAF_CHECK_EQUAL(seeds.alpaca_source, "ALPACA_API_KEY");
  auto sdk = load_config({}, {{"APCA_API_KEY_ID", "k2"},
                              {"APCA_API_SECRET_KEY", "s2"}});
  CAF_CHECK(sdk.problems.empty());
  CAF_CHECK_EQUAL(sdk.config.alpaca.secret_key.reveal(), "s2");
}

CAF_TEST(half set or conflicting credentials are problems) {
  auto half = load_config({}, {{"ALPACA_API_KEY", "k1"}});
  CAF_CHECK_EQUAL(options_of(half.problems),
                  std::set<std::string>{"ALPACA_API_SECRET"});
  auto clash = load_config({}, {{"ALPACA_API_KEY", "k1"},
                                {"APCA_API_KEY_ID", "k2"},
                                {"ALPACA_API_SECRET", "s"}});
  CAF_CHECK_EQUAL(options_of(clash.problems),
                  std::set<std::string>{"APCA_API_KEY_ID"});
  auto gateway = load_config({}, {{"ATHANOR_GATEWAY_SECRET", "g"}});
  CAF_CHECK_EQUAL(options_of(gateway.problems),
                  std::set<std::string>{"ATHANOR_GATEWAY_KEY"});
}

CAF_TEST(listeners off loopback without protection are problems) {
  auto exposed = load_config({"--athanor.admin.address=0.0.0.0",
                              "--athanor.gateway.address=192.168.1.5",
                              "--athanor.remote.publish=0.0.0.0:4242"},
                             {{"ATHANOR_GATEWAY_KEY", "g"},
                              {"ATHANOR_GATEWAY_SECRET", "s"},
                              {"ATHANOR_ADMIN_TOKEN", "t0ken"}});
  CAF_CHECK_EQUAL(options_of(exposed.problems),
                  (std::set<std::string>{"athanor.admin.address",
                                         "athanor.gateway.address",
                                         "athanor.remote.publish"}));
  for (auto& p : exposed.problems)
    CAF_CHECK_NOT_EQUAL(p.message.find(".insecure=true"), std::string::npos);
  // Accepted explicitly; loopback needs nothing; a gateway without
  // credentials does not run, so its address does not matter.
  auto accepted = load_config({"--athanor.admin.address=0.0.0.0",
                               "--athanor.admin.insecure=true",
                               "--athanor.remote.publish=0.0.0.0:4242",
                               "--athanor.remote.insecure=true",
                               "--athanor.gateway.address=0.0.0.0"},
                              {{"ATHANOR_ADMIN_TOKEN", "t0ken"}});
  CAF_CHECK(accepted.problems.empty());
  // Off loopback the admin endpoint also needs its token.
  CAF_CHECK_EQUAL(options_of(load_config({"--athanor.admin.address=0.0.0.0",
                                          "--athanor.admin.insecure=true"},
                                         {})
                               .problems),
                  std::set<std::string>{"ATHANOR_ADMIN_TOKEN"});
  auto local = load_config({"--athanor.admin.address=127.0.0.2",
                            "--athanor.remote.publish=localhost:1"},
                           {});
  CAF_CHECK(local.problems.empty());
}

CAF_TEST(listeners with TLS serve off loopback and their files are checked) {
  auto pair = transport::make_self_signed({"localhost"});
  auto other = transport::make_self_signed({"localhost"});
  temp_file cert{"cert.pem", pair.certificate};
  temp_file key{"key.pem", pair.private_key};
  temp_file wrong_key{"wrong-key.pem", other.private_key};
  temp_file junk{"junk.pem", "not a certificate"};
  std::map<std::string, std::string> env{{"ATHANOR_GATEWAY_KEY", "g"},
                                         {"ATHANOR_GATEWAY_SECRET", "s"}};
  auto tls = [&](const std::string& prefix, const std::string& c,
                 const std::string& k) {
    std::vector<std::string> args{"--" + prefix + ".address=0.0.0.0"};
    if (!c.empty())
      args.push_back("--" + prefix + ".certificate=" + c);
    if (!k.empty())
      args.push_back("--" + prefix + ".key=" + k);
    return args;
  };
  CAF_CHECK(load_config(tls("athanor.gateway", cert.path, key.path), env)
              .problems.empty());
  // The admin endpoint off loopback needs its token, TLS or not.
  CAF_CHECK_EQUAL(
    options_of(load_config(tls("athanor.admin", cert.path, key.path), env)
                 .problems),
    std::set<std::string>{"ATHANOR_ADMIN_TOKEN"});
  auto with_token = env;
  with_token["ATHANOR_ADMIN_TOKEN"] = "t0ken";
  CAF_CHECK(load_config(tls("athanor.admin", cert.path, key.path), with_token)
              .problems.empty());
  // Each broken setting names its option, and half a pair is no TLS.
  auto problem = [&](std::vector<std::string> args) {
    auto loaded = load_config(std::move(args), env);
    CAF_REQUIRE(!loaded.problems.empty());
    CAF_MESSAGE(to_string(loaded.problems));
    return loaded.problems.front();
  };
  auto p = problem(tls("athanor.gateway", cert.path, ""));
  CAF_CHECK_EQUAL(p.option, "athanor.gateway.key");
  p = problem(tls("athanor.gateway", "", key.path));
  CAF_CHECK_EQUAL(p.option, "athanor.gateway.key");
  CAF_CHECK_NOT_EQUAL(p.message.find("certificate"), std::string::npos);
  p = problem(tls("athanor.gateway", "/nonexistent/cert.pem", key.path));
  CAF_CHECK_EQUAL(p.option, "athanor.gateway.certificate");
  CAF_CHECK_NOT_EQUAL(p.message.find("cannot read"), std::string::npos);
  p = problem(tls("athanor.gateway", junk.path, key.path));
  CAF_CHECK_EQUAL(p.option, "athanor.gateway.certificate");
  CAF_CHECK_NOT_EQUAL(p.message.find("no PEM certificate"), std::string::npos);
  p = problem(tls("athanor.gateway", cert.path, cert.path));
  CAF_CHECK_EQUAL(p.option, "athanor.gateway.key");
  CAF_CHECK_NOT_EQUAL(p.message.find("no PEM private key"), std::string::npos);
  p = problem(tls("athanor.gateway", cert.path, wrong_key.path));
  CAF_CHECK_EQUAL(p.option, "athanor.gateway.key");
  CAF_CHECK_NOT_EQUAL(p.message.find("not the private key"), std::string::npos);
  auto args = tls("athanor.gateway", cert.path, key.path);
  args.push_back("--athanor.gateway.client-ca-file=" + junk.path);
  p = problem(args);
  CAF_CHECK_EQUAL(p.option, "athanor.gateway.client-ca-file");
  p = problem({"--athanor.admin.client-ca-file=" + cert.path});
  CAF_CHECK_EQUAL(p.option, "athanor.admin.client-ca-file");
}

CAF_TEST(execute peers need tls and are required off loopback) {
  auto pair = transport::make_self_signed({"localhost"});
  temp_file cert{"peer-cert.pem", pair.certificate};
  temp_file key{"peer-key.pem", pair.private_key};
  auto tls = std::vector<std::string>{"--athanor.remote.certificate=" + cert.path,
                                      "--athanor.remote.key=" + key.path,
                                      "--athanor.remote.ca-file=" + cert.path};
  auto with = [&](std::vector<std::string> more) {
    auto args = tls;
    args.insert(args.end(), more.begin(), more.end());
    return options_of(load_config(args, {}).problems);
  };
  std::set<std::string> peers_only{"athanor.remote.execute-peers"};
  CAF_CHECK_EQUAL(with({"--athanor.remote.publish=0.0.0.0:4242",
                        "--athanor.remote.execute=true"}),
                  peers_only);
  CAF_CHECK(with({"--athanor.remote.publish=0.0.0.0:4242",
                  "--athanor.remote.execute=true",
                  "--athanor.remote.execute-peers=CN=desk-1,O=Example; "
                  "sha256:AB:CD"})
              .empty());
  CAF_CHECK(with({"--athanor.remote.publish=127.0.0.1:4242",
                  "--athanor.remote.execute=true"})
              .empty());
  CAF_CHECK_EQUAL(with({"--athanor.remote.execute-peers=desk-1"}), peers_only);
  CAF_CHECK_EQUAL(options_of(load_config({"--athanor.remote.execute-peers="
                                          "CN=desk-1"},
                                         {})
                               .problems),
                  peers_only);
  remote_settings r;
  r.execute_peers = " CN=a,O=b ;; sha256:01 ";
  CAF_CHECK_EQUAL(execute_peers_of(r),
                  (std::vector<std::string>{"CN=a,O=b", "sha256:01"}));
}

CAF_TEST(options take their value after a space too) {
  temp_file file{"spaced.ini", "[athanor.breaker]\nfailure-threshold = 7\n"};
  auto loaded = load_config({"check-config", "--config-file", file.path,
                             "--athanor.admin.port", "9000"},
                            {});
  CAF_CHECK(loaded.problems.empty());
  CAF_CHECK(loaded.arguments.empty());
  CAF_CHECK_EQUAL(loaded.config.breaker.failure_threshold, 7u);
  CAF_CHECK_EQUAL(loaded.config.admin.port, 9000u);
  CAF_CHECK_EQUAL(options_of(load_config({"--config-file"}, {}).problems),
                  std::set<std::string>{"--config-file"});
}

CAF_TEST(a missing config file is a problem) {
  auto loaded = load_config({"--config-file=/nonexistent/athanor.ini"}, {});
  CAF_CHECK_EQUAL(options_of(loaded.problems),
                  std::set<std::string>{"config-file"});
}

CAF_TEST(the rendered config loads back to the same values) {
  auto first = load_config({"--athanor.breaker.failure-rate-threshold=42.5",
                            "--athanor.breaker.window-type=time",
                            "--athanor.log.format=json",
                            "--athanor.reconnect.initial-delay=250ms"},
                           {});
  CAF_REQUIRE(first.problems.empty());
  auto text = render_ini(first.config);
  auto path = write_temp(text);
  auto second = load_config({"--config-file=" + path}, {});
  std::remove(path.c_str());
  CAF_REQUIRE(second.problems.empty());
  CAF_CHECK_EQUAL(render_ini(second.config), text);
  CAF_CHECK_EQUAL(second.config.breaker.failure_rate_threshold, 42.5);
  CAF_CHECK(second.config.breaker.window == window_kind::time);
  CAF_CHECK(second.config.logging.fmt == log::format::json);
  CAF_CHECK_EQUAL(second.config.reconnect.initial,
                  std::chrono::nanoseconds{250ms});
}

CAF_TEST(the example config lists every option with its default) {
  std::ifstream file{ATHANOR_SOURCE_DIR "/config/athanor.example.ini"};
  CAF_REQUIRE(file.good());
  std::stringstream text;
  text << file.rdbuf();
  CAF_CHECK_EQUAL(text.str(), render_ini(engine_config{}));
}

CAF_TEST(positional arguments and CAF options are kept apart) {
  auto loaded = load_config({"execute", "plan.json",
                             "--scheduler.max-threads=2",
                             "--athanor.log.level=debug"},
                            {});
  CAF_CHECK(loaded.problems.empty());
  CAF_CHECK_EQUAL(loaded.subcommand, "execute");
  CAF_CHECK_EQUAL(loaded.arguments, std::vector<std::string>{"plan.json"});
  CAF_CHECK_EQUAL(loaded.caf_arguments,
                  std::vector<std::string>{"--scheduler.max-threads=2"});
  CAF_CHECK(loaded.config.logging.min_level == log::level::debug);
}

CAF_TEST(stream and registry options are read and validated together) {
  auto good = load_config({"run", "--athanor.stream.encoding=json",
                           "--athanor.stream.deflate=true",
                           "--athanor.stream.silence-timeout=0s",
                           "--athanor.registry.max-queued-records=500"},
                          {});
  CAF_CHECK(good.problems.empty());
  CAF_CHECK(good.config.stream.encoding == protocol::codec::json);
  CAF_CHECK(good.config.stream.deflate);
  CAF_CHECK_EQUAL(good.config.stream.silence_timeout.count(), 0);
  CAF_CHECK_EQUAL(good.config.registry.max_queued_records, 500u);
  auto bad = load_config({"run", "--athanor.stream.encoding=xml",
                          "--athanor.stream.pong-timeout=0s",
                          "--athanor.registry.max-in-flight=0"},
                         {});
  std::vector<std::string> options;
  for (auto& x : bad.problems)
    options.push_back(x.option);
  CAF_CHECK_EQUAL(options, (std::vector<std::string>{
                             "athanor.stream.encoding",
                             "athanor.stream.pong-timeout",
                             "athanor.registry.max-in-flight"}));
}

CAF_TEST(jitter is on and seeded per process unless a seed is configured) {
  auto first = load_config({"run"}, {});
  auto second = load_config({"run"}, {});
  CAF_REQUIRE(first.problems.empty());
  CAF_CHECK_EQUAL(first.config.reconnect.jitter, 0.2);
  CAF_CHECK_EQUAL(first.config.breaker.open_jitter, 0.2);
  CAF_CHECK_NOT_EQUAL(first.config.reconnect.seed, 0u);
  CAF_CHECK_NOT_EQUAL(first.config.reconnect.seed,
                      second.config.reconnect.seed);
  CAF_CHECK_NOT_EQUAL(first.config.breaker.seed, second.config.breaker.seed);
  auto pinned = load_config({"run", "--athanor.reconnect.seed=7",
                             "--athanor.breaker.seed=9"},
                            {});
  CAF_REQUIRE(pinned.problems.empty());
  CAF_CHECK_EQUAL(pinned.config.reconnect.seed, 7u);
  CAF_CHECK_EQUAL(pinned.config.breaker.seed, 9u);
}
