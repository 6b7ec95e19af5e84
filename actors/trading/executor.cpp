#include "actors/trading/executor.hpp"

#include <array>
#include <functional>
#include <map>
#include <set>

#include "caf/actor_system.hpp"
#include "caf/exit_reason.hpp"
#include "caf/sec.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "actors/common/metrics_gather.hpp"
#include "messages/error.hpp"
#include "messages/secret.hpp"
#include "observability/log.hpp"
#include "actors/trading/execution_rules.hpp"
#include "protocol/plan.hpp"

namespace athanor {

namespace {

using std::chrono::nanoseconds;

/// What the executor knows about one item beyond its result.
struct item_track {
  /// A permit or place request is under way.
  bool placing = false;
  /// The order may have been sent but no answer proved it (a crash, an
  /// exhausted retry): look it up before placing.
  bool unknown = false;
  bool lookup_pending = false;
  bool cancel_sent = false;
  /// The cancel's answer: empty while none came, "accepted", or the error.
  std::string cancel_answer;
  /// The armed event timer (0: none); others are ignored when they fire.
  uint64_t event_timer = 0;
  /// Counts news of the order; a timer that fires after news re-arms
  /// instead of asking REST (one timer per open order, not per event).
  uint64_t news = 0;
  uint64_t news_at_arm = 0;
  uint32_t lookups = 0;
};

/// A request waiting for a plan's result (a caller that asks again after
/// its wait timed out adds one; answering the stale one is harmless).
struct waiter {
  /// The request's trace id.
  std::string caller;
  caf::typed_response_promise<plan_result> rp;
};

struct running_plan {
  plan spec;
  trace cause;
  plan_result result;
  acceptance accepted;
  std::vector<item_track> tracks;
  std::vector<waiter> waiters;
  bool deadline_passed = false;
  /// A timer for the bounded wait on the trading stream is armed.
  bool waiting_ready = false;
  /// Items to place once allowed: the first wave (sells under
  /// sells_first) and the rest (buys under sells_first; everything under
  /// as_listed). Sets, so a large plan is not rescanned per event.
  std::set<uint32_t> waiting_first;
  std::set<uint32_t> waiting_then;
  /// Sells not done yet; buys of a sells_first plan wait for zero.
  size_t open_sells = 0;
  /// Items with a final outcome.
  size_t done = 0;
};

struct executor_counters {
  uint64_t plans_accepted = 0;
  uint64_t plans_replayed = 0;
  uint64_t plans_retried = 0;
  uint64_t plans_invalid = 0;
  uint64_t plans_resumed = 0;
  uint64_t plans_done = 0;
  uint64_t plans_succeeded = 0;
  uint64_t orders_placed = 0;
  uint64_t orders_rejected = 0;
  uint64_t order_updates = 0;
  uint64_t lookups = 0;
  uint64_t reconciliations = 0;
  uint64_t deadline_cancels = 0;
  uint64_t cancels_failed = 0;
  uint64_t orphans_canceled = 0;
  uint64_t stale_answers = 0;
  uint64_t breaker_refusals = 0;
  uint64_t journal_errors = 0;
  /// Items that reached each final outcome, indexed by item_outcome.
  std::array<uint64_t, 9> items_ended{};
};

struct executor_state {
  executor_config cfg;
  std::shared_ptr<journal> book;
  std::map<std::string, running_plan> plans;
  /// client_order_id -> (plan_id, index).
  std::map<std::string, std::pair<std::string, uint32_t>> by_client_id;
  bool stream_ready = false;
  /// The trading stream's last status.
  session_status stream_status;
  /// The trading stream gave up for good (e.g. a refused key): why.
  std::string stream_failure;
  std::map<uint64_t, std::function<void()>> timers;
  uint64_t next_timer = 1;
  executor_counters counters;
  static inline const char* name = "athanor.executor";
};

using executor_pointer = executor_actor::stateful_pointer<executor_state>;

class executor_logic : public std::enable_shared_from_this<executor_logic> {
 public:
  explicit executor_logic(executor_pointer self) : self_(self) {}

  executor_state& st() {
    return self_->state;
  }

  // -- timers -----------------------------------------------------------------

  uint64_t after(caf::timespan delay, std::function<void()> f) {
    auto id = st().next_timer++;
    st().timers.emplace(id, std::move(f));
    self_->delayed_send(self_, delay, timeout_atom::value, id);
    return id;
  }

  void on_timer(uint64_t id) {
    auto i = st().timers.find(id);
    if (i == st().timers.end())
      return;
    auto f = std::move(i->second);
    st().timers.erase(i);
    f();
  }

  int64_t wall_now() const {
    if (self_->state.cfg.wall_clock_ms)
      return self_->state.cfg.wall_clock_ms();
    return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
  }

  static void add_waiter(running_plan& run, const std::string& caller,
                         caf::typed_response_promise<plan_result> rp) {
    run.waiters.push_back({caller, std::move(rp)});
  }

  // -- accepting plans --------------------------------------------------------

