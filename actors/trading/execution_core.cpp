#include "actors/trading/execution_core.hpp"

#include <algorithm>

#include "actors/trading/execution_rules.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"
#include "protocol/plan.hpp"

namespace athanor {

using std::chrono::nanoseconds;

execution_core::execution_core(execution_timing timing) : timing_(timing) {}

// -- accepting plans ------------------------------------------------------------

admission execution_core::admit(const plan& spec, const std::string& hash,
                                const std::string& caller, const trace& cause,
                                const std::optional<journaled_plan>& recorded) {
  // The request that executes a plan may ask again (its wait is short): it
  // joins and is no replay. Any other request is one.
  if (auto* run = find(spec.plan_id)) {
    if (content_hash(run->spec) != hash)
      return admission::reused_id;
    auto replay = is_replay(caller, run->accepted);
    if (replay)
      ++counters_.plans_replayed;
    log::write(replay ? log::level::info : log::level::debug, "executor",
               replay ? "plan_already_running" : "plan_awaited", &cause,
               {{"plan_id", spec.plan_id}});
    return admission::join;
  }
  if (!recorded)
    return admission::accept;
  if (recorded->content_hash != hash)
    return admission::reused_id;
  if (recorded->state == plan_state::done && placed_nothing(recorded->result))
    return admission::retry;
  auto replay = is_replay(caller, recorded->accepted);
  if (replay)
    ++counters_.plans_replayed;
  log::write(log::level::info, "executor",
             replay ? "plan_replayed" : "plan_awaited", &cause,
             {{"plan_id", spec.plan_id}});
  return admission::replay;
}

void execution_core::await(const std::string& plan_id, plan_waiter waiter) {
  if (auto* run = find(plan_id))
    run->waiters.push_back(std::move(waiter));
}

plan_result execution_core::recorded_result(const journaled_plan& recorded,
                                            bool replayed) {
  auto result = recorded.result;
  result.replayed = replayed;
  return result;
}

plan_result execution_core::initial_result(const plan& spec, bool again) {
  plan_result result;
  result.retried = again;
  result.plan_id = spec.plan_id;
  result.correlation_id = spec.correlation_id;
  for (uint32_t i = 0; i < spec.items.size(); ++i) {
    item_result x;
    x.index = i;
    x.symbol = spec.items[i].symbol;
    x.side = spec.items[i].side;
    x.client_order_id = protocol::client_order_id_of(spec.plan_id, i);
    result.items.push_back(std::move(x));
  }
  return result;
}

execution_commands execution_core::start(plan spec, trace cause,
                                         plan_result initial,
                                         acceptance accepted,
                                         plan_waiter first, int64_t now_ms) {
  auto again = initial.retried;
  auto& run = add(std::move(spec), std::move(cause), std::move(initial),
                  std::move(accepted));
  if (again)
    ++counters_.plans_retried;
  else
    ++counters_.plans_accepted;
  log::write(log::level::info, "executor",
             again ? "plan_retried" : "plan_accepted", &run.cause,
             {{"plan_id", run.spec.plan_id},
              {"items", static_cast<uint64_t>(run.spec.items.size())},
              {"sequence", to_string(run.spec.sequence)}});
  run.waiters.push_back(std::move(first));
  out cmds;
  begin(run, now_ms, cmds);
  return cmds;
}

execution_commands execution_core::resume(journaled_plan recorded,
                                          int64_t now_ms) {
  auto cause = trace::root(recorded.spec.correlation_id);
  auto& run = add(std::move(recorded.spec), std::move(cause),
                  std::move(recorded.result), std::move(recorded.accepted));
  // Whatever is not final may have been posted before the restart: look it
  // up (at the stream's readiness) before placing anything.
  uint64_t pending = 0;
  for (size_t i = 0; i < run.tracks.size(); ++i)
    if (!is_done(run.result.items[i])) {
      run.tracks[i].unknown = true;
      ++pending;
    }
  ++counters_.plans_resumed;
  log::write(log::level::warn, "executor", "plan_resumed", &run.cause,
             {{"plan_id", run.spec.plan_id}, {"pending", pending}});
  out cmds;
  begin(run, now_ms, cmds);
  return cmds;
}

execution_core::running_plan&
execution_core::add(plan spec, trace cause, plan_result result,
                    acceptance accepted) {
  auto plan_id = spec.plan_id;
  auto& run = plans_[plan_id];
  run = running_plan{};
  run.run = next_run_++;
  run.spec = std::move(spec);
  run.cause = std::move(cause);
  run.result = std::move(result);
  run.accepted = std::move(accepted);
  run.tracks.resize(run.result.items.size());
  return run;
}

void execution_core::begin(running_plan& run, int64_t now_ms, out& cmds) {
  for (auto& item : run.result.items) {
    by_client_id_[item.client_order_id] = {run.spec.plan_id, item.index};
    if (is_done(item))
      ++run.done;
    else if (item.side == order_side::sell)
      ++run.open_sells;
    if (!is_done(item) && item.order_id.empty()
        && !run.tracks[item.index].unknown)
      wait_to_place(run, item.index);
  }
  nanoseconds deadline = run.spec.deadline_ms > 0
                           ? nanoseconds{std::chrono::milliseconds{
                             run.spec.deadline_ms}}
                           : timing_.default_deadline;
  // A resumed plan keeps the deadline it was accepted with.
  if (run.accepted.at_ms > 0) {
    auto elapsed = std::chrono::milliseconds{
      std::max<int64_t>(0, now_ms - run.accepted.at_ms)};
    deadline = std::max(nanoseconds{0}, deadline - elapsed);
  }
  after(run, timer_kind::deadline, deadline, cmds);
  settle(run, cmds);
}

// -- placing ----------------------------------------------------------------------

void execution_core::wait_to_place(running_plan& run, uint32_t index) {
  if (run.spec.sequence == plan_sequence::sells_first
      && run.spec.items[index].side == order_side::sell)
    run.waiting_first.insert(index);
  else
    run.waiting_then.insert(index);
}

void execution_core::stop_waiting(running_plan& run, uint32_t index) {
  run.waiting_first.erase(index);
  run.waiting_then.erase(index);
}

std::vector<uint32_t> execution_core::waiting(const running_plan& run) {
  std::vector<uint32_t> result(run.waiting_first.begin(),
                               run.waiting_first.end());
  result.insert(result.end(), run.waiting_then.begin(),
                run.waiting_then.end());
  return result;
}

item_ref execution_core::ref(const running_plan& run, uint32_t index) {
  return {run.spec.plan_id, run.run, index};
}

void execution_core::advance(running_plan& run, out& cmds) {
  if (run.deadline_passed)
    return;
  std::vector<uint32_t> ready_to_place(run.waiting_first.begin(),
                                       run.waiting_first.end());
  if (run.spec.sequence == plan_sequence::as_listed || run.open_sells == 0)
    ready_to_place.insert(ready_to_place.end(), run.waiting_then.begin(),
                          run.waiting_then.end());
  if (ready_to_place.empty())
    return;
  if (!stream_failure_.empty()) {
    for (auto k : ready_to_place)
      end_item(run, k, item_outcome::not_placed,
               "not placed: the trading stream failed: " + stream_failure_,
               cmds);
    // Ended sells release the buys waiting behind them: they end too.
    settle(run, cmds);
    return;
  }
  if (!stream_ready_) {
    wait_for_stream(run, cmds);
    return;
  }
  for (auto k : ready_to_place)
    place(run, k, cmds);
}

void execution_core::settle(running_plan& run, out& cmds) {
  if (!check_done(run, cmds))
    advance(run, cmds);
}

void execution_core::wait_for_stream(running_plan& run, out& cmds) {
  if (run.waiting_ready)
    return;
  run.waiting_ready = true;
  log::write(log::level::info, "executor", "waiting_for_trading_stream",
             &run.cause, {{"plan_id", run.spec.plan_id}});
  after(run, timer_kind::ready_wait, timing_.ready_timeout, cmds);
}

void execution_core::ready_wait_over(running_plan& run, out& cmds) {
  run.waiting_ready = false;
  if (stream_ready_)
    return;
  // Never placed: they end here; placed orders are still followed.
  auto why = "not placed: the trading stream was not ready within "
             + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                timing_.ready_timeout)
                                .count())
             + " s";
  for (auto k : waiting(run))
    end_item(run, k, item_outcome::not_placed, why, cmds);
  check_done(run, cmds);
}

