#include "runtime/engine.hpp"

#include "actors/market/market_tree.hpp"

#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"

#include "messages/error.hpp"
#include "transport/io_thread.hpp"

namespace athanor {

namespace {

// How long a blocking call waits for an engine actor's answer.
constexpr auto call_timeout = std::chrono::seconds{10};

} // namespace

engine::engine(caf::actor_system& sys) : sys_(sys) {}

caf::expected<std::unique_ptr<engine>> engine::start(caf::actor_system& sys,
                                                     engine_options opts) {
  std::unique_ptr<engine> result{new engine(sys)};
  result->io_ = std::make_shared<transport::io_thread>();
  market_tree_config cfg;
  cfg.connections = std::move(opts.connections);
  cfg.connections.upstreams = std::move(opts.upstreams);
  auto links = opts.links ? std::move(opts.links)
                          : make_ws_link_factory(result->io_, opts.link);
  if (!opts.record.path.empty()) {
    auto recorder = spawn_tape_recorder(sys, std::move(opts.record));
    if (!recorder)
      return recorder.error();
    result->recorder_ = *recorder;
    links = make_recording_link_factory(std::move(links), *recorder);
  }
  cfg.connections.links = std::move(links);
  cfg.supervisor = std::move(opts.tree);
  // The connections close within their deadline, the tree a moment later.
  result->shutdown_deadline_ = cfg.connections.shutdown_deadline
                               + std::chrono::milliseconds{500};
  auto tree = spawn_market_tree(sys, std::move(cfg));
  if (!tree) {
    result->stop();
    return tree.error();
  }
  result->connections_ = tree->front;
  result->supervisor_ = tree->supervisor;
  return result;
}

engine::~engine() {
  stop();
}

caf::expected<lease> engine::subscribe(const std::string& upstream,
                                       subscriber_actor subscriber,
                                       std::vector<topic> topics,
                                       std::string label,
                                       std::vector<channel> backfill) {
  for (auto x : backfill)
    if (x != channel::trades && x != channel::bars)
      return make_error(engine_errc::invalid_subscription,
                        "backfill: " + to_string(x)
                          + " cannot be backfilled (trades, bars)");
  caf::scoped_actor self{sys_};
  caf::expected<lease> result{caf::error{}};
  self
    ->request(connections_, call_timeout, lease_atom::value, upstream,
              caf::actor_cast<caf::actor>(subscriber))
    .receive([&](lease& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  if (!result)
    return result;
  caf::error failed;
  // Before the subscribe: the registry names it from the first log line.
  if (!label.empty())
    self->send(result->registry, label_atom::value, subscriber,
               std::move(label));
  if (!backfill.empty())
    self->send(result->registry, backfill_atom::value, subscriber,
               std::move(backfill));
  self
    ->request(result->registry, call_timeout, subscribe_atom::value,
              subscriber, std::move(topics), trace::root())
    .receive([](std::vector<topic>&) {},
             [&](caf::error& err) { failed = std::move(err); });
  if (failed) {
    self->send(connections_, release_atom::value, result->id);
    return failed;
  }
  return result;
}

caf::expected<std::vector<upstream_health>> engine::health() {
  caf::scoped_actor self{sys_};
  caf::expected<std::vector<upstream_health>> result{caf::error{}};
  self->request(connections_, call_timeout, caf::get_atom::value)
    .receive([&](std::vector<upstream_health>& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

caf::expected<metric_samples> engine::metrics() {
  caf::scoped_actor self{sys_};
  caf::expected<metric_samples> result{caf::error{}};
  self->request(connections_, call_timeout, metrics_atom::value)
    .receive([&](metric_samples& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

void engine::stop() {
  if (connections_) {
    caf::scoped_actor self{sys_};
    self->monitor(connections_);
    self->send(connections_, shutdown_atom::value);
    bool down = false;
    self->receive_while([&] { return !down; })(
      [&](caf::down_msg&) { down = true; },
      caf::after(shutdown_deadline_ + std::chrono::seconds{1}) >> [&] {
        self->send_exit(connections_, caf::exit_reason::kill);
        down = true;
      });
    connections_ = nullptr;
    supervisor_ = nullptr;
  }
  if (recorder_) {
    // After the connections: their last events (the closes) are on tape.
    caf::scoped_actor self{sys_};
    self->monitor(recorder_);
    self->send(recorder_, shutdown_atom::value);
    self->receive([](caf::down_msg&) {},
                  caf::after(std::chrono::seconds{10}) >> [] {});
    recorder_ = nullptr;
  }
  // Links still alive (if any) keep the I/O thread until they go.
  io_.reset();
}

} // namespace athanor
