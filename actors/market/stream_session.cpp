#include "actors/market/stream_session.hpp"

#include <algorithm>
#include <optional>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "actors/market/connection_lifecycle.hpp"
#include "actors/market/session_host.hpp"
#include "actors/market/lag_meter.hpp"
#include "observability/latency_histogram.hpp"
#include "actors/market/rate_meter.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"
#include "protocol/market_dialect.hpp"

namespace athanor {

namespace {

using std::chrono::nanoseconds;

double to_ms(nanoseconds x) {
  return static_cast<double>(x.count()) / 1e6;
}

bool watches_liveness(const subscription_set& confirmed) {
  return !confirmed[channel::trades].empty()
         || !confirmed[channel::quotes].empty();
}

// How a connection ended, as the session acts on it.
struct ending : connection_ending {
  /// Data may be lost for this reason; none when the loss is not ours to
  /// report (e.g. the connection never streamed).
  gap_reason gap = gap_reason::reconnect;
};

ending ending_of_link(const link_closed& x) {
  ending result;
  static_cast<connection_ending&>(result) = ending_of(x);
  return result;
}

struct session_state_data {
  stream_session_config cfg;
  std::unique_ptr<protocol::market_dialect> dialect;
  std::unique_ptr<lag_meter> lag;
  /// Every batch's lag, for the athanor_session_lag_seconds histogram.
  latency_histogram lag_histogram;
  rate_meter record_rate;
  protocol::subscription_tracker tracker;
  std::vector<session_listener_actor> listeners;
  session_counters counters;
  /// Invalidates watchdog timers.
  uint64_t watchdog_generation = 0;
  bool watchdog_armed = false;
  uint32_t silence_streak = 0;
  caf::actor_clock::time_point last_live;
  /// Receive time of the last data delivered (wall clock, for gaps).
  timestamp_ns last_data_at = 0;
  /// The epoch whose loss was already reported with a gap.
  uint64_t gap_reported_for = 0;
  static inline const char* name = "athanor.stream_session";
};

using session_pointer = session_actor::stateful_pointer<session_state_data>;

lifecycle_config lifecycle_of(const stream_session_config& cfg) {
  auto result = lifecycle_basics("stream_session", cfg);
  // Epochs never repeat across restarts: the high half counts incarnations.
  result.first_epoch = uint64_t{cfg.incarnation} << 32;
  return result;
}

class session_logic : public session_host<session_logic, session_pointer> {
 public:
  explicit session_logic(session_pointer self)
    : session_host(self), life_(lifecycle_of(self->state.cfg), *this) {}

  connection_lifecycle& lifecycle() {
    return life_;
  }

  session_state_data& st() {
    return self_->state;
  }

  const session_status& status() const {
    return life_.status();
  }

  // -- lifecycle_host: the link --------------------------------------------

  std::unique_ptr<link> make_link(uint64_t epoch) override {
    link_request req;
    req.url = st().cfg.url;
    req.encoding = st().cfg.encoding;
    req.epoch = epoch;
    req.session = caf::actor_cast<caf::actor>(self_);
    return st().cfg.links->open(std::move(req));
  }

  // -- attempts ---------------------------------------------------------------

  void start() {
    if (st().cfg.incarnation > 0)
      report_gap(gap_reason::restart);
    life_.begin_attempt();
  }

  // -- link events ------------------------------------------------------------

  void on_frame(link_frame& frame) {
    if (frame.epoch != status().epoch || !life_.current())
      return;
    auto& c = st().counters;
    ++c.frames;
    if (!frame.malformed.empty()) {
      ++c.malformed_frames;
      log::warn("stream_session", "malformed_frame", life_.attempt_trace(),
                {{"endpoint", st().cfg.url},
                 {"epoch", frame.epoch},
                 {"problem", frame.malformed}});
    }
    if (!frame.rejected.empty()) {
      c.rejected_records += frame.rejected.size();
      log::warn("stream_session", "rejected_records", life_.attempt_trace(),
                {{"endpoint", st().cfg.url},
                 {"count", frame.rejected.size()},
                 {"first", frame.rejected.front()}});
    }
    c.unknown_records += frame.unknown_types;
    // A frame's data goes out before its controls act: a 407 or an error
    // that ends the connection does not make earlier records invalid.
    bool credit_with_sink = !frame.data.empty() && deliver(frame.data);
    for (auto& control : frame.controls) {
      if (frame.epoch != status().epoch || !life_.current())
        break;
      on_control(control);
    }
    if (!credit_with_sink)
      credit(frame.epoch);
  }

