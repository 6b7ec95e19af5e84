#define CAF_SUITE actors.stream_session
#include "actors/market/stream_session.hpp"

#include <deque>
#include <set>

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

using answer_atom = caf::atom_constant<caf::atom("answer")>;

// Answers no batch until told to answer the oldest: a registry behind on
// its fan-out.
caf::behavior holding_sink(caf::event_based_actor* self,
                           std::shared_ptr<size_t> held) {
  auto pending = std::make_shared<std::deque<caf::response_promise>>();
  return {
    [self, held, pending](batch&) {
      pending->push_back(self->make_response_promise());
      *held = pending->size();
      return pending->back();
    },
    [](gap&) {},
    [held, pending](answer_atom) {
      pending->front().deliver(caf::unit);
      pending->pop_front();
      *held = pending->size();
    },
  };
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
    if (!cfg.sink)
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

CAF_TEST(a frame returns its credit only once the sink has routed its data) {
  auto held = std::make_shared<size_t>(0);
  auto cfg = config();
  auto sink = sys.spawn(holding_sink, held);
  cfg.sink = caf::actor_cast<subscriber_actor>(sink);
  start(std::move(cfg));
  desire(make_set({"AAPL"}, {}));
  welcome_and_authenticate();
  ack(make_set({"AAPL"}, {}));
  // Control frames are credited at once.
  CAF_CHECK_EQUAL(last_link().acks, 3u);
  deliver(quotes_of({"AAPL"}));
  deliver(quotes_of({"AAPL"}));
  CAF_CHECK_EQUAL(*held, 2u);
  CAF_CHECK_EQUAL(last_link().acks, 3u);
  self->send(sink, answer_atom::value);
  sched.run();
  CAF_CHECK_EQUAL(last_link().acks, 4u);
  self->send(sink, answer_atom::value);
  sched.run();
  CAF_CHECK_EQUAL(last_link().acks, 5u);
  // An answer for a link that is gone credits nothing.
  deliver(quotes_of({"AAPL"}));
  server_closes(link_end::connection_lost);
  self->send(sink, answer_atom::value);
  sched.run();
  CAF_CHECK_EQUAL(links->links.front()->acks, 5u);
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
  // The server ended it: nothing to close.
  CAF_CHECK(!last_link().close_requested);
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

CAF_TEST(a connection limit retries within a second then doubles to the cap) {
  start();
  auto refuse = [&] {
    server_sends(protocol::encode_success(codec::json, "connected"));
    server_sends(
      protocol::encode_error(codec::json, 406, "connection limit exceeded"));
    CAF_CHECK_EQUAL(state(), session_state::backing_off);
  };
  // 1, 2, 4, 8 s (reconnect backoff and limit wait agree), then the limit
  // wait alone: 16, 32, 64 s (a 90 s ghost is gone by the seventh try),
  // then 120 s, the cap.
  size_t expected_links = 1;
  for (auto wait : {1s, 2s, 4s, 8s, 16s, 32s, 64s, 120s, 120s}) {
    refuse();
    advance(wait - 1ms);
    CAF_CHECK_EQUAL(links->links.size(), expected_links);
    advance(1ms);
    CAF_REQUIRE_EQUAL(links->links.size(), ++expected_links);
  }
  // An upgrade refused with 429 follows the same schedule.
  server_closes(link_end::rate_limited, 429);
  advance(119s);
  CAF_CHECK_EQUAL(links->links.size(), expected_links);
  advance(1s);
  CAF_CHECK_EQUAL(links->links.size(), expected_links + 1);
}

CAF_TEST(a stable run starts the connection limit schedule over) {
  start();
  auto refuse = [&] {
    server_sends(protocol::encode_success(codec::json, "connected"));
    server_sends(
      protocol::encode_error(codec::json, 406, "connection limit exceeded"));
  };
  for (auto wait : {1s, 2s, 4s}) {
    refuse();
    advance(wait);
  }
  welcome_and_authenticate();
  CAF_CHECK_EQUAL(state(), session_state::streaming);
  advance(61s);
  server_closes(link_end::connection_lost);
  advance(1s);
  auto before = links->links.size();
  refuse();
  // Without the reset the wait would be 8 s; now the reconnect backoff's
  // second step (2 s) is the longer one.
  advance(2s);
  CAF_CHECK_EQUAL(links->links.size(), before + 1);
}

CAF_TEST(connection limit waits are jittered within bounds) {
  // Jitter keeps a fleet that lost its connections together from retrying
  // in lockstep.
  std::set<caf::timespan> first_waits;
  for (uint64_t seed = 1; seed <= 6; ++seed) {
    auto jittered = config();
    jittered.backoff.jitter = 0.2;
    jittered.backoff.max = 2s;
    jittered.backoff.seed = seed;
    start(jittered);
    for (std::chrono::milliseconds nominal : {1s, 2s, 4s, 8s}) {
      server_sends(protocol::encode_success(codec::json, "connected"));
      server_sends(
        protocol::encode_error(codec::json, 406, "connection limit exceeded"));
      auto count = links->links.size();
      caf::timespan waited{0};
      while (links->links.size() == count && waited < nominal * 2) {
        advance(10ms);
        waited += 10ms;
      }
      CAF_CHECK_GREATER_OR_EQUAL(waited, nominal * 8 / 10);
      CAF_CHECK_LESS_OR_EQUAL(waited, nominal * 12 / 10 + 10ms);
      if (nominal == 1s)
        first_waits.insert(waited);
    }
    self->send_exit(session, caf::exit_reason::user_shutdown);
    sched.run();
    links->links.clear();
  }
  CAF_CHECK_GREATER(first_waits.size(), 2u);
}

CAF_TEST(no welcome or no auth result in time means a new attempt) {
  start();
  advance(15s);
  CAF_CHECK_EQUAL(state(), session_state::backing_off);
  CAF_CHECK(last_link().close_requested);
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

CAF_TEST(a refused topic is found and kept out while the rest streams) {
  start();
  desire(make_set({"AAPL"}));
  stream(make_set({"AAPL"}));
  desire(make_set({"AAPL", "B", "C"}));
  // By value: CAF_CHECK_EQUAL binds each operand in its own statement.
  std::vector<std::string> trades_sent;
  // The server refuses the change {B, C} whole; the session tries B and C
  // apart, and only C is refused.
  trades_sent = sent(2).channels[channel::trades];
  CAF_CHECK_EQUAL(trades_sent, (std::vector<std::string>{"B", "C"}));
  server_sends(protocol::encode_error(codec::json, 410,
                                      "invalid subscribe action"));
  CAF_CHECK_EQUAL(state(), session_state::streaming);
  trades_sent = sent(3).channels[channel::trades];
  CAF_CHECK_EQUAL(trades_sent, (std::vector<std::string>{"B"}));
  ack(make_set({"AAPL", "B"}));
  trades_sent = sent(4).channels[channel::trades];
  CAF_CHECK_EQUAL(trades_sent, (std::vector<std::string>{"C"}));
  server_sends(protocol::encode_error(codec::json, 410,
                                      "invalid subscribe action"));
  auto snap = snapshot();
  CAF_CHECK_EQUAL(snap.status.state, session_state::streaming);
  CAF_CHECK_EQUAL(snap.status.last_errc, "invalid_subscription");
  CAF_CHECK(!snap.change_pending);
  CAF_CHECK_EQUAL(snap.confirmed, make_set({"AAPL", "B"}));
  // Its subscribers hear of it: a gap of reason refused for C alone.
  CAF_REQUIRE_EQUAL(received->gaps.size(), 1u);
  CAF_CHECK_EQUAL(received->gaps[0].reason, gap_reason::refused);
  CAF_CHECK_EQUAL(received->gaps[0].topics,
                  (std::vector<topic>{{channel::trades, "C"}}));
  // Never sent again on this connection, nor after a reconnect.
  advance(20s);
  CAF_CHECK_EQUAL(last_link().sent.size(), 5u);
  CAF_CHECK_EQUAL(links->links.size(), 1u);
  server_closes(link_end::connection_lost);
  advance(1s);
  welcome_and_authenticate();
  trades_sent = sent(1).channels[channel::trades];
  CAF_CHECK_EQUAL(trades_sent, (std::vector<std::string>{"AAPL", "B"}));
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

CAF_TEST(connection limits follow their schedule and never open the breaker) {
  breaker_config bcfg;
  bcfg.endpoint = "stream";
  bcfg.failure_threshold = 2;
  bcfg.open_duration = 20s;
  auto breaker = unbox(spawn_breaker(sys, bcfg));
  auto cfg = config();
  cfg.breaker = breaker;
  start(std::move(cfg));
  size_t expected_links = 1;
  for (auto wait : {1s, 2s, 4s, 8s}) {
    server_sends(protocol::encode_success(codec::json, "connected"));
    server_sends(
      protocol::encode_error(codec::json, 406, "connection limit exceeded"));
    advance(wait);
    CAF_REQUIRE_EQUAL(links->links.size(), ++expected_links);
  }
  server_closes(link_end::rate_limited, 429);
  advance(16s);
  CAF_CHECK_EQUAL(links->links.size(), expected_links + 1);
  auto snap = fetch<breaker_snapshot>(breaker, caf::get_atom::value);
  CAF_CHECK_EQUAL(snap.state, breaker_state::closed);
  CAF_CHECK_EQUAL(snapshot().counters.breaker_refusals, 0u);
  // Real failures still count: two in a row open it.
  for (int i = 0; i < 2; ++i) {
    auto before = links->links.size();
    server_closes(link_end::connect_failed);
    for (int s = 0; s < 200 && links->links.size() == before && i == 0; ++s)
      advance(1s);
  }
  snap = fetch<breaker_snapshot>(breaker, caf::get_atom::value);
  CAF_CHECK_EQUAL(snap.state, breaker_state::open);
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

CAF_TEST(endings the engine decides close the connection with a close frame) {
  start();
  desire(make_set({}, {"AAPL"}));
  stream(make_set({}, {"AAPL"}));
  deliver(quotes_of({"AAPL"}));
  // The watchdog trips: the server must learn it at once, or it keeps the
  // slot and answers the next attempt with 406.
  advance(30s);
  CAF_CHECK_EQUAL(state(), session_state::backing_off);
  auto& first = *links->links[0];
  CAF_CHECK(first.close_requested);
  CAF_CHECK(!first.destroyed);
  // The closing link's end arrives with its old epoch; only then it goes.
  link_closed done;
  done.epoch = first.request.epoch;
  done.reason = link_end::closed;
  self->send(session, done);
  sched.run();
  CAF_CHECK(first.destroyed);
  CAF_CHECK_EQUAL(state(), session_state::backing_off);
}

CAF_TEST(the watchdog watches what the server confirmed) {
  start();
  desire(make_set({}, {"AAPL"}));
  welcome_and_authenticate();
  // The only topic is refused: nothing is subscribed, so no silence can
  // be the stream's fault.
  server_sends(protocol::encode_error(codec::json, 410,
                                      "invalid subscribe action"));
  CAF_CHECK_EQUAL(state(), session_state::streaming);
  advance(5min);
  CAF_CHECK_EQUAL(snapshot().counters.watchdog_trips, 0u);
  CAF_CHECK_EQUAL(links->links.size(), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
