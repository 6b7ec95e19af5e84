#pragma once

// The executor's plans and items as state machines: a plain class with no
// mailbox, clock or I/O. The executor actor tells it what happened (a plan
// accepted, a permit granted, an answer from REST, an update from the
// trading stream, a timer) and carries out the commands it returns (ask the
// breaker, post, look up, cancel, journal an item, arm a timer, answer the
// waiters), like breaker_policy for the breaker. Every rule of execution is
// tested on it directly (tests/unit/execution_core.cpp).

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "caf/error.hpp"

#include "journal/journal.hpp"
#include "messages/execution.hpp"
#include "messages/orders.hpp"
#include "messages/stream.hpp"
#include "messages/trace.hpp"

namespace athanor {

struct execution_timing {
  /// How long orders wait for the trading stream to be ready.
  std::chrono::nanoseconds ready_timeout = std::chrono::seconds{30};
  /// A plan without a deadline gets this one.
  std::chrono::nanoseconds default_deadline = std::chrono::minutes{5};
  /// An open order without news for this long is looked up; the wait
  /// doubles per lookup up to 16x.
  std::chrono::nanoseconds event_timeout = std::chrono::seconds{10};
  /// After a deadline's cancels, how long to wait for their confirmation.
  std::chrono::nanoseconds cancel_grace = std::chrono::seconds{10};
};

/// Names one item of one run of a plan. A plan_id that runs again (it
/// placed nothing the first time) gets a new run number, so an answer or a
/// timer of the earlier run never touches the new one.
struct item_ref {
  std::string plan_id;
  uint64_t run = 0;
  uint32_t index = 0;
};

/// Who waits for a plan's result: the actor's promise number and the
/// request's trace id (which decides whether the answer is a replay).
struct plan_waiter {
  uint64_t id = 0;
  std::string caller;
};

// -- commands -----------------------------------------------------------------

/// Ask the breaker whether the item's order may go.
struct ask_permit {
  item_ref item;
  trace cause;
};

/// POST the order (after the permit, when there is a breaker).
struct post_order {
  item_ref item;
  order_request request;
  trace cause;
  std::optional<uint64_t> permit_id;
};

/// The permit was granted for a plan that has ended: report it unused.
struct return_permit {
  uint64_t permit_id = 0;
  trace cause;
};

/// Ask REST for the order under the item's client_order_id.
struct look_up_order {
  item_ref item;
  std::string client_order_id;
  trace cause;
};

/// Cancel the item's order (its deadline passed).
struct cancel_order {
  item_ref item;
  std::string order_id;
  trace cause;
};

/// Cancel an order whose plan has ended before it was known.
struct cancel_orphan {
  order subject;
  trace cause;
};

/// Write the item's new state to the journal (batched by the actor).
struct journal_item {
  std::string plan_id;
  item_result item;
};

/// Every item is done: commit the plan as finished in the journal. The
/// results for its waiters follow as `deliver_result`s.
struct journal_finish {
  std::string plan_id;
  trace cause;
};

/// Answer one waiter.
struct deliver_result {
  uint64_t waiter = 0;
  plan_result result;
};

enum class timer_kind : uint8_t {
  /// The plan's deadline.
  deadline,
  /// The bounded wait for the trading stream.
  ready_wait,
  /// The breaker refused; ask again.
  permit_retry,
  /// An open order without news.
  order_news,
  /// The deadline's cancels had their time.
  cancel_grace,
};

struct execution_timer {
  timer_kind kind = timer_kind::deadline;
  item_ref item;
  /// Tells an order_news timer from the ones it replaced.
  uint64_t token = 0;
};

/// Call `on_timer(timer)` after `delay`.
struct arm_timer {
  execution_timer timer;
  std::chrono::nanoseconds delay{0};
};

using execution_command
  = std::variant<ask_permit, post_order, return_permit, look_up_order,
                 cancel_order, cancel_orphan, journal_item, journal_finish,
                 deliver_result, arm_timer>;

using execution_commands = std::vector<execution_command>;

// -- the core -----------------------------------------------------------------

struct execution_counters {
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
  /// Items that reached each final outcome, indexed by item_outcome.
  std::array<uint64_t, 9> items_ended{};
};

/// What a request to execute a plan gets.
enum class admission : uint8_t {
  /// The plan runs here now: wait for its result (`await`).
  join,
  /// The journal holds its result: answer with it (`recorded_result`).
  replay,
  /// The plan_id was used for a different plan: refuse.
  reused_id,
  /// New: journal it, then `start` it.
  accept,
  /// It ran before and placed nothing: journal it again, then `start` it.
  retry,
};

class execution_core {
 public:
  explicit execution_core(execution_timing timing);

  // -- accepting plans ----------------------------------------------------------

  /// Decides what a request from `caller` to execute `spec` (content
  /// `hash`) gets. `recorded` is what the journal holds of the plan_id, read
  /// only when `running(plan_id)` is false. Counts and logs replays.
  admission admit(const plan& spec, const std::string& hash,
                  const std::string& caller, const trace& cause,
                  const std::optional<journaled_plan>& recorded);

  /// A refused plan (invalid, or its id reused): counted.
  void count_invalid() {
    ++counters_.plans_invalid;
  }

  /// Adds a waiter to the running plan.
  void await(const std::string& plan_id, plan_waiter waiter);

  /// The result a replay answers with.
  static plan_result recorded_result(const journaled_plan& recorded,
                                     bool replayed);

  /// The result of a plan before anything happened; `again` when it runs
  /// again after a run that placed nothing (`retried`).
  static plan_result initial_result(const plan& spec, bool again = false);