  // Gives the link back a frame's credit: it reads no further while too
  // many frames are out.
  void credit(uint64_t epoch) {
    if (life_.current() && epoch == status().epoch)
      life_.current()->ack(1);
  }

  // Hands the data to the sink as a request: the frame's credit returns when
  // the registry has routed it, so a registry behind on its fan-out stops
  // the socket being read (the server then holds the data, or says 407)
  // instead of its mailbox growing without bound. Returns whether it did.
  bool deliver(batch& data) {
    auto state = status().state;
    if (state != session_state::subscribing
        && state != session_state::streaming)
      return false;
    st().counters.records += data.size();
    st().record_rate.record(now(), data.size());
    data.epoch = status().epoch;
    if (auto lag = feed_lag_ns(data); lag > 0)
      note_lag(nanoseconds{lag});
    st().last_data_at = data.received_at;
    if (!data.quotes.empty() || !data.trades.empty()) {
      st().last_live = now();
      st().silence_streak = 0;
    }
    auto keep = shared_from_this();
    auto epoch = status().epoch;
    self_->request(st().cfg.sink, caf::infinite, std::move(data))
      .then([this, keep, epoch]() { credit(epoch); },
            [this, keep, epoch](caf::error&) { credit(epoch); });
    return true;
  }

  void note_lag(nanoseconds lag) {
    st().lag_histogram.observe(lag);
    switch (st().lag->record(now(), lag)) {
      case lag_meter::change::above:
        log::write(log::level::warn, "stream_session", "lag_high",
                   &life_.attempt_trace(),
                   {{"endpoint", st().cfg.url},
                    {"lag_ms", to_ms(lag)},
                    {"threshold_ms", to_ms(st().cfg.lag_threshold)}});
        break;
      case lag_meter::change::below:
        log::write(log::level::info, "stream_session", "lag_normal",
                   &life_.attempt_trace(),
                   {{"endpoint", st().cfg.url}, {"lag_ms", to_ms(lag)}});
        break;
      case lag_meter::change::none:
        break;
    }
  }

  void on_control(const stream_control& control) {
    auto ev = st().dialect->interpret(control);
    switch (ev.kind) {
      case protocol::dialect_event::welcome:
        if (status().state != session_state::connecting)
          return;
        life_.current()->send(st().dialect->auth(st().cfg.creds));
        life_.set_state(session_state::authenticating, life_.attempt_trace());
        life_.arm_stage(st().cfg.auth_timeout);
        return;
      case protocol::dialect_event::authenticated:
        if (status().state != session_state::authenticating)
          return;
        on_authenticated();
        return;
      case protocol::dialect_event::subscribed:
        on_subscribed(control.subscriptions);
        return;
      case protocol::dialect_event::subscription_refused:
        if (st().tracker.in_flight()) {
          on_refused(ev);
          return;
        }
        break;
      case protocol::dialect_event::ignored:
        return;
      default:
        break;
    }
    ++st().counters.server_errors;
    ending end;
    end.errc = ev.errc;
    end.detail = std::to_string(ev.code) + " " + ev.message;
    end.long_wait = ev.kind == protocol::dialect_event::connection_limit;
    if (ev.kind == protocol::dialect_event::slow_client) {
      report_gap(gap_reason::upstream_slow_client);
      end.gap = gap_reason::upstream_slow_client;
    }
    connection_ended(end);
  }

  void on_authenticated() {
    life_.on_ready();
    ++st().counters.connects;
    if (st().tracker.desired().empty()) {
      enter_streaming();
      return;
    }
    life_.set_state(session_state::subscribing, life_.attempt_trace());
    push_change();
  }

  void on_subscribed(const subscription_set& server_set) {
    st().tracker.on_ack(server_set);
    log::info("stream_session", "subscribed", life_.attempt_trace(),
              {{"endpoint", st().cfg.url},
               {"symbols", protocol::count(st().tracker.confirmed())},
               {"settled", st().tracker.settled()}});
    if (status().state == session_state::subscribing)
      enter_streaming();
    else
      life_.invalidate_timers(); // The ack timer is done.
    // The watchdog watches what the server confirmed: a topic it refused
    // sends nothing, and that silence is not the stream's.
    arm_watchdog();
    push_change();
  }

