#include "actors/remote/attachment.hpp"

#include <algorithm>
#include <iterator>

#include "caf/actor_system.hpp"
#include "caf/io/middleman_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/common/exception_handler.hpp"
#include "messages/error.hpp"
#include "messages/remote.hpp"
#include "observability/log.hpp"

namespace athanor {

namespace {

struct attachment_state {
  attachment_config cfg;
  std::unique_ptr<backoff_policy> backoff;
  remote_front_actor front;
  /// What the front has been asked to send us (cfg.topics: what we want).
  std::vector<topic> at_front;
  session_status status;
  /// The pending retry timer; stale timers carry older ids.
  uint64_t timer = 0;
  /// Failed attempts since the last success.
  uint32_t failures = 0;
  /// Successful attachments so far.
  uint64_t attaches = 0;
  /// The last batch's receive time and epoch, for the gap after a loss.
  timestamp_ns last_received = 0;
  uint64_t last_epoch = 0;
  trace root = trace::root();
  static inline const char* name = "athanor.attachment";
};

using attachment_pointer
  = attachment_actor::stateful_pointer<attachment_state>;

void set_state(attachment_pointer self, session_state to,
               std::string error = {}, std::string errc = {}) {
  auto& st = self->state;
  auto from = st.status.state;
  st.status.state = to;
  st.status.epoch = st.attaches;
  if (!error.empty()) {
    st.status.last_error = std::move(error);
    st.status.last_errc = std::move(errc);
  }
  log::write(to == session_state::failed || to == session_state::backing_off
               ? log::level::warn
               : log::level::info,
             "attachment", "state_change", &st.root,
             {{"endpoint", st.cfg.endpoint},
              {"from", to_string(from)},
              {"to", to_string(to)},
              {"attaches", st.attaches},
              {"last_error", st.status.last_error}});
  if (st.cfg.listener)
    self->send(st.cfg.listener, st.status);
}

void connect(attachment_pointer self);

void failed(attachment_pointer self, const caf::error& err) {
  auto& st = self->state;
  if (st.front) {
    self->demonitor(st.front.address());
    st.front = nullptr;
  }
  auto errc = errc_of(err);
  auto errc_name = errc ? to_string(*errc) : std::string{"connect_failed"};
  ++st.failures;
  if (st.cfg.max_attempts > 0 && st.failures >= st.cfg.max_attempts) {
    set_state(self, session_state::failed, render(err), errc_name);
    return;
  }
  set_state(self, session_state::backing_off, render(err), errc_name);
  auto delay = st.backoff->next_delay();
  self->delayed_send(self, std::chrono::duration_cast<caf::timespan>(delay),
                     retry_atom::value, ++st.timer);
}

// The topics of a desired set; a channel with "*" is just "*" (the front
// would otherwise route its records twice).
std::vector<topic> topics_of(const subscription_set& set) {
  std::vector<topic> result;
  for (auto ch : all_channels) {
    auto& symbols = set[ch];
    if (std::find(symbols.begin(), symbols.end(), "*") != symbols.end()) {
      result.push_back({ch, "*"});
      continue;
    }
    for (auto& symbol : symbols)
      result.push_back({ch, symbol});
  }
  std::sort(result.begin(), result.end());
  return result;
}

// Brings the front's topics to what we want now: new ones first, so that
// replacing every topic never lets the lease go in between.
void sync(attachment_pointer self) {
  auto& st = self->state;
  auto wanted = st.cfg.topics;
  std::sort(wanted.begin(), wanted.end());
  std::vector<topic> added;
  std::vector<topic> removed;
  std::set_difference(wanted.begin(), wanted.end(), st.at_front.begin(),
                      st.at_front.end(), std::back_inserter(added));
  std::set_difference(st.at_front.begin(), st.at_front.end(), wanted.begin(),
                      wanted.end(), std::back_inserter(removed));
  st.at_front = std::move(wanted);
  auto me = caf::actor_cast<subscriber_actor>(self);
  // Both requests may fail when the engine goes: fail once.
  auto on_error = [self](caf::error& err) {
    if (self->state.front)
      failed(self, err);
  };
  if (!added.empty())
    self
      ->request(st.front, st.cfg.call_timeout, subscribe_atom::value, me,
                std::move(added))
      .then([](std::vector<topic>&) {}, on_error);
  if (!removed.empty())
    self
      ->request(st.front, st.cfg.call_timeout, unsubscribe_atom::value, me,
                std::move(removed))
      .then([](std::vector<topic>&) {}, on_error);
}

void streaming(attachment_pointer self) {
  auto& st = self->state;
  ++st.attaches;
  st.failures = 0;
  st.backoff->reset();
  set_state(self, session_state::streaming);
  // Wanted topics may have changed while the subscription was on its way.
  sync(self);
}

void subscribe(attachment_pointer self) {
  auto& st = self->state;
  set_state(self, session_state::subscribing);
  st.at_front = st.cfg.topics;
  std::sort(st.at_front.begin(), st.at_front.end());
  if (st.at_front.empty()) {
    // Nothing wanted yet: nothing to lease at the engine.
    streaming(self);
    return;
  }
  self
    ->request(st.front, st.cfg.call_timeout, subscribe_atom::value,
              caf::actor_cast<subscriber_actor>(self), st.at_front)
    .then([self](std::vector<topic>&) { streaming(self); },
          [self](caf::error& err) { failed(self, err); });
}

void connect(attachment_pointer self) {
  auto& st = self->state;
  set_state(self, session_state::connecting);
  auto mm = caf::actor_cast<caf::io::middleman_actor>(st.cfg.middleman);
  self
    ->request(mm, st.cfg.call_timeout, caf::connect_atom::value, st.cfg.host,
              st.cfg.port)
    .then(
      [self](caf::node_id&, caf::strong_actor_ptr& front,
             std::set<std::string>&) {
        auto& st = self->state;
        if (!front) {
          failed(self, make_error(engine_errc::not_found,
                                  "nothing is published at "
                                    + st.cfg.endpoint));
          return;
        }
        st.front = caf::actor_cast<remote_front_actor>(front);
        self->monitor(st.front);
        // Whatever the engine sent while we were away is lost: say so
        // before anything of this attachment arrives.
        if (st.attaches > 0) {
          gap marker;
          marker.reason = gap_reason::reconnect;
          marker.topics = st.cfg.topics;
          marker.since = st.last_received;
          marker.epoch = st.last_epoch;
          self->send(st.cfg.consumer, std::move(marker));
        }
        subscribe(self);
      },
      [self](caf::error& err) { failed(self, err); });
}

attachment_actor::behavior_type attachment_impl(attachment_pointer self,
                                                attachment_config cfg) {
  self->set_exception_handler(exception_to_exit_reason);
  auto& st = self->state;
  st.cfg = std::move(cfg);
  st.backoff = std::make_unique<backoff_policy>(st.cfg.backoff);
  st.status.endpoint = st.cfg.endpoint;
  self->monitor(st.cfg.consumer);
  self->set_down_handler([self](caf::down_msg& msg) {
    auto& st = self->state;
    if (msg.source == st.cfg.consumer.address()) {
      self->quit(msg.reason);
      return;
    }
    if (st.front && msg.source == st.front.address()) {
      st.front = nullptr;
      failed(self, msg.reason ? msg.reason
                              : make_error(engine_errc::connection_lost,
                                           "the engine went away"));
    }
  });
  connect(self);
  return {
    [self](batch& x) {
      auto& st = self->state;
      st.last_received = x.received_at;
      st.last_epoch = x.epoch;
      return self->delegate(st.cfg.consumer, std::move(x));
    },
    [self](gap& x) { self->send(self->state.cfg.consumer, std::move(x)); },
    [self](caf::get_atom) { return self->state.status; },
    [self](desire_atom, subscription_set& set, trace&) {
      auto& st = self->state;
      st.cfg.topics = topics_of(set);
      if (st.front && st.status.state == session_state::streaming)
        sync(self);
    },
    [self](retry_atom, uint64_t id) {
      if (id == self->state.timer && !self->state.front)
        connect(self);
    },
  };
}

} // namespace

attachment_actor spawn_attachment(caf::actor_system& sys,
                                  attachment_config cfg) {
  return sys.spawn(attachment_impl, std::move(cfg));
}

} // namespace athanor
