#include "messages/register.hpp"

#include "caf/actor_system_config.hpp"

#include "messages/breaker.hpp"
#include "messages/error.hpp"
#include "messages/handles.hpp"
#include "messages/metrics.hpp"
#include "messages/secret.hpp"
#include "messages/supervision.hpp"
#include "messages/trace.hpp"

namespace athanor {

void add_message_types(caf::actor_system_config& cfg) {
  cfg.add_message_type<secret>("athanor.secret")
    .add_message_type<credentials>("athanor.credentials")
    .add_message_type<trace>("athanor.trace")
    .add_message_type<correlation_id>("athanor.correlation_id")
    .add_message_type<causation_id>("athanor.causation_id")
    .add_message_type<breaker_state>("athanor.breaker_state")
    .add_message_type<call_outcome>("athanor.call_outcome")
    .add_message_type<permit>("athanor.permit")
    .add_message_type<breaker_snapshot>("athanor.breaker_snapshot")
    .add_message_type<breaker_transition>("athanor.breaker_transition")
    .add_message_type<restart_policy>("athanor.restart_policy")
    .add_message_type<child_status>("athanor.child_status")
    .add_message_type<supervisor_status>("athanor.supervisor_status")
    .add_message_type<metric_sample>("athanor.metric_sample")
    .add_message_type<metric_samples>("athanor.metric_samples")
    .add_message_type<breaker_actor>("athanor.breaker_actor")
    .add_message_type<breaker_listener_actor>("athanor.breaker_listener_actor")
    .add_message_type<supervisor_actor>("athanor.supervisor_actor");
  add_error_category(cfg);
}

} // namespace athanor