  // One consumer's bad topic must not silence the others: the tracker
  // splits the refused change until it finds the topics the server refuses
  // alone; their subscribers are told with a gap of reason `refused`.
  void on_refused(const protocol::dialect_event& ev) {
    auto refused = st().tracker.on_refused();
    auto err = make_error(ev.errc, std::to_string(ev.code) + " " + ev.message);
    life_.note_error(err);
    log::write(refused.empty() ? log::level::warn : log::level::error,
               "stream_session",
               refused.empty() ? "subscription_refused" : "topics_refused",
               &life_.attempt_trace(),
               {{"endpoint", st().cfg.url},
                {"code", ev.code},
                {"message", ev.message},
                {"topics", refused.size()},
                {"first", refused.empty() ? "" : to_string(refused.front())}});
    if (!refused.empty()) {
      ++st().counters.refused_topics;
      gap msg;
      msg.reason = gap_reason::refused;
      msg.topics = std::move(refused);
      msg.since = st().last_data_at;
      msg.epoch = status().epoch;
      self_->send(st().cfg.sink, std::move(msg));
    }
    if (status().state == session_state::subscribing)
      enter_streaming();
    else
      life_.invalidate_timers();
    push_change();
  }

  void enter_streaming() {
    life_.set_state(session_state::streaming, life_.attempt_trace());
    st().last_live = now();
    arm_watchdog();
  }

  // Sends the next subscription change if the connection is ready for one.
  void push_change() {
    auto state = status().state;
    if (state != session_state::subscribing
        && state != session_state::streaming)
      return;
    auto change = st().tracker.next_change();
    if (!change)
      return;
    ++st().counters.subscription_changes;
    log::info("stream_session", change->subscribe ? "subscribe" : "unsubscribe",
              life_.attempt_trace(),
              {{"endpoint", st().cfg.url},
               {"symbols", protocol::count(change->symbols)}});
    life_.current()->send(st().dialect->encode(*change));
    life_.invalidate_timers();
    life_.arm_stage(st().cfg.ack_timeout);
  }

  void on_closed(const link_closed& closed) {
    if (closed.epoch != status().epoch || !life_.current()) {
      life_.current().closed(closed.epoch);
      return;
    }
    if (status().state == session_state::stopped) {
      self_->quit();
      return;
    }
    connection_ended(ending_of_link(closed));
  }

  // -- endings ----------------------------------------------------------------

  void report_gap(gap_reason reason) {
    if (st().gap_reported_for == status().epoch && status().epoch > 0
        && reason != gap_reason::restart)
      return;
    st().gap_reported_for = status().epoch;
    ++st().counters.gaps;
    gap msg;
    msg.reason = reason;
    msg.since = st().last_data_at;
    msg.epoch = status().epoch;
    log::warn("stream_session", "gap", life_.attempt_trace(),
              {{"endpoint", st().cfg.url},
               {"reason", to_string(reason)},
               {"epoch", msg.epoch}});
    self_->send(st().cfg.sink, std::move(msg));
  }

  void connection_ended(const ending& end) {
    ++st().counters.disconnects;
    st().tracker.on_disconnect();
    st().watchdog_armed = false;
    ++st().watchdog_generation;
    if (life_.ready())
      report_gap(end.gap);
    life_.end(end);
  }

  void on_retry(uint64_t generation) {
    life_.on_retry(generation);
  }

  void on_timeout(uint64_t generation) {
    if (generation != life_.generation())
      return;
    ending end;
    switch (status().state) {
      case session_state::connecting:
        end.errc = engine_errc::request_timeout;
        end.detail = "no welcome within the connect timeout";
        break;
      case session_state::authenticating:
        end.errc = engine_errc::auth_timeout;
        end.detail = "no authentication result within the auth timeout";
        break;
      case session_state::subscribing:
      case session_state::streaming:
        if (!st().tracker.in_flight())
          return;
        ++st().counters.ack_timeouts;
        st().tracker.on_timeout();
        // The server no longer answers control messages: start over, which
        // also re-sends the whole set.
        end.errc = engine_errc::request_timeout;
        end.detail = "no subscription ack within the ack timeout";
        break;
      case session_state::stopped:
        self_->quit();
        return;
      default:
        return;
    }
    connection_ended(end);
  }

