#define CAF_SUITE actors.supervisor
#include "actors/resilience/supervisor.hpp"

#include "fixture.hpp"

#include "actors/common/exception_handler.hpp"
#include "messages/error.hpp"

using namespace athanor;
using namespace std::chrono_literals;

namespace {

using crash_atom = caf::atom_constant<caf::atom("crash")>;
using finish_atom = caf::atom_constant<caf::atom("finish")>;

// A child that throws on `crash` and exits normally on `finish`.
caf::behavior worker(caf::event_based_actor* self) {
  self->set_exception_handler(exception_to_exit_reason);
  return {
    [](crash_atom) { throw std::runtime_error("boom from worker"); },
    [self](finish_atom) { self->quit(); },
  };
}

// A child that ignores shutdown requests: only a kill stops it.
caf::behavior stubborn(caf::event_based_actor* self) {
  self->set_exit_handler([](caf::exit_msg&) {});
  return {[](finish_atom) {}};
}

child_spec spec_of(std::string id,
                   restart_policy restart = restart_policy::permanent) {
  return {std::move(id),
          [](caf::actor_system& sys) { return sys.spawn(worker); }, restart,
          5s};
}

supervisor_config immediate(uint32_t max_restarts, caf::timespan period) {
  supervisor_config cfg;
  cfg.name = "test-sup";
  cfg.max_restarts = max_restarts;
  cfg.period = period;
  cfg.restart_backoff.initial = 0s;
  cfg.restart_backoff.jitter = 0.0;
  return cfg;
}

struct fixture : fixture_base {
  supervisor_actor sup;

  void start(supervisor_config cfg, std::vector<child_spec> specs) {
    sup = unbox(spawn_supervisor(sys, std::move(cfg), std::move(specs)));
    sched.run();
  }

  ~fixture() override {
    if (sup)
      self->send_exit(sup, caf::exit_reason::kill);
  }

  caf::actor child(const std::string& id) {
    caf::actor result;
    auto hdl = self->request(sup, caf::infinite, which_atom::value, id);
    sched.run();
    hdl.receive([&](caf::actor& x) { result = std::move(x); },
                [&](caf::error&) {});
    return result;
  }

  supervisor_status status() {
    return fetch<supervisor_status>(sup, caf::get_atom::value);
  }

  child_status status_of(const std::string& id) {
    for (auto& c : status().children)
      if (c.id == id)
        return c;
    CAF_FAIL("no child " << id);
    return {};
  }

  void crash(const std::string& id) {
    auto hdl = child(id);
    CAF_REQUIRE(hdl != nullptr);
    self->send(hdl, crash_atom::value);
    sched.run();
  }

  bool alive(const caf::actor& hdl) {
    auto ptr = caf::actor_cast<caf::abstract_actor*>(hdl);
    return ptr != nullptr
           && !ptr->getf(caf::abstract_actor::is_terminated_flag);
  }

  size_t advance(caf::timespan d) {
    auto fired = sched.clock().advance_time(d);
    sched.run();
    return fired;
  }

