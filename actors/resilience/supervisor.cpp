#include "actors/resilience/supervisor.hpp"

#include <memory>
#include <set>

#include "caf/actor_system.hpp"
#include "caf/exit_reason.hpp"
#include "caf/send.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "actors/common/metrics_gather.hpp"
#include "actors/resilience/restart_intensity.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"

namespace athanor {

std::vector<config_problem> validate(const supervisor_config& cfg,
                                     const std::string& prefix) {
  auto problems = validate(cfg.restart_backoff, prefix + "restart-backoff.");
  if (cfg.period.count() <= 0)
    problems.push_back({prefix + "period", "must be a positive duration"});
  if (cfg.shutdown_deadline.count() <= 0)
    problems.push_back(
      {prefix + "shutdown-deadline", "must be a positive duration"});
  return problems;
}

namespace {

struct child_entry {
  child_entry(child_spec spec, const backoff_config& backoff)
      : spec(std::move(spec)), backoff(backoff) {}

  child_spec spec;
  backoff_policy backoff;
  caf::actor handle;
  child_phase phase = child_phase::stopped;
  /// Bumped on every death; a restart timer for an older one is stale.
  uint64_t incarnation = 0;
  caf::actor_clock::time_point started_at{};
  uint32_t restarts = 0;
  std::string last_exit;
};

struct supervisor_actor_state {
  supervisor_config cfg;
  std::vector<child_entry> children;
  /// The running children's handles, shared with the functor that takes them
  /// down when the supervisor itself dies.
  std::shared_ptr<std::vector<caf::actor>>
    live = std::make_shared<std::vector<caf::actor>>();
  std::unique_ptr<restart_intensity> intensity;
  uint64_t total_restarts = 0;
  bool shutting_down = false;
  caf::error final_reason;
  /// Identifies the current shutdown step's deadline timer.
  uint64_t shutdown_step = 0;
  static inline const char* name = "athanor.supervisor";
};

using supervisor_pointer = supervisor_actor::stateful_pointer<
  supervisor_actor_state>;

// An exit after which a transient child is not restarted.
bool is_normal_exit(const caf::error& reason) {
  return !reason || reason == caf::exit_reason::normal
         || reason == caf::exit_reason::user_shutdown;
}

std::string render_reason(caf::actor_system& sys, const caf::error& reason) {
  return reason ? sys.render(reason) : std::string{"normal"};
}

child_entry* find_child(supervisor_pointer self, const caf::actor_addr& who) {
  for (auto& child : self->state.children)
    if (child.handle && child.handle.address() == who)
      return &child;
  return nullptr;
}

child_entry* find_child(supervisor_pointer self, const std::string& id) {
  for (auto& child : self->state.children)
    if (child.spec.id == id)
      return &child;
  return nullptr;
}

void on_child_exit(supervisor_pointer self, child_entry& child,
                   const caf::error& reason);

void start_child(supervisor_pointer self, child_entry& child) {
  child.handle = child.spec.start(self->system());
  if (!child.handle) {
    on_child_exit(self, child,
                  make_error(engine_errc::not_found,
                             "start function of '" + child.spec.id
                               + "' returned no actor"));
    return;
  }
  child.phase = child_phase::running;
  child.started_at = self->clock().now();
  // Monitor rather than link: a linked actor that receives an exit_msg
  // unlinks from its sender first (CAF 0.17), so a child stopped with
  // send_exit would never report back. Down messages always arrive.
  self->monitor(child.handle);
  self->state.live->push_back(child.handle);
}

void forget_live(supervisor_pointer self, const caf::actor& handle) {
  auto& live = *self->state.live;
  live.erase(std::remove(live.begin(), live.end(), handle), live.end());
}

// Stops the last running child; quits once none is left.
void stop_next(supervisor_pointer self) {
  auto& st = self->state;
  for (auto i = st.children.rbegin(); i != st.children.rend(); ++i) {
    if (i->phase != child_phase::running)
      continue;
    log::debug("supervisor", "stopping_child",
               {{"supervisor", st.cfg.name}, {"child", i->spec.id}});
    self->send_exit(i->handle, caf::exit_reason::user_shutdown);
    self->delayed_send(self, i->spec.shutdown_timeout, deadline_atom::value,
                       ++st.shutdown_step);
    return;
  }
  log::info("supervisor", "stopped",
            {{"supervisor", st.cfg.name},
             {"reason", render_reason(self->system(), st.final_reason)}});
  self->quit(st.final_reason);
}

void begin_shutdown(supervisor_pointer self, caf::error reason) {
  auto& st = self->state;
  if (st.shutting_down)
    return;
  st.shutting_down = true;
  st.final_reason = std::move(reason);
  for (auto& child : st.children)
    if (child.phase == child_phase::restarting)
      child.phase = child_phase::stopped;
  log::info("supervisor", "shutdown_started",
            {{"supervisor", st.cfg.name},
             {"reason", render_reason(self->system(), st.final_reason)}});
  // Step 0 is the overall deadline.
  self->delayed_send(self, st.cfg.shutdown_deadline, deadline_atom::value,
                     uint64_t{0});
  stop_next(self);
}

void on_child_exit(supervisor_pointer self, child_entry& child,
                   const caf::error& reason) {
  auto& st = self->state;
  auto now = self->clock().now();
  forget_live(self, child.handle);
  child.handle = nullptr;
  child.last_exit = render_reason(self->system(), reason);
  ++child.incarnation;
  if (st.shutting_down) {
    child.phase = child_phase::stopped;
    stop_next(self);
    return;
  }
  auto restart = child.spec.restart == restart_policy::permanent
                 || (child.spec.restart == restart_policy::transient
                     && !is_normal_exit(reason));
  auto ran = now - child.started_at;
  log::write(is_normal_exit(reason) ? log::level::info : log::level::warn,
             "supervisor", "child_exit", nullptr,
             {{"supervisor", st.cfg.name},
              {"child", child.spec.id},
              {"reason", child.last_exit},
              {"ran_ms", static_cast<double>(ran.count()) / 1e6},
              {"restart", restart}});
  if (!restart) {
    child.phase = child_phase::stopped;
    return;
  }
  if (!st.intensity->record(now)) {
    child.phase = child_phase::stopped;
    log::error(
      "supervisor", "restart_intensity_exceeded",
      {{"supervisor", st.cfg.name},
       {"child", child.spec.id},
       {"max_restarts", st.cfg.max_restarts},
       {"period_ms", static_cast<double>(st.cfg.period.count()) / 1e6}});
    begin_shutdown(self,
                   make_error(engine_errc::restart_intensity_exceeded,
                              "child '" + child.spec.id + "' last exited with "
                                + child.last_exit));
    return;
  }
  child.backoff.note_run(ran);
  auto delay = child.backoff.next_delay();
  ++child.restarts;
  ++st.total_restarts;
  if (delay.count() == 0) {
    start_child(self, child);
    return;
  }
  child.phase = child_phase::restarting;
  self->delayed_send(self, delay, restart_atom::value, child.spec.id,
                     child.incarnation);
}

supervisor_status make_status(supervisor_pointer self) {
  auto& st = self->state;
  supervisor_status result;
  result.name = st.cfg.name;
  result.restarts_in_window = st.intensity->within_period(self->clock().now());
  result.total_restarts = st.total_restarts;
  result.shutting_down = st.shutting_down;
  for (auto& child : st.children)
    result.children.push_back({child.spec.id, child.spec.restart, child.phase,
                               child.restarts, child.last_exit});
  return result;
}

supervisor_actor::behavior_type supervisor_impl(supervisor_pointer self,
                                                supervisor_config cfg,
                                                std::vector<child_spec> specs) {
  self->set_exception_handler(exception_to_exit_reason);
  auto& st = self->state;
  st.intensity = std::make_unique<restart_intensity>(cfg.max_restarts,
                                                     cfg.period);
  for (auto& spec : specs)
    st.children.emplace_back(std::move(spec), cfg.restart_backoff);
  st.cfg = std::move(cfg);
  self->set_down_handler([self](caf::down_msg& msg) {
    if (auto child = find_child(self, msg.source))
      on_child_exit(self, *child, msg.reason);
  });
  // An exit from whoever we are linked to (our own supervisor): go down in
  // order.
  self->set_exit_handler(
    [self](caf::exit_msg& msg) { begin_shutdown(self, msg.reason); });
  // However we die (an exception, a kill), no child outlives us; with no
  // one left to wait for them, they are killed. After an ordered shutdown
  // the list is empty.
  self->attach_functor([live = st.live] {
    for (auto& child : *live)
      caf::anon_send_exit(child, caf::exit_reason::kill);
  });
  for (auto& child : st.children) {
    if (st.shutting_down)
      break;
    start_child(self, child);
  }
  return {
    [self](which_atom, const std::string& id) -> caf::result<caf::actor> {
      auto child = find_child(self, id);
      if (!child)
        return make_error(engine_errc::not_found, "no child '" + id + "'");
      if (child->phase != child_phase::running)
        return make_error(engine_errc::not_found,
                          "child '" + id + "' is " + to_string(child->phase));
      return child->handle;
    },
    [self](caf::get_atom) { return make_status(self); },
    // Its own figures and those of every running child (the trading desk's
    // executor reports its group), so a stable handle shows a restarting
    // group's metrics.
    [self](metrics_atom) -> caf::result<metric_samples> {
      auto status = make_status(self);
      metric_samples own;
      std::map<std::string, std::string> labels{{"supervisor", status.name}};
      own.push_back({"athanor_supervisor_restarts_total",
                     metric_kind::counter, labels,
                     static_cast<double>(status.total_restarts)});
      own.push_back({"athanor_supervisor_restarts_in_window",
                     metric_kind::gauge, labels,
                     static_cast<double>(status.restarts_in_window)});
      std::vector<caf::actor> running;
      for (auto& child : status.children) {
        auto child_labels = labels;
        child_labels["child"] = child.id;
        own.push_back({"athanor_supervisor_child_running",
                       metric_kind::gauge, child_labels,
                       child.phase == child_phase::running ? 1.0 : 0.0});
      }
      for (auto& child : self->state.children)
        if (child.phase == child_phase::running)
          running.push_back(child.handle);
      auto promise = self->make_response_promise<metric_samples>();
      gather_metrics(self, running, std::move(own), std::chrono::seconds{1},
                     [promise](metric_samples& xs) mutable {
                       promise.deliver(std::move(xs));
                     });
      return promise;
    },
    [self](shutdown_atom) {
      begin_shutdown(self, caf::exit_reason::user_shutdown);
    },
    [self](restart_atom, const std::string& id, uint64_t incarnation) {
      auto child = find_child(self, id);
      if (child == nullptr || self->state.shutting_down
          || child->phase != child_phase::restarting
          || child->incarnation != incarnation)
        return;
      start_child(self, *child);
    },
    [self](deadline_atom, uint64_t step) {
      auto& st = self->state;
      if (!st.shutting_down)
        return;
      if (step == 0) {
        log::error("supervisor", "shutdown_deadline_exceeded",
                   {{"supervisor", st.cfg.name}});
        for (auto& child : st.children)
          if (child.phase == child_phase::running)
            self->send_exit(child.handle, caf::exit_reason::kill);
        self->quit(st.final_reason);
        return;
      }
      if (step != st.shutdown_step)
        return;
      for (auto i = st.children.rbegin(); i != st.children.rend(); ++i) {
        if (i->phase != child_phase::running)
          continue;
        log::warn("supervisor", "child_shutdown_timeout",
                  {{"supervisor", st.cfg.name}, {"child", i->spec.id}});
        self->send_exit(i->handle, caf::exit_reason::kill);
        return;
      }
    },
  };
}

} // namespace

caf::expected<supervisor_actor>
spawn_supervisor(caf::actor_system& sys, supervisor_config cfg,
                 std::vector<child_spec> children) {
  auto problems = validate(cfg);
  std::set<std::string> ids;
  for (auto& child : children) {
    if (!ids.insert(child.id).second)
      problems.push_back({"children", "duplicate child id '" + child.id + "'"});
    if (!child.start)
      problems.push_back(
        {"children", "child '" + child.id + "' has no start function"});
  }
  if (!problems.empty())
    return make_error(engine_errc::invalid_config, to_string(problems));
  return sys.spawn(supervisor_impl, std::move(cfg), std::move(children));
}

} // namespace athanor
