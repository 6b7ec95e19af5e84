#define CAF_SUITE actors.connection_supervisor
#include "actors/market/connection_supervisor.hpp"
#include "actors/market/market_tree.hpp"

#include <sstream>

#include "fixture.hpp"

#include "fake_link.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"

using namespace athanor;
using namespace athanor::testing;
using namespace std::chrono_literals;
using protocol::codec;

namespace {

caf::behavior idle_lessee(caf::event_based_actor*) {
  return {[](int) {}};
}

caf::behavior status_recorder(caf::event_based_actor*,
                              std::shared_ptr<std::vector<session_status>> out) {
  return {[out](session_status& x) { out->push_back(std::move(x)); }};
}

upstream_spec spec(std::string name, std::string url, std::string key) {
  upstream_spec result;
  result.name = std::move(name);
  result.session.url = std::move(url);
  result.session.encoding = codec::json;
  result.session.creds = credentials{secret{key}, secret{"CANARYSECRET"}};
  result.session.backoff.initial = 1s;
  result.session.backoff.jitter = 0.0;
  return result;
}

struct fixture : fixture_base {
  std::shared_ptr<fake_link_factory> links
    = std::make_shared<fake_link_factory>();
  connection_supervisor_actor sup;
  std::ostringstream logs;

  fixture() {
    log::configure({log::format::json, log::level::debug}, logs);
  }

  ~fixture() override {
    if (sup)
      self->send_exit(sup, caf::exit_reason::kill);
    sched.run();
    log::configure({log::format::human, log::level::off});
  }

  void start(connection_supervisor_config cfg = {}) {
    if (cfg.upstreams.empty()) {
      cfg.upstreams.push_back(spec("market", "wss://data.example/v2/iex", "K1"));
      cfg.upstreams.push_back(spec("market-copy", "wss://data.example/v2/iex",
                                   "K1"));
      cfg.upstreams.push_back(spec("crypto",
                                   "wss://data.example/v1beta3/crypto/us",
                                   "K1"));
    }
    cfg.links = links;
    cfg.restart_backoff.initial = 100ms;
    cfg.restart_backoff.jitter = 0.0;
    sup = unbox(spawn_connection_supervisor(sys, std::move(cfg)));
    sched.run();
  }

  caf::actor lessee() {
    return sys.spawn(idle_lessee);
  }

  lease take(const std::string& name, const caf::actor& who) {
    return fetch<lease>(sup, lease_atom::value, name, who);
  }

  std::vector<upstream_health> health() {
    return fetch<std::vector<upstream_health>>(sup, caf::get_atom::value);
  }

  // By value: CAF_CHECK_EQUAL(first_health().x, ...) would dangle.
  upstream_health first_health() {
    auto h = health();
    if (h.empty())
      CAF_FAIL("no upstream");
    return h.front();
  }

  caf::actor session_of(size_t link_index) {
    return links->links.at(link_index)->request.session;
  }

  void server_sends(size_t link_index, std::string frame) {
    auto& rec = *links->links.at(link_index);
    self->send(rec.request.session,
               decode_link_frame(rec.request.epoch, codec::json, frame, 1));
    sched.run();
  }

  void close_link(size_t link_index) {
    auto& rec = *links->links.at(link_index);
    self->send(rec.request.session,
               link_closed{rec.request.epoch, link_end::closed, 0, 0, ""});
    sched.run();
  }

  void advance(caf::timespan d) {
    sched.clock().advance_time(d);
    sched.run();
  }

  /// A recording subscriber of `t` at the lease's registry.
  std::shared_ptr<recorded> recorder_on(const lease& l, topic t) {
    auto out = std::make_shared<recorded>();
    auto sub = caf::actor_cast<subscriber_actor>(sys.spawn(recorder, out));
    fetch<std::vector<topic>>(l.registry, subscribe_atom::value, sub,
                              std::vector<topic>{std::move(t)}, trace::root());
    return out;
  }

