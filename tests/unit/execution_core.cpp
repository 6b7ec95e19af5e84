#define CAF_SUITE unit.execution_core
#include "actors/trading/execution_core.hpp"

#include "caf/test/unit_test.hpp"

#include "actors/trading/execution_rules.hpp"
#include "messages/error.hpp"

using namespace athanor;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

decimal dec(const char* x) {
  return *decimal::parse(x);
}

plan_item item_of(const char* symbol, order_side side, const char* qty) {
  plan_item x;
  x.symbol = symbol;
  x.side = side;
  x.qty = dec(qty);
  return x;
}

/// Sell MSFT 2, then buy AAPL 3.
plan rebalance(std::string id = "p1", int64_t deadline_ms = 0) {
  plan p;
  p.plan_id = std::move(id);
  p.correlation_id = p.plan_id;
  p.items = {item_of("MSFT", order_side::sell, "2"),
             item_of("AAPL", order_side::buy, "3")};
  p.deadline_ms = deadline_ms;
  return p;
}

template <class T>
std::vector<T> all_of(const execution_commands& cmds) {
  std::vector<T> result;
  for (auto& cmd : cmds)
    if (auto x = std::get_if<T>(&cmd))
      result.push_back(*x);
  return result;
}

template <class T>
T only(const execution_commands& cmds) {
  auto xs = all_of<T>(cmds);
  if (xs.size() != 1)
    CAF_FAIL("expected one command of the kind, got " << xs.size() << " of "
                                                      << cmds.size());
  return xs.front();
}

template <class T>
size_t count(const execution_commands& cmds) {
  return all_of<T>(cmds).size();
}

/// The index of the first command of kind T (cmds.size() if none).
template <class T>
size_t index_of(const execution_commands& cmds) {
  for (size_t i = 0; i < cmds.size(); ++i)
    if (std::holds_alternative<T>(cmds[i]))
      return i;
  return cmds.size();
}

session_status streaming() {
  session_status x;
  x.state = session_state::streaming;
  x.epoch = 1;
  return x;
}

order order_of(const post_order& post, order_status status,
               const char* filled = "0") {
  order o;
  o.id = "order-" + post.request.client_order_id;
  o.client_order_id = post.request.client_order_id;
  o.symbol = post.request.symbol;
  o.side = post.request.side;
  o.type = post.request.type;
  o.tif = post.request.tif;
  o.qty = post.request.qty;
  o.status = status;
  o.filled_qty = dec(filled);
  return o;
}

order_update update_of(order o) {
  order_update u;
  u.event = trade_event::fill;
  u.subject = std::move(o);
  return u;
}

struct fixture {
  execution_core core{execution_timing{}};
  int64_t now_ms = 1'000'000;
  trace cause = trace::root("p1");

  execution_commands start(plan p, std::string caller = "caller-1") {
    auto initial = execution_core::initial_result(p);
    return core.start(std::move(p), cause, std::move(initial),
                      acceptance{caller, now_ms}, plan_waiter{1, caller},
                      now_ms);
  }

  // Starts `p` with the stream ready and returns the commands once the
  // first wave is granted (its POSTs).
  execution_commands start_streaming(plan p) {
    core.on_stream_status(streaming());
    auto cmds = start(std::move(p));
    execution_commands posts;
    for (auto& ask : all_of<ask_permit>(cmds)) {
      auto granted = core.on_permit(ask.item, uint64_t{7}, ask.cause);
      posts.insert(posts.end(), granted.begin(), granted.end());
    }
    return posts;
  }

  // The item resumed as of unknown fate (after a restart).
  execution_commands resume(plan p, int64_t accepted_at_ms,
                            std::string origin = "caller-1") {
    journaled_plan recorded;
    recorded.result = execution_core::initial_result(p);
    recorded.content_hash = content_hash(p);
    recorded.accepted = {std::move(origin), accepted_at_ms};
    recorded.spec = std::move(p);
    return core.resume(std::move(recorded), now_ms);
  }

