#include "sim/broker.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <map>

#include "protocol/history.hpp"
#include "protocol/rest.hpp"
#include "protocol/trading.hpp"

namespace athanor::sim {

using clock_type = std::chrono::steady_clock;

namespace {

timestamp_ns wall_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string make_uuid(uint64_t tag, uint64_t n) {
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08llx-0000-4000-8000-%012llx",
                static_cast<unsigned long long>(tag),
                static_cast<unsigned long long>(n));
  return buf;
}

int64_t pow10(int n) {
  int64_t result = 1;
  for (int i = 0; i < n; ++i)
    result *= 10;
  return result;
}

// Rounds x to `scale` fractional digits (half away from zero).
decimal round_to(__int128 mantissa, int from_scale, int scale) {
  if (from_scale <= scale)
    return decimal{static_cast<int64_t>(mantissa * pow10(scale - from_scale)),
                   static_cast<uint8_t>(scale)};
  auto div = static_cast<__int128>(pow10(from_scale - scale));
  auto half = div / 2;
  auto q = (mantissa >= 0 ? mantissa + half : mantissa - half) / div;
  return decimal{static_cast<int64_t>(q), static_cast<uint8_t>(scale)};
}

decimal multiply(const decimal& a, const decimal& b, int scale = 4) {
  auto m = static_cast<__int128>(a.mantissa()) * b.mantissa();
  return round_to(m, a.scale() + b.scale(), scale);
}

decimal divide(const decimal& a, const decimal& b, int scale = 9) {
  // (a.m / 10^as) / (b.m / 10^bs) with `scale` digits.
  auto num = static_cast<__int128>(a.mantissa()) * pow10(scale)
             * pow10(b.scale());
  auto den = static_cast<__int128>(b.mantissa()) * pow10(a.scale());
  return decimal{static_cast<int64_t>(num / den), static_cast<uint8_t>(scale)};
}

decimal price_decimal(double price) {
  return decimal{static_cast<int64_t>(std::llround(price * 100.0)), 2};
}

decimal sum(const decimal& a, const decimal& b) {
  if (a.is_null())
    return b;
  return add(a, b).value_or(a);
}

decimal diff(const decimal& a, const decimal& b) {
  return subtract(a.is_null() ? decimal::from_integer(0) : a, b).value_or(a);
}

const decimal zero = decimal::from_integer(0);

transport::http_response api_error(int status, int64_t code,
                                   const std::string& message) {
  return transport::json_response(
    status, protocol::encode_api_error({status, code, message}));
}

} // namespace

class stream_connection;

struct account_book {
  sim_account acct;
  decimal cash;
  std::map<std::string, decimal> positions;
  std::map<std::string, decimal> costs;
  std::vector<order> orders;
  std::map<std::string, size_t> by_client_id;
  std::map<std::string, size_t> by_id;
  /// Filled notional per order, for the average fill price.
  std::map<std::string, decimal> filled_notional;
  std::deque<clock_type::time_point> requests;
};

struct broker::state : std::enable_shared_from_this<broker::state> {
  std::map<std::string, account_book> books;
  broker_options opts;
  std::function<double(const std::string&)> price_of;
  std::function<std::string(const history_request&)> history;
  transport::server* srv = nullptr;
  uint64_t next_order = 1;
  uint64_t next_execution = 1;
  uint32_t failures_left = 0;
  uint32_t slow_left = 0;
  std::chrono::nanoseconds slow_delay{0};
  rest_fault failure_kind = rest_fault::fail_before;
  std::vector<std::shared_ptr<stream_connection>> streams;

  void publish(const std::string& key, const order_update& update);
  void cancel(const std::string& key, order& o);
  void accept_order(account_book& book, order& o);
  void fill(const std::string& key, const std::string& id, decimal qty,
            decimal price);
  void check_limits();
  transport::http_response handle(account_book& book,
                                  const transport::http_request& req);
};

