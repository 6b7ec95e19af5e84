#define CAF_SUITE actors.stream_session
#include "actors/market/stream_session.hpp"

#include "fixture.hpp"

#include "actors/resilience/breaker.hpp"
#include "fake_link.hpp"
#include "messages/error.hpp"

using namespace athanor;
using namespace athanor::testing;
using namespace std::chrono_literals;
using protocol::codec;

namespace {

subscription_set make_set(std::vector<std::string> trades,
                          std::vector<std::string> quotes = {},
                          std::vector<std::string> bars = {}) {
  subscription_set result;
  result[channel::trades] = std::move(trades);
  result[channel::quotes] = std::move(quotes);
  result[channel::bars] = std::move(bars);
  return result;
}

batch quotes_of(std::vector<std::string> symbols) {
  batch result;
  for (auto& symbol : symbols) {
    quote q;
    q.symbol = symbol;
    q.bid_price = 100;
    q.ask_price = 100.5;
    q.time = 1'700'000'000'000'000'000;
    result.quotes.push_back(q);
  }
  return result;
}

// Collects the session's state changes.
caf::behavior status_recorder(caf::event_based_actor*,
                              std::shared_ptr<std::vector<session_status>> out) {
  return {[out](session_status& x) { out->push_back(std::move(x)); }};
}

struct fixture : fixture_base {
  std::shared_ptr<fake_link_factory> links
    = std::make_shared<fake_link_factory>();
  std::shared_ptr<recorded> received = std::make_shared<recorded>();
  std::shared_ptr<std::vector<session_status>> statuses
    = std::make_shared<std::vector<session_status>>();
  session_actor session;

  stream_session_config config() {
    stream_session_config cfg;
    cfg.url = "wss://stream.example/v2/test";
    cfg.encoding = codec::json;
    cfg.creds = credentials{secret{"CANARYKEY"}, secret{"CANARYSECRET"}};
    cfg.links = links;
    cfg.backoff.initial = 1s;
    cfg.backoff.max = 8s;
    cfg.backoff.jitter = 0.0;
    cfg.backoff.stable_period = 60s;
    return cfg;
  }

  void start(stream_session_config cfg) {
    cfg.sink = caf::actor_cast<subscriber_actor>(
      sys.spawn(recorder, received));
    session = unbox(spawn_stream_session(sys, std::move(cfg)));
    auto listener = sys.spawn(status_recorder, statuses);
    self->send(session, listen_atom::value,
               caf::actor_cast<session_listener_actor>(listener));
    sched.run();
  }

  void start() {
    start(config());
  }

  ~fixture() override {
    if (session)
      self->send_exit(session, caf::exit_reason::kill);
  }

  fake_link_record& last_link() {
    if (links->links.empty())
      CAF_FAIL("no link was opened");
    return *links->links.back();
  }

  uint64_t epoch() {
    return last_link().request.epoch;
  }

  // Plays the server: one frame on the current link.
  void server_sends(std::string frame, uint64_t at_epoch = 0) {
    auto msg = decode_link_frame(at_epoch ? at_epoch : epoch(), codec::json,
                                 frame, 42);
    self->send(session, std::move(msg));
    sched.run();
  }

  void server_closes(link_end reason, int http_status = 0) {
    link_closed msg;
    msg.epoch = epoch();
    msg.reason = reason;
    msg.http_status = http_status;
    self->send(session, msg);
    sched.run();
  }

  void deliver(batch data) {
    server_sends(protocol::encode_batch(codec::json, data));
  }

  void welcome_and_authenticate() {
    server_sends(protocol::encode_success(codec::json, "connected"));
    server_sends(protocol::encode_success(codec::json, "authenticated"));
  }

  void ack(const subscription_set& current) {
    server_sends(protocol::encode_subscription(codec::json, current, false));
  }

  void desire(subscription_set set) {
    self->send(session, desire_atom::value, std::move(set), trace::root());
    sched.run();
  }