  // Grants every permit and fills every order at once, until nothing is
  // left to do; returns every command seen on the way.
  execution_commands fill_everything(execution_commands cmds) {
    execution_commands seen;
    while (!cmds.empty()) {
      execution_commands next;
      auto take = [&next](execution_commands xs) {
        next.insert(next.end(), xs.begin(), xs.end());
      };
      for (auto& ask : all_of<ask_permit>(cmds))
        take(core.on_permit(ask.item, uint64_t{7}, ask.cause));
      for (auto& post : all_of<post_order>(cmds))
        take(core.on_update(update_of(
          order_of(post, order_status::filled, "1"))));
      seen.insert(seen.end(), cmds.begin(), cmds.end());
      cmds = std::move(next);
    }
    return seen;
  }

  // What the journal holds of `p` once it ended with every item `outcome`.
  journaled_plan recorded_done(const plan& p, item_outcome outcome) {
    journaled_plan recorded;
    recorded.spec = p;
    recorded.content_hash = content_hash(p);
    recorded.state = plan_state::done;
    recorded.result = execution_core::initial_result(p);
    recorded.accepted = {"caller-1", now_ms};
    for (auto& item : recorded.result.items)
      item.outcome = outcome;
    return recorded;
  }

  execution_timer timer_of(const execution_commands& cmds, timer_kind kind) {
    for (auto& x : all_of<arm_timer>(cmds))
      if (x.timer.kind == kind)
        return x.timer;
    CAF_FAIL("no timer of that kind");
    return {};
  }

