#define CAF_SUITE actors.executor
#include "actors/trading/executor.hpp"

#include "fixture.hpp"

#include <cstdio>
#include <unistd.h>

#include "actors/resilience/breaker.hpp"
#include "messages/error.hpp"

using namespace athanor;
using namespace std::chrono_literals;

namespace {

// What the executor asked of the REST API. The test answers by sending
// the fake (place_atom | lookup_atom | cancel_atom, index, answer): a
// promise can only be delivered from inside its actor.
struct rest_script {
  struct place_call {
    size_t index;
    order_request req;
    caf::typed_response_promise<order> rp;
  };
  struct lookup_call {
    size_t index;
    std::string client_order_id;
    caf::typed_response_promise<order> rp;
  };
  struct cancel_call {
    size_t index;
    std::string order_id;
    caf::typed_response_promise<bool> rp;
  };
  std::vector<place_call> places;
  std::vector<lookup_call> lookups;
  std::vector<cancel_call> cancels;
};

caf::behavior fake_rest(caf::event_based_actor* self,
                        std::shared_ptr<rest_script> log) {
  return {
    [self, log](place_atom, order_request& req,
                trace&) -> caf::result<order> {
      auto rp = self->make_response_promise<order>();
      log->places.push_back({log->places.size(), req, rp});
      return rp;
    },
    [self, log](lookup_atom, std::string& id, trace&) -> caf::result<order> {
      auto rp = self->make_response_promise<order>();
      log->lookups.push_back({log->lookups.size(), id, rp});
      return rp;
    },
    [self, log](cancel_atom, std::string& id, trace&) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      log->cancels.push_back({log->cancels.size(), id, rp});
      return rp;
    },
    [](metrics_atom) { return metric_samples{}; },
    [log](place_atom, size_t i, order& o) { log->places.at(i).rp.deliver(o); },
    [log](place_atom, size_t i, caf::error& e) {
      log->places.at(i).rp.deliver(e);
    },
    [log](lookup_atom, size_t i, order& o) {
      log->lookups.at(i).rp.deliver(o);
    },
    [log](lookup_atom, size_t i, caf::error& e) {
      log->lookups.at(i).rp.deliver(e);
    },
    [log](cancel_atom, size_t i, bool x) { log->cancels.at(i).rp.deliver(x); },
    [log](cancel_atom, size_t i, caf::error& e) {
      log->cancels.at(i).rp.deliver(e);
    },
  };
}

order order_of(const order_request& req, order_status status,
               int64_t filled = 0) {
  order o;
  o.id = "o-" + req.client_order_id;
  o.client_order_id = req.client_order_id;
  o.symbol = req.symbol;
  o.side = req.side;
  o.qty = req.qty;
  o.status = status;
  o.filled_qty = decimal::from_integer(filled);
  if (filled > 0)
    o.filled_avg_price = decimal{10000, 2};
  return o;
}

order_update update_of(const order& o, trade_event event) {
  order_update u;
  u.event = event;
  u.subject = o;
  return u;
}

plan_item item(const char* symbol, order_side side, int64_t qty) {
  plan_item x;
  x.symbol = symbol;
  x.side = side;
  x.qty = decimal::from_integer(qty);
  return x;
}

plan rebalance(std::string id = "p1") {
  plan p;
  p.plan_id = std::move(id);
  p.correlation_id = "corr-" + p.plan_id;
  p.items = {item("AAPL", order_side::buy, 5), item("MSFT", order_side::sell, 2),
             item("TSLA", order_side::sell, 1)};
  p.deadline_ms = 600'000;
  return p;
}

session_status stream_in(session_state state) {
  session_status x;
  x.state = state;
  return x;
}

std::string outcome_at(const plan_result& r, size_t i) {
  return i < r.items.size() ? to_string(r.items[i].outcome) : "missing";
}

struct fixture : fixture_base {
  std::shared_ptr<rest_script> rest_log = std::make_shared<rest_script>();
  caf::actor rest;
  executor_actor exec;
  std::string journal_path;

  fixture() {
    char name[] = "/tmp/athanor-executor-XXXXXX";
    close(mkstemp(name));
    journal_path = name;
    std::remove(journal_path.c_str());
    rest = sys.spawn(fake_rest, rest_log);
  }