class stream_connection
    : public transport::ws_handler,
      public std::enable_shared_from_this<stream_connection> {
 public:
  explicit stream_connection(std::shared_ptr<broker::state> st)
      : st_(std::move(st)) {}

  void on_open(const transport::ws_connection_ptr& conn) override {
    conn_ = conn;
    st_->streams.push_back(shared_from_this());
  }

  void on_message(const transport::ws_connection_ptr&, std::string frame,
                  bool) override {
    protocol::trading_client_message msg;
    protocol::decode_problem problem;
    if (!protocol::decode_trading_client_message(frame, msg, problem)) {
      send(protocol::encode_trading_error("invalid request"));
      return;
    }
    if (msg.action == protocol::trading_client_message::authenticate) {
      auto book = st_->books.find(msg.creds.key_id.reveal());
      if (book == st_->books.end()
          || book->second.acct.secret != msg.creds.secret_key.reveal()) {
        send(protocol::encode_authorization(false, "authenticate"));
        if (auto c = conn_.lock())
          c->close(1000);
        return;
      }
      key_ = book->first;
      send(protocol::encode_authorization(true, "authenticate"));
      return;
    }
    if (key_.empty()) {
      send(protocol::encode_authorization(false, "listen"));
      return;
    }
    listening_ = false;
    std::vector<std::string> streams;
    for (auto& name : msg.streams) {
      if (name == "trade_updates") {
        listening_ = true;
        streams.push_back(name);
      }
    }
    send(protocol::encode_listening(streams));
  }

  void on_close(const transport::ws_connection_ptr&, bool) override {
    auto& xs = st_->streams;
    xs.erase(std::remove(xs.begin(), xs.end(), shared_from_this()), xs.end());
  }

  void deliver(const std::string& key, const std::string& frame) {
    if (listening_ && key == key_)
      send(frame);
  }

  transport::ws_connection_ptr conn() const {
    return conn_.lock();
  }

 private:
  void send(std::string frame) {
    if (auto c = conn_.lock())
      c->send(std::move(frame), st_->opts.binary_frames);
  }

  std::shared_ptr<broker::state> st_;
  // Weak: the connection owns this handler, so a strong reference back
  // would keep both alive forever.
  std::weak_ptr<transport::ws_connection> conn_;
  std::string key_;
  bool listening_ = false;
};

void broker::state::publish(const std::string& key,
                            const order_update& update) {
  auto frame = protocol::encode_trade_update(update);
  for (auto& stream : std::vector{streams})
    stream->deliver(key, frame);
}

void broker::state::accept_order(account_book& book, order& o) {
  o.status = order_status::new_order;
  o.updated_at = wall_now();
  order_update update;
  update.event = trade_event::new_order;
  update.subject = o;
  update.at = o.updated_at;
  publish(book.acct.key, update);
  auto self = shared_from_this();
  auto key = book.acct.key;
  auto id = o.id;
  if (o.type == order_type::market) {
    auto price = price_decimal(price_of(o.symbol));
    auto qty = o.qty ? o.qty : divide(o.notional, price);
    auto first = qty;
    if (opts.partial_fills && qty.scale() == 0 && qty.mantissa() >= 2)
      first = decimal{qty.mantissa() / 2, 0};
    srv->schedule(opts.fill_delay, [self, key, id, first, price] {
      self->fill(key, id, first, price);
    });
    if (first != qty) {
      auto rest = diff(qty, first);
      srv->schedule(2 * opts.fill_delay, [self, key, id, rest, price] {
        self->fill(key, id, rest, price);
      });
    }
    return;
  }
  // Limit orders: fill now if crossed, else wait (ioc/fok: cancel).
  auto price = price_decimal(price_of(o.symbol));
  auto crossed = o.side == order_side::buy ? !(o.limit_price < price)
                                           : !(price < o.limit_price);
  if (crossed) {
    auto qty = o.qty;
    auto limit = o.limit_price;
    srv->schedule(opts.fill_delay, [self, key, id, qty, limit] {
      self->fill(key, id, qty, limit);
    });
  } else if (o.tif == time_in_force::ioc || o.tif == time_in_force::fok) {
    cancel(key, o);
  }
}

void broker::state::cancel(const std::string& key, order& o) {
  o.status = order_status::canceled;
  o.canceled_at = o.updated_at = wall_now();
  order_update update;
  update.event = trade_event::canceled;
  update.subject = o;
  update.at = o.canceled_at;
  publish(key, update);
}