  std::chrono::nanoseconds delay_of(const execution_commands& cmds,
                                    timer_kind kind) {
    for (auto& x : all_of<arm_timer>(cmds))
      if (x.timer.kind == kind)
        return x.delay;
    CAF_FAIL("no timer of that kind");
    return {};
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(execution_core_tests, fixture)

CAF_TEST(orders wait for the stream then sells go before buys) {
  auto cmds = start(rebalance());
  CAF_CHECK_EQUAL(count<ask_permit>(cmds), 0u);
  CAF_CHECK_EQUAL(delay_of(cmds, timer_kind::ready_wait), seconds{30});
  cmds = core.on_stream_status(streaming());
  auto ask = only<ask_permit>(cmds);
  CAF_CHECK_EQUAL(ask.item.index, 0u);
  cmds = core.on_permit(ask.item, uint64_t{7}, ask.cause);
  auto post = only<post_order>(cmds);
  CAF_CHECK_EQUAL(post.request.symbol, "MSFT");
  CAF_CHECK_EQUAL(*post.permit_id, 7u);
  // The item may exist from here on: journaled before the POST leaves.
  CAF_CHECK_LESS(index_of<journal_item>(cmds), index_of<post_order>(cmds));
  CAF_CHECK(only<journal_item>(cmds).item.order_may_exist);
  cmds = core.on_placed(post.item, order_of(post, order_status::new_order),
                        post.cause);
  CAF_CHECK_EQUAL(count<ask_permit>(cmds), 0u);
  cmds = core.on_update(update_of(order_of(post, order_status::filled, "2")));
  CAF_CHECK_EQUAL(only<ask_permit>(cmds).item.index, 1u);
}

CAF_TEST(as listed places every item at once) {
  auto p = rebalance();
  p.sequence = plan_sequence::as_listed;
  core.on_stream_status(streaming());
  CAF_CHECK_EQUAL(count<ask_permit>(start(p)), 2u);
}

CAF_TEST(the accepting request asking again joins and is no replay) {
  auto p = rebalance();
  core.on_stream_status(streaming());
  auto first = start(p);
  auto hash = content_hash(p);
  CAF_CHECK_EQUAL(core.admit(p, hash, "caller-1", cause, std::nullopt),
                  admission::join);
  core.await(p.plan_id, {2, "caller-1"});
  CAF_CHECK_EQUAL(core.counters().plans_replayed, 0u);
  CAF_CHECK_EQUAL(core.admit(p, hash, "caller-2", cause, std::nullopt),
                  admission::join);
  core.await(p.plan_id, {3, "caller-2"});
  CAF_CHECK_EQUAL(core.counters().plans_replayed, 1u);
  auto seen = fill_everything(first);
  CAF_CHECK_EQUAL(count<journal_finish>(seen), 1u);
  // Journaled as finished before anyone hears of it.
  CAF_CHECK_LESS(index_of<journal_finish>(seen), index_of<deliver_result>(seen));
  auto results = all_of<deliver_result>(seen);
  CAF_REQUIRE_EQUAL(results.size(), 3u);
  for (auto& x : results) {
    CAF_CHECK(x.result.finished());
    CAF_CHECK_EQUAL(x.result.replayed, x.waiter == 3);
  }
  CAF_CHECK(!core.running(p.plan_id));
}

CAF_TEST(a recorded plan replays to others and not to its own request) {
  auto p = rebalance();
  auto recorded = recorded_done(p, item_outcome::filled);
  for (auto& item : recorded.result.items) {
    item.order_id = "o" + std::to_string(item.index);
    item.order_may_exist = true;
  }
  auto hash = content_hash(p);
  CAF_CHECK_EQUAL(core.admit(p, hash, "caller-1", cause, recorded),
                  admission::replay);
  CAF_CHECK_EQUAL(core.counters().plans_replayed, 0u);
  CAF_CHECK_EQUAL(core.admit(p, hash, "caller-2", cause, recorded),
                  admission::replay);
  CAF_CHECK_EQUAL(core.counters().plans_replayed, 1u);
  CAF_CHECK(execution_core::recorded_result(recorded, true).replayed);
}

CAF_TEST(a different plan under a used plan_id is refused) {
  auto p = rebalance();
  core.on_stream_status(streaming());
  start(p);
  auto changed = p;
  changed.items[0].qty = dec("3");
  CAF_CHECK_EQUAL(core.admit(changed, content_hash(changed), "caller-1",
                             cause, std::nullopt),
                  admission::reused_id);
}

CAF_TEST(a plan that placed nothing may run again and one that may have placed never) {
  auto p = rebalance();
  auto recorded = recorded_done(p, item_outcome::not_placed);
  auto hash = content_hash(p);
  CAF_CHECK_EQUAL(core.admit(p, hash, "caller-2", cause, recorded),
                  admission::retry);
  recorded.result.items[1].order_may_exist = true;
  CAF_CHECK_EQUAL(core.admit(p, hash, "caller-2", cause, recorded),
                  admission::replay);
}

CAF_TEST(a refused key on a post ends the item not placed and proves nothing left) {
  auto posts = start_streaming(rebalance());
  auto post = only<post_order>(posts);
  auto cmds = core.on_post_failed(
    post.item, make_error(engine_errc::auth_failed, "401"), post.cause);
  auto ended = all_of<journal_item>(cmds);
  CAF_REQUIRE(!ended.empty());
  CAF_CHECK_EQUAL(ended.front().item.outcome, item_outcome::not_placed);
  CAF_CHECK(!ended.front().item.order_may_exist);
  // The buy waited behind the sell; with the sell ended it may go.
  CAF_CHECK_EQUAL(only<ask_permit>(cmds).item.index, 1u);
}

CAF_TEST(an order the broker refuses ends its item rejected with the reason) {
  auto posts = start_streaming(rebalance());
  auto post = only<post_order>(posts);
  auto cmds = core.on_post_failed(
    post.item,
    make_error(engine_errc::order_rejected, "insufficient qty available"),
    post.cause);
  auto ended = all_of<journal_item>(cmds).front().item;
  CAF_CHECK_EQUAL(ended.outcome, item_outcome::rejected);
  CAF_CHECK_EQUAL(ended.reason, "insufficient qty available");
  CAF_CHECK_EQUAL(core.counters().orders_rejected, 1u);
}

CAF_TEST(an order of unknown fate is looked up before any repeat) {
  auto posts = start_streaming(rebalance());
  auto post = only<post_order>(posts);
  auto cmds = core.on_post_failed(
    post.item, make_error(engine_errc::request_timeout, "no answer"),
    post.cause);
  CAF_CHECK_EQUAL(count<ask_permit>(cmds) + count<post_order>(cmds), 0u);
  cmds = core.on_timer(timer_of(cmds, timer_kind::order_news));
  auto lookup = only<look_up_order>(cmds);
  CAF_CHECK_EQUAL(lookup.client_order_id, post.request.client_order_id);
  // Absent at the broker: only now it may go again.
  cmds = core.on_lookup_failed(lookup.item,
                               make_error(engine_errc::not_found, "404"),
                               lookup.cause);
  CAF_CHECK_EQUAL(only<ask_permit>(cmds).item.index, 0u);
}

CAF_TEST(an overdue order is looked up and the wait doubles per lookup) {
  auto posts = start_streaming(rebalance());
  auto post = only<post_order>(posts);
  auto cmds = core.on_placed(post.item,
                             order_of(post, order_status::new_order),
                             post.cause);
  CAF_CHECK_EQUAL(delay_of(cmds, timer_kind::order_news), seconds{10});
  cmds = core.on_timer(timer_of(cmds, timer_kind::order_news));
  auto lookup = only<look_up_order>(cmds);
  cmds = core.on_found(lookup.item, order_of(post, order_status::new_order));
  CAF_CHECK_EQUAL(count<look_up_order>(cmds), 0u);
  CAF_CHECK_EQUAL(delay_of(cmds, timer_kind::order_news), seconds{20});
}

CAF_TEST(news before the overdue timer re-arms it instead of asking) {
  auto posts = start_streaming(rebalance());
  auto post = only<post_order>(posts);
  auto cmds = core.on_placed(post.item,
                             order_of(post, order_status::new_order),
                             post.cause);
  auto timer = timer_of(cmds, timer_kind::order_news);
  core.on_update(
    update_of(order_of(post, order_status::partially_filled, "1")));
  cmds = core.on_timer(timer);
  CAF_CHECK_EQUAL(count<look_up_order>(cmds), 0u);
  auto rearmed = timer_of(cmds, timer_kind::order_news);
  // The replaced timer firing late does nothing.
  CAF_CHECK(core.on_timer(timer).empty());
  CAF_CHECK_EQUAL(only<look_up_order>(core.on_timer(rearmed)).item.index, 0u);
}

CAF_TEST(news never moves an item back) {
  auto posts = start_streaming(rebalance());
  auto post = only<post_order>(posts);
  core.on_update(
    update_of(order_of(post, order_status::partially_filled, "1")));
  auto cmds = core.on_placed(post.item,
                             order_of(post, order_status::new_order),
                             post.cause);
  CAF_CHECK_EQUAL(count<journal_item>(cmds), 0u);
  CAF_CHECK_EQUAL(core.counters().stale_answers, 1u);
  auto* result = core.result_of("p1");
  CAF_REQUIRE(result != nullptr);
  CAF_CHECK_EQUAL(result->items[0].status, order_status::partially_filled);
  CAF_CHECK_EQUAL(result->items[0].filled_qty, dec("1"));
}

CAF_TEST(a resumed plan keeps the deadline it was accepted with) {
  auto cmds = resume(rebalance("p1", 3000), now_ms - 2500);
  CAF_CHECK_EQUAL(delay_of(cmds, timer_kind::deadline), milliseconds{500});
  cmds = resume(rebalance("p2", 3000), now_ms - 9000);
  CAF_CHECK_EQUAL(delay_of(cmds, timer_kind::deadline), milliseconds{0});
  // A plan of an older journal (no accepted-at) gets its whole deadline.
  cmds = resume(rebalance("p3", 3000), 0);
  CAF_CHECK_EQUAL(delay_of(cmds, timer_kind::deadline), milliseconds{3000});
}

CAF_TEST(a resumed item is looked up before anything is placed) {
  resume(rebalance(), now_ms);
  auto cmds = core.on_stream_status(streaming());
  CAF_CHECK_EQUAL(count<ask_permit>(cmds), 0u);
  CAF_CHECK_EQUAL(count<look_up_order>(cmds), 2u);
  CAF_CHECK_EQUAL(core.counters().reconciliations, 2u);
}

CAF_TEST(an order that differs from its item is not adopted) {
  resume(rebalance(), now_ms);
  auto lookups = all_of<look_up_order>(core.on_stream_status(streaming()));
  order found;
  found.id = "o-msft";
  found.client_order_id = lookups[0].client_order_id;
  found.symbol = "MSFT";
  found.side = order_side::sell;
  found.qty = dec("3");
  found.status = order_status::new_order;
  auto cmds = core.on_found(lookups[0].item, found);
  auto ended = all_of<journal_item>(cmds).front().item;
  CAF_CHECK_EQUAL(ended.outcome, item_outcome::mismatch);
  CAF_CHECK_NOT_EQUAL(ended.reason.find("qty 3 (plan: 2)"), std::string::npos);
  CAF_CHECK(ended.order_id.empty());
  CAF_CHECK_EQUAL(count<post_order>(cmds) + count<cancel_order>(cmds), 0u);
}

CAF_TEST(the deadline cancels open orders and the grace says what was sent) {
  auto posts = start_streaming(rebalance("p1", 3000));
  auto post = only<post_order>(posts);
  auto cmds = core.on_placed(post.item,
                             order_of(post, order_status::new_order),
                             post.cause);
  item_ref plan_ref{"p1", post.item.run, 0};
  cmds = core.on_timer({timer_kind::deadline, plan_ref, 0});
  auto cancel = only<cancel_order>(cmds);
  CAF_CHECK_EQUAL(cancel.order_id, "order-" + post.request.client_order_id);
  // The buy never went: it ends at once.
  auto ended = all_of<journal_item>(cmds);
  CAF_REQUIRE_EQUAL(ended.size(), 1u);
  CAF_CHECK_EQUAL(ended[0].item.index, 1u);
  CAF_CHECK_EQUAL(ended[0].item.outcome, item_outcome::timed_out);
  cmds = core.on_timer(timer_of(cmds, timer_kind::cancel_grace));
  auto last = all_of<journal_item>(cmds).front().item;
  CAF_CHECK_EQUAL(last.outcome, item_outcome::timed_out);
  CAF_CHECK_EQUAL(last.reason, "deadline passed; cancel of order "
                                 + cancel.order_id
                                 + " sent, no answer within 10000 ms");
  CAF_CHECK_EQUAL(count<deliver_result>(cmds), 1u);
}

CAF_TEST(a confirmed cancel ends the item when the lookup sees it) {
  auto posts = start_streaming(rebalance("p1", 3000));
  auto post = only<post_order>(posts);
  core.on_placed(post.item, order_of(post, order_status::new_order),
                 post.cause);
  auto cmds = core.on_timer({timer_kind::deadline, post.item, 0});
  auto cancel = only<cancel_order>(cmds);
  cmds = core.on_cancel_answer(cancel.item, std::nullopt, cancel.cause);
  auto lookup = only<look_up_order>(cmds);
  cmds = core.on_found(lookup.item, order_of(post, order_status::canceled));
  auto ended = all_of<journal_item>(cmds).front().item;
  CAF_CHECK_EQUAL(ended.outcome, item_outcome::timed_out);
  CAF_CHECK_EQUAL(ended.reason, "deadline passed; order canceled");
  CAF_CHECK_EQUAL(count<journal_finish>(cmds), 1u);
}

CAF_TEST(a failed cancel is counted and the result says so) {
  auto posts = start_streaming(rebalance("p1", 3000));
  auto post = only<post_order>(posts);
  core.on_placed(post.item, order_of(post, order_status::new_order),
                 post.cause);
  auto cmds = core.on_timer({timer_kind::deadline, post.item, 0});
  auto grace = timer_of(cmds, timer_kind::cancel_grace);
  auto cancel = only<cancel_order>(cmds);
  cmds = core.on_cancel_answer(
    cancel.item, make_error(engine_errc::server_error, "500"), cancel.cause);
  CAF_CHECK_EQUAL(core.counters().cancels_failed, 1u);
  CAF_CHECK_EQUAL(count<look_up_order>(cmds), 1u);
  cmds = core.on_timer(grace);
  auto reason = all_of<journal_item>(cmds).front().item.reason;
  CAF_CHECK_NOT_EQUAL(reason.find("cancel of order " + cancel.order_id
                                  + " failed"),
                      std::string::npos);
}

CAF_TEST(a late post answer after the deadline is canceled) {
  auto posts = start_streaming(rebalance("p1", 3000));
  auto post = only<post_order>(posts);
  // The deadline passes while the POST is under way: nothing to cancel yet.
  auto cmds = core.on_timer({timer_kind::deadline, post.item, 0});
  CAF_CHECK_EQUAL(count<cancel_order>(cmds), 0u);
  cmds = core.on_placed(post.item, order_of(post, order_status::new_order),
                        post.cause);
  CAF_CHECK_EQUAL(only<cancel_order>(cmds).order_id,
                  "order-" + post.request.client_order_id);
}

CAF_TEST(an order of unknown fate found open after the deadline is canceled) {
  auto posts = start_streaming(rebalance("p1", 3000));
  auto post = only<post_order>(posts);
  core.on_post_failed(post.item,
                      make_error(engine_errc::connection_lost, "reset"),
                      post.cause);
  auto cmds = core.on_timer({timer_kind::deadline, post.item, 0});
  auto lookup = only<look_up_order>(cmds);
  cmds = core.on_found(lookup.item, order_of(post, order_status::new_order));
  CAF_CHECK_EQUAL(count<cancel_order>(cmds), 1u);
}

CAF_TEST(an answer after the plan ended cancels the orphan) {
  auto posts = start_streaming(rebalance("p1", 3000));
  auto post = only<post_order>(posts);
  auto cmds = core.on_timer({timer_kind::deadline, post.item, 0});
  cmds = core.on_timer(timer_of(cmds, timer_kind::cancel_grace));
  CAF_CHECK(!core.running("p1"));
  CAF_CHECK_NOT_EQUAL(all_of<journal_item>(cmds).front().item.reason.find(
                        "whether the order was placed is unknown"),
                      std::string::npos);
  cmds = core.on_placed(post.item, order_of(post, order_status::new_order),
                        post.cause);
  auto orphan = only<cancel_orphan>(cmds);
  CAF_CHECK_EQUAL(orphan.subject.client_order_id,
                  post.request.client_order_id);
  core.on_orphan_cancel_failed(orphan.subject,
                               make_error(engine_errc::server_error, "500"),
                               orphan.cause);
  CAF_CHECK_EQUAL(core.counters().orphans_canceled, 1u);
  CAF_CHECK_EQUAL(core.counters().cancels_failed, 1u);
}

CAF_TEST(a permit granted after the plan ended is returned unused) {
  core.on_stream_status(streaming());
  auto cmds = start(rebalance("p1", 3000));
  auto ask = only<ask_permit>(cmds);
  cmds = core.on_timer({timer_kind::deadline, ask.item, 0});
  core.on_timer(timer_of(cmds, timer_kind::cancel_grace));
  cmds = core.on_permit(ask.item, uint64_t{9}, ask.cause);
  CAF_CHECK_EQUAL(only<return_permit>(cmds).permit_id, 9u);
  CAF_CHECK_EQUAL(count<post_order>(cmds), 0u);
}

CAF_TEST(a breaker refusal waits its hint and asks again) {
  core.on_stream_status(streaming());
  auto ask = only<ask_permit>(start(rebalance()));
  auto cmds = core.on_permit_refused(
    ask.item, make_error(engine_errc::breaker_open), seconds{2});
  CAF_CHECK_EQUAL(delay_of(cmds, timer_kind::permit_retry), seconds{2});
  CAF_CHECK_EQUAL(core.counters().breaker_refusals, 1u);
  cmds = core.on_timer(timer_of(cmds, timer_kind::permit_retry));
  CAF_CHECK_EQUAL(only<ask_permit>(cmds).item.index, 0u);
}

CAF_TEST(a stream that never gets ready ends the items not placed) {
  auto cmds = start(rebalance());
  cmds = core.on_timer(timer_of(cmds, timer_kind::ready_wait));
  auto results = all_of<deliver_result>(cmds);
  CAF_REQUIRE_EQUAL(results.size(), 1u);
  for (auto& item : results[0].result.items) {
    CAF_CHECK_EQUAL(item.outcome, item_outcome::not_placed);
    CAF_CHECK_EQUAL(item.reason, "not placed: the trading stream was not "
                                 "ready within 30 s");
  }
}

CAF_TEST(a failed stream ends every unplaced item) {
  auto cmds = start(rebalance());
  session_status failed;
  failed.state = session_state::failed;
  failed.last_error = "auth_failed: 402";
  cmds = core.on_stream_status(failed);
  auto results = all_of<deliver_result>(cmds);
  CAF_REQUIRE_EQUAL(results.size(), 1u);
  for (auto& item : results[0].result.items)
    CAF_CHECK_EQUAL(item.reason,
                    "not placed: the trading stream failed: auth_failed: 402");
  CAF_CHECK(placed_nothing(results[0].result));
}

CAF_TEST(a timer of an earlier run never touches the plan run again after a failed stream came back) {
  auto p = rebalance("p1", 3000);
  auto cmds = start(p);
  auto old_deadline = timer_of(cmds, timer_kind::deadline);
  session_status failed;
  failed.state = session_state::failed;
  failed.last_error = "auth_failed: 402";
  core.on_stream_status(failed);
  CAF_REQUIRE(!core.running("p1"));
  core.on_stream_status(streaming());
  auto initial = execution_core::initial_result(p, true);
  cmds = core.start(p, cause, initial, acceptance{"caller-2", now_ms},
                    plan_waiter{2, "caller-2"}, now_ms);
  CAF_CHECK_EQUAL(core.counters().plans_retried, 1u);
  // The first run's deadline fires inside the second run's: ignored.
  CAF_CHECK(core.on_timer(old_deadline).empty());
  auto ask = only<ask_permit>(cmds);
  CAF_CHECK_NOT_EQUAL(ask.item.run, old_deadline.item.run);
  CAF_CHECK_EQUAL(count<post_order>(core.on_permit(ask.item, std::nullopt,
                                                   ask.cause)),
                  1u);
  // And an answer addressed to the first run is not the second's.
  item_ref stale{"p1", old_deadline.item.run, 0};
  CAF_CHECK(core.on_found(stale, order{}).empty());
}

CAF_TEST(the running orders are counted by status) {
  auto posts = start_streaming(rebalance());
  auto post = only<post_order>(posts);
  core.on_placed(post.item, order_of(post, order_status::new_order),
                 post.cause);
  auto by_status = core.pending_by_status();
  CAF_CHECK_EQUAL(by_status["new"], 1u);
  CAF_CHECK_EQUAL(by_status["unplaced"], 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
