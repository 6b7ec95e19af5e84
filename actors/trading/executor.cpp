#include "actors/trading/executor.hpp"

#include <functional>
#include <map>
#include <memory>

#include "caf/actor_system.hpp"
#include "caf/exit_reason.hpp"
#include "caf/sec.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "actors/common/metrics_gather.hpp"
#include "messages/error.hpp"
#include "messages/secret.hpp"
#include "observability/log.hpp"
#include "actors/trading/execution_core.hpp"
#include "actors/trading/execution_rules.hpp"
#include "protocol/plan.hpp"

namespace athanor {

namespace {

struct executor_state {
  executor_config cfg;
  std::shared_ptr<journal> book;
  std::unique_ptr<execution_core> core;
  /// Who waits for a plan's result, by the core's waiter number.
  std::map<uint64_t, caf::typed_response_promise<plan_result>> promises;
  uint64_t next_waiter = 1;
  std::map<uint64_t, std::function<void()>> timers;
  uint64_t next_timer = 1;
  uint64_t journal_errors = 0;
  static inline const char* name = "athanor.executor";
};

using executor_pointer = executor_actor::stateful_pointer<executor_state>;

execution_timing timing_of(const executor_config& cfg) {
  execution_timing result;
  result.ready_timeout = cfg.ready_timeout;
  result.default_deadline = cfg.default_deadline;
  result.event_timeout = cfg.event_timeout;
  result.cancel_grace = cfg.cancel_grace;
  return result;
}

// The shell: it asks the journal, the breaker and REST what the core
// decides, and hands their answers back to the core.
class executor_shell : public std::enable_shared_from_this<executor_shell> {
 public:
  explicit executor_shell(executor_pointer self) : self_(self) {}

  executor_state& st() {
    return self_->state;
  }

  execution_core& core() {
    return *st().core;
  }

  // -- accepting plans --------------------------------------------------------

  caf::result<plan_result> execute(plan& spec, const trace& caller) {
    if (spec.correlation_id.empty())
      spec.correlation_id = spec.plan_id;
    auto cause = trace::root(spec.correlation_id);
    cause.causation = causation_id{caller.id};
    if (auto problems = protocol::validate(spec); !problems.empty()) {
      core().count_invalid();
      log::write(log::level::warn, "executor", "plan_invalid", &cause,
                 {{"plan_id", spec.plan_id},
                  {"problems", to_string(problems)}});
      return make_error(engine_errc::invalid_plan, to_string(problems));
    }
    auto hash = content_hash(spec);
    std::optional<journaled_plan> recorded;
    if (!core().running(spec.plan_id)) {
      std::string error;
      recorded = st().book->find_plan(spec.plan_id, error);
      if (!error.empty())
        return journal_failed(&cause, error);
    }
    auto verdict = core().admit(spec, hash, caller.id, cause, recorded);
    switch (verdict) {
      case admission::join: {
        auto [waiter, rp] = new_waiter(caller);
        core().await(spec.plan_id, std::move(waiter));
        return rp;
      }
      case admission::replay:
        return execution_core::recorded_result(
          *recorded, is_replay(caller.id, recorded->accepted));
      case admission::reused_id:
        core().count_invalid();
        log::write(log::level::warn, "executor", "plan_id_reused", &cause,
                   {{"plan_id", spec.plan_id}});
        return make_error(engine_errc::invalid_plan,
                          "plan_id: '" + spec.plan_id
                            + "' was already used for a different plan");
      case admission::accept:
      case admission::retry:
        break;
    }
    return accept(spec, hash, cause, caller, verdict == admission::retry);
  }

  // Journals the plan (anew, or again after a run that placed nothing) and
  // starts it.
  caf::result<plan_result> accept(const plan& spec, const std::string& hash,
                                  const trace& cause, const trace& caller,
                                  bool again) {
    flush();
    auto initial = execution_core::initial_result(spec, again);
    acceptance accepted{caller.id, wall_now()};
    std::string error;
    auto recorded = again ? st().book->restart_plan(spec, initial, accepted,
                                                    error)
                          : st().book->record_plan(spec, hash, initial,
                                                   accepted, error);
    if (!recorded)
      return journal_failed(&cause, error);
    auto [waiter, rp] = new_waiter(caller);
    run(core().start(spec, cause, std::move(initial), std::move(accepted),
                     std::move(waiter), wall_now()));
    return rp;
  }

  std::pair<plan_waiter, caf::typed_response_promise<plan_result>>
  new_waiter(const trace& caller) {
    auto id = st().next_waiter++;
    auto rp = self_->make_response_promise<plan_result>();
    st().promises.emplace(id, rp);
    return {plan_waiter{id, caller.id}, rp};
  }

