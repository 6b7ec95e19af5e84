#include "actors/trading/rest_client.hpp"

#include <functional>
#include <map>

#include "caf/actor_system.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "protocol/history.hpp"
#include "actors/trading/rate_limiter.hpp"
#include "messages/error.hpp"
#include "observability/log.hpp"
#include "protocol/rest.hpp"

namespace athanor {

namespace {

using std::chrono::nanoseconds;

enum class op_kind : uint8_t {
  place,
  lookup,
  open_orders,
  account,
  cancel,
  positions,
  asset,
  latest_trade,
  history,
};

const char* name_of(op_kind x) {
  switch (x) {
    case op_kind::place: return "place";
    case op_kind::lookup: return "lookup";
    case op_kind::open_orders: return "open_orders";
    case op_kind::account: return "account";
    case op_kind::cancel: return "cancel";
    case op_kind::positions: return "positions";
    case op_kind::asset: return "asset";
    case op_kind::latest_trade: return "latest_trade";
    case op_kind::history: return "history";
  }
  return "?";
}

// One operation the client was asked for; it may take several requests.
struct operation {
  op_kind kind = op_kind::lookup;
  trace cause;
  order_request request;
  /// client_order_id (place, lookup), order id (cancel) or symbol (asset,
  /// latest_trade).
  std::string key;
  /// latest_trade: the feed.
  std::string feed;
  /// history: the request's path and query.
  std::string target;
  /// place: looking the order up after an ambiguous POST.
  bool resolving = false;
  /// Requests of the current stage so far.
  uint32_t attempts = 0;
  /// POSTs that may have reached the server (429s and failed connects do
  /// not count: those were not carried out). Raised only by repost().
  uint32_t posts = 1;
  std::unique_ptr<backoff_policy> backoff;
  /// Exactly one of these is set, matching `kind`.
  std::function<void(caf::expected<order>)> on_order;
  std::function<void(caf::expected<std::vector<order>>)> on_orders;
  std::function<void(caf::expected<account>)> on_account;
  std::function<void(caf::expected<bool>)> on_cancel;
  /// Plain reads (positions, asset, latest_trade): the body, decoded by the
  /// handler that asked.
  std::function<void(caf::expected<std::string>)> on_body;
};

struct rest_counters {
  uint64_t requests = 0;
  uint64_t rate_limited = 0;
  uint64_t throttle_waits = 0;
  uint64_t retries = 0;
  uint64_t ambiguous_posts = 0;
  uint64_t duplicates = 0;
  uint64_t reposts = 0;
  uint64_t failures = 0;
  uint64_t orders_placed = 0;
};

struct rest_state {
  rest_client_config cfg;
  std::unique_ptr<rate_limiter> limiter;
  std::map<uint64_t, operation> ops;
  /// Request id -> operation id.
  std::map<uint64_t, uint64_t> in_flight;
  uint64_t next_op = 1;
  uint64_t next_request = 1;
  rest_counters counters;
  static inline const char* name = "athanor.rest_client";
};

using rest_pointer = rest_client_actor::stateful_pointer<rest_state>;

std::string percent_encode(const std::string& x) {
  static const char* hex = "0123456789ABCDEF";
  std::string result;
  for (unsigned char c : x) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      result += static_cast<char>(c);
    } else {
      result += '%';
      result += hex[c >> 4];
      result += hex[c & 15];
    }
  }
  return result;
}

std::optional<int64_t> header_number(const http_answer& x, const char* name) {
  auto i = x.headers.find(name);
  if (i == x.headers.end())
    return std::nullopt;
  char* end = nullptr;
  auto value = std::strtoll(i->second.c_str(), &end, 10);
  if (end == i->second.c_str())
    return std::nullopt;
  return value;
}

std::string render(const api_error& x) {
  auto result = "HTTP " + std::to_string(x.http_status);
  if (x.code != 0)
    result += " (" + std::to_string(x.code) + ")";
  if (!x.message.empty())
    result += ": " + x.message;
  return result;
}