void execution_core::place(running_plan& run, uint32_t index, out& cmds) {
  run.tracks[index].placing = true;
  stop_waiting(run, index);
  cmds.push_back(ask_permit{ref(run, index), run.cause.caused()});
}

execution_commands
execution_core::on_permit(const item_ref& item,
                          std::optional<uint64_t> permit_id,
                          const trace& cause) {
  out cmds;
  auto* run = find(item);
  if (run == nullptr) {
    if (permit_id)
      cmds.push_back(return_permit{*permit_id, cause});
    return cmds;
  }
  send_order(*run, item.index, cause, permit_id, cmds);
  return cmds;
}

execution_commands
execution_core::on_permit_refused(const item_ref& item, const caf::error& why,
                                  nanoseconds retry_after) {
  out cmds;
  ++counters_.breaker_refusals;
  auto* run = find(item);
  if (run == nullptr)
    return cmds;
  log::write(log::level::warn, "executor", "breaker_refused", &run->cause,
             {{"plan_id", item.plan_id},
              {"index", item.index},
              {"error", render(why)}});
  auto wait = retry_after.count() > 0 ? retry_after : std::chrono::seconds{1};
  after(*run, timer_kind::permit_retry,
        std::max<nanoseconds>(wait, std::chrono::milliseconds{100}), cmds,
        item.index);
  return cmds;
}