  caf::error journal_failed(const trace* cause, const std::string& error) {
    ++st().journal_errors;
    log::write(log::level::error, "executor", "journal_failed", cause,
               {{"path", st().book->path()}, {"error", error}});
    return make_error(engine_errc::journal_error, error);
  }

  /// Resumes the journal's unfinished plans (at start).
  void resume() {
    std::string error;
    auto running = st().book->running_plans(error);
    if (!error.empty())
      journal_failed(nullptr, error);
    for (auto& x : running)
      run(core().resume(std::move(x), wall_now()));
  }

  caf::result<plan_result> status_of(const std::string& plan_id) {
    if (auto* result = core().result_of(plan_id))
      return *result;
    std::string error;
    auto found = st().book->find_plan(plan_id, error);
    if (!error.empty())
      return make_error(engine_errc::journal_error, error);
    if (!found)
      return make_error(engine_errc::not_found, "plan_id: '" + plan_id + "'");
    return execution_core::recorded_result(*found, true);
  }

  // -- carrying out the core's commands ---------------------------------------

  void run(execution_commands cmds) {
    for (auto& cmd : cmds)
      std::visit([this](auto& x) { carry_out(x); }, cmd);
  }

  void carry_out(ask_permit& x) {
    if (!st().cfg.breaker) {
      run(core().on_permit(x.item, std::nullopt, x.cause));
      return;
    }
    auto keep = shared_from_this();
    self_
      ->request(st().cfg.breaker, st().cfg.breaker_timeout, permit_atom::value,
                x.cause)
      .then(
        [this, keep, item = x.item, cause = x.cause](permit& granted) {
          run(core().on_permit(item, granted.id, cause));
        },
        [this, keep, item = x.item](caf::error& err) {
          auto wait = retry_after(err).value_or(std::chrono::nanoseconds{0});
          run(core().on_permit_refused(item, err, wait));
        });
  }

  void carry_out(return_permit& x) {
    report_outcome(x.permit_id, call_outcome::ignored, x.cause);
  }

  void carry_out(post_order& x) {
    auto keep = shared_from_this();
    self_
      ->request(st().cfg.rest, caf::infinite, place_atom::value, x.request,
                x.cause)
      .then(
        [this, keep, item = x.item, cause = x.cause,
         permit_id = x.permit_id](order& placed) {
          report_outcome(permit_id, call_outcome::success, cause);
          run(core().on_placed(item, placed, cause));
        },
        [this, keep, item = x.item, cause = x.cause,
         permit_id = x.permit_id](caf::error& err) {
          auto code = errc_of(err);
          report_outcome(permit_id,
                         code ? outcome_of(*code) : call_outcome::failure,
                         cause);
          run(core().on_post_failed(item, err, cause));
        });
  }

  void carry_out(look_up_order& x) {
    auto keep = shared_from_this();
    self_
      ->request(st().cfg.rest, caf::infinite, lookup_atom::value,
                x.client_order_id, x.cause)
      .then(
        [this, keep, item = x.item](order& found) {
          run(core().on_found(item, found));
        },
        [this, keep, item = x.item, cause = x.cause](caf::error& err) {
          run(core().on_lookup_failed(item, err, cause));
        });
  }

  void carry_out(cancel_order& x) {
    auto keep = shared_from_this();
    self_
      ->request(st().cfg.rest, caf::infinite, cancel_atom::value, x.order_id,
                x.cause)
      .then(
        [this, keep, item = x.item, cause = x.cause](bool) {
          run(core().on_cancel_answer(item, std::nullopt, cause));
        },
        [this, keep, item = x.item, cause = x.cause](caf::error& err) {
          run(core().on_cancel_answer(item, err, cause));
        });
  }

  void carry_out(cancel_orphan& x) {
    auto keep = shared_from_this();
    self_
      ->request(st().cfg.rest, caf::infinite, cancel_atom::value, x.subject.id,
                x.cause)
      .then([](bool) {},
            [this, keep, subject = x.subject, cause = x.cause](
              caf::error& err) {
              core().on_orphan_cancel_failed(subject, err, cause);
            });
  }

  // Item updates are grouped into one transaction per flush interval: the
  // broker, not the journal, is the truth about an order, and a lost
  // update is recovered by lookup. The plan itself is committed alone.
  void carry_out(journal_item& x) {
    std::string error;
    if (!st().book->in_transaction()) {
      if (!st().book->begin(error))
        journal_failed(nullptr, error);
      else
        after(st().cfg.journal_flush_interval, [this] { flush(); });
    }
    // On failure the broker still knows the truth; a restart reconciles by
    // lookup.
    if (!st().book->update_item(x.plan_id, x.item, error))
      journal_failed(nullptr, error);
  }

  void carry_out(journal_finish& x) {
    flush();
    std::string error;
    if (!st().book->finish_plan(x.plan_id, error))
      journal_failed(&x.cause, error);
  }

