#include "actors/trading/trading_session.hpp"

#include <algorithm>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"
#include "protocol/trading.hpp"

namespace athanor {

namespace {

struct trading_counters {
  uint64_t connects = 0;
  uint64_t disconnects = 0;
  uint64_t frames = 0;
  uint64_t updates = 0;
  uint64_t malformed_frames = 0;
  uint64_t server_errors = 0;
};

struct trading_state {
  trading_session_config cfg;
  std::unique_ptr<backoff_policy> backoff;
  link_slot current;
  std::vector<order_listener_actor> listeners;
  session_status status;
  trading_counters counters;
  trace root = trace::root();
  trace attempt;
  /// Invalidates stage timers.
  uint64_t generation = 0;
  caf::actor_clock::time_point ready_at;
  static inline const char* name = "athanor.trading_session";
};

using trading_pointer = trading_session_actor::stateful_pointer<trading_state>;

// Whether a link end means "stop trying until a human looks".
std::optional<engine_errc> fatal_end(const link_closed& x) {
  switch (x.reason) {
    case link_end::bad_url: return engine_errc::invalid_config;
    case link_end::certificate_invalid: return engine_errc::certificate_invalid;
    case link_end::upgrade_rejected:
      if (x.http_status >= 400 && x.http_status < 500 && x.http_status != 429)
        return engine_errc::upgrade_rejected;
      return std::nullopt;
    default: return std::nullopt;
  }
}

class trading_logic : public std::enable_shared_from_this<trading_logic> {
 public:
  explicit trading_logic(trading_pointer self) : self_(self) {}

  trading_state& st() {
    return self_->state;
  }

  void set_state(session_state to, const caf::error* err = nullptr) {
    auto from = st().status.state;
    if (from == to && err == nullptr)
      return;
    ++st().generation;
    st().status.state = to;
    if (err != nullptr) {
      st().status.last_error = render(*err);
      auto code = errc_of(*err);
      st().status.last_errc = code ? to_string(*code) : "";
    }
    auto lvl = to == session_state::failed        ? log::level::error
               : to == session_state::backing_off ? log::level::warn
                                                  : log::level::info;
    if (err != nullptr)
      log::write(lvl, "trading_session", "state_change", &st().attempt,
                 {{"endpoint", st().cfg.url},
                  {"key", st().cfg.creds.fingerprint()},
                  {"from", to_string(from)},
                  {"to", to_string(to)},
                  {"epoch", st().status.epoch},
                  {"error", st().status.last_error}});
    else
      log::write(lvl, "trading_session", "state_change", &st().attempt,
                 {{"endpoint", st().cfg.url},
                  {"key", st().cfg.creds.fingerprint()},
                  {"from", to_string(from)},
                  {"to", to_string(to)},
                  {"epoch", st().status.epoch}});
    for (auto& listener : st().listeners)
      self_->send(listener, st().status);
  }

  void arm_timer(caf::timespan after) {
    self_->delayed_send(self_, after, timeout_atom::value, st().generation);
  }

  // -- connecting -------------------------------------------------------------

  void attempt() {
    st().attempt = st().root.caused();
    ++st().status.epoch;
    set_state(session_state::connecting);
    arm_timer(st().cfg.connect_timeout);
    link_request req;
    req.url = st().cfg.url;
    req.encoding = protocol::codec::json;
    req.epoch = st().status.epoch;
    req.trading = true;
    req.session = caf::actor_cast<caf::actor>(self_);
    st().current.open(st().cfg.links->open(std::move(req)),
                      st().status.epoch);
  }

  void on_opened(const link_opened& x) {
    if (x.epoch != st().status.epoch || !st().current
        || st().status.state != session_state::connecting)
      return;
    ++st().counters.connects;
    set_state(session_state::authenticating);
    arm_timer(st().cfg.auth_timeout);
    st().current->send(protocol::encode_authenticate(st().cfg.creds));
  }