  // Brings the session to streaming with `set` subscribed.
  void stream(const subscription_set& set) {
    welcome_and_authenticate();
    ack(set);
  }

  protocol::client_message sent(size_t index) {
    auto& rec = last_link();
    if (index >= rec.sent.size())
      CAF_FAIL("only " << rec.sent.size() << " frames were sent");
    protocol::client_message msg;
    protocol::decode_problem problem;
    if (!protocol::decode_client_message(codec::json, rec.sent[index], msg,
                                         problem))
      CAF_FAIL("the session sent an invalid frame: " << rec.sent[index]);
    return msg;
  }

  session_snapshot snapshot() {
    return fetch<session_snapshot>(session, caf::get_atom::value);
  }

  session_state state() {
    return snapshot().status.state;
  }

  void advance(caf::timespan d) {
    sched.clock().advance_time(d);
    sched.run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(stream_session_tests, fixture)

CAF_TEST(a session connects authenticates subscribes and streams) {
  start();
  CAF_REQUIRE_EQUAL(links->links.size(), 1u);
  CAF_CHECK_EQUAL(last_link().request.url, "wss://stream.example/v2/test");
  CAF_CHECK_EQUAL(epoch(), 1u);
  CAF_CHECK_EQUAL(state(), session_state::connecting);
  desire(make_set({"AAPL"}, {"AAPL", "MSFT"}));
  CAF_CHECK(last_link().sent.empty());
  server_sends(protocol::encode_success(codec::json, "connected"));
  CAF_CHECK_EQUAL(state(), session_state::authenticating);
  auto auth = sent(0);
  CAF_CHECK_EQUAL(auth.action, protocol::client_message::auth);
  CAF_CHECK_EQUAL(auth.creds.key_id.reveal(), "CANARYKEY");
  server_sends(protocol::encode_success(codec::json, "authenticated"));
  CAF_CHECK_EQUAL(state(), session_state::subscribing);
  auto sub = sent(1);
  CAF_CHECK_EQUAL(sub.action, protocol::client_message::subscribe);
  CAF_CHECK_EQUAL(sub.channels[channel::quotes],
                  (std::vector<std::string>{"AAPL", "MSFT"}));
  ack(make_set({"AAPL"}, {"AAPL", "MSFT"}));
  CAF_CHECK_EQUAL(state(), session_state::streaming);
  deliver(quotes_of({"AAPL", "MSFT"}));
  CAF_REQUIRE_EQUAL(received->batches.size(), 1u);
  CAF_CHECK_EQUAL(received->batches[0].quotes.size(), 2u);
  CAF_CHECK_EQUAL(received->batches[0].epoch, 1u);
  CAF_CHECK_EQUAL(received->batches[0].received_at, 42);
  CAF_CHECK_EQUAL(last_link().acks, 4u);
  CAF_CHECK(received->gaps.empty());
  auto snap = snapshot();
  CAF_CHECK(snap.confirmed == snap.desired);
  CAF_CHECK_EQUAL(snap.counters.connects, 1u);
  CAF_CHECK_EQUAL(snap.counters.records, 2u);
  std::vector<session_state> seen;
  for (auto& x : *statuses)
    seen.push_back(x.state);
  CAF_CHECK_EQUAL(seen, (std::vector<session_state>{
                          session_state::connecting,
                          session_state::authenticating,
                          session_state::subscribing,
                          session_state::streaming}));
}

CAF_TEST(with nothing desired the session streams right after auth) {
  start();
  welcome_and_authenticate();
  CAF_CHECK_EQUAL(state(), session_state::streaming);
  CAF_CHECK_EQUAL(last_link().sent.size(), 1u);
}

CAF_TEST(changes while streaming are diffs with one in flight) {
  start();
  desire(make_set({"AAPL"}));
  stream(make_set({"AAPL"}));
  desire(make_set({"AAPL", "TSLA"}));
  auto add = sent(2);
  CAF_CHECK_EQUAL(add.action, protocol::client_message::subscribe);
  CAF_CHECK_EQUAL(add.channels[channel::trades],
                  (std::vector<std::string>{"TSLA"}));
  desire(make_set({"TSLA"}));
  CAF_CHECK_EQUAL(last_link().sent.size(), 3u);
  CAF_CHECK(snapshot().change_pending);
  ack(make_set({"AAPL", "TSLA"}));
  auto remove = sent(3);
  CAF_CHECK_EQUAL(remove.action, protocol::client_message::unsubscribe);
  CAF_CHECK_EQUAL(remove.channels[channel::trades],
                  (std::vector<std::string>{"AAPL"}));
  ack(make_set({"TSLA"}));
  CAF_CHECK(!snapshot().change_pending);
  CAF_CHECK_EQUAL(last_link().sent.size(), 4u);
}

CAF_TEST(a lost connection sends a gap backs off and resubscribes everything) {
  start();
  desire(make_set({"AAPL"}, {"AAPL"}));
  stream(make_set({"AAPL"}, {"AAPL"}));
  deliver(quotes_of({"AAPL"}));
  server_closes(link_end::connection_lost);
  CAF_CHECK_EQUAL(state(), session_state::backing_off);
  CAF_REQUIRE_EQUAL(received->gaps.size(), 1u);
  CAF_CHECK_EQUAL(received->gaps[0].reason, gap_reason::reconnect);
  CAF_CHECK_EQUAL(received->gaps[0].since, 42);
  CAF_CHECK_EQUAL(received->gaps[0].epoch, 1u);
  CAF_CHECK_EQUAL(received->order, "bg");
  CAF_CHECK(last_link().destroyed);
  advance(999ms);
  CAF_CHECK_EQUAL(links->links.size(), 1u);
  advance(1ms);
  CAF_REQUIRE_EQUAL(links->links.size(), 2u);
  CAF_CHECK_EQUAL(epoch(), 2u);
  welcome_and_authenticate();
  auto sub = sent(1);
  CAF_CHECK_EQUAL(sub.action, protocol::client_message::subscribe);
  CAF_CHECK_EQUAL(sub.channels[channel::trades],
                  (std::vector<std::string>{"AAPL"}));
  CAF_CHECK_EQUAL(sub.channels[channel::quotes],
                  (std::vector<std::string>{"AAPL"}));
  ack(make_set({"AAPL"}, {"AAPL"}));
  deliver(quotes_of({"AAPL"}));
  CAF_REQUIRE_EQUAL(received->batches.size(), 2u);
  CAF_CHECK_EQUAL(received->batches[1].epoch, 2u);
  CAF_CHECK_EQUAL(received->order, "bgb");
}

CAF_TEST(frames of an old epoch are ignored) {
  start();
  desire(make_set({"AAPL"}));
  stream(make_set({"AAPL"}));
  server_closes(link_end::connection_lost);
  advance(1s);
  server_sends(protocol::encode_batch(codec::json, quotes_of({"OLD"})), 1);
  CAF_CHECK(received->batches.empty());
  CAF_CHECK_EQUAL(state(), session_state::connecting);
}

CAF_TEST(backoff grows per failure and resets after a stable run) {
  start();
  auto fail_attempt = [&] { server_closes(link_end::connect_failed); };
  fail_attempt();
  advance(1s);
  CAF_CHECK_EQUAL(links->links.size(), 2u);
  fail_attempt();
  advance(1s);
  CAF_CHECK_EQUAL(links->links.size(), 2u);
  advance(1s);
  CAF_CHECK_EQUAL(links->links.size(), 3u);
  fail_attempt();
  advance(4s);
  CAF_CHECK_EQUAL(links->links.size(), 4u);
  CAF_CHECK_EQUAL(snapshot().backoff_attempts, 3u);
  // A run longer than the stable period starts the schedule over.
  stream(subscription_set{});
  advance(61s);
  server_closes(link_end::connection_lost);
  advance(1s);
  CAF_CHECK_EQUAL(links->links.size(), 5u);
}

CAF_TEST(bad credentials are fatal and never retried) {
  start();
  server_sends(protocol::encode_success(codec::json, "connected"));
  server_sends(protocol::encode_error(codec::json, 402, "auth failed"));
  auto snap = snapshot();
  CAF_CHECK_EQUAL(snap.status.state, session_state::failed);
  CAF_CHECK_EQUAL(snap.status.last_errc, "auth_failed");
  CAF_CHECK_NOT_EQUAL(snap.status.last_error.find("402"), std::string::npos);
  advance(10min);
  CAF_CHECK_EQUAL(links->links.size(), 1u);
  CAF_REQUIRE(!statuses->empty());
  CAF_CHECK_EQUAL(statuses->back().state, session_state::failed);
  CAF_CHECK_EQUAL(statuses->back().fingerprint,
                  fingerprint_of("CANARYKEY"));
  for (auto& x : *statuses)
    CAF_CHECK_EQUAL(x.last_error.find("CANARY"), std::string::npos);
}

CAF_TEST(a plan without the feed is fatal) {
  start();
  server_sends(protocol::encode_success(codec::json, "connected"));
  server_sends(
    protocol::encode_error(codec::json, 409, "insufficient subscription"));
  CAF_CHECK_EQUAL(state(), session_state::failed);
  CAF_CHECK_EQUAL(snapshot().status.last_errc, "insufficient_subscription");
}

CAF_TEST(an upgrade refused with 4xx is fatal and 5xx is retried) {
  start();
  server_closes(link_end::upgrade_rejected, 503);
  CAF_CHECK_EQUAL(state(), session_state::backing_off);
  advance(1s);
  CAF_CHECK_EQUAL(links->links.size(), 2u);
  server_closes(link_end::upgrade_rejected, 404);
  CAF_CHECK_EQUAL(state(), session_state::failed);
  CAF_CHECK_EQUAL(snapshot().status.last_errc, "upgrade_rejected");
  advance(10min);
  CAF_CHECK_EQUAL(links->links.size(), 2u);
}

CAF_TEST(a connection limit backs off long enough for a ghost to expire) {
  start();
  server_sends(protocol::encode_success(codec::json, "connected"));
  server_sends(
    protocol::encode_error(codec::json, 406, "connection limit exceeded"));
  CAF_CHECK_EQUAL(state(), session_state::backing_off);
  advance(29s);
  CAF_CHECK_EQUAL(links->links.size(), 1u);
  advance(1s);
  CAF_CHECK_EQUAL(links->links.size(), 2u);
  // A repeat doubles the wait.
  server_closes(link_end::rate_limited, 429);
  advance(59s);
  CAF_CHECK_EQUAL(links->links.size(), 2u);
  advance(1s);
  CAF_CHECK_EQUAL(links->links.size(), 3u);
}

CAF_TEST(no welcome or no auth result in time means a new attempt) {
  start();
  advance(15s);
  CAF_CHECK_EQUAL(state(), session_state::backing_off);
  CAF_CHECK(last_link().destroyed);
  advance(1s);
  CAF_CHECK_EQUAL(links->links.size(), 2u);
  server_sends(protocol::encode_success(codec::json, "connected"));
  advance(10s);
  CAF_CHECK_EQUAL(state(), session_state::backing_off);
  CAF_CHECK_EQUAL(snapshot().status.last_errc, "auth_timeout");
}

CAF_TEST(a subscription ack that never comes forces a reconnect) {
  start();
  desire(make_set({"AAPL"}));
  stream(make_set({"AAPL"}));
  desire(make_set({"AAPL", "TSLA"}));
  advance(10s);
  auto snap = snapshot();
  CAF_CHECK_EQUAL(snap.status.state, session_state::backing_off);
  CAF_CHECK_EQUAL(snap.counters.ack_timeouts, 1u);
  CAF_REQUIRE_EQUAL(received->gaps.size(), 1u);
  advance(1s);
  welcome_and_authenticate();
  auto sub = sent(1);
  CAF_CHECK_EQUAL(sub.channels[channel::trades],
                  (std::vector<std::string>{"AAPL", "TSLA"}));
}

CAF_TEST(a refused subscription keeps the connection and is not retried) {
  start();
  desire(make_set({"AAPL"}));
  stream(make_set({"AAPL"}));
  desire(make_set({"AAPL", "B", "C"}));
  server_sends(protocol::encode_error(codec::json, 405,
                                      "symbol limit exceeded"));
  auto snap = snapshot();
  CAF_CHECK_EQUAL(snap.status.state, session_state::streaming);
  CAF_CHECK_EQUAL(snap.status.last_errc, "symbol_limit_exceeded");
  CAF_CHECK(!snap.change_pending);
  advance(20s);
  CAF_CHECK_EQUAL(last_link().sent.size(), 3u);
  CAF_CHECK_EQUAL(links->links.size(), 1u);
}

CAF_TEST(a silent stream trips the watchdog and reconnects with a gap) {
  start();
  desire(make_set({}, {"AAPL"}));
  stream(make_set({}, {"AAPL"}));
  advance(20s);
  deliver(quotes_of({"AAPL"}));
  advance(20s);
  CAF_CHECK_EQUAL(state(), session_state::streaming);
  advance(10s);
  auto snap = snapshot();
  CAF_CHECK_EQUAL(snap.status.state, session_state::backing_off);
  CAF_CHECK_EQUAL(snap.status.last_errc, "stream_silent");
  CAF_CHECK_EQUAL(snap.counters.watchdog_trips, 1u);
  CAF_REQUIRE_EQUAL(received->gaps.size(), 1u);
  CAF_CHECK_EQUAL(received->gaps[0].reason, gap_reason::silent_stream);
  // The next silence must last twice as long before it trips again.
  advance(1s);
  stream(make_set({}, {"AAPL"}));
  advance(59s);
  CAF_CHECK_EQUAL(state(), session_state::streaming);
  advance(1s);
  CAF_CHECK_EQUAL(state(), session_state::backing_off);
  CAF_CHECK_EQUAL(snapshot().counters.watchdog_trips, 2u);
}

CAF_TEST(sparse channels never trip the watchdog) {
  start();
  desire(make_set({}, {}, {"AAPL"}));
  stream(make_set({}, {}, {"AAPL"}));
  advance(10min);
  CAF_CHECK_EQUAL(state(), session_state::streaming);
  CAF_CHECK_EQUAL(snapshot().counters.watchdog_trips, 0u);
}

CAF_TEST(a slow client error sends one gap and reconnects) {
  start();
  desire(make_set({"AAPL"}));
  stream(make_set({"AAPL"}));
  server_sends(protocol::encode_error(codec::json, 407, "slow client"));
  CAF_REQUIRE_EQUAL(received->gaps.size(), 1u);
  CAF_CHECK_EQUAL(received->gaps[0].reason, gap_reason::upstream_slow_client);
  CAF_CHECK_EQUAL(state(), session_state::backing_off);
  advance(1s);
  CAF_CHECK_EQUAL(links->links.size(), 2u);
}

CAF_TEST(a malformed frame is counted and changes nothing) {
  start();
  desire(make_set({"AAPL"}));
  stream(make_set({"AAPL"}));
  server_sends("[{\"T\":\"q\",\"S\":");
  auto snap = snapshot();
  CAF_CHECK_EQUAL(snap.status.state, session_state::streaming);
  CAF_CHECK_EQUAL(snap.counters.malformed_frames, 1u);
  CAF_CHECK(received->batches.empty());
  deliver(quotes_of({"AAPL"}));
  CAF_CHECK_EQUAL(received->batches.size(), 1u);
}

CAF_TEST(a restarted session first reports a gap) {
  auto cfg = config();
  cfg.incarnation = 1;
  start(std::move(cfg));
  CAF_REQUIRE_EQUAL(received->gaps.size(), 1u);
  CAF_CHECK_EQUAL(received->gaps[0].reason, gap_reason::restart);
}

CAF_TEST(an open breaker holds attempts back until it lets a probe through) {
  breaker_config bcfg;
  bcfg.endpoint = "stream";
  bcfg.failure_threshold = 1;
  bcfg.open_duration = 20s;
  auto breaker = unbox(spawn_breaker(sys, bcfg));
  auto cfg = config();
  cfg.breaker = breaker;
  start(std::move(cfg));
  CAF_REQUIRE_EQUAL(links->links.size(), 1u);
  server_closes(link_end::connect_failed);
  advance(1s);
  auto snap = snapshot();
  CAF_CHECK_EQUAL(snap.counters.breaker_refusals, 1u);
  CAF_CHECK_EQUAL(snap.status.last_errc, "breaker_open");
  CAF_CHECK_EQUAL(links->links.size(), 1u);
  advance(18s);
  CAF_CHECK_EQUAL(links->links.size(), 1u);
  advance(2s);
  CAF_CHECK_EQUAL(links->links.size(), 2u);
  welcome_and_authenticate();
  auto state = fetch<breaker_snapshot>(breaker, caf::get_atom::value).state;
  CAF_CHECK_EQUAL(state, breaker_state::closed);
  self->send_exit(breaker, caf::exit_reason::kill);
}

CAF_TEST(shutdown closes the link and ends the session) {
  start();
  stream(subscription_set{});
  self->send(session, shutdown_atom::value);
  sched.run();
  CAF_CHECK(last_link().close_requested);
  CAF_CHECK_EQUAL(state(), session_state::stopped);
  server_closes(link_end::closed);
  CAF_CHECK(session->getf(caf::abstract_actor::is_terminated_flag));
  session = nullptr;
}

CAF_TEST(shutdown without an answer ends after the close timeout) {
  start();
  stream(subscription_set{});
  self->send(session, shutdown_atom::value);
  sched.run();
  advance(2s);
  CAF_CHECK(session->getf(caf::abstract_actor::is_terminated_flag));
  session = nullptr;
}

CAF_TEST(metrics read records per second over whole seconds) {
  start();
  desire(make_set({"AAPL"}));
  stream(make_set({"AAPL"}));
  deliver(quotes_of({"AAPL", "MSFT"}));
  deliver(quotes_of({"AAPL", "MSFT"}));
  advance(std::chrono::seconds{1});
  deliver(quotes_of({"AAPL", "MSFT"}));
  advance(std::chrono::seconds{1});
  double rate = -1;
  for (auto& x : fetch<metric_samples>(session, metrics_atom::value))
    if (x.name == "athanor_session_records_per_second")
      rate = x.value;
  // Four records in the first second, two in the second.
  CAF_CHECK_EQUAL(rate, 3.0);
}

CAF_TEST(invalid settings are reported together) {
  stream_session_config cfg;
  cfg.url = "http://x";
  cfg.auth_timeout = 0s;
  auto problems = validate(cfg);
  CAF_REQUIRE_EQUAL(problems.size(), 3u);
  CAF_CHECK_EQUAL(problems[0].option, "athanor.session.url");
  CAF_CHECK_EQUAL(problems[1].option, "athanor.session.credentials");
  CAF_CHECK_EQUAL(problems[2].option, "athanor.session.auth-timeout");
}

CAF_TEST_FIXTURE_SCOPE_END()