class rest_logic : public std::enable_shared_from_this<rest_logic> {
 public:
  explicit rest_logic(rest_pointer self) : self_(self) {}

  rest_state& st() {
    return self_->state;
  }

  // -- starting operations ----------------------------------------------------

  uint64_t start(operation op) {
    auto id = st().next_op++;
    op.backoff = std::make_unique<backoff_policy>(st().cfg.retry_backoff);
    st().ops.emplace(id, std::move(op));
    send(id);
    return id;
  }

  void on_retry(uint64_t id) {
    if (st().ops.count(id) > 0)
      send(id);
  }

  // -- requests ---------------------------------------------------------------

  void send(uint64_t id) {
    auto& op = st().ops.at(id);
    auto wait = st().limiter->acquire(self_->clock().now());
    if (wait.count() > 0) {
      ++st().counters.throttle_waits;
      self_->delayed_send(self_, wait, retry_atom::value, id);
      return;
    }
    auto request_id = st().next_request++;
    st().in_flight.emplace(request_id, id);
    ++st().counters.requests;
    log::write(log::level::debug, "rest_client", "request", &op.cause,
               {{"op", name_of(op.kind)},
                {"key", op.key},
                {"resolving", op.resolving},
                {"attempt", op.attempts + 1}});
    st().cfg.port->send(call_for(op), request_id,
                        caf::actor_cast<caf::actor>(self_));
  }

  transport::http_call call_for(const operation& op) {
    transport::http_call call;
    call.timeout = st().cfg.request_timeout;
    call.headers["APCA-API-KEY-ID"] = st().cfg.creds.key_id.reveal();
    call.headers["APCA-API-SECRET-KEY"] = st().cfg.creds.secret_key.reveal();
    switch (op.kind) {
      case op_kind::place:
        if (!op.resolving) {
          call.method = "POST";
          call.target = "/v2/orders";
          call.body = protocol::encode_order_request(op.request);
          break;
        }
        [[fallthrough]];
      case op_kind::lookup:
        call.target = "/v2/orders:by_client_order_id?client_order_id="
                      + percent_encode(op.key);
        break;
      case op_kind::open_orders:
        call.target = "/v2/orders?status=open&limit=500";
        break;
      case op_kind::account:
        call.target = "/v2/account";
        break;
      case op_kind::cancel:
        call.method = "DELETE";
        call.target = "/v2/orders/" + percent_encode(op.key);
        break;
      case op_kind::positions:
        call.target = "/v2/positions";
        break;
      case op_kind::asset:
        call.target = "/v2/assets/" + percent_encode(op.key);
        break;
      case op_kind::latest_trade:
        call.target = "/v2/stocks/" + percent_encode(op.key)
                      + "/trades/latest?feed=" + percent_encode(op.feed);
        break;
      case op_kind::history:
        call.target = op.target;
        break;
    }
    return call;
  }

  // -- answers ----------------------------------------------------------------