void execution_core::send_order(running_plan& run, uint32_t index,
                                const trace& cause,
                                std::optional<uint64_t> permit_id,
                                out& cmds) {
  auto& item = run.spec.items[index];
  auto& result = run.result.items[index];
  order_request req;
  req.symbol = item.symbol;
  req.side = item.side;
  req.type = item.type;
  req.tif = item.tif;
  req.qty = item.qty;
  req.notional = item.notional;
  req.limit_price = item.limit_price;
  req.client_order_id = result.client_order_id;
  // Journaled before the POST leaves (the actor carries out commands in
  // order): a plan that may have placed anything never runs again.
  if (!result.order_may_exist) {
    result.order_may_exist = true;
    store(run, index, cmds);
  }
  log::write(log::level::info, "executor", "order_sent", &cause,
             {{"plan_id", run.spec.plan_id},
              {"index", index},
              {"client_order_id", req.client_order_id},
              {"symbol", req.symbol},
              {"side", to_string(req.side)}});
  cmds.push_back(post_order{ref(run, index), std::move(req), cause, permit_id});
}

execution_commands execution_core::on_placed(const item_ref& item,
                                             const order& placed,
                                             const trace& cause) {
  out cmds;
  ++counters_.orders_placed;
  auto* run = find(item);
  if (run == nullptr) {
    // The plan ended (deadline grace) before the answer came: the order
    // must not stay open unfollowed.
    if (!is_final(placed.status)) {
      ++counters_.orphans_canceled;
      log::write(log::level::error, "executor", "orphan_order_canceled",
                 &cause,
                 {{"order_id", placed.id},
                  {"client_order_id", placed.client_order_id}});
      cmds.push_back(cancel_orphan{placed, cause});
    }
    return cmds;
  }
  run->tracks[item.index].placing = false;
  apply(*run, item.index, placed, cmds);
  // Placed after the deadline: canceled unless apply() finished it.
  if (auto* still = find(item); still != nullptr && still->deadline_passed)
    cancel_item(*still, item.index, cmds);
  return cmds;
}

