#define CAF_SUITE actors.remote_front
#include "actors/remote/remote_front.hpp"

#include "fixture.hpp"

#include "messages/error.hpp"

using namespace athanor;

namespace {

struct record {
  size_t leases = 0;
  std::vector<uint64_t> released;
  size_t subscribes = 0;
  size_t unsubscribes = 0;
};

// The registry: keeps each subscriber's topics, answers with what is left.
caf::behavior registry_impl(caf::event_based_actor*,
                            std::shared_ptr<record> r) {
  auto topics = std::make_shared<std::map<caf::actor_addr, size_t>>();
  return {
    [=](subscribe_atom, const subscriber_actor& who,
        std::vector<topic>& xs, const trace&) {
      ++r->subscribes;
      (*topics)[who.address()] += xs.size();
      return std::vector<topic>(xs);
    },
    [=](unsubscribe_atom, const subscriber_actor& who,
        std::vector<topic>& xs, const trace&) {
      ++r->unsubscribes;
      auto& n = (*topics)[who.address()];
      n -= std::min(n, xs.size());
      return std::vector<topic>(n, topic{});
    },
  };
}

// The connection supervisor: a lease per request, numbered.
caf::behavior connections_impl(caf::event_based_actor*,
                               std::shared_ptr<record> r,
                               caf::actor registry) {
  return {
    [=](lease_atom, const std::string& name, const caf::actor&) {
      lease x;
      x.id = ++r->leases;
      x.upstream = name;
      x.registry = caf::actor_cast<registry_actor>(registry);
      return x;
    },
    [=](release_atom, uint64_t id) { r->released.push_back(id); },
  };
}

caf::behavior subscriber_impl(caf::event_based_actor*) {
  return {[](const batch&) {}, [](const gap&) {}};
}

struct fixture : fixture_base {
  std::shared_ptr<record> r = std::make_shared<record>();
  caf::actor registry = sys.spawn(registry_impl, r);
  caf::actor connections = sys.spawn(connections_impl, r, registry);
  remote_front_actor front;
  caf::actor sub = sys.spawn(subscriber_impl);

  fixture() {
    remote_front_config cfg;
    cfg.connections = caf::actor_cast<connection_supervisor_actor>(connections);
    front = spawn_remote_front(sys, std::move(cfg));
    sched.run();
  }

  ~fixture() {
    for (auto x : {registry, connections, sub,
                   caf::actor_cast<caf::actor>(front)})
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    sched.run();
  }

  std::vector<topic> quotes(std::vector<std::string> symbols) {
    std::vector<topic> result;
    for (auto& s : symbols)
      result.push_back({channel::quotes, s});
    return result;
  }