  caf::result<plan_result> execute(plan& spec, const trace& caller) {
    if (spec.correlation_id.empty())
      spec.correlation_id = spec.plan_id;
    auto cause = trace::root(spec.correlation_id);
    cause.causation = causation_id{caller.id};
    if (auto problems = protocol::validate(spec); !problems.empty()) {
      ++st().counters.plans_invalid;
      log::write(log::level::warn, "executor", "plan_invalid", &cause,
                 {{"plan_id", spec.plan_id},
                  {"problems", to_string(problems)}});
      return make_error(engine_errc::invalid_plan, to_string(problems));
    }
    auto hash = content_hash(spec);
    // Running now (accepted before, or resumed): wait for its result. (A
    // promise is made only once no error can be returned directly.)
    // The request that executes a plan may ask again (its wait is short);
    // it joins and is no replay. Any other request is one.
    if (auto i = st().plans.find(spec.plan_id); i != st().plans.end()) {
      auto recorded = content_hash(i->second.spec);
      if (recorded != hash)
        return reused_id(spec, cause);
      auto replay = is_replay(caller.id, i->second.accepted);
      if (replay)
        ++st().counters.plans_replayed;
      log::write(replay ? log::level::info : log::level::debug, "executor",
                 replay ? "plan_already_running" : "plan_awaited", &cause,
                 {{"plan_id", spec.plan_id}});
      auto rp = self_->make_response_promise<plan_result>();
      add_waiter(i->second, caller.id, rp);
      return rp;
    }
    std::string error;
    auto found = st().book->find_plan(spec.plan_id, error);
    if (!error.empty())
      return journal_failed(cause, error);
    if (found) {
      if (found->content_hash != hash)
        return reused_id(spec, cause);
      if (found->state == plan_state::done && placed_nothing(found->result))
        return accept(spec, hash, cause, caller, true);
      auto replay = is_replay(caller.id, found->accepted);
      if (replay)
        ++st().counters.plans_replayed;
      log::write(log::level::info, "executor",
                 replay ? "plan_replayed" : "plan_awaited", &cause,
                 {{"plan_id", spec.plan_id}});
      auto result = found->result;
      result.replayed = replay;
      return result;
    }
    return accept(spec, hash, cause, caller, false);
  }

  // Journals the plan (anew, or again after a run that placed nothing) and
  // starts it.
  caf::result<plan_result> accept(const plan& spec, const std::string& hash,
                                  const trace& cause, const trace& caller,
                                  bool again) {
    flush();
    std::string error;
    auto& run = st().plans[spec.plan_id];
    run.spec = spec;
    run.cause = cause;
    run.result = initial_result(spec);
    run.result.retried = again;
    run.accepted = {caller.id, wall_now()};
    run.tracks.resize(spec.items.size());
    auto recorded = again ? st().book->restart_plan(spec, run.result,
                                                    run.accepted, error)
                          : st().book->record_plan(spec, hash, run.result,
                                                   run.accepted, error);
    if (!recorded) {
      st().plans.erase(spec.plan_id);
      return journal_failed(cause, error);
    }
    if (again)
      ++st().counters.plans_retried;
    else
      ++st().counters.plans_accepted;
    log::write(log::level::info, "executor",
               again ? "plan_retried" : "plan_accepted", &cause,
               {{"plan_id", spec.plan_id},
                {"items", static_cast<uint64_t>(spec.items.size())},
                {"sequence", to_string(spec.sequence)}});
    auto rp = self_->make_response_promise<plan_result>();
    add_waiter(run, caller.id, rp);
    start(spec.plan_id);
    return rp;
  }

  caf::error reused_id(const plan& spec, const trace& cause) {
    ++st().counters.plans_invalid;
    log::write(log::level::warn, "executor", "plan_id_reused", &cause,
               {{"plan_id", spec.plan_id}});
    return make_error(engine_errc::invalid_plan,
                      "plan_id: '" + spec.plan_id
                        + "' was already used for a different plan");
  }

  caf::error journal_failed(const trace& cause, const std::string& error) {
    ++st().counters.journal_errors;
    log::write(log::level::error, "executor", "journal_failed", &cause,
               {{"path", st().book->path()}, {"error", error}});
    return make_error(engine_errc::journal_error, error);
  }