execution_commands execution_core::on_post_failed(const item_ref& item,
                                                  const caf::error& why,
                                                  const trace& cause) {
  out cmds;
  auto* run = find(item);
  if (run == nullptr)
    return cmds;
  auto index = item.index;
  run->tracks[index].placing = false;
  if (classify(why) == error_class::retryable) {
    // Its fate is unknown: find out before trying again.
    run->tracks[index].unknown = true;
    log::write(log::level::warn, "executor", "order_fate_unknown", &cause,
               {{"plan_id", item.plan_id},
                {"index", index},
                {"error", render(why)}});
    if (run->deadline_passed)
      look_up(*run, index, cmds);
    else
      arm_news_timer(*run, index, cmds);
    return cmds;
  }
  // A definite refusal: no order exists. The broker refusing the order is a
  // rejection; refusing the request itself (the key, a TLS failure before
  // anything was sent) means it was not placed.
  ++counters_.orders_rejected;
  run->result.items[index].order_may_exist = false;
  if (errc_of(why) == engine_errc::order_rejected)
    end_item(*run, index, item_outcome::rejected, detail_of(why), cmds);
  else
    end_item(*run, index, item_outcome::not_placed,
             "not placed: " + render(why), cmds);
  settle(*run, cmds);
  return cmds;
}

// -- what we learn about orders ---------------------------------------------------

execution_commands execution_core::on_update(const order_update& update) {
  out cmds;
  ++counters_.order_updates;
  auto i = by_client_id_.find(update.subject.client_order_id);
  if (i == by_client_id_.end())
    return cmds; // Not ours, or of a finished plan.
  auto* run = find(i->second.first);
  if (run != nullptr)
    apply(*run, i->second.second, update.subject, cmds);
  return cmds;
}

execution_commands execution_core::on_found(const item_ref& item,
                                            const order& found) {
  out cmds;
  if (auto* run = find(item)) {
    run->tracks[item.index].lookup_pending = false;
    apply(*run, item.index, found, cmds);
  }
  return cmds;
}

execution_commands execution_core::on_lookup_failed(const item_ref& item,
                                                    const caf::error& why,
                                                    const trace& cause) {
  out cmds;
  auto* run = find(item);
  if (run == nullptr)
    return cmds;
  auto index = item.index;
  auto& track = run->tracks[index];
  track.lookup_pending = false;
  auto& result = run->result.items[index];
  if (errc_of(why) == engine_errc::not_found && result.order_id.empty()) {
    // Never placed: it may go now.
    track.unknown = false;
    wait_to_place(*run, index);
    log::write(log::level::info, "executor", "order_absent", &cause,
               {{"plan_id", item.plan_id},
                {"client_order_id", result.client_order_id}});
    if (run->deadline_passed) {
      end_item(*run, index, item_outcome::timed_out,
               "deadline passed before the order was placed", cmds);
      check_done(*run, cmds);
    } else {
      advance(*run, cmds);
    }
    return cmds;
  }
  arm_news_timer(*run, index, cmds);
  return cmds;
}

void execution_core::apply(running_plan& run, uint32_t index, const order& o,
                           out& cmds) {
  auto& item = run.result.items[index];
  auto& track = run.tracks[index];
  if (is_done(item))
    return;
  if (item.order_id.empty() && !o.id.empty()) {
    if (auto diff = differences(run.spec.items[index], o); !diff.empty()) {
      track.unknown = false;
      item.order_may_exist = true;
      log::write(log::level::error, "executor", "order_mismatch", &run.cause,
                 {{"plan_id", run.spec.plan_id},
                  {"index", index},
                  {"client_order_id", item.client_order_id},
                  {"order_id", o.id},
                  {"differences", joined(diff)}});
      end_item(run, index, item_outcome::mismatch,
               "order " + o.id + " under this client_order_id differs from "
                 "the plan: " + joined(diff) + "; not adopted",
               cmds);
      settle(run, cmds);
      return;
    }
  }
  if (is_stale(item, o)) {
    ++counters_.stale_answers;
    log::write(log::level::debug, "executor", "stale_order_news", &run.cause,
               {{"plan_id", run.spec.plan_id},
                {"index", index},
                {"status", to_string(o.status)},
                {"known", to_string(item.status)}});
    return;
  }
  track.unknown = false;
  item.order_may_exist = true;
  auto before = item.status;
  if (!o.id.empty())
    item.order_id = o.id;
  item.status = o.status;
  item.filled_qty = o.filled_qty;
  item.filled_avg_price = o.filled_avg_price;
  if (is_final(o.status)) {
    auto outcome = outcome_of_final(o, run.deadline_passed);
    std::string reason;
    if (outcome == item_outcome::rejected)
      reason = "rejected by the broker";
    else if (outcome == item_outcome::timed_out
             || (run.deadline_passed
                 && outcome == item_outcome::partially_filled))
      reason = "deadline passed; order canceled";
    else if (o.status == order_status::replaced)
      reason = "order replaced outside this plan by " + o.replaced_by;
    end_item(run, index, outcome, std::move(reason), cmds);
    settle(run, cmds);
    return;
  }
  if (before != item.status)
    store(run, index, cmds);
  ++track.news;
  // Open after the deadline (a late POST answer, a lookup of an order of
  // unknown fate): it is canceled like every other.
  if (run.deadline_passed && !item.order_id.empty())
    cancel_item(run, index, cmds);
  if (track.news_timer == 0)
    arm_news_timer(run, index, cmds);
}

