#define CAF_SUITE integration.admin
#include "runtime/admin_server.hpp"

#include "caf/test/unit_test.hpp"

#include "system_config.hpp"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>
#include <unistd.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"

#include "../sim/http_client.hpp"
#include "messages/error.hpp"
#include "messages/register.hpp"
#include "process.hpp"
#include "runtime/engine.hpp"
#include "sim/simulator.hpp"
#include "transport/tls.hpp"

using namespace athanor;
using namespace athanor::testing;
using namespace std::chrono_literals;

namespace {

using testing::system_config;

caf::behavior sink(caf::event_based_actor*) {
  return {[](const batch&) {}, [](const gap&) {}};
}

struct fixture {
  sim::simulator sim{[] {
    sim::simulator_options opts;
    opts.market.tick = 10ms;
    return opts;
  }()};
  system_config cfg;
  caf::actor_system sys{cfg};
  std::unique_ptr<engine> eng;
  std::unique_ptr<admin_server> admin;
  caf::actor consumer;

  fixture() {
    engine_options opts;
    upstream_spec spec;
    spec.name = "market";
    spec.session.url = "ws://127.0.0.1:" + std::to_string(sim.port())
                       + "/v2/iex";
    spec.session.creds = {secret{sim::default_key},
                          secret{sim::default_secret}};
    spec.session.backoff.initial = 100ms;
    spec.session.limit_backoff = 200ms;
    spec.session.limit_backoff_max = 400ms;
    // The 406 storm below must not open the breaker for its default minute.
    spec.breaker.failure_threshold = 50;
    spec.breaker.open_duration = 200ms;
    spec.registry.name = "market";
    opts.upstreams.push_back(spec);
    auto started = engine::start(sys, std::move(opts));
    if (!started)
      CAF_FAIL("engine: " << render(started.error()));
    eng = std::move(*started);
    admin_server_options admin_opts;
    admin_opts.admin.connections = eng->connections();
    admin_opts.admin.history_interval = 200ms;
    admin_opts.admin.version = "9.9.9-test";
    auto a = admin_server::start(sys, std::move(admin_opts));
    if (!a)
      CAF_FAIL("admin: " << render(a.error()));
    admin = std::move(*a);
    consumer = sys.spawn(sink);
  }

  ~fixture() {
    caf::anon_send_exit(consumer, caf::exit_reason::user_shutdown);
    admin.reset();
    eng.reset();
  }

  void subscribe() {
    auto leased = eng->subscribe("market",
                                 caf::actor_cast<subscriber_actor>(consumer),
                                 {{channel::quotes, "AAPL"}}, "admin-test");
    if (!leased)
      CAF_FAIL("subscribe: " << render(leased.error()));
  }

  http_result get(const std::string& path) {
    return http_call(admin->port(), "GET", path);
  }

