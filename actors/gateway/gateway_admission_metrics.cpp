#include "actors/gateway/gateway_admission_metrics.hpp"

#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "actors/common/metrics_gather.hpp"

namespace athanor {

namespace {

metric_samples samples_of(const gateway_admission_counters& x) {
  auto counter = [](const char* name, const std::atomic<uint64_t>& value,
                    std::map<std::string, std::string> labels = {}) {
    return metric_sample{name, metric_kind::counter, std::move(labels),
                         static_cast<double>(value.load())};
  };
  metric_samples result{
    {"athanor_gateway_clients", metric_kind::gauge, {},
     static_cast<double>(x.open.load())},
    counter("athanor_gateway_clients_accepted_total", x.accepted),
    counter("athanor_gateway_clients_refused_total", x.refused_total_limit,
            {{"reason", "max_connections"}}),
    counter("athanor_gateway_clients_refused_total", x.refused_address_limit,
            {{"reason", "max_connections_per_address"}}),
    counter("athanor_gateway_clients_refused_total", x.refused_banned,
            {{"reason", "login_ban"}}),
    counter("athanor_gateway_failed_logins_total", x.failed_logins),
    counter("athanor_gateway_login_bans_total", x.bans),
    counter("athanor_gateway_slow_clients_total", x.slow_clients),
    counter("athanor_gateway_refusal_logs_suppressed_total",
            x.refusal_logs_suppressed),
  };
  return result;
}

caf::behavior
admission_metrics(caf::event_based_actor* self,
                  std::shared_ptr<const gateway_admission_counters> counters,
                  std::vector<caf::actor> more) {
  self->set_exception_handler(exception_to_exit_reason);
  return {
    [self, counters, more](metrics_atom) -> caf::result<metric_samples> {
      auto promise = self->make_response_promise<metric_samples>();
      gather_metrics(self, more, samples_of(*counters), std::chrono::seconds{1},
                     [promise](metric_samples& xs) mutable {
                       promise.deliver(std::move(xs));
                     });
      return promise;
    },
  };
}

} // namespace

caf::actor spawn_gateway_admission_metrics(
  caf::actor_system& sys,
  std::shared_ptr<const gateway_admission_counters> counters,
  std::vector<caf::actor> more) {
  return sys.spawn(admission_metrics, std::move(counters), std::move(more));
}

} // namespace athanor