  void on_answer(http_answer& answer) {
    auto i = st().in_flight.find(answer.id);
    if (i == st().in_flight.end())
      return;
    auto id = i->second;
    st().in_flight.erase(i);
    observe_limits(answer);
    auto j = st().ops.find(id);
    if (j == st().ops.end())
      return;
    auto& op = j->second;
    auto posting = op.kind == op_kind::place && !op.resolving;
    if (answer.status == 0)
      return on_no_answer(id, op, answer);
    if (answer.status == 429) {
      ++st().counters.rate_limited;
      auto wait = header_number(answer, "retry-after").value_or(1);
      st().limiter->throttled(self_->clock().now(), std::chrono::seconds{wait});
      // A refused request was not carried out: the same POST is safe.
      return retry(id, op, engine_errc::rate_limited, "HTTP 429");
    }
    if (answer.status >= 500) {
      auto err = protocol::decode_api_error(answer.status, answer.body);
      if (posting)
        return resolve(id, op, render(err));
      return retry(id, op, engine_errc::server_error, render(err));
    }
    if (answer.status >= 200 && answer.status < 300)
      return succeed(id, op, answer);
    auto err = protocol::decode_api_error(answer.status, answer.body);
    if (posting) {
      if (protocol::is_duplicate_client_order_id(err)) {
        ++st().counters.duplicates;
        return resolve(id, op, render(err));
      }
      // The key, not the order, was refused. (403 is an order refusal at
      // Alpaca: insufficient buying power or shares.)
      if (answer.status == 401)
        return fail(id, make_error(engine_errc::auth_failed, render(err)));
      return fail(id, make_error(engine_errc::order_rejected, render(err)));
    }
    if (answer.status == 404) {
      if (op.kind == op_kind::place)
        return repost(id, op);
      return fail(id, make_error(engine_errc::not_found, render(err)));
    }
    if (op.kind == op_kind::cancel && answer.status == 422)
      return finish_cancel(id, false);
    if (answer.status == 401 || answer.status == 403)
      return fail(id, make_error(engine_errc::auth_failed, render(err)));
    fail(id, make_error(engine_errc::server_error, render(err)));
  }

  void on_no_answer(uint64_t id, operation& op, const http_answer& answer) {
    auto why = to_string(answer.failure) + ": " + answer.detail;
    switch (answer.failure) {
      case http_failure::bad_url:
        return fail(id, make_error(engine_errc::invalid_config, why));
      case http_failure::certificate_invalid:
        return fail(id, make_error(engine_errc::certificate_invalid, why));
      case http_failure::tls_failed:
        return fail(id, make_error(engine_errc::tls_failed, why));
      case http_failure::canceled:
        return fail(id, make_error(engine_errc::connection_lost, why));
      case http_failure::resolve_failed:
      case http_failure::connect_failed:
        // Without a connection the request never left: repeat it as is.
        return retry(id, op, engine_errc::connect_failed, why);
      case http_failure::timeout:
      case http_failure::connection_lost:
      case http_failure::none:
        break;
    }
    // The request may have been carried out: a POST is resolved by lookup.
    if (op.kind == op_kind::place && !op.resolving)
      return resolve(id, op, why);
    retry(id, op,
          answer.failure == http_failure::timeout
            ? engine_errc::request_timeout
            : engine_errc::connection_lost,
          why);
  }

