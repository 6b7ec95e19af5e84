#define CAF_SUITE actors.attachment
#include "actors/remote/attachment.hpp"

#include "fixture.hpp"

#include <set>

#include "caf/io/middleman_actor.hpp"

#include "messages/error.hpp"
#include "messages/remote.hpp"

using namespace athanor;
using namespace std::chrono_literals;

namespace {

// What the fakes saw and what the consumer got.
struct record {
  std::vector<std::string> consumer; // "batch:<epoch>" or "gap:<reason>"
  std::vector<session_state> states;
  size_t connects = 0;
  size_t subscribes = 0;
  /// "+quotes:AAPL" per subscribed and "-quotes:AAPL" per unsubscribed
  /// topic, in the order the front saw them.
  std::vector<std::string> front_calls;
  /// The middleman refuses while set.
  bool refuse = false;
};

caf::behavior consumer_impl(caf::event_based_actor*,
                            std::shared_ptr<record> r) {
  return {
    [r](const batch& x) {
      r->consumer.push_back("batch:" + std::to_string(x.epoch));
    },
    [r](const gap& x) {
      r->consumer.push_back("gap:" + to_string(x.reason) + ":"
                            + std::to_string(x.since));
    },
    [r](const session_status& x) { r->states.push_back(x.state); },
  };
}

// The engine's front: answers subscriptions with their topics.
caf::behavior front_impl(caf::event_based_actor*, std::shared_ptr<record> r) {
  return {
    [r](subscribe_atom, const subscriber_actor&,
        std::vector<topic>& topics) {
      ++r->subscribes;
      for (auto& x : topics)
        r->front_calls.push_back("+" + to_string(x));
      return topics;
    },
    [r](unsubscribe_atom, const subscriber_actor&,
        std::vector<topic>& topics) {
      for (auto& x : topics)
        r->front_calls.push_back("-" + to_string(x));
      return std::vector<topic>{};
    },
  };
}

// Stands in for CAF's middleman actor: hands out `front`, or refuses.
caf::behavior middleman_impl(caf::event_based_actor*,
                             std::shared_ptr<record> r,
                             std::shared_ptr<caf::actor> front) {
  return {
    [r, front](caf::connect_atom, const std::string&,
               uint16_t) -> caf::result<caf::node_id, caf::strong_actor_ptr,
                                        std::set<std::string>> {
      ++r->connects;
      if (r->refuse || !*front)
        return caf::make_error(caf::sec::cannot_connect_to_node);
      return {caf::node_id{}, caf::actor_cast<caf::strong_actor_ptr>(*front),
              std::set<std::string>{}};
    },
  };
}

struct fixture : fixture_base {
  std::shared_ptr<record> r = std::make_shared<record>();
  std::shared_ptr<caf::actor> front = std::make_shared<caf::actor>();
  caf::actor consumer;
  caf::actor middleman;
  attachment_actor link;

  fixture() {
    consumer = sys.spawn(consumer_impl, r);
    middleman = sys.spawn(middleman_impl, r, front);
    *front = sys.spawn(front_impl, r);
  }