void broker::state::fill(const std::string& key, const std::string& id,
                         decimal qty, decimal price) {
  auto& book = books.at(key);
  auto& o = book.orders[book.by_id.at(id)];
  if (is_final(o.status))
    return;
  auto notional = multiply(qty, price);
  if (o.side == order_side::buy) {
    book.cash = diff(book.cash, notional);
    book.positions[o.symbol] = sum(book.positions[o.symbol], qty);
    book.costs[o.symbol] = sum(book.costs[o.symbol], notional);
  } else {
    book.cash = sum(book.cash, notional);
    book.positions[o.symbol] = diff(book.positions[o.symbol], qty);
  }
  o.filled_qty = sum(o.filled_qty, qty);
  auto& filled = book.filled_notional[id];
  filled = sum(filled, notional);
  o.filled_avg_price = divide(filled, o.filled_qty, 4);
  auto target = o.qty ? o.qty : o.filled_qty;
  auto complete = !(o.filled_qty < target);
  o.status = complete ? order_status::filled : order_status::partially_filled;
  o.updated_at = wall_now();
  if (complete)
    o.filled_at = o.updated_at;
  order_update update;
  update.event = complete ? trade_event::fill : trade_event::partial_fill;
  update.subject = o;
  update.at = o.updated_at;
  update.price = price;
  update.qty = qty;
  update.position_qty = book.positions[o.symbol];
  update.execution_id = make_uuid(0xe0, next_execution++);
  publish(key, update);
}

void broker::state::check_limits() {
  auto self = shared_from_this();
  srv->schedule(opts.limit_check, [self] { self->check_limits(); });
  for (auto& [key, book] : books) {
    for (auto& o : book.orders) {
      if (o.type != order_type::limit || o.status != order_status::new_order)
        continue;
      auto price = price_decimal(price_of(o.symbol));
      auto crossed = o.side == order_side::buy ? !(o.limit_price < price)
                                               : !(price < o.limit_price);
      if (crossed)
        fill(key, o.id, diff(o.qty, o.filled_qty), o.limit_price);
    }
  }
}