  void observe_limits(const http_answer& answer) {
    auto remaining = header_number(answer, "x-ratelimit-remaining");
    auto reset = header_number(answer, "x-ratelimit-reset");
    if (!remaining)
      return;
    std::optional<nanoseconds> until_reset;
    if (reset && answer.received_at > 0)
      until_reset = nanoseconds{*reset * 1'000'000'000 - answer.received_at};
    st().limiter->observe(self_->clock().now(),
                          static_cast<uint32_t>(std::max<int64_t>(0,
                                                                  *remaining)),
                          until_reset);
  }

  // Tries the same stage again after a backoff, or gives up.
  void retry(uint64_t id, operation& op, engine_errc errc,
             const std::string& detail) {
    if (++op.attempts >= st().cfg.max_attempts) {
      fail(id, make_error(errc, detail + " (after "
                                  + std::to_string(op.attempts)
                                  + " attempts)"));
      return;
    }
    ++st().counters.retries;
    auto delay = op.backoff->next_delay();
    log::write(log::level::warn, "rest_client", "retry", &op.cause,
               {{"op", name_of(op.kind)},
                {"key", op.key},
                {"error", detail},
                {"attempt", op.attempts},
                {"delay_ms", static_cast<double>(delay.count()) / 1e6}});
    self_->delayed_send(self_, delay, retry_atom::value, id);
  }

  // After a POST whose fate is unknown: look the order up by its
  // client_order_id instead of posting it again.
  void resolve(uint64_t id, operation& op, const std::string& why) {
    ++st().counters.ambiguous_posts;
    log::write(log::level::warn, "rest_client", "order_fate_unknown", &op.cause,
               {{"client_order_id", op.key}, {"error", why}});
    op.resolving = true;
    op.attempts = 0;
    op.backoff->reset();
    send(id);
  }

  // The lookup proved the order absent: the POST never took effect. The
  // same client_order_id makes a repeat safe (the broker refuses doubles).
  void repost(uint64_t id, operation& op) {
    if (op.posts >= st().cfg.max_posts) {
      fail(id, make_error(engine_errc::server_error,
                          "order " + op.key + " not placed after "
                            + std::to_string(op.posts) + " attempts"));
      return;
    }
    ++op.posts;
    ++st().counters.reposts;
    log::write(log::level::warn, "rest_client", "order_absent_reposting",
               &op.cause, {{"client_order_id", op.key}});
    op.resolving = false;
    op.attempts = 0;
    self_->delayed_send(self_, op.backoff->next_delay(), retry_atom::value,
                        id);
  }

  void succeed(uint64_t id, operation& op, const http_answer& answer) {
    protocol::decode_problem problem;
    switch (op.kind) {
      case op_kind::place:
      case op_kind::lookup: {
        order result;
        if (!protocol::decode_order(answer.body, result, problem))
          return fail(id, make_error(engine_errc::decode_error,
                                     to_string(problem)));
        if (op.kind == op_kind::place) {
          ++st().counters.orders_placed;
          log::write(log::level::debug, "rest_client", "order_placed",
                     &op.cause,
                     {{"client_order_id", op.key},
                      {"order_id", result.id},
                      {"found_by_lookup", op.resolving}});
        }
        auto done = std::move(op.on_order);
        st().ops.erase(id);
        done(std::move(result));
        return;
      }
      case op_kind::open_orders: {
        std::vector<order> result;
        if (!protocol::decode_orders(answer.body, result, problem))
          return fail(id, make_error(engine_errc::decode_error,
                                     to_string(problem)));
        auto done = std::move(op.on_orders);
        st().ops.erase(id);
        done(std::move(result));
        return;
      }
      case op_kind::account: {
        account result;
        if (!protocol::decode_account(answer.body, result, problem))
          return fail(id, make_error(engine_errc::decode_error,
                                     to_string(problem)));
        auto done = std::move(op.on_account);
        st().ops.erase(id);
        done(std::move(result));
        return;
      }
      case op_kind::cancel:
        return finish_cancel(id, true);
      case op_kind::positions:
      case op_kind::asset:
      case op_kind::latest_trade:
      case op_kind::history: {
        auto done = std::move(op.on_body);
        st().ops.erase(id);
        done(answer.body);
        return;
      }
    }
  }

  void finish_cancel(uint64_t id, bool canceled) {
    auto done = std::move(st().ops.at(id).on_cancel);
    st().ops.erase(id);
    done(canceled);
  }

  void fail(uint64_t id, caf::error err) {
    auto i = st().ops.find(id);
    if (i == st().ops.end())
      return;
    auto op = std::move(i->second);
    st().ops.erase(i);
    ++st().counters.failures;
    log::write(log::level::warn, "rest_client", "failed", &op.cause,
               {{"op", name_of(op.kind)},
                {"key", op.key},
                {"error", athanor::render(err)}});
    switch (op.kind) {
      case op_kind::place:
      case op_kind::lookup: op.on_order(std::move(err)); break;
      case op_kind::open_orders: op.on_orders(std::move(err)); break;
      case op_kind::account: op.on_account(std::move(err)); break;
      case op_kind::cancel: op.on_cancel(std::move(err)); break;
      case op_kind::positions:
      case op_kind::asset:
      case op_kind::latest_trade:
      case op_kind::history: op.on_body(std::move(err)); break;
    }
  }

  metric_samples metrics() {
    std::map<std::string, std::string> labels{
      {"endpoint", st().cfg.base_url}, {"key", st().cfg.creds.fingerprint()}};
    metric_samples result;
    auto counter = [&](const char* name, uint64_t value) {
      result.push_back(
        {name, metric_kind::counter, labels, static_cast<double>(value)});
    };
    auto& c = st().counters;
    counter("athanor_rest_requests_total", c.requests);
    counter("athanor_rest_rate_limited_total", c.rate_limited);
    counter("athanor_rest_throttle_waits_total", c.throttle_waits);
    counter("athanor_rest_retries_total", c.retries);
    counter("athanor_rest_ambiguous_posts_total", c.ambiguous_posts);
    counter("athanor_rest_duplicate_posts_total", c.duplicates);
    counter("athanor_rest_reposts_total", c.reposts);
    counter("athanor_rest_failures_total", c.failures);
    counter("athanor_rest_orders_placed_total", c.orders_placed);
    result.push_back({"athanor_rest_in_flight", metric_kind::gauge, labels,
                      static_cast<double>(st().in_flight.size())});
    result.push_back({"athanor_rest_operations", metric_kind::gauge, labels,
                      static_cast<double>(st().ops.size())});
    result.push_back(
      {"athanor_rest_window_requests", metric_kind::gauge, labels,
       static_cast<double>(st().limiter->in_window(self_->clock().now()))});
    return result;
  }

 private:
  rest_pointer self_;
};

template<class T>
std::function<void(caf::expected<T>)>
deliver_to(caf::typed_response_promise<T> rp) {
  return [rp](caf::expected<T> x) mutable {
    if (x)
      rp.deliver(std::move(*x));
    else
      rp.deliver(std::move(x.error()));
  };
}

// A plain read's body, decoded with `decode` (a protocol decoder).
template<class T, class Decode>
std::function<void(caf::expected<std::string>)>
decode_to(caf::typed_response_promise<T> rp, Decode decode) {
  return [rp, decode](caf::expected<std::string> body) mutable {
    if (!body) {
      rp.deliver(std::move(body.error()));
      return;
    }
    T result;
    protocol::decode_problem problem;
    if (decode(*body, result, problem))
      rp.deliver(std::move(result));
    else
      rp.deliver(make_error(engine_errc::decode_error, to_string(problem)));
  };
}

rest_client_actor::behavior_type rest_impl(rest_pointer self,
                                           rest_client_config cfg) {
  self->set_exception_handler(exception_to_exit_reason);
  self->state.limiter = std::make_unique<rate_limiter>(cfg.requests_per_minute);
  self->state.cfg = std::move(cfg);
  auto logic = std::make_shared<rest_logic>(self);
  return {
    [self, logic](place_atom, order_request& req,
                  trace& cause) -> caf::result<order> {
      auto rp = self->make_response_promise<order>();
      operation op;
      op.kind = op_kind::place;
      op.key = req.client_order_id;
      op.request = std::move(req);
      op.cause = std::move(cause);
      op.on_order = deliver_to(rp);
      logic->start(std::move(op));
      return rp;
    },
    [self, logic](lookup_atom, std::string& client_order_id,
                  trace& cause) -> caf::result<order> {
      auto rp = self->make_response_promise<order>();
      operation op;
      op.kind = op_kind::lookup;
      op.key = std::move(client_order_id);
      op.cause = std::move(cause);
      op.on_order = deliver_to(rp);
      logic->start(std::move(op));
      return rp;
    },
    [self, logic](open_orders_atom,
                  trace& cause) -> caf::result<std::vector<order>> {
      auto rp = self->make_response_promise<std::vector<order>>();
      operation op;
      op.kind = op_kind::open_orders;
      op.cause = std::move(cause);
      op.on_orders = deliver_to(rp);
      logic->start(std::move(op));
      return rp;
    },
    [self, logic](account_atom, trace& cause) -> caf::result<account> {
      auto rp = self->make_response_promise<account>();
      operation op;
      op.kind = op_kind::account;
      op.cause = std::move(cause);
      op.on_account = deliver_to(rp);
      logic->start(std::move(op));
      return rp;
    },
    [self, logic](cancel_atom, std::string& order_id,
                  trace& cause) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      operation op;
      op.kind = op_kind::cancel;
      op.key = std::move(order_id);
      op.cause = std::move(cause);
      op.on_cancel = deliver_to(rp);
      logic->start(std::move(op));
      return rp;
    },
    [self, logic](positions_atom,
                  trace& cause) -> caf::result<std::vector<position>> {
      auto rp = self->make_response_promise<std::vector<position>>();
      operation op;
      op.kind = op_kind::positions;
      op.cause = std::move(cause);
      op.on_body = decode_to(rp, protocol::decode_positions);
      logic->start(std::move(op));
      return rp;
    },
    [self, logic](asset_atom, std::string& symbol,
                  trace& cause) -> caf::result<asset> {
      auto rp = self->make_response_promise<asset>();
      operation op;
      op.kind = op_kind::asset;
      op.key = std::move(symbol);
      op.cause = std::move(cause);
      op.on_body = decode_to(rp, protocol::decode_asset);
      logic->start(std::move(op));
      return rp;
    },
    [self, logic](latest_atom, std::string& symbol, std::string& feed,
                  trace& cause) -> caf::result<latest_trade> {
      auto rp = self->make_response_promise<latest_trade>();
      operation op;
      op.kind = op_kind::latest_trade;
      op.key = std::move(symbol);
      op.feed = std::move(feed);
      op.cause = std::move(cause);
      op.on_body = decode_to(rp, protocol::decode_latest_trade);
      logic->start(std::move(op));
      return rp;
    },
    [self, logic](history_atom, history_request& req,
                  trace& cause) -> caf::result<history_page> {
      auto rp = self->make_response_promise<history_page>();
      operation op;
      op.kind = op_kind::history;
      op.key = to_string(req.kind);
      op.target = protocol::history_target(req);
      op.cause = std::move(cause);
      auto kind = req.kind;
      op.on_body = decode_to(rp, [kind](const std::string& body,
                                        history_page& out,
                                        protocol::decode_problem& problem) {
        return protocol::decode_history_page(kind, body, out, problem);
      });
      logic->start(std::move(op));
      return rp;
    },
    [logic](metrics_atom) { return logic->metrics(); },
    [logic](http_answer& answer) { logic->on_answer(answer); },
    [logic](retry_atom, uint64_t id) { logic->on_retry(id); },
  };
}

} // namespace