void execution_core::end_item(running_plan& run, uint32_t index,
                              item_outcome outcome, std::string reason,
                              out& cmds) {
  auto& item = run.result.items[index];
  if (is_done(item))
    return;
  item.outcome = outcome;
  item.reason = std::move(reason);
  ++counters_.items_ended.at(static_cast<size_t>(outcome));
  stop_waiting(run, index);
  ++run.done;
  if (item.side == order_side::sell)
    --run.open_sells;
  run.tracks[index].news_timer = 0;
  log::write(outcome == item_outcome::filled ? log::level::info
                                             : log::level::warn,
             "executor", "item_done", &run.cause,
             {{"plan_id", run.spec.plan_id},
              {"index", index},
              {"client_order_id", item.client_order_id},
              {"order_id", item.order_id},
              {"outcome", to_string(outcome)},
              {"filled_qty", to_string(item.filled_qty)},
              {"reason", item.reason}});
  store(run, index, cmds);
}

void execution_core::store(running_plan& run, uint32_t index, out& cmds) {
  cmds.push_back(journal_item{run.spec.plan_id, run.result.items[index]});
}

// An open order (or one of unknown fate) without news: ask REST.
void execution_core::arm_news_timer(running_plan& run, uint32_t index,
                                    out& cmds) {
  auto& track = run.tracks[index];
  auto factor = 1u << std::min(track.lookups, 4u);
  track.news_at_arm = track.news;
  track.news_timer = next_token_++;
  after(run, timer_kind::order_news, timing_.event_timeout * factor, cmds,
        index, track.news_timer);
}

void execution_core::news_timer_fired(running_plan& run, uint32_t index,
                                      uint64_t token, out& cmds) {
  auto& track = run.tracks[index];
  if (track.news_timer != token)
    return;
  track.news_timer = 0;
  if (track.news != track.news_at_arm)
    arm_news_timer(run, index, cmds);
  else
    look_up(run, index, cmds);
}

void execution_core::look_up(running_plan& run, uint32_t index, out& cmds) {
  auto& track = run.tracks[index];
  if (track.lookup_pending || is_done(run.result.items[index]))
    return;
  track.lookup_pending = true;
  track.news_timer = 0;
  ++track.lookups;
  ++counters_.lookups;
  cmds.push_back(look_up_order{ref(run, index),
                               run.result.items[index].client_order_id,
                               run.cause.caused()});
}