transport::http_response
broker::state::handle(account_book& book, const transport::http_request& req) {
  auto path = req.path();
  auto& m = req.method;
  if (m == "GET" && path == "/v2/account") {
    account a;
    a.id = make_uuid(0xacc, 1);
    a.account_number = "SIM" + book.acct.key;
    a.status = "ACTIVE";
    a.currency = "USD";
    a.cash = book.cash;
    auto equity = book.cash;
    for (auto& [symbol, qty] : book.positions)
      equity = sum(equity, multiply(qty, price_decimal(price_of(symbol))));
    a.equity = equity;
    a.portfolio_value = equity;
    a.buying_power = book.cash;
    return transport::json_response(200, protocol::encode_account(a));
  }
  if (m == "GET" && path.rfind("/v2/positions", 0) == 0) {
    std::vector<position> list;
    for (auto& [symbol, qty] : book.positions) {
      if (qty == zero)
        continue;
      position p;
      p.symbol = symbol;
      p.asset_class = "us_equity";
      p.qty = qty;
      p.qty_available = qty;
      p.current_price = price_decimal(price_of(symbol));
      p.market_value = multiply(qty, p.current_price);
      auto cost = book.costs[symbol];
      p.avg_entry_price = cost ? divide(cost, qty, 4) : decimal{};
      p.side = zero < qty ? "long" : "short";
      list.push_back(std::move(p));
    }
    if (path == "/v2/positions")
      return transport::json_response(200, protocol::encode_positions(list));
    auto symbol = path.substr(std::string{"/v2/positions/"}.size());
    for (auto& p : list)
      if (p.symbol == symbol)
        return transport::json_response(200, protocol::encode_position(p));
    return api_error(404, 40410000, "position does not exist");
  }
  if (m == "GET" && path.rfind("/v2/assets/", 0) == 0) {
    auto symbol = path.substr(std::string{"/v2/assets/"}.size());
    auto listed = [&](const std::vector<std::string>& xs) {
      return std::find(xs.begin(), xs.end(), symbol) != xs.end();
    };
    if (symbol.empty() || listed(opts.unknown_assets))
      return api_error(404, 40410000, "asset not found for " + symbol);
    asset a;
    a.symbol = symbol;
    a.asset_class = "us_equity";
    a.exchange = "NASDAQ";
    a.tradable = !listed(opts.untradable_assets);
    a.status = a.tradable ? "active" : "inactive";
    a.fractionable = a.tradable;
    a.shortable = a.tradable;
    return transport::json_response(200, protocol::encode_asset(a));
  }
  // The market-data API's history and latest trade (the simulator serves
  // both APIs on one port).
  const std::string stocks = "/v2/stocks/";
  for (auto kind : {channel::trades, channel::quotes, channel::bars}) {
    if (m != "GET" || path != stocks + to_string(kind) || !history)
      continue;
    history_request query;
    protocol::decode_problem problem;
    if (!protocol::decode_history_query(kind, req.query("symbols"),
                                        req.query("start"), req.query("end"),
                                        req.query("limit"), query, problem))
      return api_error(422, 42210000,
                       "invalid " + problem.field + ": " + problem.message);
    query.page_token = req.query("page_token");
    return transport::json_response(200, history(query));
  }
  const std::string latest = "/trades/latest";
  if (m == "GET" && path.rfind(stocks, 0) == 0
      && path.size() > stocks.size() + latest.size()
      && path.compare(path.size() - latest.size(), latest.size(), latest)
           == 0) {
    latest_trade t;
    t.symbol = path.substr(stocks.size(),
                           path.size() - stocks.size() - latest.size());
    t.price = price_decimal(price_of(t.symbol));
    t.at = wall_now();
    return transport::json_response(200, protocol::encode_latest_trade(t));
  }
  if (m == "POST" && path == "/v2/orders") {
    order_request r;
    protocol::decode_problem problem;
    if (!protocol::decode_order_request(req.body, r, problem))
      return api_error(422, 40010001, problem.field + " " + problem.message);
    if (r.client_order_id.empty())
      r.client_order_id = make_uuid(0xc1, next_order);
    if (book.by_client_id.count(r.client_order_id) > 0
        && !opts.accept_reused_client_order_ids)
      return api_error(422, 40010001, "client_order_id must be unique");
    auto price = price_decimal(price_of(r.symbol));
    if (r.side == order_side::buy) {
      auto cost = r.qty ? multiply(r.qty, r.limit_price ? r.limit_price : price)
                        : r.notional;
      if (book.cash < cost)
        return api_error(403, 40310000, "insufficient buying power");
    } else {
      auto held = book.positions[r.symbol];
      if (held.is_null() || held < r.qty)
        return api_error(403, 40310000,
                         "insufficient qty available for order (requested: "
                           + to_string(r.qty) + ", available: "
                           + to_string(held ? held : zero) + ")");
    }
    order o;
    o.id = make_uuid(0x0d, next_order++);
    o.client_order_id = r.client_order_id;
    o.symbol = r.symbol;
    o.asset_class = "us_equity";
    o.side = r.side;
    o.type = r.type;
    o.tif = r.tif;
    o.qty = r.qty;
    o.notional = r.notional;
    o.filled_qty = zero;
    o.limit_price = r.limit_price;
    o.stop_price = r.stop_price;
    o.extended_hours = r.extended_hours;
    o.status = order_status::accepted;
    o.created_at = o.submitted_at = o.updated_at = wall_now();
    book.by_client_id[o.client_order_id] = book.orders.size();
    book.by_id[o.id] = book.orders.size();
    book.orders.push_back(o);
    auto response = transport::json_response(200, protocol::encode_order(o));
    accept_order(book, book.orders.back());
    return response;
  }
  const std::string by_client = "/v2/orders:by_client_order_id";
  if (m == "GET" && path == by_client) {
    auto i = book.by_client_id.find(req.query("client_order_id"));
    if (i == book.by_client_id.end())
      return api_error(404, 40410000, "order not found");
    return transport::json_response(
      200, protocol::encode_order(book.orders[i->second]));
  }
  if (m == "GET" && path == "/v2/orders") {
    auto status = req.query("status");
    if (status.empty())
      status = "open";
    auto limit = std::atoi(req.query("limit").c_str());
    if (limit <= 0)
      limit = 50;
    std::vector<order> list;
    for (auto i = book.orders.rbegin();
         i != book.orders.rend() && list.size() < static_cast<size_t>(limit);
         ++i) {
      auto open = !is_final(i->status);
      if (status == "all" || (status == "open") == open)
        list.push_back(*i);
    }
    return transport::json_response(200, protocol::encode_orders(list));
  }
  const std::string orders_prefix = "/v2/orders/";
  if (path.rfind(orders_prefix, 0) == 0) {
    auto id = path.substr(orders_prefix.size());
    auto i = book.by_id.find(id);
    if (i == book.by_id.end())
      return api_error(404, 40410000, "order not found");
    auto& o = book.orders[i->second];
    if (m == "GET")
      return transport::json_response(200, protocol::encode_order(o));
    if (m == "DELETE") {
      if (is_final(o.status))
        return api_error(422, 42210000, "order is not cancelable");
      cancel(book.acct.key, o);
      transport::http_response res;
      res.status = 204;
      return res;
    }
  }
  if (m == "DELETE" && path == "/v2/orders") {
    std::string body = "[";
    for (auto& o : book.orders) {
      if (is_final(o.status))
        continue;
      cancel(book.acct.key, o);
      if (body.size() > 1)
        body += ",";
      body += R"({"id":")" + o.id + R"(","status":200,"body":)"
              + protocol::encode_order(o) + "}";
    }
    return transport::json_response(207, body + "]");
  }
  return api_error(404, 40410000, "not found");
}

