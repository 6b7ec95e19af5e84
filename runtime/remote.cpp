#include "athanor/remote.hpp"

#include "caf/actor_system.hpp"
#include "caf/io/middleman.hpp"
#include "caf/openssl/manager.hpp"
#include "caf/openssl/remote_actor.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/market/callback_subscriber.hpp"
#include "actors/market/subscriber_registry.hpp"
#include "actors/remote/attachment.hpp"
#include "actors/remote/execute_gate.hpp"
#include "messages/error.hpp"
#include "messages/remote.hpp"
#include "runtime/config_file.hpp"
#include "runtime/subscription_state.hpp"
#include "transport/tls.hpp"

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

attachment_config attachment_config_of(caf::actor_system& sys,
                                       const remote_options& where) {
  attachment_config cfg;
  cfg.middleman = caf::actor_cast<caf::actor>(
    where.tls ? sys.openssl_manager().actor_handle()
              : sys.middleman().actor_handle());
  cfg.host = where.host;
  cfg.port = where.port;
  cfg.endpoint = endpoint_of(where);
  cfg.listener = where.listener;
  cfg.max_attempts = where.max_attempts;
  return cfg;
}

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
  auto cfg = attachment_config_of(sys, where);
  cfg.topics = std::move(topics);
  cfg.consumer = std::move(consumer);
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

// -- remote_engine ------------------------------------------------------------

struct remote_engine::impl {
  caf::actor_system* sys = nullptr;
  /// Fans the link's data out to this process's subscribers.
  registry_actor registry;
  /// The one remote subscription, with every topic the registry wants.
  attachment_actor link;
};

remote_engine::remote_engine(std::unique_ptr<impl> x) : impl_(std::move(x)) {}

remote_engine::~remote_engine() {
  // The attachment ends with its consumer, the registry.
  caf::anon_send_exit(impl_->registry, caf::exit_reason::user_shutdown);
}

caf::expected<std::unique_ptr<remote_engine>>
remote_engine::connect(caf::actor_system& sys, const remote_options& where) {
  if (auto err = unusable(sys, where))
    return err;
  registry_config reg_cfg;
  reg_cfg.name = endpoint_of(where);
  auto registry = spawn_subscriber_registry(sys, reg_cfg);
  if (!registry)
    return std::move(registry.error());
  auto cfg = attachment_config_of(sys, where);
  cfg.consumer = *registry;
  auto x = std::make_unique<impl>();
  x->sys = &sys;
  x->registry = *registry;
  x->link = spawn_attachment(sys, std::move(cfg));
  // The attachment feeds the registry and follows what it wants.
  caf::anon_send(x->registry, attach_atom::value,
                 desire_sink_actor{x->link});
  return std::make_unique<remote_engine>(std::move(x));
}

caf::expected<subscription>
remote_engine::subscribe(std::vector<std::string> symbols,
                         std::vector<channel> channels,
                         subscriber_actor subscriber, std::string name) {
  auto topics = topics_of(symbols, channels);
  if (topics.empty())
    return make_error(engine_errc::invalid_config,
                      "subscribe: give at least one symbol and one channel");
  caf::scoped_actor self{*impl_->sys};
  caf::expected<std::vector<topic>> granted{caf::error{}};
  if (!name.empty())
    self->send(impl_->registry, label_atom::value, subscriber,
               std::move(name));
  self
    ->request(impl_->registry, std::chrono::seconds{10},
              subscribe_atom::value, subscriber, topics, trace::root())
    .receive([&](std::vector<topic>& xs) { granted = std::move(xs); },
             [&](caf::error& err) { granted = std::move(err); });
  if (!granted)
    return std::move(granted.error());
  auto st = std::make_shared<subscription::state>();
  st->local_registry = impl_->registry;
  st->subscriber = std::move(subscriber);
  st->topics = std::move(topics);
  return subscription{std::move(st)};
}

caf::expected<subscription>
remote_engine::subscribe(std::vector<std::string> symbols,
                         std::vector<channel> channels,
                         data_callbacks callbacks) {
  return subscribe_callbacks(
    *impl_->sys, std::move(callbacks),
    [&](subscriber_actor actor, std::string name) {
      return subscribe(std::move(symbols), std::move(channels),
                       std::move(actor), std::move(name));
    });
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
  auto cause = trace::root(spec.correlation_id);
  if (where.certificate_file.empty()) {
    self->request(*front, timeout, execute_atom::value, spec, cause)
      .receive([&](plan_result& x) { result = std::move(x); },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }
  auto certificate = read_file(where.certificate_file);
  auto key = read_file(where.key_file);
  if (!certificate || !key)
    return make_error(engine_errc::invalid_config,
                      "execute: cannot read '"
                        + (certificate ? where.key_file
                                       : where.certificate_file)
                        + "'");
  caf::expected<std::string> nonce{caf::error{}};
  self->request(*front, std::chrono::seconds{10}, challenge_atom::value)
    .receive([&](std::string& x) { nonce = std::move(x); },
             [&](caf::error& err) { nonce = std::move(err); });
  if (!nonce)
    return std::move(nonce.error());
  auto signature = transport::sign_message(
    *key, execute_gate::signed_text(*nonce, spec.plan_id));
  if (signature.empty())
    return make_error(engine_errc::invalid_config,
                      "execute: '" + where.key_file
                        + "' holds no usable private key");
  self
    ->request(*front, timeout, execute_atom::value, spec, cause, *nonce,
              *certificate, signature)
    .receive([&](plan_result& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

} // namespace athanor