execution_commands execution_core::on_stream_status(
  const session_status& status) {
  out cmds;
  stream_status_ = status;
  std::vector<std::string> ids;
  for (auto& entry : plans_)
    ids.push_back(entry.first);
  if (status.state == session_state::failed) {
    stream_failure_ = status.last_error;
    log::write(log::level::error, "executor", "trading_stream_failed",
               nullptr, {{"error", status.last_error}});
    for (auto& plan_id : ids)
      if (auto* run = find(plan_id))
        advance(*run, cmds);
  }
  auto ready = status.state == session_state::streaming;
  // A stream that gave up and came back (its supervisor restarted it, or a
  // fixed key) places orders again.
  if (ready)
    stream_failure_.clear();
  if (ready == stream_ready_)
    return cmds;
  stream_ready_ = ready;
  log::write(ready ? log::level::info : log::level::warn, "executor",
             ready ? "trading_stream_ready" : "trading_stream_not_ready",
             nullptr,
             {{"state", to_string(status.state)}, {"epoch", status.epoch}});
  if (!ready)
    return cmds;
  // Updates may have been missed while the stream was down: ask REST about
  // every open order and every order of unknown fate.
  for (auto& plan_id : ids) {
    auto* run = find(plan_id);
    if (run == nullptr)
      continue;
    for (uint32_t k = 0; k < run->result.items.size(); ++k) {
      auto& item = run->result.items[k];
      if (!is_done(item)
          && (!item.order_id.empty() || run->tracks[k].unknown)) {
        ++counters_.reconciliations;
        look_up(*run, k, cmds);
      }
    }
    advance(*run, cmds);
  }
  return cmds;
}

// -- deadlines ----------------------------------------------------------------------

void execution_core::on_deadline(running_plan& run, out& cmds) {
  run.deadline_passed = true;
  log::write(log::level::warn, "executor", "plan_deadline", &run.cause,
             {{"plan_id", run.spec.plan_id}});
  for (uint32_t k = 0; k < run.result.items.size(); ++k) {
    auto& item = run.result.items[k];
    auto& track = run.tracks[k];
    if (is_done(item))
      continue;
    if (!item.order_id.empty())
      cancel_item(run, k, cmds);
    else if (track.unknown && !track.placing)
      look_up(run, k, cmds); // found open, it is canceled
    else if (!track.placing)
      end_item(run, k, item_outcome::timed_out,
               "deadline passed before the order was placed", cmds);
  }
  if (check_done(run, cmds))
    return;
  after(run, timer_kind::cancel_grace, timing_.cancel_grace, cmds);
}

void execution_core::grace_over(running_plan& run, out& cmds) {
  for (uint32_t k = 0; k < run.result.items.size(); ++k) {
    auto& item = run.result.items[k];
    if (is_done(item))
      continue;
    end_item(run, k,
             has_fills(item) ? item_outcome::partially_filled
                             : item_outcome::timed_out,
             unconfirmed_reason(run, k), cmds);
  }
  check_done(run, cmds);
}

// What the result says of an item whose end the cancel grace did not see:
// exactly what was sent and what came back.
std::string execution_core::unconfirmed_reason(const running_plan& run,
                                               uint32_t index) const {
  auto& item = run.result.items[index];
  auto& track = run.tracks[index];
  auto grace = std::to_string(
                 std::chrono::duration_cast<std::chrono::milliseconds>(
                   timing_.cancel_grace)
                   .count())
               + " ms";
  if (item.order_id.empty())
    return "deadline passed; whether the order was placed is unknown ("
           + item.client_order_id + "); an order found later is canceled";
  if (!track.cancel_sent)
    return "deadline passed; order " + item.order_id + " open, no cancel sent";
  if (track.cancel_answer.empty())
    return "deadline passed; cancel of order " + item.order_id
           + " sent, no answer within " + grace;
  if (track.cancel_answer == "accepted")
    return "deadline passed; cancel of order " + item.order_id
           + " accepted, final status not seen within " + grace;
  return "deadline passed; cancel of order " + item.order_id
         + " failed: " + track.cancel_answer;
}

void execution_core::cancel_item(running_plan& run, uint32_t index,
                                 out& cmds) {
  auto& track = run.tracks[index];
  auto& item = run.result.items[index];
  if (track.cancel_sent || is_done(item) || item.order_id.empty())
    return;
  track.cancel_sent = true;
  ++counters_.deadline_cancels;
  cmds.push_back(cancel_order{ref(run, index), item.order_id,
                              run.cause.caused()});
}

