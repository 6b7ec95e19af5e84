#include "sim/market_hub.hpp"

#include <algorithm>
#include <array>
#include <deque>
#include <regex>

#include "protocol/history.hpp"
#include "protocol/market_data.hpp"
#include "sim/tape.hpp"

namespace athanor::sim {

using protocol::codec;
using clock_type = std::chrono::steady_clock;

namespace {

struct endpoint_info {
  /// The plan feed this endpoint needs ("iex", "crypto"...).
  std::string feed;
  bool crypto = false;
};

std::optional<endpoint_info> endpoint_of(const std::string& path) {
  for (auto feed : {"iex", "sip", "delayed_sip", "test"})
    if (path == std::string{"/v2/"} + feed)
      return endpoint_info{feed, false};
  for (auto loc : {"us", "us-1", "eu-1"})
    if (path == std::string{"/v1beta3/crypto/"} + loc)
      return endpoint_info{"crypto", true};
  return std::nullopt;
}

bool offered(channel x, bool crypto) {
  switch (x) {
    case channel::trades:
    case channel::quotes:
    case channel::bars:
    case channel::updated_bars:
    case channel::daily_bars: return true;
    case channel::orderbooks: return crypto;
    case channel::statuses:
    case channel::lulds:
    case channel::imbalances: return !crypto;
    case channel::corrections:
    case channel::cancel_errors: return false; // implied by trades
  }
  return false;
}

bool valid_symbol(const std::string& x) {
  static const std::regex pattern{"\\*|[A-Z0-9.\\-/]{1,21}"};
  return std::regex_match(x, pattern);
}

timestamp_ns wall_now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::vector<std::string> default_universe() {
  std::vector<std::string> result{"AAPL", "MSFT", "AMZN", "GOOGL", "META",
                                  "NVDA", "TSLA", "SPY",  "QQQ",   "AMD"};
  for (int i = 0; i < 90; ++i)
    result.push_back("SYM" + std::to_string(i));
  return result;
}

} // namespace

class md_connection;

struct market_hub::state : std::enable_shared_from_this<market_hub::state> {
  std::map<std::string, sim_account> accounts;
  market_options opts;
  transport::server* srv = nullptr;
  sim::tape tape;
  std::vector<std::shared_ptr<md_connection>> connections;
  /// (key, endpoint) -> the connection holding the slot.
  std::map<std::pair<std::string, std::string>, md_connection*> slots;
  /// (key, endpoint) -> until when a ghost holds the slot.
  std::map<std::pair<std::string, std::string>, clock_type::time_point> ghosts;
  clock_type::time_point storm_406_until{};
  clock_type::time_point storm_429_until{};
  clock_type::time_point delay_until{};
  std::deque<clock_type::time_point> recent_upgrades;
  double record_credit = 0;
  size_t replay_cursor = 0;
  timestamp_ns next_bar_start = 0;
  market_stats stats;
  /// What the tape generates for, rebuilt only when a subscription changes:
  /// a 200,000-symbol client would otherwise cost every tick a set of them.
  std::vector<std::string> tick_symbols;
  bool interest_changed = true;
  /// What was generated, oldest first, for the historical REST API.
  std::deque<trade> trade_history;
  std::deque<quote> quote_history;
  std::deque<bar> bar_history;
  /// `opts.full_speed` encoded: JSON, then MessagePack.
  std::array<std::vector<std::string>, 2> encoded;
  size_t full_speed_records = 0;

  explicit state(uint64_t seed) : tape(seed) {}