  void on_frame(trading_frame& frame) {
    if (frame.epoch != st().status.epoch || !st().current)
      return;
    st().current->ack(1);
    ++st().counters.frames;
    protocol::trading_message msg;
    protocol::decode_problem problem;
    if (!protocol::decode_trading_message(frame.text, msg, problem)) {
      ++st().counters.malformed_frames;
      log::write(log::level::warn, "trading_session", "malformed_frame",
                 &st().attempt, {{"problem", to_string(problem)}});
      return;
    }
    switch (msg.kind) {
      case protocol::trading_message::authorization:
        return on_authorization(msg);
      case protocol::trading_message::listening:
        return on_listening(msg);
      case protocol::trading_message::trade_update:
        return deliver(msg.update);
      case protocol::trading_message::error:
        ++st().counters.server_errors;
        return connection_ended(
          make_error(engine_errc::server_error, msg.error_message));
      case protocol::trading_message::other:
        return;
    }
  }

  void on_authorization(const protocol::trading_message& msg) {
    if (st().status.state != session_state::authenticating)
      return;
    if (!msg.authorized) {
      // A wrong key does not become right by retrying.
      st().current.close_current();
      auto err = make_error(engine_errc::auth_failed,
                            "the trading stream refused the key");
      set_state(session_state::failed, &err);
      return;
    }
    set_state(session_state::subscribing);
    arm_timer(st().cfg.auth_timeout);
    st().current->send(protocol::encode_listen({"trade_updates"}));
  }

  void on_listening(const protocol::trading_message& msg) {
    if (st().status.state != session_state::subscribing)
      return;
    auto& xs = msg.streams;
    if (std::find(xs.begin(), xs.end(), "trade_updates") == xs.end()) {
      connection_ended(make_error(engine_errc::invalid_subscription,
                                  "trade_updates not confirmed"));
      return;
    }
    st().ready_at = self_->clock().now();
    set_state(session_state::streaming);
  }

  void deliver(const order_update& update) {
    ++st().counters.updates;
    log::write(log::level::debug, "trading_session", "order_update",
               &st().attempt,
               {{"event", to_string(update.event)},
                {"client_order_id", update.subject.client_order_id},
                {"order_id", update.subject.id}});
    for (auto& listener : st().listeners)
      self_->send(listener, update);
  }

  // -- ending -----------------------------------------------------------------

  void on_closed(const link_closed& x) {
    if (x.epoch != st().status.epoch || !st().current) {
      st().current.closed(x.epoch);
      return;
    }
    st().current.drop_current();
    if (st().status.state == session_state::stopped) {
      self_->quit();
      return;
    }
    auto detail = to_string(x.reason)
                  + (x.http_status != 0
                       ? " (HTTP " + std::to_string(x.http_status) + ")"
                       : "")
                  + (x.detail.empty() ? "" : ": " + x.detail);
    if (auto fatal = fatal_end(x)) {
      auto err = make_error(*fatal, detail);
      set_state(session_state::failed, &err);
      return;
    }
    connection_ended(make_error(engine_errc::connection_lost, detail));
  }

  void connection_ended(const caf::error& err) {
    if (st().status.state == session_state::streaming) {
      ++st().counters.disconnects;
      st().backoff->note_run(self_->clock().now() - st().ready_at);
    }
    st().current.close_current();
    set_state(session_state::backing_off, &err);
    self_->delayed_send(self_, st().backoff->next_delay(), retry_atom::value,
                        st().generation);
  }

  void on_retry(uint64_t generation) {
    if (generation == st().generation
        && st().status.state == session_state::backing_off)
      attempt();
  }

  void on_timeout(uint64_t generation) {
    if (generation != st().generation)
      return;
    switch (st().status.state) {
      case session_state::connecting:
      case session_state::authenticating:
      case session_state::subscribing:
        connection_ended(make_error(engine_errc::request_timeout,
                                    "no answer in "
                                      + to_string(st().status.state)));
        return;
      case session_state::stopped:
        st().current.drop_current();
        self_->quit();
        return;
      default:
        return;
    }
  }

  void on_shutdown() {
    set_state(session_state::stopped);
    if (!st().current) {
      self_->quit();
      return;
    }
    st().current->close();
    arm_timer(st().cfg.close_timeout);
  }