execution_commands
execution_core::on_cancel_answer(const item_ref& item,
                                 const std::optional<caf::error>& why,
                                 const trace& cause) {
  out cmds;
  if (why) {
    ++counters_.cancels_failed;
    log::write(log::level::warn, "executor", "cancel_failed", &cause,
               {{"plan_id", item.plan_id},
                {"index", item.index},
                {"error", render(*why)}});
  }
  // Canceled, already final, or refused: the lookup tells which.
  if (auto* run = find(item)) {
    run->tracks[item.index].cancel_answer = why ? render(*why) : "accepted";
    look_up(*run, item.index, cmds);
  }
  return cmds;
}

void execution_core::on_orphan_cancel_failed(const order& subject,
                                             const caf::error& why,
                                             const trace& cause) {
  ++counters_.cancels_failed;
  log::write(log::level::error, "executor", "orphan_cancel_failed", &cause,
             {{"order_id", subject.id},
              {"client_order_id", subject.client_order_id},
              {"error", render(why)}});
}

// -- timers -------------------------------------------------------------------------

void execution_core::after(const running_plan& run, timer_kind kind,
                           nanoseconds delay, out& cmds, uint32_t index,
                           uint64_t token) {
  cmds.push_back(arm_timer{{kind, ref(run, index), token}, delay});
}

execution_commands execution_core::on_timer(const execution_timer& timer) {
  out cmds;
  auto* run = find(timer.item);
  if (run == nullptr)
    return cmds;
  switch (timer.kind) {
    case timer_kind::deadline:
      on_deadline(*run, cmds);
      break;
    case timer_kind::ready_wait:
      ready_wait_over(*run, cmds);
      break;
    case timer_kind::permit_retry:
      run->tracks[timer.item.index].placing = false;
      wait_to_place(*run, timer.item.index);
      advance(*run, cmds);
      break;
    case timer_kind::order_news:
      news_timer_fired(*run, timer.item.index, timer.token, cmds);
      break;
    case timer_kind::cancel_grace:
      grace_over(*run, cmds);
      break;
  }
  return cmds;
}

// -- finishing ----------------------------------------------------------------------

bool execution_core::check_done(running_plan& run, out& cmds) {
  if (run.done < run.result.items.size())
    return false;
  auto plan_id = run.spec.plan_id;
  cmds.push_back(journal_finish{plan_id, run.cause});
  ++counters_.plans_done;
  auto succeeded = run.result.succeeded();
  if (succeeded)
    ++counters_.plans_succeeded;
  log::write(succeeded ? log::level::info : log::level::warn, "executor",
             "plan_done", &run.cause,
             {{"plan_id", plan_id}, {"succeeded", succeeded}});
  for (auto& item : run.result.items)
    by_client_id_.erase(item.client_order_id);
  for (auto& w : run.waiters) {
    auto copy = run.result;
    copy.replayed = is_replay(w.caller, run.accepted);
    copy.retried = run.result.retried && !copy.replayed;
    cmds.push_back(deliver_result{w.id, std::move(copy)});
  }
  plans_.erase(plan_id);
  return true;
}

// -- what it knows ------------------------------------------------------------------

execution_core::running_plan* execution_core::find(const item_ref& item) {
  auto* run = find(item.plan_id);
  return run != nullptr && run->run == item.run ? run : nullptr;
}

execution_core::running_plan*
execution_core::find(const std::string& plan_id) {
  auto i = plans_.find(plan_id);
  return i == plans_.end() ? nullptr : &i->second;
}

const plan_result*
execution_core::result_of(const std::string& plan_id) const {
  auto i = plans_.find(plan_id);
  return i == plans_.end() ? nullptr : &i->second.result;
}

std::map<std::string, uint64_t> execution_core::pending_by_status() const {
  std::map<std::string, uint64_t> result;
  for (auto& entry : plans_)
    for (auto& item : entry.second.result.items) {
      if (is_done(item))
        continue;
      ++result[item.order_id.empty() ? std::string{"unplaced"}
                                     : to_string(item.status)];
    }
  return result;
}

} // namespace athanor
