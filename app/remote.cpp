#include "athanor/remote.hpp"

#include "caf/actor_system.hpp"
#include "caf/io/middleman.hpp"
#include "caf/openssl/manager.hpp"
#include "caf/openssl/remote_actor.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/attachment.hpp"
#include "actors/callback_subscriber.hpp"
#include "app/subscription_state.hpp"
#include "messages/error.hpp"
#include "messages/remote.hpp"

namespace athanor {

namespace {

caf::error unusable(caf::actor_system& sys, const remote_options& where) {
  if (!sys.has_middleman())
    return make_error(engine_errc::invalid_config,
                      "the actor system lacks the middleman (see "
                      "athanor::prepare)");
  if (where.tls && !sys.has_openssl_manager())
    return make_error(engine_errc::invalid_config,
                      "TLS needs caf::openssl::manager loaded, with "
                      "certificate, key and CA file");
  if (where.host.empty() || where.port == 0)
    return make_error(engine_errc::invalid_config,
                      "remote: give the engine's host and port");
  return caf::none;
}

std::string endpoint_of(const remote_options& where) {
  return std::string{where.tls ? "basp+tls://" : "basp://"} + where.host + ":"
         + std::to_string(where.port);
}

} // namespace

namespace {

// The attachment for `consumer`; `owned` are further actors the
// subscription ends with it.
caf::expected<subscription> attach_consumer(caf::actor_system& sys,
                                            const remote_options& where,
                                            std::vector<topic> topics,
                                            subscriber_actor consumer,
                                            std::vector<caf::actor> owned) {
  if (auto err = unusable(sys, where))
    return err;
  if (topics.empty())
    return make_error(engine_errc::invalid_config,
                      "attach: give at least one symbol and one channel");
  attachment_config cfg;
  cfg.middleman = caf::actor_cast<caf::actor>(
    where.tls ? sys.openssl_manager().actor_handle()
              : sys.middleman().actor_handle());
  cfg.host = where.host;
  cfg.port = where.port;
  cfg.endpoint = endpoint_of(where);
  cfg.topics = std::move(topics);
  cfg.consumer = std::move(consumer);
  cfg.listener = where.listener;
  cfg.max_attempts = where.max_attempts;
  auto link = spawn_attachment(sys, std::move(cfg));
  auto st = std::make_shared<subscription::state>();
  st->owned = std::move(owned);
  st->owned.push_back(caf::actor_cast<caf::actor>(link));
  return subscription{std::move(st)};
}

} // namespace

caf::expected<subscription> attach(caf::actor_system& sys,
                                   const remote_options& where,
                                   std::vector<std::string> symbols,
                                   std::vector<channel> channels,
                                   subscriber_actor subscriber) {
  return attach_consumer(sys, where, topics_of(symbols, channels),
                         std::move(subscriber), {});
}

caf::expected<subscription> attach(caf::actor_system& sys,
                                   const remote_options& where,
                                   std::vector<std::string> symbols,
                                   std::vector<channel> channels,
                                   data_callbacks callbacks) {
  auto topics = topics_of(symbols, channels);
  if (auto err = unusable(sys, where))
    return err;
  if (topics.empty())
    return make_error(engine_errc::invalid_config,
                      "attach: give at least one symbol and one channel");
  auto consumer = spawn_callback_subscriber(
    sys, "remote", {std::move(callbacks.on_batch),
                    std::move(callbacks.on_gap)});
  return attach_consumer(sys, where, std::move(topics),
                         caf::actor_cast<subscriber_actor>(consumer),
                         {caf::actor_cast<caf::actor>(consumer)});
}

caf::expected<plan_result> execute_remote(caf::actor_system& sys,
                                          const remote_options& where,
                                          const plan& spec,
                                          std::chrono::milliseconds timeout) {
  if (auto err = unusable(sys, where))
    return err;
  auto front
    = where.tls
        ? caf::openssl::remote_actor<remote_front_actor>(sys, where.host,
                                                         where.port)
        : sys.middleman().remote_actor<remote_front_actor>(where.host,
                                                           where.port);
  if (!front)
    return std::move(front.error());
  caf::scoped_actor self{sys};
  caf::expected<plan_result> result{caf::error{}};
  self
    ->request(*front, timeout, execute_atom::value, spec,
              trace::root(spec.correlation_id))
    .receive([&](plan_result& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

} // namespace athanor