  // -- liveness ---------------------------------------------------------------

  caf::timespan silence_threshold() const {
    auto factor = 1u << std::min(self_->state.silence_streak, 3u);
    return self_->state.cfg.silence_timeout * factor;
  }

  void arm_watchdog() {
    if (st().watchdog_armed || st().cfg.silence_timeout.count() == 0
        || status().state != session_state::streaming
        || !watches_liveness(st().tracker.confirmed()))
      return;
    st().watchdog_armed = true;
    self_->delayed_send(self_, silence_threshold(), watchdog_atom::value,
                        ++st().watchdog_generation);
  }

  void on_watchdog(uint64_t generation) {
    if (generation != st().watchdog_generation)
      return;
    st().watchdog_armed = false;
    if (status().state != session_state::streaming
        || !watches_liveness(st().tracker.confirmed()))
      return;
    auto silent = now() - st().last_live;
    auto threshold = silence_threshold();
    if (silent < threshold) {
      st().watchdog_armed = true;
      self_->delayed_send(self_, threshold - silent, watchdog_atom::value,
                          ++st().watchdog_generation);
      return;
    }
    ++st().counters.watchdog_trips;
    ++st().silence_streak;
    report_gap(gap_reason::silent_stream);
    ending end;
    end.errc = engine_errc::stream_silent;
    end.detail = "no quote or trade for "
                 + std::to_string(static_cast<int64_t>(to_ms(silent)))
                 + " ms";
    end.gap = gap_reason::silent_stream;
    connection_ended(end);
  }

  // -- commands ---------------------------------------------------------------

  void on_desire(subscription_set& desired, const trace& cause) {
    if (!st().tracker.set_desired(std::move(desired)))
      return;
    log::info("stream_session", "desired_set", cause,
              {{"endpoint", st().cfg.url},
               {"symbols", protocol::count(st().tracker.desired())}});
    push_change();
    arm_watchdog();
  }

  void on_shutdown() {
    if (status().state == session_state::stopped)
      return;
    if (!life_.stop(st().cfg.close_timeout))
      self_->quit();
  }

  session_snapshot snapshot() {
    session_snapshot result;
    result.status = status();
    result.desired = st().tracker.desired();
    result.confirmed = st().tracker.confirmed();
    result.change_pending = st().tracker.in_flight();
    result.backoff_attempts = life_.backoff().attempts();
    result.counters = st().counters;
    return result;
  }

  metric_samples metrics() {
    metric_samples result;
    std::map<std::string, std::string> labels{
      {"endpoint", st().cfg.url}, {"key", st().cfg.creds.fingerprint()}};
    for (auto x : {session_state::idle, session_state::connecting,
                   session_state::authenticating, session_state::subscribing,
                   session_state::streaming, session_state::backing_off,
                   session_state::failed, session_state::stopped}) {
      auto with_state = labels;
      with_state["state"] = to_string(x);
      result.push_back({"athanor_session_state", metric_kind::gauge,
                        std::move(with_state),
                        status().state == x ? 1.0 : 0.0});
    }
    auto counter = [&](const char* name, uint64_t value) {
      result.push_back(
        {name, metric_kind::counter, labels, static_cast<double>(value)});
    };
    auto& c = st().counters;
    counter("athanor_session_connects_total", c.connects);
    counter("athanor_session_disconnects_total", c.disconnects);
    counter("athanor_session_frames_total", c.frames);
    counter("athanor_session_records_total", c.records);
    counter("athanor_session_malformed_frames_total", c.malformed_frames);
    counter("athanor_session_rejected_records_total", c.rejected_records);
    counter("athanor_session_unknown_records_total", c.unknown_records);
    counter("athanor_session_server_errors_total", c.server_errors);
    counter("athanor_session_subscription_changes_total",
            c.subscription_changes);
    counter("athanor_session_ack_timeouts_total", c.ack_timeouts);
    counter("athanor_session_refused_topics_total", c.refused_topics);
    counter("athanor_session_watchdog_trips_total", c.watchdog_trips);
    counter("athanor_session_gaps_total", c.gaps);
    counter("athanor_session_breaker_refusals_total", c.breaker_refusals);
    result.push_back({"athanor_session_epoch", metric_kind::gauge, labels,
                      static_cast<double>(status().epoch)});
    result.push_back({"athanor_session_lag_last_seconds", metric_kind::gauge,
                      labels, st().lag->last_seconds()});
    result.push_back({"athanor_session_lag_max_seconds", metric_kind::gauge,
                      labels, st().lag->max_seconds()});
    st().lag_histogram.append_to(result, "athanor_session_lag_seconds", labels);
    counter("athanor_session_late_batches_total", st().lag->late());
    result.push_back({"athanor_session_records_per_second", metric_kind::gauge,
                      labels, st().record_rate.per_second(now())});
    result.push_back({"athanor_session_subscribed_symbols", metric_kind::gauge,
                      labels,
                      static_cast<double>(
                        protocol::count(st().tracker.confirmed()))});
    return result;
  }

