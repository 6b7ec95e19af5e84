#define CAF_SUITE actors.tape_link
#include "actors/market/tape_link.hpp"

#include "fixture.hpp"

#include "actors/market/stream_session.hpp"
#include "fake_link.hpp"

using namespace athanor;
using namespace athanor::testing;
using namespace std::chrono_literals;
using protocol::codec;

namespace {

constexpr timestamp_ns t0 = 1'700'000'000'000'000'000;
constexpr timestamp_ns ms = 1'000'000;

tape_event event(tape_kind kind, timestamp_ns at, uint64_t epoch,
                 std::string data = {}) {
  tape_event x;
  x.kind = kind;
  x.time = at;
  x.epoch = epoch;
  x.data = std::move(data);
  return x;
}

subscription_set aapl_quotes() {
  subscription_set result;
  result[channel::quotes] = {"AAPL"};
  return result;
}

std::string quote_frame(double bid, timestamp_ns at) {
  batch b;
  quote q;
  q.symbol = "AAPL";
  q.bid_price = bid;
  q.ask_price = bid + 0.01;
  q.time = at - ms;
  b.quotes.push_back(q);
  return protocol::encode_batch(codec::json, b);
}

// A session's connection as a recorder writes it, starting at `start`:
// handshake, `quotes` quotes 10 ms apart, then the end: the watchdog's
// close 30 s after the last quote, or the run's own stop.
std::vector<tape_event> recorded_connection(uint64_t epoch, timestamp_ns start,
                                            int quotes, bool watchdog) {
  std::vector<tape_event> xs;
  auto at = start;
  xs.push_back(event(tape_kind::connect, at, epoch, "ws://sim/v2/iex"));
  xs.push_back(event(tape_kind::opened, at += ms, epoch));
  xs.push_back(event(tape_kind::inbound, at += ms, epoch,
                     protocol::encode_success(codec::json, "connected")));
  xs.push_back(event(tape_kind::outbound, at += ms, epoch,
                     R"({"action":"auth","key":"fp"})"));
  xs.push_back(event(tape_kind::inbound, at += ms, epoch,
                     protocol::encode_success(codec::json, "authenticated")));
  xs.push_back(event(tape_kind::outbound, at += ms, epoch,
                     R"({"action":"subscribe","quotes":["AAPL"]})"));
  xs.push_back(
    event(tape_kind::inbound, at += ms, epoch,
          protocol::encode_subscription(codec::json, aapl_quotes(), false)));
  for (int i = 0; i < quotes; ++i)
    xs.push_back(event(tape_kind::inbound, at += 10 * ms, epoch,
                       quote_frame(100 + i, at)));
  at += watchdog ? 30'000 * ms + 5 * ms : 10 * ms;
  xs.push_back(event(tape_kind::close_requested, at, epoch));
  auto closed = event(tape_kind::closed, at + ms, epoch);
  closed.close_code = 1000;
  xs.push_back(closed);
  return xs;
}

// Two connections: the first ends in a watchdog trip, the second streams
// until the run stops.
std::vector<tape_event> tape_with_a_silence() {
  auto xs = recorded_connection(1, t0, 5, true);
  auto second = recorded_connection(2, xs.back().time + 2 * ms, 3, false);
  xs.insert(xs.end(), second.begin(), second.end());
  return xs;
}

struct replay_result {
  std::vector<std::string> batches;
  std::vector<gap> gaps;
  std::string order;
  caf::timespan took{0};
  bool ended = false;
  size_t links = 0;
};

struct fixture : fixture_base {
  replay_result replay(const std::vector<tape_event>& tape, replay_pace pace) {
    auto received = std::make_shared<recorded>();
    auto ended = std::make_shared<bool>(false);
    auto links = std::make_shared<size_t>(0);
    tape_link_options opts;
    opts.pace = pace;
    opts.on_end = [ended] { *ended = true; };
    auto factory = make_tape_link_factory(sys, connections_of(tape), opts);
    stream_session_config cfg;
    cfg.url = "ws://sim/v2/iex";
    cfg.encoding = codec::json;
    cfg.creds = credentials{secret{"replay"}, secret{"replay"}};
    cfg.links = factory;
    cfg.sink = caf::actor_cast<subscriber_actor>(sys.spawn(recorder, received));
    cfg.backoff.initial = 0s;
    cfg.backoff.max = 1ms;
    cfg.backoff.jitter = 0;
    cfg.limit_backoff = 1ms;
    cfg.limit_backoff_max = 1ms;
    cfg.silence_timeout = 30s;
    auto started = sched.clock().now();
    auto session = unbox(spawn_stream_session(sys, std::move(cfg)));
    self->send(session, desire_atom::value, aapl_quotes(), trace::root());
    sched.run();
    for (int i = 0; i < 10'000 && !*ended; ++i) {
      if (!sched.clock().trigger_timeout())
        break;
      sched.run();
    }
    replay_result result;
    result.took = sched.clock().now() - started;
    result.ended = *ended;
    for (auto& b : received->batches)
      result.batches.push_back(protocol::encode_batch(codec::json, b));
    result.gaps = received->gaps;
    result.order = received->order;
    self->send_exit(session, caf::exit_reason::kill);
    sched.run();
    return result;
  }
};

timestamp_ns last_quote_time(const std::vector<tape_event>& tape,
                             uint64_t epoch) {
  timestamp_ns result = 0;
  for (auto& x : tape)
    if (x.epoch == epoch && x.kind == tape_kind::inbound
        && x.data.find("\"T\":\"q\"") != std::string::npos)
      result = x.time;
  return result;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(tape_link_tests, fixture)

CAF_TEST(a replay at recorded pace trips the watchdog where the live run did) {
  auto tape = tape_with_a_silence();
  auto first = replay(tape, replay_pace::recorded);
  CAF_CHECK(first.ended);
  CAF_CHECK_EQUAL(first.batches.size(), 8u);
  CAF_CHECK_EQUAL(first.order, "bbbbbgbbb");
  CAF_REQUIRE_EQUAL(first.gaps.size(), 1u);
  CAF_CHECK(first.gaps[0].reason == gap_reason::silent_stream);
  // The gap's `since` is the last quote's recorded receive time.
  CAF_CHECK_EQUAL(first.gaps[0].since, last_quote_time(tape, 1));
  // The replay took the recorded time: over 30 s of silence, give or take
  // the difference between a close made and a close recorded.
  auto recorded_span = std::chrono::nanoseconds{tape.back().time
                                                - tape.front().time};
  CAF_CHECK_GREATER(first.took, 30s);
  CAF_CHECK_LESS(first.took, recorded_span + 1s);
  // On the deterministic scheduler a replay is exactly reproducible.
  auto second = replay(tape, replay_pace::recorded);
  CAF_CHECK_EQUAL(second.batches, first.batches);
  CAF_CHECK_EQUAL(second.order, first.order);
  CAF_CHECK_EQUAL(second.took.count(), first.took.count());
  CAF_REQUIRE_EQUAL(second.gaps.size(), 1u);
  CAF_CHECK_EQUAL(second.gaps[0].since, first.gaps[0].since);
}

CAF_TEST(a fast replay delivers the same records without waiting) {
  auto tape = tape_with_a_silence();
  auto fast = replay(tape, replay_pace::fast);
  auto paced = replay(tape, replay_pace::recorded);
  CAF_CHECK(fast.ended);
  CAF_CHECK_EQUAL(fast.batches, paced.batches);
  CAF_CHECK_EQUAL(fast.order, paced.order);
  CAF_CHECK_LESS(fast.took, 1s);
  // Played fast, the watchdog's close reaches the session as the server's.
  CAF_REQUIRE_EQUAL(fast.gaps.size(), 1u);
  CAF_CHECK(fast.gaps[0].reason == gap_reason::reconnect);
  CAF_CHECK_EQUAL(fast.gaps[0].since, paced.gaps[0].since);
}

CAF_TEST(a replay holds frames back while the session holds their credit) {
  // 200 quotes, a link credit of 64: never more than 64 unacknowledged.
  auto tape = recorded_connection(1, t0, 200, false);
  auto fast = replay(tape, replay_pace::fast);
  CAF_CHECK(fast.ended);
  CAF_CHECK_EQUAL(fast.batches.size(), 200u);
  CAF_CHECK(fast.gaps.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