std::vector<config_problem> validate(const rest_client_config& cfg,
                                     const std::string& prefix) {
  auto problems = validate(cfg.retry_backoff, prefix + "retry-backoff.");
  auto add = [&](const char* option, std::string message) {
    problems.push_back({prefix + option, std::move(message)});
  };
  if (cfg.base_url.rfind("http://", 0) != 0
      && cfg.base_url.rfind("https://", 0) != 0)
    add("base-url",
        "must start with http:// or https:// (got '" + cfg.base_url + "')");
  if (cfg.creds.key_id.empty() || cfg.creds.secret_key.empty())
    add("credentials", "key and secret are required");
  if (cfg.request_timeout.count() <= 0)
    add("request-timeout", "must be positive");
  if (cfg.max_attempts == 0)
    add("max-attempts", "must be at least 1");
  if (cfg.max_posts == 0)
    add("max-posts", "must be at least 1");
  return problems;
}

caf::expected<rest_client_actor> spawn_rest_client(caf::actor_system& sys,
                                                   rest_client_config cfg) {
  if (auto problems = validate(cfg); !problems.empty())
    return make_error(engine_errc::invalid_config, to_string(problems));
  if (!cfg.port)
    return make_error(engine_errc::invalid_config,
                      "a REST client needs a port");
  return sys.spawn(rest_impl, std::move(cfg));
}

} // namespace athanor