  // Polls `path` until it answers `status` (or gives up after 10 s).
  bool eventually(const std::string& path, int status) {
    for (int i = 0; i < 100; ++i) {
      if (get(path).status == status)
        return true;
      std::this_thread::sleep_for(100ms);
    }
    return false;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(admin_tests, fixture)

CAF_TEST(healthz answers and readyz follows the upstream sessions) {
  CAF_CHECK_EQUAL(get("/healthz").status, 200);
  CAF_CHECK_EQUAL(get("/healthz").body, "ok\n");
  subscribe();
  CAF_CHECK(eventually("/readyz", 200));
  CAF_CHECK_NOT_EQUAL(get("/readyz").body.find("\"state\":\"streaming\""),
                      std::string::npos);
  // The server refuses every new connection for a while: not ready.
  sim.call([](sim::market_hub& hub) { hub.storm_406(3s); });
  sim.call([](sim::market_hub& hub) { hub.close_all(); });
  CAF_CHECK(eventually("/readyz", 503));
  CAF_CHECK(eventually("/readyz", 200));
  CAF_CHECK_EQUAL(get("/nope").status, 404);
}

CAF_TEST(metrics are prometheus text from every engine actor) {
  subscribe();
  CAF_REQUIRE(eventually("/readyz", 200));
  auto res = get("/metrics");
  CAF_CHECK_EQUAL(res.status, 200);
  CAF_CHECK_EQUAL(res.headers["content-type"].rfind("text/plain", 0), 0u);
  auto& text = res.body;
  CAF_CHECK_EQUAL(count_of(text, "# TYPE athanor_session_state gauge\n"), 1u);
  CAF_CHECK_NOT_EQUAL(text.find("state=\"streaming\"} 1\n"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(text.find("athanor_breaker_state{"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(text.find("athanor_subscriber_delivered_records_total{"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(text.find("athanor_connection_leases{"),
                      std::string::npos);
  // The subscriber under the name it gave.
  CAF_CHECK_NOT_EQUAL(text.find("subscriber=\"admin-test\""),
                      std::string::npos);
  // Fingerprints only: the key itself never shows.
  CAF_CHECK_EQUAL(text.find(sim::default_key), std::string::npos);
  CAF_CHECK_EQUAL(text.find(sim::default_secret), std::string::npos);
}

CAF_TEST(the status page renders in headless chromium) {
  subscribe();
  CAF_REQUIRE(eventually("/readyz", 200));
  // Rates need a whole second of data: wait until /metrics has them.
  auto positive = [this](const std::string& name) {
    auto text = get("/metrics").body;
    auto at = text.find("\n" + name + "{");
    if (at == std::string::npos)
      return false;
    auto value = std::atof(text.c_str() + text.find("} ", at) + 2);
    return value > 0;
  };
  for (int i = 0; i < 50 && !positive("athanor_subscriber_records_per_second");
       ++i)
    std::this_thread::sleep_for(100ms);
  CAF_REQUIRE(positive("athanor_session_records_per_second"));
  CAF_REQUIRE(positive("athanor_subscriber_records_per_second"));
  // Something for the timeline: the server drops us and refuses a while.
  sim.call([](sim::market_hub& hub) { hub.storm_406(1s); });
  sim.call([](sim::market_hub& hub) { hub.close_all(); });
  CAF_REQUIRE(eventually("/readyz", 503));
  CAF_REQUIRE(eventually("/readyz", 200));
  for (int i = 0; i < 50 && get("/status.json").body.find("-> streaming")
                              == std::string::npos;
       ++i)
    std::this_thread::sleep_for(100ms);
  auto json = get("/status.json").body;
  CAF_CHECK_NOT_EQUAL(json.find("\"verdict\":\"ready\""), std::string::npos);
  CAF_CHECK_NOT_EQUAL(json.find("\"version\":\"9.9.9-test\""),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(json.find("\"uptime_seconds\":"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(json.find("\"kind\":\"state\""), std::string::npos);
  auto page = get("/status");
  CAF_CHECK_EQUAL(page.status, 200);
  // No assets: nothing the page loads comes from elsewhere (the SVG
  // namespace URI names, it loads nothing).
  for (auto fetches : {"src=", "href=", "url(", "@import", "http://",
                       "https://"}) {
    auto at = page.body.find(fetches);
    while (at != std::string::npos
           && page.body.compare(at, 26, "http://www.w3.org/2000/svg") == 0)
      at = page.body.find(fetches, at + 1);
    CAF_CHECK_EQUAL(at, std::string::npos);
  }
  auto url = "http://127.0.0.1:" + std::to_string(admin->port()) + "/status";
  std::vector<std::string> common{"--headless", "--no-sandbox", "--disable-gpu",
                                  "--disable-dev-shm-usage",
                                  "--virtual-time-budget=5000"};
  // The page's script filled the tables from /status.json.
  auto dom_args = common;
  dom_args.push_back("--dump-dom");
  dom_args.push_back(url);
  child_process dom{"/usr/bin/chromium", dom_args, {{"HOME", "/tmp"}}};
  CAF_REQUIRE_EQUAL(dom.wait(60s), 0);
  CAF_CHECK_NOT_EQUAL(dom.out().find("<td class=\"streaming\">streaming</td>"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(dom.out().find("<td class=\"closed\">closed</td>"),
                      std::string::npos);
  // records/s of the upstream and of the subscriber, from the gauges.
  CAF_CHECK_EQUAL(count_of(dom.out(), "<td class=\"n rate\">"), 2u);
  CAF_CHECK_EQUAL(count_of(dom.out(), "<td class=\"n rate\">0<"), 0u);
  CAF_CHECK_EQUAL(count_of(dom.out(), "<td class=\"n rate\"><"), 0u);
  // The headline, and the charts the page drew from the history: records/s
  // and lag of the upstream and of the subscriber, each a line of points.
  CAF_CHECK_NOT_EQUAL(dom.out().find("<span id=\"verdict\" class=\"ready\">"
                                     "ready</span>"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(dom.out().find("version 9.9.9-test"), std::string::npos);
  CAF_CHECK_EQUAL(count_of(dom.out(), "<svg "), 4u);
  CAF_CHECK_EQUAL(count_of(dom.out(), "<polyline points=\"") +
                    count_of(dom.out(), "<polyline class=\"lag\" points=\""),
                  4u);
  CAF_CHECK_EQUAL(count_of(dom.out(), "<polyline points=\"\""), 0u);
  CAF_CHECK_NOT_EQUAL(dom.out().find("market: streaming -&gt; "),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(dom.out().find("-&gt; streaming</li>"),
                      std::string::npos);
  // And a screenshot, kept for a human to look at.
  auto shot = std::string{"/tmp/athanor-status-"} + std::to_string(getpid())
              + ".png";
  auto shot_args = common;
  shot_args.push_back("--window-size=1100,700");
  shot_args.push_back("--screenshot=" + shot);
  shot_args.push_back(url);
  child_process screenshot{"/usr/bin/chromium", shot_args, {{"HOME", "/tmp"}}};
  CAF_REQUIRE_EQUAL(screenshot.wait(60s), 0);
  std::ifstream png{shot, std::ios::binary};
  char magic[8] = {};
  png.read(magic, 8);
  CAF_CHECK_EQUAL(std::string(magic + 1, 3), "PNG");
  CAF_MESSAGE("screenshot: " << shot);
}

CAF_TEST(with a token every request but healthz needs the bearer) {
  admin_server_options opts;
  opts.admin.connections = eng->connections();
  opts.token = secret{"CANARYTOKEN"};
  auto started = admin_server::start(sys, std::move(opts));
  if (!started)
    CAF_FAIL("admin: " << render(started.error()));
  auto guarded = std::move(*started);
  auto port = guarded->port();
  CAF_CHECK_EQUAL(http_call(port, "GET", "/healthz").status, 200);
  auto none = http_call(port, "GET", "/metrics");
  CAF_CHECK_EQUAL(none.status, 401);
  CAF_CHECK_NOT_EQUAL(none.headers["www-authenticate"].find("Bearer"),
                      std::string::npos);
  CAF_CHECK_EQUAL(http_call(port, "GET", "/status", "",
                            {{"Authorization", "Bearer WRONG"}})
                    .status,
                  401);
  CAF_CHECK_EQUAL(http_call(port, "GET", "/metrics", "",
                            {{"Authorization", "CANARYTOKEN"}})
                    .status,
                  401);
  auto ok = http_call(port, "GET", "/metrics", "",
                      {{"Authorization", "Bearer CANARYTOKEN"}});
  CAF_CHECK_EQUAL(ok.status, 200);
  CAF_CHECK_NOT_EQUAL(ok.body.find("athanor_"), std::string::npos);
  CAF_CHECK_EQUAL(ok.body.find("CANARYTOKEN"), std::string::npos);
}

CAF_TEST(with a certificate the admin speaks https only) {
  auto pems = transport::make_self_signed({"localhost", "127.0.0.1"});
  admin_server_options opts;
  opts.admin.connections = eng->connections();
  opts.tls = {pems.certificate, pems.private_key, ""};
  opts.token = secret{"CANARYTOKEN"};
  auto started = admin_server::start(sys, std::move(opts));
  if (!started)
    CAF_FAIL("admin: " << render(started.error()));
  auto secured = std::move(*started);
  CAF_CHECK_EQUAL(secured->url().substr(0, 8), "https://");
  auto port = secured->port();
  CAF_CHECK_EQUAL(https_call(port, pems.certificate, "GET", "/healthz").status,
                  200);
  CAF_CHECK_EQUAL(https_call(port, pems.certificate, "GET", "/metrics").status,
                  401);
  auto ok = https_call(port, pems.certificate, "GET", "/metrics",
                       {{"Authorization", "Bearer CANARYTOKEN"}});
  CAF_CHECK_EQUAL(ok.status, 200);
  CAF_CHECK_NOT_EQUAL(ok.body.find("athanor_"), std::string::npos);
  // Plain http gets no answer, and a client trusting another CA refuses.
  CAF_CHECK_EQUAL(http_call(port, "GET", "/healthz").status, 0);
  auto other = transport::make_self_signed({"localhost"});
  CAF_CHECK_EQUAL(https_call(port, other.certificate, "GET", "/healthz").status,
                  0);
}

CAF_TEST(an admin with a key that is not its certificates does not start) {
  auto pems = transport::make_self_signed({"localhost"});
  auto other = transport::make_self_signed({"localhost"});
  admin_server_options opts;
  opts.admin.connections = eng->connections();
  opts.tls = {pems.certificate, other.private_key, ""};
  auto started = admin_server::start(sys, std::move(opts));
  CAF_REQUIRE(!started);
  CAF_CHECK_NOT_EQUAL(render(started.error()).find("athanor.admin"),
                      std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()