  /// Starts a plan the actor has journaled with `initial` (new or again),
  /// at wall clock `now_ms`; `first` is the request that waits for it.
  execution_commands start(plan spec, trace cause, plan_result initial,
                           acceptance accepted, plan_waiter first,
                           int64_t now_ms);

  /// Resumes a plan the journal holds as running (after a restart): whatever
  /// is not final may have been posted and is looked up before anything is
  /// placed; the deadline counts from the original acceptance.
  execution_commands resume(journaled_plan recorded, int64_t now_ms);

  // -- what happens -------------------------------------------------------------

  /// The order may go: `permit_id` is the breaker's (none without one).
  execution_commands on_permit(const item_ref& item,
                               std::optional<uint64_t> permit_id,
                               const trace& cause);

  /// The breaker refused; `retry_after` is its hint (zero: none).
  execution_commands on_permit_refused(const item_ref& item,
                                       const caf::error& why,
                                       std::chrono::nanoseconds retry_after);

  execution_commands on_placed(const item_ref& item, const order& placed,
                               const trace& cause);

  execution_commands on_post_failed(const item_ref& item,
                                    const caf::error& why,
                                    const trace& cause);

  execution_commands on_found(const item_ref& item, const order& found);

  execution_commands on_lookup_failed(const item_ref& item,
                                      const caf::error& why,
                                      const trace& cause);

  /// The cancel's answer: none when it was accepted.
  execution_commands on_cancel_answer(const item_ref& item,
                                      const std::optional<caf::error>& why,
                                      const trace& cause);

  void on_orphan_cancel_failed(const order& subject, const caf::error& why,
                               const trace& cause);

  execution_commands on_update(const order_update& update);

  execution_commands on_stream_status(const session_status& status);

  execution_commands on_timer(const execution_timer& timer);

  // -- what it knows ------------------------------------------------------------

  bool running(const std::string& plan_id) const {
    return plans_.count(plan_id) != 0;
  }

  /// The running plan's result so far; null when it does not run here.
  const plan_result* result_of(const std::string& plan_id) const;

  size_t running_plans() const {
    return plans_.size();
  }

  /// Items of running plans by their order's status ("unplaced" before an
  /// order is known).
  std::map<std::string, uint64_t> pending_by_status() const;

  bool stream_ready() const {
    return stream_ready_;
  }

  const session_status& stream_status() const {
    return stream_status_;
  }

  const execution_counters& counters() const {
    return counters_;
  }

 private:
  /// What the core knows about one item beyond its result.
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
    /// The armed news timer's token (0: none); others are ignored.
    uint64_t news_timer = 0;
    /// Counts news of the order; a timer that fires after news re-arms
    /// instead of asking REST (one timer per open order, not per event).
    uint64_t news = 0;
    uint64_t news_at_arm = 0;
    uint32_t lookups = 0;
  };

  struct running_plan {
    uint64_t run = 0;
    plan spec;
    trace cause;
    plan_result result;
    acceptance accepted;
    std::vector<item_track> tracks;
    std::vector<plan_waiter> waiters;
    bool deadline_passed = false;
    /// The bounded wait on the trading stream is armed.
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

  /// Commands gathered while handling one event.
  using out = execution_commands;

  running_plan* find(const item_ref& item);
  running_plan* find(const std::string& plan_id);
  running_plan& add(plan spec, trace cause, plan_result result,
                    acceptance accepted);
  void begin(running_plan& run, int64_t now_ms, out& cmds);

  static void wait_to_place(running_plan& run, uint32_t index);
  static void stop_waiting(running_plan& run, uint32_t index);
  static std::vector<uint32_t> waiting(const running_plan& run);
  static item_ref ref(const running_plan& run, uint32_t index);

  void advance(running_plan& run, out& cmds);
  void wait_for_stream(running_plan& run, out& cmds);
  void ready_wait_over(running_plan& run, out& cmds);
  void place(running_plan& run, uint32_t index, out& cmds);
  void send_order(running_plan& run, uint32_t index, const trace& cause,
                  std::optional<uint64_t> permit_id, out& cmds);
  void apply(running_plan& run, uint32_t index, const order& o, out& cmds);
  void end_item(running_plan& run, uint32_t index, item_outcome outcome,
                std::string reason, out& cmds);
  void store(running_plan& run, uint32_t index, out& cmds);
  void arm_news_timer(running_plan& run, uint32_t index, out& cmds);
  void news_timer_fired(running_plan& run, uint32_t index, uint64_t token,
                        out& cmds);
  void look_up(running_plan& run, uint32_t index, out& cmds);
  void cancel_item(running_plan& run, uint32_t index, out& cmds);
  void on_deadline(running_plan& run, out& cmds);
  void grace_over(running_plan& run, out& cmds);
  std::string unconfirmed_reason(const running_plan& run,
                                 uint32_t index) const;
  void after(const running_plan& run, timer_kind kind,
             std::chrono::nanoseconds delay, out& cmds, uint32_t index = 0,
             uint64_t token = 0);

  /// Finishes the plan when every item is done; returns whether it did (the
  /// plan is gone then).
  bool check_done(running_plan& run, out& cmds);
  /// Finishes the plan if it is done, otherwise places what may go next.
  void settle(running_plan& run, out& cmds);

  execution_timing timing_;
  std::map<std::string, running_plan> plans_;
  /// client_order_id -> (plan_id, index).
  std::map<std::string, std::pair<std::string, uint32_t>> by_client_id_;
  uint64_t next_run_ = 1;
  uint64_t next_token_ = 1;
  bool stream_ready_ = false;
  session_status stream_status_;
  /// The trading stream gave up for good (e.g. a refused key): why.
  std::string stream_failure_;
  execution_counters counters_;
};

} // namespace athanor