  subscriber_actor as_subscriber(const caf::actor& x) {
    return caf::actor_cast<subscriber_actor>(x);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(remote_front_tests, fixture)

CAF_TEST(a subscriber leases once and subscribes at the registry) {
  auto first = fetch<std::vector<topic>>(front, subscribe_atom::value,
                                         as_subscriber(sub), quotes({"AAPL"}));
  CAF_CHECK_EQUAL(first.size(), 1u);
  auto second = fetch<std::vector<topic>>(front, subscribe_atom::value,
                                          as_subscriber(sub),
                                          quotes({"MSFT", "SPY"}));
  CAF_CHECK_EQUAL(second.size(), 2u);
  CAF_CHECK_EQUAL(r->leases, 1u);
  CAF_CHECK_EQUAL(r->subscribes, 2u);
  auto metrics = fetch<metric_samples>(front, metrics_atom::value);
  CAF_REQUIRE(!metrics.empty());
  CAF_CHECK_EQUAL(metrics[0].name, "athanor_remote_subscribers");
  CAF_CHECK_EQUAL(metrics[0].value, 1.0);
}

CAF_TEST(a subscriber that goes away releases its lease) {
  fetch<std::vector<topic>>(front, subscribe_atom::value, as_subscriber(sub),
                            quotes({"AAPL"}));
  caf::anon_send_exit(sub, caf::exit_reason::remote_link_unreachable);
  sched.run();
  CAF_CHECK_EQUAL(caf::deep_to_string(r->released), "[1]");
}

CAF_TEST(unsubscribing from everything releases the lease) {
  fetch<std::vector<topic>>(front, subscribe_atom::value, as_subscriber(sub),
                            quotes({"AAPL", "MSFT"}));
  auto left = fetch<std::vector<topic>>(front, unsubscribe_atom::value,
                                        as_subscriber(sub), quotes({"AAPL"}));
  CAF_CHECK_EQUAL(left.size(), 1u);
  CAF_CHECK(r->released.empty());
  left = fetch<std::vector<topic>>(front, unsubscribe_atom::value,
                                   as_subscriber(sub), quotes({"MSFT"}));
  CAF_CHECK(left.empty());
  CAF_CHECK_EQUAL(caf::deep_to_string(r->released), "[1]");
}

CAF_TEST(plans are refused unless allowed and where no executor runs) {
  plan p;
  p.plan_id = "p";
  auto errc_from = [&](remote_front_actor to) {
    auto response = self->request(to, caf::infinite, execute_atom::value, p,
                                  trace::root());
    sched.run();
    std::string result = "answered";
    response.receive([](plan_result&) {},
                     [&](caf::error& err) {
                       result = to_string(errc_of(err).value_or(
                         engine_errc::server_error));
                     });
    return result;
  };
  // By default remote peers subscribe but do not execute.
  CAF_CHECK_EQUAL(errc_from(front), "not_permitted");
  double refused = -1;
  for (auto& x : fetch<metric_samples>(front, metrics_atom::value))
    if (x.name == "athanor_remote_plans_refused_total")
      refused = x.value;
  CAF_CHECK_EQUAL(refused, 1.0);
  remote_front_config cfg;
  cfg.connections = caf::actor_cast<connection_supervisor_actor>(connections);
  cfg.execute.allow = true;
  auto allowed = spawn_remote_front(sys, std::move(cfg));
  CAF_CHECK_EQUAL(errc_from(allowed), "invalid_config");
  caf::anon_send_exit(allowed, caf::exit_reason::user_shutdown);
}

CAF_TEST(with an allow list a plan needs a proof and challenges are counted) {
  remote_front_config cfg;
  cfg.connections = caf::actor_cast<connection_supervisor_actor>(connections);
  cfg.execute.allow = true;
  cfg.execute.peers = {"CN=desk-1"};
  auto guarded = spawn_remote_front(sys, std::move(cfg));
  plan p;
  p.plan_id = "p";
  std::string refusal;
  auto unproven = self->request(guarded, caf::infinite, execute_atom::value, p,
                                trace::root());
  sched.run();
  unproven.receive([](plan_result&) {},
                   [&](caf::error& err) { refusal = render(err); });
  CAF_CHECK_NOT_EQUAL(refusal.find("not_permitted"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(refusal.find("execute-peers"), std::string::npos);
  auto nonce = fetch<std::string>(guarded, challenge_atom::value);
  CAF_CHECK_EQUAL(nonce.size(), 64u);
  // A made-up proof is refused like no proof, and uses the challenge up.
  auto forged = self->request(guarded, caf::infinite, execute_atom::value, p,
                              trace::root(), nonce, std::string{"junk"},
                              std::string{"00"});
  sched.run();
  refusal.clear();
  forged.receive([](plan_result&) {},
                 [&](caf::error& err) { refusal = render(err); });
  CAF_CHECK_NOT_EQUAL(refusal.find("not_permitted"), std::string::npos);
  double refused = -1;
  double outstanding = -1;
  for (auto& x : fetch<metric_samples>(guarded, metrics_atom::value)) {
    if (x.name == "athanor_remote_plans_refused_total")
      refused = x.value;
    if (x.name == "athanor_remote_challenges_outstanding")
      outstanding = x.value;
  }
  CAF_CHECK_EQUAL(refused, 2.0);
  CAF_CHECK_EQUAL(outstanding, 0.0);
  caf::anon_send_exit(guarded, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()