broker::broker(std::vector<sim_account> accounts, broker_options opts,
               std::function<double(const std::string&)> price_of)
    : state_(std::make_shared<state>()) {
  auto cash = decimal::parse(opts.starting_cash)
                .value_or(decimal::from_integer(100000));
  for (auto& acct : accounts) {
    auto& book = state_->books[acct.key];
    book.acct = acct;
    book.cash = cash;
  }
  state_->opts = std::move(opts);
  state_->price_of = std::move(price_of);
}

broker::~broker() {
  // Streams and the state point at each other; the server thread is gone.
  state_->streams.clear();
}

void broker::start(transport::server& srv) {
  state_->srv = &srv;
  auto st = state_;
  srv.post([st] { st->check_limits(); });
}

std::optional<transport::http_response>
broker::on_http(const transport::http_request& req) {
  if (req.path().rfind("/v2/", 0) != 0)
    return std::nullopt;
  auto& st = *state_;
  auto book = st.books.find(req.header("apca-api-key-id"));
  if (book == st.books.end()
      || book->second.acct.secret != req.header("apca-api-secret-key"))
    return api_error(401, 40110000, "request is not authorized");
  // The rate limit: a sliding minute per key.
  auto now = clock_type::now();
  auto& window = book->second.requests;
  while (!window.empty() && now - window.front() >= std::chrono::minutes{1})
    window.pop_front();
  auto limit = st.opts.requests_per_minute;
  auto reset_at = [&] {
    auto oldest = window.empty() ? now : window.front();
    auto wait = std::chrono::minutes{1} - (now - oldest);
    return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch() + wait)
      .count();
  };
  if (limit > 0 && window.size() >= limit) {
    auto res = api_error(429, 42910000, "rate limit exceeded");
    res.headers["X-Ratelimit-Limit"] = std::to_string(limit);
    res.headers["X-Ratelimit-Remaining"] = "0";
    res.headers["X-Ratelimit-Reset"] = std::to_string(reset_at());
    auto wait = std::chrono::minutes{1} - (now - window.front());
    res.headers["Retry-After"] = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(wait).count() + 1);
    return res;
  }
  window.push_back(now);
  transport::http_response res;
  if (st.failures_left > 0 && st.failure_kind == rest_fault::fail_before) {
    --st.failures_left;
    res = api_error(500, 50010000, "internal server error");
  } else {
    res = st.handle(book->second, req);
    if (st.failures_left > 0) {
      --st.failures_left;
      res = api_error(500, 50010000, "internal server error");
    }
  }
  if (st.slow_left > 0) {
    --st.slow_left;
    res.delay = st.slow_delay;
  }
  if (limit > 0) {
    res.headers["X-Ratelimit-Limit"] = std::to_string(limit);
    res.headers["X-Ratelimit-Remaining"] = std::to_string(limit
                                                          - window.size());
    res.headers["X-Ratelimit-Reset"] = std::to_string(reset_at());
  }
  return res;
}

std::optional<transport::upgrade_decision>
broker::on_upgrade(const transport::http_request& req) {
  if (req.path() != "/stream")
    return std::nullopt;
  transport::upgrade_decision decision;
  decision.handler = std::make_shared<stream_connection>(state_);
  return decision;
}

void broker::serve_history(
  std::function<std::string(const history_request&)> history) {
  state_->history = std::move(history);
}

void broker::fail_requests(uint32_t count, rest_fault how) {
  state_->failures_left = count;
  state_->failure_kind = how;
}

void broker::slow_requests(uint32_t count, std::chrono::nanoseconds delay) {
  state_->slow_left = count;
  state_->slow_delay = delay;
}

void broker::reset_streams() {
  for (auto& stream : std::vector{state_->streams})
    if (stream->conn())
      stream->conn()->reset();
}

std::vector<order> broker::orders() const {
  std::vector<order> result;
  for (auto& [key, book] : state_->books)
    result.insert(result.end(), book.orders.begin(), book.orders.end());
  return result;
}

} // namespace athanor::sim