  bool terminated(const caf::actor& x) {
    return x->getf(caf::abstract_actor::is_terminated_flag);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(connection_supervisor_tests, fixture)

CAF_TEST(leases of one endpoint and key share one session) {
  start();
  auto a = lessee();
  auto b = lessee();
  auto first = take("market", a);
  CAF_CHECK_EQUAL(links->links.size(), 1u);
  auto second = take("market-copy", b);
  auto third = take("market", b);
  CAF_CHECK_EQUAL(links->links.size(), 1u);
  CAF_CHECK(first.registry == second.registry);
  CAF_CHECK(first.registry == third.registry);
  CAF_CHECK_NOT_EQUAL(first.id, second.id);
  CAF_CHECK_EQUAL(first.fingerprint, fingerprint_of("K1"));
  take("crypto", a);
  CAF_CHECK_EQUAL(links->links.size(), 2u);
  auto h = health();
  CAF_REQUIRE_EQUAL(h.size(), 2u);
  for (auto& x : h) {
    if (x.endpoint == "wss://data.example/v2/iex") {
      CAF_CHECK_EQUAL(x.leases, 3u);
      CAF_CHECK_EQUAL(x.name, "market,market-copy");
    } else {
      CAF_CHECK_EQUAL(x.leases, 1u);
    }
    CAF_CHECK_EQUAL(x.state, session_state::connecting);
    CAF_CHECK_EQUAL(x.fingerprint, fingerprint_of("K1"));
  }
}

CAF_TEST(an unknown upstream is refused by name) {
  start();
  auto hdl = self->request(sup, caf::infinite, lease_atom::value,
                           std::string{"nope"}, lessee());
  sched.run();
  caf::error err;
  hdl.receive([](lease&) { CAF_FAIL("expected an error"); },
              [&](caf::error& x) { err = std::move(x); });
  CAF_CHECK_EQUAL(errc_of(err), engine_errc::not_found);
  CAF_CHECK_NOT_EQUAL(render(err).find("'nope'"), std::string::npos);
}

CAF_TEST(the last release closes the connection and its registry) {
  start();
  auto a = lessee();
  auto first = take("market", a);
  auto second = take("market", a);
  self->send(sup, release_atom::value, first.id);
  sched.run();
  CAF_CHECK(!links->links[0]->close_requested);
  // Releasing twice changes nothing.
  self->send(sup, release_atom::value, first.id);
  sched.run();
  CAF_CHECK_EQUAL(first_health().leases, 1u);
  self->send(sup, release_atom::value, second.id);
  sched.run();
  CAF_CHECK(links->links[0]->close_requested);
  close_link(0);
  CAF_CHECK(health().empty());
  CAF_CHECK(terminated(caf::actor_cast<caf::actor>(first.registry)));
}

CAF_TEST(a dead lessee releases its leases) {
  start();
  auto a = lessee();
  auto b = lessee();
  take("market", a);
  take("market", a);
  take("market", b);
  self->send_exit(a, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK_EQUAL(first_health().leases, 1u);
  self->send_exit(b, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK(links->links[0]->close_requested);
}

CAF_TEST(a crashed session restarts and its subscribers see a gap first) {
  start();
  auto a = lessee();
  auto l = take("market", a);
  auto out = recorder_on(l, {channel::quotes, "AAPL"});
  self->send_exit(session_of(0), caf::exit_reason::kill);
  sched.run();
  CAF_CHECK_EQUAL(links->links.size(), 1u);
  advance(100ms);
  CAF_REQUIRE_EQUAL(links->links.size(), 2u);
  // Epochs of the new incarnation never repeat those of the old one.
  CAF_CHECK_EQUAL(links->links[1]->request.epoch, (uint64_t{1} << 32) + 1);
  CAF_REQUIRE_EQUAL(out->gaps.size(), 1u);
  CAF_CHECK_EQUAL(out->gaps[0].reason, gap_reason::restart);
  CAF_CHECK_EQUAL(out->gaps[0].topics,
                  (std::vector<topic>{{channel::quotes, "AAPL"}}));
  auto h = health();
  CAF_CHECK_EQUAL(h.at(0).restarts, 1u);
  CAF_CHECK_EQUAL(h.at(0).leases, 1u);
  // The new session subscribes the registry's whole set.
  server_sends(1, protocol::encode_success(codec::json, "connected"));
  server_sends(1, protocol::encode_success(codec::json, "authenticated"));
  auto& sent = links->links[1]->sent;
  CAF_REQUIRE_EQUAL(sent.size(), 2u);
  CAF_CHECK_NOT_EQUAL(sent[1].find("\"quotes\":[\"AAPL\"]"),
                      std::string::npos);
}

CAF_TEST(too many restarts fail the connection loudly and only it) {
  connection_supervisor_config cfg;
  cfg.upstreams.push_back(spec("market", "wss://data.example/v2/iex", "K1"));
  cfg.upstreams.push_back(spec("crypto", "wss://data.example/v1beta3/crypto/us",
                               "K1"));
  cfg.max_restarts = 2;
  cfg.period = 60s;
  start(std::move(cfg));
  auto statuses = std::make_shared<std::vector<session_status>>();
  self->send(sup, listen_atom::value,
             caf::actor_cast<session_listener_actor>(
               sys.spawn(status_recorder, statuses)));
  sched.run();
  auto a = lessee();
  auto l = take("market", a);
  auto out = recorder_on(l, {channel::quotes, "AAPL"});
  // The last record the registry saw arrived at t=777.
  batch last;
  last.received_at = 777;
  self->send(l.registry, last);
  sched.run();
  for (size_t i = 0; i < 3; ++i) {
    self->send_exit(session_of(i), caf::exit_reason::kill);
    sched.run();
    if (i < 2)
      advance(1s);
  }
  CAF_CHECK(!terminated(caf::actor_cast<caf::actor>(sup)));
  advance(30s);
  CAF_CHECK_EQUAL(links->links.size(), 3u); // no fourth session
  auto h = first_health();
  CAF_CHECK_EQUAL(h.state, session_state::failed);
  CAF_CHECK_EQUAL(h.last_errc, "restart_intensity_exceeded");
  CAF_REQUIRE(!statuses->empty());
  CAF_CHECK_EQUAL(statuses->back().state, session_state::failed);
  CAF_CHECK_EQUAL(statuses->back().last_errc, "restart_intensity_exceeded");
  // Two restart gaps (one per restart), then the failure's, each from the
  // last record's receive time.
  CAF_REQUIRE_EQUAL(out->gaps.size(), 3u);
  CAF_CHECK_EQUAL(out->gaps.back().reason, gap_reason::restart);
  CAF_CHECK_EQUAL(out->gaps.back().since, 777);
  CAF_CHECK_EQUAL(out->gaps.back().topics,
                  (std::vector<topic>{{channel::quotes, "AAPL"}}));
  // A new lease learns why at once; another upstream is untouched.
  auto refused = self->request(sup, caf::infinite, lease_atom::value,
                               std::string{"market"}, lessee());
  sched.run();
  refused.receive(
    [](lease&) { CAF_FAIL("a failed connection granted a lease"); },
    [](caf::error& err) {
      CAF_CHECK(errc_of(err) == engine_errc::restart_intensity_exceeded);
    });
  take("crypto", lessee());
  CAF_CHECK_EQUAL(links->links.size(), 4u);
  CAF_CHECK_NOT_EQUAL(logs.str().find("connection_failed"),
                      std::string::npos);
}

CAF_TEST(listeners see every session state with fingerprints only) {
  start();
  auto statuses = std::make_shared<std::vector<session_status>>();
  auto listener = sys.spawn(status_recorder, statuses);
  self->send(sup, listen_atom::value,
             caf::actor_cast<session_listener_actor>(listener));
  sched.run();
  take("market", lessee());
  server_sends(0, protocol::encode_success(codec::json, "connected"));
  server_sends(0, protocol::encode_error(codec::json, 402, "auth failed"));
  CAF_REQUIRE(!statuses->empty());
  CAF_CHECK_EQUAL(statuses->back().state, session_state::failed);
  CAF_CHECK_EQUAL(statuses->back().last_errc, "auth_failed");
  CAF_CHECK_EQUAL(first_health().state, session_state::failed);
  CAF_CHECK_EQUAL(first_health().last_errc, "auth_failed");
  // The canary secret appears nowhere: not in logs, not in health.
  CAF_CHECK_EQUAL(logs.str().find("CANARYSECRET"), std::string::npos);
  for (auto& x : health())
    CAF_CHECK_EQUAL(caf::deep_to_string(x).find("CANARYSECRET"),
                    std::string::npos);
  CAF_CHECK_NOT_EQUAL(logs.str().find(fingerprint_of("K1")),
                      std::string::npos);
}

CAF_TEST(shutdown closes every connection and then exits) {
  start();
  take("market", lessee());
  take("crypto", lessee());
  self->send(sup, shutdown_atom::value);
  sched.run();
  CAF_CHECK(links->links[0]->close_requested);
  CAF_CHECK(links->links[1]->close_requested);
  close_link(0);
  CAF_CHECK(!terminated(caf::actor_cast<caf::actor>(sup)));
  close_link(1);
  CAF_CHECK(terminated(caf::actor_cast<caf::actor>(sup)));
  sup = nullptr;
}

CAF_TEST(a shutdown without the server close ends after the close timeout) {
  start();
  auto l = take("market", lessee());
  self->send(sup, shutdown_atom::value);
  sched.run();
  // The session gives up on the close handshake after its own timeout.
  advance(2s);
  CAF_CHECK(terminated(caf::actor_cast<caf::actor>(sup)));
  CAF_CHECK(terminated(caf::actor_cast<caf::actor>(l.registry)));
  sup = nullptr;
}

CAF_TEST(invalid upstreams are reported together) {
  connection_supervisor_config cfg;
  cfg.upstreams.push_back(spec("market", "http://x", "K1"));
  cfg.upstreams.push_back(spec("market", "wss://x", ""));
  auto problems = validate(cfg);
  std::string all;
  for (auto& x : problems)
    all += x.option + "\n";
  CAF_CHECK_NOT_EQUAL(all.find("athanor.upstreams.market.session.url"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(all.find("athanor.upstreams.market.name"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(all.find("athanor.connections.links"),
                      std::string::npos);
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- the market tree: the connection supervisor under a supervisor ----------

namespace {

struct tree_fixture : fixture {
  market_tree tree;

  void start_tree(uint32_t max_restarts = 3) {
    market_tree_config cfg;
    cfg.connections.upstreams.push_back(
      spec("market", "wss://data.example/v2/iex", "K1"));
    cfg.connections.links = links;
    cfg.supervisor.name = "market";
    cfg.supervisor.max_restarts = max_restarts;
    cfg.supervisor.period = 60s;
    cfg.supervisor.restart_backoff.initial = 100ms;
    cfg.supervisor.restart_backoff.jitter = 0.0;
    tree = unbox(spawn_market_tree(sys, std::move(cfg)));
    sup = tree.front;
    sched.run();
  }

  caf::actor connections() {
    return fetch<caf::actor>(tree.supervisor, which_atom::value,
                             std::string{"connections"});
  }

  /// The running connection supervisor dies as a bug would end it.
  void crash_connections() {
    self->send_exit(connections(), make_error(engine_errc::invalid_config,
                                              "injected crash"));
    sched.run();
  }

  /// The last record the registry saw arrived at t=777.
  void last_record_at_777(const lease& l) {
    batch last;
    last.received_at = 777;
    self->send(l.registry, last);
    sched.run();
  }

  void stream_on(size_t link_index) {
    server_sends(link_index, protocol::encode_success(codec::json, "connected"));
    server_sends(link_index,
                 protocol::encode_success(codec::json, "authenticated"));
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(market_tree_tests, tree_fixture)

CAF_TEST(a crashed connection supervisor restarts and its subscribers carry on) {
  start_tree();
  auto a = lessee();
  auto l = take("market", a);
  auto out = recorder_on(l, {channel::quotes, "AAPL"});
  stream_on(0);
  last_record_at_777(l);
  auto first = connections();
  crash_connections();
  // Its session died with it; the registry (every subscription) did not.
  CAF_CHECK(terminated(session_of(0)));
  CAF_CHECK(!terminated(caf::actor_cast<caf::actor>(l.registry)));
  CAF_CHECK(out->gaps.empty());
  advance(100ms);
  CAF_CHECK_NOT_EQUAL(connections(), first);
  // The next incarnation opens the connection again behind the same
  // registry; the subscriber hears of the loss from its last record on.
  CAF_REQUIRE_EQUAL(links->links.size(), 2u);
  CAF_REQUIRE_EQUAL(out->gaps.size(), 1u);
  CAF_CHECK_EQUAL(out->gaps[0].reason, gap_reason::restart);
  CAF_CHECK_EQUAL(out->gaps[0].since, 777);
  CAF_CHECK_EQUAL(out->gaps[0].topics,
                  (std::vector<topic>{{channel::quotes, "AAPL"}}));
  stream_on(1);
  auto& sent = links->links[1]->sent;
  CAF_REQUIRE_EQUAL(sent.size(), 2u);
  CAF_CHECK_NOT_EQUAL(sent[1].find("\"quotes\":[\"AAPL\"]"),
                      std::string::npos);
  subscription_set acked;
  acked[channel::quotes] = {"AAPL"};
  server_sends(1, protocol::encode_subscription(codec::json, acked, false));
  batch data;
  quote q;
  q.symbol = "AAPL";
  q.bid_price = 100;
  q.ask_price = 100.5;
  q.time = 1'700'000'000'000'000'000;
  data.quotes.push_back(q);
  server_sends(1, protocol::encode_batch(codec::json, data));
  CAF_REQUIRE_EQUAL(out->batches.size(), 1u);
  CAF_CHECK_EQUAL(out->batches[0].quotes.size(), 1u);
  CAF_CHECK_EQUAL(out->order, "gb");
  // The same handle, the same lease: health shows it, releasing it closes
  // the connection.
  auto h = first_health();
  CAF_CHECK_EQUAL(h.state, session_state::streaming);
  CAF_CHECK_EQUAL(h.leases, 1u);
  self->send(sup, release_atom::value, l.id);
  sched.run();
  CAF_CHECK(links->links[1]->close_requested);
  CAF_CHECK_NOT_EQUAL(logs.str().find("connections_resumed"),
                      std::string::npos);
}

CAF_TEST(leases asked for during a restart wait for the next incarnation) {
  start_tree();
  auto l = take("market", lessee());
  crash_connections();
  auto h = first_health();
  CAF_CHECK_EQUAL(h.state, session_state::backing_off);
  CAF_CHECK_EQUAL(h.leases, 1u);
  auto asked = self->request(sup, caf::infinite, lease_atom::value,
                             std::string{"market"}, lessee());
  sched.run();
  advance(100ms);
  asked.receive(
    [&](lease& x) {
      CAF_CHECK_EQUAL(x.registry, l.registry);
      CAF_CHECK_NOT_EQUAL(x.id, l.id);
    },
    [](caf::error& err) { CAF_FAIL("lease refused: " << render(err)); });
  CAF_CHECK_EQUAL(first_health().leases, 2u);
  CAF_CHECK_EQUAL(links->links.size(), 2u);
}

CAF_TEST(beyond its restart intensity the market tree fails loudly) {
  start_tree(1);
  auto statuses = std::make_shared<std::vector<session_status>>();
  self->send(sup, listen_atom::value,
             caf::actor_cast<session_listener_actor>(
               sys.spawn(status_recorder, statuses)));
  sched.run();
  auto l = take("market", lessee());
  auto out = recorder_on(l, {channel::quotes, "AAPL"});
  last_record_at_777(l);
  crash_connections();
  advance(100ms);
  CAF_REQUIRE_EQUAL(out->gaps.size(), 1u);
  crash_connections();
  advance(10s);
  CAF_CHECK(terminated(caf::actor_cast<caf::actor>(tree.supervisor)));
  // Listeners (athanor run ends with exit 70 on this), health and new
  // leases say why; the subscriber hears of the loss.
  CAF_REQUIRE(!statuses->empty());
  CAF_CHECK_EQUAL(statuses->back().state, session_state::failed);
  CAF_CHECK_EQUAL(statuses->back().last_errc, "restart_intensity_exceeded");
  CAF_CHECK_EQUAL(statuses->back().endpoint, "wss://data.example/v2/iex");
  auto h = first_health();
  CAF_CHECK_EQUAL(h.state, session_state::failed);
  CAF_CHECK_EQUAL(h.last_errc, "restart_intensity_exceeded");
  CAF_REQUIRE_EQUAL(out->gaps.size(), 2u);
  CAF_CHECK_EQUAL(out->gaps[1].reason, gap_reason::restart);
  CAF_CHECK_EQUAL(out->gaps[1].since, 777);
  auto refused = self->request(sup, caf::infinite, lease_atom::value,
                               std::string{"market"}, lessee());
  sched.run();
  refused.receive(
    [](lease&) { CAF_FAIL("a failed tree granted a lease"); },
    [](caf::error& err) {
      CAF_CHECK(errc_of(err) == engine_errc::restart_intensity_exceeded);
    });
  // The last release ends the registry.
  self->send(sup, release_atom::value, l.id);
  sched.run();
  CAF_CHECK(terminated(caf::actor_cast<caf::actor>(l.registry)));
  CAF_CHECK_NOT_EQUAL(logs.str().find("tree_failed"), std::string::npos);
}

CAF_TEST(a market tree shuts down cleanly through its front) {
  start_tree();
  auto l = take("market", lessee());
  self->send(sup, shutdown_atom::value);
  sched.run();
  CAF_CHECK(links->links[0]->close_requested);
  CAF_CHECK(!terminated(caf::actor_cast<caf::actor>(sup)));
  close_link(0);
  CAF_CHECK(terminated(caf::actor_cast<caf::actor>(l.registry)));
  CAF_CHECK(terminated(caf::actor_cast<caf::actor>(tree.supervisor)));
  CAF_CHECK(terminated(caf::actor_cast<caf::actor>(sup)));
  sup = nullptr;
}

CAF_TEST(an unknown upstream is refused by the tree as by its child) {
  start_tree();
  auto refused = self->request(sup, caf::infinite, lease_atom::value,
                               std::string{"nope"}, lessee());
  sched.run();
  refused.receive([](lease&) { CAF_FAIL("granted"); },
                  [](caf::error& err) {
                    CAF_CHECK(errc_of(err) == engine_errc::not_found);
                  });
}

CAF_TEST_FIXTURE_SCOPE_END()
