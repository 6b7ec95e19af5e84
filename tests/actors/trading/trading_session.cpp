#define CAF_SUITE actors.trading_session
#include "actors/trading/trading_session.hpp"

#include "fixture.hpp"

#include "actors/resilience/breaker.hpp"
#include "fake_link.hpp"
#include "protocol/trading.hpp"

using namespace athanor;
using namespace athanor::testing;
using namespace std::chrono_literals;

namespace {

struct heard {
  std::vector<order_update> updates;
  std::vector<session_state> states;
};

caf::behavior listener(caf::event_based_actor*, std::shared_ptr<heard> out) {
  return {
    [out](order_update& x) { out->updates.push_back(std::move(x)); },
    [out](session_status& x) { out->states.push_back(x.state); },
  };
}

order_update fill_of(const std::string& client_order_id) {
  order_update u;
  u.event = trade_event::fill;
  u.subject.id = "o-1";
  u.subject.client_order_id = client_order_id;
  u.subject.symbol = "AAPL";
  u.subject.status = order_status::filled;
  u.subject.qty = decimal::from_integer(1);
  u.subject.filled_qty = decimal::from_integer(1);
  u.qty = decimal::from_integer(1);
  u.price = decimal{10000, 2};
  return u;
}

struct fixture : fixture_base {
  std::shared_ptr<fake_link_factory> links
    = std::make_shared<fake_link_factory>();
  std::shared_ptr<heard> out = std::make_shared<heard>();
  trading_session_actor session;
  caf::actor ear;

  trading_session_config config() {
    trading_session_config cfg;
    cfg.url = "ws://127.0.0.1:1/stream";
    cfg.creds = {secret{"KEY"}, secret{"SECRET"}};
    cfg.links = links;
    cfg.backoff.jitter = 0;
    cfg.backoff.initial = 1s;
    return cfg;
  }

  void start() {
    start(config());
  }

  void start(trading_session_config cfg) {
    session = unbox(spawn_trading_session(sys, std::move(cfg)));
    ear = sys.spawn(listener, out);
    self->send(session, listen_atom::value,
               caf::actor_cast<order_listener_actor>(ear));
    sched.run();
  }

  ~fixture() override {
    self->send_exit(session, caf::exit_reason::user_shutdown);
    self->send_exit(ear, caf::exit_reason::user_shutdown);
    sched.run();
  }

  fake_link_record& link() {
    return *links->links.back();
  }

  uint64_t epoch() {
    return link().request.epoch;
  }

  void server_says(const std::string& frame) {
    self->send(session, trading_frame{epoch(), frame});
    sched.run();
  }

  void open_and_listen() {
    self->send(session, link_opened{epoch()});
    sched.run();
    server_says(protocol::encode_authorization(true, "authenticate"));
    server_says(protocol::encode_listening({"trade_updates"}));
  }

