#include "actors/trading/trading_session.hpp"

#include <algorithm>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "actors/market/connection_lifecycle.hpp"
#include "actors/market/session_host.hpp"
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
  uint64_t breaker_refusals = 0;
};

struct trading_state {
  trading_session_config cfg;
  std::vector<order_listener_actor> listeners;
  trading_counters counters;
  static inline const char* name = "athanor.trading_session";
};

using trading_pointer = trading_session_actor::stateful_pointer<trading_state>;

lifecycle_config lifecycle_of(const trading_session_config& cfg) {
  return lifecycle_basics("trading_session", cfg);
}

class trading_logic : public session_host<trading_logic, trading_pointer> {
 public:
  explicit trading_logic(trading_pointer self)
    : session_host(self), life_(lifecycle_of(self->state.cfg), *this) {}

  connection_lifecycle& lifecycle() {
    return life_;
  }

  trading_state& st() {
    return self_->state;
  }

  const session_status& status() const {
    return life_.status();
  }

  void start() {
    life_.begin_attempt();
  }

  // -- lifecycle_host: the link --------------------------------------------

  std::unique_ptr<link> make_link(uint64_t epoch) override {
    link_request req;
    req.url = st().cfg.url;
    req.encoding = protocol::codec::json;
    req.epoch = epoch;
    req.trading = true;
    req.session = caf::actor_cast<caf::actor>(self_);
    return st().cfg.links->open(std::move(req));
  }

  // -- the protocol -----------------------------------------------------------

  void on_opened(const link_opened& x) {
    if (!life_.is_current(x.epoch)
        || status().state != session_state::connecting)
      return;
    ++st().counters.connects;
    life_.set_state(session_state::authenticating, life_.attempt_trace());
    life_.arm_stage(st().cfg.auth_timeout);
    life_.current()->send(protocol::encode_authenticate(st().cfg.creds));
  }

  void on_frame(trading_frame& frame) {
    if (!life_.is_current(frame.epoch))
      return;
    life_.current()->ack(1);
    ++st().counters.frames;
    protocol::trading_message msg;
    protocol::decode_problem problem;
    if (!protocol::decode_trading_message(frame.text, msg, problem)) {
      ++st().counters.malformed_frames;
      log::write(log::level::warn, "trading_session", "malformed_frame",
                 &life_.attempt_trace(), {{"problem", to_string(problem)}});
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
    if (status().state != session_state::authenticating)
      return;
    if (!msg.authorized) {
      // A wrong key does not become right by retrying.
      connection_ending refused;
      refused.errc = engine_errc::auth_failed;
      refused.detail = "the trading stream refused the key";
      life_.end(refused);
      return;
    }
    life_.set_state(session_state::subscribing, life_.attempt_trace());
    life_.arm_stage(st().cfg.auth_timeout);
    life_.current()->send(protocol::encode_listen({"trade_updates"}));
  }

  void on_listening(const protocol::trading_message& msg) {
    if (status().state != session_state::subscribing)
      return;
    auto& xs = msg.streams;
    if (std::find(xs.begin(), xs.end(), "trade_updates") == xs.end()) {
      connection_ended(make_error(engine_errc::invalid_subscription,
                                  "trade_updates not confirmed"));
      return;
    }
    life_.on_ready();
    life_.set_state(session_state::streaming, life_.attempt_trace());
  }

  void deliver(const order_update& update) {
    ++st().counters.updates;
    log::write(log::level::debug, "trading_session", "order_update",
               &life_.attempt_trace(),
               {{"event", to_string(update.event)},
                {"client_order_id", update.subject.client_order_id},
                {"order_id", update.subject.id}});
    for (auto& listener : st().listeners)
      self_->send(listener, update);
  }

  // -- ending -----------------------------------------------------------------

  void on_closed(const link_closed& x) {
    if (!life_.is_current(x.epoch)) {
      life_.current().closed(x.epoch);
      return;
    }
    if (status().state == session_state::stopped) {
      life_.current().drop_current();
      self_->quit();
      return;
    }
    auto end = ending_of(x);
    if (x.http_status != 0 && x.reason != link_end::upgrade_rejected)
      end.detail += " (HTTP " + std::to_string(x.http_status) + ")";
    if (life_.ready())
      ++st().counters.disconnects;
    life_.end(end);
  }

  void connection_ended(const caf::error& err) {
    connection_ending end;
    end.errc = errc_of(err).value_or(engine_errc::connection_lost);
    end.detail = detail_of(err);
    if (life_.ready())
      ++st().counters.disconnects;
    life_.end(end);
  }

  void on_retry(uint64_t generation) {
    life_.on_retry(generation);
  }

  void on_timeout(uint64_t generation) {
    if (generation != life_.generation())
      return;
    switch (status().state) {
      case session_state::connecting:
      case session_state::authenticating:
      case session_state::subscribing:
        connection_ended(make_error(engine_errc::request_timeout,
                                    "no answer in "
                                      + to_string(status().state)));
        return;
      case session_state::stopped:
        life_.current().drop_current();
        self_->quit();
        return;
      default:
        return;
    }
  }

  void on_shutdown() {
    if (!life_.stop(st().cfg.close_timeout))
      self_->quit();
  }

  metric_samples metrics() {
    std::map<std::string, std::string> labels{
      {"endpoint", st().cfg.url}, {"key", st().cfg.creds.fingerprint()}};
    metric_samples result;
    result.push_back({"athanor_trading_stream_ready", metric_kind::gauge,
                      labels,
                      status().state == session_state::streaming ? 1.0
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
    counter("athanor_trading_stream_breaker_refusals_total",
            c.breaker_refusals);
    return result;
  }

 private:
  connection_lifecycle life_;
};

trading_session_actor::behavior_type
trading_impl(trading_pointer self, trading_session_config cfg) {
  self->set_exception_handler(exception_to_exit_reason);
  self->state.cfg = std::move(cfg);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& xs = self->state.listeners;
    xs.erase(std::remove_if(xs.begin(), xs.end(),
                            [&](auto& x) { return x.address() == msg.source; }),
             xs.end());
  });
  auto logic = std::make_shared<trading_logic>(self);
  logic->start();
  return {
    [logic](link_opened& x) { logic->on_opened(x); },
    [logic](trading_frame& x) { logic->on_frame(x); },
    [logic](link_closed& x) { logic->on_closed(x); },
    [self, logic](listen_atom, order_listener_actor& listener) {
      self->monitor(listener);
      self->send(listener, logic->status());
      self->state.listeners.push_back(std::move(listener));
    },
    [logic](caf::get_atom) { return logic->status(); },
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
                           std::pair{"close-timeout", cfg.close_timeout},
                           std::pair{"breaker-timeout", cfg.breaker_timeout},
                           std::pair{"limit-backoff", cfg.limit_backoff}})
    if (x.count() <= 0)
      add(option, "must be positive");
  if (cfg.limit_backoff_max < cfg.limit_backoff)
    add("limit-backoff-max", "must be at least limit-backoff");
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