  ~fixture() {
    for (auto x : {consumer, middleman, *front})
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void start(uint32_t max_attempts = 0,
             std::vector<topic> topics = {{channel::quotes, "AAPL"}}) {
    attachment_config cfg;
    cfg.middleman = middleman;
    cfg.host = "127.0.0.1";
    cfg.port = 4242;
    cfg.endpoint = "basp://127.0.0.1:4242";
    cfg.topics = std::move(topics);
    cfg.consumer = caf::actor_cast<subscriber_actor>(consumer);
    cfg.listener = caf::actor_cast<session_listener_actor>(consumer);
    cfg.backoff.initial = 100ms;
    cfg.backoff.max = 100ms;
    cfg.backoff.jitter = 0;
    cfg.max_attempts = max_attempts;
    link = spawn_attachment(sys, std::move(cfg));
    sched.run();
  }

  void data(uint64_t epoch, timestamp_ns received_at) {
    batch x;
    x.epoch = epoch;
    x.received_at = received_at;
    x.quotes.push_back(quote{});
    self->send(link, x);
    sched.run();
  }

  void desire(std::vector<std::string> quotes,
              std::vector<std::string> trades = {}) {
    subscription_set set;
    set[channel::quotes] = std::move(quotes);
    set[channel::trades] = std::move(trades);
    self->send(link, desire_atom::value, set, trace::root());
    sched.run();
  }

  void after(caf::timespan t) {
    sched.clock().advance_time(t);
    sched.run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(attachment_tests, fixture)

CAF_TEST(it connects subscribes and passes data on) {
  start();
  CAF_CHECK_EQUAL(r->connects, 1u);
  CAF_CHECK_EQUAL(r->subscribes, 1u);
  CAF_REQUIRE(!r->states.empty());
  CAF_CHECK(r->states.back() == session_state::streaming);
  data(7, 1000);
  CAF_CHECK_EQUAL(caf::deep_to_string(r->consumer), R"(["batch:7"])");
}

CAF_TEST(a refused connection is retried after the backoff) {
  r->refuse = true;
  start();
  CAF_CHECK_EQUAL(r->connects, 1u);
  CAF_CHECK(r->states.back() == session_state::backing_off);
  after(50ms);
  CAF_CHECK_EQUAL(r->connects, 1u);
  r->refuse = false;
  after(60ms);
  CAF_CHECK_EQUAL(r->connects, 2u);
  CAF_CHECK(r->states.back() == session_state::streaming);
  // The first attachment owes nobody a gap.
  CAF_CHECK(r->consumer.empty());
}

CAF_TEST(a lost engine means a gap before the next attachments data) {
  start();
  data(3, 5000);
  // The engine goes away.
  caf::anon_send_exit(*front, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK(r->states.back() == session_state::backing_off);
  // A new engine is there when the backoff ends.
  *front = sys.spawn(front_impl, r);
  after(100ms);
  CAF_CHECK(r->states.back() == session_state::streaming);
  CAF_CHECK_EQUAL(r->subscribes, 2u);
  data(1, 9000);
  CAF_CHECK_EQUAL(caf::deep_to_string(r->consumer),
                  R"(["batch:3", "gap:reconnect:5000", "batch:1"])");
}

CAF_TEST(it gives up after max attempts and says so) {
  r->refuse = true;
  start(2);
  after(100ms);
  CAF_CHECK_EQUAL(r->connects, 2u);
  CAF_CHECK(r->states.back() == session_state::failed);
  after(1s);
  CAF_CHECK_EQUAL(r->connects, 2u);
}

CAF_TEST(it ends with its consumer) {
  start();
  self->monitor(link);
  caf::anon_send_exit(consumer, caf::exit_reason::user_shutdown);
  sched.run();
  bool down = false;
  self->receive([&](caf::down_msg& x) { down = x.source == link.address(); },
                caf::after(0s) >> [] {});
  CAF_CHECK(down);
}

CAF_TEST(as a registrys session it follows the wanted topics) {
  start(0, {});
  // Nothing wanted: streaming, and nothing leased at the engine.
  CAF_CHECK(r->states.back() == session_state::streaming);
  CAF_CHECK_EQUAL(r->subscribes, 0u);
  desire({"AAPL", "MSFT"});
  desire({"MSFT"}, {"TSLA"});
  // A wildcard stands alone for its channel.
  desire({"*", "MSFT"}, {"TSLA"});
  desire({});
  CAF_CHECK_EQUAL(caf::deep_to_string(r->front_calls),
                  R"(["+quotes:AAPL", "+quotes:MSFT", "+trades:TSLA", )"
                  R"("-quotes:AAPL", "+quotes:*", "-quotes:MSFT", )"
                  R"("-trades:TSLA", "-quotes:*"])");
}

CAF_TEST(after a lost engine the whole wanted set is subscribed again) {
  start(0, {});
  desire({"AAPL"});
  caf::anon_send_exit(*front, caf::exit_reason::kill);
  sched.run();
  // Changes while away are kept for the next attachment.
  desire({"AAPL", "MSFT"});
  r->front_calls.clear();
  *front = sys.spawn(front_impl, r);
  after(100ms);
  CAF_CHECK(r->states.back() == session_state::streaming);
  CAF_CHECK_EQUAL(caf::deep_to_string(r->front_calls),
                  R"(["+quotes:AAPL", "+quotes:MSFT"])");
}

CAF_TEST_FIXTURE_SCOPE_END()