  void carry_out(deliver_result& x) {
    auto i = st().promises.find(x.waiter);
    if (i == st().promises.end())
      return;
    i->second.deliver(std::move(x.result));
    st().promises.erase(i);
  }

  void carry_out(arm_timer& x) {
    after(x.delay, [this, timer = x.timer] { run(core().on_timer(timer)); });
  }

  void report_outcome(std::optional<uint64_t> permit_id, call_outcome outcome,
                      const trace& cause) {
    if (permit_id && st().cfg.breaker)
      self_->send(st().cfg.breaker, outcome_atom::value, *permit_id, outcome,
                  cause);
  }

  void flush() {
    std::string error;
    if (st().book->in_transaction() && !st().book->commit(error))
      journal_failed(nullptr, error);
  }

  // -- timers -----------------------------------------------------------------

  void after(caf::timespan delay, std::function<void()> f) {
    auto id = st().next_timer++;
    st().timers.emplace(id, std::move(f));
    self_->delayed_send(self_, delay, timeout_atom::value, id);
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

  // -- figures ----------------------------------------------------------------

  metric_samples metrics() {
    std::map<std::string, std::string> labels{{"account", st().cfg.account}};
    metric_samples result;
    auto counter = [&](const char* name, uint64_t value) {
      result.push_back(
        {name, metric_kind::counter, labels, static_cast<double>(value)});
    };
    auto& c = core().counters();
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
    counter("athanor_executor_journal_errors_total", st().journal_errors);
    // Orders by state: the items of running plans by their order's status
    // ("unplaced" before a request succeeded), and every item ever ended,
    // by outcome.
    uint64_t open = 0;
    for (auto& [status, n] : core().pending_by_status()) {
      if (status != "unplaced")
        open += n;
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
                      labels, static_cast<double>(core().running_plans())});
    result.push_back({"athanor_executor_open_orders", metric_kind::gauge,
                      labels, static_cast<double>(open)});
    result.push_back({"athanor_executor_trading_stream_ready",
                      metric_kind::gauge, labels,
                      core().stream_ready() ? 1.0 : 0.0});
    return result;
  }

 private:
  executor_pointer self_;
};

executor_actor::behavior_type executor_impl(executor_pointer self,
                                            executor_config cfg,
                                            std::shared_ptr<journal> book) {
  self->set_exception_handler(exception_to_exit_reason);
  self->state.core = std::make_unique<execution_core>(timing_of(cfg));
  self->state.cfg = std::move(cfg);
  self->state.book = std::move(book);
  auto shell = std::make_shared<executor_shell>(self);
  // Whoever waits for a plan learns at once that this executor is gone
  // (and may ask its successor: execute is idempotent per plan_id).
  self->set_exit_handler([self](caf::exit_msg& msg) {
    for (auto& entry : self->state.promises)
      entry.second.deliver(caf::make_error(caf::sec::request_receiver_down));
    self->state.promises.clear();
    self->quit(msg.reason);
  });
  if (self->state.cfg.link_dependencies) {
    auto& c = self->state.cfg;
    for (auto& x : {caf::actor_cast<caf::actor>(c.rest),
                    caf::actor_cast<caf::actor>(c.trading),
                    caf::actor_cast<caf::actor>(c.breaker)})
      if (x)
        self->link_to(x);
    for (auto& x : c.group)
      if (x)
        self->link_to(x);
  }
  if (self->state.cfg.trading)
    self->send(self->state.cfg.trading, listen_atom::value,
               caf::actor_cast<order_listener_actor>(self));
  shell->resume();
  return {
    [shell](execute_atom, plan& spec, trace& cause) {
      return shell->execute(spec, cause);
    },
    [shell](caf::get_atom, std::string& plan_id) {
      return shell->status_of(plan_id);
    },
    [self](caf::get_atom) { return self->state.core->stream_status(); },
    // Its own figures and those of the REST client, trading session and
    // breaker it works with.
    [self, shell](metrics_atom) -> caf::result<metric_samples> {
      auto& c = self->state.cfg;
      auto promise = self->make_response_promise<metric_samples>();
      gather_metrics(self,
                     {caf::actor_cast<caf::actor>(c.rest),
                      caf::actor_cast<caf::actor>(c.trading),
                      caf::actor_cast<caf::actor>(c.breaker)},
                     shell->metrics(), std::chrono::seconds{1},
                     [promise](metric_samples& xs) mutable {
                       promise.deliver(std::move(xs));
                     });
      return promise;
    },
    [shell](order_update& update) { shell->run(shell->core().on_update(update)); },
    [shell](session_status& status) {
      shell->run(shell->core().on_stream_status(status));
    },
    [shell](timeout_atom, uint64_t id) { shell->on_timer(id); },
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
