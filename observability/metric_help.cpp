#include "observability/metric_help.hpp"

#include <unordered_map>

namespace athanor {

namespace {

const std::unordered_map<std::string, const char*>& table() {
  static const std::unordered_map<std::string, const char*> help{
    // Admin, build and process.
    {"athanor_admin_requests_total", "HTTP requests the admin endpoint answered"},
    {"athanor_build_info", "Always 1; the labels name the version and CAF's"},
    {"process_resident_memory_bytes", "Resident memory of the process"},
    {"process_cpu_seconds_total", "User and system CPU time of the process"},
    {"process_open_fds", "Open file descriptors of the process"},
    {"process_start_time_seconds", "Start of the process, seconds since the epoch"},
    // Breaker.
    {"athanor_breaker_abandoned_permits_total", "Permits whose caller never reported an outcome"},
    {"athanor_breaker_consecutive_failures", "Failures in a row now"},
    {"athanor_breaker_failure_rate_percent", "Failure rate over the breaker's window"},
    {"athanor_breaker_failures_total", "Calls that failed"},
    {"athanor_breaker_ignored_total", "Outcomes ignored by the policy (not failures)"},
    {"athanor_breaker_listeners", "Actors told of state changes"},
    {"athanor_breaker_permits_granted_total", "Calls let through"},
    {"athanor_breaker_permits_refused_total", "Calls refused while open"},
    {"athanor_breaker_probes_in_flight", "Half-open probes under way"},
    {"athanor_breaker_slow_calls_total", "Calls slower than the slow-call threshold"},
    {"athanor_breaker_stale_outcomes_total", "Outcomes of permits from an earlier state"},
    {"athanor_breaker_state", "1 for the breaker's current state (label state), else 0"},
    {"athanor_breaker_successes_total", "Calls that succeeded"},
    {"athanor_breaker_transitions_total", "State changes"},
    {"athanor_breaker_trips_total", "Times the breaker opened"},
    // In-process callback subscribers.
    {"athanor_callback_batches_total", "Batches handed to a host callback"},
    {"athanor_callback_failures_total", "Host callbacks that threw"},
    {"athanor_callback_gaps_total", "Gap markers handed to a host callback"},
    {"athanor_callback_subscribers", "Host callback subscriptions"},
    // Connection supervisor.
    {"athanor_connection_leases", "Leases held on an upstream connection"},
    {"athanor_connection_restarts_total", "Restarts of a connection's session"},
    // Market tree (the connection supervisor's supervisor and front).
    {"athanor_market_tree_up", "1 while a connection supervisor runs"},
    {"athanor_registry_backfills_total", "Gaps repaired from the market-data API's history"},
    {"athanor_registry_backfill_failures_total", "Gap repairs that failed (refused, timed out, too large)"},
    {"athanor_registry_backfilled_records_total", "Records delivered by gap repairs, over all subscribers"},
    {"athanor_tape_records_total", "Events written to the tape (frames, connects, closes)"},
    {"athanor_tape_bytes_total", "Bytes written to tape files, headers included"},
    {"athanor_tape_rotations_total", "Tape files rotated for size"},
    {"athanor_tape_write_errors_total", "Tape writes that failed (recording stops at the first)"},
    {"athanor_tape_file_bytes", "Size of the current tape file"},
    {"athanor_tape_recording", "1 while the tape is being written, 0 after a write failed"},
    {"athanor_market_tree_failed", "1 once the market-data tree gave up (restart intensity exceeded)"},
    {"athanor_market_tree_restarts_total", "Abnormal exits of the connection supervisor"},
    {"athanor_market_tree_adopted_leases_total", "Leases handed to a new connection supervisor"},
    {"athanor_market_tree_held_leases", "Leases the market tree's front knows of"},
    {"athanor_market_tree_waiting_leases", "Lease requests waiting for a connection supervisor"},
    // Executor.
    {"athanor_executor_breaker_refusals_total", "Orders held back by the REST breaker"},
    {"athanor_executor_cancels_failed_total", "Cancels the broker refused or never answered"},
    {"athanor_executor_deadline_cancels_total", "Orders cancelled at a plan's deadline"},
    {"athanor_executor_items_ended_total", "Plan items ended, by outcome"},
    {"athanor_executor_journal_errors_total", "Journal writes that failed"},
    {"athanor_executor_lookups_total", "Orders looked up after silence or doubt"},
    {"athanor_executor_open_orders", "Orders placed and not final"},
    {"athanor_executor_order_updates_total", "Order updates applied from the trading stream"},
    {"athanor_executor_orders", "Orders of running plans, by status"},
    {"athanor_executor_orders_placed_total", "Orders the broker accepted"},
    {"athanor_executor_orders_rejected_total", "Orders the broker refused"},
    {"athanor_executor_orphans_canceled_total", "Orders found open with no plan item, cancelled"},
    {"athanor_executor_plans_accepted_total", "Plans accepted for execution"},
    {"athanor_executor_plans_done_total", "Plans ended"},
    {"athanor_executor_plans_invalid_total", "Plans refused as invalid"},
    {"athanor_executor_plans_replayed_total", "Requests answered with an earlier execution's result"},
    {"athanor_executor_plans_resumed_total", "Plans resumed from the journal after a restart"},
    {"athanor_executor_plans_retried_total", "Plans run again because nothing of them was placed"},
    {"athanor_executor_plans_succeeded_total", "Plans whose every item filled"},
    {"athanor_executor_reconciliations_total", "Open orders reconciled against the broker"},
    {"athanor_executor_running_plans", "Plans executing now"},
    {"athanor_executor_stale_answers_total", "Order news ignored because it would move an item back"},
    {"athanor_executor_trading_stream_ready", "1 while the trading stream listens"},
    // Gateway.
    {"athanor_gateway_clients", "Gateway clients connected now"},
    {"athanor_gateway_clients_accepted_total", "Gateway connections admitted"},
    {"athanor_gateway_clients_refused_total", "Gateway connections refused, by limit"},
    {"athanor_gateway_failed_logins_total", "Gateway logins with wrong credentials"},
    {"athanor_gateway_login_bans_total", "Addresses banned after failed logins"},
    {"athanor_gateway_refusal_logs_suppressed_total", "Refusal log lines left out by the rate limit"},
    {"athanor_gateway_slow_clients_total", "Gateway clients closed with 407 (too slow)"},
    {"athanor_gateway_trade_listeners", "Clients listening to trade updates on /stream"},
    {"athanor_gateway_trade_updates_total", "Order updates relayed to /stream clients"},
    // Subscriber registry.
    {"athanor_registry_batches_total", "Batches fanned out"},
    {"athanor_registry_records_total", "Records fanned out"},
    {"athanor_registry_subscribers", "Subscribers of the registry"},
    {"athanor_registry_queued_bytes", "What all subscribers' queues of a registry hold, in bytes (estimated)"},
    {"athanor_registry_budget_dropped_records_total", "Records dropped because the registry's queue budget in bytes was spent"},
    {"athanor_registry_subscribers_lost_total", "Subscribers that went away"},
    // Published front.
    {"athanor_remote_attaches_total", "Remote subscribers that attached"},
    {"athanor_remote_challenges_outstanding", "Execute challenges issued and not used"},
    {"athanor_remote_plans_refused_total", "Remote plans refused (permission, certificate)"},
    {"athanor_remote_plans_total", "Remote plans passed to the executor"},
    {"athanor_remote_releases_total", "Remote subscribers released"},
    {"athanor_remote_subscribers", "Remote subscribers attached now"},
    // REST client.
    {"athanor_rest_ambiguous_posts_total", "Order POSTs whose fate was unknown"},
    {"athanor_rest_duplicate_posts_total", "Order POSTs the broker saw twice (must stay 0)"},
    {"athanor_rest_failures_total", "REST calls that failed"},
    {"athanor_rest_in_flight", "REST calls under way"},
    {"athanor_rest_operations", "REST calls by operation"},
    {"athanor_rest_orders_placed_total", "Orders placed through REST"},
    {"athanor_rest_rate_limited_total", "REST answers 429"},
    {"athanor_rest_reposts_total", "Order POSTs repeated after a lookup proved none existed"},
    {"athanor_rest_requests_total", "REST requests sent"},
    {"athanor_rest_retries_total", "REST requests retried"},
    {"athanor_rest_throttle_waits_total", "REST requests that waited for the rate limiter"},
    {"athanor_rest_window_requests", "REST requests in the limiter's minute window"},
    // Market-data stream sessions.
    {"athanor_session_ack_timeouts_total", "Subscription changes the server did not acknowledge in time"},
    {"athanor_session_breaker_refusals_total", "Connects held back by the breaker"},
    {"athanor_session_connects_total", "Connection attempts"},
    {"athanor_session_disconnects_total", "Connections ended"},
    {"athanor_session_epoch", "The session's connection epoch"},
    {"athanor_session_frames_total", "Frames received"},
    {"athanor_session_gaps_total", "Gaps announced to subscribers"},
    {"athanor_session_lag_last_seconds", "Latest record lag (receive minus record time)"},
    {"athanor_session_lag_max_seconds", "Longest record lag (receive minus record time) in the last 10 s"},
    {"athanor_session_lag_seconds", "Record lag (receive minus record time), per batch"},
    {"athanor_session_late_batches_total", "Batches behind the lag threshold"},
    {"athanor_session_malformed_frames_total", "Frames that did not decode"},
    {"athanor_session_records_per_second", "Records per second over the last five seconds"},
    {"athanor_session_records_total", "Records received"},
    {"athanor_session_refused_topics_total", "Topics the server refused"},
    {"athanor_session_rejected_records_total", "Records dropped for a bad field"},
    {"athanor_session_server_errors_total", "Error messages from the server"},
    {"athanor_session_state", "1 for the session's current state (label state), else 0"},
    {"athanor_session_subscribed_symbols", "Topics the server confirmed"},
    {"athanor_session_subscription_changes_total", "Subscription changes sent"},
    {"athanor_session_unknown_records_total", "Records of a type the engine does not know"},
    {"athanor_session_watchdog_trips_total", "Silent connections dropped by the watchdog"},
    // Subscribers.
    {"athanor_subscriber_conflated_quotes_total", "Quotes replaced by a newer one for a slow subscriber"},
    {"athanor_subscriber_delivered_records_total", "Records delivered"},
    {"athanor_subscriber_dropped_records_total", "Records dropped for a slow subscriber (announced by a gap)"},
    {"athanor_subscriber_gaps_total", "Gap markers delivered"},
    {"athanor_subscriber_in_flight", "Batches sent and not acknowledged"},
    {"athanor_subscriber_lag_last_seconds", "Latest delivery lag (record time to handed over)"},
    {"athanor_subscriber_lag_max_seconds", "Longest delivery lag in the last 10 s"},
    {"athanor_subscriber_lag_seconds", "Delivery lag (record time to handed over) of every batch to every subscriber of the registry: end-to-end latency"},
    {"athanor_subscriber_late_batches_total", "Batches behind the lag threshold"},
    {"athanor_subscriber_queued_records", "Records waiting for the subscriber"},
    {"athanor_subscriber_records_per_second", "Records per second over the last five seconds"},
    // Supervisors.
    {"athanor_supervisor_child_running", "1 while the child runs"},
    {"athanor_supervisor_restarts_in_window", "Restarts within the intensity window"},
    {"athanor_supervisor_restarts_total", "Child restarts"},
    // Trading stream.
    {"athanor_trading_stream_breaker_refusals_total", "Trading stream connects held back by its breaker"},
    {"athanor_trading_stream_connects_total", "Trading stream connection attempts"},
    {"athanor_trading_stream_disconnects_total", "Trading stream connections ended"},
    {"athanor_trading_stream_frames_total", "Trading stream frames received"},
    {"athanor_trading_stream_malformed_frames_total", "Trading stream frames that did not decode"},
    {"athanor_trading_stream_ready", "1 while the trading stream listens"},
    {"athanor_trading_stream_server_errors_total", "Trading stream error messages"},
    {"athanor_trading_stream_updates_total", "Order updates received"},
  };
  return help;
}

} // namespace

const char* metric_help(const std::string& family) {
  auto i = table().find(family);
  return i == table().end() ? nullptr : i->second;
}

} // namespace athanor