  caf::error down_reason_of(const caf::actor_addr& who) {
    caf::error result;
    bool seen = false;
    self->receive([&](caf::down_msg& msg) {
      seen = true;
      CAF_CHECK_EQUAL(msg.source, who);
      result = msg.reason;
    });
    CAF_CHECK(seen);
    return result;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(supervisor_tests, fixture)

CAF_TEST(a crashed permanent child is restarted with a new handle) {
  start(immediate(3, 5s), {spec_of("w1")});
  auto first = child("w1");
  crash("w1");
  auto second = child("w1");
  CAF_REQUIRE(second != nullptr);
  CAF_CHECK_NOT_EQUAL(first, second);
  CAF_CHECK(!alive(first));
  CAF_CHECK_EQUAL(status_of("w1").restarts, 1u);
}

CAF_TEST(an exception becomes a typed exit reason with its message) {
  start(immediate(3, 5s), {spec_of("w1")});
  auto first = child("w1");
  self->monitor(first);
  crash("w1");
  auto reason = down_reason_of(first.address());
  CAF_CHECK_EQUAL(errc_of(reason), engine_errc::unhandled_exception);
  CAF_CHECK(detail_of(reason).find("boom from worker") != std::string::npos);
  auto last_exit = status_of("w1").last_exit;
  CAF_CHECK(last_exit.find("athanor.unhandled_exception") != std::string::npos);
  CAF_CHECK(last_exit.find("boom from worker") != std::string::npos);
}

CAF_TEST(a crash loop escalates at exactly restart R plus one) {
  start(immediate(3, 60s), {spec_of("w1"), spec_of("w2")});
  self->monitor(sup);
  auto sibling = child("w2");
  for (int i = 1; i <= 3; ++i) {
    crash("w1");
    CAF_CHECK_EQUAL(status().total_restarts, static_cast<uint64_t>(i));
    CAF_CHECK(child("w1") != nullptr);
  }
  crash("w1");
  auto reason = down_reason_of(sup.address());
  CAF_CHECK_EQUAL(errc_of(reason), engine_errc::restart_intensity_exceeded);
  CAF_CHECK(detail_of(reason).find("w1") != std::string::npos);
  // Escalation takes the other children down too.
  CAF_CHECK(!alive(sibling));
  sup = nullptr;
}

CAF_TEST(the intensity window runs on the simulated clock) {
  start(immediate(2, 5s), {spec_of("w1")});
  crash("w1");
  crash("w1");
  // Two restarts in the window; the window slides past them.
  advance(5s + 1ns);
  CAF_CHECK_EQUAL(status().restarts_in_window, 0u);
  crash("w1");
  crash("w1");
  CAF_CHECK(child("w1") != nullptr);
  self->monitor(sup);
  crash("w1");
  CAF_CHECK_EQUAL(errc_of(down_reason_of(sup.address())),
                  engine_errc::restart_intensity_exceeded);
  sup = nullptr;
}

CAF_TEST(restart policies decide on normal and abnormal exits) {
  start(immediate(10, 5s), {spec_of("perm", restart_policy::permanent),
                            spec_of("trans", restart_policy::transient),
                            spec_of("temp", restart_policy::temporary)});
  // Normal exits: only the permanent child comes back.
  for (auto id : {"perm", "trans", "temp"}) {
    self->send(child(id), finish_atom::value);
    sched.run();
  }
  CAF_CHECK_EQUAL(status_of("perm").phase, child_phase::running);
  CAF_CHECK_EQUAL(status_of("trans").phase, child_phase::stopped);
  CAF_CHECK_EQUAL(status_of("trans").restarts, 0u);
  CAF_CHECK_EQUAL(status_of("temp").phase, child_phase::stopped);
  CAF_CHECK(child("trans") == nullptr);
}

CAF_TEST(a transient child is restarted after a crash) {
  start(immediate(10, 5s), {spec_of("trans", restart_policy::transient),
                            spec_of("temp", restart_policy::temporary)});
  crash("trans");
  crash("temp");
  CAF_CHECK_EQUAL(status_of("trans").phase, child_phase::running);
  CAF_CHECK_EQUAL(status_of("trans").restarts, 1u);
  CAF_CHECK_EQUAL(status_of("temp").phase, child_phase::stopped);
}

CAF_TEST(restart delays follow the backoff exactly on the simulated clock) {
  auto cfg = immediate(10, 1h);
  cfg.restart_backoff.initial = 1s;
  cfg.restart_backoff.max = 30s;
  cfg.restart_backoff.multiplier = 2.0;
  cfg.restart_backoff.stable_period = 10min;
  start(cfg, {spec_of("w1")});
  crash("w1");
  CAF_CHECK_EQUAL(status_of("w1").phase, child_phase::restarting);
  CAF_CHECK(child("w1") == nullptr);
  CAF_CHECK_EQUAL(advance(1s - 1ns), 0u);
  CAF_CHECK_EQUAL(status_of("w1").phase, child_phase::restarting);
  CAF_CHECK_EQUAL(advance(1ns), 1u);
  CAF_CHECK_EQUAL(status_of("w1").phase, child_phase::running);
  crash("w1");
  advance(2s - 1ns);
  CAF_CHECK_EQUAL(status_of("w1").phase, child_phase::restarting);
  advance(1ns);
  CAF_CHECK_EQUAL(status_of("w1").phase, child_phase::running);
  // After a stable run the delay starts over at 1 s.
  advance(10min);
  crash("w1");
  advance(1s);
  CAF_CHECK_EQUAL(status_of("w1").phase, child_phase::running);
}

CAF_TEST(shutdown stops children in reverse start order) {
  start(immediate(3, 5s), {spec_of("a"), spec_of("b"), spec_of("c")});
  auto a = child("a");
  auto b = child("b");
  auto c = child("c");
  for (auto& x : {a, b, c})
    self->monitor(x);
  self->monitor(sup);
  self->send(sup, shutdown_atom::value);
  sched.run();
  std::vector<caf::actor_addr> order;
  for (int i = 0; i < 4; ++i)
    self->receive([&](caf::down_msg& msg) { order.push_back(msg.source); });
  std::vector<caf::actor_addr> expected{c.address(), b.address(), a.address(),
                                        sup.address()};
  CAF_CHECK_EQUAL(order, expected);
  sup = nullptr;
}

CAF_TEST(an exit message starts an ordered shutdown) {
  start(immediate(3, 5s), {spec_of("a"), spec_of("b")});
  auto a = child("a");
  auto b = child("b");
  self->monitor(a);
  self->monitor(b);
  self->send_exit(sup, caf::exit_reason::user_shutdown);
  sched.run();
  std::vector<caf::actor_addr> order;
  for (int i = 0; i < 2; ++i)
    self->receive([&](caf::down_msg& msg) { order.push_back(msg.source); });
  std::vector<caf::actor_addr> expected{b.address(), a.address()};
  CAF_CHECK_EQUAL(order, expected);
  CAF_CHECK(!alive(caf::actor_cast<caf::actor>(sup)));
  sup = nullptr;
}

CAF_TEST(a child that ignores shutdown is killed at its timeout) {
  child_spec slow{"slow",
                  [](caf::actor_system& sys) { return sys.spawn(stubborn); },
                  restart_policy::permanent, 3s};
  start(immediate(3, 5s), {spec_of("a"), slow});
  auto a = child("a");
  auto s = child("slow");
  self->send(sup, shutdown_atom::value);
  sched.run();
  CAF_CHECK(alive(s));
  CAF_CHECK(alive(a));
  advance(3s - 1ns);
  CAF_CHECK(alive(s));
  advance(1ns);
  CAF_CHECK(!alive(s));
  CAF_CHECK(!alive(a));
  CAF_CHECK(!alive(caf::actor_cast<caf::actor>(sup)));
  sup = nullptr;
}

CAF_TEST(the overall shutdown deadline kills what is left) {
  auto cfg = immediate(3, 5s);
  cfg.shutdown_deadline = 4s;
  auto stubborn_spec = [](std::string id) {
    return child_spec{
      std::move(id), [](caf::actor_system& sys) { return sys.spawn(stubborn); },
      restart_policy::permanent, 3s};
  };
  start(cfg, {stubborn_spec("s1"), stubborn_spec("s2")});
  auto s1 = child("s1");
  auto s2 = child("s2");
  self->send(sup, shutdown_atom::value);
  sched.run();
  advance(3s);
  CAF_CHECK(!alive(s2));
  CAF_CHECK(alive(s1));
  // s1 would get 3 s more, but the overall deadline comes at 4 s.
  advance(1s);
  CAF_CHECK(!alive(s1));
  CAF_CHECK(!alive(caf::actor_cast<caf::actor>(sup)));
  sup = nullptr;
}

CAF_TEST(invalid specs are refused naming the problem) {
  auto cfg = immediate(3, 5s);
  cfg.period = 0s;
  auto result = spawn_supervisor(
    sys, cfg, {spec_of("dup"), spec_of("dup"), child_spec{"nostart", nullptr}});
  CAF_REQUIRE(!result);
  auto text = detail_of(result.error());
  CAF_CHECK(text.find("athanor.supervisor.period") != std::string::npos);
  CAF_CHECK(text.find("duplicate child id 'dup'") != std::string::npos);
  CAF_CHECK(text.find("'nostart' has no start function") != std::string::npos);
}

CAF_TEST(children die with the supervisor however it dies) {
  start(immediate(3, 5s), {spec_of("a"), spec_of("b")});
  auto a = child("a");
  auto b = child("b");
  self->send_exit(sup, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK(!alive(a));
  CAF_CHECK(!alive(b));
  sup = nullptr;
}

CAF_TEST(metrics count restarts per supervisor) {
  start(immediate(3, 5s), {spec_of("w1")});
  crash("w1");
  crash("w1");
  auto samples = fetch<metric_samples>(sup, metrics_atom::value);
  double restarts = -1;
  for (auto& s : samples)
    if (s.name == "athanor_supervisor_restarts_total")
      restarts = s.value;
  CAF_CHECK_EQUAL(restarts, 2.0);
}

CAF_TEST_FIXTURE_SCOPE_END()