  session_state state() {
    return fetch<session_status>(session, caf::get_atom::value).state;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(trading_session_tests, fixture)

CAF_TEST(it authenticates listens and is ready) {
  start();
  CAF_CHECK(link().request.trading);
  CAF_CHECK(state() == session_state::connecting);
  self->send(session, link_opened{epoch()});
  sched.run();
  CAF_REQUIRE_EQUAL(link().sent.size(), 1u);
  CAF_CHECK_NOT_EQUAL(link().sent[0].find("\"authenticate\""),
                      std::string::npos);
  server_says(protocol::encode_authorization(true, "authenticate"));
  CAF_REQUIRE_EQUAL(link().sent.size(), 2u);
  CAF_CHECK_NOT_EQUAL(link().sent[1].find("trade_updates"), std::string::npos);
  CAF_CHECK(state() == session_state::subscribing);
  server_says(protocol::encode_listening({"trade_updates"}));
  CAF_CHECK(state() == session_state::streaming);
  CAF_CHECK(out->states.back() == session_state::streaming);
}

CAF_TEST(order updates reach listeners and every frame is acknowledged) {
  start();
  open_and_listen();
  server_says(protocol::encode_trade_update(fill_of("ath-p-0")));
  server_says("{not json");
  server_says(protocol::encode_trade_update(fill_of("ath-p-1")));
  CAF_REQUIRE_EQUAL(out->updates.size(), 2u);
  CAF_CHECK_EQUAL(out->updates[1].subject.client_order_id, "ath-p-1");
  CAF_CHECK_EQUAL(link().acks, 5u);
  CAF_CHECK(state() == session_state::streaming);
}

CAF_TEST(a dropped stream reconnects after backoff and listens again) {
  start();
  open_and_listen();
  self->send(session, link_closed{epoch(), link_end::connection_lost, 0, 0,
                                  "reset"});
  sched.run();
  CAF_CHECK(state() == session_state::backing_off);
  CAF_CHECK_EQUAL(links->links.size(), 1u);
  sched.clock().advance_time(1s);
  sched.run();
  CAF_REQUIRE_EQUAL(links->links.size(), 2u);
  open_and_listen();
  CAF_CHECK(state() == session_state::streaming);
  // Listeners saw the stream go down and come back.
  auto& seen = out->states;
  CAF_CHECK(std::find(seen.begin(), seen.end(), session_state::backing_off)
            != seen.end());
  CAF_CHECK(seen.back() == session_state::streaming);
}

CAF_TEST(a refused key fails for good) {
  start();
  self->send(session, link_opened{epoch()});
  sched.run();
  server_says(protocol::encode_authorization(false, "authenticate"));
  CAF_CHECK(state() == session_state::failed);
  auto status = fetch<session_status>(session, caf::get_atom::value);
  CAF_CHECK_EQUAL(status.last_errc, "auth_failed");
  sched.clock().advance_time(10min);
  sched.run();
  CAF_CHECK_EQUAL(links->links.size(), 1u);
}

CAF_TEST(no answer to listen times out and retries) {
  start();
  self->send(session, link_opened{epoch()});
  sched.run();
  server_says(protocol::encode_authorization(true, "authenticate"));
  sched.clock().advance_time(10s);
  sched.run();
  CAF_CHECK(state() == session_state::backing_off);
  // Closed with a close frame, so the server frees the slot; kept until the
  // transport reports the end.
  CAF_CHECK(link().close_requested);
  CAF_CHECK(!link().destroyed);
  self->send(session, link_closed{epoch(), link_end::closed, 0, 1000, ""});
  sched.run();
  CAF_CHECK(link().destroyed);
  sched.clock().advance_time(1s);
  sched.run();
  CAF_CHECK_EQUAL(links->links.size(), 2u);
}

CAF_TEST(a 429 on the upgrade waits on the long schedule) {
  auto cfg = config();
  cfg.limit_backoff = 5s;
  start(std::move(cfg));
  for (auto wait : {5s, 10s}) {
    auto before = links->links.size();
    self->send(session, link_closed{epoch(), link_end::rate_limited, 429, 0,
                                    "too many requests"});
    sched.run();
    CAF_CHECK(state() == session_state::backing_off);
    sched.clock().advance_time(wait - 1s);
    sched.run();
    CAF_CHECK_EQUAL(links->links.size(), before);
    sched.clock().advance_time(1s);
    sched.run();
    CAF_CHECK_EQUAL(links->links.size(), before + 1);
  }
}

CAF_TEST(an open breaker holds the trading stream back) {
  breaker_config bcfg;
  bcfg.endpoint = "trading stream";
  bcfg.failure_threshold = 1;
  bcfg.open_duration = 20s;
  auto breaker = unbox(spawn_breaker(sys, bcfg));
  auto cfg = config();
  cfg.breaker = breaker;
  start(std::move(cfg));
  CAF_REQUIRE_EQUAL(links->links.size(), 1u);
  self->send(session, link_closed{epoch(), link_end::connect_failed, 0, 0,
                                  "refused"});
  sched.run();
  sched.clock().advance_time(1s);
  sched.run();
  auto status = fetch<session_status>(session, caf::get_atom::value);
  CAF_CHECK_EQUAL(status.last_errc, "breaker_open");
  CAF_CHECK_EQUAL(links->links.size(), 1u);
  sched.clock().advance_time(20s);
  sched.run();
  CAF_REQUIRE_EQUAL(links->links.size(), 2u);
  open_and_listen();
  CAF_CHECK(state() == session_state::streaming);
  auto snap = fetch<breaker_snapshot>(breaker, caf::get_atom::value);
  CAF_CHECK_EQUAL(snap.state, breaker_state::closed);
  self->send_exit(breaker, caf::exit_reason::kill);
}

CAF_TEST(stream urls follow the rest base) {
  CAF_CHECK_EQUAL(trading_stream_url("https://paper-api.alpaca.markets"),
                  "wss://paper-api.alpaca.markets/stream");
  CAF_CHECK_EQUAL(trading_stream_url("http://127.0.0.1:8080/"),
                  "ws://127.0.0.1:8080/stream");
}

CAF_TEST_FIXTURE_SCOPE_END()