  ~fixture() override {
    self->send_exit(exec, caf::exit_reason::user_shutdown);
    self->send_exit(rest, caf::exit_reason::user_shutdown);
    if (breaker)
      self->send_exit(breaker, caf::exit_reason::user_shutdown);
    sched.run();
    for (auto suffix : {"", "-wal", "-shm"})
      std::remove((journal_path + suffix).c_str());
  }

  breaker_actor breaker;

  void start_executor() {
    executor_config cfg;
    cfg.breaker = breaker;
    cfg.rest = caf::actor_cast<rest_client_actor>(rest);
    cfg.journal = {journal_path, false};
    cfg.account = "fp123456";
    cfg.ready_timeout = 30s;
    cfg.event_timeout = 10s;
    cfg.cancel_grace = 10s;
    cfg.detached = false;
    // Wall time follows the test clock (from a day after the epoch, so that
    // no acceptance reads as "unknown").
    cfg.wall_clock_ms = [this] {
      return 86'400'000
             + std::chrono::duration_cast<std::chrono::milliseconds>(
                 sched.clock().now().time_since_epoch())
                 .count();
    };
    exec = unbox(spawn_executor(sys, std::move(cfg)));
    sched.run();
  }

  void stream(session_state state) {
    self->send(exec, stream_in(state));
    sched.run();
  }

  void advance(caf::timespan d) {
    sched.clock().advance_time(d);
    sched.run();
  }

  /// Sends a plan; the returned handle's result arrives when it finishes.
  auto submit(plan p, trace caller = trace::root()) {
    auto hdl = self->request(exec, caf::infinite, execute_atom::value,
                             std::move(p), std::move(caller));
    sched.run();
    return hdl;
  }

  void answer(const rest_script::cancel_call& c, caf::error x) {
    self->send(rest, cancel_atom::value, c.index, std::move(x));
  }

  plan_result status_of(const std::string& plan_id) {
    plan_result result;
    auto hdl = self->request(exec, caf::infinite, caf::get_atom::value,
                             plan_id);
    sched.run();
    hdl.receive([&](plan_result& r) { result = std::move(r); },
                [](caf::error& err) { CAF_FAIL("no status: " << render(err)); });
    return result;
  }

  double metric(const std::string& name) {
    for (auto& x : fetch<metric_samples>(exec, metrics_atom::value))
      if (x.name == name)
        return x.value;
    return -1;
  }

  /// A started executor on a ready stream, and a plan of one buy.
  plan ready_with_one_item() {
    start_executor();
    stream(session_state::streaming);
    auto p = rebalance();
    p.items.resize(1);
    return p;
  }

  /// Restarts the executor on the same journal (a crash, then a start).
  void restart_executor() {
    self->send_exit(exec, caf::exit_reason::kill);
    sched.run();
    start_executor();
  }