 private:
  connection_lifecycle life_;
};

session_actor::behavior_type session_impl(session_pointer self,
                                          stream_session_config cfg) {
  self->set_exception_handler(exception_to_exit_reason);
  auto& st = self->state;
  st.dialect = std::make_unique<protocol::market_dialect>(cfg.encoding);
  st.lag = std::make_unique<lag_meter>(cfg.lag_threshold);
  st.cfg = std::move(cfg);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& xs = self->state.listeners;
    xs.erase(std::remove_if(xs.begin(), xs.end(),
                            [&](auto& x) { return x.address() == msg.source; }),
             xs.end());
  });
  // The logic object lives as long as the behavior that captures it.
  auto logic = std::make_shared<session_logic>(self);
  logic->start();
  return {
    [logic](desire_atom, subscription_set& desired, const trace& cause) {
      logic->on_desire(desired, cause);
    },
    [logic](link_opened&) {
      // The welcome message, not the upgrade, moves the session on.
    },
    [logic](link_frame& frame) { logic->on_frame(frame); },
    [logic](link_closed& closed) { logic->on_closed(closed); },
    [logic](caf::get_atom) { return logic->snapshot(); },
    [logic](metrics_atom) { return logic->metrics(); },
    [self, logic](listen_atom, session_listener_actor& listener) {
      self->monitor(listener);
      self->send(listener, logic->status());
      self->state.listeners.push_back(std::move(listener));
    },
    [logic](shutdown_atom) { logic->on_shutdown(); },
    [logic](retry_atom, uint64_t generation) { logic->on_retry(generation); },
    [logic](timeout_atom, uint64_t generation) {
      logic->on_timeout(generation);
    },
    [logic](watchdog_atom, uint64_t generation) {
      logic->on_watchdog(generation);
    },
  };
}

} // namespace

std::vector<config_problem> validate(const stream_session_config& cfg,
                                     const std::string& prefix) {
  auto problems = validate(cfg.backoff, prefix + "backoff.");
  auto add = [&](const char* option, std::string message) {
    problems.push_back({prefix + option, std::move(message)});
  };
  if (cfg.url.rfind("ws://", 0) != 0 && cfg.url.rfind("wss://", 0) != 0)
    add("url", "must start with ws:// or wss:// (got '" + cfg.url + "')");
  if (cfg.creds.empty())
    add("credentials", "key and secret are required");
  auto positive = [&](const char* option, caf::timespan x) {
    if (x.count() <= 0)
      add(option, "must be positive");
  };
  positive("limit-backoff", cfg.limit_backoff);
  if (cfg.limit_backoff_max < cfg.limit_backoff)
    add("limit-backoff-max", "must be at least limit-backoff");
  positive("connect-timeout", cfg.connect_timeout);
  positive("auth-timeout", cfg.auth_timeout);
  positive("ack-timeout", cfg.ack_timeout);
  positive("breaker-timeout", cfg.breaker_timeout);
  positive("close-timeout", cfg.close_timeout);
  if (cfg.silence_timeout.count() < 0)
    add("silence-timeout", "must not be negative (0 turns it off)");
  return problems;
}

caf::expected<session_actor> spawn_stream_session(caf::actor_system& sys,
                                                  stream_session_config cfg) {
  if (auto problems = validate(cfg); !problems.empty())
    return make_error(engine_errc::invalid_config, to_string(problems));
  if (!cfg.links || !cfg.sink)
    return make_error(engine_errc::invalid_config,
                      "a stream session needs a link factory and a sink");
  return sys.spawn(session_impl, std::move(cfg));
}

} // namespace athanor
