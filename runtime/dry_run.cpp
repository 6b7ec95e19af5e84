#include "runtime/dry_run.hpp"

#include <set>

#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "actors/trading/rest_client.hpp"
#include "messages/error.hpp"
#include "transport/io_thread.hpp"

namespace athanor {

namespace {

// Each answer is bounded by the REST client's own attempts; this only
// guards against an actor that never answers.
constexpr auto call_timeout = std::chrono::minutes{2};

caf::expected<rest_client_actor>
client_for(caf::actor_system& sys, std::shared_ptr<transport::io_thread> io,
           const trading_desk_options& desk, const std::string& base_url) {
  transport::http_client_options http;
  http.base_url = base_url;
  http.ca_file = desk.ca_file;
  http.max_connections = desk.max_connections;
  auto cfg = desk.rest;
  cfg.base_url = base_url;
  cfg.creds = desk.creds;
  cfg.port = make_http_rest_port(std::move(io), std::move(http));
  return spawn_rest_client(sys, std::move(cfg));
}

// Asks `client` and waits for the answer.
template<class T, class... Ts>
caf::expected<T> ask(caf::scoped_actor& self, const rest_client_actor& client,
                     Ts&&... xs) {
  caf::expected<T> result{caf::error{}};
  self->request(client, call_timeout, std::forward<Ts>(xs)...)
    .receive([&](T& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

} // namespace

caf::expected<plan_check> dry_run(caf::actor_system& sys, const plan& spec,
                                  const dry_run_options& opts) {
  auto io = std::make_shared<transport::io_thread>();
  auto trading = client_for(sys, io, opts.desk, opts.desk.base_url);
  if (!trading)
    return trading.error();
  auto data = client_for(sys, io, opts.desk, opts.data_url);
  if (!data) {
    caf::anon_send_exit(*trading, caf::exit_reason::user_shutdown);
    return data.error();
  }
  caf::scoped_actor self{sys};
  auto cause = trace::root(spec.correlation_id);
  auto finish = [&](caf::expected<plan_check> x) {
    self->send_exit(*trading, caf::exit_reason::user_shutdown);
    self->send_exit(*data, caf::exit_reason::user_shutdown);
    return x;
  };
  account_view view;
  auto acct = ask<account>(self, *trading, account_atom::value, cause);
  if (!acct)
    return finish(acct.error());
  view.acct = std::move(*acct);
  auto positions = ask<std::vector<position>>(self, *trading,
                                              positions_atom::value, cause);
  if (!positions)
    return finish(positions.error());
  view.positions = std::move(*positions);
  std::set<std::string> symbols;
  for (auto& item : spec.items)
    symbols.insert(item.symbol);
  for (auto& symbol : symbols) {
    auto a = ask<asset>(self, *trading, asset_atom::value, symbol, cause);
    if (a)
      view.assets.emplace(symbol, std::move(*a));
    else if (errc_of(a.error()) != engine_errc::not_found)
      return finish(a.error());
  }
  // A price for every order whose value depends on the market.
  std::set<std::string> priced;
  for (auto& item : spec.items)
    if (item.limit_price.is_null() && item.notional.is_null())
      priced.insert(item.symbol);
  for (auto& symbol : priced) {
    auto t = ask<latest_trade>(self, *data, latest_atom::value, symbol,
                               opts.feed, cause);
    if (t)
      view.prices.emplace(symbol, t->price);
    else if (errc_of(t.error()) != engine_errc::not_found)
      return finish(t.error());
  }
  return finish(check_plan(spec, view));
}

} // namespace athanor