  void tick();
  void full_speed_tick();
  void remember(const batch& data);
  void publish(const batch& data);
};

class md_connection : public transport::ws_handler,
                      public std::enable_shared_from_this<md_connection> {
 public:
  md_connection(std::shared_ptr<market_hub::state> hub, std::string path,
                endpoint_info endpoint, codec c,
                std::optional<std::pair<std::string, std::string>> header_auth)
      : hub_(std::move(hub)), path_(std::move(path)),
        endpoint_(std::move(endpoint)), codec_(c),
        header_auth_(std::move(header_auth)) {}

  void on_open(const transport::ws_connection_ptr& conn) override {
    conn_ = conn;
    hub_->connections.push_back(shared_from_this());
    ++hub_->stats.connections_opened;
    ++hub_->stats.connections_open;
    send(protocol::encode_success(codec_, "connected"));
    if (header_auth_) {
      authenticate(header_auth_->first, header_auth_->second);
      return;
    }
    auth_timer_ = hub_->srv->schedule(
      hub_->opts.auth_timeout, [weak = weak_from_this()] {
        if (auto self = weak.lock(); self && !self->authenticated_)
          self->fail(404, "auth timeout");
      });
  }

  void on_message(const transport::ws_connection_ptr&, std::string frame,
                  bool) override {
    protocol::client_message msg;
    protocol::decode_problem problem;
    if (!protocol::decode_client_message(codec_, frame, msg, problem)) {
      error(400, "invalid syntax");
      return;
    }
    switch (msg.action) {
      case protocol::client_message::auth:
        if (authenticated_)
          error(403, "already authenticated");
        else
          authenticate(msg.creds.key_id.reveal(),
                       msg.creds.secret_key.reveal());
        return;
      case protocol::client_message::subscribe:
      case protocol::client_message::unsubscribe:
        if (!authenticated_) {
          error(401, "not authenticated");
          return;
        }
        change(msg.action == protocol::client_message::subscribe, msg.channels);
        return;
    }
  }

  void on_close(const transport::ws_connection_ptr&, bool clean) override {
    if (closed_)
      return;
    closed_ = true;
    --hub_->stats.connections_open;
    if (auth_timer_ != 0)
      hub_->srv->cancel(auth_timer_);
    release_slot(clean);
    auto& xs = hub_->connections;
    xs.erase(std::remove(xs.begin(), xs.end(), shared_from_this()), xs.end());
    hub_->interest_changed = true;
  }

  /// Sends `data`'s records this client subscribed to, split into frames.
  void deliver(const batch& data) {
    if (!authenticated_ || closed_)
      return;
    auto wants = [this](channel ch, const std::string& symbol) {
      auto& set = want_[static_cast<size_t>(ch)];
      return set.count("*") > 0 || set.count(symbol) > 0;
    };
    // This client's records go straight into frames of at most max_batch.
    auto max = std::max<size_t>(1, hub_->opts.max_batch);
    batch frame;
    auto flush = [&] {
      if (frame.empty())
        return;
      hub_->stats.records_sent += frame.size();
      ++hub_->stats.frames_sent;
      send(protocol::encode_batch(codec_, frame));
      frame.clear();
    };
    auto add = [&](channel ch, auto& from, auto& to) {
      for (auto& x : from) {
        if (!wants(ch, x.symbol))
          continue;
        to.push_back(x);
        if (frame.size() >= max)
          flush();
      }
    };
    add(channel::quotes, data.quotes, frame.quotes);
    add(channel::trades, data.trades, frame.trades);
    add(channel::bars, data.bars, frame.bars);
    flush();
    if (auto c = conn_.lock();
        c && c->queued_bytes() > hub_->opts.max_queued_bytes) {
      ++hub_->stats.slow_client_drops;
      fail(407, "slow client");
    }
  }

  void send_raw(std::string frame) {
    send(std::move(frame));
  }

  /// Fills this client's send queue to `target` bytes from `frames`.
  void top_up(const std::vector<std::string>& frames, size_t records_per_frame,
              size_t target) {
    if (!authenticated_ || closed_ || frames.empty())
      return;
    bool any = false;
    for (auto& set : want_)
      any = any || !set.empty();
    auto c = conn_.lock();
    if (!any || !c)
      return;
    while (c->queued_bytes() < target) {
      c->send(frames[cursor_++ % frames.size()], codec_ == codec::msgpack);
      ++hub_->stats.frames_sent;
      hub_->stats.records_sent += records_per_frame;
    }
  }

  transport::ws_connection_ptr conn() const {
    return conn_.lock();
  }

  /// Stalls the connection; after `hold` (if positive) the server gives up
  /// on it: the socket is reset and the slot freed at once, its ghost
  /// period having passed while it was silent.
  void stall_for(std::chrono::nanoseconds hold) {
    auto c = conn_.lock();
    if (!c)
      return;
    c->stall();
    if (hold.count() <= 0)
      return;
    std::weak_ptr<transport::ws_connection> weak = c;
    hub_->srv->schedule(hold, [self = shared_from_this(), weak] {
      auto c = weak.lock();
      if (!c || self->closed_)
        return;
      self->timed_out_ = true;
      c->reset();
    });
  }

  bool authenticated() const {
    return authenticated_;
  }

  bool uses_msgpack() const {
    return codec_ == codec::msgpack;
  }

  /// Symbols of trades and quotes this client wants (for the tape).
  void interests(std::set<std::string>& out, bool& all) const {
    for (auto ch : {channel::trades, channel::quotes, channel::bars}) {
      for (auto& symbol : want_[static_cast<size_t>(ch)]) {
        if (symbol == "*")
          all = true;
        else
          out.insert(symbol);
      }
    }
  }

 private:
  void send(std::string frame) {
    if (auto c = conn_.lock(); c && !closed_)
      c->send(std::move(frame), codec_ == codec::msgpack);
  }

  void error(int code, const std::string& message) {
    ++hub_->stats.errors_sent;
    send(protocol::encode_error(codec_, code, message));
  }

  void fail(int code, const std::string& message) {
    error(code, message);
    if (auto c = conn_.lock())
      c->close(1000);
  }

  void authenticate(const std::string& key, const std::string& secret) {
    auto account = hub_->accounts.find(key);
    if (account == hub_->accounts.end() || account->second.secret != secret) {
      fail(402, "auth failed");
      return;
    }
    auto& plan = account->second;
    if (!plan.feeds.empty() && plan.feeds.count(endpoint_.feed) == 0) {
      fail(409, "insufficient subscription");
      return;
    }
    auto now = clock_type::now();
    auto slot = std::make_pair(key, path_);
    auto ghost = hub_->ghosts.find(slot);
    if (ghost != hub_->ghosts.end() && ghost->second <= now) {
      hub_->ghosts.erase(ghost);
      ghost = hub_->ghosts.end();
    }
    if (now < hub_->storm_406_until || hub_->slots.count(slot) > 0
        || ghost != hub_->ghosts.end()) {
      fail(406, "connection limit exceeded");
      return;
    }
    hub_->slots[slot] = this;
    key_ = key;
    authenticated_ = true;
    ++hub_->stats.authenticated;
    if (auth_timer_ != 0) {
      hub_->srv->cancel(auth_timer_);
      auth_timer_ = 0;
    }
    send(protocol::encode_success(codec_, "authenticated"));
  }

  void release_slot(bool clean) {
    if (!authenticated_)
      return;
    auto slot = std::make_pair(key_, path_);
    auto i = hub_->slots.find(slot);
    if (i != hub_->slots.end() && i->second == this)
      hub_->slots.erase(i);
    if (!clean && !timed_out_ && hub_->opts.ghost_period.count() > 0)
      hub_->ghosts[slot] = clock_type::now() + hub_->opts.ghost_period;
  }

  void change(bool add, const subscription_set& request) {
    auto next = want_;
    for (auto ch : all_channels) {
      auto& symbols = request[ch];
      if (symbols.empty())
        continue;
      if (!offered(ch, endpoint_.crypto)) {
        error(410, "invalid subscribe action for this feed");
        return;
      }
      for (auto& symbol : symbols) {
        if (!valid_symbol(symbol)) {
          error(400, "invalid syntax");
          return;
        }
        if (add)
          next[static_cast<size_t>(ch)].insert(symbol);
        else
          next[static_cast<size_t>(ch)].erase(symbol);
      }
    }
    // The plan's limits apply to the whole new set, all or nothing. Only a
    // plan with a limit pays for counting it (a whole-market set would
    // otherwise be counted again on every subscribe message).
    auto& plan = hub_->accounts.at(key_);
    for (auto ch : {channel::trades, channel::quotes}) {
      if (!plan.wildcard && next[static_cast<size_t>(ch)].count("*") > 0) {
        error(405, "symbol limit exceeded");
        return;
      }
    }
    if (plan.symbol_limit > 0) {
      std::set<std::string> counted;
      for (auto ch : {channel::trades, channel::quotes})
        for (auto& symbol : next[static_cast<size_t>(ch)])
          if (symbol != "*")
            counted.insert(symbol);
      if (counted.size() > plan.symbol_limit) {
        error(405, "symbol limit exceeded");
        return;
      }
    }
    want_ = std::move(next);
    hub_->interest_changed = true;
    if (!endpoint_.crypto) {
      want_[static_cast<size_t>(channel::corrections)] = want_
        [static_cast<size_t>(channel::trades)];
      want_[static_cast<size_t>(channel::cancel_errors)] = want_
        [static_cast<size_t>(channel::trades)];
    }
    subscription_set ack;
    for (auto ch : all_channels) {
      auto& set = want_[static_cast<size_t>(ch)];
      ack[ch].assign(set.begin(), set.end());
    }
    send(protocol::encode_subscription(codec_, ack, endpoint_.crypto));
  }

  std::shared_ptr<market_hub::state> hub_;
  std::string path_;
  endpoint_info endpoint_;
  codec codec_;
  std::optional<std::pair<std::string, std::string>> header_auth_;
  // Weak: the connection owns this handler, so a strong reference back
  // would keep both alive forever.
  std::weak_ptr<transport::ws_connection> conn_;
  /// Dropped by the server after a stall (see stall_for).
  bool timed_out_ = false;
  transport::server::timer_id auth_timer_ = 0;
  bool authenticated_ = false;
  bool closed_ = false;
  /// The next frame of the full-speed tape.
  size_t cursor_ = 0;
  std::string key_;
  std::array<std::set<std::string>, std::size(all_channels)> want_;
};

void market_hub::state::publish(const batch& data) {
  // Copy: a client dropped for being slow leaves the list while we iterate.
  auto targets = connections;
  for (auto& conn : targets)
    conn->deliver(data);
}

void market_hub::state::full_speed_tick() {
  auto self = shared_from_this();
  srv->schedule(std::chrono::milliseconds{1}, [self] {
    self->full_speed_tick();
  });
  if (encoded[0].empty()) {
    size_t records = 0;
    for (auto& x : opts.full_speed) {
      encoded[0].push_back(protocol::encode_batch(codec::json, x));
      encoded[1].push_back(protocol::encode_batch(codec::msgpack, x));
      records += x.size();
    }
    // Sent frames are counted at the mean size: counting must not cost
    // more than sending.
    full_speed_records = records / opts.full_speed.size();
  }
  auto targets = connections;
  for (auto& conn : targets)
    conn->top_up(encoded[conn->uses_msgpack() ? 1 : 0], full_speed_records,
                 opts.full_speed_queue);
}

void market_hub::state::tick() {
  auto self = shared_from_this();
  if (!opts.full_speed.empty()) {
    full_speed_tick();
    return;
  }
  srv->schedule(opts.tick, [self] { self->tick(); });
  auto now = clock_type::now();
  if (now < delay_until)
    return;
  if (interest_changed) {
    interest_changed = false;
    std::set<std::string> interest;
    bool all = false;
    for (auto& conn : connections)
      if (conn->authenticated())
        conn->interests(interest, all);
    std::set<std::string> known{opts.universe.begin(), opts.universe.end()};
    std::vector<std::string> next = all ? opts.universe
                                        : std::vector<std::string>{};
    for (auto& x : interest) {
      bool in_universe = known.count(x) > 0;
      if ((all && in_universe)
          || (opts.quiet_outside_universe && !in_universe))
        continue;
      next.push_back(x);
    }
    if (!next.empty() || !opts.keep_interest)
      tick_symbols = std::move(next);
  }
  auto& symbols = tick_symbols;
  auto seconds = std::chrono::duration<double>(opts.tick).count();
  record_credit += opts.records_per_second * seconds;
  auto count = static_cast<size_t>(record_credit);
  record_credit -= static_cast<double>(count);
  auto wall = wall_now();
  batch data;
  if (!opts.replay.empty()) {
    data = opts.replay[replay_cursor++ % opts.replay.size()];
    auto restamp = [wall](auto& records) {
      for (auto& x : records)
        x.time = wall;
    };
    restamp(data.trades);
    restamp(data.quotes);
    restamp(data.bars);
    publish(data);
    return;
  }
  tape.generate(symbols, symbols.empty() ? 0 : count, wall, data);
  auto interval = opts.bar_interval.count();
  if (next_bar_start == 0)
    next_bar_start = wall - wall % interval;
  if (wall >= next_bar_start + interval) {
    tape.close_bars(next_bar_start, data);
    next_bar_start = wall - wall % interval;
  }
  if (!data.empty()) {
    remember(data);
    publish(data);
  }
}

void market_hub::state::remember(const batch& data) {
  if (opts.history_limit == 0)
    return;
  auto keep = [this](auto& history, auto& records) {
    for (auto& x : records)
      history.push_back(x);
    while (history.size() > opts.history_limit)
      history.pop_front();
  };
  keep(trade_history, data.trades);
  keep(quote_history, data.quotes);
  for (auto& x : data.bars)
    if (x.kind == bar_kind::minute)
      bar_history.push_back(x);
  while (bar_history.size() > opts.history_limit)
    bar_history.pop_front();
}

namespace {

// A page token: the symbol and time of the page's last record, and how
// many records of that same symbol and time it held.
struct page_mark {
  std::string symbol;
  timestamp_ns time = 0;
  size_t same = 0;
};

std::string to_token(const page_mark& x) {
  return x.symbol + "|" + std::to_string(x.time) + "|" + std::to_string(x.same);
}

std::optional<page_mark> from_token(const std::string& token) {
  auto a = token.find('|');
  auto b = token.find('|', a == std::string::npos ? a : a + 1);
  if (a == std::string::npos || b == std::string::npos)
    return std::nullopt;
  page_mark x;
  x.symbol = token.substr(0, a);
  x.time = std::strtoll(token.c_str() + a + 1, nullptr, 10);
  x.same = std::strtoull(token.c_str() + b + 1, nullptr, 10);
  return x;
}

template <class Record>
void page_of(const std::deque<Record>& history, const history_request& req,
             std::vector<Record>& out, std::string& next_token) {
  std::set<std::string> symbols{req.symbols.begin(), req.symbols.end()};
  std::vector<const Record*> hits;
  for (auto& x : history)
    if (x.time >= req.start && x.time <= req.end && symbols.count(x.symbol))
      hits.push_back(&x);
  std::stable_sort(hits.begin(), hits.end(), [](auto* x, auto* y) {
    return std::tie(x->symbol, x->time) < std::tie(y->symbol, y->time);
  });
  size_t from = 0;
  if (auto mark = from_token(req.page_token)) {
    auto key = std::tie(mark->symbol, mark->time);
    while (from < hits.size()
           && std::tie(hits[from]->symbol, hits[from]->time) < key)
      ++from;
    from += mark->same;
  }
  auto to = std::min(hits.size(), from + req.limit);
  for (auto i = from; i < to; ++i)
    out.push_back(*hits[i]);
  if (to < hits.size() && to > from) {
    page_mark mark{hits[to - 1]->symbol, hits[to - 1]->time, 0};
    for (auto i = to; i-- > 0;)
      if (hits[i]->symbol == mark.symbol && hits[i]->time == mark.time)
        ++mark.same;
      else
        break;
    next_token = to_token(mark);
  }
}

} // namespace

std::string market_hub::history(const history_request& req) const {
  history_page page;
  auto& st = *state_;
  if (req.kind == channel::quotes)
    page_of(st.quote_history, req, page.data.quotes, page.next_page_token);
  else if (req.kind == channel::bars)
    page_of(st.bar_history, req, page.data.bars, page.next_page_token);
  else
    page_of(st.trade_history, req, page.data.trades, page.next_page_token);
  return protocol::encode_history_page(req.kind, page);
}

std::optional<std::vector<batch>> parse_recording(const std::string& text,
                                                  std::string& error) {
  std::vector<batch> result;
  size_t start = 0;
  for (int number = 1; start < text.size(); ++number) {
    auto end = text.find('\n', start);
    auto line = text.substr(start, end == std::string::npos ? std::string::npos
                                                            : end - start);
    start = end == std::string::npos ? text.size() : end + 1;
    if (line.empty() || line[0] == '#')
      continue;
    protocol::market_frame frame;
    protocol::decode_problem problem;
    if (!protocol::decode_json(line, frame, problem)) {
      error = "line " + std::to_string(number) + ": " + to_string(problem);
      return std::nullopt;
    }
    if (!frame.data.empty())
      result.push_back(std::move(frame.data));
  }
  if (result.empty()) {
    error = "the recording holds no data records";
    return std::nullopt;
  }
  return result;
}

std::optional<std::vector<batch>>
batches_of_tape(const std::vector<tape_event>& events, std::string& error) {
  std::vector<batch> result;
  for (auto& x : events) {
    if (x.kind != tape_kind::inbound)
      continue;
    auto frame_text = x.data;
    protocol::market_frame frame;
    protocol::decode_problem problem;
    auto ok = x.binary ? protocol::decode_msgpack(frame_text.data(),
                                                  frame_text.size(), frame,
                                                  problem)
                       : protocol::decode_json(frame_text, frame, problem);
    // A malformed frame the server once sent is not data to resend.
    if (ok && !frame.data.empty())
      result.push_back(std::move(frame.data));
  }
  if (result.empty()) {
    error = "the tape holds no data records";
    return std::nullopt;
  }
  return result;
}

market_hub::market_hub(std::vector<sim_account> accounts, market_options opts)
    : state_(std::make_shared<state>(opts.seed)) {
  for (auto& account : accounts)
    state_->accounts[account.key] = account;
  if (opts.universe.empty())
    opts.universe = default_universe();
  state_->opts = std::move(opts);
}

market_hub::~market_hub() {
  // Connections and the state point at each other; the server thread is
  // gone by now (the simulator stops it first), so break the cycle here.
  state_->connections.clear();
  state_->slots.clear();
}

void market_hub::start(transport::server& srv) {
  state_->srv = &srv;
  auto st = state_;
  srv.post([st] { st->tick(); });
}

std::optional<transport::upgrade_decision>
market_hub::on_upgrade(const transport::http_request& req) {
  auto endpoint = endpoint_of(req.path());
  if (!endpoint)
    return std::nullopt;
  auto& st = *state_;
  auto now = clock_type::now();
  transport::upgrade_decision decision;
  auto refuse = [&] {
    ++st.stats.upgrades_refused;
    decision.rejection.status = 429;
    decision.rejection.body = R"({"message":"too many requests"})";
    return decision;
  };
  if (now < st.storm_429_until)
    return refuse();
  if (st.opts.max_upgrades_per_second > 0) {
    while (!st.recent_upgrades.empty()
           && now - st.recent_upgrades.front() > std::chrono::seconds{1})
      st.recent_upgrades.pop_front();
    if (st.recent_upgrades.size() >= st.opts.max_upgrades_per_second)
      return refuse();
    st.recent_upgrades.push_back(now);
  }
  auto c = req.header("content-type").find("msgpack") != std::string::npos
             ? codec::msgpack
             : codec::json;
  std::optional<std::pair<std::string, std::string>> header_auth;
  if (!req.header("apca-api-key-id").empty())
    header_auth.emplace(req.header("apca-api-key-id"),
                        req.header("apca-api-secret-key"));
  decision.handler = std::make_shared<md_connection>(
    state_, req.path(), *endpoint, c, std::move(header_auth));
  decision.deflate = st.opts.deflate;
  return decision;
}

void market_hub::close_all() {
  for (auto& conn : std::vector{state_->connections})
    if (conn->conn())
      conn->conn()->close(1001);
}

void market_hub::reset_all() {
  for (auto& conn : std::vector{state_->connections})
    if (conn->conn())
      conn->conn()->reset();
}

void market_hub::stall_all() {
  for (auto& conn : state_->connections)
    conn->stall_for(state_->opts.stall_hold);
}

void market_hub::send_malformed() {
  for (auto& conn : state_->connections)
    conn->send_raw(std::string{"[{\"T\":\"q\",\"S\":"});
}

void market_hub::storm_406(std::chrono::nanoseconds duration) {
  state_->storm_406_until = clock_type::now() + duration;
}

void market_hub::storm_429(std::chrono::nanoseconds duration) {
  state_->storm_429_until = clock_type::now() + duration;
}

bool market_hub::storming_429() const {
  return clock_type::now() < state_->storm_429_until;
}

void market_hub::delay(std::chrono::nanoseconds duration) {
  state_->delay_until = clock_type::now() + duration;
}

double market_hub::price_of(const std::string& symbol) {
  return state_->tape.last_price(symbol);
}

market_stats market_hub::stats() const {
  return state_->stats;
}

} // namespace athanor::sim