  metric_samples metrics() {
    std::map<std::string, std::string> labels{
      {"endpoint", st().cfg.url}, {"key", st().cfg.creds.fingerprint()}};
    metric_samples result;
    result.push_back({"athanor_trading_stream_ready", metric_kind::gauge,
                      labels,
                      st().status.state == session_state::streaming ? 1.0
                                                                    : 0.0});
    auto counter = [&](const char* name, uint64_t value) {
      result.push_back(
        {name, metric_kind::counter, labels, static_cast<double>(value)});
    };
    auto& c = st().counters;
    counter("athanor_trading_stream_connects_total", c.connects);
    counter("athanor_trading_stream_disconnects_total", c.disconnects);
    counter("athanor_trading_stream_frames_total", c.frames);
    counter("athanor_trading_stream_updates_total", c.updates);
    counter("athanor_trading_stream_malformed_frames_total",
            c.malformed_frames);
    counter("athanor_trading_stream_server_errors_total", c.server_errors);
    return result;
  }

 private:
  trading_pointer self_;
};

trading_session_actor::behavior_type
trading_impl(trading_pointer self, trading_session_config cfg) {
  self->set_exception_handler(exception_to_exit_reason);
  auto& st = self->state;
  st.backoff = std::make_unique<backoff_policy>(cfg.backoff);
  st.status.endpoint = cfg.url;
  st.status.fingerprint = cfg.creds.fingerprint();
  st.cfg = std::move(cfg);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& xs = self->state.listeners;
    xs.erase(std::remove_if(xs.begin(), xs.end(),
                            [&](auto& x) { return x.address() == msg.source; }),
             xs.end());
  });
  auto logic = std::make_shared<trading_logic>(self);
  logic->attempt();
  return {
    [logic](link_opened& x) { logic->on_opened(x); },
    [logic](trading_frame& x) { logic->on_frame(x); },
    [logic](link_closed& x) { logic->on_closed(x); },
    [self](listen_atom, order_listener_actor& listener) {
      self->monitor(listener);
      self->send(listener, self->state.status);
      self->state.listeners.push_back(std::move(listener));
    },
    [self](caf::get_atom) { return self->state.status; },
    [logic](metrics_atom) { return logic->metrics(); },
    [logic](shutdown_atom) { logic->on_shutdown(); },
    [logic](retry_atom, uint64_t generation) { logic->on_retry(generation); },
    [logic](timeout_atom, uint64_t generation) {
      logic->on_timeout(generation);
    },
  };
}

} // namespace

std::vector<config_problem> validate(const trading_session_config& cfg,
                                     const std::string& prefix) {
  auto problems = validate(cfg.backoff, prefix + "backoff.");
  auto add = [&](const char* option, std::string message) {
    problems.push_back({prefix + option, std::move(message)});
  };
  if (cfg.url.rfind("ws://", 0) != 0 && cfg.url.rfind("wss://", 0) != 0)
    add("url", "must start with ws:// or wss:// (got '" + cfg.url + "')");
  if (cfg.creds.key_id.empty() || cfg.creds.secret_key.empty())
    add("credentials", "key and secret are required");
  for (auto [option, x] : {std::pair{"connect-timeout", cfg.connect_timeout},
                           std::pair{"auth-timeout", cfg.auth_timeout},
                           std::pair{"close-timeout", cfg.close_timeout}})
    if (x.count() <= 0)
      add(option, "must be positive");
  return problems;
}

caf::expected<trading_session_actor>
spawn_trading_session(caf::actor_system& sys, trading_session_config cfg) {
  if (auto problems = validate(cfg); !problems.empty())
    return make_error(engine_errc::invalid_config, to_string(problems));
  if (!cfg.links)
    return make_error(engine_errc::invalid_config,
                      "a trading session needs a link factory");
  return sys.spawn(trading_impl, std::move(cfg));
}

std::string trading_stream_url(const std::string& rest_base_url) {
  std::string rest = rest_base_url;
  std::string scheme;
  if (rest.rfind("https://", 0) == 0) {
    scheme = "wss://";
    rest = rest.substr(8);
  } else if (rest.rfind("http://", 0) == 0) {
    scheme = "ws://";
    rest = rest.substr(7);
  } else {
    return rest_base_url;
  }
  while (!rest.empty() && rest.back() == '/')
    rest.pop_back();
  return scheme + rest + "/stream";
}

} // namespace athanor