  template<class Handle>
  caf::expected<plan_result> result_of(Handle&& hdl) {
    caf::expected<plan_result> result{caf::error{}};
    sched.run();
    hdl.receive([&](plan_result& x) { result = std::move(x); },
                [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  template<class T>
  void answer(const rest_script::place_call& c, T x) {
    self->send(rest, place_atom::value, c.index, std::move(x));
  }

  template<class T>
  void answer(const rest_script::lookup_call& c, T x) {
    self->send(rest, lookup_atom::value, c.index, std::move(x));
  }

  void answer(const rest_script::cancel_call& c, bool x) {
    self->send(rest, cancel_atom::value, c.index, x);
  }

  /// Answers place call `i` with an accepted order, then a fill update.
  void accept_and_fill(size_t i) {
    auto& call = rest_log->places.at(i);
    answer(call, order_of(call.req, order_status::accepted));
    sched.run();
    self->send(exec, update_of(order_of(call.req, order_status::filled,
                                        call.req.qty.mantissa()),
                               trade_event::fill));
    sched.run();
  }

  std::vector<std::string> placed_symbols() {
    std::vector<std::string> result;
    for (auto& x : rest_log->places)
      result.push_back(x.req.symbol);
    return result;
  }
};

std::string errc_name(const caf::error& err) {
  auto code = errc_of(err);
  return code ? to_string(*code) : "none";
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(executor_tests, fixture)

CAF_TEST(orders wait for the stream then sells go before buys) {
  start_executor();
  auto hdl = submit(rebalance());
  CAF_CHECK(rest_log->places.empty());
  stream(session_state::streaming);
  CAF_CHECK_EQUAL(placed_symbols(),
                  (std::vector<std::string>{"MSFT", "TSLA"}));
  CAF_CHECK_EQUAL(rest_log->places[0].req.client_order_id, "ath-p1-1");
  accept_and_fill(0);
  CAF_CHECK_EQUAL(rest_log->places.size(), 2u);
  accept_and_fill(1);
  CAF_REQUIRE_EQUAL(rest_log->places.size(), 3u);
  CAF_CHECK_EQUAL(rest_log->places[2].req.symbol, "AAPL");
  accept_and_fill(2);
  auto result = result_of(hdl);
  CAF_REQUIRE(result);
  CAF_CHECK(result->succeeded());
  CAF_CHECK(!result->replayed);
  CAF_CHECK_EQUAL(result->correlation_id, "corr-p1");
  CAF_CHECK_EQUAL(result->items[0].order_id, "o-ath-p1-0");
  CAF_CHECK_EQUAL(to_string(result->items[1].filled_qty), "2");
}

CAF_TEST(the same plan again places nothing and returns the record) {
  start_executor();
  stream(session_state::streaming);
  auto first = submit(rebalance());
  for (size_t i = 0; i < 3; ++i)
    accept_and_fill(i);
  CAF_REQUIRE(result_of(first));
  auto again = submit(rebalance());
  auto result = result_of(again);
  CAF_REQUIRE(result);
  CAF_CHECK(result->replayed);
  CAF_CHECK(result->succeeded());
  CAF_CHECK_EQUAL(rest_log->places.size(), 3u);
  // A different plan under the same id is refused.
  auto other = rebalance();
  other.items.pop_back();
  auto refused_hdl = submit(other);
  auto refused = result_of(refused_hdl);
  CAF_REQUIRE(!refused);
  CAF_CHECK_EQUAL(errc_name(refused.error()), "invalid_plan");
  CAF_CHECK_NOT_EQUAL(detail_of(refused.error()).find("different plan"),
                      std::string::npos);
}

CAF_TEST(an invalid plan names every field and records nothing) {
  start_executor();
  auto bad = rebalance("p-bad");
  bad.items[0].qty = decimal{};
  bad.items[1].symbol = "msft";
  auto hdl = submit(bad);
  auto result = result_of(hdl);
  CAF_REQUIRE(!result);
  CAF_CHECK_EQUAL(errc_name(result.error()), "invalid_plan");
  auto text = detail_of(result.error());
  CAF_CHECK_NOT_EQUAL(text.find("items[0].qty"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(text.find("items[1].symbol"), std::string::npos);
  auto status = self->request(exec, caf::infinite, caf::get_atom::value,
                              std::string{"p-bad"});
  sched.run();
  status.receive([](plan_result&) { CAF_FAIL("an invalid plan was kept"); },
                 [](caf::error& err) {
                   CAF_CHECK_EQUAL(errc_name(err), "not_found");
                 });
}

CAF_TEST(a rejected order ends its item with the reason and the rest go on) {
  start_executor();
  stream(session_state::streaming);
  auto p = rebalance();
  p.sequence = plan_sequence::as_listed;
  auto hdl = submit(p);
  CAF_REQUIRE_EQUAL(rest_log->places.size(), 3u);
  answer(rest_log->places[0], make_error(
    engine_errc::order_rejected, "HTTP 403 (40310000): insufficient buying power"));
  sched.run();
  accept_and_fill(1);
  accept_and_fill(2);
  auto result = result_of(hdl);
  CAF_REQUIRE(result);
  CAF_CHECK(!result->succeeded());
  CAF_CHECK_EQUAL(outcome_at(*result, 0), "rejected");
  CAF_CHECK_NOT_EQUAL(result->items[0].reason.find("insufficient buying power"),
                      std::string::npos);
  CAF_CHECK_EQUAL(outcome_at(*result, 1), "filled");
}

CAF_TEST(an overdue fill is looked up through rest) {
  auto p = ready_with_one_item();
  auto hdl = submit(p);
  auto& call = rest_log->places.at(0);
  answer(call, order_of(call.req, order_status::accepted));
  sched.run();
  CAF_CHECK(rest_log->lookups.empty());
  advance(10s);
  CAF_REQUIRE_EQUAL(rest_log->lookups.size(), 1u);
  CAF_CHECK_EQUAL(rest_log->lookups[0].client_order_id, "ath-p1-0");
  answer(rest_log->lookups[0], 
    order_of(call.req, order_status::filled, 5));
  auto result = result_of(hdl);
  CAF_REQUIRE(result);
  CAF_CHECK(result->succeeded());
}

CAF_TEST(a reconnected stream reconciles open orders and new orders wait) {
  start_executor();
  stream(session_state::streaming);
  auto hdl = submit(rebalance());
  auto& first = rest_log->places.at(0);
  answer(first, order_of(first.req, order_status::accepted));
  sched.run();
  stream(session_state::backing_off);
  // The fill of TSLA came while the stream was down; MSFT is still open.
  auto& second = rest_log->places.at(1);
  answer(second, order_of(second.req, order_status::accepted));
  sched.run();
  stream(session_state::streaming);
  CAF_REQUIRE_EQUAL(rest_log->lookups.size(), 2u);
  for (auto& lookup : rest_log->lookups) {
    auto& req = lookup.client_order_id == first.req.client_order_id
                  ? first.req
                  : second.req;
    answer(lookup, order_of(req, order_status::filled, req.qty.mantissa()));
  }
  sched.run();
  // Both sells filled: the buy goes now.
  CAF_REQUIRE_EQUAL(rest_log->places.size(), 3u);
  accept_and_fill(2);
  auto result = result_of(hdl);
  CAF_REQUIRE(result);
  CAF_CHECK(result->succeeded());
}

CAF_TEST(a stream that never gets ready ends the items not placed) {
  start_executor();
  auto hdl = submit(rebalance());
  advance(29s);
  CAF_CHECK(rest_log->places.empty());
  advance(1s);
  auto result = result_of(hdl);
  CAF_REQUIRE(result);
  CAF_CHECK_EQUAL(outcome_at(*result, 0), "not_placed");
  CAF_CHECK_EQUAL(outcome_at(*result, 2), "not_placed");
  CAF_CHECK(!result->items[0].order_may_exist);
  CAF_CHECK_NOT_EQUAL(result->items[0].reason.find("not ready"),
                      std::string::npos);
  CAF_CHECK(rest_log->places.empty());
}

CAF_TEST(the deadline cancels open orders and reports timed out) {
  start_executor();
  stream(session_state::streaming);
  auto p = rebalance();
  p.deadline_ms = 5000;
  auto hdl = submit(p);
  auto& msft = rest_log->places.at(0);
  answer(msft, order_of(msft.req, order_status::accepted));
  auto& tsla = rest_log->places.at(1);
  answer(tsla, order_of(tsla.req, order_status::partially_filled));
  sched.run();
  advance(5s);
  CAF_REQUIRE_EQUAL(rest_log->cancels.size(), 2u);
  for (auto& cancel : rest_log->cancels)
    answer(cancel, true);
  sched.run();
  CAF_REQUIRE_EQUAL(rest_log->lookups.size(), 2u);
  answer(rest_log->lookups[0], order_of(msft.req, order_status::canceled));
  auto partly = order_of(tsla.req, order_status::canceled);
  partly.filled_qty = decimal{5, 1};
  answer(rest_log->lookups[1], partly);
  auto result = result_of(hdl);
  CAF_REQUIRE(result);
  CAF_CHECK_EQUAL(outcome_at(*result, 1), "timed_out");
  CAF_CHECK_EQUAL(outcome_at(*result, 2), "partially_filled");
  // The buy was never placed (sells never finished).
  CAF_CHECK_EQUAL(outcome_at(*result, 0), "timed_out");
  CAF_CHECK_EQUAL(rest_log->places.size(), 2u);
}

CAF_TEST(a restarted executor resumes a plan without posting blindly) {
  start_executor();
  stream(session_state::streaming);
  auto hdl = submit(rebalance());
  auto& msft = rest_log->places.at(0);
  answer(msft, order_of(msft.req, order_status::accepted));
  sched.run();
  // TSLA's POST is in flight when the engine dies.
  self->send_exit(exec, caf::exit_reason::kill);
  sched.run();
  auto places_before = rest_log->places.size();
  start_executor();
  stream(session_state::streaming);
  // Every unfinished item is looked up first; nothing is posted yet.
  CAF_CHECK_EQUAL(rest_log->places.size(), places_before);
  CAF_REQUIRE_EQUAL(rest_log->lookups.size(), 3u);
  for (auto& lookup : rest_log->lookups) {
    if (lookup.client_order_id == "ath-p1-1")
      answer(lookup, order_of(msft.req, order_status::filled, 2));
    else
      answer(lookup, make_error(engine_errc::not_found, "no such order"));
  }
  sched.run();
  // TSLA proved absent: posted now, once.
  CAF_REQUIRE_EQUAL(rest_log->places.size(), places_before + 1);
  CAF_CHECK_EQUAL(rest_log->places.back().req.client_order_id, "ath-p1-2");
  accept_and_fill(rest_log->places.size() - 1);
  CAF_REQUIRE_EQUAL(rest_log->places.size(), places_before + 2);
  accept_and_fill(rest_log->places.size() - 1);
  auto status = self->request(exec, caf::infinite, caf::get_atom::value,
                              std::string{"p1"});
  sched.run();
  status.receive(
    [](plan_result& r) {
      CAF_CHECK(r.succeeded());
      CAF_CHECK_EQUAL(r.items.size(), 3u);
    },
    [](caf::error& err) { CAF_FAIL("no result: " << render(err)); });
  (void) hdl;
}

CAF_TEST(an order of unknown fate is looked up before any repeat) {
  auto p = ready_with_one_item();
  auto hdl = submit(p);
  answer(rest_log->places.at(0), 
    make_error(engine_errc::request_timeout, "order fate unknown"));
  sched.run();
  CAF_CHECK(rest_log->lookups.empty());
  advance(10s);
  CAF_REQUIRE_EQUAL(rest_log->lookups.size(), 1u);
  answer(rest_log->lookups[0], 
    order_of(rest_log->places[0].req, order_status::filled, 5));
  auto result = result_of(hdl);
  CAF_REQUIRE(result);
  CAF_CHECK(result->succeeded());
  CAF_CHECK_EQUAL(rest_log->places.size(), 1u);
}

CAF_TEST(no order leaves while the breaker is open) {
  breaker_config bc;
  bc.endpoint = "rest";
  breaker = unbox(spawn_breaker(sys, bc));
  self->send(breaker, force_open_atom::value, trace::root());
  sched.run();
  auto p = ready_with_one_item();
  auto hdl = submit(p);
  advance(5s);
  CAF_CHECK(rest_log->places.empty());
  self->send(breaker, reset_atom::value, trace::root());
  sched.run();
  advance(1s);
  CAF_REQUIRE_EQUAL(rest_log->places.size(), 1u);
  accept_and_fill(0);
  auto result = result_of(hdl);
  CAF_REQUIRE(result);
  CAF_CHECK(result->succeeded());
  auto stats = fetch<metric_samples>(exec, metrics_atom::value);
  double refusals = 0;
  for (auto& x : stats)
    if (x.name == "athanor_executor_breaker_refusals_total")
      refusals = x.value;
  CAF_CHECK_GREATER(refusals, 0.0);
}

// trading_desk asks every 5 s with the same trace while a plan runs: the
// request that executes it must never read its own result as a replay.
CAF_TEST(a slow first run asked again by its request is not a replay) {
  auto p = ready_with_one_item();
  auto caller = trace::root();
  auto first = submit(p, caller);
  advance(5s);
  auto again = submit(p, caller);
  advance(5s);
  auto other = submit(p);
  accept_and_fill(0);
  auto a = result_of(first);
  auto b = result_of(again);
  auto c = result_of(other);
  CAF_REQUIRE(a && b && c);
  CAF_CHECK(!a->replayed);
  CAF_CHECK(!b->replayed);
  CAF_CHECK(c->replayed);
  // Finished: the same request still gets its own result, others a replay.
  auto late = result_of(submit(p, caller));
  CAF_REQUIRE(late);
  CAF_CHECK(!late->replayed);
  CAF_CHECK(late->succeeded());
  auto replay = result_of(submit(p));
  CAF_REQUIRE(replay);
  CAF_CHECK(replay->replayed);
  CAF_CHECK_EQUAL(metric("athanor_executor_plans_replayed_total"), 2.0);
  CAF_CHECK_EQUAL(rest_log->places.size(), 1u);
}

CAF_TEST(a resumed plan keeps the deadline it was accepted with) {
  auto p = ready_with_one_item();
  p.deadline_ms = 3000;
  auto caller = trace::root();
  submit(p, caller);
  auto req = rest_log->places.at(0).req;
  answer(rest_log->places.at(0), order_of(req, order_status::accepted));
  sched.run();
  advance(2500ms);
  restart_executor();
  stream(session_state::streaming);
  CAF_REQUIRE_EQUAL(rest_log->lookups.size(), 1u);
  answer(rest_log->lookups[0], order_of(req, order_status::accepted));
  sched.run();
  CAF_CHECK(rest_log->cancels.empty());
  // 3 s after acceptance, not 3 s after the restart.
  advance(600ms);
  CAF_REQUIRE_EQUAL(rest_log->cancels.size(), 1u);
  CAF_CHECK_EQUAL(rest_log->cancels[0].order_id, "o-ath-p1-0");
  // Asked again by the request that started it, it is still no replay.
  auto hdl = submit(p, caller);
  answer(rest_log->cancels[0], true);
  sched.run();
  CAF_REQUIRE_EQUAL(rest_log->lookups.size(), 2u);
  answer(rest_log->lookups[1], order_of(req, order_status::canceled));
  auto result = result_of(hdl);
  CAF_REQUIRE(result);
  CAF_CHECK(!result->replayed);
  CAF_CHECK_EQUAL(outcome_at(*result, 0), "timed_out");
}

CAF_TEST(an order of unknown fate found open after the deadline is canceled) {
  auto p = ready_with_one_item();
  p.deadline_ms = 3000;
  auto hdl = submit(p);
  auto req = rest_log->places.at(0).req;
  answer(rest_log->places.at(0),
         make_error(engine_errc::request_timeout, "no answer"));
  sched.run();
  advance(3s);
  // At the deadline its fate is asked at once, and the open order canceled.
  CAF_REQUIRE_EQUAL(rest_log->lookups.size(), 1u);
  answer(rest_log->lookups[0], order_of(req, order_status::new_order));
  sched.run();
  CAF_REQUIRE_EQUAL(rest_log->cancels.size(), 1u);
  answer(rest_log->cancels[0],
         make_error(engine_errc::server_error, "HTTP 500"));
  sched.run();
  CAF_CHECK_EQUAL(metric("athanor_executor_cancels_failed_total"), 1.0);
  advance(10s);
  auto result = result_of(hdl);
  CAF_REQUIRE(result);
  CAF_CHECK_EQUAL(outcome_at(*result, 0), "timed_out");
  // It says what was sent and what came back.
  auto& reason = result->items[0].reason;
  CAF_CHECK_NOT_EQUAL(reason.find("cancel of order o-ath-p1-0 failed"),
                      std::string::npos);
  CAF_CHECK_NOT_EQUAL(reason.find("HTTP 500"), std::string::npos);
}

CAF_TEST(a late post answer after the deadline is canceled) {
  auto p = ready_with_one_item();
  p.deadline_ms = 3000;
  auto hdl = submit(p);
  auto req = rest_log->places.at(0).req;
  advance(3s);
  CAF_CHECK(rest_log->cancels.empty());
  answer(rest_log->places.at(0), order_of(req, order_status::accepted));
  sched.run();
  CAF_REQUIRE_EQUAL(rest_log->cancels.size(), 1u);
  answer(rest_log->cancels[0], true);
  sched.run();
  advance(10s);
  auto result = result_of(hdl);
  CAF_REQUIRE(result);
  CAF_CHECK_NOT_EQUAL(result->items[0].reason.find("accepted, final status "
                                                   "not seen"),
                      std::string::npos);
}

CAF_TEST(an order that differs from its item is not adopted) {
  start_executor();
  stream(session_state::streaming);
  auto p = rebalance();
  p.sequence = plan_sequence::as_listed;
  auto hdl = submit(p);
  CAF_REQUIRE_EQUAL(rest_log->places.size(), 3u);
  // The REST client resolved a reused client_order_id to an older order.
  auto found = order_of(rest_log->places[1].req, order_status::filled, 3);
  found.qty = decimal::from_integer(3);
  found.type = order_type::limit;
  answer(rest_log->places[1], found);
  accept_and_fill(0);
  accept_and_fill(2);
  auto result = result_of(hdl);
  CAF_REQUIRE(result);
  CAF_CHECK(!result->succeeded());
  CAF_CHECK_EQUAL(outcome_at(*result, 1), "mismatch");
  auto& reason = result->items[1].reason;
  CAF_CHECK_NOT_EQUAL(reason.find("qty 3 (plan: 2)"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(reason.find("type limit (plan: market)"),
                      std::string::npos);
  CAF_CHECK(result->items[1].order_id.empty());
  CAF_CHECK_EQUAL(rest_log->places.size(), 3u);
}

CAF_TEST(news never moves an item back) {
  auto p = ready_with_one_item();
  submit(p);
  auto req = rest_log->places.at(0).req;
  answer(rest_log->places.at(0), order_of(req, order_status::accepted));
  sched.run();
  self->send(exec, update_of(order_of(req, order_status::partially_filled, 2),
                             trade_event::partial_fill));
  sched.run();
  // The fill was news: the overdue lookup comes one quiet period later.
  advance(10s);
  CAF_CHECK(rest_log->lookups.empty());
  advance(10s);
  CAF_REQUIRE_EQUAL(rest_log->lookups.size(), 1u);
  // A lookup answered before the fill arrives after it.
  answer(rest_log->lookups[0], order_of(req, order_status::accepted));
  sched.run();
  auto now = status_of("p1");
  CAF_CHECK_EQUAL(to_string(now.items[0].status), "partially_filled");
  CAF_CHECK_EQUAL(to_string(now.items[0].filled_qty), "2");
  CAF_CHECK_EQUAL(metric("athanor_executor_stale_answers_total"), 1.0);
}

CAF_TEST(a refused key on a post ends the item not placed) {
  auto p = ready_with_one_item();
  auto hdl = submit(p);
  answer(rest_log->places.at(0),
         make_error(engine_errc::auth_failed, "HTTP 401 unauthorized"));
  auto result = result_of(hdl);
  CAF_REQUIRE(result);
  CAF_CHECK_EQUAL(outcome_at(*result, 0), "not_placed");
  CAF_CHECK(!result->items[0].order_may_exist);
  CAF_CHECK_NOT_EQUAL(result->items[0].reason.find("401"), std::string::npos);
}

CAF_TEST(a plan that placed nothing runs again and says so) {
  start_executor();
  auto p = rebalance();
  auto failed = stream_in(session_state::failed);
  failed.last_error = "auth failed (402)";
  self->send(exec, failed);
  auto first = result_of(submit(p));
  CAF_REQUIRE(first);
  CAF_CHECK_EQUAL(outcome_at(*first, 0), "not_placed");
  CAF_CHECK(rest_log->places.empty());
  // The key is fixed: a new engine, the same journal, the same plan.
  restart_executor();
  stream(session_state::streaming);
  auto hdl = submit(p);
  CAF_REQUIRE_EQUAL(rest_log->places.size(), 2u);
  accept_and_fill(0);
  accept_and_fill(1);
  accept_and_fill(2);
  auto second = result_of(hdl);
  CAF_REQUIRE(second);
  CAF_CHECK(second->succeeded());
  CAF_CHECK(second->retried);
  CAF_CHECK(!second->replayed);
  CAF_CHECK_EQUAL(metric("athanor_executor_plans_retried_total"), 1.0);
  // Now orders exist: a third run replays.
  auto third = result_of(submit(p));
  CAF_REQUIRE(third);
  CAF_CHECK(third->replayed);
  CAF_CHECK(!third->retried);
  CAF_CHECK_EQUAL(rest_log->places.size(), 3u);
}

CAF_TEST(a plan whose post may have left never runs again) {
  auto p = ready_with_one_item();
  p.deadline_ms = 1000;
  auto hdl = submit(p);
  answer(rest_log->places.at(0),
         make_error(engine_errc::request_timeout, "no answer"));
  sched.run();
  advance(1s);
  for (auto& lookup : rest_log->lookups)
    answer(lookup, make_error(engine_errc::request_timeout, "no answer"));
  sched.run();
  advance(10s);
  auto first = result_of(hdl);
  CAF_REQUIRE(first);
  CAF_CHECK(first->items[0].order_may_exist);
  auto again = result_of(submit(p));
  CAF_REQUIRE(again);
  CAF_CHECK(again->replayed);
  CAF_CHECK_EQUAL(rest_log->places.size(), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