  static plan_result initial_result(const plan& spec) {
    plan_result result;
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

  void start(const std::string& plan_id) {
    auto& run = st().plans.at(plan_id);
    for (auto& item : run.result.items) {
      st().by_client_id[item.client_order_id] = {plan_id, item.index};
      if (is_done(item))
        ++run.done;
      else if (item.side == order_side::sell)
        ++run.open_sells;
      if (!is_done(item) && item.order_id.empty()
          && !run.tracks[item.index].unknown)
        wait_to_place(run, item.index);
    }
    caf::timespan deadline = run.spec.deadline_ms > 0
                               ? caf::timespan{std::chrono::milliseconds{
                                 run.spec.deadline_ms}}
                               : st().cfg.default_deadline;
    // A resumed plan keeps the deadline it was accepted with.
    if (run.accepted.at_ms > 0) {
      auto elapsed = std::chrono::milliseconds{
        std::max<int64_t>(0, wall_now() - run.accepted.at_ms)};
      deadline = std::max<caf::timespan>(caf::timespan{0}, deadline - elapsed);
    }
    after(deadline, [this, plan_id] { on_deadline(plan_id); });
    if (!check_done(plan_id))
      advance(plan_id);
  }

  /// Resumes the journal's unfinished plans (at start).
  void resume() {
    std::string error;
    auto running = st().book->running_plans(error);
    if (!error.empty()) {
      ++st().counters.journal_errors;
      log::write(log::level::error, "executor", "journal_failed", nullptr,
                 {{"path", st().book->path()}, {"error", error}});
    }
    for (auto& x : running) {
      auto plan_id = x.spec.plan_id;
      auto& run = st().plans[plan_id];
      run.spec = std::move(x.spec);
      run.cause = trace::root(run.spec.correlation_id);
      run.result = std::move(x.result);
      run.accepted = std::move(x.accepted);
      run.tracks.resize(run.result.items.size());
      // Whatever is not final may have been posted before the restart:
      // look it up (at the stream's readiness) before placing anything.
      for (size_t i = 0; i < run.tracks.size(); ++i)
        if (!is_done(run.result.items[i]))
          run.tracks[i].unknown = true;
      ++st().counters.plans_resumed;
      log::write(log::level::warn, "executor", "plan_resumed", &run.cause,
                 {{"plan_id", plan_id},
                  {"pending",
                   static_cast<uint64_t>(std::count_if(
                     run.result.items.begin(), run.result.items.end(),
                     [](auto& item) { return !is_done(item); }))}});
      start(plan_id);
    }
  }

  // -- placing ----------------------------------------------------------------

  static void wait_to_place(running_plan& run, uint32_t index) {
    if (run.spec.sequence == plan_sequence::sells_first
        && run.spec.items[index].side == order_side::sell)
      run.waiting_first.insert(index);
    else
      run.waiting_then.insert(index);
  }

  static void stop_waiting(running_plan& run, uint32_t index) {
    run.waiting_first.erase(index);
    run.waiting_then.erase(index);
  }

  static std::vector<uint32_t> waiting(const running_plan& run) {
    std::vector<uint32_t> result(run.waiting_first.begin(),
                                 run.waiting_first.end());
    result.insert(result.end(), run.waiting_then.begin(),
                  run.waiting_then.end());
    return result;
  }

  void advance(const std::string& plan_id) {
    auto i = st().plans.find(plan_id);
    if (i == st().plans.end() || i->second.deadline_passed)
      return;
    auto& run = i->second;
    std::vector<uint32_t> ready_to_place(run.waiting_first.begin(),
                                         run.waiting_first.end());
    if (run.spec.sequence == plan_sequence::as_listed || run.open_sells == 0)
      ready_to_place.insert(ready_to_place.end(), run.waiting_then.begin(),
                            run.waiting_then.end());
    if (ready_to_place.empty())
      return;
    if (!st().stream_failure.empty()) {
      for (auto k : ready_to_place)
        end_item(plan_id, k, item_outcome::not_placed,
                 "not placed: the trading stream failed: "
                   + st().stream_failure);
      // Ended sells release the buys waiting behind them: they end too.
      if (!check_done(plan_id))
        advance(plan_id);
      return;
    }
    if (!st().stream_ready) {
      wait_for_stream(plan_id);
      return;
    }
    for (auto k : ready_to_place)
      place(plan_id, k);
  }

  void wait_for_stream(const std::string& plan_id) {
    auto& run = st().plans.at(plan_id);
    if (run.waiting_ready)
      return;
    run.waiting_ready = true;
    log::write(log::level::info, "executor", "waiting_for_trading_stream",
               &run.cause, {{"plan_id", plan_id}});
    after(st().cfg.ready_timeout, [this, plan_id] {
      auto i = st().plans.find(plan_id);
      if (i == st().plans.end())
        return;
      auto& run = i->second;
      run.waiting_ready = false;
      if (st().stream_ready)
        return;
      // Never placed: they end here; placed orders are still followed.
      auto why = "not placed: the trading stream was not ready within "
                 + std::to_string(std::chrono::duration_cast<
                                    std::chrono::seconds>(
                                    st().cfg.ready_timeout)
                                    .count())
                 + " s";
      for (auto k : waiting(run))
        end_item(plan_id, k, item_outcome::not_placed, why);
      check_done(plan_id);
    });
  }

  void place(const std::string& plan_id, uint32_t index) {
    auto& run = st().plans.at(plan_id);
    run.tracks[index].placing = true;
    stop_waiting(run, index);
    auto cause = run.cause.caused();
    if (!st().cfg.breaker) {
      send_order(plan_id, index, cause, std::nullopt);
      return;
    }
    auto keep = shared_from_this();
    self_
      ->request(st().cfg.breaker, st().cfg.breaker_timeout, permit_atom::value,
                cause)
      .then(
        [this, keep, plan_id, index, cause](permit& granted) {
          send_order(plan_id, index, cause, granted.id);
        },
        [this, keep, plan_id, index, cause](caf::error& err) {
          ++st().counters.breaker_refusals;
          auto wait = retry_after(err).value_or(std::chrono::seconds{1});
          log::write(log::level::warn, "executor", "breaker_refused", &cause,
                     {{"plan_id", plan_id},
                      {"index", index},
                      {"error", render(err)}});
          after(std::max<caf::timespan>(wait, std::chrono::milliseconds{100}),
                [this, plan_id, index] {
                  if (auto run = find(plan_id)) {
                    run->tracks[index].placing = false;
                    wait_to_place(*run, index);
                    advance(plan_id);
                  }
                });
        });
  }

  void report_outcome(std::optional<uint64_t> permit_id, call_outcome outcome,
                      const trace& cause) {
    if (permit_id && st().cfg.breaker)
      self_->send(st().cfg.breaker, outcome_atom::value, *permit_id, outcome,
                  cause);
  }

  void send_order(const std::string& plan_id, uint32_t index, trace cause,
                  std::optional<uint64_t> permit_id) {
    auto* run = find(plan_id);
    if (run == nullptr) {
      report_outcome(permit_id, call_outcome::ignored, cause);
      return;
    }
    auto& item = run->spec.items[index];
    order_request req;
    req.symbol = item.symbol;
    req.side = item.side;
    req.type = item.type;
    req.tif = item.tif;
    req.qty = item.qty;
    req.notional = item.notional;
    req.limit_price = item.limit_price;
    req.client_order_id = run->result.items[index].client_order_id;
    // Journaled with the next flush, before the plan can finish: a plan
    // that may have placed anything never runs again.
    if (!run->result.items[index].order_may_exist) {
      run->result.items[index].order_may_exist = true;
      store(*run, run->result.items[index]);
    }
    log::write(log::level::info, "executor", "order_sent", &cause,
               {{"plan_id", plan_id},
                {"index", index},
                {"client_order_id", req.client_order_id},
                {"symbol", req.symbol},
                {"side", to_string(req.side)}});
    auto keep = shared_from_this();
    self_->request(st().cfg.rest, caf::infinite, place_atom::value, req, cause)
      .then(
        [this, keep, plan_id, index, cause, permit_id](order& placed) {
          report_outcome(permit_id, call_outcome::success, cause);
          ++st().counters.orders_placed;
          auto* run = find(plan_id);
          if (run == nullptr) {
            // The plan ended (deadline grace) before the answer came: the
            // order must not stay open unfollowed.
            cancel_orphan(placed, cause);
            return;
          }
          run->tracks[index].placing = false;
          apply(plan_id, index, placed);
          // apply() may have finished the plan: look again.
          run = find(plan_id);
          if (run != nullptr && run->deadline_passed)
            cancel_item(plan_id, index);
        },
        [this, keep, plan_id, index, cause, permit_id](caf::error& err) {
          auto code = errc_of(err);
          report_outcome(permit_id,
                         code ? outcome_of(*code) : call_outcome::failure,
                         cause);
          auto* run = find(plan_id);
          if (run == nullptr)
            return;
          run->tracks[index].placing = false;
          if (classify(err) == error_class::retryable) {
            // Its fate is unknown: find out before trying again.
            run->tracks[index].unknown = true;
            log::write(log::level::warn, "executor", "order_fate_unknown",
                       &cause,
                       {{"plan_id", plan_id},
                        {"index", index},
                        {"error", render(err)}});
            if (run->deadline_passed)
              look_up(plan_id, index);
            else
              arm_event_timer(plan_id, index);
            return;
          }
          // A definite refusal: no order exists. The broker refusing the
          // order is a rejection; refusing the request itself (the key, a
          // TLS failure before anything was sent) means it was not placed.
          ++st().counters.orders_rejected;
          run->result.items[index].order_may_exist = false;
          if (code == engine_errc::order_rejected)
            end_item(plan_id, index, item_outcome::rejected, detail_of(err));
          else
            end_item(plan_id, index, item_outcome::not_placed,
                     "not placed: " + render(err));
          check_done(plan_id);
          advance(plan_id);
        });
  }

  void cancel_orphan(const order& placed, const trace& cause) {
    if (is_final(placed.status))
      return;
    ++st().counters.orphans_canceled;
    log::write(log::level::error, "executor", "orphan_order_canceled", &cause,
               {{"order_id", placed.id},
                {"client_order_id", placed.client_order_id}});
    auto keep = shared_from_this();
    self_->request(st().cfg.rest, caf::infinite, cancel_atom::value, placed.id,
                   cause)
      .then([](bool) {},
            [this, keep, placed, cause](caf::error& err) {
              ++st().counters.cancels_failed;
              log::write(log::level::error, "executor",
                         "orphan_cancel_failed", &cause,
                         {{"order_id", placed.id},
                          {"client_order_id", placed.client_order_id},
                          {"error", render(err)}});
            });
  }

  // -- what we learn about orders ---------------------------------------------

  running_plan* find(const std::string& plan_id) {
    auto i = st().plans.find(plan_id);
    return i == st().plans.end() ? nullptr : &i->second;
  }

  void on_update(const order_update& update) {
    ++st().counters.order_updates;
    auto i = st().by_client_id.find(update.subject.client_order_id);
    if (i == st().by_client_id.end())
      return; // Not ours, or of a finished plan.
    auto [plan_id, index] = i->second;
    if (find(plan_id) == nullptr)
      return;
    apply(plan_id, index, update.subject);
  }

  void apply(const std::string& plan_id, uint32_t index, const order& o) {
    auto& run = st().plans.at(plan_id);
    auto& item = run.result.items[index];
    auto& track = run.tracks[index];
    if (is_done(item))
      return;
    if (item.order_id.empty() && !o.id.empty()) {
      if (auto diff = differences(run.spec.items[index], o); !diff.empty()) {
        track.unknown = false;
        item.order_may_exist = true;
        log::write(log::level::error, "executor", "order_mismatch", &run.cause,
                   {{"plan_id", plan_id},
                    {"index", index},
                    {"client_order_id", item.client_order_id},
                    {"order_id", o.id},
                    {"differences", joined(diff)}});
        end_item(plan_id, index, item_outcome::mismatch,
                 "order " + o.id + " under this client_order_id differs from "
                   "the plan: " + joined(diff) + "; not adopted");
        check_done(plan_id);
        advance(plan_id);
        return;
      }
    }
    if (is_stale(item, o)) {
      ++st().counters.stale_answers;
      log::write(log::level::debug, "executor", "stale_order_news", &run.cause,
                 {{"plan_id", plan_id},
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
      end_item(plan_id, index, outcome, reason);
      check_done(plan_id);
      advance(plan_id);
      return;
    }
    if (before != item.status)
      store(run, item);
    ++track.news;
    // Open after the deadline (a late POST answer, a lookup of an order of
    // unknown fate): it is canceled like every other.
    if (run.deadline_passed && !item.order_id.empty())
      cancel_item(plan_id, index);
    if (track.event_timer == 0)
      arm_event_timer(plan_id, index);
  }

  void end_item(const std::string& plan_id, uint32_t index,
                item_outcome outcome, std::string reason) {
    auto& run = st().plans.at(plan_id);
    auto& item = run.result.items[index];
    if (is_done(item))
      return;
    item.outcome = outcome;
    item.reason = std::move(reason);
    ++st().counters.items_ended.at(static_cast<size_t>(outcome));
    stop_waiting(run, index);
    ++run.done;
    if (item.side == order_side::sell)
      --run.open_sells;
    run.tracks[index].event_timer = 0;
    log::write(outcome == item_outcome::filled ? log::level::info
                                               : log::level::warn,
               "executor", "item_done", &run.cause,
               {{"plan_id", plan_id},
                {"index", index},
                {"client_order_id", item.client_order_id},
                {"order_id", item.order_id},
                {"outcome", to_string(outcome)},
                {"filled_qty", to_string(item.filled_qty)},
                {"reason", item.reason}});
    store(run, item);
  }

  // Item updates are grouped into one transaction per flush interval: the
  // broker, not the journal, is the truth about an order, and a lost
  // update is recovered by lookup. The plan itself is committed alone.
  void store(running_plan& run, const item_result& item) {
    std::string error;
    if (!st().book->in_transaction()) {
      if (!st().book->begin(error)) {
        ++st().counters.journal_errors;
        log::write(log::level::error, "executor", "journal_failed",
                   &run.cause,
                   {{"path", st().book->path()}, {"error", error}});
      } else {
        after(st().cfg.journal_flush_interval, [this] { flush(); });
      }
    }
    if (!st().book->update_item(run.spec.plan_id, item, error)) {
      // The broker still knows the truth; a restart reconciles by lookup.
      ++st().counters.journal_errors;
      log::write(log::level::error, "executor", "journal_failed", &run.cause,
                 {{"path", st().book->path()}, {"error", error}});
    }
  }

  void flush() {
    std::string error;
    if (st().book->in_transaction() && !st().book->commit(error)) {
      ++st().counters.journal_errors;
      log::write(log::level::error, "executor", "journal_failed", nullptr,
                 {{"path", st().book->path()}, {"error", error}});
    }
  }

  // An open order (or one of unknown fate) without news: ask REST.
  void arm_event_timer(const std::string& plan_id, uint32_t index) {
    auto& track = st().plans.at(plan_id).tracks[index];
    auto factor = 1u << std::min(track.lookups, 4u);
    track.news_at_arm = track.news;
    auto id = st().next_timer; // the id after() is about to hand out
    track.event_timer = after(st().cfg.event_timeout * factor,
                              [this, plan_id, index, id] {
                                auto* run = find(plan_id);
                                if (run == nullptr
                                    || run->tracks[index].event_timer != id)
                                  return;
                                auto& t = run->tracks[index];
                                t.event_timer = 0;
                                if (t.news != t.news_at_arm)
                                  arm_event_timer(plan_id, index);
                                else
                                  look_up(plan_id, index);
                              });
  }

  void look_up(const std::string& plan_id, uint32_t index) {
    auto& run = st().plans.at(plan_id);
    auto& track = run.tracks[index];
    if (track.lookup_pending || is_done(run.result.items[index]))
      return;
    track.lookup_pending = true;
    track.event_timer = 0;
    ++track.lookups;
    ++st().counters.lookups;
    auto cause = run.cause.caused();
    auto keep = shared_from_this();
    self_
      ->request(st().cfg.rest, caf::infinite, lookup_atom::value,
                run.result.items[index].client_order_id, cause)
      .then(
        [this, keep, plan_id, index](order& o) {
          if (auto* run = find(plan_id)) {
            run->tracks[index].lookup_pending = false;
            apply(plan_id, index, o);
          }
        },
        [this, keep, plan_id, index, cause](caf::error& err) {
          auto* run = find(plan_id);
          if (run == nullptr)
            return;
          auto& track = run->tracks[index];
          track.lookup_pending = false;
          auto& item = run->result.items[index];
          if (errc_of(err) == engine_errc::not_found && item.order_id.empty()) {
            // Never placed: it may go now.
            track.unknown = false;
            wait_to_place(*run, index);
            log::write(log::level::info, "executor", "order_absent", &cause,
                       {{"plan_id", plan_id},
                        {"client_order_id", item.client_order_id}});
            if (run->deadline_passed) {
              end_item(plan_id, index, item_outcome::timed_out,
                       "deadline passed before the order was placed");
              check_done(plan_id);
            } else {
              advance(plan_id);
            }
            return;
          }
          arm_event_timer(plan_id, index);
        });
  }

  void on_stream_status(const session_status& status) {
    st().stream_status = status;
    if (status.state == session_state::failed) {
      st().stream_failure = status.last_error;
      log::write(log::level::error, "executor", "trading_stream_failed",
                 nullptr, {{"error", status.last_error}});
      std::vector<std::string> ids;
      for (auto& [plan_id, run] : st().plans)
        ids.push_back(plan_id);
      for (auto& plan_id : ids)
        advance(plan_id);
    }
    auto ready = status.state == session_state::streaming;
    if (ready == st().stream_ready)
      return;
    st().stream_ready = ready;
    log::write(ready ? log::level::info : log::level::warn, "executor",
               ready ? "trading_stream_ready" : "trading_stream_not_ready",
               nullptr,
               {{"state", to_string(status.state)},
                {"epoch", status.epoch}});
    if (!ready)
      return;
    // Updates may have been missed while the stream was down: ask REST
    // about every open order and every order of unknown fate.
    std::vector<std::string> ids;
    for (auto& [plan_id, run] : st().plans)
      ids.push_back(plan_id);
    for (auto& plan_id : ids) {
      auto* run = find(plan_id);
      if (run == nullptr)
        continue;
      for (uint32_t k = 0; k < run->result.items.size(); ++k) {
        auto& item = run->result.items[k];
        if (!is_done(item) && (!item.order_id.empty() || run->tracks[k].unknown)) {
          ++st().counters.reconciliations;
          look_up(plan_id, k);
        }
      }
      advance(plan_id);
    }
  }

  // -- deadlines --------------------------------------------------------------

  void on_deadline(const std::string& plan_id) {
    auto* run = find(plan_id);
    if (run == nullptr)
      return;
    run->deadline_passed = true;
    log::write(log::level::warn, "executor", "plan_deadline", &run->cause,
               {{"plan_id", plan_id}});
    for (uint32_t k = 0; k < run->result.items.size(); ++k) {
      auto& item = run->result.items[k];
      auto& track = run->tracks[k];
      if (is_done(item))
        continue;
      if (!item.order_id.empty())
        cancel_item(plan_id, k);
      else if (track.unknown && !track.placing)
        look_up(plan_id, k); // found open, it is canceled
      else if (!track.placing)
        end_item(plan_id, k, item_outcome::timed_out,
                 "deadline passed before the order was placed");
    }
    if (check_done(plan_id))
      return;
    after(st().cfg.cancel_grace, [this, plan_id] {
      auto* run = find(plan_id);
      if (run == nullptr)
        return;
      for (uint32_t k = 0; k < run->result.items.size(); ++k) {
        auto& item = run->result.items[k];
        if (is_done(item))
          continue;
        end_item(plan_id, k,
                 has_fills(item) ? item_outcome::partially_filled
                                 : item_outcome::timed_out,
                 unconfirmed_reason(*run, k));
      }
      check_done(plan_id);
    });
  }

  // What the result says of an item whose end the cancel grace did not
  // see: exactly what was sent and what came back.
  std::string unconfirmed_reason(const running_plan& run, uint32_t index) {
    auto& item = run.result.items[index];
    auto& track = run.tracks[index];
    auto grace = std::to_string(
                   std::chrono::duration_cast<std::chrono::milliseconds>(
                     st().cfg.cancel_grace)
                     .count())
                 + " ms";
    if (item.order_id.empty())
      return "deadline passed; whether the order was placed is unknown ("
             + item.client_order_id + "); an order found later is canceled";
    if (!track.cancel_sent)
      return "deadline passed; order " + item.order_id
             + " open, no cancel sent";
    if (track.cancel_answer.empty())
      return "deadline passed; cancel of order " + item.order_id
             + " sent, no answer within " + grace;
    if (track.cancel_answer == "accepted")
      return "deadline passed; cancel of order " + item.order_id
             + " accepted, final status not seen within " + grace;
    return "deadline passed; cancel of order " + item.order_id
           + " failed: " + track.cancel_answer;
  }

  void cancel_item(const std::string& plan_id, uint32_t index) {
    auto& run = st().plans.at(plan_id);
    auto& track = run.tracks[index];
    auto& item = run.result.items[index];
    if (track.cancel_sent || is_done(item))
      return;
    track.cancel_sent = true;
    ++st().counters.deadline_cancels;
    auto cause = run.cause.caused();
    auto keep = shared_from_this();
    self_
      ->request(st().cfg.rest, caf::infinite, cancel_atom::value, item.order_id,
                cause)
      .then(
        // Canceled or already final: the lookup tells which.
        [this, keep, plan_id, index](bool) {
          if (auto* run = find(plan_id)) {
            run->tracks[index].cancel_answer = "accepted";
            look_up(plan_id, index);
          }
        },
        [this, keep, plan_id, index, cause](caf::error& err) {
          ++st().counters.cancels_failed;
          log::write(log::level::warn, "executor", "cancel_failed", &cause,
                     {{"plan_id", plan_id},
                      {"index", index},
                      {"error", render(err)}});
          if (auto* run = find(plan_id)) {
            run->tracks[index].cancel_answer = render(err);
            look_up(plan_id, index);
          }
        });
  }

  // -- finishing --------------------------------------------------------------

  /// Finishes the plan if every item is done; returns whether it did.
  bool check_done(const std::string& plan_id) {
    auto i = st().plans.find(plan_id);
    if (i == st().plans.end())
      return true;
    auto& run = i->second;
    if (run.done < run.result.items.size())
      return false;
    flush();
    std::string error;
    if (!st().book->finish_plan(plan_id, error)) {
      ++st().counters.journal_errors;
      log::write(log::level::error, "executor", "journal_failed", &run.cause,
                 {{"path", st().book->path()}, {"error", error}});
    }
    ++st().counters.plans_done;
    auto succeeded = run.result.succeeded();
    if (succeeded)
      ++st().counters.plans_succeeded;
    log::write(succeeded ? log::level::info : log::level::warn, "executor",
               "plan_done", &run.cause,
               {{"plan_id", plan_id}, {"succeeded", succeeded}});
    for (auto& item : run.result.items)
      st().by_client_id.erase(item.client_order_id);
    auto result = std::move(run.result);
    auto waiters = std::move(run.waiters);
    auto run_accepted = run.accepted;
    st().plans.erase(i);
    for (auto& w : waiters) {
      auto copy = result;
      copy.replayed = is_replay(w.caller, run_accepted);
      copy.retried = result.retried && !copy.replayed;
      w.rp.deliver(std::move(copy));
    }
    return true;
  }

  caf::result<plan_result> status_of(const std::string& plan_id) {
    if (auto* run = find(plan_id))
      return run->result;
    std::string error;
    auto found = st().book->find_plan(plan_id, error);
    if (!error.empty())
      return make_error(engine_errc::journal_error, error);
    if (!found)
      return make_error(engine_errc::not_found, "plan_id: '" + plan_id + "'");
    auto result = found->result;
    result.replayed = true;
    return result;
  }

  metric_samples metrics() {
    std::map<std::string, std::string> labels{{"account", st().cfg.account}};
    metric_samples result;
    auto counter = [&](const char* name, uint64_t value) {
      result.push_back(
        {name, metric_kind::counter, labels, static_cast<double>(value)});
    };
    auto& c = st().counters;
    counter("athanor_executor_plans_accepted_total", c.plans_accepted);
    counter("athanor_executor_plans_replayed_total", c.plans_replayed);
    counter("athanor_executor_plans_retried_total", c.plans_retried);
    counter("athanor_executor_plans_invalid_total", c.plans_invalid);
    counter("athanor_executor_plans_resumed_total", c.plans_resumed);
    counter("athanor_executor_plans_done_total", c.plans_done);
    counter("athanor_executor_plans_succeeded_total", c.plans_succeeded);
    counter("athanor_executor_orders_placed_total", c.orders_placed);
    counter("athanor_executor_orders_rejected_total", c.orders_rejected);
    counter("athanor_executor_order_updates_total", c.order_updates);
    counter("athanor_executor_lookups_total", c.lookups);
    counter("athanor_executor_reconciliations_total", c.reconciliations);
    counter("athanor_executor_deadline_cancels_total", c.deadline_cancels);
    counter("athanor_executor_cancels_failed_total", c.cancels_failed);
    counter("athanor_executor_orphans_canceled_total", c.orphans_canceled);
    counter("athanor_executor_stale_answers_total", c.stale_answers);
    counter("athanor_executor_breaker_refusals_total", c.breaker_refusals);
    counter("athanor_executor_journal_errors_total", c.journal_errors);
    // Orders by state: the items of running plans by their order's status
    // ("unplaced" before a request succeeded), and every item ever ended,
    // by outcome.
    uint64_t open = 0;
    std::map<std::string, uint64_t> by_status;
    for (auto& [id, run] : st().plans)
      for (auto& item : run.result.items) {
        if (is_done(item))
          continue;
        if (item.order_id.empty()) {
          ++by_status["unplaced"];
        } else {
          ++open;
          ++by_status[to_string(item.status)];
        }
      }
    for (auto& [status, n] : by_status) {
      auto status_labels = labels;
      status_labels["status"] = status;
      result.push_back({"athanor_executor_orders", metric_kind::gauge,
                        status_labels, static_cast<double>(n)});
    }
    for (size_t i = 1; i < c.items_ended.size(); ++i) {
      auto outcome_labels = labels;
      outcome_labels["outcome"] = to_string(static_cast<item_outcome>(i));
      result.push_back({"athanor_executor_items_ended_total",
                        metric_kind::counter, outcome_labels,
                        static_cast<double>(c.items_ended[i])});
    }
    result.push_back({"athanor_executor_running_plans", metric_kind::gauge,
                      labels, static_cast<double>(st().plans.size())});
    result.push_back({"athanor_executor_open_orders", metric_kind::gauge,
                      labels, static_cast<double>(open)});
    result.push_back({"athanor_executor_trading_stream_ready",
                      metric_kind::gauge, labels,
                      st().stream_ready ? 1.0 : 0.0});
    return result;
  }

 private:
  executor_pointer self_;
};

executor_actor::behavior_type executor_impl(executor_pointer self,
                                            executor_config cfg,
                                            std::shared_ptr<journal> book) {
  self->set_exception_handler(exception_to_exit_reason);
  self->state.cfg = std::move(cfg);
  self->state.book = std::move(book);
  auto logic = std::make_shared<executor_logic>(self);
  // Whoever waits for a plan learns at once that this executor is gone
  // (and may ask its successor: execute is idempotent per plan_id).
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& entry : self->state.plans)
      for (auto& w : entry.second.waiters)
        w.rp.deliver(caf::make_error(caf::sec::request_receiver_down));
    self->quit(msg.reason);
  });
  if (self->state.cfg.link_dependencies) {
    auto& c = self->state.cfg;
    for (auto& x : {caf::actor_cast<caf::actor>(c.rest),
                    caf::actor_cast<caf::actor>(c.trading),
                    caf::actor_cast<caf::actor>(c.breaker)})
      if (x)
        self->link_to(x);
  }
  if (self->state.cfg.trading)
    self->send(self->state.cfg.trading, listen_atom::value,
               caf::actor_cast<order_listener_actor>(self));
  logic->resume();
  return {
    [logic](execute_atom, plan& spec, trace& cause) {
      return logic->execute(spec, cause);
    },
    [logic](caf::get_atom, std::string& plan_id) {
      return logic->status_of(plan_id);
    },
    [self](caf::get_atom) { return self->state.stream_status; },
    // Its own figures and those of the REST client, trading session and
    // breaker it works with.
    [self, logic](metrics_atom) -> caf::result<metric_samples> {
      auto& c = self->state.cfg;
      auto promise = self->make_response_promise<metric_samples>();
      gather_metrics(self,
                     {caf::actor_cast<caf::actor>(c.rest),
                      caf::actor_cast<caf::actor>(c.trading),
                      caf::actor_cast<caf::actor>(c.breaker)},
                     logic->metrics(), std::chrono::seconds{1},
                     [promise](metric_samples& xs) mutable {
                       promise.deliver(std::move(xs));
                     });
      return promise;
    },
    [logic](order_update& update) { logic->on_update(update); },
    [logic](session_status& status) { logic->on_stream_status(status); },
    [logic](timeout_atom, uint64_t id) { logic->on_timer(id); },
  };
}

} // namespace

std::vector<config_problem> validate(const executor_config& cfg,
                                     const std::string& prefix) {
  std::vector<config_problem> problems;
  auto positive = [&](const char* option, caf::timespan x) {
    if (x.count() <= 0)
      problems.push_back({prefix + option, "must be positive"});
  };
  positive("ready-timeout", cfg.ready_timeout);
  positive("default-deadline", cfg.default_deadline);
  positive("event-timeout", cfg.event_timeout);
  positive("cancel-grace", cfg.cancel_grace);
  positive("breaker-timeout", cfg.breaker_timeout);
  positive("journal-flush-interval", cfg.journal_flush_interval);
  if (cfg.journal.path.empty())
    problems.push_back({"athanor.journal.path", "must not be empty"});
  return problems;
}

caf::expected<executor_actor> spawn_executor(caf::actor_system& sys,
                                             executor_config cfg) {
  if (auto problems = validate(cfg); !problems.empty())
    return make_error(engine_errc::invalid_config, to_string(problems));
  if (!cfg.rest)
    return make_error(engine_errc::invalid_config,
                      "an executor needs a REST client");
  std::string error;
  std::shared_ptr<journal> book = journal::open(cfg.journal, error);
  if (!book)
    return make_error(engine_errc::journal_error, error);
  if (cfg.detached)
    return sys.spawn<caf::detached>(executor_impl, std::move(cfg),
                                    std::move(book));
  return sys.spawn(executor_impl, std::move(cfg), std::move(book));
}

} // namespace athanor
