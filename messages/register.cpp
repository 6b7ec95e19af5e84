#include "messages/register.hpp"

#include "caf/actor_system_config.hpp"

#include "messages/admin.hpp"
#include "messages/breaker.hpp"
#include "messages/error.hpp"
#include "messages/execution.hpp"
#include "messages/gateway.hpp"
#include "messages/handles.hpp"
#include "messages/market.hpp"
#include "messages/metrics.hpp"
#include "messages/secret.hpp"
#include "messages/stream.hpp"
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
    .add_message_type<supervisor_actor>("athanor.supervisor_actor")
    .add_message_type<channel>("athanor.channel")
    .add_message_type<trade>("athanor.trade")
    .add_message_type<quote>("athanor.quote")
    .add_message_type<bar_kind>("athanor.bar_kind")
    .add_message_type<bar>("athanor.bar")
    .add_message_type<trading_status>("athanor.trading_status")
    .add_message_type<luld>("athanor.luld")
    .add_message_type<correction>("athanor.correction")
    .add_message_type<cancel_error>("athanor.cancel_error")
    .add_message_type<imbalance>("athanor.imbalance")
    .add_message_type<price_level>("athanor.price_level")
    .add_message_type<orderbook>("athanor.orderbook")
    .add_message_type<batch>("athanor.batch")
    .add_message_type<subscription_set>("athanor.subscription_set")
    .add_message_type<session_state>("athanor.session_state")
    .add_message_type<topic>("athanor.topic")
    .add_message_type<std::vector<topic>>("athanor.topics")
    .add_message_type<gap_reason>("athanor.gap_reason")
    .add_message_type<gap>("athanor.gap")
    .add_message_type<stream_control>("athanor.stream_control")
    .add_message_type<link_end>("athanor.link_end")
    .add_message_type<link_opened>("athanor.link_opened")
    .add_message_type<link_frame>("athanor.link_frame")
    .add_message_type<link_closed>("athanor.link_closed")
    .add_message_type<session_status>("athanor.session_status")
    .add_message_type<session_counters>("athanor.session_counters")
    .add_message_type<session_snapshot>("athanor.session_snapshot")
    .add_message_type<subscriber_stats>("athanor.subscriber_stats")
    .add_message_type<registry_stats>("athanor.registry_stats")
    .add_message_type<upstream_health>("athanor.upstream_health")
    .add_message_type<std::vector<upstream_health>>("athanor.upstream_healths")
    .add_message_type<subscriber_actor>("athanor.subscriber_actor")
    .add_message_type<session_listener_actor>("athanor.session_listener_actor")
    .add_message_type<desire_sink_actor>("athanor.desire_sink_actor")
    .add_message_type<session_actor>("athanor.session_actor")
    .add_message_type<registry_actor>("athanor.registry_actor")
    .add_message_type<lease>("athanor.lease")
    .add_message_type<connection_supervisor_actor>(
      "athanor.connection_supervisor_actor");
  cfg.add_message_type<order_side>("athanor.order_side")
    .add_message_type<order_type>("athanor.order_type")
    .add_message_type<time_in_force>("athanor.time_in_force")
    .add_message_type<order_status>("athanor.order_status")
    .add_message_type<trade_event>("athanor.trade_event")
    .add_message_type<decimal>("athanor.decimal")
    .add_message_type<order_request>("athanor.order_request")
    .add_message_type<order>("athanor.order")
    .add_message_type<std::vector<order>>("athanor.orders")
    .add_message_type<order_update>("athanor.order_update")
    .add_message_type<account>("athanor.account")
    .add_message_type<position>("athanor.position")
    .add_message_type<std::vector<position>>("athanor.positions")
    .add_message_type<asset>("athanor.asset")
    .add_message_type<latest_trade>("athanor.latest_trade")
    .add_message_type<plan_item>("athanor.plan_item")
    .add_message_type<plan_sequence>("athanor.plan_sequence")
    .add_message_type<plan>("athanor.plan")
    .add_message_type<item_outcome>("athanor.item_outcome")
    .add_message_type<item_result>("athanor.item_result")
    .add_message_type<plan_result>("athanor.plan_result")
    .add_message_type<http_failure>("athanor.http_failure")
    .add_message_type<http_answer>("athanor.http_answer")
    .add_message_type<trading_frame>("athanor.trading_frame")
    .add_message_type<rest_client_actor>("athanor.rest_client_actor")
    .add_message_type<order_listener_actor>("athanor.order_listener_actor")
    .add_message_type<trading_session_actor>("athanor.trading_session_actor")
    .add_message_type<executor_actor>("athanor.executor_actor")
    .add_message_type<admin_query>("athanor.admin_query")
    .add_message_type<admin_actor>("athanor.admin_actor")
    .add_message_type<gateway_frame>("athanor.gateway_frame")
    .add_message_type<gateway_closed>("athanor.gateway_closed")
    .add_message_type<gateway_client_actor>("athanor.gateway_client_actor");
  add_error_category(cfg);
}

} // namespace athanor
